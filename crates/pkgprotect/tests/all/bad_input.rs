//! Hostile or broken input gets a clear error, never a panic.

use pkgprotect::{
    DecisionRequest, ParamsMode, Rule, RuleKind, RuleSet, RuleSetError, ValidationContext, parse_rule_params, preview,
    validate_rule,
};
use serde_json::json;

#[test]
fn invalid_json_and_unknown_values_are_errors_naming_the_problem() {
    let err = serde_json::from_str::<Rule>("{\"package_name_pattern\": ").unwrap_err();
    assert!(err.is_eof());
    let err =
        serde_json::from_value::<Rule>(json!({"package_name_pattern": "a", "package_type": "composer"})).unwrap_err();
    assert!(err.to_string().contains("composer"), "{err}");
    let err = serde_json::from_value::<Rule>(
        json!({"package_name_pattern": "a", "package_type": "npm", "minimum_acess_level_for_push": "owner"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("minimum_acess_level_for_push"), "{err}");
    let err = serde_json::from_value::<DecisionRequest>(
        json!({"package_name": "a", "action": "push", "actor": {"type": "user", "access_level": "developer"}}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("package_type"), "{err}");
    let err = serde_json::from_value::<DecisionRequest>(
        json!({"repository_path": "a", "action": "pull", "actor": {"type": "deploy_token"}}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("pull"), "{err}");
}

#[test]
fn params_of_every_json_type_are_refused_cleanly() {
    for body in [json!(null), json!(1), json!("x"), json!([]), json!({"package_name_pattern": {"a": 1}})] {
        let err = parse_rule_params(RuleKind::Package, &body, ParamsMode::Create).unwrap_err();
        assert_eq!(err.http_status(), 400, "{body}");
        assert!(!err.errors.is_empty());
    }
}

#[test]
fn huge_patterns_are_refused_as_too_long() {
    let pattern = "*".repeat(1 << 20);
    let rule = parse_rule_params(
        RuleKind::Package,
        &json!({"package_name_pattern": pattern, "package_type": "generic", "minimum_access_level_for_push": "owner"}),
        ParamsMode::Create,
    )
    .unwrap();
    let err = validate_rule(&rule, &ValidationContext::default()).unwrap_err();
    assert_eq!(err.http_status(), 422);
    assert_eq!(err.errors[0].message, "Package name pattern is too long (maximum is 255 characters)");
    let too_long =
        RuleSet::new([Rule::Package(pkgprotect::PackageRule { id: Some(1), ..as_package(rule) })]).unwrap_err();
    assert!(matches!(too_long, RuleSetError::PatternTooLong { id: 1, chars: 1_048_576, .. }));
}

fn as_package(rule: Rule) -> pkgprotect::PackageRule {
    match rule {
        Rule::Package(rule) => rule,
        Rule::ContainerRepository(_) => unreachable!(),
    }
}

#[test]
fn huge_names_are_decided() {
    let set = RuleSet::new(serde_json::from_value::<Vec<Rule>>(json!([
        {"id": 1, "package_name_pattern": "*a*b*c*d*e*f*g*h*", "package_type": "generic", "minimum_access_level_for_push": "owner"}
    ])).unwrap())
    .unwrap();
    let name = "a".repeat(4 << 20);
    let request = serde_json::from_value::<DecisionRequest>(json!({
        "package_name": name, "package_type": "generic", "action": "push", "actor": {"type": "user", "access_level": "developer"}
    }))
    .unwrap();
    assert!(set.decide(&request).unwrap().allowed);
    let out = preview("*a*", None, &[name.as_str(), "\u{0}", "\u{10FFFF}"]);
    assert!(out[0].matched && !out[1].matched && !out[2].matched);
}

#[test]
fn rule_sets_refuse_what_gitlab_could_not_store() {
    let rules = |v: serde_json::Value| serde_json::from_value::<Vec<Rule>>(v).unwrap();
    let dup = rules(json!([
        {"id": 1, "package_name_pattern": "a", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        {"id": 1, "package_name_pattern": "b", "package_type": "npm", "minimum_access_level_for_push": "owner"}
    ]));
    assert_eq!(RuleSet::new(dup).unwrap_err().to_string(), "rule id 1 appears more than once");
    let level = rules(json!([
        {"id": 2, "package_name_pattern": "a", "package_type": "npm", "minimum_access_level_for_delete": "maintainer"}
    ]));
    assert_eq!(
        RuleSet::new(level).unwrap_err().to_string(),
        "rule 2: `minimum_access_level_for_delete` cannot be `maintainer` for a package rule"
    );
    let blank = rules(json!([{"id": 3, "repository_path_pattern": " ", "minimum_access_level_for_push": "owner"}]));
    assert_eq!(RuleSet::new(blank).unwrap_err().to_string(), "rule 3: `repository_path_pattern` is blank");
}

/// Actors refuse keys they do not have, a deploy token's included: an `access_level` on a
/// deploy token must not be silently dropped (a caller who meant a user would get the
/// strictest actor by luck, not by design).
#[test]
fn actors_refuse_keys_they_do_not_have() {
    use pkgprotect::{AccessLevel, Actor};
    let parse = |text: &str| serde_json::from_str::<Actor>(text);
    assert_eq!(parse(r#"{"type": "deploy_token"}"#).unwrap(), Actor::DeployToken);
    assert_eq!(
        parse(r#"{"type": "user", "access_level": "owner"}"#).unwrap(),
        Actor::User { access_level: AccessLevel::Owner }
    );
    for refused in [
        r#"{"type": "deploy_token", "access_level": "owner"}"#,
        r#"{"type": "deploy_token", "extra": 1}"#,
        r#"{"type": "user"}"#,
        r#"{"type": "user", "access_level": "owner", "extra": 1}"#,
        r#"{"type": "robot"}"#,
        r#"{"access_level": "owner"}"#,
    ] {
        assert!(parse(refused).is_err(), "accepted {refused}");
    }
    // What it serializes to reads back.
    for actor in [Actor::DeployToken, Actor::User { access_level: AccessLevel::Developer }] {
        assert_eq!(parse(&serde_json::to_string(&actor).unwrap()).unwrap(), actor);
    }
}
