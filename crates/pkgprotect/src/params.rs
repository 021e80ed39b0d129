//! GitLab's REST parameter layer (Grape): JSON or form parameters into a typed rule, with
//! Grape's 400 errors. The model checks of [`crate::validate_rule`] come after.

use crate::access::AccessLevel;
use crate::model::{ContainerRepositoryRule, PackageRule, PackageType, Rule, RuleKind};
use crate::validate::{Field, Rejection, ValidationError, allowed_levels};
use serde_json::{Map, Value};

/// Whether the parameters create a rule (`POST`) or change a stored one (`PATCH`).
#[derive(Debug, Clone, Copy)]
pub enum ParamsMode<'a> {
    /// Pattern (and package type) required; at least one minimum must be sent.
    Create,
    /// Every parameter optional; what is sent replaces the stored value. For container rules
    /// an empty string unsets a minimum, as GitLab documents.
    Update(&'a Rule),
}

/// A parameter value after Grape's `String` coercion.
enum Param {
    Absent,
    Null,
    Text(String),
    /// An array or object where GitLab expects a string: Grape answers "is invalid".
    Invalid,
}

fn param(params: &Map<String, Value>, field: Field) -> Param {
    match params.get(field.as_str()) {
        None => Param::Absent,
        Some(Value::Null) => Param::Null,
        Some(Value::String(s)) => Param::Text(s.clone()),
        Some(Value::Number(n)) => Param::Text(n.to_string()),
        Some(Value::Bool(b)) => Param::Text(b.to_string()),
        Some(Value::Array(_) | Value::Object(_)) => Param::Invalid,
    }
}

/// Turn GitLab REST parameters for a rule of `kind` into a typed rule, refusing with
/// Grape's errors (HTTP 400) what GitLab refuses before its model sees it. Parameters that
/// GitLab does not declare (`id`, `project_id`, anything else) are ignored, as Grape does.
///
/// The rule returned still needs [`crate::validate_rule`] (format, length, uniqueness…).
pub fn parse_rule_params(kind: RuleKind, params: &Value, mode: ParamsMode<'_>) -> Result<Rule, Rejection> {
    let (creating, previous) = match mode {
        ParamsMode::Create => (true, None),
        ParamsMode::Update(rule) => (false, Some(rule)),
    };
    let sent = grape_params(kind, params, creating)?;
    build_rule(kind, sent, previous)
}

/// Grape's parameter layer alone (400s: missing, invalid or out-of-list parameters), which
/// GitLab runs before authenticating the caller (`after_validation { authenticate! }`): a
/// server answers these first, before it knows whether the rule exists.
pub fn check_rule_params(kind: RuleKind, params: &Value, creating: bool) -> Result<(), Rejection> {
    grape_params(kind, params, creating).map(|_| ())
}

/// What the parameters sent say, after Grape's checks: `None` for a parameter not sent, and
/// for the minimums `Some(None)` for an explicit unset.
struct SentParams {
    pattern: Option<String>,
    package_type: Option<PackageType>,
    push: Option<Option<AccessLevel>>,
    delete: Option<Option<AccessLevel>>,
}

