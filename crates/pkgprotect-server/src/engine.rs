//! Where decisions are made. An [`Engine`] compiles a project's rules; the [`RuleSetCache`]
//! keeps the compiled rules of the most recently used projects (bounded) and replaces them
//! when the project's `rules_version` in the database moves — whichever instance made the
//! change.
//!
//! The component engine scales with projects, not with instances: a fixed pool of component
//! instances is shared by every project, each instance holds the rule sets of many projects
//! (rule sets are resources), and each keeps its own least-recently-used set of them, bounded
//! by count and by the instance's memory.

use pkgprotect::{Decision, DecisionRequest, Rule, RuleKind, RuleSet, Summary};
use pkgprotect_host::{DecideError, HostError, Instance, Policy, RuleSetHandle, Rules};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Compiled rules that answer decisions; shared across request threads.
pub trait CompiledRules: Send + Sync {
    /// One full answer per request, in order; `Err` (a message for the caller) means refused.
    fn decide_batch(&self, requests: &[DecisionRequest]) -> Vec<Result<Decision, String>>;
}

/// A way of compiling rules: the component through the wasmtime host, or the native core.
pub trait Engine: Send + Sync {
    fn name(&self) -> &'static str;
    fn compile(&self, rules: Vec<Rule>) -> Result<Arc<dyn CompiledRules>, String>;
    /// `(instances, busy)` for an engine with an instance pool (metrics); `None` otherwise.
    fn pool_use(&self) -> Option<(usize, usize)> {
        None
    }
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

/// Sizes of the component engine's pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Component instances shared by every project (default: one per core).
    pub instances: usize,
    /// Most rule sets one instance keeps compiled; the least recently used go first.
    pub rule_sets_per_instance: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            instances: std::thread::available_parallelism().map_or(2, |n| n.get()),
            rule_sets_per_instance: 16_384,
        }
    }
}

/// The WebAssembly component through the wasmtime host crate: the default engine, so the
/// server decides with the very bytes every other host runs.
#[derive(Debug, Clone)]
pub struct ComponentEngine {
    pool: Arc<Pool>,
}

impl ComponentEngine {
    pub fn new(policy: Policy) -> Self {
        Self::with_limits(policy, PoolLimits::default())
    }

    pub fn with_limits(policy: Policy, limits: PoolLimits) -> Self {
        let slots = (0..limits.instances.max(1)).map(|_| Mutex::new(Slot::default())).collect();
        ComponentEngine { pool: Arc::new(Pool { policy, limits, slots, next_set: AtomicU64::new(0) }) }
    }
}

struct Pool {
    policy: Policy,
    limits: PoolLimits,
    slots: Box<[Mutex<Slot>]>,
    next_set: AtomicU64,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// One instance of the pool and the rule sets compiled in it, by compiled-rules id.
#[derive(Default)]
struct Slot {
    instance: Option<Instance>,
    sets: HashMap<u64, (RuleSetHandle, u64)>,
    /// Ticks on every use; the smallest tick is the least recently used set.
    clock: u64,
    /// Ids of compiled rules dropped by the cache, whose handles this slot still holds.
    dead: Vec<u64>,
    /// How many sets fit in the memory budget, learnt when a compile grew the instance's
    /// memory past it; `None` until then. Linear memory never shrinks, so the memory size
    /// cannot say when to stop evicting: once it has crossed the budget it stays above, and
    /// evicting on every compile after that empties the instance again and again. The set
    /// count it took to get there can: freed sets' memory is reused by the next compiles.
    room: Option<usize>,
}

impl Slot {
    /// The instance, made anew when there is none or the last one trapped.
    fn instance(&mut self, policy: &Policy) -> Result<&mut Instance, HostError> {
        if self.instance.as_ref().is_none_or(Instance::is_unusable) {
            // Handles of a dropped instance die with it, and a new one starts with no memory used.
            self.sets.clear();
            self.room = None;
            self.instance = Some(policy.instance()?);
        }
        self.instance.as_mut().ok_or(HostError::InstanceUnusable)
    }

