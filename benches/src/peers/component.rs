//! pkgprotect's WebAssembly component through the wasmtime host crate: a warm rule-set
//! resource (scalar `decide`), a one-shot `decide(rules, request)` in a fresh instance, and
//! `decide-batch` (one verdict byte per request).

use crate::workload::Workload;
use pkgprotect::{DecisionRequest, Rule, Verdict};
use pkgprotect_host::{ComponentRuleSet, Policy, Rules};
use std::cell::RefCell;

pub struct Component {
    policy: Policy,
    rules: Vec<Rule>,
    warm: RefCell<ComponentRuleSet>,
}

impl Component {
    pub fn new(policy: &Policy, work: &Workload) -> Component {
        let rules = work.core_rules();
        let warm = RefCell::new(policy.rule_set(Rules::Typed(&rules)).unwrap());
        Component { policy: policy.clone(), rules, warm }
    }

    pub fn warm(&self, request: &DecisionRequest) -> bool {
        !self.warm.borrow_mut().decide(request).unwrap().allowed
    }

    pub fn one_shot(&self, request: &DecisionRequest) -> bool {
        !self.policy.decide(Rules::Typed(&self.rules), request).unwrap().allowed
    }

    /// How many of `requests` are blocked, in one `decide-batch` call.
    pub fn batch(&self, requests: &[DecisionRequest]) -> usize {
        let answers = self.warm.borrow_mut().decide_batch(requests).unwrap();
        answers.iter().filter(|&&verdict| verdict == Verdict::Blocked).count()
    }
}
