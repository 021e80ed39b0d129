use pkgprotect::{
    AccessLevel, Action, Actor, DecisionRequest, Field, FindingKind, OffsetUnit, PackageType, ParamsMode, Rule,
    RuleKind, RuleSet, Summary, Target, TargetKind, ValidationContext, Verdict, parse_rule_params,
};
use pkgprotect_host::{CompileCause, DecideCause, HostError, Rules};
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

const DEVELOPER: Actor = Actor::User { access_level: AccessLevel::Developer };

#[test]
fn rule_set_decisions_equal_the_native_core() {
    let native = RuleSet::new(rules()).unwrap();
    let mut component = super::policy().rule_set(Rules::Typed(&rules())).unwrap();
    let requests = [
        request("@demo/core", PackageType::Npm, DEVELOPER),
        request("@demo/core", PackageType::Npm, Actor::User { access_level: AccessLevel::Maintainer }),
        request("lodash", PackageType::Npm, Actor::DeployToken),
        DecisionRequest {
            target: Target::ContainerRepository { path: "g/p/img".into() },
            action: Action::Delete,
            actor: Actor::User { access_level: AccessLevel::Maintainer },
        },
    ];
    for request in &requests {
        let full = native.decide(request).unwrap();
        assert_eq!(component.explain(request).unwrap(), full, "{request:?}");
        assert_eq!(component.decide(request).unwrap(), Summary::of(&full), "{request:?}");
    }
    let verdicts = component.decide_batch(&requests).unwrap();
    assert_eq!(verdicts, [Verdict::Blocked, Verdict::Allowed, Verdict::Allowed, Verdict::Blocked]);
    // A rule that cannot be evaluated fails the decision, as GitLab's query fails, with the
    // rule as data.
    let failing = request("pkgx", PackageType::Generic, DEVELOPER);
    let Err(HostError::CannotDecide(error)) = component.decide(&failing) else { panic!("decided an unevaluable rule") };
    assert_eq!(error.cause, DecideCause::Unevaluable { rule_id: 3, pattern: "pkg\\".into() });
    assert_eq!(component.decide_batch(std::slice::from_ref(&failing)).unwrap(), [Verdict::Undecidable]);
    // `decide-all`: each request's summary in one call; the undecidable one with its typed error.
    let mut mixed = requests.to_vec();
    mixed.push(failing);
    let all = component.decide_all(&mixed).unwrap();
    assert_eq!(all.len(), mixed.len());
    for (answer, request) in all.iter().zip(&requests) {
        assert_eq!(answer.as_ref().ok(), Some(&Summary::of(&native.decide(request).unwrap())), "{request:?}");
    }
    let Some(Err(error)) = all.last() else { panic!("decided an unevaluable rule in a batch: {all:?}") };
    assert_eq!(error.cause, DecideCause::Unevaluable { rule_id: 3, pattern: "pkg\\".into() });
    let findings = component.lint().unwrap();
    assert!(findings.iter().any(|f| f.kind == FindingKind::TrailingEscape && f.rule_ids == [3]), "{findings:?}");
}

#[test]
fn names_are_decided_in_one_call() {
    let mut set = super::policy().rule_set(Rules::Typed(&rules())).unwrap();
    let names: Vec<String> = ["@demo/a", "@other/a", "", "@DEMO/core", "pkgx"].map(String::from).to_vec();
    let npm = set.decide_names(TargetKind::Package(PackageType::Npm), &names, Action::Push, DEVELOPER).unwrap();
    assert_eq!(npm, [Verdict::Blocked, Verdict::Allowed, Verdict::Allowed, Verdict::Blocked, Verdict::Allowed]);
    let generic = set.decide_names(TargetKind::Package(PackageType::Generic), &names, Action::Push, DEVELOPER).unwrap();
    assert_eq!(generic[4], Verdict::Undecidable);
}

