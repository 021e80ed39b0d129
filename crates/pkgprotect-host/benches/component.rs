//! Native core vs the component through the host crate, same rules and requests:
//! warm rule-set resource (scalar `decide` and full `explain`), fresh instance per call,
//! one-shot decide (typed and GitLab-JSON rules), batches of 1,000 —
//! and, for scale, wasmtime's floor: a string-in, string-out call into a trivial component.
//!
//! Run: `scripts/build-component.sh && cargo bench -p pkgprotect-host --bench component`

// Benchmark setup may unwrap: bad setup should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{Criterion, criterion_group, criterion_main};
use pkgprotect::{
    AccessLevel, Action, Actor, DecisionRequest, PackageRule, PackageType, Rule, RuleSet, Target, TargetKind, Verdict,
};
use pkgprotect_host::{Policy, Rules};
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
    let rules_json = serde_json::to_string(&rules).unwrap();
    let hit = request("@acme/pkg-24");
    let native = RuleSet::new(rules.clone()).unwrap();
    let mut warm = policy.rule_set(Rules::Typed(&rules)).unwrap();
    assert_eq!(native.decide(&hit).unwrap(), warm.explain(&hit).unwrap());
    assert_eq!(native.summarize(&hit).unwrap(), warm.decide(&hit).unwrap());

    let mut group = c.benchmark_group("decide_50_rules");
    group.bench_function("native_summarize", |b| b.iter(|| native.summarize(black_box(&hit))));
    group.bench_function("native_decide_explained", |b| b.iter(|| native.decide(black_box(&hit))));
    group.bench_function("component_warm_decide", |b| b.iter(|| warm.decide(black_box(&hit))));
    group.bench_function("component_warm_explain", |b| b.iter(|| warm.explain(black_box(&hit))));
    group.bench_function("component_fresh_instance_version", |b| b.iter(|| policy.version()));
    let one_rule = &rules[..1];
    let first = request("@acme/pkg-0");
    assert!(!policy.decide(Rules::Typed(one_rule), &first).unwrap().allowed);
    group.bench_function("component_fresh_instance_one_shot_1_rule", |b| {
        b.iter(|| policy.decide(Rules::Typed(black_box(one_rule)), black_box(&first)))
    });
    assert_eq!(policy.decide(Rules::GitlabJson(&rules_json), &hit).unwrap(), native.summarize(&hit).unwrap());
    group.bench_function("component_fresh_instance_one_shot_50_rules", |b| {
        b.iter(|| policy.decide(Rules::Typed(black_box(&rules)), black_box(&hit)))
    });
    group.bench_function("component_fresh_instance_one_shot_50_rules_json", |b| {
        b.iter(|| policy.decide(Rules::GitlabJson(black_box(&rules_json)), black_box(&hit)))
    });
    group.bench_function("wasmtime_floor_string_call", wasmtime_floor(policy.limits()));
    group.finish();

    let names: Vec<String> = (0..1_000).map(|i| format!("@acme/pkg-{}", i % 60)).collect();
    let batch: Vec<DecisionRequest> = names.iter().map(|name| request(name)).collect();
    let npm = TargetKind::Package(PackageType::Npm);
    let developer = Actor::User { access_level: AccessLevel::Developer };
    let expected: Vec<Verdict> = batch.iter().map(|r| Verdict::of(&native.summarize(r))).collect();
    assert_eq!(warm.decide_batch(&batch).unwrap(), expected);
    assert_eq!(warm.decide_names(npm, &names, Action::Push, developer).unwrap(), expected);
    let summaries: Vec<_> = batch.iter().map(|r| native.summarize(r).ok()).collect();
    let all: Vec<_> = warm.decide_all(&batch).unwrap().into_iter().map(Result::ok).collect();
    assert_eq!(all, summaries);
    let mut group = c.benchmark_group("decide_batch_1000");
    group.bench_function("native_summarize", |b| {
        b.iter(|| batch.iter().map(|r| Verdict::of(&native.summarize(black_box(r)))).collect::<Vec<_>>())
    });
    group.bench_function("component_decide_batch", |b| b.iter(|| warm.decide_batch(black_box(&batch))));
    group.bench_function("component_decide_names", |b| {
        b.iter(|| warm.decide_names(npm, black_box(&names), Action::Push, developer))
    });
    // What a host explaining refusals needs: every refused request's summary. With contract
    // 0.2.0 that took the batch's verdicts and one `decide` per refusal; 0.2.1 has decide-all.
    group.bench_function("component_decide_all", |b| b.iter(|| warm.decide_all(black_box(&batch))));
    group.bench_function("component_decide_batch_then_decide_refused", |b| {
        b.iter(|| {
            let verdicts = warm.decide_batch(black_box(&batch)).unwrap();
            let refused = batch.iter().zip(verdicts).filter(|(_, verdict)| !verdict.allowed());
            refused.map(|(request, _)| warm.decide(request)).collect::<Vec<_>>()
        })
    });
    group.finish();
}

/// A component whose one export returns its string argument, with a bump allocator and a
/// post-return that resets it: what any call passing a name in and a string out costs in
/// wasmtime on this machine, whatever the guest does.
const ECHO_COMPONENT: &str = include_str!("echo.wat");

fn wasmtime_floor(limits: pkgprotect_host::Limits) -> impl FnMut(&mut criterion::Bencher<'_>) {
    let engine = pkgprotect_host::engine(&limits).unwrap();
    let component = wasmtime::component::Component::new(&engine, ECHO_COMPONENT).unwrap();
    let mut store = pkgprotect_host::store(&engine, &limits);
    let instance = wasmtime::component::Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let echo = instance.get_typed_func::<(&str,), (String,)>(&mut store, "echo").unwrap();
    move |b| b.iter(|| echo.call(&mut store, (black_box("@acme/pkg-24"),)).unwrap())
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = component }
criterion_main!(benches);
