//! GitLab's pattern formats (spec §3.2–3.4, §3.6), as the spec's regexes run by `regex-lite`.
//!
//! Each regex is GitLab's Ruby regex translated to regex-lite syntax (the spec records the
//! translation and its fuzzing against Ruby) and is compiled once per process. Validation is
//! not on the decision path, so regex-lite's small code size matters more here than speed.
//! Ruby's look-behind in the npm scope (`(?<!\.git|\.atom)`) has no regex-lite form; it is
//! the one check done outside the regex, on the captured scope.

use regex_lite::Regex;
use std::sync::OnceLock;

/// `\A(?:\*|npm_package_name_regex('*'))\z`; capture 1 is the scope.
const NPM: &str = r"^(?:\*|(?:@([a-zA-Z0-9_.][a-zA-Z0-9_.\-]*[a-zA-Z0-9_\-]|[a-zA-Z0-9_])/)?[-+._a-zA-Z0-9*]+)$";
/// `\A(?:\*|package_name_regex('*'))\z` with Ruby's ASCII `\w` spelled out and its atomic
/// groups dropped (they never change what matches here: the spec's fuzzing).
const PYPI: &str = r"^(?:\*|@?(?:[a-zA-Z0-9_.+\-]*/)*[a-zA-Z0-9_.\-]+@?(?:[a-zA-Z0-9_.+\-]*/)*[a-zA-Z0-9_.\-*]*)$";
const TERRAFORM: &str = r"^(?:\*|[-a-z0-9*]+/[-a-z0-9*]+)$";
/// `container_repository_name_regex('*')`.
const CONTAINER: &str = r"^[a-z0-9]+(?:(?:[._/]|__|-*)[a-z0-9*])*$";

/// One of the formats above, compiled on first use.
struct Format {
    source: &'static str,
    compiled: OnceLock<Option<Regex>>,
}

impl Format {
    const fn new(source: &'static str) -> Self {
        Format { source, compiled: OnceLock::new() }
    }

    /// The compiled regex; `None` only if a constant above stopped compiling, which the tests
    /// rule out. Callers then call the pattern invalid: a rule is refused rather than stored
    /// unchecked.
    fn regex(&self) -> Option<&Regex> {
        self.compiled.get_or_init(|| Regex::new(self.source).ok()).as_ref()
    }

    fn is_match(&self, s: &str) -> bool {
        self.regex().is_some_and(|re| re.is_match(s))
    }
}

static NPM_FORMAT: Format = Format::new(NPM);
static PYPI_FORMAT: Format = Format::new(PYPI);
static TERRAFORM_FORMAT: Format = Format::new(TERRAFORM);
static CONTAINER_FORMAT: Format = Format::new(CONTAINER);

/// npm: the regex, and a scope (capture 1) not ending in `.git` or `.atom` — Ruby's
/// look-behind, which is case-sensitive (`@x.GIT/p` is valid).
pub(crate) fn is_npm_pattern(s: &str) -> bool {
    let Some(captures) = NPM_FORMAT.regex().and_then(|re| re.captures(s)) else { return false };
    captures.get(1).is_none_or(|scope| !scope.as_str().ends_with(".git") && !scope.as_str().ends_with(".atom"))
}

pub(crate) fn is_pypi_pattern(s: &str) -> bool {
    PYPI_FORMAT.is_match(s)
}

pub(crate) fn is_terraform_pattern(s: &str) -> bool {
    TERRAFORM_FORMAT.is_match(s)
}

