//! The matcher against the reference (recursive MatchText and LIKE set semantics).
//! Input: pattern and name as UTF-8, split at the first NUL byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pkgprotect::glob_matches;
use pkgprotect_conformance::reference::{gitlab_matches, like_language, to_like};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some((pattern, name)) = text.split_once('\0') else { return };
    // The set-semantics reference backtracks exponentially: keep inputs small.
    if pattern.chars().count() > 12 || name.chars().count() > 16 {
        return;
    }
    let ours = glob_matches(pattern, name);
    let reference = gitlab_matches(pattern, name);
    assert_eq!(ours.is_err(), reference.is_err(), "error mismatch: pattern {pattern:?} name {name:?}");
    if let (Ok(ours), Ok(expected)) = (ours, reference) {
        assert_eq!(ours, expected, "pattern {pattern:?} name {name:?}");
    }
    let like = to_like(pattern);
    let lone_escape = like.iter().rev().take_while(|&&c| c == '\\').count() % 2 == 1;
    if !lone_escape {
        let lowered: Vec<char> = name.chars().map(pkgprotect::text::lower_char).collect();
        let expected = !name.chars().all(char::is_whitespace) && like_language(&lowered, &like);
        assert_eq!(glob_matches(pattern, name), Ok(expected), "set semantics: pattern {pattern:?} name {name:?}");
    }
});
