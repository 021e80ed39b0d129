//! `RuleSet::decide` against a scan of every rule (input format: `common/decide_input.rs`).
#![no_main]

#[path = "common/decide_input.rs"]
mod decide_input;

use libfuzzer_sys::fuzz_target;
use pkgprotect::RuleSet;
use pkgprotect_conformance::reference;

fuzz_target!(|data: &[u8]| {
    let Some((rules, request)) = decide_input::parse_case(data) else { return };
    let Ok(set) = RuleSet::new(rules.clone()) else { return };
    let ours = set.decide(&request).map(|d| d.blocking_rule_ids).map_err(|_| ());
    assert_eq!(ours, reference::decide(&rules, &request).map_err(|_| ()), "request {request:?} rules {rules:?}");
});