pub(crate) fn is_container_pattern(s: &str) -> bool {
    CONTAINER_FORMAT.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_format_compiles() {
        for format in [&NPM_FORMAT, &PYPI_FORMAT, &TERRAFORM_FORMAT, &CONTAINER_FORMAT] {
            assert!(format.regex().is_some(), "{} does not compile", format.source);
        }
    }

    // An independent second implementation of each format: hand-written automata (what the
    // engine used before regex-lite). Two implementations agreeing on random input catches a
    // regex mistranslated from the spec as well as a regex-lite change of behaviour.
    #[allow(clippy::all)]
    mod oracle {
        fn is_word(c: char) -> bool {
            c.is_ascii_alphanumeric() || c == '_'
        }

        /// `^(?:\*|(?:@(SCOPE)/)?[-+._a-zA-Z0-9*]+)$` where SCOPE is
        /// `[a-zA-Z0-9_.][a-zA-Z0-9_.\-]*[a-zA-Z0-9_\-]|[a-zA-Z0-9_]` and must not end with
        /// `.git` or `.atom` (Ruby's look-behind).
        pub(super) fn automaton_is_npm_pattern(s: &str) -> bool {
            let is_name = |rest: &str| !rest.is_empty() && rest.chars().all(|c| is_word(c) || "-+.*".contains(c));
            if s == "*" {
                return true;
            }
            let Some(scoped) = s.strip_prefix('@') else { return is_name(s) };
            let Some((scope, name)) = scoped.split_once('/') else { return false };
            let mut chars = scope.chars();
            let scope_ok = match (chars.next(), chars.next_back()) {
                (Some(only), None) => is_word(only),
                (Some(first), Some(last)) => {
                    (is_word(first) || first == '.')
                        && chars.all(|c| is_word(c) || c == '.' || c == '-')
                        && (is_word(last) || last == '-')
                }
                (None, _) => false,
            };
            scope_ok && !scope.ends_with(".git") && !scope.ends_with(".atom") && is_name(name)
        }

        /// `^(?:\*|[-a-z0-9*]+/[-a-z0-9*]+)$`
        pub(super) fn automaton_is_terraform_pattern(s: &str) -> bool {
            let part = |p: &str| {
                !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-*".contains(c))
            };
            s == "*" || s.split_once('/').is_some_and(|(a, b)| part(a) && part(b))
        }

        /// `^[a-z0-9]+(([._/]|__|-*)[a-z0-9*])*$`, as a DFA.
        pub(super) fn automaton_is_container_pattern(s: &str) -> bool {
            #[derive(Clone, Copy, PartialEq)]
            enum State {
                Start,
                /// After an alphanumeric or `*`: accepting.
                Char,
                /// After `.` or `/` or a second `_`: a character must follow.
                Separator,
                /// After one `_`: a second `_` or a character.
                Underscore,
                /// In a run of `-`.
                Dashes,
                Dead,
            }
            let lower_alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
            let mut state = State::Start;
            for c in s.chars() {
                let char_or_star = lower_alnum(c) || c == '*';
                state = match (state, c) {
                    (State::Start, c) if lower_alnum(c) => State::Char,
                    (State::Char, '.' | '/') => State::Separator,
                    (State::Char, '_') => State::Underscore,
                    (State::Char | State::Dashes, '-') => State::Dashes,
                    (State::Underscore, '_') => State::Separator,
                    (State::Char | State::Separator | State::Underscore | State::Dashes, _) if char_or_star => {
                        State::Char
                    }
                    _ => State::Dead,
                };
                if state == State::Dead {
                    return false;
                }
            }
            state == State::Char
        }

        /// `^(?:\*|@?(?:[\w.+-]*/)*[\w.-]+@?(?:[\w.+-]*/)*[\w.*-]*)$` (ASCII `\w`), by simulating
        /// its NFA with a set of states.
        pub(super) fn automaton_is_pypi_pattern(s: &str) -> bool {
            if s == "*" {
                return true;
            }
            // States: 0 start; 1 segment loop A (between `/`s); 2 inside an A segment; 3 inside the
            // required name B; 4 segment loop C; 5 inside a C segment; 6 the tail D (accepting).
            const START: u8 = 1 << 0;
            let x = |c: char| is_word(c) || ".+-".contains(c);
            let y = |c: char| is_word(c) || ".-".contains(c);
            let z = |c: char| is_word(c) || ".*-".contains(c);
            // ε-closure: 0 → 1 (after an optional `@`), 3 → 4 (optional `@`), 4 → 6.
            let close = |set: u8| {
                let mut set = set;
                if set & START != 0 {
                    set |= 1 << 1;
                }
                if set & (1 << 3) != 0 {
                    set |= 1 << 4;
                }
                if set & (1 << 4) != 0 {
                    set |= 1 << 6;
                }
                set
            };
            let mut states = close(START);
            for c in s.chars() {
                let mut next = 0u8;
                let has = |i: u8| states & (1 << i) != 0;
                if has(0) && c == '@' {
                    next |= 1 << 1;
                }
                if has(1) || has(2) {
                    if x(c) {
                        next |= 1 << 2;
                    }
                    if c == '/' {
                        next |= 1 << 1;
                    }
                }
                // B starts from the A loop (state 1) or continues (state 3).
                if (has(1) || has(3)) && y(c) {
                    next |= 1 << 3;
                }
                if has(3) && c == '@' {
                    next |= 1 << 4;
                }
                if has(4) || has(5) {
                    if x(c) {
                        next |= 1 << 5;
                    }
                    if c == '/' {
                        next |= 1 << 4;
                    }
                }
                if has(6) && z(c) {
                    next |= 1 << 6;
                }
                states = close(next);
                if states == 0 {
                    return false;
                }
            }
            states & (1 << 6) != 0
        }
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                'a', 'z', 'A', '0', '_', '.', '-', '+', '*', '/', '@', 'g', 'i', 't', 'o', 'm', ' ', 'é', '\n',
            ]),
            0..14,
        )
        .prop_map(|c| c.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 30_000, ..ProptestConfig::default() })]

        #[test]
        fn regexes_agree_with_the_independent_automata(s in text()) {
            prop_assert_eq!(is_npm_pattern(&s), oracle::automaton_is_npm_pattern(&s), "npm {:?}", s);
            prop_assert_eq!(is_pypi_pattern(&s), oracle::automaton_is_pypi_pattern(&s), "pypi {:?}", s);
            prop_assert_eq!(is_terraform_pattern(&s), oracle::automaton_is_terraform_pattern(&s), "terraform {:?}", s);
            prop_assert_eq!(is_container_pattern(&s), oracle::automaton_is_container_pattern(&s), "container {:?}", s);
        }
    }

    #[test]
    fn spec_examples() {
        assert!(is_npm_pattern("@my-scope/pkg-*") && !is_npm_pattern("@x.git/p") && is_npm_pattern("@x.GIT/p"));
        assert!(!is_npm_pattern("@sc*pe/p") && !is_npm_pattern("@scope./p") && !is_npm_pattern("a/b/c"));
        assert!(!is_pypi_pattern("*-package") && is_pypi_pattern("a/b") && is_pypi_pattern("pkg@*"));
        assert!(
            is_container_pattern("my-group/my-project--x")
                && !is_container_pattern("a___b")
                && !is_container_pattern("a/")
                && !is_container_pattern("*a")
        );
        assert!(is_terraform_pattern("mod/*") && !is_terraform_pattern("Mod/x"));
        // `$` is the true end of the string, as Ruby's `\z`: a trailing newline is invalid.
        for format in [is_npm_pattern, is_pypi_pattern, is_terraform_pattern, is_container_pattern] {
            assert!(!format("abc/d\n"));
        }
    }
}
