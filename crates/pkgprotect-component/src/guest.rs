//! The guest: WIT exports implemented over the core (compiled for wasm32 only).

#[path = "convert.rs"]
mod convert;

use bindings::exports::pkgprotect::policy::api;
use bindings::exports::pkgprotect::policy::engine::{self, GuestNameList, GuestRuleSet, RuleSetBorrow};
use bindings::exports::pkgprotect::policy::types::{
    Action, Actor, CompileError, DecideError, Decision, DecisionRequest, Explanation, Finding, OffsetUnit,
    OneShotError, PreviewResult, Rejection, Rule, RuleKind, RuleSource, TargetKind, ValidationContext, Verdict,
};
use convert::{
    compile_error, core_action, core_actor, core_offset_unit, core_request, core_target_kind, decide_error, rejection,
    wit_decision, wit_explanation, wit_preview, wit_rule, wit_verdict,
};

// The only `unsafe` in this crate is wit-bindgen's generated canonical-ABI glue (lifting and
// lowering values across the component boundary); the code written here has none, and the
// crate denies it everywhere else.
#[allow(unsafe_code)]
pub(crate) mod bindings {
    wit_bindgen::generate!({ world: "policy", path: "wit" });
    use super::Component;
    export!(Component);
}

/// The contract this guest implements: `package pkgprotect:policy@…` in `wit/policy.wit`.
const CONTRACT_VERSION: &str = "0.2.1";

#[derive(Debug)]
pub struct Component;

/// The resource behind `engine.rule-set`.
#[derive(Debug)]
pub struct CompiledRules(pkgprotect::RuleSet);

/// The resource behind `engine.name-list`.
#[derive(Debug)]
pub struct Names(pkgprotect::NameList);

// Through one `Vec<Rule>`, whatever the source: a second iterator type for `RuleSet::new`
// (the typed list mapped on the fly) cost the component 1,961 bytes.
fn compile(rules: RuleSource) -> Result<pkgprotect::RuleSet, pkgprotect::RuleSetError> {
    pkgprotect::RuleSet::new(core_rules(rules)?)
}

fn core_rules(rules: RuleSource) -> Result<Vec<pkgprotect::Rule>, pkgprotect::RuleSetError> {
    match rules {
        RuleSource::Typed(rules) => Ok(rules.into_iter().map(convert::core_rule).collect()),
        RuleSource::GitlabJson(json) => pkgprotect::RuleSet::parse_gitlab_json(&json),
    }
}

fn one_shot_error(error: pkgprotect::OneShotError) -> OneShotError {
    match error {
        pkgprotect::OneShotError::Rules(error) => OneShotError::RulesRefused(compile_error(error)),
        pkgprotect::OneShotError::Decide(error) => OneShotError::CannotDecide(decide_error(error)),
    }
}

impl api::Guest for Component {
    fn version() -> String {
        CONTRACT_VERSION.into()
    }

    fn engine_version() -> String {
        pkgprotect::VERSION.into()
    }

    fn validate_rule(rule: Rule, context: ValidationContext) -> Result<(), Rejection> {
        let rule = convert::core_rule(rule);
        let (existing, previous) = convert::context_rules(context.existing_rules, context.previous);
        let context = pkgprotect::ValidationContext {
            project_path: context.project_path.as_deref(),
            existing_rules: &existing,
            previous: previous.as_ref(),
        };
        pkgprotect::validate_rule(&rule, &context).map_err(rejection)
    }

    fn validate_params(kind: RuleKind, params_json: String, context: ValidationContext) -> Result<Rule, Rejection> {
        let (existing, previous) = convert::context_rules(context.existing_rules, context.previous);
        let core_context = pkgprotect::ValidationContext {
            project_path: context.project_path.as_deref(),
            existing_rules: &existing,
            previous: previous.as_ref(),
        };
        pkgprotect::validate_params_json(convert::core_kind(kind), &params_json, &core_context)
            .map(wit_rule)
            .map_err(rejection)
    }

    fn decide(rules: RuleSource, request: DecisionRequest) -> Result<Decision, OneShotError> {
        let rules = core_rules(rules).map_err(|e| OneShotError::RulesRefused(compile_error(e)))?;
        pkgprotect::RuleSet::summarize_once(rules, &core_request(request)).map(wit_decision).map_err(one_shot_error)
    }

