//! The native core against the component through the host crate, on the same inputs
//! (format: `common/decide_input.rs`): compiling the rules, every decision field (the scalar
//! `decide`, the full `explain`, the one-shot scan, a batch's verdict and summary), and GitLab's
//! validation of each rule must be identical. Needs `target/pkgprotect.wasm`
//! (`scripts/build-component.sh`), or `PKGPROTECT_COMPONENT=path`.
#![no_main]

#[path = "common/decide_input.rs"]
mod decide_input;

use libfuzzer_sys::fuzz_target;
use pkgprotect::{RuleSet, Summary, ValidationContext, Verdict};
use pkgprotect_host::{HostError, Policy, Rules};
use std::sync::OnceLock;

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = std::env::var("PKGPROTECT_COMPONENT").unwrap_or_else(|_| "../target/pkgprotect.wasm".into());
        Policy::load(&path).unwrap_or_else(|e| panic!("{e} (build it: scripts/build-component.sh)"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((rules, request)) = decide_input::parse_case(data) else { return };
    let context = ValidationContext { project_path: Some("group/project"), existing_rules: &[], previous: None };
    for rule in &rules {
        let native = pkgprotect::validate_rule(rule, &context);
        let component = policy().validate_rule(rule, &context).expect("no host failure");
        assert_eq!(component, native, "validate {rule:?}");
    }
    match (RuleSet::new(rules.clone()), policy().rule_set(Rules::Typed(&rules))) {
        (Ok(native), Ok(mut component)) => {
            let refused = |e: HostError| match e {
                HostError::CannotDecide(error) => error.message,
                other => panic!("host failure {other} on {request:?}"),
            };
            let ours = native.decide(&request).map_err(|e| e.to_string());
            let explained = component.explain(&request).map_err(refused);
            assert_eq!(explained, ours, "explain {request:?} rules {rules:?}");
            let summary = component.decide(&request).map_err(refused);
            assert_eq!(summary, ours.as_ref().map(Summary::of).map_err(Clone::clone), "decide {request:?}");
            let one_shot = policy().decide(Rules::Typed(&rules), &request).map_err(refused);
            assert_eq!(one_shot, summary, "one-shot {request:?} rules {rules:?}");
            let verdicts = component.decide_batch(std::slice::from_ref(&request)).expect("no host failure");
            assert_eq!(verdicts, [Verdict::of(&summary)], "batch {request:?}");
            let all = component.decide_all(std::slice::from_ref(&request)).expect("no host failure");
            let all: Vec<_> = all.into_iter().map(|answer| answer.map_err(|error| error.message)).collect();
            assert_eq!(all, [summary], "decide-all {request:?}");
        }
        (Err(_), Err(HostError::RulesRefused(_))) => {}
        (native, component) => panic!("compile disagrees: native {:?}, component {:?}", native.err(), component.err()),
    }
});
