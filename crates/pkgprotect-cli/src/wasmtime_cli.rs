//! `conformance --host wasmtime-cli`: every vector as a `wasmtime run --invoke` of the
//! component, arguments written in WAVE, answers parsed with `wasm-wave` against the result
//! types of the component's own WIT — never read with substring tests.

use anyhow::{Context, Result, anyhow};
use pkgprotect::{Action, Actor, DecisionRequest, RuleKind, Target};
use pkgprotect_conformance::{DecideOutcome, Host, ValidateOutcome, parse_request, parse_rules};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::path::PathBuf;
use std::process::Command;
use wasm_wave::value::{Type, Value, resolve_wit_func_type};
use wasm_wave::wasm::WasmValue;

/// Runs the real `wasmtime` CLI once per vector.
#[derive(Debug)]
pub struct WasmtimeCliHost {
    wasmtime: PathBuf,
    component: PathBuf,
    results: ResultTypes,
}

/// The result types of the `api` functions this host calls, from the WIT.
#[derive(Debug)]
struct ResultTypes {
    preview: Type,
    validate_params: Type,
    explain: Type,
}

impl ResultTypes {
    fn from_wit(wit: &str) -> Result<Self> {
        let mut resolve = wit_parser::Resolve::new();
        resolve.push_str("policy.wit", wit).context("cannot parse the component's WIT")?;
        let result_of = |name: &str| -> Result<Type> {
            let function = resolve
                .interfaces
                .iter()
                .filter(|(_, interface)| interface.name.as_deref() == Some("api"))
                .find_map(|(_, interface)| interface.functions.get(name))
                .ok_or_else(|| anyhow!("the WIT has no `api.{name}`"))?;
            let func = resolve_wit_func_type(&resolve, function).map_err(|e| anyhow!("`api.{name}`: {e}"))?;
            let mut results = wasm_wave::wasm::WasmFunc::results(&func);
            results.next().ok_or_else(|| anyhow!("`api.{name}` returns nothing"))
        };
        Ok(ResultTypes {
            preview: result_of("preview")?,
            validate_params: result_of("validate-params")?,
            explain: result_of("explain")?,
        })
    }
}

impl WasmtimeCliHost {
    pub fn new(wasmtime: PathBuf, component: PathBuf) -> Result<Self> {
        Ok(WasmtimeCliHost { wasmtime, component, results: ResultTypes::from_wit(pkgprotect_host::WIT)? })
    }

    fn invoke(&self, call: &str, result: &Type) -> Result<Value, String> {
        let output = Command::new(&self.wasmtime)
            .arg("run")
            .arg("--invoke")
            .arg(call)
            .arg(&self.component)
            .output()
            .map_err(|e| format!("cannot run `{}`: {e}", self.wasmtime.display()))?;
        if !output.status.success() {
            return Err(format!("wasmtime failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        wasm_wave::from_str::<Value>(result, text.trim())
            .map_err(|e| format!("cannot parse wasmtime's answer `{}` as WAVE: {e}", text.trim()))
    }
}

/// A WAVE string literal, escaped by `wasm-wave` itself.
pub fn string(s: &str) -> String {
    wasm_wave::to_string(&Value::make_string(Cow::Borrowed(s))).unwrap_or_else(|_| "\"\"".into())
}

fn label(s: &str) -> String {
    s.replace('_', "-")
}

/// A decision request in WAVE.
pub fn request(request: &DecisionRequest) -> String {
    let kind = match &request.target {
        Target::Package { package_type, .. } => label(package_type.as_str()),
        Target::ContainerRepository { .. } => "container-repository".into(),
    };
    let action = match request.action {
        Action::Push => "push",
        Action::Delete => "delete",
    };
    let actor = match request.actor {
        Actor::User { access_level } => format!("user({})", label(access_level.as_str())),
        Actor::DeployToken => "deploy-token".into(),
    };
    format!("{{kind: {kind}, name: {}, action: {action}, actor: {actor}}}", string(request.target.name()))
}

/// The field `name` of a record value.
fn field<'a>(record: &'a Value, name: &str) -> Option<Cow<'a, Value>> {
    record.unwrap_record().find_map(|(key, value)| (key == name).then_some(value))
}

fn u32_list(value: Option<Cow<'_, Value>>) -> Vec<u32> {
    value.map(|list| list.unwrap_list().map(|v| v.unwrap_u32()).collect()).unwrap_or_default()
}

impl Host for WasmtimeCliHost {
    fn matches(&mut self, pattern: &str, name: &str) -> Result<Result<bool, String>, String> {
        let call = format!("preview({}, container-repository, [{}], utf8-bytes)", string(pattern), string(name));
        let preview = self.invoke(&call, &self.results.preview)?;
        if !u32_list(field(&preview, "undecidable")).is_empty() {
            return Ok(Err(format!("GitLab's query fails for `{name}` with pattern `{pattern}`")));
        }
        Ok(Ok(!u32_list(field(&preview, "matched")).is_empty()))
    }

