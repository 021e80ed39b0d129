//! GitLab's wildcard patterns, matched exactly as PostgreSQL evaluates
//! `name ILIKE to_like(pattern)`.
//!
//! `to_like` escapes `%` and `_` and turns `*` into `%`; backslashes pass through and act as
//! LIKE's escape character. ILIKE lowers both sides per code point and runs PostgreSQL's
//! `MatchText` (src/backend/utils/adt/like_match.c). [`like_match`] is a non-recursive port of
//! it: the recursion there only ever resumes at the innermost `%`, because a nested call that
//! reaches its own `%` never answers "false" (only "true" or "abort"). Keeping that one resume
//! point gives the same answers — and raises the trailing-escape error at the same moments —
//! in O(|pattern|·|name|) time and without allocating.

use crate::text::{MappedText, fold, is_blank, lower_char, normalize_pypi};
use std::borrow::Cow;

/// Matching reached a lone trailing `\` in the LIKE pattern, where PostgreSQL raises
/// `LIKE pattern must not end with escape character` (GitLab's request then fails).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "pattern `{pattern}` ends with a lone `\\`: PostgreSQL raises \"LIKE pattern must not end with escape character\" when matching reaches it"
)]
pub struct MatchError {
    pub pattern: String,
}

/// What a pattern looks like once compiled; the simple shapes skip the general matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No wildcard: the name must equal the literal.
    Exact(Box<str>),
    /// `literal*`
    Prefix(Box<str>),
    /// `*literal`
    Suffix(Box<str>),
    /// `*literal*`
    Infix(Box<str>),
    /// Only `*`s: matches every non-blank name.
    Everything,
    /// Anything else, including `_`-style one-character wildcards from escapes and a lone
    /// trailing `\`.
    General,
}

/// A compiled GitLab wildcard pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    source: Box<str>,
    /// `lower(to_like(pattern))`, the bytes PostgreSQL's matcher walks.
    like: Box<[u8]>,
    pub(crate) shape: Shape,
    /// Literal text every match starts with (escapes resolved).
    pub(crate) anchor_prefix: Box<str>,
    /// Literal text every match ends with (escapes resolved).
    pub(crate) anchor_suffix: Box<str>,
}

/// One element of a LIKE pattern, escapes resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    AnyOne,
    AnyRun,
    TrailingEscape,
}

/// GitLab's `Gitlab::SQL::Glob.to_like`: `%`→`\%`, `_`→`\_`, `*`→`%`, lowered per code point
/// as ILIKE lowers the pattern.
pub fn to_like(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '%' => like.push_str("\\%"),
            '_' => like.push_str("\\_"),
            '*' => like.push('%'),
            other => like.push(lower_char(other)),
        }
    }
    like
}

fn tokenize(like: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let push_literal = |tokens: &mut Vec<Token>, c: char| match tokens.last_mut() {
        Some(Token::Literal(s)) => s.push(c),
        _ => tokens.push(Token::Literal(c.to_string())),
    };
    let mut chars = like.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => push_literal(&mut tokens, escaped),
                None => tokens.push(Token::TrailingEscape),
            },
            '%' => tokens.push(Token::AnyRun),
            '_' => tokens.push(Token::AnyOne),
            other => push_literal(&mut tokens, other),
        }
    }
    tokens
}

fn shape_of(tokens: &[Token]) -> Shape {
    let is_run = |t: &Token| *t == Token::AnyRun;
    let literal = |t: Option<&Token>| match t {
        Some(Token::Literal(s)) => Some(s.as_str().into()),
        _ => None,
    };
    let runs_at_start = tokens.iter().take_while(|t| is_run(t)).count();
    let runs_at_end = tokens.iter().rev().take_while(|t| is_run(t)).count();
    if runs_at_start == tokens.len() {
        return if tokens.is_empty() { Shape::Exact("".into()) } else { Shape::Everything };
    }
    let middle = tokens.get(runs_at_start..tokens.len() - runs_at_end).unwrap_or_default();
    let [only] = middle else {
        return Shape::General;
    };
    let Some(lit) = literal(Some(only)) else {
        return Shape::General;
    };
    match (runs_at_start > 0, runs_at_end > 0) {
        (false, false) => Shape::Exact(lit),
        (false, true) => Shape::Prefix(lit),
        (true, false) => Shape::Suffix(lit),
        (true, true) => Shape::Infix(lit),
    }
}

