//! Translation between JavaScript values and the core's types.
//!
//! Inputs cross as JSON text (`JSON.stringify` in JS, serde_json in Wasm): one string
//! crossing per argument is much cheaper than serde-wasm-bindgen's property-by-property walk
//! over a large array, and it gives JavaScript objects exactly the meaning they have when a
//! page sends them to GitLab's REST API (`undefined` properties are absent, not `null`).
//! It also keeps the core's `deny_unknown_fields`, which serde-wasm-bindgen's struct reader
//! would bypass by fetching only the fields it knows. Results go back through
//! serde-wasm-bindgen as plain objects, or through `glue.js` where that is one crossing
//! instead of many.

use crate::errors::FieldError;
use pkgprotect::{AccessLevel, Action, Actor, PackageType, Rule, RuleSet, TargetKind, Verdict};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

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

fn describe(thrown: &JsValue) -> String {
    use wasm_bindgen::JsCast;
    match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => error.message().into(),
        None => thrown.as_string().unwrap_or_else(|| "the value was refused".into()),
    }
}

/// The JSON shapes whose faults are reported at the field inside them (`requests[5].actor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A GitLab REST rule.
    Rule,
    /// A `DecisionRequest`.
    Request,
    /// Anything else: faults are reported at the value as a whole.
    Other,
}

/// Where in `value`, which does not parse as the `T` of `shape`, the fault lies: a field
/// the shape does not have, one whose value does not parse as that field's type (inside an
/// actor: `actor.access_level`), or a package's missing `package_type`. Otherwise (fields
/// that do not go together, a missing pattern or name) the value as a whole.
fn locate(value: &Value, shape: Shape, field: &str) -> String {
    use fails_as as fails;
    let Value::Object(map) = value else {
        return field.to_owned();
    };
    let bad = |key: &str, value: &Value| match (shape, key) {
        (Shape::Rule, "id" | "project_id") => fails::<Option<i64>>(value),
        (Shape::Rule, "package_name_pattern" | "repository_path_pattern") => fails::<Option<String>>(value),
        (Shape::Rule | Shape::Request, "package_type") => fails::<Option<PackageType>>(value),
        (Shape::Rule, "minimum_access_level_for_push" | "minimum_access_level_for_delete") => {
            fails::<Option<AccessLevel>>(value)
        }
        (Shape::Request, "package_name" | "repository_path") => fails::<Option<String>>(value),
        (Shape::Request, "action") => fails::<Action>(value),
        (Shape::Request, "actor") => fails::<Actor>(value),
        (Shape::Other, _) => false,
        _ => true,
    };
    if let Some((key, value)) = map.iter().find(|(key, value)| bad(key, value)) {
        let at = format!("{field}.{key}");
        return if key == "actor" { locate_in_actor(value, &at) } else { at };
    }
    let present = |key: &str| map.get(key).is_some_and(|value| !value.is_null());
    let (name, other) = match shape {
        Shape::Rule => ("package_name_pattern", "repository_path_pattern"),
        _ => ("package_name", "repository_path"),
    };
    if shape != Shape::Other && present(name) && !present(other) && !present("package_type") {
        return format!("{field}.package_type");
    }
    field.to_owned()
}

/// The field inside an `actor` (the `{ type, access_level }` of the API's `Actor` type) that
/// keeps it from parsing.
fn locate_in_actor(actor: &Value, field: &str) -> String {
    let Value::Object(map) = actor else {
        return field.to_owned();
    };
    let user = match map.get("type").and_then(Value::as_str) {
        Some("user") => true,
        Some("deploy_token") => false,
        _ => return format!("{field}.type"),
    };
    let known: &[&str] = if user { &["type", "access_level"] } else { &["type"] };
    if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
        return format!("{field}.{unknown}");
    }
    if user && map.get("access_level").is_none_or(fails_as::<AccessLevel>) {
        return format!("{field}.access_level");
    }
    field.to_owned()
}

