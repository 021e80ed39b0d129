//! Embeds the pkgprotect WebAssembly component (contract `pkgprotect:policy@0.2.1`) in Rust
//! programs: wasmtime configured once, the component compiled once and pre-instantiated,
//! resource limits on by default, and a typed API over the core's own types.
//!
//! ```no_run
//! use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, PackageType, Rule, Target};
//! use pkgprotect_host::{Policy, Rules};
//!
//! let policy = Policy::load("target/pkgprotect.wasm")?;
//! let rules: Vec<Rule> = serde_json::from_str(r#"[{"id": 1, "package_name_pattern": "@demo/*",
//!     "package_type": "npm", "minimum_access_level_for_push": "maintainer"}]"#)?;
//! let mut instance = policy.instance()?;
//! let rule_set = instance.compile(Rules::Typed(&rules))?;
//! let request = DecisionRequest {
//!     target: Target::Package { name: "@demo/core".into(), package_type: PackageType::Npm },
//!     action: Action::Push,
//!     actor: Actor::User { access_level: AccessLevel::Developer },
//! };
//! let decision = instance.decide(&rule_set, &request)?;        // scalars: nothing allocated
//! assert!(!decision.allowed);
//! let why = instance.explain(&rule_set, &request)?;            // every blocking id, the reason
//! assert_eq!(why.blocking_rule_ids, [1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Threads: a [`Policy`] is `Send + Sync` and cheap to clone — share one. Its own methods
//! run each call in a fresh instance (pooling allocator and copy-on-write memory make that a
//! few microseconds). An [`Instance`] owns a store: it is `Send`, not `Sync`, and holds any
//! number of compiled rule sets and name lists; give each worker its own, or keep a pool.

pub mod conformance;
mod convert;
mod error;

pub use error::{CompileCause, CompileError, DecideCause, DecideError, HostError};

// wasmtime's bindgen! emits no unsafe code for exports; the module only holds the
// generated types and call glue.
mod bindings {
    wasmtime::component::bindgen!({ world: "policy", path: "wit" });
}

use bindings::exports::pkgprotect::policy::{api, engine as engine_iface};
use pkgprotect::{
    Action, Actor, Decision, DecisionRequest, Finding, OffsetUnit, Preview, Rejection, Rule, RuleKind, Summary,
    TargetKind, ValidationContext, Verdict,
};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use wasmtime::component::{Component, InstancePre, Linker, ResourceAny};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store};

/// The contract this crate speaks; a component exporting another version is refused at load.
pub const CONTRACT_VERSION: &str = "0.2.1";

/// The contract's WIT text, for hosts that type values themselves (e.g. WAVE parsing).
pub const WIT: &str = include_str!("../wit/policy.wit");

/// Rules to compile: typed, or GitLab's REST JSON (an array of rule objects as GitLab's list
/// endpoints answer them), parsed by the core inside the component.
#[derive(Debug, Clone, Copy)]
pub enum Rules<'a> {
    Typed(&'a [Rule]),
    GitlabJson(&'a str),
}

/// Guest limits. On by default: a bad or hostile component yields an error, not a hung host.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest linear memory an instance may grow to.
    pub memory_bytes: usize,
    /// Longest a single call may run.
    pub deadline: Duration,
    /// Most instances alive at once (the pooling allocator reserves their slots up front).
    pub max_instances: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory_bytes: 64 << 20, deadline: Duration::from_secs(1), max_instances: 512 }
    }
}

/// Epoch ticks are this long; deadlines are whole numbers of them.
const TICK: Duration = Duration::from_millis(10);

/// What a store holds besides the instance: its memory cap, and how far memory has grown.
#[derive(Debug)]
pub struct HostState {
    memory_cap: usize,
    memory_bytes: usize,
}

