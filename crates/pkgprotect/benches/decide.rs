//! `decide` at 1, 50, 1,000 and 10,000 rules, and the worst-case matcher.
//!
//! Run: `cargo bench -p pkgprotect --bench decide`

// Benchmark setup may index and unwrap: bad setup should stop the run loudly.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, Glob, PackageRule, PackageType, Rule, RuleSet, Target};
use std::hint::black_box;
use std::time::Duration;

/// A small deterministic generator, so every run measures the same workload.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

const SCOPES: &[&str] = &["acme", "my-org", "platform", "web", "infra", "data", "mobile", "tools", "core", "payments"];
const WORDS: &[&str] = &[
    "api", "client", "server", "utils", "config", "logger", "auth", "cache", "cli", "core", "sdk", "ui", "router",
    "store", "schema", "events", "metrics", "queue", "worker", "http",
];

fn package_name(rng: &mut Lcg) -> String {
    format!("@{}/{}-{}", rng.pick(SCOPES), rng.pick(WORDS), rng.pick(WORDS))
}

/// A realistic mix: 40 % exact names, 30 % prefix (`@scope/word-*`), 15 % suffix, 15 % infix.
fn rules(count: usize) -> Vec<Rule> {
    let mut rng = Lcg(count as u64);
    (0..count)
        .map(|i| {
            let pattern = match rng.next() % 20 {
                0..=7 => format!("{}{}", package_name(&mut rng), i),
                8..=13 => format!("@{}{}/{}-*", rng.pick(SCOPES), i % 97, rng.pick(WORDS)),
                14..=16 => format!("*-{}{}", rng.pick(WORDS), i),
                _ => format!("*{}{}*", rng.pick(WORDS), i),
            };
            Rule::Package(PackageRule {
                id: Some(i as i64 + 1),
                project_id: Some(1),
                package_name_pattern: pattern,
                package_type: PackageType::Npm,
                minimum_access_level_for_push: Some(AccessLevel::Maintainer),
                minimum_access_level_for_delete: Some(AccessLevel::Owner),
            })
        })
        .collect()
}

fn request(name: &str) -> DecisionRequest {
    DecisionRequest {
        target: Target::Package { name: name.into(), package_type: PackageType::Npm },
        action: Action::Push,
        actor: Actor::User { access_level: AccessLevel::Developer },
    }
}

fn decide(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    for count in [1usize, 50, 1_000, 10_000] {
        let rule_list = rules(count);
        let set = RuleSet::new(rule_list.clone()).unwrap();
        // A name that one of the exact rules protects, and one that nothing protects.
        let hit = request(rule_list[count / 2].pattern().trim_matches('*'));
        let miss = request("@unrelated/some-package");
        let blocking = set.decide(&hit).unwrap().blocking_rule_ids.len();
        eprintln!("{count} rules: hit `{}` is blocked by {blocking} rule(s)", hit.target.name());
        assert!(!set.decide(&hit).unwrap().allowed || rule_list[count / 2].pattern().starts_with('*'));
        group.bench_with_input(BenchmarkId::new("hit", count), &hit, |b, r| b.iter(|| set.decide(black_box(r))));
        group.bench_with_input(BenchmarkId::new("miss", count), &miss, |b, r| b.iter(|| set.decide(black_box(r))));
    }
    group.finish();

    let mut group = c.benchmark_group("compile");
    for count in [50usize, 1_000, 10_000] {
        let rule_list = rules(count);
        group.bench_with_input(BenchmarkId::from_parameter(count), &rule_list, |b, r| {
            b.iter(|| RuleSet::new(black_box(r.clone())))
        });
    }
    group.finish();
}

/// One-shot decisions: the scan [`RuleSet::summarize_once`] uses, beside compiling the
/// index and deciding once with it.
fn one_shot(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_shot");
    for count in [8usize, 16, 32, 64, 128] {
        let rule_list = rules(count);
        let hit = request(rule_list[count / 2].pattern().trim_matches('*'));
        group.bench_with_input(BenchmarkId::new("index", count), &hit, |b, r| {
            b.iter(|| RuleSet::new(black_box(rule_list.clone())).unwrap().summarize(black_box(r)))
        });
        group.bench_with_input(BenchmarkId::new("summarize_once", count), &hit, |b, r| {
            b.iter(|| RuleSet::summarize_once(black_box(rule_list.clone()), black_box(r)))
        });
    }
    group.finish();
}

/// A label, a pattern, and how to make a name of a given length for it.
type WorstCase = (&'static str, String, fn(usize) -> String);

/// Two 255-character worst cases. `long_literal`: `*a…a*b`, where every start position
/// compares up to 252 characters before failing (the single-restart bound |pattern|·|name|).
/// `many_stars`: `*a*a*…*ab` against a name whose only `a` is at its end.
fn worst_case_patterns() -> [WorstCase; 2] {
    let long_literal = format!("*{}*b", "a".repeat(252));
    let many_stars = format!("*{}ab", "a*".repeat(126));
    let near_misses = |len: usize| {
        let mut name: String = "a".repeat(251) + "x";
        while name.len() < len - 1 {
            name.push_str(&name.clone());
        }
        name.truncate(len - 1);
        name.push('b');
        name
    };
    let few_as = |len: usize| format!("{}ab", "x".repeat(len - 2));
    [("long_literal", long_literal, near_misses), ("many_stars", many_stars, few_as)]
}

fn worst_case(c: &mut Criterion) {
    for (label, pattern, make_name) in worst_case_patterns() {
        assert_eq!(pattern.chars().count(), 255);
        let glob = Glob::new(&pattern);
        let mut group = c.benchmark_group(format!("worst_case_{label}"));
        for kib in [1usize, 4, 16, 64] {
            let name = make_name(kib * 1024);
            assert_eq!(glob.matches(&name), Ok(false));
            group.throughput(Throughput::Bytes(name.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(format!("{kib}KiB")), &name, |b, n| {
                b.iter(|| glob.matches(black_box(n)))
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = decide, one_shot, worst_case }
criterion_main!(benches);
