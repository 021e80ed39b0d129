//! Core types ⇄ the bindings' WIT types. Mechanical: no decision is made here.

use crate::bindings::exports::pkgprotect::policy::types as wit;
use crate::error::{CompileCause, CompileError, DecideCause, DecideError};
use pkgprotect as core;

include!("same_enums.rs");

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

pub fn wit_source(rules: crate::Rules<'_>) -> wit::RuleSource {
    match rules {
        crate::Rules::Typed(rules) => wit::RuleSource::Typed(wit_rules(rules)),
        crate::Rules::GitlabJson(json) => wit::RuleSource::GitlabJson(json.to_owned()),
    }
}

pub fn wit_actor(actor: core::Actor) -> wit::Actor {
    match actor {
        core::Actor::User { access_level } => wit::Actor::User(wit_level(access_level)),
        core::Actor::DeployToken => wit::Actor::DeployToken,
    }
}

pub fn wit_request(request: &core::DecisionRequest) -> wit::DecisionRequest {
    wit::DecisionRequest {
        kind: wit_target_kind(request.target.target_kind()),
        name: request.target.name().to_owned(),
        action: wit_action(request.action),
        actor: wit_actor(request.actor),
    }
}

pub fn core_summary(decision: wit::Decision) -> core::Summary {
    core::Summary {
        allowed: decision.allowed,
        blocking_rules: decision.blocking_rules,
        first_blocking_rule: decision.first_blocking_rule,
    }
}

pub fn core_decision(explanation: wit::Explanation) -> core::Decision {
    core::Decision {
        allowed: explanation.allowed,
        blocking_rule_ids: explanation.blocking_rule_ids,
        reason: explanation.reason.into(),
    }
}

pub fn core_verdict(verdict: wit::Verdict) -> core::Verdict {
    match verdict {
        wit::Verdict::Allowed => core::Verdict::Allowed,
        wit::Verdict::Blocked => core::Verdict::Blocked,
        wit::Verdict::Undecidable => core::Verdict::Undecidable,
    }
}

pub fn wit_context(context: &core::ValidationContext<'_>) -> wit::ValidationContext {
    wit::ValidationContext {
        project_path: context.project_path.map(str::to_owned),
        existing_rules: wit_rules(context.existing_rules),
        previous: context.previous.map(wit_rule),
    }
}

pub fn core_rejection(rejection: wit::Rejection) -> core::Rejection {
    let status = if rejection.http_status == 400 {
        core::RejectionStatus::BadRequest
    } else {
        core::RejectionStatus::UnprocessableEntity
    };
    let errors = rejection
        .errors
        .into_iter()
        .map(|e| core::ValidationError { field: core_field(e.field), message: e.message })
        .collect();
    core::Rejection { status, errors }
}

pub fn compile_error(error: wit::CompileError) -> CompileError {
    let cause = match error.cause {
        wit::CompileCause::MissingId(position) => CompileCause::MissingId { position },
        wit::CompileCause::DuplicateId(id) => CompileCause::DuplicateId { id },
        wit::CompileCause::TooManyRules => CompileCause::TooManyRules,
        wit::CompileCause::LevelNotAllowed(e) => {
            CompileCause::LevelNotAllowed { rule_id: e.rule_id, field: core_field(e.field), level: core_level(e.level) }
        }
        wit::CompileCause::BlankPattern(e) => {
            CompileCause::BlankPattern { rule_id: e.rule_id, field: core_field(e.field) }
        }
        wit::CompileCause::PatternTooLong(e) => {
            CompileCause::PatternTooLong { rule_id: e.rule_id, field: core_field(e.field), chars: e.chars }
        }
        wit::CompileCause::InvalidJson(at) => CompileCause::InvalidJson { line: at.line, column: at.column },
    };
    CompileError { cause, message: error.message }
}

pub fn decide_error(error: wit::DecideError) -> DecideError {
    let cause = match error.cause {
        wit::DecideCause::Unevaluable(rule) => {
            DecideCause::Unevaluable { rule_id: rule.rule_id, pattern: rule.pattern }
        }
        wit::DecideCause::Internal => DecideCause::Internal,
    };
    DecideError { cause, message: error.message }
}

pub fn core_finding(finding: wit::Finding) -> core::Finding {
    core::Finding { kind: core_finding_kind(finding.kind), rule_ids: finding.rule_ids, message: finding.message }
}

pub fn core_preview(preview: wit::PreviewResult) -> core::Preview {
    core::Preview {
        matched: preview.matched,
        spans: preview.spans,
        span_offsets: preview.span_offsets,
        undecidable: preview.undecidable,
    }
}
