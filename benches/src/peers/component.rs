//! pkgprotect's WebAssembly component through the wasmtime host crate: a warm rule-set
//! resource (scalar `decide`), a one-shot `decide(rules, request)` in a fresh instance, and
//! `decide-batch` (one verdict byte per request), `decide-names` (many names, one actor and
//! action), and wasmtime's own floor for a call of this shape.

use crate::workload::Workload;
use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, PackageType, Rule, TargetKind, Verdict};
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

    /// How many of `names` a developer may not push as npm packages, in one `decide-names` call.
    pub fn names(&self, names: &[String]) -> usize {
        let actor = Actor::User { access_level: AccessLevel::Developer };
        let answers = self
            .warm
            .borrow_mut()
            .decide_names(TargetKind::Package(PackageType::Npm), names, Action::Push, actor)
            .unwrap();
        answers.iter().filter(|&&verdict| verdict == Verdict::Blocked).count()
    }

    /// How many of `requests` are blocked, in one `decide-batch` call.
    pub fn batch(&self, requests: &[DecisionRequest]) -> usize {
        let answers = self.warm.borrow_mut().decide_batch(requests).unwrap();
        answers.iter().filter(|&&verdict| verdict == Verdict::Blocked).count()
    }
}

/// A component whose one export returns its string argument, with a bump allocator and a
/// post-return that resets it: what any call passing a name in and a string out costs in
/// wasmtime on this machine, whatever the guest does (the same as the host crate's bench).
const ECHO_COMPONENT: &str = include_str!("../../../crates/pkgprotect-host/benches/echo.wat");

/// wasmtime's floor: one string in, one string out, through the same engine settings.
pub struct Floor {
    store: RefCell<wasmtime::Store<pkgprotect_host::HostState>>,
    echo: wasmtime::component::TypedFunc<(&'static str,), (String,)>,
}

impl Floor {
    pub fn new(policy: &Policy) -> Floor {
        let limits = policy.limits();
        let engine = pkgprotect_host::engine(&limits).unwrap();
        let component = wasmtime::component::Component::new(&engine, ECHO_COMPONENT).unwrap();
        let mut store = pkgprotect_host::store(&engine, &limits);
        let instance = wasmtime::component::Linker::new(&engine).instantiate(&mut store, &component).unwrap();
        let echo = instance.get_typed_func::<(&str,), (String,)>(&mut store, "echo").unwrap();
        Floor { store: RefCell::new(store), echo }
    }

    pub fn call(&self, name: &'static str) -> bool {
        let mut store = self.store.borrow_mut();
        let (echoed,) = self.echo.call(&mut *store, (name,)).unwrap();
        echoed.len() == name.len()
    }
}
