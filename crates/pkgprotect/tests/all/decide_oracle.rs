//! `RuleSet::decide` against a naive scan of every rule (`pkgprotect_conformance::reference::decide`).

use pkgprotect::{
    AccessLevel, Action, Actor, ContainerRepositoryRule, DecisionRequest, OneShotError, PackageRule, PackageType, Rule,
    RuleSet, Summary, Target, decision_from_summary,
};
use pkgprotect_conformance::reference;
use proptest::prelude::*;

fn text(alphabet: Vec<char>, len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(prop::sample::select(alphabet), len).prop_map(|c| c.into_iter().collect())
}

fn level() -> impl Strategy<Value = Option<AccessLevel>> {
    prop::sample::select(vec![None, Some(AccessLevel::Maintainer), Some(AccessLevel::Owner), Some(AccessLevel::Admin)])
}

fn rule_strategy() -> impl Strategy<Value = Rule> {
    let pattern = text(vec!['a', 'b', 'B', '*', '*', '-', '_', '.', '\\', 'é'], 1..7);
    let types =
        prop::sample::select(vec![Some(PackageType::Npm), Some(PackageType::Pypi), Some(PackageType::Generic), None]);
    (pattern, types, level(), level()).prop_map(|(pattern, package_type, push, delete)| {
        // Package delete minimums cannot be maintainer in GitLab.
        let delete_for_package = delete.filter(|&l| l != AccessLevel::Maintainer);
        match package_type {
            Some(package_type) => Rule::Package(PackageRule {
                id: None,
                project_id: None,
                package_name_pattern: pattern,
                package_type,
                minimum_access_level_for_push: push,
                minimum_access_level_for_delete: delete_for_package,
            }),
            None => Rule::ContainerRepository(ContainerRepositoryRule {
                id: None,
                project_id: None,
                repository_path_pattern: pattern,
                minimum_access_level_for_push: push,
                minimum_access_level_for_delete: delete,
            }),
        }
    })
}

fn with_id(rule: Rule, id: i64) -> Rule {
    match rule {
        Rule::Package(r) => Rule::Package(PackageRule { id: Some(id), ..r }),
        Rule::ContainerRepository(r) => Rule::ContainerRepository(ContainerRepositoryRule { id: Some(id), ..r }),
    }
}

fn request_strategy() -> impl Strategy<Value = DecisionRequest> {
    let name = text(vec!['a', 'b', 'A', 'B', '-', '_', '.', '\\', 'é', 'É', ' '], 0..9);
    let target =
        prop::sample::select(vec![Some(PackageType::Npm), Some(PackageType::Pypi), Some(PackageType::Generic), None]);
    let actor = prop::sample::select(vec![
        Actor::DeployToken,
        Actor::User { access_level: AccessLevel::Developer },
        Actor::User { access_level: AccessLevel::Maintainer },
        Actor::User { access_level: AccessLevel::Owner },
        Actor::User { access_level: AccessLevel::Admin },
    ]);
    let action = prop::sample::select(vec![Action::Push, Action::Delete]);
    (name, target, actor, action).prop_map(|(name, package_type, actor, action)| DecisionRequest {
        target: match package_type {
            Some(package_type) => Target::Package { name, package_type },
            None => Target::ContainerRepository { path: name },
        },
        action,
        actor,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

    #[test]
    fn decide_agrees_with_a_naive_scan(
        rules in proptest::collection::vec(rule_strategy(), 0..40),
        requests in proptest::collection::vec(request_strategy(), 1..8),
    ) {
        let rules: Vec<Rule> = rules.into_iter().zip(1..).map(|(rule, id)| with_id(rule, id)).collect();
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
        rules in proptest::collection::vec(rule_strategy(), 0..80),
        requests in proptest::collection::vec(request_strategy(), 1..6),
        repeat_id in proptest::option::of(0usize..80),
    ) {
        let mut rules: Vec<Rule> = rules.into_iter().zip(1..).map(|(rule, id)| with_id(rule, id)).collect();
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
