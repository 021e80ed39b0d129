//! Parsing and validating arbitrary bytes as rules, parameters and requests never panics
//! and always answers: a rule, or GitLab's 400/422 with at least one error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pkgprotect::{
    DecisionRequest, ParamsMode, Rule, RuleKind, RuleSet, ValidationContext, parse_rule_params, preview, validate_rule,
};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Rule>(data);
    let _ = serde_json::from_slice::<DecisionRequest>(data);
    if let Ok(rules) = serde_json::from_slice::<Vec<Rule>>(data)
        && let Ok(set) = RuleSet::new(rules)
    {
        let _ = set.lint();
    }
    let Ok(params) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for kind in [RuleKind::Package, RuleKind::ContainerRepository] {
        let created = parse_rule_params(kind, &params, ParamsMode::Create);
        match &created {
            Ok(rule) => {
                let context = ValidationContext { project_path: Some("my-group/my-project"), ..Default::default() };
                if let Err(rejection) = validate_rule(rule, &context) {
                    assert!(!rejection.errors.is_empty());
                    assert!(matches!(rejection.http_status(), 400 | 422));
                }
                let _ = parse_rule_params(kind, &params, ParamsMode::Update(rule));
                let _ = preview(rule.pattern(), rule.package_type(), &["a", "", "é", rule.pattern()]);
            }
            Err(rejection) => assert_eq!(rejection.http_status(), 400),
        }
    }
});