    fn explain(rules: RuleSource, request: DecisionRequest) -> Result<Explanation, OneShotError> {
        let rules = core_rules(rules).map_err(|e| OneShotError::RulesRefused(compile_error(e)))?;
        pkgprotect::RuleSet::decide_once(rules, &core_request(request)).map(wit_explanation).map_err(one_shot_error)
    }

    fn preview(pattern: String, kind: TargetKind, names: Vec<String>, unit: OffsetUnit) -> PreviewResult {
        let names = pkgprotect::NameList::new(names, core_offset_unit(unit));
        wit_preview(names.preview(&pattern, core_target_kind(kind)))
    }
}

impl engine::Guest for Component {
    type RuleSet = CompiledRules;
    type NameList = Names;
}

impl CompiledRules {
    /// The core's summary for a request as the WIT gives it (its name not copied).
    fn summarize(&self, request: &DecisionRequest) -> Result<pkgprotect::Summary, pkgprotect::DecideError> {
        let kind = core_target_kind(request.kind);
        self.0.summarize_name(kind, &request.name, core_action(request.action), core_actor(request.actor))
    }
}

impl GuestRuleSet for CompiledRules {
    fn compile(rules: RuleSource) -> Result<engine::RuleSet, CompileError> {
        compile(rules).map(|set| engine::RuleSet::new(CompiledRules(broken_if_told(set)))).map_err(compile_error)
    }

    fn len(&self) -> u32 {
        convert::count(self.0.len())
    }

    fn decide(&self, request: DecisionRequest) -> Result<Decision, DecideError> {
        self.summarize(&request).map(wit_decision).map_err(decide_error)
    }

    fn explain(&self, request: DecisionRequest) -> Result<Explanation, DecideError> {
        self.0.decide(&core_request(request)).map(wit_explanation).map_err(decide_error)
    }

    fn decide_names(&self, kind: TargetKind, names: Vec<String>, action: Action, actor: Actor) -> Vec<Verdict> {
        let (kind, action, actor) = (core_target_kind(kind), core_action(action), core_actor(actor));
        names.iter().map(|name| wit_verdict(&self.0.summarize_name(kind, name, action, actor))).collect()
    }

    fn decide_batch(&self, requests: Vec<DecisionRequest>) -> Vec<Verdict> {
        requests.iter().map(|request| wit_verdict(&self.summarize(request))).collect()
    }

    fn decide_all(&self, requests: Vec<DecisionRequest>) -> Vec<Option<Decision>> {
        requests.iter().map(|request| self.summarize(request).ok().map(wit_decision)).collect()
    }

    fn lint(&self) -> Vec<Finding> {
        self.0.lint().into_iter().map(convert::wit_finding).collect()
    }
}

impl GuestNameList for Names {
    fn new(names: Vec<String>, unit: OffsetUnit) -> Self {
        Names(pkgprotect::NameList::new(names, core_offset_unit(unit)))
    }

    fn len(&self) -> u32 {
        convert::count(self.0.len())
    }

    fn preview(&self, pattern: String, kind: TargetKind) -> PreviewResult {
        wit_preview(self.0.preview(&pattern, core_target_kind(kind)))
    }

    fn decide(&self, rules: RuleSetBorrow<'_>, kind: TargetKind, action: Action, actor: Actor) -> Vec<Verdict> {
        let rules = &rules.get::<CompiledRules>().0;
        let (kind, action, actor) = (core_target_kind(kind), core_action(action), core_actor(actor));
        self.0.iter().map(|name| wit_verdict(&rules.summarize_name(kind, name, action, actor))).collect()
    }
}

// Below everything else, so that no line of the code above moves (source locations are
// compiled into the component's bytes). The production build passes rule sets on as they
// are; the test build (feature `fault-injection`) breaks the invariant its extra export was
// given, if any.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn broken_if_told(set: pkgprotect::RuleSet) -> pkgprotect::RuleSet {
    set
}

#[cfg(feature = "fault-injection")]
use crate::fault::apply as broken_if_told;