#[test]
fn gitlab_json_rules_compile_like_typed_ones() {
    let json = serde_json::to_string(&rules()).unwrap();
    let mut instance = super::policy().instance().unwrap();
    let typed = instance.compile(Rules::Typed(&rules())).unwrap();
    let from_json = instance.compile(Rules::GitlabJson(&json)).unwrap();
    let probe = request("@demo/core", PackageType::Npm, DEVELOPER);
    assert_eq!(instance.explain(&typed, &probe).unwrap(), instance.explain(&from_json, &probe).unwrap());
    assert_eq!(instance.len(&from_json).unwrap(), 4);
    let Err(HostError::RulesRefused(error)) = instance.compile(Rules::GitlabJson("[{\"id\": 1,\n \"bogus\": 2}]"))
    else {
        panic!("accepted a rule of the wrong shape")
    };
    assert!(matches!(error.cause, CompileCause::InvalidJson { line: 2, .. }), "{error:?}");
}

#[test]
fn many_rule_sets_live_in_one_instance() {
    let mut instance = super::policy().instance().unwrap();
    let sets: Vec<_> = (0..200)
        .map(|i| {
            let rule: Rule = serde_json::from_value(json!({"id": 1, "package_name_pattern": format!("@p{i}/*"),
                "package_type": "npm", "minimum_access_level_for_push": "maintainer"}))
            .unwrap();
            instance.compile(Rules::Typed(&[rule])).unwrap()
        })
        .collect();
    for (i, set) in sets.iter().enumerate() {
        let own = instance.decide(set, &request(&format!("@p{i}/x"), PackageType::Npm, DEVELOPER)).unwrap();
        let other = instance.decide(set, &request(&format!("@p{}/x", i + 1), PackageType::Npm, DEVELOPER)).unwrap();
        assert!(!own.allowed && other.allowed, "set {i}");
    }
    for set in sets {
        instance.drop_rule_set(set).unwrap();
    }
    // A handle from another instance is refused, not used.
    let mut other = super::policy().instance().unwrap();
    let foreign = other.compile(Rules::Typed(&rules())).unwrap();
    assert!(matches!(
        instance.decide(&foreign, &request("x", PackageType::Npm, DEVELOPER)),
        Err(HostError::ForeignRuleSet)
    ));
}

#[test]
fn one_shot_decide_explain_validate_preview_and_versions() {
    let policy = super::policy();
    assert_eq!(policy.version().unwrap(), pkgprotect_host::CONTRACT_VERSION);
    assert_eq!(policy.engine_version().unwrap(), pkgprotect::VERSION);
    let probe = request("@demo/x", PackageType::Npm, DEVELOPER);
    let summary = policy.decide(Rules::Typed(&rules()), &probe).unwrap();
    assert_eq!(summary, Summary { allowed: false, blocking_rules: 1, first_blocking_rule: Some(1) });
    assert_eq!(policy.explain(Rules::Typed(&rules()), &probe).unwrap().blocking_rule_ids, [1]);
    let params =
        json!({"package_name_pattern": "*-x", "package_type": "pypi", "minimum_access_level_for_push": "owner"});
    let rejection = policy
        .validate_params(RuleKind::Package, &params.to_string(), &ValidationContext::default())
        .unwrap()
        .unwrap_err();
    assert_eq!(rejection.http_status(), 422);
    assert_eq!(rejection.errors[0].field, Field::PackageNamePattern);
    assert_eq!(
        rejection.errors[0].message,
        "Package name pattern should be a valid PyPI package name with optional wildcard characters."
    );
    let valid =
        json!({"package_name_pattern": "x-*", "package_type": "pypi", "minimum_access_level_for_push": "owner"});
    let rule =
        policy.validate_params(RuleKind::Package, &valid.to_string(), &ValidationContext::default()).unwrap().unwrap();
    assert_eq!(rule, parse_rule_params(RuleKind::Package, &valid, ParamsMode::Create).unwrap());
    assert!(policy.validate_rule(&rule, &ValidationContext::default()).unwrap().is_ok());
    let names = ["@Demo/ui".to_owned(), "x".to_owned()];
    let preview =
        policy.preview("@demo/*", TargetKind::Package(PackageType::Npm), &names, OffsetUnit::Utf8Bytes).unwrap();
    assert_eq!((preview.matched, preview.spans), (vec![0], vec![0, 6]));
}

