//! The matcher against PostgreSQL itself: random patterns and names, `name ILIKE
//! to_like(pattern)` evaluated by a real server (UTF-8, C.UTF-8), compared case by case.
//!
//! `PKGPROTECT_ORACLE_CASES` sets the number of cases (default 200,000; a long run:
//! `PKGPROTECT_ORACLE_CASES=2000000`), `PKGPROTECT_ORACLE_SEED` the seed.

use pkgprotect::glob_matches;
use sqlx::postgres::PgPoolOptions;

/// A small deterministic generator: the same seed gives the same cases, so a mismatch can
/// be reproduced.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn text(&mut self, alphabet: &[char], max_len: u64) -> String {
        let len = self.next() % (max_len + 1);
        (0..len).map(|_| alphabet[(self.next() as usize) % alphabet.len()]).collect()
    }
}

const PATTERN_CHARS: &[char] = &[
    'a', 'b', 'A', '*', '*', '\\', '%', '_', '-', '.', '/', '@', 'é', 'É', 'ß', 'İ', 'ı', 'Σ', 'ς', 'K', '\u{212A}',
    '😀',
];
const NAME_CHARS: &[char] = &[
    'a', 'b', 'B', '%', '_', '*', '\\', '-', '.', '/', '@', ' ', 'é', 'É', 'ß', 'ẞ', 'i', 'I', 'σ', 'ς', 'k', 'Ǆ', 'ǆ',
    '😀',
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PKGPROTECT_TEST_POSTGRES_URL; scripts/test.sh starts PostgreSQL and runs it"]
async fn matcher_agrees_with_postgres_ilike() {
    let url = std::env::var("PKGPROTECT_TEST_POSTGRES_URL").expect("PKGPROTECT_TEST_POSTGRES_URL");
    let cases: usize = std::env::var("PKGPROTECT_ORACLE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let seed: u64 = std::env::var("PKGPROTECT_ORACLE_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20261125);
    let pool = PgPoolOptions::new().max_connections(2).connect(&url).await.unwrap();
    let encoding: String = sqlx::query_scalar("SHOW server_encoding").fetch_one(&pool).await.unwrap();
    assert_eq!(encoding, "UTF8");
    // ILIKE raising "LIKE pattern must not end with escape character" becomes NULL, so one
    // batch can hold erroring cases.
    sqlx::query(
        "CREATE OR REPLACE FUNCTION pkgprotect_try_ilike(n text, p text) RETURNS boolean AS $$ \
         BEGIN RETURN n ILIKE p; EXCEPTION WHEN others THEN RETURN NULL; END $$ LANGUAGE plpgsql",
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut rng = Lcg(seed);
    let mut mismatches = Vec::new();
    let mut done = 0usize;
    while done < cases {
        let batch = (cases - done).min(5_000);
        let patterns: Vec<String> = (0..batch).map(|_| rng.text(PATTERN_CHARS, 8)).collect();
        let names: Vec<String> = (0..batch).map(|_| rng.text(NAME_CHARS, 10)).collect();
        // GitLab's Gitlab::SQL::Glob.to_like, in SQL, exactly as GitLab sends it.
        let answers: Vec<Option<bool>> = sqlx::query_scalar(
            "SELECT pkgprotect_try_ilike(n, REPLACE(REPLACE(REPLACE(p, '%', '\\%'), '_', '\\_'), '*', '%')) \
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(n, p, i) ORDER BY i",
        )
        .bind(&names)
        .bind(&patterns)
        .fetch_all(&pool)
        .await
        .unwrap();
        for ((pattern, name), postgres) in patterns.iter().zip(&names).zip(answers) {
            // GitLab never asks PostgreSQL about a blank name: no rule matches it.
            let expected = if name.chars().all(char::is_whitespace) { Some(false) } else { postgres };
            let ours = glob_matches(pattern, name).ok();
            if ours != expected {
                mismatches
                    .push(format!("pattern {pattern:?} name {name:?}: postgres {expected:?}, pkgprotect {ours:?}"));
            }
        }
        done += batch;
    }
    pool.close().await;
    eprintln!("postgres oracle: {cases} cases (seed {seed}), {} mismatches", mismatches.len());
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
}
