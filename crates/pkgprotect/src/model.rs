//! The data model, with GitLab's REST field names and values.

use crate::access::AccessLevel;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Every package type GitLab accepts in a package protection rule (newest source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageType {
    Cargo,
    Conan,
    Generic,
    Helm,
    Maven,
    Npm,
    Nuget,
    Pypi,
    TerraformModule,
}

impl PackageType {
    /// Every package type, in GitLab's enum order.
    pub const ALL: [PackageType; 9] = [
        PackageType::Cargo,
        PackageType::Conan,
        PackageType::Generic,
        PackageType::Helm,
        PackageType::Maven,
        PackageType::Npm,
        PackageType::Nuget,
        PackageType::Pypi,
        PackageType::TerraformModule,
    ];

    /// The REST name (`"terraform_module"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            PackageType::Cargo => "cargo",
            PackageType::Conan => "conan",
            PackageType::Generic => "generic",
            PackageType::Helm => "helm",
            PackageType::Maven => "maven",
            PackageType::Npm => "npm",
            PackageType::Nuget => "nuget",
            PackageType::Pypi => "pypi",
            PackageType::TerraformModule => "terraform_module",
        }
    }

    /// Position in [`PackageType::ALL`], used to index per-type tables.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not one of GitLab's package type names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown package type `{0}` (expected one of: cargo, conan, generic, helm, maven, npm, nuget, pypi, terraform_module)"
)]
pub struct UnknownPackageType(pub String);

impl FromStr for PackageType {
    type Err = UnknownPackageType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownPackageType(s.to_owned()))
    }
}

/// Which of GitLab's two rule families a rule or request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Package protection rules (`packages_protection_rules`).
    Package,
    /// Container repository protection rules (`container_registry_protection_rules`).
    ContainerRepository,
}

impl RuleKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleKind::Package => "package",
            RuleKind::ContainerRepository => "container_repository",
        }
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind is not `package` or `container_repository`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule kind `{0}` (expected `package` or `container_repository`)")]
pub struct UnknownRuleKind(pub String);

impl FromStr for RuleKind {
    type Err = UnknownRuleKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "package" => Ok(RuleKind::Package),
            "container_repository" | "container" => Ok(RuleKind::ContainerRepository),
            other => Err(UnknownRuleKind(other.to_owned())),
        }
    }
}

/// A package protection rule, as GitLab's REST API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    pub package_name_pattern: String,
    pub package_type: PackageType,
    #[serde(default)]
    pub minimum_access_level_for_push: Option<AccessLevel>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<AccessLevel>,
}

/// A container repository protection rule, as GitLab's REST API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerRepositoryRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
    pub repository_path_pattern: String,
    #[serde(default)]
    pub minimum_access_level_for_push: Option<AccessLevel>,
    #[serde(default)]
    pub minimum_access_level_for_delete: Option<AccessLevel>,
}

/// A rule of either kind. In JSON the pattern field tells them apart
/// (`package_name_pattern` or `repository_path_pattern`), exactly as GitLab's entities do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[serde(try_from = "RawRule")]
pub enum Rule {
    Package(PackageRule),
    ContainerRepository(ContainerRepositoryRule),
}

/// Every field either kind may carry; unknown fields are refused so that a typo such as
/// `minimum_acess_level_for_push` cannot silently weaken a rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    project_id: Option<i64>,
    #[serde(default)]
    package_name_pattern: Option<String>,
    #[serde(default)]
    package_type: Option<PackageType>,
    #[serde(default)]
    repository_path_pattern: Option<String>,
    #[serde(default)]
    minimum_access_level_for_push: Option<AccessLevel>,
    #[serde(default)]
    minimum_access_level_for_delete: Option<AccessLevel>,
}

impl TryFrom<RawRule> for Rule {
    type Error = String;

    fn try_from(raw: RawRule) -> Result<Self, Self::Error> {
        match (raw.package_name_pattern, raw.repository_path_pattern) {
            (Some(_), Some(_)) => Err("a rule has either `package_name_pattern` or `repository_path_pattern`, not both".into()),
            (Some(package_name_pattern), None) => {
                let package_type = raw
                    .package_type
                    .ok_or("package rule is missing field `package_type`")?;
                Ok(Rule::Package(PackageRule {
                    id: raw.id,
                    project_id: raw.project_id,
                    package_name_pattern,
                    package_type,
                    minimum_access_level_for_push: raw.minimum_access_level_for_push,
                    minimum_access_level_for_delete: raw.minimum_access_level_for_delete,
                }))
            }
            (None, Some(repository_path_pattern)) => {
                if raw.package_type.is_some() {
                    return Err("container repository rule cannot have field `package_type`".into());
                }
                Ok(Rule::ContainerRepository(ContainerRepositoryRule {
                    id: raw.id,
                    project_id: raw.project_id,
                    repository_path_pattern,
                    minimum_access_level_for_push: raw.minimum_access_level_for_push,
                    minimum_access_level_for_delete: raw.minimum_access_level_for_delete,
                }))
            }
            (None, None) => Err("a rule needs `package_name_pattern` (package rule) or `repository_path_pattern` (container repository rule)".into()),
        }
    }
}

