//! JavaScript bindings of pkgprotect: GitLab-exact protection rules, validation and live
//! pattern previews in browsers and Node, answered by the same Rust core as the server.
//!
//! This crate only translates; every answer comes from the `pkgprotect` crate. wasm-pack
//! builds it into the npm package in `bindings/js` (see its README). The API is contract
//! 0.2's, the same as `@pkgprotect/node`'s:
//!
//! ```js
//! import { RuleSet, NameList, validateRule, RuleSetError } from "pkgprotect";
//!
//! validateRule({ package_name_pattern: "@demo/*", package_type: "npm",
//!                minimum_access_level_for_push: "maintainer" }, { kind: "package" });
//! // → { valid: true, httpStatus: 201, errors: [] }
//!
//! using rules = RuleSet.compile([{ id: 1, package_name_pattern: "@demo/*", package_type: "npm",
//!                                  minimum_access_level_for_push: "maintainer" }]);
//! const request = { package_name: "@demo/ui", package_type: "npm", action: "push",
//!                   actor: { type: "user", access_level: "developer" } };
//! rules.decide(request);   // → { allowed: false, blocking_rules: 1, first_blocking_rule: 1 }
//! rules.explain(request);  // → { allowed: false, blocking_rule_ids: [1], reason: "blocked by rule 1 (`@demo/*`): …" }
//!
//! using names = new NameList(["@demo/ui", "@other/ui"]);
//! names.preview("@demo/*", { kind: "npm" });
//! // → { matched: [0], spans: [0, 6], span_offsets: [0, 2], undecidable: [] }
//! ```

mod convert;
mod errors;
mod glue;

