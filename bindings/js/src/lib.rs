//! JavaScript bindings of pkgprotect: GitLab-exact protection rules, validation and live
//! pattern previews in browsers and Node, answered by the same Rust core as the server.
//!
//! This crate only translates; every answer comes from the `pkgprotect` crate. wasm-pack
//! builds it into the npm package in `bindings/js` (see its README):
//!
//! ```js
//! import { validateRule, compileRules, NameList, version } from "pkgprotect";
//!
//! validateRule({ package_name_pattern: "@demo/*", package_type: "npm",
//!                minimum_access_level_for_push: "maintainer" }, { kind: "package" });
//! // → { valid: true, httpStatus: 201, errors: [] }
//!
//! const rules = compileRules([{ id: 1, package_name_pattern: "@demo/*", package_type: "npm",
//!                               minimum_access_level_for_push: "maintainer" }]);
//! rules.decide({ package_name: "@demo/ui", package_type: "npm", action: "push",
//!                actor: { type: "user", access_level: "developer" } });
//! // → { allowed: false, blocking_rule_ids: [1], reason: "blocked by rule 1 (`@demo/*`): …" }
//! rules.free();
//!
//! const names = NameList.fromLines("@demo/ui\n@other/ui\n");
//! names.preview("@demo/*", { packageType: "npm" });
//! // → { matched: Uint32Array [0], spans: Uint32Array [0, 6], spanOffsets: Uint32Array [0, 2], … }
//! ```

mod convert;
mod names;

pub use convert::FieldError;
pub use names::{Names, PreviewData};

use convert::{arg, decide_error, from_value, list_arg, rule_set_error, stringify, to_js};
use names::to_u32;
use pkgprotect::{
    Decision, DecisionRequest, PackageType, ParamsMode, Rule, RuleKind, RuleSet, ValidationContext, ValidationError,
};
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export type AccessLevel =
  | "no_access" | "minimal_access" | "guest" | "planner" | "reporter"
  | "developer" | "maintainer" | "owner" | "admin";
export type PackageType =
  | "cargo" | "conan" | "generic" | "helm" | "maven" | "npm" | "nuget" | "pypi" | "terraform_module";
export type RuleKind = "package" | "container_repository";
export type Action = "push" | "delete";

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
 * The parameters of a create request, as a client would send them to GitLab: any of them
 * may be missing or wrong, which is what `validateRule` reports.
 */
export type RuleParams = { [parameter: string]: unknown };

export interface ValidateOptions {
  kind: RuleKind;
  /** The project's full path; container patterns must start with it. Omit to skip that check. */
  projectPath?: string | null;
  /** The project's stored rules, for GitLab's uniqueness check. */
  existingRules?: Rule[];
  /** The stored rule being updated: `rule` is then a PATCH (every parameter optional). */
  previous?: Rule | null;
}

export type ValidationField =
  | "package_name_pattern" | "package_type" | "repository_path_pattern"
  | "minimum_access_level_for_push" | "minimum_access_level_for_delete"
  | "minimum_access_level_for_push,minimum_access_level_for_delete" | "base";

export interface ValidationError {
  field: ValidationField;
  /** GitLab's own message text. */
  message: string;
}

export interface Validation {
  valid: boolean;
  /** GitLab's answer to the create request: 201 created, 400 parameter error, 422 model error. */
  httpStatus: 201 | 400 | 422;
  errors: ValidationError[];
}

export type Actor =
  | { type: "user"; access_level: AccessLevel }
  | { type: "deploy_token" };

export type DecisionRequest =
  | { package_name: string; package_type: PackageType; action: Action; actor: Actor }
  | { repository_path: string; action: Action; actor: Actor };

export interface Decision {
  allowed: boolean;
  /** Every blocking rule, in rule order. */
  blocking_rule_ids: number[];
  reason: string;
}

/** A field and a readable message; also the shape of every thrown `PkgprotectError`. */
export interface FieldError {
  field: string;
  message: string;
}

/** A request of a batch GitLab could not answer (its query would fail): treat it as refused. */
export interface DecisionFailure {
  allowed: false;
  error: FieldError;
}

