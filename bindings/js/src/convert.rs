//! Translation between JavaScript values and the core's types.
//!
//! Inputs cross as JSON text (`JSON.stringify` in JS, serde_json in Wasm): one string
//! crossing per argument is much cheaper than serde-wasm-bindgen's property-by-property walk
//! over a large array, and it gives JavaScript objects exactly the meaning they have when a
//! page sends them to GitLab's REST API (`undefined` properties are absent, not `null`).
//! It also keeps the core's `deny_unknown_fields`, which serde-wasm-bindgen's struct reader
//! would bypass by fetching only the fields it knows. Results go back through
//! serde-wasm-bindgen as plain objects.

use pkgprotect::{DecideError, Rule, RuleSet, RuleSetError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::JsValue;

/// An error for JavaScript: the argument or field at fault, and a sentence for humans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// A real `Error` (with a stack) carrying `field`, so `catch (e)` code can both show
    /// `e.message` and point at the input that caused it.
    fn from(error: FieldError) -> Self {
        let js_error = js_sys::Error::new(&error.message);
        // Setting a property on a fresh, unfrozen Error cannot fail.
        let _ = js_sys::Reflect::set(&js_error, &JsValue::from_str("field"), &JsValue::from_str(&error.field));
        js_error.into()
    }
}

/// `JSON.stringify(value)`; `None` when there is nothing to send (`undefined`, a function).
pub fn stringify(value: &JsValue, field: &str) -> Result<Option<String>, FieldError> {
    if value.is_undefined() {
        return Ok(None);
    }
    match js_sys::JSON::stringify(value) {
        Ok(text) => Ok(text.as_string()),
        Err(thrown) => {
            Err(FieldError::new(field, format!("{field} cannot be converted to JSON: {}", describe(&thrown))))
        }
    }
}

/// Parse JSON text produced by [`stringify`] as a `T`, naming `field` in the error.
pub fn parse<T: DeserializeOwned>(json: &str, field: &str) -> Result<T, FieldError> {
    if let Ok(parsed) = serde_json::from_str(json) {
        return Ok(parsed);
    }
    // Again via `Value`, so that the message carries no line/column of a JSON text the
    // caller never saw.
    let value: Value = serde_json::from_str(json).map_err(|e| FieldError::new(field, format!("{field}: {e}")))?;
    from_value(value, field)
}

pub fn from_value<T: DeserializeOwned>(value: Value, field: &str) -> Result<T, FieldError> {
    serde_json::from_value(value).map_err(|e| FieldError::new(field, format!("{field}: {e}")))
}

/// Parse a JSON array of `T`; a bad element is reported as `field[index]`.
pub fn parse_list<T: DeserializeOwned>(json: &str, field: &str) -> Result<Vec<T>, FieldError> {
    // The common case (every element is fine) parses straight into `T`s; only a failure pays
    // for the element-by-element pass that finds which one is wrong.
    if let Ok(list) = serde_json::from_str::<Vec<T>>(json) {
        return Ok(list);
    }
    let Value::Array(items) =
        serde_json::from_str(json).map_err(|e| FieldError::new(field, format!("{field}: {e}")))?
    else {
        return Err(FieldError::new(field, format!("{field} must be an array")));
    };
    items.into_iter().enumerate().map(|(index, item)| from_value(item, &format!("{field}[{index}]"))).collect()
}

/// The JS argument `value` as a list of `T`.
pub fn list_arg<T: DeserializeOwned>(value: &JsValue, field: &str) -> Result<Vec<T>, FieldError> {
    match stringify(value, field)? {
        Some(json) => parse_list(&json, field),
        None => Err(FieldError::new(field, format!("{field} is required (an array)"))),
    }
}

/// The JS argument `value` as a `T`.
pub fn arg<T: DeserializeOwned>(value: &JsValue, field: &str) -> Result<T, FieldError> {
    match stringify(value, field)? {
        Some(json) => parse(&json, field),
        None => Err(FieldError::new(field, format!("{field} is required"))),
    }
}

/// A result as plain JS objects and arrays (not `Map`s), `null` for `None`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, FieldError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| FieldError::new("result", format!("cannot convert the result for JavaScript: {e}")))
}

fn describe(thrown: &JsValue) -> String {
    use wasm_bindgen::JsCast;
    match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => error.message().into(),
        None => thrown.as_string().unwrap_or_else(|| "the value was refused".into()),
    }
}

