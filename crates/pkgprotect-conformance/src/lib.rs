//! Runs GitLab protection-rule conformance vectors (`shared/conformance`) through any host.
//!
//! A [`Host`] answers three questions from raw vector JSON — does a pattern match a name,
//! how does GitLab answer a create request, what is the decision — so that hosts other than
//! the native core (the component through wasmtime, the wasmtime CLI…) reuse one runner.
//!
//! ```
//! use pkgprotect_conformance::{NativeHost, VectorFile, run};
//!
//! let file: VectorFile = serde_json::from_str(r#"{"schema": 1,
//!   "match": [{"pattern": "@s/*", "name": "@S/x", "matches": true, "note": "case-insensitive"}]}"#)?;
//! let report = run(&file, &mut NativeHost);
//! assert_eq!(report.summary(), "1 passed, 0 failed");
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod reference;
#[cfg(feature = "proptest")]
pub mod strategies;

use pkgprotect::{
    Decision, DecisionRequest, ParamsMode, Rule, RuleKind, RuleSet, ValidationContext, glob_matches, parse_rule_params,
    validate_rule,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// A vector file: `{"schema":1, "match":[…], "validate":[…], "decide":[…]}`; sections may be absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VectorFile {
    #[serde(default)]
    pub schema: Option<u32>,
    #[serde(default, rename = "match")]
    pub matches: Vec<MatchVector>,
    #[serde(default)]
    pub validate: Vec<ValidateVector>,
    #[serde(default)]
    pub decide: Vec<DecideVector>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchVector {
    pub pattern: String,
    pub name: String,
    /// `None`: PostgreSQL raised an error; the host must report one.
    pub matches: Option<bool>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidateVector {
    pub kind: RuleKind,
    #[serde(default)]
    pub project_path: Option<String>,
    /// REST parameters as a client sends them (absent key = not sent).
    pub rule: Value,
    pub valid: bool,
    pub http_status: u16,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    #[serde(default)]
    pub existing_rules: Vec<Value>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecideVector {
    pub kind: RuleKind,
    pub rules: Vec<Value>,
    pub request: Value,
    pub allowed: bool,
    pub blocking_rule_ids: Vec<i64>,
    #[serde(default)]
    pub note: String,
}

/// A vector file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read vector file `{path}`: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("vector file `{path}` is not valid vector JSON: {source}")]
    Parse { path: String, source: serde_json::Error },
}

impl VectorFile {
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: shown.clone(), source })?;
        serde_json::from_str(&text).map_err(|source| LoadError::Parse { path: shown, source })
    }

    pub fn len(&self) -> usize {
        self.matches.len() + self.validate.len() + self.decide.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// GitLab's answer to a create request, as far as the vectors record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOutcome {
    pub http_status: u16,
    /// Failing fields, first failure first (empty when valid).
    pub fields: Vec<String>,
}

impl ValidateOutcome {
    /// GitLab's answer to a create request: 201, or the rejection's status and fields.
    pub fn of<T>(answer: Result<T, pkgprotect::Rejection>) -> Self {
        match answer {
            Ok(_) => ValidateOutcome { http_status: 201, fields: Vec::new() },
            Err(rejection) => ValidateOutcome {
                http_status: rejection.http_status(),
                fields: rejection.fields().iter().map(|f| f.as_str().to_owned()).collect(),
            },
        }
    }
}

/// A decision, as far as the vectors record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecideOutcome {
    pub allowed: bool,
    pub blocking_rule_ids: Vec<i64>,
}

impl From<Decision> for DecideOutcome {
    fn from(decision: Decision) -> Self {
        DecideOutcome { allowed: decision.allowed, blocking_rule_ids: decision.blocking_rule_ids }
    }
}

/// Something a host could not do at all (as opposed to a wrong answer); counts as a failure.
pub type HostError = String;

/// One way of running pkgprotect: the native core, the component through wasmtime, …
pub trait Host {
    /// `Ok(Ok(matches))`, `Ok(Err(message))` when matching raised GitLab's error.
    fn matches(&mut self, pattern: &str, name: &str) -> Result<Result<bool, String>, HostError>;
    fn validate(
        &mut self,
        kind: RuleKind,
        project_path: Option<&str>,
        rule: &Value,
        existing_rules: &[Value],
    ) -> Result<ValidateOutcome, HostError>;
    /// `Err` also when the engine refuses to decide (which a vector never expects).
    fn decide(&mut self, rules: &[Value], request: &Value) -> Result<DecideOutcome, HostError>;
}

/// The core crate, called directly.
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeHost;

