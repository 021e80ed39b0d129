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

pub fn context_rules(existing: Vec<wit::Rule>, previous: Option<wit::Rule>) -> (Vec<core::Rule>, Option<core::Rule>) {
    (existing.into_iter().map(core_rule).collect(), previous.map(core_rule))
}

pub fn core_actor(actor: wit::Actor) -> core::Actor {
    match actor {
        wit::Actor::User(level) => core::Actor::User { access_level: core_level(level) },
        wit::Actor::DeployToken => core::Actor::DeployToken,
    }
}

pub fn core_request(request: wit::DecisionRequest) -> core::DecisionRequest {
    core::DecisionRequest {
        target: core_target_kind(request.kind).target(request.name),
        action: core_action(request.action),
        actor: core_actor(request.actor),
    }
}

pub fn wit_decision(summary: core::Summary) -> wit::Decision {
    wit::Decision {
        allowed: summary.allowed,
        blocking_rules: summary.blocking_rules,
        first_blocking_rule: summary.first_blocking_rule,
    }
}

pub fn wit_explanation(decision: core::Decision) -> wit::Explanation {
    wit::Explanation {
        allowed: decision.allowed,
        blocking_rule_ids: decision.blocking_rule_ids,
        reason: String::from(&*decision.reason),
    }
}

pub fn wit_verdict(answer: &Result<core::Summary, core::DecideError>) -> wit::Verdict {
    match core::Verdict::of(answer) {
        core::Verdict::Allowed => wit::Verdict::Allowed,
        core::Verdict::Blocked => wit::Verdict::Blocked,
        core::Verdict::Undecidable => wit::Verdict::Undecidable,
    }
}

pub fn decide_error(error: core::DecideError) -> wit::DecideError {
    let message = error.to_string();
    let cause = match error {
        core::DecideError::Match { rule_id, source, .. } => {
            wit::DecideCause::Unevaluable(wit::UnevaluableRule { rule_id, pattern: source.pattern })
        }
        // `Internal`, and any cause a later core adds: the host refuses either way.
        _ => wit::DecideCause::Internal,
    };
    wit::DecideError { cause, message }
}

pub fn compile_error(error: core::RuleSetError) -> wit::CompileError {
    let message = error.to_string();
    let cause = match error {
        core::RuleSetError::MissingId { index } => wit::CompileCause::MissingId(count(index)),
        core::RuleSetError::DuplicateId { id } => wit::CompileCause::DuplicateId(id),
        core::RuleSetError::TooMany => wit::CompileCause::TooManyRules,
        core::RuleSetError::LevelNotAllowed { id, field, level, .. } => {
            wit::CompileCause::LevelNotAllowed(wit::LevelNotAllowed {
                rule_id: id,
                field: wit_field(field),
                level: wit_level(level),
            })
        }
        core::RuleSetError::BlankPattern { id, field } => {
            wit::CompileCause::BlankPattern(wit::RuleField { rule_id: id, field: wit_field(field) })
        }
        core::RuleSetError::PatternTooLong { id, field, chars } => {
            wit::CompileCause::PatternTooLong(wit::PatternTooLong {
                rule_id: id,
                field: wit_field(field),
                chars: count(chars),
            })
        }
        core::RuleSetError::InvalidJson { line, column, .. } => {
            wit::CompileCause::InvalidJson(wit::JsonPosition { line: count(line), column: count(column) })
        }
    };
    wit::CompileError { cause, message }
}

pub fn rejection(rejection: core::Rejection) -> wit::Rejection {
    wit::Rejection {
        http_status: rejection.http_status(),
        errors: rejection
            .errors
            .into_iter()
            .map(|e| wit::FieldError { field: wit_field(e.field), message: e.message })
            .collect(),
    }
}

pub fn wit_finding(finding: core::Finding) -> wit::Finding {
    wit::Finding { kind: wit_finding_kind(finding.kind), rule_ids: finding.rule_ids, message: finding.message }
}

pub fn wit_preview(preview: core::Preview) -> wit::PreviewResult {
    wit::PreviewResult {
        matched: preview.matched,
        spans: preview.spans,
        span_offsets: preview.span_offsets,
        undecidable: preview.undecidable,
    }
}

/// Counts and positions in a component's memory fit in u32 (at most 4 GiB).
pub fn count(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