export type FindingKind =
  | "duplicate_pattern" | "equivalent_patterns" | "subsumed_rule" | "restricts_nothing"
  | "trailing_escape" | "surprising_escape" | "literal_wildcard_lookalike" | "pypi_separators";

export interface Finding {
  kind: FindingKind;
  rule_ids: number[];
  message: string;
}

export interface PreviewOptions {
  /** The rule's package type; omit (or null) for a container repository rule. */
  packageType?: PackageType | null;
}

export interface PreviewMatch {
  name: string;
  matched: boolean;
  /** `[start, end)` in UTF-16 code units (JS string indices) of the parts the pattern's literal characters matched. */
  spans: [number, number][];
  /** Set when GitLab's query would fail for this name (the pattern ends with a lone `\`). */
  error?: string;
}

/** A `NameList` preview, as typed arrays: one crossing for the whole list. */
export interface NameListPreview {
  /** Indices of the matching names, ascending. */
  matched: Uint32Array;
  /** Flattened UTF-16 `[start, end)` pairs; those of `matched[i]` are `spans.subarray(spanOffsets[i], spanOffsets[i + 1])`. */
  spans: Uint32Array;
  /** `matched.length + 1` offsets into `spans`. */
  spanOffsets: Uint32Array;
  /** Indices of the names for which GitLab's query would fail. */
  errored: Uint32Array;
  /** The failure's message, when `errored` is not empty. */
  error?: string;
}

// wasm-bindgen cannot mark a parameter with an overridden type as optional, so the two
// preview functions are declared here (the interface merges into the generated class).

/**
 * Which of `names` the pattern matches, as GitLab would, with the matched parts in UTF-16
 * code units. Convenient for a few hundred names; for thousands, use `NameList`, which
 * keeps the names in Wasm memory between previews.
 */
export function preview(pattern: string, names: string[], options?: PreviewOptions): PreviewMatch[];

export interface NameList {
  /** Match `pattern` against every name, as GitLab would for a rule of `options.packageType`. */
  preview(pattern: string, options?: PreviewOptions): NameListPreview;
}

/** Every error pkgprotect throws is an `Error` with the argument or field at fault. */
export interface PkgprotectError extends Error {
  field: string;
}
"#;

/// The version of the pkgprotect core these bindings run.
#[wasm_bindgen]
pub fn version() -> String {
    pkgprotect::VERSION.to_owned()
}

/// GitLab's answer to creating (or, with `previous`, updating) a rule: the parameter layer
/// (400) then the model (422), all failures at once, with GitLab's messages.
#[wasm_bindgen(js_name = validateRule, unchecked_return_type = "Validation")]
pub fn validate_rule(
    #[wasm_bindgen(unchecked_param_type = "RuleParams")] rule: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ValidateOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let params: Value = match stringify(&rule, "rule")? {
        Some(json) if rule.is_object() => convert::parse(&json, "rule")?,
        _ => return Err(FieldError::new("rule", "rule must be an object of GitLab REST parameters").into()),
    };
    let options = ValidateOptions::read(&options)?;
    let mode = options.previous.as_ref().map_or(ParamsMode::Create, ParamsMode::Update);
    let context = ValidationContext {
        project_path: options.project_path.as_deref(),
        existing_rules: &options.existing_rules,
        previous: options.previous.as_ref(),
    };
    let outcome = pkgprotect::parse_rule_params(options.kind, &params, mode)
        .and_then(|rule| pkgprotect::validate_rule(&rule, &context));
    let validation = match outcome {
        Ok(()) => Validation { valid: true, http_status: 201, errors: Vec::new() },
        Err(rejection) => Validation { valid: false, http_status: rejection.http_status(), errors: rejection.errors },
    };
    Ok(to_js(&validation)?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    valid: bool,
    http_status: u16,
    errors: Vec<ValidationError>,
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
        let Value::Object(map) = arg::<Value>(options, "options")? else {
            return Err(FieldError::new("options", "options must be an object such as { kind: \"package\" }"));
        };
        Self::from_map(map)
    }

    fn from_map(mut map: Map<String, Value>) -> Result<Self, FieldError> {
        // A misspelt option (`projectpath`) would silently skip a check, so it is refused.
        if let Some(unknown) = map.keys().find(|key| !Self::KNOWN.contains(&key.as_str())) {
            return Err(FieldError::new(
                format!("options.{unknown}"),
                format!("unknown option `{unknown}` (expected one of: {})", Self::KNOWN.join(", ")),
            ));
        }
        let kind = match map.remove("kind") {
            Some(Value::String(kind)) => {
                kind.parse::<RuleKind>().map_err(|e| FieldError::new("options.kind", e.to_string()))?
            }
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
                .map(|(index, item)| from_value(item, &format!("options.existingRules[{index}]")))
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
            Some(value) => Some(from_value(value, "options.previous")?),
        };
        Ok(ValidateOptions { kind, project_path, existing_rules, previous })
    }
}