use convert::{
    Shape, Targets, arg, list_arg, options_arg, preview_first_options, preview_kind, string_arg, to_js, to_u32,
    verdict_code,
};
use errors::{FieldError, Given, decision_failure, rule_set_failure, rule_validation_error};
use pkgprotect::{DecisionRequest, OffsetUnit, Rule, RuleKind, RuleSet, Summary, ValidationContext, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

/// The contract these bindings implement: `package pkgprotect:policy@0.2.1` in
/// `crates/pkgprotect-component/wit/policy.wit` (a test checks that they agree).
const CONTRACT_VERSION: &str = "0.2.1";

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export type AccessLevel =
  | "no_access" | "minimal_access" | "guest" | "planner" | "reporter"
  | "developer" | "maintainer" | "owner" | "admin";
export type PackageType =
  | "cargo" | "conan" | "generic" | "helm" | "maven" | "npm" | "nuget" | "pypi" | "terraform_module";
export type RuleKind = "package" | "container_repository";
/** What a name is: a package of one of GitLab's package types, or a container repository. */
export type TargetKind = PackageType | "container_repository";
export type Action = "push" | "delete";
/** One request's answer in a batch. `undecidable`: refuse it (`explain` says why). */
export type Verdict = "allowed" | "blocked" | "undecidable";

/** A package protection rule as GitLab's REST API returns it. */
export interface PackageRule {
  id?: number;
  project_id?: number;
  package_name_pattern: string;
  package_type: PackageType;
  minimum_access_level_for_push?: AccessLevel | null;
  minimum_access_level_for_delete?: AccessLevel | null;
}

/** A container repository protection rule as GitLab's REST API returns it. */
export interface ContainerRepositoryRule {
  id?: number;
  project_id?: number;
  repository_path_pattern: string;
  minimum_access_level_for_push?: AccessLevel | null;
  minimum_access_level_for_delete?: AccessLevel | null;
}

/** Either kind; the pattern field tells them apart, as in GitLab's API. */
export type Rule = PackageRule | ContainerRepositoryRule;

/**
 * The parameters of a create (or update) request as a client sends them to GitLab: any of
 * them may be missing or wrong, which is what `validateRule` reports.
 */
export type RuleParams = { [parameter: string]: unknown };

export interface ValidateOptions {
  kind: RuleKind;
  /** The project's full path; container patterns must start with it. Omit to skip that check. */
  projectPath?: string | null;
  /** The project's stored rules, for GitLab's uniqueness check. */
  existingRules?: Rule[];
  /** The stored rule being updated: the parameters are then a PATCH (every one optional). */
  previous?: Rule | null;
}

export interface ValidationError {
  /**
   * The REST parameter at fault: `package_name_pattern`, `package_type`, `repository_path_pattern`,
   * `minimum_access_level_for_push`, `minimum_access_level_for_delete`, both minimums at once
   * (`minimum_access_level_for_push,minimum_access_level_for_delete`), or `base` (the whole rule).
   */
  field: string;
  /** GitLab's own message text. */
  message: string;
}

export interface Validation {
  valid: boolean;
  /** GitLab's answer to the request: 201 created, 400 parameter error, 422 model error. */
  httpStatus: 201 | 400 | 422;
  errors: ValidationError[];
}

export type Actor =
  | { type: "user"; access_level: AccessLevel }
  | { type: "deploy_token" };

export type DecisionRequest =
  | { package_name: string; package_type: PackageType; action: Action; actor: Actor }
  | { repository_path: string; action: Action; actor: Actor };

/** A decision without its explanation (the hot path). */
export interface Summary {
  allowed: boolean;
  /** How many rules block the request. */
  blocking_rules: number;
  /** The first blocking rule, in the order the rules were given; `null` when allowed. */
  first_blocking_rule: number | null;
}

/** A decision with its explanation (`explain`). */
export interface Decision {
  allowed: boolean;
  /** Every blocking rule, in rule order. */
  blocking_rule_ids: number[];
  /** One sentence for people: why the request is allowed or blocked. */
  reason: string;
}

/** What many names are asked about (`decideNames`, `NameList#decide`). */
export interface TargetOptions {
  kind: TargetKind;
  action: Action;
  actor: Actor;
}

export interface PreviewOptions {
  /** The kind of target a rule with this pattern would protect (`pypi`: separators compare equal for users). */
  kind: TargetKind;
}

export interface PreviewFirstOptions {
  /** As in `PreviewOptions`. */
  kind: TargetKind;
  /** How many matches to list with their spans (a whole number from 0 up); all are counted. */
  limit: number;
}

/** `NameList#previewFirst`: a `Preview` of the first `limit` matches, and how many names match in all. */
export interface PreviewFirst extends Preview {
  /** How many names the pattern matches, listed or not. */
  matched_count: number;
}

/** Which names a pattern matches. Names are not echoed: positions into the list given. */
export interface Preview {
  /** Positions of the matching names, ascending. */
  matched: number[];
  /**
   * The parts of the names the pattern's literal characters matched: `[start, end)` pairs
   * flattened, in UTF-16 code units (`name.slice(start, end)`).
   */
  spans: number[];
  /** The pairs of `matched[i]` are `spans.slice(span_offsets[i], span_offsets[i + 1])` (`matched.length + 1` offsets). */
  span_offsets: number[];
  /** Positions where GitLab's query would fail (the pattern ends with a lone `\` and matching reached it). */
  undecidable: number[];
}

export type FindingKind =
  | "duplicate_pattern" | "equivalent_patterns" | "subsumed_rule" | "restricts_nothing"
  | "trailing_escape" | "surprising_escape" | "literal_wildcard_lookalike" | "pypi_separators";

export interface Finding {
  kind: FindingKind;
  rule_ids: number[];
  message: string;
}

/** A REST field a `RuleSetError` cause names. */
export type RuleField = "package_name_pattern" | "repository_path_pattern" | "minimum_access_level_for_push" | "minimum_access_level_for_delete";

/** Why a rule list cannot be compiled (`RuleSetError#cause`). */
export type RuleSetErrorCause =
  | { kind: "missing_id"; position: number }
  | { kind: "duplicate_id"; id: number }
  | { kind: "too_many_rules" }
  | { kind: "level_not_allowed"; rule_id: number; field: RuleField; level: AccessLevel }
  | { kind: "blank_pattern"; rule_id: number; field: RuleField }
  | { kind: "pattern_too_long"; rule_id: number; field: RuleField; chars: number }
  | { kind: "invalid_json"; line: number; column: number };

/** Why a decision cannot be made (`DecisionError#cause`): refuse the request either way. */
export type DecisionErrorCause =
  | { kind: "unevaluable"; rule_id: number; pattern: string }
  | { kind: "internal" };

/**
 * Every error pkgprotect throws is a `PkgprotectError`, thrown as is for a malformed
 * argument: `field` names the input at fault (`rules[2].id`, `options.kind`, `requests[5].actor`, `rule`).
 */
export class PkgprotectError extends Error {
  field: string;
}

/** GitLab refuses the rule (`parseRule`); `field` and `message` are those of the first error. */
export class RuleValidationError extends PkgprotectError {
  /** What GitLab's API answers: 400 parameter layer, 422 model. */
  httpStatus: 400 | 422;
  errors: ValidationError[];
}

/** A rule list that could not have come from GitLab's database (compile and one-shot calls). */
export class RuleSetError extends PkgprotectError {
  cause: RuleSetErrorCause;
}

/** A decision that could not be made (`decide`, `explain`): refuse the request. */
export class DecisionError extends PkgprotectError {
  cause: DecisionErrorCause;
}
"#;

/// The contract version, `0.2.1`: the same API as every pkgprotect host of this contract.
#[wasm_bindgen]
pub fn version() -> String {
    CONTRACT_VERSION.to_owned()
}

/// The engine's version (the core crate's).
#[wasm_bindgen(js_name = engineVersion)]
pub fn engine_version() -> String {
    pkgprotect::VERSION.to_owned()
}

/// The request body's parameters and what validation needs besides them.
fn validation_inputs(rule: &JsValue, options: &JsValue) -> Result<(String, ValidateOptions), FieldError> {
    let json = match stringify_object(rule)? {
        Some(json) => json,
        None => return Err(FieldError::new("rule", "rule must be an object of GitLab REST parameters")),
    };
    Ok((json, ValidateOptions::read(options)?))
}

fn stringify_object(value: &JsValue) -> Result<Option<String>, FieldError> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Ok(None);
    }
    convert::stringify(value, "rule")
}

