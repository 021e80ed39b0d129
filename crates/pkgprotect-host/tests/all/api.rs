use pkgprotect::{
    AccessLevel, Action, Actor, DecisionRequest, PackageType, ParamsMode, Rule, RuleKind, RuleSet, Target,
    ValidationContext, parse_rule_params,
};
use pkgprotect_host::HostError;
use serde_json::json;

fn rules() -> Vec<Rule> {
    serde_json::from_value(json!([
        {"id": 1, "package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 2, "package_name_pattern": "@demo/core", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
        {"id": 3, "package_name_pattern": "pkg\\", "package_type": "generic", "minimum_access_level_for_push": "owner"},
        {"id": 4, "repository_path_pattern": "g/p/*", "minimum_access_level_for_delete": "owner"}
    ]))
    .unwrap()
}

fn request(name: &str, package_type: PackageType, actor: Actor) -> DecisionRequest {
    DecisionRequest { target: Target::Package { name: name.into(), package_type }, action: Action::Push, actor }
}

#[test]
fn rule_set_decisions_equal_the_native_core() {
    let native = RuleSet::new(rules()).unwrap();
    let mut component = super::policy().rule_set(&rules()).unwrap();
    let requests = [
        request("@demo/core", PackageType::Npm, Actor::User { access_level: AccessLevel::Developer }),
        request("@demo/core", PackageType::Npm, Actor::User { access_level: AccessLevel::Maintainer }),
        request("lodash", PackageType::Npm, Actor::DeployToken),
        DecisionRequest {
            target: Target::ContainerRepository { path: "g/p/img".into() },
            action: Action::Delete,
            actor: Actor::User { access_level: AccessLevel::Maintainer },
        },
    ];
    for request in &requests {
        assert_eq!(component.decide(request).unwrap(), native.decide(request).unwrap(), "{request:?}");
    }
    let batch = component.decide_batch(&requests).unwrap();
    assert_eq!(batch.len(), requests.len());
    // A rule that cannot be evaluated fails the decision, as GitLab's query fails.
    let failing = request("pkgx", PackageType::Generic, Actor::User { access_level: AccessLevel::Developer });
    assert!(matches!(component.decide(&failing), Err(HostError::CannotDecide(_))));
    assert!(!component.lint().unwrap().is_empty());
}

#[test]
fn one_shot_decide_validate_preview_and_version() {
    let policy = super::policy();
    assert_eq!(policy.version().unwrap(), pkgprotect::VERSION);
    let decision = policy
        .decide(&rules(), &request("@demo/x", PackageType::Npm, Actor::User { access_level: AccessLevel::Developer }))
        .unwrap();
    assert_eq!(decision.blocking_rule_ids, [1]);
    let params =
        json!({"package_name_pattern": "*-x", "package_type": "pypi", "minimum_access_level_for_push": "owner"});
    let rejection =
        policy.validate_params(RuleKind::Package, &params, &ValidationContext::default()).unwrap().unwrap_err();
    assert_eq!(rejection.http_status(), 422);
    assert_eq!(
        rejection.errors[0].message,
        "Package name pattern should be a valid PyPI package name with optional wildcard characters."
    );
    let valid =
        json!({"package_name_pattern": "x-*", "package_type": "pypi", "minimum_access_level_for_push": "owner"});
    let rule = policy.validate_params(RuleKind::Package, &valid, &ValidationContext::default()).unwrap().unwrap();
    assert_eq!(rule, parse_rule_params(RuleKind::Package, &valid, ParamsMode::Create).unwrap());
    assert!(policy.validate_rule(&rule, &ValidationContext::default()).unwrap().is_ok());
    let preview = policy.preview("@demo/*", Some(PackageType::Npm), &["@Demo/ui".into(), "x".into()]).unwrap();
    assert_eq!((preview[0].matched, preview[0].spans.clone(), preview[1].matched), (true, vec![(0, 6)], false));
}

#[test]
fn refused_rules_are_an_error_naming_the_problem() {
    let mut duplicate = rules();
    duplicate.push(duplicate[0].clone());
    let Err(HostError::RulesRefused(rejection)) = super::policy().rule_set(&duplicate) else {
        panic!("accepted duplicate ids")
    };
    assert_eq!(rejection.errors[0].message, "rule id 1 appears more than once");
}

#[test]
fn one_policy_serves_many_threads() {
    let policy = super::policy().clone();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let policy = policy.clone();
            std::thread::spawn(move || {
                let mut set = policy.rule_set(&rules()).unwrap();
                for _ in 0..200 {
                    let d = set.decide(&request("@demo/a", PackageType::Npm, Actor::DeployToken)).unwrap();
                    assert!(!d.allowed);
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
}

/// The guest's stack is 128 KiB (see the component's build.rs): input nested as deep as a
/// client may send is refused as data, never a stack overflow.
#[test]
fn deeply_nested_params_are_refused_not_a_trap() {
    let mut nested = serde_json::Value::Null;
    for _ in 0..300 {
        nested = serde_json::Value::Array(vec![nested]);
    }
    let params = json!({"package_name_pattern": nested, "package_type": "npm", "minimum_access_level_for_push": "owner"});
    let context = ValidationContext { project_path: None, existing_rules: &[], previous: None };
    let refused = super::policy().validate_params(RuleKind::Package, &params, &context).unwrap().unwrap_err();
    assert_eq!(refused.http_status(), 400, "{refused:?}");
}

/// Rule sets larger than the guest's initial heap arena grow the memory and still decide
/// as the core does.
#[test]
fn rule_sets_beyond_the_initial_arena_decide_as_the_core() {
    let many: Vec<Rule> = (0..5_000)
        .map(|i| {
            serde_json::from_value(json!({"id": i + 1, "package_name_pattern": format!("@scope-{i}/pkg-*"),
                "package_type": "npm", "minimum_access_level_for_push": "maintainer"}))
            .unwrap()
        })
        .collect();
    let native = RuleSet::new(many.clone()).unwrap();
    let mut component = super::policy().rule_set(&many).unwrap();
    let developer = Actor::User { access_level: AccessLevel::Developer };
    for name in ["@scope-4999/pkg-a", "@scope-0/pkg-", "@scope-5000/pkg-a", "unscoped"] {
        let request = request(name, PackageType::Npm, developer);
        assert_eq!(component.decide(&request).unwrap(), native.decide(&request).unwrap(), "{name}");
    }
}
