//! The native core against the component on random rules and requests: compiling, validating
//! and every way of deciding (`explain`, the scalar `decide`, the one-shot scan, a batch's
//! verdicts and summaries) must agree. `fuzz/fuzz_targets/native_vs_component.rs` asks the same of
//! coverage-guided inputs in long runs (`scripts/fuzz.sh native_vs_component`).

use crate::policy;
use pkgprotect::{RuleSet, Summary, ValidationContext, Verdict};
use pkgprotect_conformance::strategies::{request, rules_with_ids};
use pkgprotect_host::{HostError, Rules};
use proptest::prelude::*;

fn refusal(error: HostError) -> String {
    match error {
        HostError::CannotDecide(error) => error.message,
        other => panic!("host failure: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn the_component_answers_as_the_native_core(
        rules in rules_with_ids(24),
        requests in proptest::collection::vec(request(), 1..6),
    ) {
        let context = ValidationContext { project_path: Some("group/project"), existing_rules: &[], previous: None };
        for rule in &rules {
            prop_assert_eq!(policy().validate_rule(rule, &context).unwrap(), pkgprotect::validate_rule(rule, &context));
        }
        match (RuleSet::new(rules.clone()), policy().rule_set(Rules::Typed(&rules))) {
            (Ok(native), Ok(mut component)) => {
                let verdicts = component.decide_batch(&requests).unwrap();
                let all = component.decide_all(&requests).unwrap();
                prop_assert_eq!(verdicts.len(), requests.len());
                prop_assert_eq!(all.len(), requests.len());
                for ((request, verdict), each) in requests.iter().zip(verdicts).zip(all) {
                    let ours = native.decide(request).map_err(|e| e.to_string());
                    prop_assert_eq!(&component.explain(request).map_err(refusal), &ours, "explain {:?}", request);
                    let summary = component.decide(request).map_err(refusal);
                    prop_assert_eq!(&summary, &ours.as_ref().map(Summary::of).map_err(Clone::clone), "decide {:?}", request);
                    let one_shot = policy().decide(Rules::Typed(&rules), request).map_err(refusal);
                    prop_assert_eq!(&one_shot, &summary, "one-shot {:?}", request);
                    prop_assert_eq!(verdict, Verdict::of(&summary), "batch {:?}", request);
                    prop_assert_eq!(&each.map_err(|error| error.message), &summary, "decide-all {:?}", request);
                }
            }
            (Err(_), Err(HostError::RulesRefused(_))) => {}
            (native, component) => {
                prop_assert!(false, "compile disagrees: native {:?}, component {:?}", native.err(), component.err());
            }
        }
    }
}
