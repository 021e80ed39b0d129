//! GitLab's rule validation: the REST parameter layer (HTTP 400) and the model layer (HTTP 422).

use crate::access::AccessLevel;
use crate::formats::{is_container_pattern, is_npm_pattern, is_pypi_pattern, is_terraform_pattern};
use crate::model::{PackageType, Rule, RuleKind};
use crate::text::is_blank;
use serde::{Deserialize, Serialize};
use std::fmt;

/// GitLab's limit on pattern length, in characters.
pub const MAX_PATTERN_CHARS: usize = 255;

/// The rule field an error is about, named as in GitLab's REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    PackageNamePattern,
    PackageType,
    RepositoryPathPattern,
    MinimumAccessLevelForPush,
    MinimumAccessLevelForDelete,
    /// Both minimums at once: Grape's `at_least_one_of` (HTTP 400).
    #[serde(rename = "minimum_access_level_for_push,minimum_access_level_for_delete")]
    MinimumAccessLevels,
    /// The whole rule: the model's at-least-one-minimum check (HTTP 422).
    Base,
}

impl Field {
    /// The REST parameter name (`base` for rule-wide errors).
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::PackageNamePattern => "package_name_pattern",
            Field::PackageType => "package_type",
            Field::RepositoryPathPattern => "repository_path_pattern",
            Field::MinimumAccessLevelForPush => "minimum_access_level_for_push",
            Field::MinimumAccessLevelForDelete => "minimum_access_level_for_delete",
            Field::MinimumAccessLevels => "minimum_access_level_for_push,minimum_access_level_for_delete",
            Field::Base => "base",
        }
    }

    /// Rails' humanized attribute name, which starts the model's full messages.
    const fn human(self) -> &'static str {
        match self {
            Field::PackageNamePattern => "Package name pattern",
            Field::PackageType => "Package type",
            Field::RepositoryPathPattern => "Repository path pattern",
            Field::MinimumAccessLevelForPush => "Minimum access level for push",
            Field::MinimumAccessLevelForDelete => "Minimum access level for delete",
            Field::MinimumAccessLevels | Field::Base => "",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a rule is refused, with GitLab's message text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    pub field: Field,
    /// GitLab's message: Grape's (`package_type does not have a valid value`) for the
    /// parameter layer, Rails' full message (`Package name pattern can't be blank`) for the model.
    pub message: String,
}

impl ValidationError {
    pub(crate) fn param(field: Field, problem: &str) -> Self {
        ValidationError { field, message: format!("{} {problem}", field.as_str()) }
    }

    pub(crate) fn model(field: Field, problem: &str) -> Self {
        let message = match field.human() {
            "" => problem.to_owned(),
            human => format!("{human} {problem}"),
        };
        ValidationError { field, message }
    }
}

/// Where GitLab refuses a rule, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionStatus {
    /// Grape's parameter validation: HTTP 400, body `{"error": "<messages joined by , >"}`.
    BadRequest,
    /// The model's validation: HTTP 422, body `{"message": {"error": [<messages>]}}`.
    UnprocessableEntity,
}

impl RejectionStatus {
    pub const fn http_status(self) -> u16 {
        match self {
            RejectionStatus::BadRequest => 400,
            RejectionStatus::UnprocessableEntity => 422,
        }
    }
}

/// GitLab refuses the rule; `errors` is never empty and lists every failing check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.joined_messages())]
pub struct Rejection {
    pub status: RejectionStatus,
    pub errors: Vec<ValidationError>,
}

impl Rejection {
    pub(crate) fn bad_request(errors: Vec<ValidationError>) -> Self {
        Rejection { status: RejectionStatus::BadRequest, errors }
    }

    pub const fn http_status(&self) -> u16 {
        self.status.http_status()
    }

    /// Messages joined by `, `, as Grape joins them in a 400's `error` string.
    pub fn joined_messages(&self) -> String {
        let messages: Vec<&str> = self.errors.iter().map(|e| e.message.as_str()).collect();
        messages.join(", ")
    }