impl Glob {
    /// Compile a pattern as GitLab stores it. Never fails: a pattern that PostgreSQL would
    /// reject does so only while matching (see [`MatchError`]).
    pub fn new(pattern: &str) -> Self {
        let like = to_like(pattern);
        let tokens = tokenize(&like);
        let anchor_prefix = match tokens.first() {
            Some(Token::Literal(s)) => s.as_str().into(),
            _ => "".into(),
        };
        let anchor_suffix = match tokens.last() {
            Some(Token::Literal(s)) if tokens.len() > 1 => s.as_str().into(),
            _ => "".into(),
        };
        Glob {
            source: pattern.into(),
            shape: shape_of(&tokens),
            like: like.into_bytes().into_boxed_slice(),
            anchor_prefix,
            anchor_suffix,
        }
    }

    /// Compile the pattern as GitLab's PyPI user path compares it: after
    /// `regexp_replace(pattern, '[-_.]+', '-', 'g')`.
    pub fn new_pypi_normalized(pattern: &str) -> Self {
        let mut glob = Glob::new(&normalize_pypi(pattern));
        glob.source = pattern.into();
        glob
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.source
    }

    /// Whether the pattern can raise PostgreSQL's trailing-escape error.
    pub fn has_trailing_escape(&self) -> bool {
        let trailing = self.like.iter().rev().take_while(|&&b| b == b'\\').count();
        trailing % 2 == 1
    }

    /// GitLab's answer for `name`: a blank name never matches; otherwise ILIKE.
    pub fn matches(&self, name: &str) -> Result<bool, MatchError> {
        if is_blank(name) {
            return Ok(false);
        }
        self.matches_folded(&fold(name))
    }

    /// ILIKE against a name already lowered with [`crate::text::fold`] (and not blank).
    pub fn matches_folded(&self, folded: &str) -> Result<bool, MatchError> {
        match &self.shape {
            Shape::Exact(lit) => Ok(folded == &**lit),
            Shape::Prefix(lit) => Ok(folded.starts_with(&**lit)),
            Shape::Suffix(lit) => Ok(folded.ends_with(&**lit)),
            Shape::Infix(lit) => Ok(folded.contains(&**lit)),
            Shape::Everything => Ok(true),
            // A name without the leading literal fails at the first pattern byte and one
            // without the trailing literal cannot match; neither reaches a lone escape.
            Shape::General if !folded.starts_with(&*self.anchor_prefix) || !folded.ends_with(&*self.anchor_suffix) => {
                Ok(false)
            }
            Shape::General => {
                like_match(folded.as_bytes(), &self.like, &mut NoTrace).map_err(|TrailingEscape| self.error())
            }
        }
    }

    /// Byte ranges of `name` matched by the pattern's literal characters (for highlighting),
    /// or `None` when the name does not match.
    pub fn matched_spans(&self, name: &str, pypi_normalize: bool) -> Result<Option<Vec<(usize, usize)>>, MatchError> {
        if is_blank(name) {
            return Ok(None);
        }
        let mapped = MappedText::new(name, pypi_normalize);
        let mut trace = SpanTrace::default();
        match like_match(mapped.text.as_bytes(), &self.like, &mut trace) {
            Err(TrailingEscape) => Err(self.error()),
            Ok(false) => Ok(None),
            Ok(true) => {
                let mut spans: Vec<(usize, usize)> = Vec::new();
                for &at in &trace.bytes {
                    let Some(&(start, end)) = mapped.origin.get(at) else {
                        continue;
                    };
                    match spans.last_mut() {
                        Some(last) if last.1 >= start => last.1 = last.1.max(end),
                        _ => spans.push((start, end)),
                    }
                }
                Ok(Some(spans))
            }
        }
    }

    fn error(&self) -> MatchError {
        MatchError { pattern: self.source.to_string() }
    }
}

/// One character-level element of a compiled pattern, for reasoning about patterns
/// (lint) rather than matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Char(char),
    One,
    Run,
}

impl Glob {
    /// The pattern as units, or `None` when it ends with a lone escape.
    pub(crate) fn units(&self) -> Option<Vec<Unit>> {
        let like = std::str::from_utf8(&self.like).ok()?;
        let mut units = Vec::with_capacity(like.len());
        for token in tokenize(like) {
            match token {
                Token::Literal(s) => units.extend(s.chars().map(Unit::Char)),
                Token::AnyOne => units.push(Unit::One),
                Token::AnyRun => units.push(Unit::Run),
                Token::TrailingEscape => return None,
            }
        }
        Some(units)
    }
}

/// Convenience: GitLab's answer for one pattern and one name.
pub fn glob_matches(pattern: &str, name: &str) -> Result<bool, MatchError> {
    Glob::new(pattern).matches(name)
}