fn grape_params(kind: RuleKind, params: &Value, creating: bool) -> Result<SentParams, Rejection> {
    let Some(params) = params.as_object() else {
        return Err(Rejection::bad_request(vec![ValidationError {
            field: Field::Base,
            message: "the request body must be a JSON object of rule parameters".into(),
        }]));
    };
    let mut errors = Vec::new();

    let pattern_field = match kind {
        RuleKind::Package => Field::PackageNamePattern,
        RuleKind::ContainerRepository => Field::RepositoryPathPattern,
    };
    let pattern = match param(params, pattern_field) {
        Param::Absent if creating => {
            errors.push(ValidationError::param(pattern_field, "is missing"));
            None
        }
        Param::Absent => None,
        // Grape lets a null through; the model then finds the pattern blank.
        Param::Null => Some(String::new()),
        Param::Text(text) => Some(text),
        Param::Invalid => {
            errors.push(ValidationError::param(pattern_field, "is invalid"));
            None
        }
    };

    let package_type = if kind == RuleKind::Package {
        match param(params, Field::PackageType) {
            Param::Absent if creating => {
                errors.push(ValidationError::param(Field::PackageType, "is missing"));
                None
            }
            Param::Absent => None,
            Param::Text(text) => match text.parse::<PackageType>() {
                Ok(package_type) => Some(package_type),
                Err(_) => {
                    errors.push(ValidationError::param(Field::PackageType, "does not have a valid value"));
                    None
                }
            },
            Param::Null | Param::Invalid => {
                errors.push(ValidationError::param(Field::PackageType, "does not have a valid value"));
                None
            }
        }
    } else {
        None
    };

    let unset_with_empty_string = !creating && kind == RuleKind::ContainerRepository;
    let mut levels = [None, None];
    for (slot, field) in levels.iter_mut().zip([Field::MinimumAccessLevelForPush, Field::MinimumAccessLevelForDelete]) {
        *slot = match param(params, field) {
            Param::Absent => None,
            Param::Null => Some(None),
            Param::Text(text) if text.is_empty() && unset_with_empty_string => Some(None),
            Param::Text(text) => match text.parse::<AccessLevel>() {
                Ok(level) if allowed_levels(kind, field).contains(&level) => Some(Some(level)),
                _ => {
                    errors.push(ValidationError::param(field, "does not have a valid value"));
                    None
                }
            },
            Param::Invalid => {
                errors.push(ValidationError::param(field, "does not have a valid value"));
                None
            }
        };
    }
    let [push, delete] = levels;
    let sent_a_minimum = [Field::MinimumAccessLevelForPush, Field::MinimumAccessLevelForDelete]
        .iter()
        .any(|field| params.contains_key(field.as_str()));
    if creating && !sent_a_minimum {
        errors.push(ValidationError {
            field: Field::MinimumAccessLevels,
            message: "minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided".into(),
        });
    }
    if !errors.is_empty() {
        return Err(Rejection::bad_request(errors));
    }
    Ok(SentParams { pattern, package_type, push, delete })
}

/// The rule the sent parameters make, over `previous` when updating.
fn build_rule(kind: RuleKind, sent: SentParams, previous: Option<&Rule>) -> Result<Rule, Rejection> {
    let SentParams { pattern, package_type, push, delete } = sent;
    let keep = |sent: Option<Option<AccessLevel>>, stored: Option<AccessLevel>| sent.unwrap_or(stored);
    let rule = match kind {
        RuleKind::Package => {
            let stored = match previous {
                Some(Rule::Package(rule)) => Some(rule),
                _ => None,
            };
            let (Some(package_name_pattern), Some(package_type)) = (
                pattern.or_else(|| stored.map(|r| r.package_name_pattern.clone())),
                package_type.or_else(|| stored.map(|r| r.package_type)),
            ) else {
                return Err(kind_mismatch(kind));
            };
            Rule::Package(PackageRule {
                id: stored.and_then(|r| r.id),
                project_id: stored.and_then(|r| r.project_id),
                package_name_pattern,
                package_type,
                minimum_access_level_for_push: keep(push, stored.and_then(|r| r.minimum_access_level_for_push)),
                minimum_access_level_for_delete: keep(delete, stored.and_then(|r| r.minimum_access_level_for_delete)),
            })
        }
        RuleKind::ContainerRepository => {
            let stored = match previous {
                Some(Rule::ContainerRepository(rule)) => Some(rule),
                _ => None,
            };
            let Some(repository_path_pattern) = pattern.or_else(|| stored.map(|r| r.repository_path_pattern.clone()))
            else {
                return Err(kind_mismatch(kind));
            };
            Rule::ContainerRepository(ContainerRepositoryRule {
                id: stored.and_then(|r| r.id),
                project_id: stored.and_then(|r| r.project_id),
                repository_path_pattern,
                minimum_access_level_for_push: keep(push, stored.and_then(|r| r.minimum_access_level_for_push)),
                minimum_access_level_for_delete: keep(delete, stored.and_then(|r| r.minimum_access_level_for_delete)),
            })
        }
    };
    Ok(rule)
}