fn fails_as<T: DeserializeOwned>(value: &Value) -> bool {
    T::deserialize(value).is_err()
}

/// `value` as a `T` of `shape`, naming `field` (or the field inside it at fault) on error.
pub fn from_value<T: DeserializeOwned>(value: Value, shape: Shape, field: &str) -> Result<T, FieldError> {
    match T::deserialize(&value) {
        Ok(parsed) => Ok(parsed),
        Err(error) => {
            let at = locate(&value, shape, field);
            Err(FieldError::new(at.clone(), format!("{at}: {error}")))
        }
    }
}

/// Parse JSON text produced by [`stringify`] as a `T`.
pub fn parse<T: DeserializeOwned>(json: &str, shape: Shape, field: &str) -> Result<T, FieldError> {
    if let Ok(parsed) = serde_json::from_str(json) {
        return Ok(parsed);
    }
    // Again via `Value`, so that the message carries no line/column of a JSON text the
    // caller never saw, and the fault can be located.
    let value: Value = serde_json::from_str(json).map_err(|e| FieldError::new(field, format!("{field}: {e}")))?;
    from_value(value, shape, field)
}

/// Parse a JSON array of `T`; a bad element is reported as `field[index]` (or a field inside it).
pub fn parse_list<T: DeserializeOwned>(json: &str, shape: Shape, field: &str) -> Result<Vec<T>, FieldError> {
    // The common case (every element is fine) parses straight into `T`s; only a failure pays
    // for the element-by-element pass that finds which one is wrong.
    match serde_json::from_str::<Vec<T>>(json) {
        Ok(list) => Ok(list),
        Err(_) => Err(list_error::<T>(json, shape, field)),
    }
}

/// Why the JSON array `json` is not a list of `T`: the argument, or its first bad element.
pub fn list_error<T: DeserializeOwned>(json: &str, shape: Shape, field: &str) -> FieldError {
    let items = match serde_json::from_str(json) {
        Ok(Value::Array(items)) => items,
        Ok(_) => return FieldError::new(field, format!("{field} must be an array")),
        Err(e) => return FieldError::new(field, format!("{field}: {e}")),
    };
    for (index, item) in items.into_iter().enumerate() {
        if let Err(error) = from_value::<T>(item, shape, &format!("{field}[{index}]")) {
            return error;
        }
    }
    FieldError::new(field, format!("{field} is not a list of the expected values"))
}

/// The JS argument `rules`, an array of GitLab REST rules. The core parses them (one parser
/// for arrays and GitLab's JSON text, compiled once into the Wasm); only a refusal pays for
/// the pass that names the element at fault.
pub fn rules_arg(rules: &JsValue) -> Result<Vec<Rule>, FieldError> {
    let Some(json) = stringify(rules, "rules")? else {
        return Err(FieldError::new("rules", "rules is required (an array)"));
    };
    match RuleSet::parse_gitlab_json(&json) {
        Ok(list) => {
            list.iter().enumerate().try_for_each(|(index, rule)| safe_ids(rule, &format!("rules[{index}]")))?;
            Ok(list)
        }
        Err(_) => Err(list_error::<Rule>(&json, Shape::Rule, "rules")),
    }
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Ids from JavaScript numbers must be exact integers: past 2^53 the number the caller wrote
/// is not the one the engine would see (nor the one an answer would give back).
pub fn safe_ids(rule: &Rule, field: &str) -> Result<(), FieldError> {
    let project_id = match rule {
        Rule::Package(rule) => rule.project_id,
        Rule::ContainerRepository(rule) => rule.project_id,
    };
    for (key, id) in [("id", rule.id()), ("project_id", project_id)] {
        if let Some(id) = id.filter(|id| !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(id)) {
            let at = format!("{field}.{key}");
            return Err(FieldError::new(at.clone(), format!("{at} must be an integer, got `{id}`")));
        }
    }
    Ok(())
}

/// The JS argument `value` as a list of `T`.
pub fn list_arg<T: DeserializeOwned>(value: &JsValue, shape: Shape, field: &str) -> Result<Vec<T>, FieldError> {
    match stringify(value, field)? {
        Some(json) => parse_list(&json, shape, field),
        None => Err(FieldError::new(field, format!("{field} is required (an array)"))),
    }
}

/// The JS argument `value` as a `T`.
pub fn arg<T: DeserializeOwned>(value: &JsValue, shape: Shape, field: &str) -> Result<T, FieldError> {
    match stringify(value, field)? {
        Some(json) => parse(&json, shape, field),
        None => Err(FieldError::new(field, format!("{field} is required"))),
    }
}

/// The JS argument `value` as a string.
pub fn string_arg(value: &JsValue, field: &str) -> Result<String, FieldError> {
    value.as_string().ok_or_else(|| FieldError::new(field, format!("{field} must be a string")))
}

/// An options argument: an object whose keys are all in `known`.
pub fn options_arg(value: &JsValue, known: &[&str], example: &str) -> Result<Map<String, Value>, FieldError> {
    let Some(Value::Object(map)) = stringify(value, "options")?.and_then(|json| serde_json::from_str(&json).ok())
    else {
        return Err(FieldError::new("options", format!("options must be an object such as {example}")));
    };
    // A misspelt option would silently change the answer, so it is refused.
    if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
        return Err(FieldError::new(
            format!("options.{unknown}"),
            format!("unknown option `{unknown}` (expected {})", known.join(", ")),
        ));
    }
    Ok(map)
}