impl Rule {
    pub fn id(&self) -> Option<i64> {
        match self {
            Rule::Package(r) => r.id,
            Rule::ContainerRepository(r) => r.id,
        }
    }

    pub fn kind(&self) -> RuleKind {
        match self {
            Rule::Package(_) => RuleKind::Package,
            Rule::ContainerRepository(_) => RuleKind::ContainerRepository,
        }
    }

    /// The wildcard pattern as the user wrote it.
    pub fn pattern(&self) -> &str {
        match self {
            Rule::Package(r) => &r.package_name_pattern,
            Rule::ContainerRepository(r) => &r.repository_path_pattern,
        }
    }

    /// The package type, for package rules.
    pub fn package_type(&self) -> Option<PackageType> {
        match self {
            Rule::Package(r) => Some(r.package_type),
            Rule::ContainerRepository(_) => None,
        }
    }

    pub fn minimum_access_level_for_push(&self) -> Option<AccessLevel> {
        match self {
            Rule::Package(r) => r.minimum_access_level_for_push,
            Rule::ContainerRepository(r) => r.minimum_access_level_for_push,
        }
    }

    pub fn minimum_access_level_for_delete(&self) -> Option<AccessLevel> {
        match self {
            Rule::Package(r) => r.minimum_access_level_for_delete,
            Rule::ContainerRepository(r) => r.minimum_access_level_for_delete,
        }
    }

    /// The rule's minimum for `action` (`None` = the rule does not restrict users for it).
    pub fn minimum_for(&self, action: Action) -> Option<AccessLevel> {
        match action {
            Action::Push => self.minimum_access_level_for_push(),
            Action::Delete => self.minimum_access_level_for_delete(),
        }
    }

    /// The name of the pattern field for this kind, for messages.
    pub fn pattern_field(&self) -> crate::Field {
        match self {
            Rule::Package(_) => crate::Field::PackageNamePattern,
            Rule::ContainerRepository(_) => crate::Field::RepositoryPathPattern,
        }
    }
}

impl From<PackageRule> for Rule {
    fn from(rule: PackageRule) -> Self {
        Rule::Package(rule)
    }
}

impl From<ContainerRepositoryRule> for Rule {
    fn from(rule: ContainerRepositoryRule) -> Self {
        Rule::ContainerRepository(rule)
    }
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Push,
    Delete,
}

impl Action {
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The action is not `push` or `delete`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action `{0}` (expected `push` or `delete`)")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "push" => Ok(Action::Push),
            "delete" => Ok(Action::Delete),
            other => Err(UnknownAction(other.to_owned())),
        }
    }
}

/// Who asks. JSON: `{"type":"user","access_level":"developer"}` or `{"type":"deploy_token"}`;
/// any other key is refused, for a deploy token too (serde's internally tagged unit variants
/// would ignore it, so `{"type":"deploy_token","access_level":"owner"}` is read through
/// [`RawActor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "RawActor")]
pub enum Actor {
    /// A user with their maximum access level in the project (`admin` = instance administrator
    /// in admin mode, who is never blocked).
    User { access_level: AccessLevel },
    /// A deploy token: any matching rule blocks it, whatever the rule's minimums.
    DeployToken,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ActorType {
    User,
    DeployToken,
}

/// Every key an actor may carry, so that unknown ones are refused for either type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    #[serde(rename = "type")]
    actor_type: ActorType,
    #[serde(default)]
    access_level: Option<AccessLevel>,
}

impl TryFrom<RawActor> for Actor {
    type Error = &'static str;

    fn try_from(raw: RawActor) -> Result<Self, Self::Error> {
        match (raw.actor_type, raw.access_level) {
            (ActorType::User, Some(access_level)) => Ok(Actor::User { access_level }),
            (ActorType::User, None) => Err("a user actor is missing field `access_level`"),
            (ActorType::DeployToken, None) => Ok(Actor::DeployToken),
            (ActorType::DeployToken, Some(_)) => Err("a deploy token actor cannot have field `access_level`"),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User { access_level } => write!(f, "user with access level {access_level}"),
            Actor::DeployToken => f.write_str("deploy token"),
        }
    }
}

/// What a request is about, without its name: a package of one type, or a container
/// repository. Batches of names for one kind ([`crate::NameList`], `decide-names` in the
/// component) carry it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    Package(PackageType),
    ContainerRepository,
}