    /// Every failing field, first failure first, without repeats.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields: Vec<Field> = Vec::with_capacity(self.errors.len());
        for error in &self.errors {
            if !fields.contains(&error.field) {
                fields.push(error.field);
            }
        }
        fields
    }
}

/// What validation needs to know besides the rule itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidationContext<'a> {
    /// The project's full path (`my-group/my-project`), for the container path-prefix check.
    /// `None` skips that check.
    pub project_path: Option<&'a str>,
    /// The project's rules already stored, for uniqueness. A stored rule with the same `id` as
    /// the rule being validated is the rule itself (an update) and is skipped.
    pub existing_rules: &'a [Rule],
    /// On update: the rule as stored before the change. GitLab re-checks the container
    /// path prefix only when the pattern changed.
    pub previous: Option<&'a Rule>,
}

/// The level values GitLab's REST API accepts for a minimum, per kind and action.
pub fn allowed_levels(kind: RuleKind, field: Field) -> &'static [AccessLevel] {
    use AccessLevel::{Admin, Maintainer, Owner};
    match (kind, field) {
        (RuleKind::Package, Field::MinimumAccessLevelForDelete) => &[Owner, Admin],
        (_, Field::MinimumAccessLevelForPush | Field::MinimumAccessLevelForDelete) => &[Maintainer, Owner, Admin],
        _ => &[],
    }
}