/// GitLab's answer to creating (or, with `previous`, updating) a rule: the parameter layer
/// (400) then the model (422), all failures at once, with GitLab's messages.
#[wasm_bindgen(js_name = validateRule, unchecked_return_type = "Validation")]
pub fn validate_rule(
    #[wasm_bindgen(unchecked_param_type = "RuleParams")] rule: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ValidateOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let (json, options) = validation_inputs(&rule, &options)?;
    let validation = match pkgprotect::validate_params_json(options.kind, &json, &options.context()) {
        Ok(_) => Validation { valid: true, http_status: 201, errors: Vec::new() },
        Err(rejection) => Validation { valid: false, http_status: rejection.http_status(), errors: rejection.errors },
    };
    Ok(to_js(&validation)?)
}

/// The rule GitLab would store for these parameters; throws `RuleValidationError` (with
/// GitLab's status and every failing check) when it would refuse them.
#[wasm_bindgen(js_name = parseRule, unchecked_return_type = "Rule")]
pub fn parse_rule(
    #[wasm_bindgen(unchecked_param_type = "RuleParams")] rule: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ValidateOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let (json, options) = validation_inputs(&rule, &options)?;
    match pkgprotect::validate_params_json(options.kind, &json, &options.context()) {
        Ok(rule) => Ok(to_js(&rule)?),
        Err(rejection) => Err(rule_validation_error(&rejection)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    valid: bool,
    http_status: u16,
    errors: Vec<pkgprotect::ValidationError>,
}

#[derive(Debug)]
struct ValidateOptions {
    kind: RuleKind,
    project_path: Option<String>,
    existing_rules: Vec<Rule>,
    previous: Option<Rule>,
}

impl ValidateOptions {
    const KNOWN: [&'static str; 4] = ["kind", "projectPath", "existingRules", "previous"];

    fn read(options: &JsValue) -> Result<Self, FieldError> {
        Self::from_map(options_arg(options, &Self::KNOWN, r#"{ kind: "package" }"#)?)
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Self, FieldError> {
        let kind = match map.remove("kind") {
            // GitLab's names only, as the core's JSON spells them (not the CLI's `container`).
            Some(Value::String(kind)) => RuleKind::deserialize(Value::String(kind.clone()))
                .map_err(|_| FieldError::new("options.kind", pkgprotect::UnknownRuleKind(kind).to_string()))?,
            _ => {
                return Err(FieldError::new(
                    "options.kind",
                    "options.kind is required: \"package\" or \"container_repository\"",
                ));
            }
        };
        let project_path = match map.remove("projectPath") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) => Some(path),
            Some(_) => return Err(FieldError::new("options.projectPath", "options.projectPath must be a string")),
        };
        let existing_rules = match map.remove("existingRules") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    let field = format!("options.existingRules[{index}]");
                    let rule = convert::from_value(item, Shape::Rule, &field)?;
                    convert::safe_ids(&rule, &field).map(|()| rule)
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(FieldError::new(
                    "options.existingRules",
                    "options.existingRules must be an array of rules",
                ));
            }
        };
        let previous = match map.remove("previous") {
            None | Some(Value::Null) => None,
            Some(value) => {
                let rule = convert::from_value(value, Shape::Rule, "options.previous")?;
                convert::safe_ids(&rule, "options.previous")?;
                Some(rule)
            }
        };
        Ok(ValidateOptions { kind, project_path, existing_rules, previous })
    }

    fn context(&self) -> ValidationContext<'_> {
        ValidationContext {
            project_path: self.project_path.as_deref(),
            existing_rules: &self.existing_rules,
            previous: self.previous.as_ref(),
        }
    }
}

/// Rules as the caller passed them: an array of rule objects, or GitLab's REST JSON text.
enum RulesArg {
    Array(Vec<Rule>),
    Json(String),
}

impl RulesArg {
    fn read(rules: &JsValue) -> Result<Self, FieldError> {
        match rules.as_string() {
            Some(json) => Ok(RulesArg::Json(json)),
            None => Ok(RulesArg::Array(convert::rules_arg(rules)?)),
        }
    }

    /// The rules; the text is parsed by the core, which refuses it with a `RuleSetError`.
    fn into_rules(self) -> Result<Vec<Rule>, JsValue> {
        match self {
            RulesArg::Array(rules) => Ok(rules),
            RulesArg::Json(json) => match RuleSet::parse_gitlab_json(&json) {
                Ok(rules) => Ok(rules),
                Err(error) => Err(rule_set_failure(&error, Given::Json).into()),
            },
        }
    }
}

/// Compile a project's rules: an array of rules (both kinds, as GitLab's API returns them) or
/// that array's JSON text. Throws `RuleSetError` when the list could not have come from GitLab
/// (missing or repeated ids, blank or over-long patterns, levels the API never accepts).
#[wasm_bindgen(js_name = compileRules)]
pub fn compile_rules(
    #[wasm_bindgen(unchecked_param_type = "Rule[] | string")] rules: JsValue,
) -> Result<JsRuleSet, JsValue> {
    JsRuleSet::compile(rules)
}

/// One-shot decision: decide `request` against `rules` once (the core scans them in order
/// instead of indexing them). Throws `RuleSetError` or `DecisionError`, either of which means: refuse.
#[wasm_bindgen(unchecked_return_type = "Summary")]
pub fn decide(
    #[wasm_bindgen(unchecked_param_type = "Rule[] | string")] rules: JsValue,
    #[wasm_bindgen(unchecked_param_type = "DecisionRequest")] request: JsValue,
) -> Result<JsValue, JsValue> {
    let (list, request) = one_shot_inputs(&rules, &request)?;
    match RuleSet::summarize_once(list, &request) {
        Ok(summary) => Ok(summary_js(&summary)),
        Err(error) => Err(one_shot_error(&error, &rules)),
    }
}

/// One-shot `explain`: every blocking rule and the reason.
#[wasm_bindgen(unchecked_return_type = "Decision")]
pub fn explain(
    #[wasm_bindgen(unchecked_param_type = "Rule[] | string")] rules: JsValue,
    #[wasm_bindgen(unchecked_param_type = "DecisionRequest")] request: JsValue,
) -> Result<JsValue, JsValue> {
    let (list, request) = one_shot_inputs(&rules, &request)?;
    match RuleSet::decide_once(list, &request) {
        Ok(decision) => Ok(to_js(&decision)?),
        Err(error) => Err(one_shot_error(&error, &rules)),
    }
}

fn one_shot_inputs(rules: &JsValue, request: &JsValue) -> Result<(Vec<Rule>, DecisionRequest), JsValue> {
    let rules = RulesArg::read(rules)?;
    let request: DecisionRequest = arg(request, Shape::Request, "request")?;
    Ok((rules.into_rules()?, request))
}

/// The error of a one-shot call. The core took the rules; an error (the cold path) reads
/// the caller's array again to point into it.
fn one_shot_error(error: &pkgprotect::OneShotError, rules: &JsValue) -> JsValue {
    let array = match RulesArg::read(rules) {
        Ok(RulesArg::Array(array)) => Some(array),
        _ => None,
    };
    match error {
        pkgprotect::OneShotError::Rules(error) => {
            let given = array.as_deref().map_or(Given::Json, Given::Array);
            rule_set_failure(error, given).into()
        }
        pkgprotect::OneShotError::Decide(error) => decision_failure(error, array.as_deref()).into(),
    }
}

fn summary_js(summary: &Summary) -> JsValue {
    // Rule ids come from JavaScript numbers, so they convert back exactly.
    glue::summary(summary.allowed, summary.blocking_rules, summary.first_blocking_rule.map(|id| id as f64))
}

fn verdicts_js(verdicts: impl Iterator<Item = Verdict>) -> JsValue {
    let codes: Vec<u8> = verdicts.map(verdict_code).collect();
    glue::verdicts(&codes)
}

/// A compiled rule set. It lives in Wasm memory: call `free()` when done with it (or `using`
/// it; the garbage collector's finalizer also frees it, late).
#[wasm_bindgen(js_name = RuleSet)]
#[derive(Debug)]
pub struct JsRuleSet {
    inner: RuleSet,
    /// Compiled from an array the caller can index (errors then point at `rules[i]`).
    indexable: bool,
}

#[wasm_bindgen(js_class = RuleSet)]
impl JsRuleSet {
    /// Compile a project's rules: an array of rules or GitLab's REST JSON text (an array of
    /// rule objects), parsed by the core. Throws `RuleSetError`.
    pub fn compile(
        #[wasm_bindgen(unchecked_param_type = "Rule[] | string")] rules: JsValue,
    ) -> Result<JsRuleSet, JsValue> {
        match RulesArg::read(&rules)? {
            RulesArg::Array(list) => match RuleSet::new(list) {
                Ok(inner) => Ok(JsRuleSet { inner, indexable: true }),
                // The core took the rules; the cold path reads the caller's array again.
                Err(error) => {
                    let list = convert::rules_arg(&rules)?;
                    Err(rule_set_failure(&error, Given::Array(&list)).into())
                }
            },
            RulesArg::Json(json) => match RuleSet::from_gitlab_json(&json) {
                Ok(inner) => Ok(JsRuleSet { inner, indexable: false }),
                Err(error) => Err(rule_set_failure(&error, Given::Json).into()),
            },
        }
    }

    /// The number of rules.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        to_u32(self.inner.len())
    }

    /// May this actor do this? The hot path: no explanation. Throws `DecisionError` when no
    /// answer can be given (GitLab's own query would fail, or the engine found itself
    /// inconsistent): refuse the request then.
    #[wasm_bindgen(unchecked_return_type = "Summary")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecisionRequest")] request: JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: DecisionRequest = arg(&request, Shape::Request, "request")?;
        match self.inner.summarize(&request) {
            Ok(summary) => Ok(summary_js(&summary)),
            Err(error) => Err(self.decision_error(&error)),
        }
    }

    /// The same answer with every blocking rule id and the reason. Throws `DecisionError`.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecisionRequest")] request: JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: DecisionRequest = arg(&request, Shape::Request, "request")?;
        match self.inner.decide(&request) {
            Ok(decision) => Ok(to_js(&decision)?),
            Err(error) => Err(self.decision_error(&error)),
        }
    }

    /// One verdict per name, in order: may `options.actor` do `options.action` to each
    /// target of `options.kind` named in `names`?
    #[wasm_bindgen(js_name = decideNames, unchecked_return_type = "Verdict[]")]
    pub fn decide_names(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] names: JsValue,
        #[wasm_bindgen(unchecked_param_type = "TargetOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let names: Vec<String> = list_arg(&names, Shape::Other, "names")?;
        let Targets { kind, action, actor } = Targets::read(&options)?;
        let answers = names.iter().map(|name| Verdict::of(&self.inner.summarize_name(kind, name, action, actor)));
        Ok(verdicts_js(answers))
    }

    /// One verdict per request, in order, for requests of mixed kinds, actors and actions.
    /// A request that cannot be decided is `"undecidable"` (refuse it; `explain` says why).
    #[wasm_bindgen(js_name = decideBatch, unchecked_return_type = "Verdict[]")]
    pub fn decide_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecisionRequest[]")] requests: JsValue,
    ) -> Result<JsValue, JsValue> {
        let requests: Vec<DecisionRequest> = list_arg(&requests, Shape::Request, "requests")?;
        Ok(verdicts_js(requests.iter().map(|request| Verdict::of(&self.inner.summarize(request)))))
    }

    /// Advice: duplicates, subsumed rules, rules that restrict nothing, surprising escapes…
    #[wasm_bindgen(unchecked_return_type = "Finding[]")]
    pub fn lint(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.inner.lint())?)
    }
}