/// Where in the `rules` argument a [`RuleSetError`] points: `rules[2].id`.
pub fn rule_set_error(rules: &[Rule], error: &RuleSetError) -> FieldError {
    let position = |id: i64, nth: usize| rules.iter().enumerate().filter(|(_, r)| r.id() == Some(id)).nth(nth);
    let field = match error {
        RuleSetError::MissingId { index } => format!("rules[{index}].id"),
        RuleSetError::DuplicateId { id } => match position(*id, 1) {
            Some((index, _)) => format!("rules[{index}].id"),
            None => "rules".into(),
        },
        RuleSetError::LevelNotAllowed { id, field, .. }
        | RuleSetError::BlankPattern { id, field }
        | RuleSetError::PatternTooLong { id, field, .. } => match position(*id, 0) {
            Some((index, _)) => format!("rules[{index}].{field}"),
            None => "rules".into(),
        },
        // Errors about the list as a whole (and any the core adds later).
        #[allow(unreachable_patterns)]
        _ => "rules".into(),
    };
    FieldError::new(field, error.to_string())
}

/// A decision that could not be made, always thrown or answered as refused. For a
/// matching error the pattern of the rule it tripped over is at fault; for anything else
/// (an inconsistent rule set, variants the core adds later) the rules as a whole.
pub fn decide_error(rule_set: &RuleSet, error: &DecideError) -> FieldError {
    let field = match error {
        DecideError::Match { rule_id, .. } => rule_set
            .rules()
            .enumerate()
            .find(|(_, rule)| rule.id() == Some(*rule_id))
            .map_or_else(|| "rules".to_owned(), |(index, rule)| format!("rules[{index}].{}", rule.pattern_field())),
        _ => "rules".to_owned(),
    };
    FieldError::new(field, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkgprotect::{Action, Actor, DecisionRequest, Target};

    fn rules(json: &str) -> Vec<Rule> {
        parse_list(json, "rules").unwrap()
    }

    #[test]
    fn list_errors_name_the_element() {
        let err = parse_list::<Rule>(r#"[{"id":1,"repository_path_pattern":"a/*"},{"id":2}]"#, "rules").unwrap_err();
        assert_eq!(err.field, "rules[1]");
        assert!(err.message.starts_with("rules[1]: a rule needs `package_name_pattern`"), "{}", err.message);
        assert!(!err.message.contains("line 1"), "{}", err.message);
    }

    #[test]
    fn unknown_rule_fields_are_refused() {
        let err = parse_list::<Rule>(
            r#"[{"id":1,"repository_path_pattern":"a/*","minimum_acess_level_for_push":"owner"}]"#,
            "rules",
        )
        .unwrap_err();
        assert_eq!(err.field, "rules[0]");
        assert!(err.message.contains("minimum_acess_level_for_push"), "{}", err.message);
    }

    #[test]
    fn rule_set_errors_point_at_the_rule() {
        let list = rules(
            r#"[{"id":1,"repository_path_pattern":"a/*"},{"id":2,"repository_path_pattern":"b/*"},
                {"id":1,"repository_path_pattern":"c/*"}]"#,
        );
        let err = RuleSet::new(list.clone()).unwrap_err();
        assert_eq!(rule_set_error(&list, &err).field, "rules[2].id");

        let list = rules(r#"[{"id":7,"package_name_pattern":" ","package_type":"npm"}]"#);
        let err = RuleSet::new(list.clone()).unwrap_err();
        assert_eq!(rule_set_error(&list, &err).field, "rules[0].package_name_pattern");
    }

    #[test]
    fn decide_errors_point_at_the_pattern() {
        let set = RuleSet::new(rules(
            r#"[{"id":1,"repository_path_pattern":"a/*","minimum_access_level_for_push":"owner"},
                {"id":9,"repository_path_pattern":"g\\","minimum_access_level_for_push":"owner"}]"#,
        ))
        .unwrap();
        let request = DecisionRequest {
            target: Target::ContainerRepository { path: "gx".into() },
            action: Action::Push,
            actor: Actor::DeployToken,
        };
        let err = set.decide(&request).unwrap_err();
        let field_error = decide_error(&set, &err);
        assert_eq!(field_error.field, "rules[1].repository_path_pattern");
        assert!(field_error.message.contains("rule 9"), "{}", field_error.message);

        let internal = DecideError::Internal { invariant: pkgprotect::Invariant::BadSpan };
        let field_error = decide_error(&set, &internal);
        assert_eq!(field_error.field, "rules");
        assert!(field_error.message.contains("refused"), "{}", field_error.message);
    }
}