/// Spans in each host language's unit slice out the matched text of non-ASCII names.
#[test]
fn name_list_spans_count_in_the_requested_unit() {
    let names = ["😀é-X", "ß-x", "İ-x", "e\u{301}-x"].map(String::from);
    let mut instance = super::policy().instance().unwrap();
    for unit in [OffsetUnit::Utf8Bytes, OffsetUnit::Utf16CodeUnits, OffsetUnit::CodePoints] {
        let list = instance.name_list(&names, unit).unwrap();
        let preview = instance.preview(&list, "*-x", TargetKind::ContainerRepository).unwrap();
        assert_eq!(preview.matched, [0, 1, 2, 3], "{unit:?}");
        for (i, name) in names.iter().enumerate() {
            let span = preview.spans_of(i).unwrap();
            let (start, end) = (span[0] as usize, span[1] as usize);
            let matched: String = match unit {
                OffsetUnit::Utf8Bytes => name[start..end].to_owned(),
                OffsetUnit::Utf16CodeUnits => {
                    String::from_utf16(&name.encode_utf16().collect::<Vec<_>>()[start..end]).unwrap()
                }
                OffsetUnit::CodePoints => name.chars().skip(start).take(end - start).collect(),
            };
            assert_eq!(matched.to_lowercase(), "-x", "{unit:?} {name}");
        }
    }
}

#[test]
fn refused_rules_are_an_error_naming_the_problem() {
    let mut duplicate = rules();
    duplicate.push(duplicate[0].clone());
    let Err(HostError::RulesRefused(error)) = super::policy().rule_set(Rules::Typed(&duplicate)) else {
        panic!("accepted duplicate ids")
    };
    assert_eq!(error.cause, CompileCause::DuplicateId { id: 1 });
    assert_eq!(error.message, "rule id 1 appears more than once");
}

#[test]
fn a_component_without_the_contract_is_refused_at_load() {
    // A component exporting only a `version` that names another contract.
    let wat = r#"(component
        (core module $m
            (memory (export "memory") 1)
            (data (i32.const 16) "0.1.0")
            (data (i32.const 32) "\10\00\00\00\05\00\00\00")
            (func (export "version") (result i32) i32.const 32)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64))
        (core instance $i (instantiate $m))
        (func $version (result string) (canon lift (core func $i "version") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
        (instance $api (export "version" (func $version)))
        (export "pkgprotect:policy/api@0.2.1" (instance $api)))"#;
    let result = pkgprotect_host::Policy::from_bytes(wat.as_bytes(), pkgprotect_host::Limits::default());
    // It compiles, and is refused for lacking the contract's exports.
    assert!(
        matches!(result, Err(HostError::Instantiate(_))),
        "a component without the 0.2.1 contract loaded: {result:?}"
    );
}

#[test]
fn one_policy_serves_many_threads() {
    let policy = super::policy().clone();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let policy = policy.clone();
            std::thread::spawn(move || {
                let mut set = policy.rule_set(Rules::Typed(&rules())).unwrap();
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
    let params =
        json!({"package_name_pattern": nested, "package_type": "npm", "minimum_access_level_for_push": "owner"});
    let context = ValidationContext { project_path: None, existing_rules: &[], previous: None };
    let refused =
        super::policy().validate_params(RuleKind::Package, &params.to_string(), &context).unwrap().unwrap_err();
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
    let mut component = super::policy().rule_set(Rules::Typed(&many)).unwrap();
    for name in ["@scope-4999/pkg-a", "@scope-0/pkg-", "@scope-5000/pkg-a", "unscoped"] {
        let request = request(name, PackageType::Npm, DEVELOPER);
        assert_eq!(component.explain(&request).unwrap(), native.decide(&request).unwrap(), "{name}");
    }
}
