//! The errors thrown to JavaScript, as data built from the core's error values (never from
//! their messages): the `cause` objects of `RuleSetError` and `DecisionError`, and the
//! `field` each points at in the caller's own input. `src/errors.js` holds the classes.

use crate::glue;
use pkgprotect::{AccessLevel, DecideError, Field, Rejection, Rule, RuleSetError};
use serde::Serialize;
use wasm_bindgen::JsValue;

/// A malformed argument: the argument or field at fault, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

impl From<FieldError> for JsValue {
    /// A `PkgprotectError`.
    fn from(error: FieldError) -> Self {
        glue::pkgprotect_error(&error.message, &error.field)
    }
}

/// Why a rule list cannot be compiled: `RuleSetError.cause`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleSetCause {
    MissingId { position: usize },
    DuplicateId { id: i64 },
    TooManyRules,
    LevelNotAllowed { rule_id: i64, field: Field, level: AccessLevel },
    BlankPattern { rule_id: i64, field: Field },
    PatternTooLong { rule_id: i64, field: Field, chars: usize },
    InvalidJson { line: usize, column: usize },
}

/// Why a decision cannot be made: `DecisionError.cause`. Either way, the request is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionCause {
    Unevaluable { rule_id: i64, pattern: String },
    Internal,
}

/// A thrown error with a cause: `RuleSetError` or `DecisionError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure<C> {
    pub field: String,
    pub cause: C,
    pub message: String,
}

/// The rules as the caller passed them: an array it can index (`rules[2]`), or GitLab's
/// JSON text, where errors point at the argument as a whole.
#[derive(Debug, Clone, Copy)]
pub enum Given<'a> {
    Array(&'a [Rule]),
    Json,
}

/// The `RuleSetError` for `error`, pointing into `given`.
pub fn rule_set_failure(error: &RuleSetError, given: Given<'_>) -> Failure<RuleSetCause> {
    let rules = match given {
        Given::Array(rules) => rules,
        Given::Json => &[],
    };
    // The core names a rule by id; the rule at fault is the first with that id showing what
    // the cause describes (ids may repeat, and the core checks rules in order).
    let at =
        |id: i64, shows: &dyn Fn(&Rule) -> bool| rules.iter().position(|rule| rule.id() == Some(id) && shows(rule));
    let pointer = |index: Option<usize>, field: &str| match index {
        Some(index) => format!("rules[{index}].{field}"),
        None => "rules".to_owned(),
    };
    let (field, cause) = match *error {
        RuleSetError::MissingId { index } => {
            let field = pointer(rules.get(index).map(|_| index), "id");
            (field, RuleSetCause::MissingId { position: index })
        }
        RuleSetError::DuplicateId { id } => {
            let second = rules.iter().enumerate().filter(|(_, rule)| rule.id() == Some(id)).nth(1).map(|(i, _)| i);
            (pointer(second, "id"), RuleSetCause::DuplicateId { id })
        }
        RuleSetError::TooMany => ("rules".to_owned(), RuleSetCause::TooManyRules),
        RuleSetError::LevelNotAllowed { id, kind, field, level } => {
            let shows = |rule: &Rule| {
                let value = match field {
                    Field::MinimumAccessLevelForPush => rule.minimum_access_level_for_push(),
                    Field::MinimumAccessLevelForDelete => rule.minimum_access_level_for_delete(),
                    _ => None,
                };
                rule.kind() == kind && value == Some(level)
            };
            (pointer(at(id, &shows), field.as_str()), RuleSetCause::LevelNotAllowed { rule_id: id, field, level })
        }
        RuleSetError::BlankPattern { id, field } => {
            let shows = |rule: &Rule| rule.pattern_field() == field && pkgprotect::text::is_blank(rule.pattern());
            (pointer(at(id, &shows), field.as_str()), RuleSetCause::BlankPattern { rule_id: id, field })
        }
        RuleSetError::PatternTooLong { id, field, chars } => {
            let shows = |rule: &Rule| rule.pattern_field() == field && rule.pattern().chars().count() == chars;
            (pointer(at(id, &shows), field.as_str()), RuleSetCause::PatternTooLong { rule_id: id, field, chars })
        }
        RuleSetError::InvalidJson { line, column, .. } => {
            ("rules".to_owned(), RuleSetCause::InvalidJson { line, column })
        }
    };
    Failure { field, cause, message: error.to_string() }
}

