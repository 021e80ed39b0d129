//! The component as a conformance [`Host`]: every vector through wasmtime and the guest.

use crate::{Policy, Rules};
use pkgprotect::{OffsetUnit, RuleKind, Summary, TargetKind, ValidationContext};
use pkgprotect_conformance::{DecideOutcome, Host, ValidateOutcome, parse_request, parse_rules};
use serde_json::Value;

/// Runs vectors through a [`Policy`]: matching via `preview`, validation via
/// `validate-params`, decisions via a compiled `rule-set` resource, where `decide` (scalars)
/// must agree with `explain` (the full answer) on every vector.
#[derive(Debug)]
pub struct ComponentHost {
    pub policy: Policy,
}

impl Host for ComponentHost {
    fn matches(&mut self, pattern: &str, name: &str) -> Result<Result<bool, String>, String> {
        let names = [name.to_owned()];
        let preview = self
            .policy
            .preview(pattern, TargetKind::ContainerRepository, &names, OffsetUnit::Utf8Bytes)
            .map_err(|e| e.to_string())?;
        if !preview.undecidable.is_empty() {
            return Ok(Err(format!("GitLab's query fails for `{name}` with pattern `{pattern}`")));
        }
        Ok(Ok(!preview.matched.is_empty()))
    }

    fn validate(
        &mut self,
        kind: RuleKind,
        project_path: Option<&str>,
        rule: &Value,
        existing_rules: &[Value],
    ) -> Result<ValidateOutcome, String> {
        let existing = parse_rules(existing_rules)?;
        let context = ValidationContext { project_path, existing_rules: &existing, previous: None };
        let answer = self.policy.validate_params(kind, &rule.to_string(), &context).map_err(|e| e.to_string())?;
        Ok(ValidateOutcome::of(answer))
    }

    fn decide(&mut self, rules: &[Value], request: &Value) -> Result<DecideOutcome, String> {
        let request = parse_request(request)?;
        let rules = parse_rules(rules)?;
        let mut set = self.policy.rule_set(Rules::Typed(&rules)).map_err(|e| e.to_string())?;
        let decision = set.explain(&request).map_err(|e| e.to_string())?;
        let summary = set.decide(&request).map_err(|e| e.to_string())?;
        if summary != Summary::of(&decision) {
            return Err(format!("`decide` answered {summary:?} where `explain` answered {decision:?}"));
        }
        Ok(decision.into())
    }
}