    /// Free the guest memory of rule sets the cache no longer holds.
    fn collect_dead(&mut self) {
        for id in std::mem::take(&mut self.dead) {
            if let (Some((handle, _)), Some(instance)) = (self.sets.remove(&id), self.instance.as_mut()) {
                // A failed drop makes the instance unusable; the next use replaces it.
                let _ = instance.drop_rule_set(handle);
            }
        }
    }

    /// Drop the least recently used eighth of the sets (at least one): enough that the next
    /// many compiles reuse their memory, few enough that the sets in use stay.
    fn evict(&mut self) {
        let mut by_age: Vec<(u64, u64)> = self.sets.iter().map(|(&id, &(_, used))| (used, id)).collect();
        let count = by_age.len().div_ceil(8);
        if count < by_age.len() {
            by_age.select_nth_unstable(count);
        }
        for (_, id) in by_age.into_iter().take(count) {
            if let (Some((handle, _)), Some(instance)) = (self.sets.remove(&id), self.instance.as_mut()) {
                let _ = instance.drop_rule_set(handle);
            }
        }
    }
}

/// One project's rules: compiled lazily in whichever pool instance answers for them.
struct ComponentRules {
    pool: Arc<Pool>,
    id: u64,
    rules: Vec<Rule>,
}

impl Drop for ComponentRules {
    fn drop(&mut self) {
        for slot in self.pool.slots.iter() {
            slot.lock().unwrap_or_else(PoisonError::into_inner).dead.push(self.id);
        }
    }
}

impl ComponentRules {
    /// The slot to decide in: the set's home instance if free, else the first free one after
    /// it, else wait for the home instance.
    fn slot(&self) -> Result<std::sync::MutexGuard<'_, Slot>, HostError> {
        let slots = &self.pool.slots;
        // Start at this set's home instance, where it is most likely compiled already: with many
        // projects, each instance then holds about its share of the sets instead of all of them.
        let start = usize::try_from(self.id).unwrap_or_default() % slots.len().max(1);
        for offset in 0..slots.len() {
            if let Some(Ok(slot)) = slots.get((start + offset) % slots.len()).map(Mutex::try_lock) {
                return Ok(slot);
            }
        }
        let slot = slots.get(start % slots.len().max(1)).ok_or(HostError::InstanceUnusable)?;
        Ok(slot.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The memory a slot's sets may grow its instance to: three quarters of the cap, so that
    /// a compile started just below it still fits.
    fn memory_budget(&self) -> usize {
        self.pool.policy.limits().memory_bytes / 4 * 3
    }

    fn decide_in(
        &self,
        slot: &mut Slot,
        requests: &[DecisionRequest],
    ) -> Result<Vec<Result<Summary, DecideError>>, HostError> {
        slot.collect_dead();
        slot.clock += 1;
        let tick = slot.clock;
        if let Some((_, used)) = slot.sets.get_mut(&self.id) {
            *used = tick;
        } else {
            let room = slot.room.unwrap_or(usize::MAX).min(self.pool.limits.rule_sets_per_instance);
            if slot.sets.len() >= room {
                slot.evict();
            }
            let instance = slot.instance(&self.pool.policy)?;
            let before = instance.memory_bytes();
            let handle = instance.compile(Rules::Typed(&self.rules))?;
            let after = instance.memory_bytes();
            slot.sets.insert(self.id, (handle, tick));
            if after > before && after > self.memory_budget() {
                slot.room = Some(slot.sets.len().min(slot.room.unwrap_or(usize::MAX)));
            }
        }
        let (handle, _) = slot.sets.get(&self.id).ok_or(HostError::ForeignRuleSet)?;
        let instance = slot.instance.as_mut().ok_or(HostError::InstanceUnusable)?;
        instance.decide_all(handle, requests)
    }

    /// The full answers from the summaries: a refusal by one rule is rebuilt by the core from
    /// its summary; the component explains only refusals by several rules.
    fn explain_refusals(
        &self,
        slot: &mut Slot,
        requests: &[DecisionRequest],
        summaries: Vec<Result<Summary, DecideError>>,
    ) -> Vec<Result<Decision, String>> {
        let Some((handle, _)) = slot.sets.get(&self.id) else {
            return requests.iter().map(|_| Err("the rule set was evicted while deciding".to_owned())).collect();
        };
        let Some(instance) = slot.instance.as_mut() else {
            return requests.iter().map(|_| Err("no component instance".to_owned())).collect();
        };
        requests
            .iter()
            .zip(summaries)
            .map(|(request, summary)| {
                let summary = summary.map_err(|error| error.to_string())?;
                if summary.allowed {
                    // On doubt, refuse: an allow never names a blocking rule.
                    if summary.blocking_rules != 0 || summary.first_blocking_rule.is_some() {
                        return Err("the component allowed a request it says rules block".into());
                    }
                    return Ok(pkgprotect::allowed_decision(request));
                }
                let decision = match pkgprotect::decision_from_summary(request, summary, &self.rules) {
                    Some(decision) => decision,
                    None => instance.explain(handle, request).map_err(|error| error.to_string())?,
                };
                // On doubt, refuse: the engine contradicted its own summary.
                if decision.allowed {
                    return Err("the component allowed a request its summary refused".into());
                }
                Ok(decision)
            })
            .collect()
    }
}

impl CompiledRules for ComponentRules {
    fn decide_batch(&self, requests: &[DecisionRequest]) -> Vec<Result<Decision, String>> {
        let answer = self.slot().and_then(|mut slot| {
            let summaries = self.decide_in(&mut slot, requests)?;
            Ok((slot, summaries))
        });
        match answer {
            Ok((mut slot, summaries)) if summaries.len() == requests.len() => {
                self.explain_refusals(&mut slot, requests, summaries)
            }
            Ok(_) => {
                requests.iter().map(|_| Err("the component answered a different number of requests".into())).collect()
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "component decision failed; refusing the batch");
                requests.iter().map(|_| Err(error.to_string())).collect()
            }
        }
    }
}

/// `error` with its sources, for logs.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Engine for ComponentEngine {
    fn name(&self) -> &'static str {
        "component"
    }

    /// Checks the rules by compiling them once in a pool instance (so a rule set the
    /// component refuses or cannot hold is refused here, not at decision time), then keeps
    /// them for lazy compilation in whichever instance decides.
    fn compile(&self, rules: Vec<Rule>) -> Result<Arc<dyn CompiledRules>, String> {
        let id = self.pool.next_set.fetch_add(1, Ordering::Relaxed);
        let compiled = ComponentRules { pool: Arc::clone(&self.pool), id, rules };
        let mut slot = compiled.slot().map_err(|error| error.to_string())?;
        compiled.decide_in(&mut slot, &[]).map_err(|error| error.to_string())?;
        drop(slot);
        Ok(Arc::new(compiled))
    }

    fn pool_use(&self) -> Option<(usize, usize)> {
        // A slot that cannot be locked now is deciding or compiling.
        let busy = self.pool.slots.iter().filter(|slot| slot.try_lock().is_err()).count();
        Some((self.pool.slots.len(), busy))
    }
}

