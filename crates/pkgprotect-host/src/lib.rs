//! Embeds the pkgprotect WebAssembly component in Rust programs: wasmtime configured once,
//! the component compiled once and pre-instantiated, resource limits on by default, and a
//! typed API over the core's own types.
//!
//! ```no_run
//! use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, PackageType, Rule, Target};
//! use pkgprotect_host::Policy;
//!
//! let policy = Policy::load("target/pkgprotect.wasm")?;
//! let rules: Vec<Rule> = serde_json::from_str(r#"[{"id": 1, "package_name_pattern": "@demo/*",
//!     "package_type": "npm", "minimum_access_level_for_push": "maintainer"}]"#)?;
//! let mut rule_set = policy.rule_set(&rules)?;
//! let decision = rule_set.decide(&DecisionRequest {
//!     target: Target::Package { name: "@demo/core".into(), package_type: PackageType::Npm },
//!     action: Action::Push,
//!     actor: Actor::User { access_level: AccessLevel::Developer },
//! })?;
//! assert!(!decision.allowed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Threads: a [`Policy`] is `Send + Sync` and cheap to clone — share one. Each call that
//! is not on a [`ComponentRuleSet`] runs in a fresh instance (pooling allocator and
//! copy-on-write memory make that a few microseconds). A [`ComponentRuleSet`] owns its
//! store and instance: it is `Send` but not `Sync`; give each worker its own (or keep a
//! small pool behind mutexes, as `pkgprotect-server` does).

pub mod conformance;
mod convert;

// wasmtime's bindgen! emits no unsafe code for exports; the module only holds the
// generated types and call glue.
mod bindings {
    wasmtime::component::bindgen!({ world: "policy", path: "../pkgprotect-component/wit" });
}

use bindings::exports::pkgprotect::policy::{api, engine as engine_iface, types as wit};
use pkgprotect::{Decision, DecisionRequest, PackageType, PreviewMatch, Rejection, Rule, RuleKind, ValidationContext};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{Component, InstancePre, Linker, ResourceAny};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder,
};

/// What the host failed at. Decisions the guest refuses to make are data, not these.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot read component `{path}`: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot compile the component: {0}")]
    Compile(String),
    #[error("cannot instantiate the component: {0}")]
    Instantiate(String),
    #[error("the component exceeded its time limit ({0:?})")]
    Timeout(Duration),
    #[error("the component trapped: {0}")]
    Trap(String),
    #[error("the rules were refused: {0}")]
    RulesRefused(Rejection),
    #[error("cannot decide: {0}")]
    CannotDecide(String),
}

/// Per-call guest limits. On by default: a bad or hostile component yields an error.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest linear memory a guest may grow to.
    pub memory_bytes: usize,
    /// Longest a single call may run.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory_bytes: 64 << 20, deadline: Duration::from_secs(1) }
    }
}

/// Epoch ticks are this long; deadlines are whole numbers of them.
const TICK: Duration = Duration::from_millis(10);

#[derive(Debug)]
pub struct HostState {
    limits: StoreLimits,
}

struct Inner {
    engine: Engine,
    pre: InstancePre<HostState>,
    // Per interface, so a call type-checks only the functions of the interface it uses
    // (type-checking every export was a fifth of a fresh instance's cost).
    api: api::GuestIndices,
    rule_sets: engine_iface::GuestIndices,
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
    pooling.total_component_instances(512);
    pooling.total_core_instances(512);
    pooling.total_memories(512);
    pooling.total_tables(512);
    pooling.max_memory_size(limits.memory_bytes);
    // Reset a reused slot by zeroing the pages a call dirtied rather than by `madvise`, for
    // the whole memory a fresh instance starts with (128 KiB stack, data, 192 KiB heap arena:
    // six pages; see the component's build.rs and allocator.rs). No system call, no TLB
    // shootdown, no refault: a fresh instance measured 23 µs with madvise, 9.5 µs without.
    pooling.linear_memory_keep_resident(512 << 10);
    pooling.table_keep_resident(16 << 10);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config).map_err(|e| HostError::Compile(format!("{e:#}")))
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
    let mut store = Store::new(
        engine,
        HostState { limits: StoreLimitsBuilder::new().memory_size(limits.memory_bytes).instances(8).build() },
    );
    store.limiter(|state| &mut state.limits);
    arm(&mut store, limits);
    store
}

fn arm(store: &mut Store<HostState>, limits: &Limits) {
    let ticks = (limits.deadline.as_millis() / TICK.as_millis()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();
}

fn instantiate_error(error: wasmtime::Error) -> HostError {
    HostError::Instantiate(format!("{error:#}"))
}

/// A trap, told apart: deadline, memory, or anything else.
pub fn trap_error(error: wasmtime::Error, limits: &Limits) -> HostError {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => HostError::Timeout(limits.deadline),
        _ => HostError::Trap(format!("{error:#}")),
    }
}