/// Compile a project's rules (both kinds, as GitLab's API returns them) for decisions.
/// Throws when the list could not have come from GitLab (missing or repeated ids, blank or
/// over-long patterns, levels the API never accepts); use `validateRule` for GitLab's checks.
#[wasm_bindgen(js_name = compileRules)]
pub fn compile_rules(#[wasm_bindgen(unchecked_param_type = "Rule[]")] rules: JsValue) -> Result<JsRuleSet, JsValue> {
    let rules: Vec<Rule> = list_arg(&rules, "rules")?;
    match RuleSet::new(rules.clone()) {
        Ok(inner) => Ok(JsRuleSet { inner }),
        Err(error) => Err(rule_set_error(&rules, &error).into()),
    }
}

/// A compiled rule set. It lives in Wasm memory: call `free()` when done with it (or rely
/// on the garbage collector's finalizer, which runs late).
#[wasm_bindgen(js_name = RuleSet)]
#[derive(Debug)]
pub struct JsRuleSet {
    inner: RuleSet,
}

/// One answer of `decideBatch`.
#[derive(Serialize)]
#[serde(untagged)]
enum BatchDecision {
    Decided(Decision),
    Failed { allowed: bool, error: FieldError },
}

#[wasm_bindgen(js_class = RuleSet)]
impl JsRuleSet {
    /// May this actor do this? Throws when no answer can be given: GitLab's own query would
    /// fail (a lone trailing `\` in a pattern reached by the name), or the compiled rules are
    /// inconsistent (a bug). Such a request must be treated as refused.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecisionRequest")] request: JsValue,
    ) -> Result<JsValue, JsValue> {
        let request: DecisionRequest = arg(&request, "request")?;
        match self.inner.decide(&request) {
            Ok(decision) => Ok(to_js(&decision)?),
            Err(error) => Err(decide_error(&self.inner, &error).into()),
        }
    }

    /// `decide` for many requests in one crossing. Each answer stands alone: a request
    /// GitLab could not answer comes back as `{ allowed: false, error }` instead of throwing.
    #[wasm_bindgen(js_name = decideBatch, unchecked_return_type = "Array<Decision | DecisionFailure>")]
    pub fn decide_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecisionRequest[]")] requests: JsValue,
    ) -> Result<JsValue, JsValue> {
        let requests: Vec<DecisionRequest> = list_arg(&requests, "requests")?;
        let answers: Vec<BatchDecision> = self
            .inner
            .decide_batch(&requests)
            .into_iter()
            .map(|answer| match answer {
                Ok(decision) => BatchDecision::Decided(decision),
                Err(error) => BatchDecision::Failed { allowed: false, error: decide_error(&self.inner, &error) },
            })
            .collect();
        Ok(to_js(&answers)?)
    }

    /// Advice: duplicates, subsumed rules, rules that restrict nothing, surprising escapes…
    #[wasm_bindgen(unchecked_return_type = "Finding[]")]
    pub fn lint(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.inner.lint())?)
    }

    /// The number of rules.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        to_u32(self.inner.len())
    }
}

