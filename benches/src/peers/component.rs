//! pkgprotect's WebAssembly component through the wasmtime host crate: a warm rule-set
//! resource, a one-shot `decide(rules, request)` in a fresh instance, and `decide-batch`.

use crate::workload::Workload;
use pkgprotect::{DecisionRequest, Rule};
use pkgprotect_host::{ComponentRuleSet, Policy};
use std::cell::RefCell;

pub struct Component {
    policy: Policy,
    rules: Vec<Rule>,
    warm: RefCell<ComponentRuleSet>,
}

impl Component {
    pub fn new(policy: &Policy, work: &Workload) -> Component {
        let rules = work.core_rules();
        let warm = RefCell::new(policy.rule_set(&rules).unwrap());
        Component { policy: policy.clone(), rules, warm }
    }

    pub fn warm(&self, request: &DecisionRequest) -> bool {
        !self.warm.borrow_mut().decide(request).unwrap().allowed
    }

    pub fn one_shot(&self, request: &DecisionRequest) -> bool {
        !self.policy.decide(&self.rules, request).unwrap().allowed
    }

    /// How many of `requests` are blocked, in one `decide-batch` call.
    pub fn batch(&self, requests: &[DecisionRequest]) -> usize {
        let answers = self.warm.borrow_mut().decide_batch(requests).unwrap();
        answers.iter().filter(|a| a.as_ref().is_ok_and(|d| !d.allowed)).count()
    }
}
