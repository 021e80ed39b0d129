//! Deliberately simple reference implementations, for property tests and fuzzing: GitLab's
//! `to_like`, a recursive transliteration of PostgreSQL's `MatchText`, plain LIKE set
//! semantics, and a decision by scanning every rule. Clarity over speed: exponential or
//! deeply recursive on large inputs, so feed them small ones.

use pkgprotect::text::lower_char;
use pkgprotect::{AccessLevel, Actor, DecisionRequest, PackageType, Rule, Target};

/// `Gitlab::SQL::Glob.to_like`, then PostgreSQL's per-code-point `lower()` through the core's
/// case table: fuzzing feeds any code point, and only PostgreSQL itself is an independent
/// answer for those (pkgprotect-server's `case_oracle` test).
pub fn to_like(pattern: &str) -> Vec<char> {
    to_like_with(pattern, lower_char)
}

/// [`to_like`] with another per-code-point lowering, for oracles that must not share the
/// core's case table with the matcher they check.
pub fn to_like_with(pattern: &str, lower: impl Fn(char) -> char) -> Vec<char> {
    let mut out = Vec::new();
    for c in pattern.chars() {
        match c {
            '%' => out.extend(['\\', '%']),
            '_' => out.extend(['\\', '_']),
            '*' => out.push('%'),
            c => out.push(lower(c)),
        }
    }
    out
}

/// PostgreSQL raised "LIKE pattern must not end with escape character".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscapeError;

#[derive(Debug, PartialEq)]
enum Like {
    True,
    False,
    Abort,
}

fn rest<T>(s: &[T]) -> &[T] {
    s.get(1..).unwrap_or_default()
}

/// `MatchText` from like_match.c, recursive, over characters.
fn match_text(mut t: &[char], mut p: &[char]) -> Result<Like, EscapeError> {
    if p == ['%'] {
        return Ok(Like::True);
    }
    while let (Some(&tc), Some(&pc)) = (t.first(), p.first()) {
        if pc == '\\' {
            p = rest(p);
            let Some(&escaped) = p.first() else { return Err(EscapeError) };
            if escaped != tc {
                return Ok(Like::False);
            }
        } else if pc == '%' {
            p = rest(p);
            while let Some(&c) = p.first() {
                if c == '%' {
                    p = rest(p);
                } else if c == '_' {
                    if t.is_empty() {
                        return Ok(Like::Abort);
                    }
                    t = rest(t);
                    p = rest(p);
                } else {
                    break;
                }
            }
            let Some(&first) = p.first() else { return Ok(Like::True) };
            let first = if first == '\\' { *p.get(1).ok_or(EscapeError)? } else { first };
            while let Some(&c) = t.first() {
                if c == first {
                    let result = match_text(t, p)?;
                    if result != Like::False {
                        return Ok(result);
                    }
                }
                t = rest(t);
            }
            return Ok(Like::Abort);
        } else if pc != '_' && pc != tc {
            return Ok(Like::False);
        }
        t = rest(t);
        p = rest(p);
    }
    if !t.is_empty() {
        return Ok(Like::False);
    }
    while p.first() == Some(&'%') {
        p = rest(p);
    }
    Ok(if p.is_empty() { Like::True } else { Like::Abort })
}

/// GitLab's answer: blank names never match, otherwise `name ILIKE to_like(pattern)`.
pub fn gitlab_matches(pattern: &str, name: &str) -> Result<bool, EscapeError> {
    gitlab_matches_with(pattern, name, lower_char)
}

/// [`gitlab_matches`] with another per-code-point lowering (see [`to_like_with`]).
pub fn gitlab_matches_with(pattern: &str, name: &str, lower: impl Fn(char) -> char) -> Result<bool, EscapeError> {
    if name.chars().all(char::is_whitespace) {
        return Ok(false);
    }
    let lowered: Vec<char> = name.chars().map(&lower).collect();
    match_text(&lowered, &to_like_with(pattern, lower)).map(|r| r == Like::True)
}

/// Plain set semantics of LIKE by exhaustive backtracking (no lone trailing escape).
pub fn like_language(t: &[char], p: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('%') => (0..=t.len()).any(|skip| like_language(t.get(skip..).unwrap_or_default(), rest(p))),
        Some('_') => !t.is_empty() && like_language(rest(t), rest(p)),
        Some('\\') => {
            matches!((t.first(), p.get(1)), (Some(a), Some(b)) if a == b)
                && like_language(rest(t), p.get(2..).unwrap_or_default())
        }
        Some(c) => t.first() == Some(c) && like_language(rest(t), rest(p)),
    }
}

/// `regexp_replace(s, '[-_.]+', '-', 'g')`, written out plainly.
pub fn normalize_pypi(s: &str) -> String {
    let mut out = String::new();
    let mut previous_was_separator = false;
    for c in s.chars() {
        let separator = matches!(c, '-' | '_' | '.');
        if !(separator && previous_was_separator) {
            out.push(if separator { '-' } else { c });
        }
        previous_was_separator = separator;
    }
    out
}

/// The spec's decision (§5), rule by rule. Only rules that could block the actor are
/// evaluated, so only their matching errors count. `Ok` holds the blocking rule ids.
pub fn decide(rules: &[Rule], request: &DecisionRequest) -> Result<Vec<i64>, EscapeError> {
    if request.actor == (Actor::User { access_level: AccessLevel::Admin }) {
        return Ok(Vec::new());
    }
    let mut blocking = Vec::new();
    for rule in rules {
        let same_target = match (&request.target, rule) {
            (Target::Package { package_type, .. }, Rule::Package(r)) => r.package_type == *package_type,
            (Target::ContainerRepository { .. }, Rule::ContainerRepository(_)) => true,
            _ => false,
        };
        let could_block = match request.actor {
            Actor::DeployToken => true,
            Actor::User { access_level } => rule.minimum_for(request.action).is_some_and(|min| access_level < min),
        };
        if !same_target || !could_block {
            continue;
        }
        let name = request.target.name();
        let pypi_user = rule.package_type() == Some(PackageType::Pypi) && request.actor != Actor::DeployToken;
        let matched = if pypi_user {
            !name.chars().all(char::is_whitespace)
                && gitlab_matches(&normalize_pypi(rule.pattern()), &normalize_pypi(name))?
        } else {
            gitlab_matches(rule.pattern(), name)?
        };
        if matched {
            blocking.push(rule.id().unwrap_or_default());
        }
    }
    Ok(blocking)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_knows_the_spec_examples() {
        assert_eq!(gitlab_matches("a\\*", "a%"), Ok(true));
        assert_eq!(gitlab_matches("abc\\", "abcd"), Err(EscapeError));
        assert_eq!(gitlab_matches("abc\\", "abc"), Ok(false));
        assert_eq!(gitlab_matches("*", " "), Ok(false));
        assert!(like_language(&['a', 'b'], &['%', 'b']));
        assert_eq!(normalize_pypi("My._-Package"), "My-Package");
    }
}