/// Which of `names` the pattern matches, as GitLab would, with the matched parts in UTF-16
/// code units. Convenient for a few hundred names; for thousands, use `NameList`, which
/// keeps the names in Wasm memory between previews.
#[wasm_bindgen(skip_typescript)]
pub fn preview(pattern: &str, names: JsValue, options: Option<js_sys::Object>) -> Result<JsValue, JsValue> {
    let names: Vec<String> = list_arg(&names, "names")?;
    let package_type = preview_package_type(options)?;
    let matches: Vec<PreviewMatch> = pkgprotect::preview(pattern, package_type, &names)
        .into_iter()
        .map(|outcome| PreviewMatch {
            spans: outcome.utf16_spans(),
            name: outcome.name,
            matched: outcome.matched,
            error: outcome.error,
        })
        .collect();
    Ok(to_js(&matches)?)
}

#[derive(Serialize)]
struct PreviewMatch {
    name: String,
    matched: bool,
    spans: Vec<(usize, usize)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn preview_package_type(options: Option<js_sys::Object>) -> Result<Option<PackageType>, FieldError> {
    let Some(options) = options.filter(|options| !options.is_null()) else {
        return Ok(None);
    };
    let Value::Object(mut map) = arg::<Value>(&options, "options")? else {
        return Err(FieldError::new("options", "options must be an object such as { packageType: \"npm\" }"));
    };
    if let Some(unknown) = map.keys().find(|key| key.as_str() != "packageType") {
        return Err(FieldError::new(
            format!("options.{unknown}"),
            format!("unknown option `{unknown}` (expected packageType)"),
        ));
    }
    match map.remove("packageType") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => name
            .parse()
            .map(Some)
            .map_err(|e: pkgprotect::UnknownPackageType| FieldError::new("options.packageType", e.to_string())),
        Some(_) => Err(FieldError::new("options.packageType", "options.packageType must be a string")),
    }
}

/// Names kept in Wasm memory for repeated previews (one per keystroke): they cross into
/// Wasm once, and each preview returns typed arrays instead of an object per name.
#[wasm_bindgen]
#[derive(Debug)]
pub struct NameList {
    names: Names,
}

#[wasm_bindgen]
impl NameList {
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "string[]")] names: JsValue) -> Result<NameList, JsValue> {
        let names: Vec<String> = list_arg(&names, "names")?;
        Ok(NameList { names: Names::from_names(&names) })
    }

    /// One name per line (`\n` or `\r\n`), empty lines skipped: a file's text crosses as one string.
    #[wasm_bindgen(js_name = fromLines)]
    pub fn from_lines(text: &str) -> NameList {
        NameList { names: Names::from_lines(text) }
    }

    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        to_u32(self.names.len())
    }

    /// The name at `index`, or `undefined`.
    pub fn get(&self, index: u32) -> Option<String> {
        self.names.get(usize::try_from(index).ok()?).map(str::to_owned)
    }

    /// Every name, in order.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn names(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.names.iter().collect::<Vec<_>>())?)
    }

    /// Match `pattern` against every name, as GitLab would for a rule of `packageType`.
    #[wasm_bindgen(skip_typescript)]
    pub fn preview(&self, pattern: &str, options: Option<js_sys::Object>) -> Result<JsValue, JsValue> {
        let data = self.names.preview(pattern, preview_package_type(options)?);
        let result = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&result, &JsValue::from_str(key), value);
        set("matched", &js_sys::Uint32Array::from(data.matched.as_slice()))?;
        set("spans", &js_sys::Uint32Array::from(data.spans.as_slice()))?;
        set("spanOffsets", &js_sys::Uint32Array::from(data.span_offsets.as_slice()))?;
        set("errored", &js_sys::Uint32Array::from(data.errored.as_slice()))?;
        if let Some(error) = &data.error {
            set("error", &JsValue::from_str(error))?;
        }
        Ok(result.into())
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
    fn misspelt_options_are_refused() {
        let err = options(json!({"kind": "package", "projectpath": "g/p"})).unwrap_err();
        assert_eq!(err.field, "options.projectpath");
    }

    #[test]
    fn existing_rules_errors_name_the_rule() {
        let err = options(json!({"kind": "package", "existingRules": [{"package_name_pattern": "a"}]})).unwrap_err();
        assert_eq!(err.field, "options.existingRules[0]");
        assert!(err.message.contains("package_type"), "{}", err.message);
    }
}