/// A compiled rule set and the `rules_version` it was built from, with its last use.
struct Cached {
    version: i64,
    set: Arc<dyn CompiledRules>,
    used: u64,
}

/// The compiled rules of the most recently used projects, at most `capacity` sets, each
/// tagged with the `rules_version` it was built from.
pub struct RuleSetCache {
    engine: Arc<dyn Engine>,
    capacity: usize,
    sets: Mutex<Lru>,
    /// One lock per (project, kind) being compiled, so concurrent misses compile it once;
    /// an entry lives only while someone holds or waits for it.
    compiling: Mutex<HashMap<(i64, RuleKind), CompileLock>>,
}

type CompileLock = Arc<tokio::sync::Mutex<()>>;

/// The right to compile one project's rules of one kind: while held, other requests for the
/// same key wait, then find the set in the cache.
#[derive(Debug)]
pub struct CompileTurn<'a> {
    cache: &'a RuleSetCache,
    key: (i64, RuleKind),
    lock: CompileLock,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for CompileTurn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut compiling = self.cache.compiling.lock().unwrap_or_else(PoisonError::into_inner);
        // The map's and this turn's references only: nobody waits, so the entry goes.
        let idle = compiling.get(&self.key).is_some_and(|lock| Arc::ptr_eq(lock, &self.lock))
            && Arc::strong_count(&self.lock) == 2;
        if idle {
            compiling.remove(&self.key);
        }
    }
}