/// The `DecisionError` for `error`; `rules` are the rules in the order the caller gave them,
/// when it gave an array it can index.
pub fn decision_failure<'r>(
    error: &DecideError,
    rules: Option<impl IntoIterator<Item = &'r Rule>>,
) -> Failure<DecisionCause> {
    let (rule_id, cause) = match error {
        DecideError::Match { rule_id, source, .. } => {
            (Some(*rule_id), DecisionCause::Unevaluable { rule_id: *rule_id, pattern: source.pattern.clone() })
        }
        // `Internal`, and any cause a later core adds: refused either way.
        _ => (None, DecisionCause::Internal),
    };
    let position = rule_id.zip(rules).and_then(|(id, rules)| {
        rules.into_iter().enumerate().find(|(_, rule)| rule.id() == Some(id)).map(|(i, rule)| (i, rule.pattern_field()))
    });
    let field = match position {
        Some((index, field)) => format!("rules[{index}].{field}"),
        None => "rules".to_owned(),
    };
    Failure { field, cause, message: error.to_string() }
}

impl From<Failure<RuleSetCause>> for JsValue {
    /// A `RuleSetError`.
    fn from(failure: Failure<RuleSetCause>) -> Self {
        match crate::convert::to_js(&failure.cause) {
            Ok(cause) => glue::rule_set_error(&failure.message, &failure.field, cause),
            Err(error) => error.into(),
        }
    }
}

impl From<Failure<DecisionCause>> for JsValue {
    /// A `DecisionError`.
    fn from(failure: Failure<DecisionCause>) -> Self {
        match crate::convert::to_js(&failure.cause) {
            Ok(cause) => glue::decision_error(&failure.message, &failure.field, cause),
            Err(error) => error.into(),
        }
    }
}

