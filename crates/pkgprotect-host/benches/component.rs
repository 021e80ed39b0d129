//! Native core vs the component through the host crate, same rules and requests:
//! warm rule-set resource, fresh instance per call, one-shot decide, batch of 1,000.
//!
//! Run: `scripts/build-component.sh && cargo bench -p pkgprotect-host --bench component`

// Benchmark setup may unwrap: bad setup should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{Criterion, criterion_group, criterion_main};
use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, PackageRule, PackageType, Rule, RuleSet, Target};
use pkgprotect_host::Policy;
use std::hint::black_box;
use std::time::Duration;

fn rules(count: usize) -> Vec<Rule> {
    (0..count)
        .map(|i| {
            let pattern = match i % 4 {
                0 => format!("@acme/pkg-{i}"),
                1 => format!("@acme-{i}/lib-*"),
                2 => format!("*-tool-{i}"),
                _ => format!("*core{i}*"),
            };
            Rule::Package(PackageRule {
                id: Some(i as i64 + 1),
                project_id: None,
                package_name_pattern: pattern,
                package_type: PackageType::Npm,
                minimum_access_level_for_push: Some(AccessLevel::Maintainer),
                minimum_access_level_for_delete: None,
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

fn component(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pkgprotect.wasm");
    let policy = Policy::load(&path).expect("run scripts/build-component.sh first");
    let rules = rules(50);
    let hit = request("@acme/pkg-24");
    let native = RuleSet::new(rules.clone()).unwrap();
    let mut warm = policy.rule_set(&rules).unwrap();
    assert_eq!(native.decide(&hit).unwrap(), warm.decide(&hit).unwrap());

    let mut group = c.benchmark_group("decide_50_rules");
    group.bench_function("native", |b| b.iter(|| native.decide(black_box(&hit))));
    group.bench_function("component_warm_rule_set", |b| b.iter(|| warm.decide(black_box(&hit))));
    group.bench_function("component_fresh_instance_version", |b| b.iter(|| policy.version()));
    group.bench_function("component_one_shot_decide", |b| b.iter(|| policy.decide(black_box(&rules), black_box(&hit))));
    group.finish();

    let batch: Vec<DecisionRequest> = (0..1_000).map(|i| request(&format!("@acme/pkg-{}", i % 60))).collect();
    let mut group = c.benchmark_group("decide_batch_1000");
    group.bench_function("native", |b| b.iter(|| native.decide_batch(black_box(&batch))));
    group.bench_function("component_warm_rule_set", |b| b.iter(|| warm.decide_batch(black_box(&batch))));
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = component }
criterion_main!(benches);
