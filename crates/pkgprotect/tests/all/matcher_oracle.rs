//! The matcher against the deliberately simple reference implementations of GitLab's
//! `to_like` + PostgreSQL `ILIKE` (`pkgprotect_conformance::reference`), on random patterns and names.

use pkgprotect::glob_matches;
use pkgprotect_conformance::reference::{gitlab_matches, like_language, to_like};
use proptest::prelude::*;

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
        prop_assert_eq!(ours, gitlab_matches(&pattern, &name).map_err(|_| ()), "pattern {:?} name {:?}", pattern, name);
    }

    #[test]
    fn matcher_agrees_with_like_set_semantics(pattern in pattern_strategy(), name in name_strategy()) {
        // Set semantics has no answer for a lone trailing escape: close it with a literal.
        let trailing = pattern.chars().rev().take_while(|&c| c == '\\').count();
        let pattern = if trailing % 2 == 1 { format!("{pattern}a") } else { pattern };
        let like = to_like(&pattern);
        let lowered: Vec<char> = name.chars().map(pkgprotect::text::lower_char).collect();
        let expected = !name.chars().all(char::is_whitespace) && like_language(&lowered, &like);
        prop_assert_eq!(glob_matches(&pattern, &name), Ok(expected), "pattern {:?} name {:?}", pattern, name);
    }
}
