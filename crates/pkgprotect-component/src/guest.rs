//! The guest: WIT exports implemented over the core (compiled for wasm32 only).

#[path = "convert.rs"]
mod convert;

use self::convert::{core_rules, rule_set_errors, wit_decision, wit_rule, wit_validation_errors};
use bindings::exports::pkgprotect::policy::api::{self, MatchResult, ValidationContext};
use bindings::exports::pkgprotect::policy::engine::{self, Finding, GuestRuleSet};
use bindings::exports::pkgprotect::policy::types::{
    Decision, DecisionRequest, PackageType, Rule, RuleKind, ValidationError,
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

#[derive(Debug)]
pub struct Component;

/// The resource behind `engine.rule-set`.
#[derive(Debug)]
pub struct CompiledRules(pkgprotect::RuleSet);

impl api::Guest for Component {
    fn validate_rule(rule: Rule, context: ValidationContext) -> Result<(), Vec<ValidationError>> {
        let rule = convert::core_rule(rule);
        let (existing, previous) = convert::context_rules(context.existing_rules, context.previous);
        let context = pkgprotect::ValidationContext {
            project_path: context.project_path.as_deref(),
            existing_rules: &existing,
            previous: previous.as_ref(),
        };
        pkgprotect::validate_rule(&rule, &context).map_err(wit_validation_errors)
    }

    fn validate_params(
        kind: RuleKind,
        params_json: String,
        context: ValidationContext,
    ) -> Result<Rule, Vec<ValidationError>> {
        let params: serde_json::Value = serde_json::from_str(&params_json).map_err(|e| {
            vec![ValidationError {
                field: "base".into(),
                message: format!("params-json is not valid JSON: {e}"),
                http_status: 400,
            }]
        })?;
        let (existing, previous) = convert::context_rules(context.existing_rules, context.previous);
        let kind = convert::core_kind(kind);
        let mode = match &previous {
            Some(stored) => pkgprotect::ParamsMode::Update(stored),
            None => pkgprotect::ParamsMode::Create,
        };
        let rule = pkgprotect::parse_rule_params(kind, &params, mode).map_err(wit_validation_errors)?;
        let core_context = pkgprotect::ValidationContext {
            project_path: context.project_path.as_deref(),
            existing_rules: &existing,
            previous: previous.as_ref(),
        };
        pkgprotect::validate_rule(&rule, &core_context).map_err(wit_validation_errors)?;
        Ok(wit_rule(rule))
    }

    fn decide(rules: Vec<Rule>, request: DecisionRequest) -> Result<Decision, String> {
        let set = pkgprotect::RuleSet::new(core_rules(rules)).map_err(|e| e.to_string())?;
        set.decide(&convert::core_request(request)).map(wit_decision).map_err(|e| e.to_string())
    }

    fn preview(pattern: String, package_type: Option<PackageType>, names: Vec<String>) -> Vec<MatchResult> {
        pkgprotect::preview(&pattern, package_type.map(convert::core_package_type), &names)
            .into_iter()
            .map(|m| MatchResult {
                spans: m.spans.iter().map(|&(s, e)| (convert::offset(s), convert::offset(e))).collect(),
                name: m.name,
                matched: m.matched,
                error: m.error,
            })
            .collect()
    }

    fn version() -> String {
        pkgprotect::VERSION.into()
    }
}

impl engine::Guest for Component {
    type RuleSet = CompiledRules;
}

impl GuestRuleSet for CompiledRules {
    fn compile(rules: Vec<Rule>) -> Result<engine::RuleSet, Vec<ValidationError>> {
        pkgprotect::RuleSet::new(core_rules(rules))
            .map(|set| engine::RuleSet::new(CompiledRules(set)))
            .map_err(rule_set_errors)
    }

    fn decide(&self, request: DecisionRequest) -> Result<Decision, String> {
        self.0.decide(&convert::core_request(request)).map(wit_decision).map_err(|e| e.to_string())
    }

    fn decide_batch(&self, requests: Vec<DecisionRequest>) -> Vec<Result<Decision, String>> {
        requests.into_iter().map(|request| self.decide(request)).collect()
    }

    fn lint(&self) -> Vec<Finding> {
        self.0
            .lint()
            .into_iter()
            .map(|f| Finding {
                kind: serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                rule_ids: f.rule_ids,
                message: f.message,
            })
            .collect()
    }
}
