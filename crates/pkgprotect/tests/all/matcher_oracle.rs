//! The matcher against deliberately simple reference implementations of GitLab's
//! `to_like` + PostgreSQL `ILIKE`, on random patterns and names.

use pkgprotect::glob_matches;
use proptest::prelude::*;

/// `Gitlab::SQL::Glob.to_like`, then `lower()` per code point as PostgreSQL does.
fn reference_to_like(pattern: &str) -> Vec<char> {
    let mut out = Vec::new();
    for c in pattern.chars() {
        match c {
            '%' => out.extend(['\\', '%']),
            '_' => out.extend(['\\', '_']),
            '*' => out.push('%'),
            c => out.push(pkgprotect::text::lower_char(c)),
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum Like {
    True,
    False,
    Abort,
}

/// A recursive transliteration of PostgreSQL's `MatchText` (like_match.c) over characters.
/// `Err` is the "LIKE pattern must not end with escape character" error.
fn match_text(t: &[char], p: &[char]) -> Result<Like, ()> {
    if p == ['%'] {
        return Ok(Like::True);
    }
    let (mut t, mut p) = (t, p);
    while let (Some(&tc), Some(&pc)) = (t.first(), p.first()) {
        if pc == '\\' {
            p = &p[1..];
            let Some(&escaped) = p.first() else {
                return Err(());
            };
            if escaped != tc {
                return Ok(Like::False);
            }
        } else if pc == '%' {
            p = &p[1..];
            while let Some(&c) = p.first() {
                if c == '%' {
                    p = &p[1..];
                } else if c == '_' {
                    if t.is_empty() {
                        return Ok(Like::Abort);
                    }
                    t = &t[1..];
                    p = &p[1..];
                } else {
                    break;
                }
            }
            let Some(&first) = p.first() else {
                return Ok(Like::True);
            };
            let first = if first == '\\' {
                match p.get(1) {
                    Some(&c) => c,
                    None => return Err(()),
                }
            } else {
                first
            };
            while !t.is_empty() {
                if t[0] == first {
                    let result = match_text(t, p)?;
                    if result != Like::False {
                        return Ok(result);
                    }
                }
                t = &t[1..];
            }
            return Ok(Like::Abort);
        } else if pc == '_' {
            t = &t[1..];
            p = &p[1..];
            continue;
        } else if pc != tc {
            return Ok(Like::False);
        }
        t = &t[1..];
        p = &p[1..];
    }
    if !t.is_empty() {
        return Ok(Like::False);
    }
    while p.first() == Some(&'%') {
        p = &p[1..];
    }
    Ok(if p.is_empty() { Like::True } else { Like::Abort })
}

/// Plain set semantics of LIKE (exhaustive backtracking), for patterns without a lone
/// trailing escape: independent of `MatchText`'s control flow.
fn like_language(t: &[char], p: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('%') => (0..=t.len()).any(|skip| like_language(&t[skip..], &p[1..])),
        Some('_') => !t.is_empty() && like_language(&t[1..], &p[1..]),
        Some('\\') => matches!((t.first(), p.get(1)), (Some(a), Some(b)) if a == b) && like_language(&t[1..], &p[2..]),
        Some(c) => t.first() == Some(c) && like_language(&t[1..], &p[1..]),
    }
}

fn gitlab_reference(pattern: &str, name: &str) -> Result<bool, ()> {
    if name.chars().all(char::is_whitespace) {
        return Ok(false);
    }
    let lowered: Vec<char> = name.chars().map(pkgprotect::text::lower_char).collect();
    match_text(&lowered, &reference_to_like(pattern)).map(|r| r == Like::True)
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
        prop_assert_eq!(ours, gitlab_reference(&pattern, &name), "pattern {:?} name {:?}", pattern, name);
    }

    #[test]
    fn matcher_agrees_with_like_set_semantics(pattern in pattern_strategy(), name in name_strategy()) {
        // Set semantics has no answer for a lone trailing escape: close it with a literal.
        let trailing = pattern.chars().rev().take_while(|&c| c == '\\').count();
        let pattern = if trailing % 2 == 1 { format!("{pattern}a") } else { pattern };
        let like = reference_to_like(&pattern);
        let lowered: Vec<char> = name.chars().map(pkgprotect::text::lower_char).collect();
        let expected = !name.chars().all(char::is_whitespace) && like_language(&lowered, &like);
        prop_assert_eq!(glob_matches(&pattern, &name), Ok(expected), "pattern {:?} name {:?}", pattern, name);
    }
}