/// Only reachable when an update names a stored rule of the other kind: a caller bug, but
/// still an error value rather than a panic.
fn kind_mismatch(kind: RuleKind) -> Rejection {
    Rejection::bad_request(vec![ValidationError {
        field: Field::Base,
        message: format!("the stored rule being updated is not a {kind} rule"),
    }])
}

/// GitLab's whole create/update path for REST parameters given as JSON text: the parameter
/// layer ([`parse_rule_params`], updating `context.previous` when it is set) and then the
/// model's validation ([`crate::validate_rule`]). Text that is not JSON is Grape's 400.
pub fn validate_params_json(
    kind: RuleKind,
    params_json: &str,
    context: &crate::ValidationContext<'_>,
) -> Result<Rule, Rejection> {
    let params: Value = serde_json::from_str(params_json).map_err(|error| {
        Rejection::bad_request(vec![ValidationError {
            field: Field::Base,
            message: format!("the parameters are not valid JSON: {error}"),
        }])
    })?;
    let mode = match context.previous {
        Some(stored) => ParamsMode::Update(stored),
        None => ParamsMode::Create,
    };
    let rule = parse_rule_params(kind, &params, mode)?;
    crate::validate_rule(&rule, context)?;
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_and_invalid_params_are_grape_errors_in_declaration_order() {
        let err =
            parse_rule_params(RuleKind::Package, &json!({"package_type": "composer"}), ParamsMode::Create).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert_eq!(
            err.joined_messages(),
            "package_name_pattern is missing, package_type does not have a valid value, \
             minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided"
        );
    }

    #[test]
    fn null_minimum_passes_grape_and_reaches_the_model() {
        let rule = parse_rule_params(
            RuleKind::Package,
            &json!({"package_name_pattern": "a", "package_type": "pypi", "minimum_access_level_for_push": null}),
            ParamsMode::Create,
        )
        .unwrap();
        assert_eq!(rule.minimum_access_level_for_push(), None);
    }

    #[test]
    fn container_update_unsets_with_empty_string_and_keeps_the_rest() {
        let stored = parse_rule_params(
            RuleKind::ContainerRepository,
            &json!({"repository_path_pattern": "g/p/*", "minimum_access_level_for_push": "owner", "minimum_access_level_for_delete": "admin"}),
            ParamsMode::Create,
        )
        .unwrap();
        let updated = parse_rule_params(
            RuleKind::ContainerRepository,
            &json!({"minimum_access_level_for_push": ""}),
            ParamsMode::Update(&stored),
        )
        .unwrap();
        assert_eq!(updated.minimum_access_level_for_push(), None);
        assert_eq!(updated.minimum_access_level_for_delete(), Some(AccessLevel::Admin));
        assert_eq!(updated.pattern(), "g/p/*");
    }

    #[test]
    fn arrays_are_invalid_not_a_crash() {
        let err = parse_rule_params(
            RuleKind::Package,
            &json!({"package_name_pattern": ["a"], "package_type": "npm", "minimum_access_level_for_push": 40}),
            ParamsMode::Create,
        )
        .unwrap_err();
        assert_eq!(
            err.joined_messages(),
            "package_name_pattern is invalid, minimum_access_level_for_push does not have a valid value"
        );
    }

    #[test]
    fn the_parameter_layer_alone_needs_no_stored_rule() {
        let missing_type = json!({"package_name_pattern": "a", "minimum_access_level_for_push": "owner"});
        let err = check_rule_params(RuleKind::Package, &missing_type, true).unwrap_err();
        assert_eq!(err.joined_messages(), "package_type is missing");
        // The same parameters on PATCH are fine: every parameter is optional there.
        assert!(check_rule_params(RuleKind::Package, &missing_type, false).is_ok());
        let bad_level = json!({"minimum_access_level_for_push": "developer"});
        assert!(check_rule_params(RuleKind::ContainerRepository, &bad_level, false).is_err());
        // The model's checks (an invalid pattern: 422) are not this layer's.
        let invalid_pattern = json!({"repository_path_pattern": "not valid", "minimum_access_level_for_push": "owner"});
        assert!(check_rule_params(RuleKind::ContainerRepository, &invalid_pattern, true).is_ok());
    }
}