impl JsRuleSet {
    fn decision_error(&self, error: &pkgprotect::DecideError) -> JsValue {
        decision_failure(error, self.indexable.then(|| self.inner.rules())).into()
    }
}

/// Which of `names` `pattern` matches, as a rule for targets of `options.kind` would, with
/// the matched parts in UTF-16 code units. For many previews of the same names, `NameList`
/// keeps them in Wasm memory.
#[wasm_bindgen(unchecked_return_type = "Preview")]
pub fn preview(
    #[wasm_bindgen(unchecked_param_type = "string")] pattern: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] names: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PreviewOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let pattern = string_arg(&pattern, "pattern")?;
    let names: Vec<String> = list_arg(&names, Shape::Other, "names")?;
    let kind = preview_kind(&options)?;
    Ok(preview_js(&pkgprotect::NameList::new(names, OffsetUnit::Utf16CodeUnits).preview(&pattern, kind)))
}

fn preview_js(preview: &pkgprotect::Preview) -> JsValue {
    glue::preview_result(&preview.matched, &preview.spans, &preview.span_offsets, &preview.undecidable)
}

/// Names kept in Wasm memory for repeated previews (one per keystroke) and decisions: they
/// cross once; each preview sends only the pattern. Spans count UTF-16 code units.
#[wasm_bindgen]
#[derive(Debug)]
pub struct NameList {
    inner: pkgprotect::NameList,
}