impl ResourceLimiter for HostState {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_cap;
        if allowed {
            self.memory_bytes = self.memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    // The component has one core instance, one memory and one table; a few more leave room
    // for its adapter shims without letting a hostile component multiply them.
    fn instances(&self) -> usize {
        8
    }

    fn memories(&self) -> usize {
        8
    }

    fn tables(&self) -> usize {
        8
    }
}

/// Far beyond the component's own table (tens of functions).
const MAX_TABLE_ELEMENTS: usize = 10_000;

struct Inner {
    engine: Engine,
    pre: InstancePre<HostState>,
    // Per interface, so a call type-checks only the functions of the interface it uses
    // (type-checking every export was a fifth of a fresh instance's cost).
    api: api::GuestIndices,
    engine_exports: engine_iface::GuestIndices,
    limits: Limits,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The component, compiled once and pre-instantiated. Clone freely; share across threads.
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy").field("limits", &self.inner.limits).finish_non_exhaustive()
    }
}

/// The engine configuration every host uses: epoch interruption for deadlines, the pooling
/// allocator with copy-on-write memory images for fast instantiation.
pub fn engine(limits: &Limits) -> Result<Engine, HostError> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let mut pooling = PoolingAllocationConfig::default();
    pooling.total_component_instances(limits.max_instances);
    pooling.total_core_instances(limits.max_instances);
    pooling.total_memories(limits.max_instances);
    pooling.total_tables(limits.max_instances);
    pooling.max_memory_size(limits.memory_bytes);
    // Reset a reused slot by zeroing the pages a call dirtied rather than by `madvise`, for
    // the whole memory a fresh instance starts with (128 KiB stack, data, 192 KiB heap arena:
    // six pages; see the component's build.rs and allocator.rs). No system call, no TLB
    // shootdown, no refault: a fresh instance measured 23 µs with madvise, 9.5 µs without.
    pooling.linear_memory_keep_resident(512 << 10);
    pooling.table_keep_resident(16 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config).map_err(HostError::Compile)
}

/// Start the thread that advances the engine's epoch every [`TICK`] until `stop` is set.
fn start_ticker(engine: &Engine) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let (engine, flag) = (engine.clone(), Arc::clone(&stop));
    std::thread::Builder::new()
        .name("pkgprotect-epoch".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        })
        .ok();
    stop
}

/// A store with the memory cap and the call deadline armed.
pub fn store(engine: &Engine, limits: &Limits) -> Store<HostState> {
    let mut store = Store::new(engine, HostState { memory_cap: limits.memory_bytes, memory_bytes: 0 });
    store.limiter(|state| state as &mut dyn ResourceLimiter);
    arm(&mut store, limits);
    store
}

fn arm(store: &mut Store<HostState>, limits: &Limits) {
    let ticks = (limits.deadline.as_millis() / TICK.as_millis()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();
}

/// A trap, told apart: the deadline, or anything else (its chain kept).
pub fn trap_error(error: wasmtime::Error, limits: &Limits) -> HostError {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => HostError::Timeout(limits.deadline),
        _ => HostError::Trap(error),
    }
}

