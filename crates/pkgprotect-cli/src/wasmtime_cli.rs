//! `conformance --host wasmtime-cli`: every vector as a `wasmtime run --invoke` of the
//! component, with arguments written in WAVE and answers read back from WAVE.

use pkgprotect::{Action, Actor, DecisionRequest, Rule, RuleKind, Target};
use pkgprotect_conformance::{DecideOutcome, Host, ValidateOutcome, parse_request, parse_rules};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Runs the real `wasmtime` CLI once per vector.
#[derive(Debug)]
pub struct WasmtimeCliHost {
    pub wasmtime: PathBuf,
    pub component: PathBuf,
}

impl WasmtimeCliHost {
    fn invoke(&self, call: &str) -> Result<String, String> {
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
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

/// A WAVE string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

fn label(s: &str) -> String {
    s.replace('_', "-")
}

fn option_level(level: Option<pkgprotect::AccessLevel>) -> String {
    level.map_or("none".into(), |l| format!("some({})", label(l.as_str())))
}

fn option_id(id: Option<i64>) -> String {
    id.map_or("none".into(), |id| format!("some({id})"))
}

/// A rule in WAVE.
pub fn rule(rule: &Rule) -> String {
    match rule {
        Rule::Package(r) => format!(
            "package({{id: {}, package-name-pattern: {}, package-type: {}, minimum-access-level-for-push: {}, minimum-access-level-for-delete: {}}})",
            option_id(r.id),
            string(&r.package_name_pattern),
            label(r.package_type.as_str()),
            option_level(r.minimum_access_level_for_push),
            option_level(r.minimum_access_level_for_delete)
        ),
        Rule::ContainerRepository(r) => format!(
            "container-repository({{id: {}, repository-path-pattern: {}, minimum-access-level-for-push: {}, minimum-access-level-for-delete: {}}})",
            option_id(r.id),
            string(&r.repository_path_pattern),
            option_level(r.minimum_access_level_for_push),
            option_level(r.minimum_access_level_for_delete)
        ),
    }
}

fn rules(rules: &[Rule]) -> String {
    format!("[{}]", rules.iter().map(rule).collect::<Vec<_>>().join(", "))
}

/// A decision request in WAVE.
pub fn request(request: &DecisionRequest) -> String {
    let target = match &request.target {
        Target::Package { name, package_type } => {
            format!("package({{name: {}, package-type: {}}})", string(name), label(package_type.as_str()))
        }
        Target::ContainerRepository { path } => format!("container-repository({})", string(path)),
    };
    let action = match request.action {
        Action::Push => "push",
        Action::Delete => "delete",
    };
    let actor = match request.actor {
        Actor::User { access_level } => format!("user({})", label(access_level.as_str())),
        Actor::DeployToken => "deploy-token".into(),
    };
    format!("{{target: {target}, action: {action}, actor: {actor}}}")
}

/// Every string literal that follows `key: ` in WAVE output, unescaped.
fn strings_after(text: &str, key: &str) -> Vec<String> {
    let needle = format!("{key}: \"");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let mut chars = rest[at + needle.len()..].char_indices();
        let mut value = String::new();
        let mut end = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => {
                    end = at + needle.len() + i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        found.push(value);
        rest = &rest[end.min(rest.len())..];
    }
    found
}

impl Host for WasmtimeCliHost {
    fn matches(&mut self, pattern: &str, name: &str) -> Result<Result<bool, String>, String> {
        let out = self.invoke(&format!("preview({}, none, [{}])", string(pattern), string(name)))?;
        if out.contains("error: some(") {
            return Ok(Err(out));
        }
        Ok(Ok(out.contains("matched: true")))
    }

    fn validate(
        &mut self,
        kind: RuleKind,
        project_path: Option<&str>,
        params: &Value,
        existing_rules: &[Value],
    ) -> Result<ValidateOutcome, String> {
        let kind = match kind {
            RuleKind::Package => "%package",
            RuleKind::ContainerRepository => "container-repository",
        };
        let project_path = project_path.map_or("none".into(), |p| format!("some({})", string(p)));
        let existing = rules(&parse_rules(existing_rules)?);
        let out = self.invoke(&format!(
            "validate-params({kind}, {}, {{project-path: {project_path}, existing-rules: {existing}}})",
            string(&params.to_string())
        ))?;
        if out.starts_with("ok(") {
            return Ok(ValidateOutcome { http_status: 201, fields: Vec::new() });
        }
        let http_status = if out.contains("http-status: 400") { 400 } else { 422 };
        let mut fields: Vec<String> = Vec::new();
        for field in strings_after(&out, "field") {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        Ok(ValidateOutcome { http_status, fields })
    }

    fn decide(&mut self, rule_values: &[Value], request_value: &Value) -> Result<DecideOutcome, String> {
        let request = parse_request(request_value)?;
        let out = self.invoke(&format!("decide({}, {})", rules(&parse_rules(rule_values)?), self::request(&request)))?;
        if !out.starts_with("ok(") {
            return Err(out);
        }
        let ids = out
            .split_once("blocking-rule-ids: [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list.split(',').filter_map(|id| id.trim().parse::<i64>().ok()).collect())
            .unwrap_or_default();
        Ok(DecideOutcome { allowed: out.contains("allowed: true"), blocking_rule_ids: ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wave_strings_escape_quotes_backslashes_and_non_ascii() {
        assert_eq!(string("a\"b\\cé\n"), "\"a\\\"b\\\\c\\u{e9}\\u{a}\"");
        assert_eq!(strings_after(r#"[{field: "a\"b", x: 1}, {field: "c"}]"#, "field"), ["a\"b", "c"]);
    }
}
