//! Issue 18 through the component: the test-only build `target/pkgprotect-fault.wasm`
//! (`scripts/build-fault-component.sh`, guest feature `fault-injection`) breaks each of the
//! core's invariants inside the component, and every decision path of the contract must then
//! answer as the native core with the same fault does — a typed internal error, or verdict
//! `undecidable`, wherever the fault is reached, and never an allow the intact rules refuse.
//! Without the fault, the same requests answer as the native core's intact rules do. (The
//! one-shot `api.decide` and `api.explain` build no index, so there is nothing in them to
//! break; the core's property tests check that they answer as a compiled set does.)

use pkgprotect::{
    AccessLevel, Action, Actor, DecideError as CoreDecideError, DecisionRequest, Invariant, PackageType, Rule, RuleSet,
    Target, TargetKind, Verdict,
};
use pkgprotect_host::{DecideCause, HostError, Instance, Policy, RuleSetHandle, Rules};
use serde_json::json;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The contract's own bindings, for the one decision path the host crate does not wrap:
/// `name-list.decide`.
mod contract {
    wasmtime::component::bindgen!({ world: "policy", path: "wit" });
}
use contract::exports::pkgprotect::policy::types as wit;

fn fault_component_path() -> PathBuf {
    std::env::var_os("PKGPROTECT_FAULT_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pkgprotect-fault.wasm"))
}

/// The fault build, loaded as any host loads a component. Missing, it fails the tests: a
/// skipped test would read as a passed one.
fn fault_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Policy::load(fault_component_path()).unwrap_or_else(|e| {
            panic!("{e} — build the test-only component with scripts/build-fault-component.sh (scripts/test.sh does)")
        })
    })
}

/// Break `invariant` in the rule sets `instance` compiles from now on, through the fault
/// build's extra export (`pkgprotect:fault/faults.inject`), with wasmtime's own API.
fn inject(instance: &mut Instance, invariant: Invariant) -> Result<(), String> {
    inject_named(instance, &format!("{invariant:?}"))
}

fn inject_named(instance: &mut Instance, name: &str) -> Result<(), String> {
    instance
        .call_export(|store, component| {
            let faults = component
                .get_export_index(&mut *store, None, "pkgprotect:fault/faults")
                .ok_or_else(|| wasmtime::format_err!("no `pkgprotect:fault/faults`: not the fault build"))?;
            let inject = component
                .get_export_index(&mut *store, Some(&faults), "inject")
                .ok_or_else(|| wasmtime::format_err!("`pkgprotect:fault/faults` has no `inject`"))?;
            let inject = component.get_typed_func::<(&str,), (Result<(), String>,)>(&mut *store, &inject)?;
            Ok(inject.call(&mut *store, (name,))?.0)
        })
        .unwrap()
}

