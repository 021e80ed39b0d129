//! Where decisions are made: an [`Engine`] compiles a project's rules once; the
//! [`RuleSetCache`] keeps one compiled set per project and replaces it when the project's
//! `rules_version` in the database moves — whichever instance made the change.

use pkgprotect::{Decision, DecisionRequest, Rule, RuleKind, RuleSet};
use std::collections::HashMap;
use pkgprotect_host::{ComponentRuleSet, HostError, Policy};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Compiled rules that answer decisions; shared across request threads.
pub trait CompiledRules: Send + Sync {
    fn decide_batch(&self, requests: &[DecisionRequest]) -> Vec<Result<Decision, String>>;
}

/// A way of compiling rules: the component through the wasmtime host, or the native core.
pub trait Engine: Send + Sync {
    fn name(&self) -> &'static str;
    fn compile(&self, rules: Vec<Rule>) -> Result<Arc<dyn CompiledRules>, String>;
}

/// The core crate, in process: the baseline the component path is measured against.
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeEngine;

struct NativeRules(RuleSet);

impl CompiledRules for NativeRules {
    fn decide_batch(&self, requests: &[DecisionRequest]) -> Vec<Result<Decision, String>> {
        requests.iter().map(|request| self.0.decide(request).map_err(|e| e.to_string())).collect()
    }
}

impl Engine for NativeEngine {
    fn name(&self) -> &'static str {
        "native"
    }

    fn compile(&self, rules: Vec<Rule>) -> Result<Arc<dyn CompiledRules>, String> {
        Ok(Arc::new(NativeRules(RuleSet::new(rules).map_err(|e| e.to_string())?)))
    }
}

/// A compiled rule set and the `rules_version` it was built from.
type Versioned = (i64, Arc<dyn CompiledRules>);

/// The WebAssembly component through the wasmtime host crate: the default engine, so the
/// server decides with the very bytes every other host runs.
#[derive(Debug, Clone)]
pub struct ComponentEngine {
    policy: Policy,
    /// Instances per compiled rule set: requests on different threads do not queue on one.
    instances: usize,
}

impl ComponentEngine {
    pub fn new(policy: Policy) -> Self {
        let instances = std::thread::available_parallelism().map_or(2, |n| n.get());
        ComponentEngine { policy, instances }
    }
}

/// A few instances of one compiled rule set, each behind its own mutex.
struct ComponentRules {
    policy: Policy,
    rules: Vec<Rule>,
    instances: Vec<Mutex<ComponentRuleSet>>,
    next: AtomicUsize,
}

impl ComponentRules {
    fn answer(&self, set: &mut ComponentRuleSet, requests: &[DecisionRequest]) -> Vec<Result<Decision, String>> {
        match set.decide_batch(requests) {
            Ok(answers) => answers,
            Err(error) => {
                // A trapped instance cannot be trusted again: rebuild it, fail this batch closed.
                if let Ok(fresh) = self.policy.rule_set(&self.rules) {
                    *set = fresh;
                }
                requests.iter().map(|_| Err(error.to_string())).collect()
            }
        }
    }
}

impl CompiledRules for ComponentRules {
    fn decide_batch(&self, requests: &[DecisionRequest]) -> Vec<Result<Decision, String>> {
        let count = self.instances.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            if let Some(Ok(mut set)) = self.instances.get((start + offset) % count).map(Mutex::try_lock) {
                return self.answer(&mut set, requests);
            }
        }
        match self.instances.get(start % count) {
            Some(slot) => {
                let mut set = slot.lock().unwrap_or_else(PoisonError::into_inner);
                self.answer(&mut set, requests)
            }
            None => requests.iter().map(|_| Err("no component instance".to_owned())).collect(),
        }
    }
}

impl Engine for ComponentEngine {
    fn name(&self) -> &'static str {
        "component"
    }

    fn compile(&self, rules: Vec<Rule>) -> Result<Arc<dyn CompiledRules>, String> {
        let instances = (0..self.instances)
            .map(|_| self.policy.rule_set(&rules).map(Mutex::new))
            .collect::<Result<Vec<_>, HostError>>()
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(ComponentRules { policy: self.policy.clone(), rules, instances, next: AtomicUsize::new(0) }))
    }
}

/// One compiled rule set per project, tagged with the `rules_version` it was built from.
pub struct RuleSetCache {
    engine: Arc<dyn Engine>,
    sets: Mutex<HashMap<(i64, RuleKind), Versioned>>,
}

impl std::fmt::Debug for RuleSetCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSetCache").field("engine", &self.engine.name()).finish_non_exhaustive()
    }
}

impl RuleSetCache {
    pub fn new(engine: Arc<dyn Engine>) -> Self {
        RuleSetCache { engine, sets: Mutex::new(HashMap::new()) }
    }

    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// The compiled set of a project's rules of `kind` if it was built from `version`.
    /// (Package and container rules have separate id sequences, as in GitLab, so they
    /// compile into separate sets.)
    pub fn get(&self, project_id: i64, kind: RuleKind, version: i64) -> Option<Arc<dyn CompiledRules>> {
        let sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        sets.get(&(project_id, kind)).filter(|(built_from, _)| *built_from == version).map(|(_, set)| Arc::clone(set))
    }

    /// Compile `rules` read at `version` and keep them unless a newer version is already cached.
    pub fn insert(
        &self,
        project_id: i64,
        kind: RuleKind,
        version: i64,
        rules: Vec<Rule>,
    ) -> Result<Arc<dyn CompiledRules>, String> {
        let compiled = self.engine.compile(rules)?;
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        let newer_cached = sets.get(&(project_id, kind)).is_some_and(|(cached, _)| *cached > version);
        if !newer_cached {
            sets.insert((project_id, kind), (version, Arc::clone(&compiled)));
        }
        Ok(compiled)
    }
}
