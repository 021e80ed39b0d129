//! WIT types ⇄ core types. Mechanical on purpose: no decision is made here.

use super::bindings::exports::pkgprotect::policy::types as wit;
use pkgprotect as core;

include!("same_enums.rs");

pub fn core_rule(rule: wit::Rule) -> core::Rule {
    match rule {
        wit::Rule::Package(r) => core::Rule::Package(core::PackageRule {
            id: r.id,
            project_id: r.project_id,
            package_name_pattern: r.package_name_pattern,
            package_type: core_package_type(r.package_type),
            minimum_access_level_for_push: r.minimum_access_level_for_push.map(core_level),
            minimum_access_level_for_delete: r.minimum_access_level_for_delete.map(core_level),
        }),
        wit::Rule::ContainerRepository(r) => core::Rule::ContainerRepository(core::ContainerRepositoryRule {
            id: r.id,
            project_id: r.project_id,
            repository_path_pattern: r.repository_path_pattern,
            minimum_access_level_for_push: r.minimum_access_level_for_push.map(core_level),
            minimum_access_level_for_delete: r.minimum_access_level_for_delete.map(core_level),
        }),
    }
}

pub fn wit_rule(rule: core::Rule) -> wit::Rule {
    match rule {
        core::Rule::Package(r) => wit::Rule::Package(wit::PackageRule {
            id: r.id,
            project_id: r.project_id,
            package_name_pattern: r.package_name_pattern,
            package_type: wit_package_type(r.package_type),
            minimum_access_level_for_push: r.minimum_access_level_for_push.map(wit_level),
            minimum_access_level_for_delete: r.minimum_access_level_for_delete.map(wit_level),
        }),
        core::Rule::ContainerRepository(r) => wit::Rule::ContainerRepository(wit::ContainerRepositoryRule {
            id: r.id,
            project_id: r.project_id,
            repository_path_pattern: r.repository_path_pattern,
            minimum_access_level_for_push: r.minimum_access_level_for_push.map(wit_level),
            minimum_access_level_for_delete: r.minimum_access_level_for_delete.map(wit_level),
        }),
    }
}

pub fn core_rules(rules: Vec<wit::Rule>) -> Vec<core::Rule> {
    rules.into_iter().map(core_rule).collect()
}

pub fn context_rules(existing: Vec<wit::Rule>, previous: Option<wit::Rule>) -> (Vec<core::Rule>, Option<core::Rule>) {
    (core_rules(existing), previous.map(core_rule))
}

pub fn core_request(request: wit::DecisionRequest) -> core::DecisionRequest {
    core::DecisionRequest {
        target: match request.target {
            wit::Target::Package(p) => {
                core::Target::Package { name: p.name, package_type: core_package_type(p.package_type) }
            }
            wit::Target::ContainerRepository(path) => core::Target::ContainerRepository { path },
        },
        action: core_action(request.action),
        actor: match request.actor {
            wit::Actor::User(level) => core::Actor::User { access_level: core_level(level) },
            wit::Actor::DeployToken => core::Actor::DeployToken,
        },
    }
}

pub fn wit_decision(decision: core::Decision) -> wit::Decision {
    wit::Decision {
        allowed: decision.allowed,
        blocking_rule_ids: decision.blocking_rule_ids,
        reason: String::from(&*decision.reason),
    }
}

pub fn wit_validation_errors(rejection: core::Rejection) -> Vec<wit::ValidationError> {
    let http_status = rejection.http_status();
    rejection
        .errors
        .into_iter()
        .map(|e| wit::ValidationError { field: e.field.as_str().into(), message: e.message, http_status })
        .collect()
}

pub fn rule_set_errors(error: core::RuleSetError) -> Vec<wit::ValidationError> {
    let field = match &error {
        core::RuleSetError::MissingId { .. } | core::RuleSetError::DuplicateId { .. } | core::RuleSetError::TooMany => {
            "id"
        }
        core::RuleSetError::LevelNotAllowed { field, .. }
        | core::RuleSetError::BlankPattern { field, .. }
        | core::RuleSetError::PatternTooLong { field, .. } => field.as_str(),
    };
    vec![wit::ValidationError { field: field.into(), message: error.to_string(), http_status: 422 }]
}

/// Byte offsets fit in u32: a component's memory is at most 4 GiB.
pub fn offset(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