/// Rules of every shape in every kind of bucket (the core's fault tests use the same):
/// npm literals (exact, prefix, suffix, infix) and a general pattern, a generic
/// match-everything rule, PyPI rules (the user path's normalized bucket), container rules.
fn rules() -> Vec<Rule> {
    serde_json::from_value(json!([
        {"id": 1, "package_name_pattern": "exact", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 2, "package_name_pattern": "pre*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 3, "package_name_pattern": "*fix", "package_type": "npm", "minimum_access_level_for_delete": "owner"},
        {"id": 4, "package_name_pattern": "*mid*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        {"id": 5, "package_name_pattern": "p*x", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 6, "package_name_pattern": "*", "package_type": "generic", "minimum_access_level_for_delete": "owner"},
        {"id": 7, "package_name_pattern": "my_pkg*", "package_type": "pypi", "minimum_access_level_for_push": "maintainer"},
        {"id": 10, "package_name_pattern": "py*_thon", "package_type": "pypi", "minimum_access_level_for_push": "owner"},
        {"id": 8, "repository_path_pattern": "group/project/*", "minimum_access_level_for_push": "maintainer"},
        {"id": 9, "repository_path_pattern": "group/project/exact", "minimum_access_level_for_delete": "owner"},
    ]))
    .unwrap()
}

/// Names for one target kind, actor and action: the shape of `decide-names` and
/// `name-list.decide`, and, flattened, of `decide`, `explain` and `decide-batch`.
struct Group {
    kind: TargetKind,
    action: Action,
    actor: Actor,
    names: Vec<String>,
}

/// Every bucket, shape, actor and action, blocked and allowed, blank names included.
fn groups() -> Vec<Group> {
    let base = ["exact", "EXACT", "exactly", "pre-mid-fix", "prefix", "midmid", "px", "py-thon", "Py.Thon", "x", ""];
    let names = |kind: TargetKind| -> Vec<String> {
        match kind {
            TargetKind::ContainerRepository => base.iter().map(|name| format!("group/project/{name}")).collect(),
            TargetKind::Package(PackageType::Pypi) => {
                base.iter().flat_map(|name| [name.to_string(), format!("my-pkg.{name}")]).collect()
            }
            TargetKind::Package(_) => base.map(String::from).to_vec(),
        }
    };
    let kinds = [PackageType::Npm, PackageType::Generic, PackageType::Pypi]
        .map(TargetKind::Package)
        .into_iter()
        .chain([TargetKind::ContainerRepository]);
    let actors = [AccessLevel::Developer, AccessLevel::Maintainer, AccessLevel::Owner, AccessLevel::Admin]
        .map(|access_level| Actor::User { access_level })
        .into_iter()
        .chain([Actor::DeployToken]);
    let mut groups = Vec::new();
    for actor in actors {
        for action in [Action::Push, Action::Delete] {
            for kind in kinds.clone() {
                groups.push(Group { kind, action, actor, names: names(kind) });
            }
        }
    }
    groups
}

fn request(kind: TargetKind, name: &str, action: Action, actor: Actor) -> DecisionRequest {
    let target = match kind {
        TargetKind::Package(package_type) => Target::Package { name: name.into(), package_type },
        TargetKind::ContainerRepository => Target::ContainerRepository { path: name.into() },
    };
    DecisionRequest { target, action, actor }
}

fn requests(groups: &[Group]) -> Vec<DecisionRequest> {
    groups.iter().flat_map(|g| g.names.iter().map(move |name| request(g.kind, name, g.action, g.actor))).collect()
}

/// The component's answer is the native one: the same value, or the same error.
fn same<T: PartialEq>(component: &Result<T, HostError>, native: &Result<T, CoreDecideError>) -> bool {
    match (component, native) {
        (Ok(component), Ok(native)) => component == native,
        (Err(component), Err(native)) => same_error(component, native),
        _ => false,
    }
}

/// The component's error for a native decision error: the same cause, typed, and the core's
/// own sentence.
fn same_error(component: &HostError, native: &CoreDecideError) -> bool {
    let HostError::CannotDecide(error) = component else { return false };
    let cause = match native {
        CoreDecideError::Internal { .. } => error.cause == DecideCause::Internal,
        CoreDecideError::Match { rule_id, source, .. } => {
            error.cause == DecideCause::Unevaluable { rule_id: *rule_id, pattern: source.pattern.clone() }
        }
        _ => false,
    };
    cause && error.message == native.to_string()
}

/// Every decision path of rule set `set` in `instance` (the host crate's `decide`,
/// `explain`, `decide-names`, `decide-batch`; `name-list.decide` through the contract's own
/// bindings, on `listed`, a set compiled from the same rules in the same instance) answers
/// each request as `native` does, and never allows what `intact` refuses. Returns how many
/// requests `explain` refused for an internal error.
fn answers_as(
    instance: &mut Instance,
    set: &RuleSetHandle,
    listed: wasmtime::component::ResourceAny,
    native: &RuleSet,
    intact: &RuleSet,
) -> usize {
    let groups = groups();
    let requests = requests(&groups);
    let mut internal = 0;
    for request in &requests {
        let never_allowed = !intact.decide(request).is_ok_and(|decision| decision.allowed);
        let (explained, native_explained) = (instance.explain(set, request), native.decide(request));
        assert!(
            same(&explained, &native_explained),
            "explain {request:?}: {explained:?}, natively {native_explained:?}"
        );
        let (decided, native_decided) = (instance.decide(set, request), native.summarize(request));
        assert!(same(&decided, &native_decided), "decide {request:?}: {decided:?}, natively {native_decided:?}");
        if never_allowed {
            assert!(!explained.is_ok_and(|d| d.allowed), "explain allowed {request:?}");
            assert!(!decided.is_ok_and(|s| s.allowed), "decide allowed {request:?}");
        }
        internal += usize::from(matches!(native_explained, Err(CoreDecideError::Internal { .. })));
    }

    let verdicts = |set: &RuleSet, requests: &[DecisionRequest]| -> Vec<Verdict> {
        requests.iter().map(|request| Verdict::of(&set.summarize(request))).collect()
    };
    let intact_verdicts = verdicts(intact, &requests);
    let batch = instance.decide_batch(set, &requests).unwrap();
    assert_eq!(batch, verdicts(native, &requests), "decide-batch");
    never_allows(&batch, &intact_verdicts, "decide-batch");
    let all = instance.decide_all(set, &requests).unwrap();
    assert_eq!(all.len(), requests.len(), "decide-all");
    never_allows(&all.iter().map(Verdict::of).collect::<Vec<_>>(), &intact_verdicts, "decide-all");
    for (answer, request) in all.into_iter().zip(&requests) {
        let (answer, native) = (answer.map_err(HostError::CannotDecide), native.summarize(request));
        assert!(same(&answer, &native), "decide-all {request:?}: {answer:?}, natively {native:?}");
    }

    for g in &groups {
        let requests: Vec<_> = g.names.iter().map(|name| request(g.kind, name, g.action, g.actor)).collect();
        let (expected, refused) = (verdicts(native, &requests), verdicts(intact, &requests));
        let what = format!("{:?} {:?} {:?}", g.kind, g.action, g.actor);
        let names = instance.decide_names(set, g.kind, &g.names, g.action, g.actor).unwrap();
        assert_eq!(names, expected, "decide-names {what}");
        never_allows(&names, &refused, &format!("decide-names {what}"));
        let listed = list_decide(instance, listed, g);
        assert_eq!(listed, expected, "name-list.decide {what}");
        never_allows(&listed, &refused, &format!("name-list.decide {what}"));
    }
    internal
}

/// No verdict allows where the intact rules' verdict does not.
fn never_allows(verdicts: &[Verdict], intact: &[Verdict], what: &str) {
    assert_eq!(verdicts.len(), intact.len(), "{what}");
    for (at, (verdict, intact)) in verdicts.iter().zip(intact).enumerate() {
        assert!(!verdict.allowed() || intact.allowed(), "{what}: #{at} allowed, intact {intact:?}");
    }
}

/// Compile `rules()` in `instance` through the contract's bindings (the host crate keeps its
/// handles' resources to itself), for `name-list.decide`.
fn compile_listed(instance: &mut Instance) -> wasmtime::component::ResourceAny {
    let json = serde_json::to_string(&rules()).unwrap();
    instance
        .call_export(|store, component| {
            let contract = contract::Policy::new(&mut *store, &component)?;
            let source = wit::RuleSource::GitlabJson(json);
            contract
                .pkgprotect_policy_engine()
                .rule_set()
                .call_compile(&mut *store, &source)?
                .map_err(|error| wasmtime::format_err!("refused: {}", error.message))
        })
        .unwrap()
}

/// `name-list.decide` for one group: the names kept in the component, decided by `set`.
fn list_decide(instance: &mut Instance, set: wasmtime::component::ResourceAny, g: &Group) -> Vec<Verdict> {
    let (kind, action, actor) = (wit_kind(g.kind), wit_action(g.action), wit_actor(g.actor));
    let verdicts = instance
        .call_export(|store, component| {
            let contract = contract::Policy::new(&mut *store, &component)?;
            let lists = contract.pkgprotect_policy_engine().name_list();
            let list = lists.call_constructor(&mut *store, &g.names, wit::OffsetUnit::Utf8Bytes)?;
            let verdicts = lists.call_decide(&mut *store, list, set, kind, action, actor)?;
            list.resource_drop(&mut *store)?;
            Ok(verdicts)
        })
        .unwrap();
    verdicts
        .into_iter()
        .map(|verdict| match verdict {
            wit::Verdict::Allowed => Verdict::Allowed,
            wit::Verdict::Blocked => Verdict::Blocked,
            wit::Verdict::Undecidable => Verdict::Undecidable,
        })
        .collect()
}

fn wit_kind(kind: TargetKind) -> wit::TargetKind {
    match kind {
        TargetKind::Package(PackageType::Npm) => wit::TargetKind::Npm,
        TargetKind::Package(PackageType::Generic) => wit::TargetKind::Generic,
        TargetKind::Package(PackageType::Pypi) => wit::TargetKind::Pypi,
        TargetKind::ContainerRepository => wit::TargetKind::ContainerRepository,
        other => panic!("no test here uses {other:?}"),
    }
}

fn wit_action(action: Action) -> wit::Action {
    match action {
        Action::Push => wit::Action::Push,
        Action::Delete => wit::Action::Delete,
    }
}

fn wit_actor(actor: Actor) -> wit::Actor {
    match actor {
        Actor::DeployToken => wit::Actor::DeployToken,
        Actor::User { access_level } => wit::Actor::User(match access_level {
            AccessLevel::Developer => wit::AccessLevel::Developer,
            AccessLevel::Maintainer => wit::AccessLevel::Maintainer,
            AccessLevel::Owner => wit::AccessLevel::Owner,
            AccessLevel::Admin => wit::AccessLevel::Admin,
            other => panic!("no test here uses {other:?}"),
        }),
    }
}

/// A request the intact rules block and that reaches `invariant` once it is broken.
fn reaching(invariant: Invariant) -> DecisionRequest {
    match invariant {
        // Only the PyPI user path reads the normalized patterns (rule 10's `py-*-thon`).
        Invariant::MissingPypiPattern => request(
            TargetKind::Package(PackageType::Pypi),
            "Py.Thon",
            Action::Push,
            Actor::User { access_level: AccessLevel::Maintainer },
        ),
        // The npm bucket's three tries, rule 1 and its reason.
        _ => request(
            TargetKind::Package(PackageType::Npm),
            "exact",
            Action::Push,
            Actor::User { access_level: AccessLevel::Developer },
        ),
    }
}

#[test]
fn every_broken_invariant_refuses_through_the_component() {
    let rules = rules();
    let intact = RuleSet::new(rules.clone()).unwrap();
    for invariant in Invariant::ALL {
        let mut native = RuleSet::new(rules.clone()).unwrap();
        let breakable = native.inject_fault(invariant);

        let mut instance = fault_policy().instance().unwrap();
        let before = instance.compile(Rules::Typed(&rules)).unwrap();
        let listed_before = compile_listed(&mut instance);
        let injected = inject(&mut instance, invariant);
        assert_eq!(injected.is_ok(), breakable, "{invariant:?}: inject answered {injected:?}");
        let after = instance.compile(Rules::Typed(&rules)).unwrap();
        let listed_after = compile_listed(&mut instance);

        // Rule sets compiled before the injection, and after a refused one, stay intact.
        assert_eq!(answers_as(&mut instance, &before, listed_before, &intact, &intact), 0, "{invariant:?}");
        if !breakable {
            assert_eq!(answers_as(&mut instance, &after, listed_after, &intact, &intact), 0, "{invariant:?}");
            continue;
        }

        // The fault is reached: the full answer refuses, as data, naming no rule.
        let request = reaching(invariant);
        assert_eq!(native.decide(&request), Err(CoreDecideError::Internal { invariant }), "{invariant:?}");
        let Err(HostError::CannotDecide(error)) = instance.explain(&after, &request) else {
            panic!("{invariant:?}: explained {request:?} with the fault reached")
        };
        assert_eq!(error.cause, DecideCause::Internal, "{invariant:?}");
        // The scalar paths refuse as well, except where they never read what is broken: a
        // count of blocking rules needs no reason (`MissingReason`), and blocks.
        let scalar = if invariant == Invariant::MissingReason { Verdict::Blocked } else { Verdict::Undecidable };
        assert_eq!(Verdict::of(&native.summarize(&request)), scalar, "{invariant:?}");
        match instance.decide(&after, &request) {
            Err(HostError::CannotDecide(error)) => assert_eq!(error.cause, DecideCause::Internal, "{invariant:?}"),
            Ok(summary) => assert!(!summary.allowed && scalar == Verdict::Blocked, "{invariant:?}: {summary:?}"),
            Err(other) => panic!("{invariant:?}: {other}"),
        }
        // In a batch, the refusal fails only its own request.
        let admin = DecisionRequest { actor: Actor::User { access_level: AccessLevel::Admin }, ..request.clone() };
        assert_eq!(
            instance.decide_batch(&after, &[request.clone(), admin]).unwrap(),
            [scalar, Verdict::Allowed],
            "{invariant:?}"
        );

        // Everywhere else, exactly the native core's answers with the same fault.
        let internal = answers_as(&mut instance, &after, listed_after, &native, &intact);
        assert!(internal > 0, "{invariant:?}: no request reached the fault");
    }
}

#[test]
fn without_a_fault_both_builds_answer_as_the_native_core() {
    let rules = rules();
    let native = RuleSet::new(rules.clone()).unwrap();
    for policy in [super::policy(), fault_policy()] {
        let mut instance = policy.instance().unwrap();
        let set = instance.compile(Rules::Typed(&rules)).unwrap();
        let listed = compile_listed(&mut instance);
        assert_eq!(answers_as(&mut instance, &set, listed, &native, &native), 0);
    }
}

#[test]
fn the_fault_export_is_only_in_the_test_build() {
    let mut production = super::policy().instance().unwrap();
    let missing = production.call_export(|store, component| {
        Ok(component.get_export_index(&mut *store, None, "pkgprotect:fault/faults").is_none())
    });
    assert!(missing.unwrap(), "target/pkgprotect.wasm exports the fault interface");
    let unknown = inject_named(&mut fault_policy().instance().unwrap(), "NoSuchInvariant");
    assert!(unknown.is_err_and(|reason| reason.contains("`NoSuchInvariant`")), "an unknown name is refused");
}