/// Convenience: GitLab's PyPI user-path answer (both sides normalized first).
pub fn glob_matches_pypi(pattern: &str, name: &str) -> Result<bool, MatchError> {
    if is_blank(name) {
        return Ok(false);
    }
    let normalized: Cow<'_, str> = normalize_pypi(name);
    Glob::new_pypi_normalized(pattern).matches(&normalized)
}

#[derive(Debug)]
pub(crate) struct TrailingEscape;

/// Observes which text bytes literal pattern characters matched, for preview highlighting.
pub(crate) trait Trace {
    fn literal(&mut self, at: usize);
    fn mark(&self) -> usize;
    fn rewind(&mut self, mark: usize);
}

struct NoTrace;

impl Trace for NoTrace {
    #[inline(always)]
    fn literal(&mut self, _at: usize) {}
    #[inline(always)]
    fn mark(&self) -> usize {
        0
    }
    #[inline(always)]
    fn rewind(&mut self, _mark: usize) {}
}

#[derive(Default)]
struct SpanTrace {
    bytes: Vec<usize>,
}

impl Trace for SpanTrace {
    fn literal(&mut self, at: usize) {
        self.bytes.push(at);
    }
    fn mark(&self) -> usize {
        self.bytes.len()
    }
    fn rewind(&mut self, mark: usize) {
        self.bytes.truncate(mark);
    }
}

/// Length of the UTF-8 sequence a lead byte starts (PostgreSQL's `pg_utf_mblen`).
#[inline]
fn utf8_len(lead: u8) -> usize {
    match lead {
        b if b & 0x80 == 0 => 1,
        b if b & 0xe0 == 0xc0 => 2,
        b if b & 0xf0 == 0xe0 => 3,
        b if b & 0xf8 == 0xf0 => 4,
        _ => 1,
    }
}

#[inline]
fn next_char(text: &[u8], t: usize) -> usize {
    t + text.get(t).map_or(1, |&b| utf8_len(b))
}

/// First character position at or after `from` whose first byte is `first`.
#[inline]
fn scan(text: &[u8], mut from: usize, first: u8) -> Option<usize> {
    while let Some(&b) = text.get(from) {
        if b == first {
            return Some(from);
        }
        from += utf8_len(b);
    }
    None
}

/// How an attempt to match from some position ended (`MatchText`'s LIKE_TRUE/FALSE/ABORT).
enum Outcome {
    True,
    False,
    Abort,
}

/// Where to resume after a failed attempt: the innermost `%` seen so far.
struct Resume {
    /// Pattern index of the literal that follows the `%` run.
    pattern_at: usize,
    /// Text index at which the current attempt started.
    text_at: usize,
    /// The first byte that literal must match (escape resolved).
    first: u8,
    trace_mark: usize,
}