/// A `RuleValidationError`: GitLab's status and every failing check.
pub fn rule_validation_error(rejection: &Rejection) -> JsValue {
    match crate::convert::to_js(&rejection.errors) {
        Ok(errors) => glue::rule_validation_error(rejection.http_status(), errors),
        Err(error) => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkgprotect::{Action, Actor, DecisionRequest, Invariant, RuleSet, Target};

    fn rules(json: &str) -> Vec<Rule> {
        serde_json::from_str(json).unwrap()
    }

    fn failure(list: &[Rule]) -> Failure<RuleSetCause> {
        rule_set_failure(&RuleSet::new(list.to_vec()).unwrap_err(), Given::Array(list))
    }

    #[test]
    fn causes_are_data_and_fields_point_at_the_rule() {
        let list = rules(r#"[{"repository_path_pattern":"a/*"}]"#);
        let got = failure(&list);
        assert_eq!((got.field.as_str(), got.cause), ("rules[0].id", RuleSetCause::MissingId { position: 0 }));

        let list = rules(
            r#"[{"id":1,"repository_path_pattern":"a/*"},{"id":2,"repository_path_pattern":"b/*"},
                {"id":1,"repository_path_pattern":"c/*"}]"#,
        );
        let got = failure(&list);
        assert_eq!((got.field.as_str(), got.cause), ("rules[2].id", RuleSetCause::DuplicateId { id: 1 }));

        // A repeated id: the rule at fault is the one showing the cause, not the first with the id.
        let list = rules(
            r#"[{"id":7,"package_name_pattern":"a","package_type":"npm"},
                {"id":7,"package_name_pattern":" ","package_type":"npm"}]"#,
        );
        let got = failure(&list);
        let cause = RuleSetCause::BlankPattern { rule_id: 7, field: Field::PackageNamePattern };
        assert_eq!((got.field.as_str(), got.cause), ("rules[1].package_name_pattern", cause));

        let list = rules(
            r#"[{"id":3,"package_name_pattern":"a","package_type":"npm","minimum_access_level_for_delete":"owner"},
                {"id":3,"package_name_pattern":"b","package_type":"npm","minimum_access_level_for_delete":"maintainer"}]"#,
        );
        let got = failure(&list);
        let cause = RuleSetCause::LevelNotAllowed {
            rule_id: 3,
            field: Field::MinimumAccessLevelForDelete,
            level: AccessLevel::Maintainer,
        };
        assert_eq!((got.field.as_str(), got.cause), ("rules[1].minimum_access_level_for_delete", cause));

        let long = "a".repeat(256);
        let list = rules(&format!(r#"[{{"id":4,"repository_path_pattern":"{long}"}}]"#));
        let got = failure(&list);
        let cause = RuleSetCause::PatternTooLong { rule_id: 4, field: Field::RepositoryPathPattern, chars: 256 };
        assert_eq!((got.field.as_str(), got.cause), ("rules[0].repository_path_pattern", cause));
    }

    #[test]
    fn json_rules_point_at_the_argument() {
        let error = RuleSet::from_gitlab_json("[{\"id\":1,\n\"repository_path_pattern\":3}]").unwrap_err();
        let got = rule_set_failure(&error, Given::Json);
        assert_eq!((got.field.as_str(), got.cause), ("rules", RuleSetCause::InvalidJson { line: 2, column: 27 }));
        let error = RuleSet::from_gitlab_json(r#"[{"repository_path_pattern":"a"}]"#).unwrap_err();
        let got = rule_set_failure(&error, Given::Json);
        assert_eq!((got.field.as_str(), got.cause), ("rules", RuleSetCause::MissingId { position: 0 }));
    }

    #[test]
    fn causes_serialize_as_the_api_documents() {
        let cause = RuleSetCause::LevelNotAllowed {
            rule_id: 3,
            field: Field::MinimumAccessLevelForDelete,
            level: AccessLevel::Maintainer,
        };
        assert_eq!(
            serde_json::to_string(&cause).unwrap(),
            r#"{"kind":"level_not_allowed","rule_id":3,"field":"minimum_access_level_for_delete","level":"maintainer"}"#
        );
        assert_eq!(serde_json::to_string(&RuleSetCause::TooManyRules).unwrap(), r#"{"kind":"too_many_rules"}"#);
        assert_eq!(serde_json::to_string(&DecisionCause::Internal).unwrap(), r#"{"kind":"internal"}"#);
    }

    #[test]
    fn decision_errors_point_at_the_pattern() {
        let list = rules(
            r#"[{"id":1,"repository_path_pattern":"a/*","minimum_access_level_for_push":"owner"},
                {"id":9,"repository_path_pattern":"g\\","minimum_access_level_for_push":"owner"}]"#,
        );
        let set = RuleSet::new(list.clone()).unwrap();
        let request = DecisionRequest {
            target: Target::ContainerRepository { path: "gx".into() },
            action: Action::Push,
            actor: Actor::DeployToken,
        };
        let error = set.decide(&request).unwrap_err();
        let got = decision_failure(&error, Some(set.rules()));
        let cause = DecisionCause::Unevaluable { rule_id: 9, pattern: "g\\".into() };
        assert_eq!((got.field.as_str(), got.cause.clone()), ("rules[1].repository_path_pattern", cause.clone()));
        assert!(got.message.contains("rule 9"), "{}", got.message);
        let got = decision_failure(&error, None::<&[Rule]>);
        assert_eq!((got.field.as_str(), got.cause), ("rules", cause));

        let internal = DecideError::Internal { invariant: Invariant::BadSpan };
        let got = decision_failure(&internal, Some(&list));
        assert_eq!((got.field.as_str(), got.cause), ("rules", DecisionCause::Internal));
    }
}