impl Policy {
    /// Load `pkgprotect.wasm` with default limits.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HostError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| HostError::Read { path: path.display().to_string(), source })?;
        Self::from_bytes(&bytes, Limits::default())
    }

    pub fn from_bytes(bytes: &[u8], limits: Limits) -> Result<Self, HostError> {
        let engine = engine(&limits)?;
        let component = Component::new(&engine, bytes).map_err(|e| HostError::Compile(format!("{e:#}")))?;
        let linker: Linker<HostState> = Linker::new(&engine);
        let pre = linker.instantiate_pre(&component).map_err(instantiate_error)?;
        let api = api::GuestIndices::new(&pre).map_err(instantiate_error)?;
        let rule_sets = engine_iface::GuestIndices::new(&pre).map_err(instantiate_error)?;
        let ticker_stop = start_ticker(&engine);
        Ok(Policy { inner: Arc::new(Inner { engine, pre, api, rule_sets, limits, ticker_stop }) })
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// A fresh instance, and the typed exports of one of its interfaces.
    fn instance<G>(
        &self,
        load: impl FnOnce(&Inner, &mut Store<HostState>, &wasmtime::component::Instance) -> wasmtime::Result<G>,
    ) -> Result<(Store<HostState>, G), HostError> {
        let mut store = store(&self.inner.engine, &self.inner.limits);
        let instance = self.inner.pre.instantiate(&mut store).map_err(instantiate_error)?;
        let exports = load(&self.inner, &mut store, &instance).map_err(instantiate_error)?;
        Ok((store, exports))
    }

    fn api(&self) -> Result<(Store<HostState>, api::Guest), HostError> {
        self.instance(|inner, store, instance| inner.api.load(store, instance))
    }

    fn trap(&self, error: wasmtime::Error) -> HostError {
        trap_error(error, &self.inner.limits)
    }

    pub fn version(&self) -> Result<String, HostError> {
        let (mut store, api) = self.api()?;
        api.call_version(&mut store).map_err(|e| self.trap(e))
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

    /// GitLab's REST parameter layer and validation: the rule `params` would create.
    pub fn validate_params(
        &self,
        kind: RuleKind,
        params: &serde_json::Value,
        context: &ValidationContext<'_>,
    ) -> Result<Result<Rule, Rejection>, HostError> {
        let (mut store, api) = self.api()?;
        let answer = api
            .call_validate_params(
                &mut store,
                convert::wit_kind(kind),
                &params.to_string(),
                &convert::wit_context(context),
            )
            .map_err(|e| self.trap(e))?;
        Ok(answer.map(convert::core_rule).map_err(convert::core_rejection))
    }

    /// One-shot: compile `rules` in a fresh instance and decide `request`.
    pub fn decide(&self, rules: &[Rule], request: &DecisionRequest) -> Result<Decision, HostError> {
        let (mut store, api) = self.api()?;
        api.call_decide(&mut store, &convert::wit_rules(rules), &convert::wit_request(request))
            .map_err(|e| self.trap(e))?
            .map(convert::core_decision)
            .map_err(HostError::CannotDecide)
    }

    pub fn preview(
        &self,
        pattern: &str,
        package_type: Option<PackageType>,
        names: &[String],
    ) -> Result<Vec<PreviewMatch>, HostError> {
        let (mut store, api) = self.api()?;
        let matches = api
            .call_preview(&mut store, pattern, package_type.map(convert::wit_package_type), names)
            .map_err(|e| self.trap(e))?;
        Ok(matches
            .into_iter()
            .map(|m| PreviewMatch {
                name: m.name,
                matched: m.matched,
                spans: m.spans.into_iter().map(|(s, e)| (s as usize, e as usize)).collect(),
                error: m.error,
            })
            .collect())
    }

    /// Compile `rules` into a rule-set resource in an instance of its own.
    pub fn rule_set(&self, rules: &[Rule]) -> Result<ComponentRuleSet, HostError> {
        let (mut store, rule_sets) = self.instance(|inner, store, instance| inner.rule_sets.load(store, instance))?;
        let handle = rule_sets
            .rule_set()
            .call_compile(&mut store, &convert::wit_rules(rules))
            .map_err(|e| self.trap(e))?
            .map_err(|errors| HostError::RulesRefused(convert::core_rejection(errors)))?;
        Ok(ComponentRuleSet { store, rule_sets, handle, limits: self.inner.limits })
    }
}

/// A compiled rule set living in its own component instance.
pub struct ComponentRuleSet {
    store: Store<HostState>,
    rule_sets: engine_iface::Guest,
    handle: ResourceAny,
    limits: Limits,
}

impl std::fmt::Debug for ComponentRuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentRuleSet").finish_non_exhaustive()
    }
}

impl ComponentRuleSet {
    fn call<R>(
        &mut self,
        f: impl FnOnce(
            &engine_iface::GuestRuleSet,
            &mut Store<HostState>,
            ResourceAny,
        ) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        arm(&mut self.store, &self.limits);
        let limits = self.limits;
        f(&self.rule_sets.rule_set(), &mut self.store, self.handle)
            .map_err(|e| trap_error(e, &limits))
    }

    pub fn decide(&mut self, request: &DecisionRequest) -> Result<Decision, HostError> {
        let request = convert::wit_request(request);
        self.call(|rs, store, handle| rs.call_decide(store, handle, &request))?
            .map(convert::core_decision)
            .map_err(HostError::CannotDecide)
    }

    /// Each answer stands alone: `Err` for a request the engine cannot decide.
    pub fn decide_batch(&mut self, requests: &[DecisionRequest]) -> Result<Vec<Result<Decision, String>>, HostError> {
        let requests: Vec<wit::DecisionRequest> = requests.iter().map(convert::wit_request).collect();
        let answers = self.call(|rs, store, handle| rs.call_decide_batch(store, handle, &requests))?;
        Ok(answers.into_iter().map(|a| a.map(convert::core_decision)).collect())
    }

    /// Lint findings as (kind, rule ids, message).
    pub fn lint(&mut self) -> Result<Vec<(String, Vec<i64>, String)>, HostError> {
        let findings = self.call(|rs, store, handle| rs.call_lint(store, handle))?;
        Ok(findings.into_iter().map(|f| (f.kind, f.rule_ids, f.message)).collect())
    }
}
