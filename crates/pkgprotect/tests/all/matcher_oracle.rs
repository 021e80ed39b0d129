//! The matcher against the deliberately simple reference implementations of GitLab's
//! `to_like` + PostgreSQL `ILIKE` (`pkgprotect_conformance::reference`), on random patterns and names.
//!
//! Case mapping is not what these check (every code point's `lower()` is checked against
//! PostgreSQL itself, in pkgprotect-server's `case_oracle`), but the references lower on their
//! own rather than through the core's table, so the two cannot agree by sharing a mistake.

use pkgprotect::glob_matches;
use pkgprotect_conformance::reference::{gitlab_matches_with, like_language, to_like_with};
use proptest::prelude::*;

/// Rust's lowercase mapping, first code point: Unicode's simple mapping for the letters these
/// alphabets use (`İ` → `i`), which Unicode's case-pair stability keeps fixed across versions.
fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn pattern_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'b', 'A', '*', '*', '\\', '%', '_', 'é', 'É', 'ß', 'İ', '-', '.', '/', '@']),
        0..9,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn name_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            'a', 'b', 'A', 'B', '%', '_', '*', '\\', 'é', 'É', 'ß', 'ẞ', 'i', '-', '.', ' ', '/',
        ]),
        0..11,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn matcher_agrees_with_postgres_match_text(pattern in pattern_strategy(), name in name_strategy()) {
        let ours = glob_matches(&pattern, &name).map_err(|_| ());
        prop_assert_eq!(ours, gitlab_matches_with(&pattern, &name, lower).map_err(|_| ()), "pattern {:?} name {:?}", pattern, name);
    }

    #[test]
    fn matcher_agrees_with_like_set_semantics(pattern in pattern_strategy(), name in name_strategy()) {
        // Set semantics has no answer for a lone trailing escape: close it with a literal.
        let trailing = pattern.chars().rev().take_while(|&c| c == '\\').count();
        let pattern = if trailing % 2 == 1 { format!("{pattern}a") } else { pattern };
        let like = to_like_with(&pattern, lower);
        let lowered: Vec<char> = name.chars().map(lower).collect();
        let expected = !name.chars().all(char::is_whitespace) && like_language(&lowered, &like);
        prop_assert_eq!(glob_matches(&pattern, &name), Ok(expected), "pattern {:?} name {:?}", pattern, name);
    }
}