/// A target kind by name: a package type, or `container_repository`.
pub fn target_kind(name: &str) -> Option<TargetKind> {
    match name {
        "container_repository" => Some(TargetKind::ContainerRepository),
        _ => name.parse().ok().map(TargetKind::Package),
    }
}

/// `options.kind`, a required target kind.
pub fn kind_option(map: &mut Map<String, Value>) -> Result<TargetKind, FieldError> {
    let expected = || {
        let types: Vec<&str> = PackageType::ALL.iter().map(|t| t.as_str()).collect();
        format!("a package type ({}) or container_repository", types.join(", "))
    };
    match map.remove("kind") {
        Some(Value::String(name)) => target_kind(&name).ok_or_else(|| {
            FieldError::new("options.kind", format!("unknown target kind `{name}` (expected {})", expected()))
        }),
        _ => Err(FieldError::new("options.kind", format!("options.kind is required: {}", expected()))),
    }
}

/// `options.<key>`, a required `T`.
pub fn required_option<T: DeserializeOwned>(map: &mut Map<String, Value>, key: &str) -> Result<T, FieldError> {
    let field = format!("options.{key}");
    match map.remove(key) {
        Some(value) => from_value(value, Shape::Other, &field),
        None => Err(FieldError::new(field.clone(), format!("{field} is required"))),
    }
}

/// What many names are asked about: `{ kind, action, actor }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub kind: TargetKind,
    pub action: Action,
    pub actor: Actor,
}

