//! Case mapping against PostgreSQL itself, in GitLab's database setup (UTF-8, C.UTF-8): the
//! core's `lower_char` against `lower()` for every code point, and every code point with a case
//! mapping, as a name and as a pattern, against its case forms through `name ILIKE
//! to_like(pattern)`. The core reads its lowering from a generated table
//! (`scripts/gen-case-table.sh`); this is the oracle that keeps that table honest.

use std::collections::{BTreeSet, HashMap};

use pkgprotect::glob_matches;
use pkgprotect::text::lower_char;
use sqlx::postgres::PgPoolOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PKGPROTECT_TEST_POSTGRES_URL; scripts/test.sh starts PostgreSQL and runs it"]
async fn case_mapping_agrees_with_postgres_lower_and_ilike() {
    let url = std::env::var("PKGPROTECT_TEST_POSTGRES_URL").expect("PKGPROTECT_TEST_POSTGRES_URL");
    let pool = PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let (encoding, ctype): (String, String) =
        sqlx::query_as("SELECT current_setting('server_encoding'), current_setting('lc_ctype')")
            .fetch_one(&pool)
            .await
            .unwrap();
    // Any other setup is not GitLab's: a C locale lowers ASCII only.
    assert_eq!((encoding.as_str(), ctype.as_str()), ("UTF8", "C.UTF-8"));

    // Every code point PostgreSQL lowers or uppers (chr() refuses 0 and the surrogates).
    let cased: Vec<(i32, String, String)> = sqlx::query_as(
        "SELECT c, lower(chr(c)), upper(chr(c)) FROM generate_series(1, 1114111) AS c \
         WHERE c NOT BETWEEN 55296 AND 57343 AND (lower(chr(c)) <> chr(c) OR upper(chr(c)) <> chr(c)) \
         ORDER BY c",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let lowered: HashMap<char, &str> = cased
        .iter()
        .map(|(code, lower, _)| (char::from_u32(u32::try_from(*code).unwrap()).unwrap(), lower.as_str()))
        .collect();

    // lower(): every code point, those PostgreSQL leaves alone included.
    let mut mismatches = Vec::new();
    let mut changed = 0usize;
    // A char range skips the surrogates, as chr() does.
    for c in '\u{1}'..=char::MAX {
        let ours = lower_char(c).to_string();
        let postgres = lowered.get(&c).map_or_else(|| c.to_string(), |l| (*l).to_owned());
        changed += usize::from(postgres != c.to_string());
        if ours != postgres {
            mismatches.push(format!("lower(U+{:04X}): postgres {postgres:?}, pkgprotect {ours:?}", u32::from(c)));
        }
    }

    // ILIKE: each cased code point as the name against its forms as patterns, and the reverse.
    let mut pairs = BTreeSet::new();
    for (code, lower, upper) in &cased {
        let itself = char::from_u32(u32::try_from(*code).unwrap()).unwrap().to_string();
        for form in [&itself, lower, upper] {
            pairs.insert((itself.clone(), form.clone()));
            pairs.insert((form.clone(), itself.clone()));
        }
    }
    let (names, patterns): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    // GitLab's Gitlab::SQL::Glob.to_like, in SQL, exactly as GitLab sends it.
    let answers: Vec<bool> = sqlx::query_scalar(
        "SELECT n ILIKE REPLACE(REPLACE(REPLACE(p, '%', '\\%'), '_', '\\_'), '*', '%') \
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(n, p, i) ORDER BY i",
    )
    .bind(&names)
    .bind(&patterns)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(answers.len(), names.len());
    let mut matched = 0usize;
    for ((name, pattern), postgres) in names.iter().zip(&patterns).zip(answers) {
        // GitLab never asks PostgreSQL about a blank name: no rule matches it.
        let expected = postgres && !name.chars().all(char::is_whitespace);
        matched += usize::from(expected);
        let ours = glob_matches(pattern, name);
        if ours != Ok(expected) {
            mismatches.push(format!("{name:?} ILIKE {pattern:?}: postgres {expected}, pkgprotect {ours:?}"));
        }
    }

    eprintln!(
        "postgres case oracle: lower() of every code point ({changed} changed), {} cased code points, \
         {} ILIKE cases ({matched} match), {} mismatches",
        cased.len(),
        names.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
}
