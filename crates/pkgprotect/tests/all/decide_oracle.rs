//! `RuleSet::decide` against a naive scan of every rule (`pkgprotect_conformance::reference::decide`).

use pkgprotect::{OneShotError, RuleSet, Summary, decision_from_summary};
use pkgprotect_conformance::reference;
use pkgprotect_conformance::strategies::{request as request_strategy, rules_with_ids, with_id};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

    #[test]
    fn decide_agrees_with_a_naive_scan(
        rules in rules_with_ids(40),
        requests in proptest::collection::vec(request_strategy(), 1..8),
    ) {
        let set = RuleSet::new(rules.clone()).unwrap();
        for request in &requests {
            let ours = set.decide(request).map(|d| d.blocking_rule_ids).map_err(|_| ());
            prop_assert_eq!(&ours, &reference::decide(&rules, request).map_err(|_| ()), "request {:?}", request);
            if let Ok(ids) = ours {
                prop_assert_eq!(set.decide(request).unwrap().allowed, ids.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// The one-shot scan (few rules) and the index (many) answer exactly as a compiled set
    /// does — decisions, reasons, errors — and every summary is the summary of the decision.
    #[test]
    fn one_shot_and_summaries_agree_with_the_rule_set(
        rules in rules_with_ids(80),
        requests in proptest::collection::vec(request_strategy(), 1..6),
        repeat_id in proptest::option::of(0usize..80),
    ) {
        let mut rules = rules;
        // Sometimes a repeated id, which both paths must refuse the same way.
        if let Some(at) = repeat_id.filter(|&at| at > 0 && at < rules.len()) {
            rules[at] = with_id(rules[at].clone(), 1);
        }
        let compiled = RuleSet::new(rules.clone());
        for request in &requests {
            let one_shot = RuleSet::decide_once(rules.clone(), request);
            let summary_once = RuleSet::summarize_once(rules.clone(), request);
            match &compiled {
                Err(error) => {
                    prop_assert_eq!(one_shot, Err(OneShotError::Rules(error.clone())));
                    prop_assert_eq!(summary_once, Err(OneShotError::Rules(error.clone())));
                }
                Ok(set) => {
                    let decided = set.decide(request);
                    prop_assert_eq!(&one_shot, &decided.clone().map_err(OneShotError::Decide), "{:?}", request);
                    let summary = set.summarize(request);
                    prop_assert_eq!(&summary, &decided.as_ref().map(Summary::of).map_err(Clone::clone));
                    // A host rebuilding the decision from the summary gets the set's very answer,
                    // and gives up only where the summary cannot name every blocking rule.
                    if let (Ok(decision), Ok(summary)) = (&decided, &summary) {
                        match decision_from_summary(request, *summary, &rules) {
                            Some(rebuilt) => prop_assert_eq!(&rebuilt, decision),
                            None => prop_assert!(decision.blocking_rule_ids.len() > 1, "{:?}", decision),
                        }
                    }
                    prop_assert_eq!(summary_once, summary.map_err(OneShotError::Decide));
                }
            }
        }
    }
}