/// PostgreSQL's `MatchText` for UTF-8 text and a lowered LIKE pattern, iteratively.
pub(crate) fn like_match<T: Trace>(text: &[u8], pat: &[u8], trace: &mut T) -> Result<bool, TrailingEscape> {
    if pat == b"%" {
        return Ok(true);
    }
    let (mut t, mut p) = (0usize, 0usize);
    let mut resume: Option<Resume> = None;
    loop {
        let outcome = 'attempt: loop {
            let (Some(&tc), Some(&pc)) = (text.get(t), pat.get(p)) else {
                if t < text.len() {
                    break 'attempt Outcome::False;
                }
                while pat.get(p) == Some(&b'%') {
                    p += 1;
                }
                break 'attempt if p >= pat.len() { Outcome::True } else { Outcome::Abort };
            };
            match pc {
                b'\\' => {
                    p += 1;
                    let Some(&escaped) = pat.get(p) else {
                        return Err(TrailingEscape);
                    };
                    if escaped != tc {
                        break 'attempt Outcome::False;
                    }
                    trace.literal(t);
                    t += 1;
                    p += 1;
                }
                b'%' => {
                    p += 1;
                    loop {
                        match pat.get(p) {
                            Some(b'%') => p += 1,
                            Some(b'_') => {
                                if t >= text.len() {
                                    break 'attempt Outcome::Abort;
                                }
                                t = next_char(text, t);
                                p += 1;
                            }
                            _ => break,
                        }
                    }
                    let Some(&lead) = pat.get(p) else {
                        break 'attempt Outcome::True;
                    };
                    let first = if lead == b'\\' {
                        match pat.get(p + 1) {
                            Some(&escaped) => escaped,
                            None => return Err(TrailingEscape),
                        }
                    } else {
                        lead
                    };
                    let Some(start) = scan(text, t, first) else {
                        break 'attempt Outcome::Abort;
                    };
                    resume = Some(Resume { pattern_at: p, text_at: start, first, trace_mark: trace.mark() });
                    t = start;
                }
                b'_' => {
                    t = next_char(text, t);
                    p += 1;
                }
                literal => {
                    if literal != tc {
                        break 'attempt Outcome::False;
                    }
                    trace.literal(t);
                    t += 1;
                    p += 1;
                }
            }
        };
        match outcome {
            Outcome::True => return Ok(true),
            Outcome::Abort => return Ok(false),
            Outcome::False => {
                let Some(r) = resume.as_mut() else {
                    return Ok(false);
                };
                let Some(start) = scan(text, next_char(text, r.text_at), r.first) else {
                    return Ok(false);
                };
                r.text_at = start;
                t = start;
                p = r.pattern_at;
                trace.rewind(r.trace_mark);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> Result<bool, MatchError> {
        glob_matches(pattern, name)
    }

    #[test]
    fn shapes() {
        assert_eq!(Glob::new("abc").shape, Shape::Exact("abc".into()));
        assert_eq!(Glob::new("aBc*").shape, Shape::Prefix("abc".into()));
        assert_eq!(Glob::new("**abc").shape, Shape::Suffix("abc".into()));
        assert_eq!(Glob::new("*a_c*").shape, Shape::Infix("a_c".into()));
        assert_eq!(Glob::new("**").shape, Shape::Everything);
        assert_eq!(Glob::new("a*b").shape, Shape::General);
        assert_eq!(Glob::new("a\\").shape, Shape::General);
        assert_eq!(Glob::new("a\\%").shape, Shape::Prefix("a\\".into()));
        assert_eq!(Glob::new("a\\*").shape, Shape::Exact("a%".into()));
    }

    #[test]
    fn backslash_semantics() {
        assert_eq!(m("a\\*", "a%"), Ok(true));
        assert_eq!(m("a\\*", "a*"), Ok(false));
        assert_eq!(m("\\a", "a"), Ok(true));
        assert_eq!(m("\\%", "\\abc"), Ok(true));
        assert_eq!(m("\\_", "\\x"), Ok(true));
        assert_eq!(m("\\_", "\\xy"), Ok(false));
        assert_eq!(m("a_b", "axb"), Ok(false));
        assert_eq!(m("a_b", "a_b"), Ok(true));
    }

    #[test]
    fn trailing_escape_is_raised_lazily() {
        assert!(m("abc\\", "abcd").is_err());
        assert_eq!(m("abc\\", "abc"), Ok(false));
        assert_eq!(m("abc\\", "abx"), Ok(false));
        assert!(m("*\\", "x").is_err());
        assert!(Glob::new("abc\\").has_trailing_escape());
        assert!(!Glob::new("abc\\\\").has_trailing_escape());
    }

    #[test]
    fn percent_run_with_ones_consumes_text_before_escape_check() {
        // `%_\` vs `x`: the `_` uses up the text, then the lone escape is reached.
        let glob = Glob {
            source: "".into(),
            like: b"%_\\".to_vec().into(),
            shape: Shape::General,
            anchor_prefix: "".into(),
            anchor_suffix: "".into(),
        };
        assert!(glob.matches_folded("x").is_err());
    }

    #[test]
    fn case_folding_facts() {
        assert_eq!(m("É", "é"), Ok(true));
        assert_eq!(m("ß", "SS"), Ok(false));
        assert_eq!(m("i", "İ"), Ok(true));
        assert_eq!(m("σ", "ς"), Ok(false));
        assert_eq!(m("k", "\u{212A}"), Ok(true));
    }

    #[test]
    fn blank_names_never_match() {
        assert_eq!(m("*", ""), Ok(false));
        assert_eq!(m("*", "  "), Ok(false));
    }

    #[test]
    fn star_heavy_is_linear() {
        let pattern = "*a".repeat(100) + "*b";
        let name = "a".repeat(60_000);
        assert_eq!(m(&pattern, &name), Ok(false));
    }

    #[test]
    fn spans_highlight_literals() {
        let glob = Glob::new("@scope/*-pkg");
        assert_eq!(glob.matched_spans("@Scope/my-pkg", false), Ok(Some(vec![(0, 7), (9, 13)])));
        assert_eq!(glob.matched_spans("@other/x", false), Ok(None));
        let pypi = Glob::new_pypi_normalized("my_package");
        assert_eq!(pypi.matched_spans("My..Package", true), Ok(Some(vec![(0, 11)])));
    }
}