impl Host for NativeHost {
    fn matches(&mut self, pattern: &str, name: &str) -> Result<Result<bool, String>, HostError> {
        Ok(glob_matches(pattern, name).map_err(|e| e.to_string()))
    }

    fn validate(
        &mut self,
        kind: RuleKind,
        project_path: Option<&str>,
        rule: &Value,
        existing_rules: &[Value],
    ) -> Result<ValidateOutcome, HostError> {
        let existing = parse_rules(existing_rules)?;
        let checked = parse_rule_params(kind, rule, ParamsMode::Create).and_then(|rule| {
            let context = ValidationContext { project_path, existing_rules: &existing, previous: None };
            validate_rule(&rule, &context)
        });
        Ok(ValidateOutcome::of(checked))
    }

    fn decide(&mut self, rules: &[Value], request: &Value) -> Result<DecideOutcome, HostError> {
        let set = RuleSet::new(parse_rules(rules)?).map_err(|e| e.to_string())?;
        let decision = set.decide(&parse_request(request)?).map_err(|e| e.to_string())?;
        Ok(decision.into())
    }
}

/// Parse rule JSON as the vectors write it (`null` minimums, no `project_id`).
pub fn parse_rules(values: &[Value]) -> Result<Vec<Rule>, HostError> {
    values
        .iter()
        .map(|value| serde_json::from_value::<Rule>(value.clone()).map_err(|e| format!("bad rule {value}: {e}")))
        .collect()
}

/// Parse a decision request as the vectors write it.
pub fn parse_request(value: &Value) -> Result<DecisionRequest, HostError> {
    serde_json::from_value(value.clone()).map_err(|e| format!("bad request: {e}"))
}

/// One vector the host got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `match[12]`, `validate[3]`, `decide[40]`.
    pub vector: String,
    pub note: String,
    pub expected: String,
    pub got: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub passed: usize,
    pub failures: Vec<Failure>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// The plain last line every runner prints: `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed())
    }

    fn record(&mut self, vector: String, note: &str, expected: String, got: String) {
        if expected == got {
            self.passed += 1;
        } else {
            self.failures.push(Failure { vector, note: note.to_owned(), expected, got });
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(
                f,
                "FAIL {}: {}\n  expected: {}\n  got:      {}",
                failure.vector, failure.note, failure.expected, failure.got
            )?;
        }
        write!(f, "{}", self.summary())
    }
}

fn show_match(result: &Result<Result<bool, String>, HostError>) -> String {
    match result {
        Ok(Ok(matches)) => format!("matches={matches}"),
        Ok(Err(_)) => "error".into(),
        Err(host) => format!("host failure: {host}"),
    }
}

fn show_validate(http_status: u16, fields: &[String]) -> String {
    if fields.is_empty() { format!("{http_status}") } else { format!("{http_status} {}", fields.join(" | ")) }
}

fn show_decide(allowed: bool, ids: &[i64]) -> String {
    format!("allowed={allowed} blocking_rule_ids={ids:?}")
}

/// Run every vector of `file` through `host`.
pub fn run(file: &VectorFile, host: &mut dyn Host) -> Report {
    let mut report = Report::default();
    for (i, v) in file.matches.iter().enumerate() {
        let expected = match v.matches {
            Some(matches) => format!("matches={matches}"),
            None => "error".into(),
        };
        let got = show_match(&host.matches(&v.pattern, &v.name));
        let note = format!("pattern `{}` name `{}`: {}", v.pattern, v.name, v.note);
        report.record(format!("match[{i}]"), &note, expected, got);
    }
    for (i, v) in file.validate.iter().enumerate() {
        let expected_fields = match (&v.fields, &v.field) {
            (Some(fields), _) => fields.clone(),
            (None, Some(field)) => vec![field.clone()],
            (None, None) => Vec::new(),
        };
        let expected = show_validate(v.http_status, &expected_fields);
        let got = match host.validate(v.kind, v.project_path.as_deref(), &v.rule, &v.existing_rules) {
            Ok(outcome) => show_validate(outcome.http_status, &outcome.fields),
            Err(host) => format!("host failure: {host}"),
        };
        report.record(format!("validate[{i}]"), &format!("{} {}: {}", v.kind, v.rule, v.note), expected, got);
    }
    for (i, v) in file.decide.iter().enumerate() {
        let expected = show_decide(v.allowed, &v.blocking_rule_ids);
        let got = match host.decide(&v.rules, &v.request) {
            Ok(outcome) => show_decide(outcome.allowed, &outcome.blocking_rule_ids),
            Err(host) => format!("host failure: {host}"),
        };
        report.record(format!("decide[{i}]"), &format!("{}: {}", v.request, v.note), expected, got);
    }
    report
}
