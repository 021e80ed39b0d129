//! Core types ⇄ the bindings' WIT types. Mechanical: no decision is made here.

use crate::bindings::exports::pkgprotect::policy::types as wit;
use pkgprotect as core;

include!("../../pkgprotect-component/src/same_enums.rs");

pub fn wit_rule(rule: &core::Rule) -> wit::Rule {
    match rule {
        core::Rule::Package(r) => wit::Rule::Package(wit::PackageRule {
            id: r.id,
            project_id: r.project_id,
            package_name_pattern: r.package_name_pattern.clone(),
            package_type: wit_package_type(r.package_type),
            minimum_access_level_for_push: r.minimum_access_level_for_push.map(wit_level),
            minimum_access_level_for_delete: r.minimum_access_level_for_delete.map(wit_level),
        }),
        core::Rule::ContainerRepository(r) => wit::Rule::ContainerRepository(wit::ContainerRepositoryRule {
            id: r.id,
            project_id: r.project_id,
            repository_path_pattern: r.repository_path_pattern.clone(),
            minimum_access_level_for_push: r.minimum_access_level_for_push.map(wit_level),
            minimum_access_level_for_delete: r.minimum_access_level_for_delete.map(wit_level),
        }),
    }
}

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

pub fn wit_rules(rules: &[core::Rule]) -> Vec<wit::Rule> {
    rules.iter().map(wit_rule).collect()
}

pub fn wit_request(request: &core::DecisionRequest) -> wit::DecisionRequest {
    wit::DecisionRequest {
        target: match &request.target {
            core::Target::Package { name, package_type } => wit::Target::Package(wit::PackageTarget {
                name: name.clone(),
                package_type: wit_package_type(*package_type),
            }),
            core::Target::ContainerRepository { path } => wit::Target::ContainerRepository(path.clone()),
        },
        action: wit_action(request.action),
        actor: match request.actor {
            core::Actor::User { access_level } => wit::Actor::User(wit_level(access_level)),
            core::Actor::DeployToken => wit::Actor::DeployToken,
        },
    }
}

pub fn core_decision(decision: wit::Decision) -> core::Decision {
    core::Decision {
        allowed: decision.allowed,
        blocking_rule_ids: decision.blocking_rule_ids,
        reason: decision.reason.into(),
    }
}

pub fn wit_context(context: &core::ValidationContext<'_>) -> wit::ValidationContext {
    wit::ValidationContext {
        project_path: context.project_path.map(str::to_owned),
        existing_rules: wit_rules(context.existing_rules),
        previous: context.previous.map(wit_rule),
    }
}

/// The component's validation errors as the core's `Rejection` (one status per answer).
pub fn core_rejection(errors: Vec<wit::ValidationError>) -> core::Rejection {
    let status = match errors.iter().map(|e| e.http_status).max() {
        Some(400) => core::RejectionStatus::BadRequest,
        _ => core::RejectionStatus::UnprocessableEntity,
    };
    let errors = errors
        .into_iter()
        .map(|e| core::ValidationError {
            field: serde_json::from_value(serde_json::Value::String(e.field)).unwrap_or(core::Field::Base),
            message: e.message,
        })
        .collect();
    core::Rejection { status, errors }
}