impl Targets {
    const KNOWN: [&'static str; 3] = ["kind", "action", "actor"];
    const EXAMPLE: &'static str =
        r#"{ kind: "npm", action: "push", actor: { type: "user", access_level: "developer" } }"#;

    pub fn read(options: &JsValue) -> Result<Self, FieldError> {
        Self::from_map(options_arg(options, &Self::KNOWN, Self::EXAMPLE)?)
    }

    pub fn from_map(mut map: Map<String, Value>) -> Result<Self, FieldError> {
        Ok(Targets {
            kind: kind_option(&mut map)?,
            action: required_option(&mut map, "action")?,
            actor: match map.remove("actor") {
                Some(actor) => Actor::deserialize(&actor).map_err(|error| {
                    let at = locate_in_actor(&actor, "options.actor");
                    FieldError::new(at.clone(), format!("{at}: {error}"))
                })?,
                None => return Err(FieldError::new("options.actor", "options.actor is required")),
            },
        })
    }
}

/// `{ kind }` of `preview`.
pub fn preview_kind(options: &JsValue) -> Result<TargetKind, FieldError> {
    kind_option(&mut options_arg(options, &["kind"], r#"{ kind: "npm" }"#)?)
}

/// `{ kind, limit }` of `NameList#previewFirst`.
pub fn preview_first_options(options: &JsValue) -> Result<(TargetKind, usize), FieldError> {
    preview_first_options_from_map(options_arg(options, &["kind", "limit"], r#"{ kind: "npm", limit: 200 }"#)?)
}

/// `options.kind`, a target kind, and `options.limit`, a whole number from 0 up (`200`, or
/// `200.0` as JSON may write it).
pub fn preview_first_options_from_map(mut map: Map<String, Value>) -> Result<(TargetKind, usize), FieldError> {
    let kind = kind_option(&mut map)?;
    let whole = |n: &serde_json::Number| {
        n.as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 2f64.powi(53)).map(|f| f as u64))
    };
    let limit = match map.remove("limit") {
        Some(Value::Number(n)) => whole(&n),
        _ => None,
    }
    .ok_or_else(|| FieldError::new("options.limit", "options.limit must be a whole number from 0 up"))?;
    Ok((kind, usize::try_from(limit).unwrap_or(usize::MAX)))
}

/// A result as plain JS objects and arrays (not `Map`s), `null` for `None`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, FieldError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| FieldError::new("result", format!("cannot convert the result for JavaScript: {e}")))
}

/// The code `glue.js`'s `verdicts` turns back into a verdict string.
pub fn verdict_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Allowed => 0,
        Verdict::Blocked => 1,
        Verdict::Undecidable => 2,
    }
}