impl TargetKind {
    /// The target of this kind named `name`.
    pub fn target(self, name: String) -> Target {
        match self {
            TargetKind::Package(package_type) => Target::Package { name, package_type },
            TargetKind::ContainerRepository => Target::ContainerRepository { path: name },
        }
    }

    /// The package type of a package target; `None` for container repositories.
    pub const fn package_type(self) -> Option<PackageType> {
        match self {
            TargetKind::Package(package_type) => Some(package_type),
            TargetKind::ContainerRepository => None,
        }
    }
}

/// What is being pushed or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Package { name: String, package_type: PackageType },
    ContainerRepository { path: String },
}

impl Target {
    /// Its kind: package type or container repository.
    pub fn target_kind(&self) -> TargetKind {
        match self {
            Target::Package { package_type, .. } => TargetKind::Package(*package_type),
            Target::ContainerRepository { .. } => TargetKind::ContainerRepository,
        }
    }

    pub fn kind(&self) -> RuleKind {
        match self {
            Target::Package { .. } => RuleKind::Package,
            Target::ContainerRepository { .. } => RuleKind::ContainerRepository,
        }
    }

    /// The package name or repository path.
    pub fn name(&self) -> &str {
        match self {
            Target::Package { name, .. } => name,
            Target::ContainerRepository { path } => path,
        }
    }
}

/// A question: may `actor` do `action` to `target`?
///
/// JSON (flat, as the conformance vectors and the decision API use it):
/// `{"package_name":"@s/p","package_type":"npm","action":"push","actor":{…}}` or
/// `{"repository_path":"g/p/img","action":"delete","actor":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawRequest", into = "RawRequest")]
pub struct DecisionRequest {
    pub target: Target,
    pub action: Action,
    pub actor: Actor,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    package_type: Option<PackageType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repository_path: Option<String>,
    action: Action,
    actor: Actor,
}

impl TryFrom<RawRequest> for DecisionRequest {
    type Error = String;

    fn try_from(raw: RawRequest) -> Result<Self, Self::Error> {
        let target = match (raw.package_name, raw.repository_path) {
            (Some(_), Some(_)) => {
                return Err("a request has either `package_name` or `repository_path`, not both".into());
            }
            (Some(name), None) => Target::Package {
                name,
                package_type: raw.package_type.ok_or("package request is missing field `package_type`")?,
            },
            (None, Some(path)) => {
                if raw.package_type.is_some() {
                    return Err("container repository request cannot have field `package_type`".into());
                }
                Target::ContainerRepository { path }
            }
            (None, None) => {
                return Err("a request needs `package_name` (with `package_type`) or `repository_path`".into());
            }
        };
        Ok(DecisionRequest { target, action: raw.action, actor: raw.actor })
    }
}

impl From<DecisionRequest> for RawRequest {
    fn from(request: DecisionRequest) -> Self {
        let (package_name, package_type, repository_path) = match request.target {
            Target::Package { name, package_type } => (Some(name), Some(package_type), None),
            Target::ContainerRepository { path } => (None, None, Some(path)),
        };
        RawRequest { package_name, package_type, repository_path, action: request.action, actor: request.actor }
    }
}

/// The answer to a [`DecisionRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    /// Every rule that blocks the request, in the order the rules were given.
    pub blocking_rule_ids: Vec<i64>,
    /// One sentence for humans: why the request is allowed or blocked.
    pub reason: Arc<str>,
}

/// A [`Decision`] without its explanation: what a hot path needs, with no heap data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Summary {
    pub allowed: bool,
    /// How many rules block the request.
    pub blocking_rules: u32,
    /// The first blocking rule, in the order the rules were given.
    pub first_blocking_rule: Option<i64>,
}

impl Summary {
    /// The summary of a full decision.
    pub fn of(decision: &Decision) -> Self {
        Summary {
            allowed: decision.allowed,
            blocking_rules: u32::try_from(decision.blocking_rule_ids.len()).unwrap_or(u32::MAX),
            first_blocking_rule: decision.blocking_rule_ids.first().copied(),
        }
    }
}

/// One request's answer in a batch, in one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    Blocked,
    /// The decision could not be made (GitLab's query fails, or the engine found itself
    /// inconsistent): refuse the request.
    Undecidable,
}

impl Verdict {
    /// The verdict of one decision's outcome.
    pub fn of<E>(answer: &Result<Summary, E>) -> Self {
        match answer {
            Ok(summary) if summary.allowed => Verdict::Allowed,
            Ok(_) => Verdict::Blocked,
            Err(_) => Verdict::Undecidable,
        }
    }

    /// Whether the request may go ahead: only an explicit allow does.
    pub fn allowed(self) -> bool {
        self == Verdict::Allowed
    }
}