/// The cached sets by (project, kind), and the clock their last uses are stamped with.
type Lru = (HashMap<(i64, RuleKind), Cached>, u64);

impl std::fmt::Debug for RuleSetCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSetCache").field("engine", &self.engine.name()).finish_non_exhaustive()
    }
}

/// Default bound of [`RuleSetCache`]: two rule kinds for 25,000 projects.
pub const DEFAULT_CACHED_RULE_SETS: usize = 50_000;

impl RuleSetCache {
    pub fn new(engine: Arc<dyn Engine>) -> Self {
        Self::with_capacity(engine, DEFAULT_CACHED_RULE_SETS)
    }

    pub fn with_capacity(engine: Arc<dyn Engine>, capacity: usize) -> Self {
        RuleSetCache {
            engine,
            capacity: capacity.max(1),
            sets: Mutex::new((HashMap::new(), 0)),
            compiling: Mutex::new(HashMap::new()),
        }
    }

    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// Wait for the turn to compile `project_id`'s rules of `kind` (then check the cache
    /// again: the previous holder may have compiled the same version).
    pub async fn compile_turn(&self, project_id: i64, kind: RuleKind) -> CompileTurn<'_> {
        let key = (project_id, kind);
        let lock = Arc::clone(
            self.compiling
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(key)
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(()))),
        );
        let guard = Arc::clone(&lock).lock_owned().await;
        CompileTurn { cache: self, key, lock, guard: Some(guard) }
    }

    /// Whether `rules` compile within the engine's limits, without caching them: the check a
    /// write makes before it stores a rule set the engine could not hold.
    pub fn check(&self, rules: Vec<Rule>) -> Result<(), String> {
        self.engine.compile(rules).map(drop)
    }

    /// The engine's instance pool: `(instances, busy)`, if it has one.
    pub fn engine_pool_use(&self) -> Option<(usize, usize)> {
        self.engine.pool_use()
    }

    /// Whether the engine compiles and decides: an empty rule set, compiled and not kept.
    pub fn engine_ready(&self) -> Result<(), String> {
        let set = self.engine.compile(Vec::new())?;
        let answers = set.decide_batch(&[]);
        if answers.is_empty() { Ok(()) } else { Err("the engine answered requests it was not asked".into()) }
    }

    /// How many compiled sets the cache holds.
    pub fn len(&self) -> usize {
        self.sets.lock().unwrap_or_else(PoisonError::into_inner).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The compiled set of a project's rules of `kind` if it was built from `version`.
    /// (Package and container rules have separate id sequences, as in GitLab, so they
    /// compile into separate sets.)
    pub fn get(&self, project_id: i64, kind: RuleKind, version: i64) -> Option<Arc<dyn CompiledRules>> {
        let mut guard = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        let (sets, clock) = &mut *guard;
        *clock += 1;
        let cached = sets.get_mut(&(project_id, kind)).filter(|cached| cached.version == version)?;
        cached.used = *clock;
        Some(Arc::clone(&cached.set))
    }

    /// Compile `rules` read at `version` and keep them unless a newer version is already
    /// cached. Compiling is slow work: call this off the async runtime.
    pub fn insert(
        &self,
        project_id: i64,
        kind: RuleKind,
        version: i64,
        rules: Vec<Rule>,
    ) -> Result<Arc<dyn CompiledRules>, String> {
        let compiled = self.engine.compile(rules)?;
        let mut guard = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        let (sets, clock) = &mut *guard;
        *clock += 1;
        let newer_cached = sets.get(&(project_id, kind)).is_some_and(|cached| cached.version > version);
        if !newer_cached {
            if sets.len() >= self.capacity && !sets.contains_key(&(project_id, kind)) {
                evict_oldest_tenth(sets);
            }
            sets.insert((project_id, kind), Cached { version, set: Arc::clone(&compiled), used: *clock });
        }
        Ok(compiled)
    }
}