/// Wasm addresses are 32-bit, so every length of a list in Wasm memory fits; saturating
/// keeps the host build (64-bit) panic-free all the same.
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkgprotect::DecisionRequest;
    use serde_json::json;

    #[test]
    fn preview_first_takes_a_kind_and_a_whole_limit() {
        let read = |value: Value| {
            let Value::Object(map) = value else { unreachable!() };
            preview_first_options_from_map(map)
        };
        let npm = TargetKind::Package(PackageType::Npm);
        assert_eq!(read(json!({"kind": "npm", "limit": 200})).unwrap(), (npm, 200));
        assert_eq!(read(json!({"kind": "npm", "limit": 0})).unwrap(), (npm, 0));
        assert_eq!(read(json!({"kind": "npm", "limit": 3.0})).unwrap(), (npm, 3));
        for bad in [json!(-1), json!(2.5), json!("200"), json!(null), json!(1e300)] {
            let err = read(json!({"kind": "npm", "limit": bad})).unwrap_err();
            assert_eq!(err.field, "options.limit", "{bad}");
        }
        assert_eq!(read(json!({"kind": "npm"})).unwrap_err().field, "options.limit");
        assert_eq!(read(json!({"limit": 1})).unwrap_err().field, "options.kind");
    }

    #[test]
    fn list_errors_name_the_element_or_the_field_in_it() {
        let err = parse_list::<Rule>(r#"[{"id":1,"repository_path_pattern":"a/*"},{"id":2}]"#, Shape::Rule, "rules")
            .unwrap_err();
        assert_eq!(err.field, "rules[1]");
        assert!(err.message.starts_with("rules[1]: a rule needs `package_name_pattern`"), "{}", err.message);
        assert!(!err.message.contains("line 1"), "{}", err.message);

        let err = parse_list::<Rule>(
            r#"[{"id":1,"repository_path_pattern":"a/*","minimum_acess_level_for_push":"owner"}]"#,
            Shape::Rule,
            "rules",
        )
        .unwrap_err();
        assert_eq!(err.field, "rules[0].minimum_acess_level_for_push");
        assert!(err.message.contains("unknown field `minimum_acess_level_for_push`"), "{}", err.message);

        let err =
            parse_list::<Rule>(r#"[{"id":"1","repository_path_pattern":"a/*"}]"#, Shape::Rule, "rules").unwrap_err();
        assert_eq!(err.field, "rules[0].id");
    }

    #[test]
    fn request_errors_name_the_field() {
        let requests = |value: Value| parse_list::<DecisionRequest>(&value.to_string(), Shape::Request, "requests");
        let user = json!({"type": "user", "access_level": "developer"});
        let ok = json!({"repository_path": "a", "action": "push", "actor": user});
        let err =
            requests(json!([ok, {"repository_path": "a", "action": "push", "actor": {"type": "user"}}])).unwrap_err();
        assert_eq!(err.field, "requests[1].actor.access_level");
        let err = requests(json!([{"repository_path": "a", "action": "pull", "actor": user}])).unwrap_err();
        assert_eq!(err.field, "requests[0].action");
        let err = requests(json!([{"package_name": "a", "action": "push", "actor": user}])).unwrap_err();
        assert_eq!(err.field, "requests[0].package_type");
        assert!(err.message.contains("missing field `package_type`"), "{}", err.message);
        let err = requests(json!([{"package_name": "a", "repository_path": "b", "action": "push", "actor": user}]));
        assert_eq!(err.unwrap_err().field, "requests[0]");
        let actor = |actor: Value| {
            let request = json!([{"repository_path": "a", "action": "push", "actor": actor}]);
            requests(request).unwrap_err().field
        };
        assert_eq!(actor(json!("user")), "requests[0].actor");
        assert_eq!(actor(json!({"access_level": "owner"})), "requests[0].actor.type");
        assert_eq!(actor(json!({"type": "bot"})), "requests[0].actor.type");
        assert_eq!(actor(json!({"type": "user"})), "requests[0].actor.access_level");
        assert_eq!(actor(json!({"type": "user", "access_level": 30})), "requests[0].actor.access_level");
        assert_eq!(actor(json!({"type": "user", "access_level": "owner", "x": 1})), "requests[0].actor.x");
        let err = requests(json!([3])).unwrap_err();
        assert_eq!(err.field, "requests[0]");
        let err = requests(json!({})).unwrap_err();
        assert_eq!(err.field, "requests");
    }

    #[test]
    fn target_options_are_checked_one_by_one() {
        let targets = |value: Value| {
            let Value::Object(map) = value else { unreachable!() };
            Targets::from_map(map)
        };
        let actor = json!({"type": "deploy_token"});
        let got = targets(json!({"kind": "pypi", "action": "delete", "actor": actor})).unwrap();
        assert_eq!(got.kind, TargetKind::Package(PackageType::Pypi));
        let got = targets(json!({"kind": "container_repository", "action": "push", "actor": actor})).unwrap();
        assert_eq!(got.kind, TargetKind::ContainerRepository);
        // The rule kind's alias is not a target kind.
        let err = targets(json!({"kind": "container", "action": "push", "actor": actor})).unwrap_err();
        assert_eq!(err.field, "options.kind");
        assert!(err.message.contains("unknown target kind `container`"), "{}", err.message);
        assert_eq!(targets(json!({"action": "push", "actor": actor})).unwrap_err().field, "options.kind");
        assert_eq!(targets(json!({"kind": "npm", "actor": actor})).unwrap_err().field, "options.action");
        assert_eq!(
            targets(json!({"kind": "npm", "action": "pull", "actor": actor})).unwrap_err().field,
            "options.action"
        );
        let err = targets(json!({"kind": "npm", "action": "push", "actor": {"type": "bot"}})).unwrap_err();
        assert_eq!(err.field, "options.actor.type");
        assert_eq!(targets(json!({"kind": "npm", "action": "push", "actor": []})).unwrap_err().field, "options.actor");
    }

    #[test]
    fn verdict_codes_match_glue_js() {
        let glue = include_str!("glue.js");
        assert!(glue.contains(r#"const VERDICTS = ["allowed", "blocked", "undecidable"];"#));
        assert_eq!([Verdict::Allowed, Verdict::Blocked, Verdict::Undecidable].map(verdict_code), [0, 1, 2]);
    }
}