/// Validate a rule exactly as GitLab does when it is created or updated.
///
/// Levels outside the values GitLab's API accepts are a parameter error (400); everything
/// else GitLab checks in the model (422), all failures reported at once.
pub fn validate_rule(rule: &Rule, context: &ValidationContext<'_>) -> Result<(), Rejection> {
    let kind = rule.kind();
    let mut param_errors = Vec::new();
    for (field, level) in [
        (Field::MinimumAccessLevelForPush, rule.minimum_access_level_for_push()),
        (Field::MinimumAccessLevelForDelete, rule.minimum_access_level_for_delete()),
    ] {
        if let Some(level) = level
            && !allowed_levels(kind, field).contains(&level)
        {
            param_errors.push(ValidationError::param(field, "does not have a valid value"));
        }
    }
    if !param_errors.is_empty() {
        return Err(Rejection::bad_request(param_errors));
    }

    let mut errors = Vec::new();
    let field = rule.pattern_field();
    let pattern = rule.pattern();
    check_pattern_common(field, pattern, &mut errors);
    match rule {
        Rule::Package(r) => {
            if let Some(message) = package_format_error(r.package_type, pattern) {
                errors.push(ValidationError::model(field, message));
            }
        }
        Rule::ContainerRepository(_) => {
            if !is_container_pattern(pattern) {
                errors.push(ValidationError::model(
                    field,
                    "should be a valid container repository path with optional wildcard characters.",
                ));
            }
            let pattern_changed = context.previous.is_none_or(|previous| previous.pattern() != pattern);
            if let Some(project_path) = context.project_path
                && pattern_changed
                && !ruby_downcase(pattern).starts_with(&ruby_downcase(project_path))
            {
                errors.push(ValidationError::model(field, "should start with the project's full path"));
            }
        }
    }
    if rule.minimum_access_level_for_push().is_none() && rule.minimum_access_level_for_delete().is_none() {
        errors.push(ValidationError::model(
            Field::Base,
            "A rule must have at least a minimum access role for push or delete.",
        ));
    }
    if is_taken(rule, context) {
        errors.push(ValidationError::model(field, "has already been taken"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Rejection { status: RejectionStatus::UnprocessableEntity, errors }) }
}

/// Ruby's `String#downcase`: full Unicode lowercase mapping per character, without the
/// context-dependent final-sigma rule (Ruby does not apply it; Rust's `str::to_lowercase` does).
fn ruby_downcase(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn check_pattern_common(field: Field, pattern: &str, errors: &mut Vec<ValidationError>) {
    if is_blank(pattern) {
        errors.push(ValidationError::model(field, "can't be blank"));
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        errors.push(ValidationError::model(field, "is too long (maximum is 255 characters)"));
    }
}

/// GitLab's uniqueness: same project, same kind (and package type), same pattern,
/// compared case-sensitively; the rule being updated does not collide with itself.
fn is_taken(rule: &Rule, context: &ValidationContext<'_>) -> bool {
    let own_id = rule.id().or_else(|| context.previous.and_then(Rule::id));
    context.existing_rules.iter().any(|existing| {
        let is_self = own_id.is_some() && existing.id() == own_id;
        !is_self
            && existing.kind() == rule.kind()
            && existing.package_type() == rule.package_type()
            && existing.pattern() == rule.pattern()
    })
}

/// The format message for `pattern` under `package_type`, if it breaks GitLab's format.
fn package_format_error(package_type: PackageType, pattern: &str) -> Option<&'static str> {
    match package_type {
        PackageType::Npm => (!is_npm_pattern(pattern))
            .then_some("should be a valid NPM package name with optional wildcard characters."),
        PackageType::Pypi => (!is_pypi_pattern(pattern))
            .then_some("should be a valid PyPI package name with optional wildcard characters."),
        PackageType::TerraformModule => (!is_terraform_pattern(pattern))
            .then_some("should be a valid Terraform module package name with optional wildcard characters."),
        PackageType::Cargo
        | PackageType::Conan
        | PackageType::Generic
        | PackageType::Helm
        | PackageType::Maven
        | PackageType::Nuget => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContainerRepositoryRule, PackageRule};

    fn npm(pattern: &str) -> Rule {
        Rule::Package(PackageRule {
            id: None,
            project_id: None,
            package_name_pattern: pattern.into(),
            package_type: PackageType::Npm,
            minimum_access_level_for_push: Some(AccessLevel::Maintainer),
            minimum_access_level_for_delete: None,
        })
    }

    #[test]
    fn npm_scope_may_not_end_in_git() {
        assert!(validate_rule(&npm("@x.git/p"), &ValidationContext::default()).is_err());
        assert!(validate_rule(&npm("@x.GIT/p"), &ValidationContext::default()).is_ok());
    }

    #[test]
    fn blank_and_long_patterns_are_422_on_the_pattern() {
        let err = validate_rule(&npm(" "), &ValidationContext::default()).unwrap_err();
        assert_eq!(err.http_status(), 422);
        assert_eq!(err.errors[0].message, "Package name pattern can't be blank");
        let err = validate_rule(&npm(&"a".repeat(256)), &ValidationContext::default()).unwrap_err();
        assert_eq!(err.errors[0].message, "Package name pattern is too long (maximum is 255 characters)");
    }

    #[test]
    fn disallowed_level_is_400() {
        let mut rule = npm("a");
        if let Rule::Package(r) = &mut rule {
            r.minimum_access_level_for_delete = Some(AccessLevel::Maintainer);
        }
        let err = validate_rule(&rule, &ValidationContext::default()).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert_eq!(err.joined_messages(), "minimum_access_level_for_delete does not have a valid value");
    }

    #[test]
    fn container_prefix_is_checked_only_when_the_pattern_changes() {
        let rule = Rule::ContainerRepository(ContainerRepositoryRule {
            id: Some(1),
            project_id: None,
            repository_path_pattern: "old-group/app/*".into(),
            minimum_access_level_for_push: Some(AccessLevel::Maintainer),
            minimum_access_level_for_delete: None,
        });
        let context = ValidationContext { project_path: Some("new-group/app"), ..Default::default() };
        assert!(validate_rule(&rule, &context).is_err());
        let unchanged = ValidationContext { previous: Some(&rule), ..context };
        assert!(validate_rule(&rule, &unchanged).is_ok());
    }
}