    fn validate(
        &mut self,
        kind: RuleKind,
        project_path: Option<&str>,
        params: &Json,
        existing_rules: &[Json],
    ) -> Result<ValidateOutcome, String> {
        let kind = match kind {
            RuleKind::Package => "%package",
            RuleKind::ContainerRepository => "container-repository",
        };
        let project_path = project_path.map_or("none".into(), |p| format!("some({})", string(p)));
        let existing: Vec<String> = parse_rules(existing_rules)?.iter().map(rule).collect();
        let call = format!(
            "validate-params({kind}, {}, {{project-path: {project_path}, existing-rules: [{}], previous: none}})",
            string(&params.to_string()),
            existing.join(", ")
        );
        let answer = self.invoke(&call, &self.results.validate_params)?;
        let rejection = match answer.unwrap_result() {
            Ok(_) => return Ok(ValidateOutcome { http_status: 201, fields: Vec::new() }),
            Err(rejection) => rejection.ok_or("validate-params failed without a rejection")?,
        };
        let http_status = field(&rejection, "http-status").map(|s| s.unwrap_u16()).ok_or("no http-status")?;
        let mut fields: Vec<String> = Vec::new();
        for error in field(&rejection, "errors").ok_or("no errors")?.unwrap_list() {
            let name = field(&error, "field").map(|f| f.unwrap_enum().replace('-', "_")).ok_or("no field")?;
            // The WIT's `minimum-access-levels` is the REST API's pair of fields.
            let name = if name == "minimum_access_levels" {
                "minimum_access_level_for_push,minimum_access_level_for_delete".to_owned()
            } else {
                name
            };
            if !fields.contains(&name) {
                fields.push(name);
            }
        }
        Ok(ValidateOutcome { http_status, fields })
    }

    fn decide(&mut self, rules: &[Json], request_value: &Json) -> Result<DecideOutcome, String> {
        let request = parse_request(request_value)?;
        // The rules travel as GitLab's JSON, as a registry would pass what GitLab's API answers.
        let rules_json = Json::Array(rules.to_vec()).to_string();
        let call = format!("explain(gitlab-json({}), {})", string(&rules_json), self::request(&request));
        let answer = self.invoke(&call, &self.results.explain)?;
        let explanation = match answer.unwrap_result() {
            Ok(explanation) => explanation.ok_or("explain answered without an explanation")?,
            Err(error) => return Err(format!("explain failed: {:?}", error.map(|e| e.into_owned()))),
        };
        let allowed = field(&explanation, "allowed").map(|v| v.unwrap_bool()).ok_or("no allowed")?;
        let blocking_rule_ids = field(&explanation, "blocking-rule-ids")
            .map(|list| list.unwrap_list().map(|id| id.unwrap_s64()).collect())
            .ok_or("no blocking-rule-ids")?;
        Ok(DecideOutcome { allowed, blocking_rule_ids })
    }
}

fn option_level(level: Option<pkgprotect::AccessLevel>) -> String {
    level.map_or("none".into(), |l| format!("some({})", label(l.as_str())))
}

fn option_id(id: Option<i64>) -> String {
    id.map_or("none".into(), |id| format!("some({id})"))
}

/// A typed rule in WAVE (validation contexts are typed in the WIT).
pub fn rule(rule: &pkgprotect::Rule) -> String {
    match rule {
        pkgprotect::Rule::Package(r) => format!(
            "package({{id: {}, project-id: none, package-name-pattern: {}, package-type: {}, minimum-access-level-for-push: {}, minimum-access-level-for-delete: {}}})",
            option_id(r.id),
            string(&r.package_name_pattern),
            label(r.package_type.as_str()),
            option_level(r.minimum_access_level_for_push),
            option_level(r.minimum_access_level_for_delete)
        ),
        pkgprotect::Rule::ContainerRepository(r) => format!(
            "container-repository({{id: {}, project-id: none, repository-path-pattern: {}, minimum-access-level-for-push: {}, minimum-access-level-for-delete: {}}})",
            option_id(r.id),
            string(&r.repository_path_pattern),
            option_level(r.minimum_access_level_for_push),
            option_level(r.minimum_access_level_for_delete)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wave_strings_round_trip_quotes_backslashes_and_non_ascii() {
        let text = "a\"b\\cé\n{allowed: true}";
        let parsed: Value = wasm_wave::from_str(&Type::STRING, &string(text)).unwrap();
        assert_eq!(parsed.unwrap_string(), text);
    }

    /// A pattern that looks like WAVE output is data inside a string, not an answer.
    #[test]
    fn answers_are_parsed_by_type_not_searched() {
        let types = ResultTypes::from_wit(pkgprotect_host::WIT).unwrap();
        let answer = r#"ok({allowed: false, blocking-rule-ids: [7], reason: "blocked by rule 7 (`allowed: true*`): push needs at least maintainer"})"#;
        let value: Value = wasm_wave::from_str(&types.explain, answer).unwrap();
        let explanation = value.unwrap_result().unwrap().unwrap();
        assert!(!field(&explanation, "allowed").unwrap().unwrap_bool());
    }
}