/// Drop the least recently used tenth (at least one), so eviction runs once per many inserts.
fn evict_oldest_tenth(sets: &mut HashMap<(i64, RuleKind), Cached>) {
    let mut by_age: Vec<(u64, (i64, RuleKind))> = sets.iter().map(|(&key, cached)| (cached.used, key)).collect();
    by_age.sort_unstable_by_key(|&(used, _)| used);
    let count = by_age.len().div_ceil(10);
    for (_, key) in by_age.into_iter().take(count) {
        sets.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkgprotect::{AccessLevel, Action, Actor, PackageRule, PackageType, Target};

    fn policy(memory_bytes: usize) -> Policy {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pkgprotect.wasm");
        let limits = pkgprotect_host::Limits { memory_bytes, ..Default::default() };
        Policy::load_with(&path, limits).expect("target/pkgprotect.wasm (scripts/build-component.sh)")
    }

    /// Five npm rules of project `i`, the shapes `bench/projects.sh` stores.
    fn project_rules(i: i64) -> Vec<Rule> {
        [format!("@p{i}/core"), format!("@p{i}/lib-*"), "*-tool".into(), format!("*core{i}*"), "@internal/*".into()]
            .into_iter()
            .zip(1..)
            .map(|(pattern, n)| {
                Rule::Package(PackageRule {
                    id: Some(i * 10 + n),
                    project_id: Some(i),
                    package_name_pattern: pattern,
                    package_type: PackageType::Npm,
                    minimum_access_level_for_push: Some(AccessLevel::Maintainer),
                    minimum_access_level_for_delete: None,
                })
            })
            .collect()
    }

    fn push(i: i64) -> DecisionRequest {
        DecisionRequest {
            target: Target::Package { name: format!("@p{i}/lib-x"), package_type: PackageType::Npm },
            action: Action::Push,
            actor: Actor::User { access_level: AccessLevel::Developer },
        }
    }

    /// An instance's memory never shrinks, so once it has grown past the budget the memory
    /// size cannot tell the pool to stop evicting: it learns how many sets fit instead. More
    /// projects than fit then keep the instance nearly full, every answer right, and the
    /// instance alive — rather than emptied by a quarter on every compile.
    #[test]
    fn a_full_instance_keeps_as_many_sets_as_fit() {
        let cap = 4 << 20;
        let engine =
            ComponentEngine::with_limits(policy(cap), PoolLimits { instances: 1, rule_sets_per_instance: 1 << 20 });
        let projects: Vec<Arc<dyn CompiledRules>> =
            (0..1200).map(|i| engine.compile(project_rules(i)).expect("compiles")).collect();
        let room = {
            let slot = engine.pool.slots[0].lock().unwrap();
            let room = slot.room.expect("1,200 sets outgrow 3 MiB: the slot learnt how many fit");
            assert!((50..1200).contains(&room), "room {room}");
            assert!(slot.sets.len() <= room && slot.sets.len() >= room - room / 8 - 1, "{} of {room}", slot.sets.len());
            assert!(slot.instance.as_ref().is_some_and(|i| !i.is_unusable() && i.memory_bytes() <= cap));
            room
        };
        // Every project again, in turn: each a miss for most, all answered, the set count
        // staying within an eighth of what fits.
        for (i, rules) in projects.iter().enumerate() {
            let answers = rules.decide_batch(&[push(i as i64)]);
            let decision = answers[0].as_ref().expect("decided");
            assert_eq!(decision.blocking_rule_ids, [i as i64 * 10 + 2]);
            let slot = engine.pool.slots[0].lock().unwrap();
            let (held, now) = (slot.sets.len(), slot.room.unwrap());
            assert!(now >= room / 2, "after project {i}: room fell from {room} to {now}");
            assert!(held <= now && held >= now - now / 8 - 1, "after project {i}: {held} sets of {now}");
        }
        let slot = engine.pool.slots[0].lock().unwrap();
        assert!(slot.instance.as_ref().is_some_and(|i| !i.is_unusable() && i.memory_bytes() <= cap));
    }
}