#[wasm_bindgen]
impl NameList {
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "string[]")] names: JsValue) -> Result<NameList, JsValue> {
        let names: Vec<String> = list_arg(&names, Shape::Other, "names")?;
        Ok(NameList { inner: pkgprotect::NameList::new(names, OffsetUnit::Utf16CodeUnits) })
    }

    /// The number of names.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        to_u32(self.inner.len())
    }

    /// Which names `pattern` matches, as a rule for targets of `options.kind` would.
    #[wasm_bindgen(unchecked_return_type = "Preview")]
    pub fn preview(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] pattern: JsValue,
        #[wasm_bindgen(unchecked_param_type = "PreviewOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let pattern = string_arg(&pattern, "pattern")?;
        let kind = preview_kind(&options)?;
        Ok(preview_js(&self.inner.preview(&pattern, kind)))
    }

    /// `preview` for showing the first matches of a long list: every name is matched and
    /// counted (`matched_count`), only the first `options.limit` are listed with their spans.
    /// With `limit` at least `matched_count`, the rest equals `preview`'s answer.
    #[wasm_bindgen(js_name = previewFirst, unchecked_return_type = "PreviewFirst")]
    pub fn preview_first(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] pattern: JsValue,
        #[wasm_bindgen(unchecked_param_type = "PreviewFirstOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let pattern = string_arg(&pattern, "pattern")?;
        let (kind, limit) = preview_first_options(&options)?;
        let first = self.inner.preview_first(&pattern, kind, limit);
        let p = &first.preview;
        Ok(glue::preview_first_result(first.matched as f64, &p.matched, &p.spans, &p.span_offsets, &p.undecidable))
    }

    /// One verdict per name: would `rules` let `options.actor` do `options.action` to each
    /// name as a target of `options.kind`?
    #[wasm_bindgen(unchecked_return_type = "Verdict[]")]
    pub fn decide(
        &self,
        rules: &JsRuleSet,
        #[wasm_bindgen(unchecked_param_type = "TargetOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let Targets { kind, action, actor } = Targets::read(&options)?;
        let answers = self.inner.iter().map(|name| Verdict::of(&rules.inner.summarize_name(kind, name, action, actor)));
        Ok(verdicts_js(answers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(value: Value) -> Result<ValidateOptions, FieldError> {
        let Value::Object(map) = value else { unreachable!() };
        ValidateOptions::from_map(map)
    }

    #[test]
    fn options_need_a_known_kind() {
        assert_eq!(options(json!({})).unwrap_err().field, "options.kind");
        let err = options(json!({"kind": "pkg"})).unwrap_err();
        assert_eq!(err.field, "options.kind");
        assert!(err.message.contains("unknown rule kind `pkg`"), "{}", err.message);
        assert_eq!(options(json!({"kind": "container_repository"})).unwrap().kind, RuleKind::ContainerRepository);
    }

    #[test]
    fn existing_rules_errors_name_the_rule() {
        let err = options(json!({"kind": "package", "existingRules": [{"package_name_pattern": "a"}]})).unwrap_err();
        assert_eq!(err.field, "options.existingRules[0].package_type");
        assert!(err.message.contains("package_type"), "{}", err.message);
    }

    #[test]
    fn the_contract_version_is_the_wit_package_version() {
        let wit = include_str!("../../../crates/pkgprotect-component/wit/policy.wit");
        assert!(wit.contains(&format!("package pkgprotect:policy@{CONTRACT_VERSION};")));
    }
}