impl Policy {
    /// Load `pkgprotect.wasm` with default limits.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HostError> {
        Self::load_with(path, Limits::default())
    }

    pub fn load_with(path: impl AsRef<Path>, limits: Limits) -> Result<Self, HostError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| HostError::Read { path: path.to_owned(), source })?;
        Self::from_bytes(&bytes, limits)
    }

    /// Compile the component from its bytes and check that it speaks [`CONTRACT_VERSION`].
    pub fn from_bytes(bytes: &[u8], limits: Limits) -> Result<Self, HostError> {
        let engine = engine(&limits)?;
        let component = Component::new(&engine, bytes).map_err(HostError::Compile)?;
        let linker: Linker<HostState> = Linker::new(&engine);
        let pre = linker.instantiate_pre(&component).map_err(HostError::Instantiate)?;
        let api = api::GuestIndices::new(&pre).map_err(HostError::Instantiate)?;
        let engine_exports = engine_iface::GuestIndices::new(&pre).map_err(HostError::Instantiate)?;
        let ticker_stop = start_ticker(&engine);
        let policy = Policy { inner: Arc::new(Inner { engine, pre, api, engine_exports, limits, ticker_stop }) };
        let found = policy.version()?;
        if found != CONTRACT_VERSION {
            return Err(HostError::ContractMismatch { found, expected: CONTRACT_VERSION });
        }
        Ok(policy)
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The wasmtime engine, for hosts that configure more stores of their own.
    pub fn wasmtime_engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// A new instance, to hold compiled rule sets and name lists.
    pub fn instance(&self) -> Result<Instance, HostError> {
        let mut store = store(&self.inner.engine, &self.inner.limits);
        let instance = self.inner.pre.instantiate(&mut store).map_err(HostError::Instantiate)?;
        let exports = self.inner.engine_exports.load(&mut store, &instance).map_err(HostError::Instantiate)?;
        let api = self.inner.api.load(&mut store, &instance).map_err(HostError::Instantiate)?;
        Ok(Instance {
            store,
            instance,
            exports,
            api,
            limits: self.inner.limits,
            trapped: false,
            id: NEXT_INSTANCE_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// A fresh instance and the `api` interface only (one-shot calls).
    fn api(&self) -> Result<(Store<HostState>, api::Guest), HostError> {
        let mut store = store(&self.inner.engine, &self.inner.limits);
        let instance = self.inner.pre.instantiate(&mut store).map_err(HostError::Instantiate)?;
        let api = self.inner.api.load(&mut store, &instance).map_err(HostError::Instantiate)?;
        Ok((store, api))
    }

    fn trap(&self, error: wasmtime::Error) -> HostError {
        trap_error(error, &self.inner.limits)
    }

    /// The contract version the component implements (`0.2.1`).
    pub fn version(&self) -> Result<String, HostError> {
        let (mut store, api) = self.api()?;
        api.call_version(&mut store).map_err(|e| self.trap(e))
    }

    /// The core engine's version inside the component.
    pub fn engine_version(&self) -> Result<String, HostError> {
        let (mut store, api) = self.api()?;
        api.call_engine_version(&mut store).map_err(|e| self.trap(e))
    }

    /// GitLab's validation of a typed rule (`Ok(Err(_))`: GitLab refuses it).
    pub fn validate_rule(
        &self,
        rule: &Rule,
        context: &ValidationContext<'_>,
    ) -> Result<Result<(), Rejection>, HostError> {
        let (mut store, api) = self.api()?;
        let answer = api
            .call_validate_rule(&mut store, &convert::wit_rule(rule), &convert::wit_context(context))
            .map_err(|e| self.trap(e))?;
        Ok(answer.map_err(convert::core_rejection))
    }

    /// GitLab's REST parameter layer and validation: the rule `params_json` would create
    /// (or, with `context.previous`, update it into).
    pub fn validate_params(
        &self,
        kind: RuleKind,
        params_json: &str,
        context: &ValidationContext<'_>,
    ) -> Result<Result<Rule, Rejection>, HostError> {
        let (mut store, api) = self.api()?;
        let answer = api
            .call_validate_params(&mut store, convert::wit_kind(kind), params_json, &convert::wit_context(context))
            .map_err(|e| self.trap(e))?;
        Ok(answer.map(convert::core_rule).map_err(convert::core_rejection))
    }

    /// One-shot decision in a fresh instance (few rules are scanned, not indexed).
    pub fn decide(&self, rules: Rules<'_>, request: &DecisionRequest) -> Result<Summary, HostError> {
        let (mut store, api) = self.api()?;
        api.call_decide(&mut store, &convert::wit_source(rules), &convert::wit_request(request))
            .map_err(|e| self.trap(e))?
            .map(convert::core_summary)
            .map_err(one_shot_error)
    }

    /// One-shot explanation: every blocking rule and the reason.
    pub fn explain(&self, rules: Rules<'_>, request: &DecisionRequest) -> Result<Decision, HostError> {
        let (mut store, api) = self.api()?;
        api.call_explain(&mut store, &convert::wit_source(rules), &convert::wit_request(request))
            .map_err(|e| self.trap(e))?
            .map(convert::core_decision)
            .map_err(one_shot_error)
    }

    /// Which `names` `pattern` matches as a rule for targets of `kind` would.
    pub fn preview(
        &self,
        pattern: &str,
        kind: TargetKind,
        names: &[String],
        unit: OffsetUnit,
    ) -> Result<Preview, HostError> {
        let (mut store, api) = self.api()?;
        let preview = api
            .call_preview(&mut store, pattern, convert::wit_target_kind(kind), names, convert::wit_offset_unit(unit))
            .map_err(|e| self.trap(e))?;
        Ok(convert::core_preview(preview))
    }

    /// Compile `rules` into a rule set with an instance of its own.
    pub fn rule_set(&self, rules: Rules<'_>) -> Result<ComponentRuleSet, HostError> {
        let mut instance = self.instance()?;
        let handle = instance.compile(rules)?;
        Ok(ComponentRuleSet { instance, handle })
    }
}

fn one_shot_error(error: api::OneShotError) -> HostError {
    match error {
        api::OneShotError::RulesRefused(error) => HostError::RulesRefused(convert::compile_error(error)),
        api::OneShotError::CannotDecide(error) => HostError::CannotDecide(convert::decide_error(error)),
    }
}

static NEXT_INSTANCE_ID: AtomicU64 = AtomicU64::new(0);

/// One component instance: any number of compiled rule sets and name lists live in it.
/// `Send`, not `Sync`. After a trap it refuses every call ([`HostError::InstanceUnusable`]):
/// drop it and make another.
pub struct Instance {
    store: Store<HostState>,
    /// For exports beyond the contract ([`Instance::call_export`]).
    instance: wasmtime::component::Instance,
    exports: engine_iface::Guest,
    api: api::Guest,
    limits: Limits,
    trapped: bool,
    id: u64,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").field("id", &self.id).field("trapped", &self.trapped).finish_non_exhaustive()
    }
}

/// A compiled rule set inside one [`Instance`]; pass it back to that instance's methods.
/// Dropping the handle does not free the guest's memory: call [`Instance::drop_rule_set`].
#[derive(Debug)]
pub struct RuleSetHandle {
    resource: ResourceAny,
    instance: u64,
}

/// A name list inside one [`Instance`].
#[derive(Debug)]
pub struct NameListHandle {
    resource: ResourceAny,
    instance: u64,
}

impl Instance {
    /// Run `call` with the deadline re-armed; a trap makes the instance unusable.
    fn call<R>(
        &mut self,
        call: impl FnOnce(&engine_iface::Guest, &api::Guest, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        if self.trapped {
            return Err(HostError::InstanceUnusable);
        }
        arm(&mut self.store, &self.limits);
        call(&self.exports, &self.api, &mut self.store).map_err(|error| {
            self.trapped = true;
            trap_error(error, &self.limits)
        })
    }

    fn own(&self, handle: &RuleSetHandle) -> Result<ResourceAny, HostError> {
        if handle.instance == self.id { Ok(handle.resource) } else { Err(HostError::ForeignRuleSet) }
    }

    /// Call exports beyond the contract in this instance, through wasmtime's own API: `call`
    /// gets the store and the component instance, e.g. to look up and call the
    /// `pkgprotect:fault/faults` interface of the test-only fault-injection build (see
    /// pkgprotect-component's README). The deadline is armed and a trap makes the instance
    /// unusable, as for every other call.
    pub fn call_export<R>(
        &mut self,
        call: impl FnOnce(&mut Store<HostState>, wasmtime::component::Instance) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let instance = self.instance;
        self.call(|_, _, store| call(store, instance))
    }

    /// Whether an earlier call trapped (every call now fails).
    pub fn is_unusable(&self) -> bool {
        self.trapped
    }

    /// Bytes of linear memory the instance has grown to (it never shrinks; freed rule sets'
    /// memory is reused by later ones).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().memory_bytes
    }

    /// Compile `rules` into a rule set living in this instance.
    pub fn compile(&mut self, rules: Rules<'_>) -> Result<RuleSetHandle, HostError> {
        let source = convert::wit_source(rules);
        let resource = self
            .call(|exports, _, store| exports.rule_set().call_compile(store, &source))?
            .map_err(|error| HostError::RulesRefused(convert::compile_error(error)))?;
        Ok(RuleSetHandle { resource, instance: self.id })
    }

    /// Free a rule set's memory in the guest.
    pub fn drop_rule_set(&mut self, handle: RuleSetHandle) -> Result<(), HostError> {
        let resource = self.own(&handle)?;
        self.call(|_, _, store| resource.resource_drop(store))
    }

    /// How many rules the set holds.
    pub fn len(&mut self, set: &RuleSetHandle) -> Result<u32, HostError> {
        let resource = self.own(set)?;
        self.call(|exports, _, store| exports.rule_set().call_len(store, resource))
    }

    /// GitLab's answer, as scalars (nothing is allocated for it on either side).
    pub fn decide(&mut self, set: &RuleSetHandle, request: &DecisionRequest) -> Result<Summary, HostError> {
        let resource = self.own(set)?;
        let request = convert::wit_request(request);
        self.call(|exports, _, store| exports.rule_set().call_decide(store, resource, &request))?
            .map(convert::core_summary)
            .map_err(|error| HostError::CannotDecide(convert::decide_error(error)))
    }

    /// The full answer: every blocking rule id and the reason.
    pub fn explain(&mut self, set: &RuleSetHandle, request: &DecisionRequest) -> Result<Decision, HostError> {
        let resource = self.own(set)?;
        let request = convert::wit_request(request);
        self.call(|exports, _, store| exports.rule_set().call_explain(store, resource, &request))?
            .map(convert::core_decision)
            .map_err(|error| HostError::CannotDecide(convert::decide_error(error)))
    }

    /// One verdict per request, in order.
    pub fn decide_batch(
        &mut self,
        set: &RuleSetHandle,
        requests: &[DecisionRequest],
    ) -> Result<Vec<Verdict>, HostError> {
        let resource = self.own(set)?;
        let requests: Vec<_> = requests.iter().map(convert::wit_request).collect();
        let verdicts =
            self.call(|exports, _, store| exports.rule_set().call_decide_batch(store, resource, &requests))?;
        Ok(verdicts.into_iter().map(convert::core_verdict).collect())
    }

    /// GitLab's answer to each request, in order, as scalars, in one call: the batch for
    /// hosts that explain refusals (a refusal by one rule is rebuilt with
    /// [`pkgprotect::decision_from_summary`]). A request the component cannot decide is asked
    /// again alone, for its typed error.
    pub fn decide_all(
        &mut self,
        set: &RuleSetHandle,
        requests: &[DecisionRequest],
    ) -> Result<Vec<Result<Summary, DecideError>>, HostError> {
        let resource = self.own(set)?;
        let wit_requests: Vec<_> = requests.iter().map(convert::wit_request).collect();
        let answers =
            self.call(|exports, _, store| exports.rule_set().call_decide_all(store, resource, &wit_requests))?;
        if answers.len() != requests.len() {
            // On doubt, refuse: answers cannot be paired with requests.
            let miscounted = DecideError {
                cause: DecideCause::Internal,
                message: format!("the component answered {} of {} requests", answers.len(), requests.len()),
            };
            return Ok(requests.iter().map(|_| Err(miscounted.clone())).collect());
        }
        let mut decided = Vec::with_capacity(answers.len());
        for (answer, request) in answers.into_iter().zip(requests) {
            decided.push(match answer {
                Some(summary) => Ok(convert::core_summary(summary)),
                None => match self.decide(set, request) {
                    Err(HostError::CannotDecide(error)) => Err(error),
                    Err(other) => return Err(other),
                    // On doubt, refuse: the component contradicted its own batch answer.
                    Ok(_) => Err(DecideError {
                        cause: DecideCause::Internal,
                        message: "the component decided alone a request it could not decide in a batch".into(),
                    }),
                },
            });
        }
        Ok(decided)
    }

    /// One verdict per name: may `actor` do `action` to each target of `kind` in `names`?
    pub fn decide_names(
        &mut self,
        set: &RuleSetHandle,
        kind: TargetKind,
        names: &[String],
        action: Action,
        actor: Actor,
    ) -> Result<Vec<Verdict>, HostError> {
        let resource = self.own(set)?;
        let (kind, action, actor) =
            (convert::wit_target_kind(kind), convert::wit_action(action), convert::wit_actor(actor));
        let verdicts = self.call(|exports, _, store| {
            exports.rule_set().call_decide_names(store, resource, kind, names, action, actor)
        })?;
        Ok(verdicts.into_iter().map(convert::core_verdict).collect())
    }

    /// Advice on the set's rules.
    pub fn lint(&mut self, set: &RuleSetHandle) -> Result<Vec<Finding>, HostError> {
        let resource = self.own(set)?;
        let findings = self.call(|exports, _, store| exports.rule_set().call_lint(store, resource))?;
        Ok(findings.into_iter().map(convert::core_finding).collect())
    }

    /// Keep `names` in this instance for repeated previews.
    pub fn name_list(&mut self, names: &[String], unit: OffsetUnit) -> Result<NameListHandle, HostError> {
        let unit = convert::wit_offset_unit(unit);
        let resource = self.call(|exports, _, store| exports.name_list().call_constructor(store, names, unit))?;
        Ok(NameListHandle { resource, instance: self.id })
    }

    /// Which names of the list `pattern` matches as a rule for targets of `kind` would.
    pub fn preview(&mut self, names: &NameListHandle, pattern: &str, kind: TargetKind) -> Result<Preview, HostError> {
        if names.instance != self.id {
            return Err(HostError::ForeignRuleSet);
        }
        let (resource, kind) = (names.resource, convert::wit_target_kind(kind));
        let preview =
            self.call(|exports, _, store| exports.name_list().call_preview(store, resource, pattern, kind))?;
        Ok(convert::core_preview(preview))
    }

    /// Validation through this instance (see [`Policy::validate_params`]).
    pub fn validate_params(
        &mut self,
        kind: RuleKind,
        params_json: &str,
        context: &ValidationContext<'_>,
    ) -> Result<Result<Rule, Rejection>, HostError> {
        let (kind, context) = (convert::wit_kind(kind), convert::wit_context(context));
        let answer = self.call(|_, api, store| api.call_validate_params(store, kind, params_json, &context))?;
        Ok(answer.map(convert::core_rule).map_err(convert::core_rejection))
    }
}

/// A compiled rule set with an instance of its own: the simple way to decide many requests.
#[derive(Debug)]
pub struct ComponentRuleSet {
    instance: Instance,
    handle: RuleSetHandle,
}

impl ComponentRuleSet {
    pub fn decide(&mut self, request: &DecisionRequest) -> Result<Summary, HostError> {
        self.instance.decide(&self.handle, request)
    }

    pub fn explain(&mut self, request: &DecisionRequest) -> Result<Decision, HostError> {
        self.instance.explain(&self.handle, request)
    }

    pub fn decide_batch(&mut self, requests: &[DecisionRequest]) -> Result<Vec<Verdict>, HostError> {
        self.instance.decide_batch(&self.handle, requests)
    }

    pub fn decide_all(&mut self, requests: &[DecisionRequest]) -> Result<Vec<Result<Summary, DecideError>>, HostError> {
        self.instance.decide_all(&self.handle, requests)
    }

    pub fn decide_names(
        &mut self,
        kind: TargetKind,
        names: &[String],
        action: Action,
        actor: Actor,
    ) -> Result<Vec<Verdict>, HostError> {
        self.instance.decide_names(&self.handle, kind, names, action, actor)
    }

    pub fn lint(&mut self) -> Result<Vec<Finding>, HostError> {
        self.instance.lint(&self.handle)
    }
}
