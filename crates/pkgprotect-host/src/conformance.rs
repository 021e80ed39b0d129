//! The component as a conformance [`Host`]: every vector through wasmtime and the guest.

use crate::{HostError, Policy};
use pkgprotect::{RuleKind, ValidationContext};
use pkgprotect_conformance::{DecideOutcome, Host, ValidateOutcome, parse_request, parse_rules};
use serde_json::Value;

/// Runs vectors through a [`Policy`]: matching via `preview`, validation via
/// `validate-params`, decisions via a compiled `rule-set` resource.
#[derive(Debug)]
pub struct ComponentHost {
    pub policy: Policy,
}

impl Host for ComponentHost {
    fn matches(&mut self, pattern: &str, name: &str) -> Result<Result<bool, String>, String> {
        let answer = self.policy.preview(pattern, None, &[name.to_owned()]).map_err(|e| e.to_string())?;
        let first = answer.into_iter().next().ok_or("preview returned nothing")?;
        Ok(match first.error {
            Some(error) => Err(error),
            None => Ok(first.matched),
        })
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
        Ok(ValidateOutcome::of(self.policy.validate_params(kind, rule, &context).map_err(|e| e.to_string())?))
    }

    fn decide(&mut self, rules: &[Value], request: &Value) -> Result<DecideOutcome, String> {
        let request = parse_request(request)?;
        let mut set = self.policy.rule_set(&parse_rules(rules)?).map_err(|e: HostError| e.to_string())?;
        Ok(set.decide(&request).map_err(|e| e.to_string())?.into())
    }
}
