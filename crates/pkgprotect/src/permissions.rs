//! GitLab's base permissions (spec §5.1): whether an actor may push or delete a package or a
//! container image at all, checked before any protection rule is read; and the end-to-end
//! answer that combines them with a protection [`Decision`].
//!
//! ```
//! use pkgprotect::permissions::{base_permission, Ability, DeployTokenScopes};
//! use pkgprotect::{AccessLevel, Action, Actor, RuleKind};
//!
//! let developer = Actor::User { access_level: AccessLevel::Developer };
//! let scopes = DeployTokenScopes::default();
//! assert_eq!(base_permission(RuleKind::Package, Action::Push, developer, scopes), Ok(Ability::CreatePackage));
//! // GitLab's project policy gives `destroy_package` to maintainers and above.
//! let refusal = base_permission(RuleKind::Package, Action::Delete, developer, scopes).unwrap_err();
//! assert_eq!(refusal.ability, Ability::DestroyPackage);
//! ```
//!
//! The conformance vectors exercise protection only (GitLab's rule services); these checks
//! are GitLab's policies (`ProjectPolicy`, `DeployTokenPolicy`) as the spec records them.

use crate::{AccessLevel, Action, Actor, Decision, RuleKind};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// The project ability GitLab checks before protection rules (`can?(actor, ability, project)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ability {
    /// Package push: developer and above, or a deploy token with `write_package_registry`.
    CreatePackage,
    /// Package delete: maintainer and above, or a deploy token with `write_package_registry`.
    DestroyPackage,
    /// Container image push: developer and above, or a deploy token with `write_registry`.
    CreateContainerImage,
    /// Container image delete: developer and above; never a deploy token.
    DestroyContainerImage,
}

impl Ability {
    /// The ability a request for `action` on a target of `kind` needs.
    pub const fn needed_for(kind: RuleKind, action: Action) -> Ability {
        match (kind, action) {
            (RuleKind::Package, Action::Push) => Ability::CreatePackage,
            (RuleKind::Package, Action::Delete) => Ability::DestroyPackage,
            (RuleKind::ContainerRepository, Action::Push) => Ability::CreateContainerImage,
            (RuleKind::ContainerRepository, Action::Delete) => Ability::DestroyContainerImage,
        }
    }

    /// GitLab's name for it (`destroy_package`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Ability::CreatePackage => "create_package",
            Ability::DestroyPackage => "destroy_package",
            Ability::CreateContainerImage => "create_container_image",
            Ability::DestroyContainerImage => "destroy_container_image",
        }
    }

    /// The lowest membership level that holds this ability.
    pub const fn minimum_member_level(self) -> AccessLevel {
        match self {
            Ability::DestroyPackage => AccessLevel::Maintainer,
            Ability::CreatePackage | Ability::CreateContainerImage | Ability::DestroyContainerImage => {
                AccessLevel::Developer
            }
        }
    }

    /// The deploy-token scope that holds this ability, if any scope does.
    pub const fn deploy_token_scope(self) -> Option<DeployTokenScope> {
        match self {
            Ability::CreatePackage | Ability::DestroyPackage => Some(DeployTokenScope::WritePackageRegistry),
            Ability::CreateContainerImage => Some(DeployTokenScope::WriteRegistry),
            Ability::DestroyContainerImage => None,
        }
    }
}

impl fmt::Display for Ability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of GitLab's deploy-token scopes that registries read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeployTokenScope {
    ReadRegistry,
    WriteRegistry,
    ReadPackageRegistry,
    WritePackageRegistry,
}

impl DeployTokenScope {
    /// Every registry scope, in GitLab's order.
    pub const ALL: [DeployTokenScope; 4] = [
        DeployTokenScope::ReadRegistry,
        DeployTokenScope::WriteRegistry,
        DeployTokenScope::ReadPackageRegistry,
        DeployTokenScope::WritePackageRegistry,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeployTokenScope::ReadRegistry => "read_registry",
            DeployTokenScope::WriteRegistry => "write_registry",
            DeployTokenScope::ReadPackageRegistry => "read_package_registry",
            DeployTokenScope::WritePackageRegistry => "write_package_registry",
        }
    }
}

impl fmt::Display for DeployTokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of GitLab's registry scopes for deploy tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a deploy token scope: expected read_registry, write_registry, read_package_registry or write_package_registry"
)]
pub struct UnknownDeployTokenScope(pub String);

impl std::str::FromStr for DeployTokenScope {
    type Err = UnknownDeployTokenScope;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DeployTokenScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == name)
            .ok_or_else(|| UnknownDeployTokenScope(name.to_owned()))
    }
}

/// The registry scopes a deploy token was created with. Users ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DeployTokenScopes {
    pub read_registry: bool,
    pub write_registry: bool,
    pub read_package_registry: bool,
    pub write_package_registry: bool,
}

impl DeployTokenScopes {
    /// Every registry scope.
    pub const ALL: DeployTokenScopes = DeployTokenScopes {
        read_registry: true,
        write_registry: true,
        read_package_registry: true,
        write_package_registry: true,
    };

    /// The scopes named in `names` (GitLab's scope names; repeats are harmless).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownDeployTokenScope> {
        names
            .into_iter()
            .try_fold(DeployTokenScopes::default(), |scopes, name| Ok(scopes.with(name.parse::<DeployTokenScope>()?)))
    }

    /// These scopes and `scope`.
    pub const fn with(mut self, scope: DeployTokenScope) -> Self {
        match scope {
            DeployTokenScope::ReadRegistry => self.read_registry = true,
            DeployTokenScope::WriteRegistry => self.write_registry = true,
            DeployTokenScope::ReadPackageRegistry => self.read_package_registry = true,
            DeployTokenScope::WritePackageRegistry => self.write_package_registry = true,
        }
        self
    }

    /// The scopes held, in GitLab's order.
    pub fn iter(self) -> impl Iterator<Item = DeployTokenScope> {
        DeployTokenScope::ALL.into_iter().filter(move |&scope| self.has(scope))
    }

    pub const fn has(self, scope: DeployTokenScope) -> bool {
        match scope {
            DeployTokenScope::ReadRegistry => self.read_registry,
            DeployTokenScope::WriteRegistry => self.write_registry,
            DeployTokenScope::ReadPackageRegistry => self.read_package_registry,
            DeployTokenScope::WritePackageRegistry => self.write_package_registry,
        }
    }
}

/// An actor refused by a base permission: GitLab answers `Unauthorized` before any rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct BaseRefusal {
    /// The ability the actor lacks.
    pub ability: Ability,
    /// One lowercase sentence naming the ability and who holds it.
    pub reason: String,
}

/// Whether `actor` holds the ability an `action` on a target of `kind` needs (spec §5.1).
/// An instance administrator (`AccessLevel::Admin`) holds every ability; `scopes` is read
/// only for a deploy token.
pub fn base_permission(
    kind: RuleKind,
    action: Action,
    actor: Actor,
    scopes: DeployTokenScopes,
) -> Result<Ability, BaseRefusal> {
    let ability = Ability::needed_for(kind, action);
    let target = match kind {
        RuleKind::Package => "packages",
        RuleKind::ContainerRepository => "container images",
    };
    match actor {
        Actor::User { access_level: AccessLevel::Admin } => Ok(ability),
        Actor::User { access_level } if access_level >= ability.minimum_member_level() => Ok(ability),
        Actor::User { access_level } => Err(BaseRefusal {
            ability,
            reason: format!(
                "`{access_level}` access may not {action} {target}: `{ability}` needs {} or above",
                ability.minimum_member_level()
            ),
        }),
        Actor::DeployToken => match ability.deploy_token_scope() {
            Some(scope) if scopes.has(scope) => Ok(ability),
            Some(scope) => Err(BaseRefusal {
                ability,
                reason: format!("a deploy token may not {action} {target} without the `{}` scope", scope.as_str()),
            }),
            None => Err(BaseRefusal { ability, reason: format!("a deploy token may never {action} {target}") }),
        },
    }
}

/// Which check refused a request end to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// The actor lacks the ability ([`base_permission`]); no rule was read.
    BasePermission,
    /// Protection rules block the request.
    ProtectionRules,
}

/// GitLab's whole answer: the base permission, then protection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitlabDecision {
    pub allowed: bool,
    /// The check that refused, when one did.
    pub refused_by: Option<Check>,
    /// The ability the request needs.
    pub ability: Ability,
    /// Every rule that blocks the request (empty when the base permission refused).
    pub blocking_rule_ids: Vec<i64>,
    pub reason: Arc<str>,
}

impl GitlabDecision {
    /// The answer for a request whose base permission is `base` and, when it holds, whose
    /// protection decision is `protection()` (not evaluated when the base permission
    /// refuses, as GitLab reads no rule then).
    pub fn combine<E>(
        base: Result<Ability, BaseRefusal>,
        protection: impl FnOnce() -> Result<Decision, E>,
    ) -> Result<GitlabDecision, E> {
        match base {
            Err(refusal) => Ok(GitlabDecision {
                allowed: false,
                refused_by: Some(Check::BasePermission),
                ability: refusal.ability,
                blocking_rule_ids: Vec::new(),
                reason: Arc::from(refusal.reason),
            }),
            Ok(ability) => {
                let decision = protection()?;
                Ok(GitlabDecision {
                    allowed: decision.allowed,
                    refused_by: (!decision.allowed).then_some(Check::ProtectionRules),
                    ability,
                    blocking_rule_ids: decision.blocking_rule_ids,
                    reason: decision.reason,
                })
            }
        }
    }

    /// This answer for a caller who may not read the rules (below maintainer): a refusal by
    /// protection says how many rules block, not their patterns.
    pub fn without_patterns(mut self, kind: RuleKind, action: Action) -> GitlabDecision {
        if self.refused_by == Some(Check::ProtectionRules) {
            self.reason = Arc::from(reason_without_patterns(kind, action, self.blocking_rule_ids.len()));
        }
        self
    }
}

/// A protection refusal's reason with no pattern in it, for callers who may not list rules.
pub fn reason_without_patterns(kind: RuleKind, action: Action, blocking_rules: usize) -> String {
    let family = match kind {
        RuleKind::Package => "package protection",
        RuleKind::ContainerRepository => "container repository protection",
    };
    match blocking_rules {
        1 => format!("{action} is blocked by a {family} rule"),
        n => format!("{action} is blocked by {n} {family} rules"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [RuleKind; 2] = [RuleKind::Package, RuleKind::ContainerRepository];
    const ACTIONS: [Action; 2] = [Action::Push, Action::Delete];

    fn user(access_level: AccessLevel) -> Actor {
        Actor::User { access_level }
    }

    #[test]
    fn members_need_the_spec_levels() {
        // (kind, action, lowest level allowed): spec §5.1.
        let table = [
            (RuleKind::Package, Action::Push, AccessLevel::Developer),
            (RuleKind::Package, Action::Delete, AccessLevel::Maintainer),
            (RuleKind::ContainerRepository, Action::Push, AccessLevel::Developer),
            (RuleKind::ContainerRepository, Action::Delete, AccessLevel::Developer),
        ];
        for (kind, action, lowest) in table {
            for level in AccessLevel::ALL {
                let answer = base_permission(kind, action, user(level), DeployTokenScopes::default());
                assert_eq!(answer.is_ok(), level >= lowest, "{kind:?} {action:?} {level:?}: {answer:?}");
                if let Err(refusal) = answer {
                    assert_eq!(refusal.ability, Ability::needed_for(kind, action));
                    assert!(refusal.reason.contains(Ability::needed_for(kind, action).as_str()), "{}", refusal.reason);
                }
            }
        }
    }

    #[test]
    fn instance_admins_hold_every_ability() {
        for kind in KINDS {
            for action in ACTIONS {
                assert!(base_permission(kind, action, user(AccessLevel::Admin), DeployTokenScopes::default()).is_ok());
            }
        }
    }

    #[test]
    fn deploy_tokens_need_their_scope_and_never_delete_images() {
        let only = |scope: DeployTokenScope| DeployTokenScopes {
            read_registry: scope == DeployTokenScope::ReadRegistry,
            write_registry: scope == DeployTokenScope::WriteRegistry,
            read_package_registry: scope == DeployTokenScope::ReadPackageRegistry,
            write_package_registry: scope == DeployTokenScope::WritePackageRegistry,
        };
        let token = Actor::DeployToken;
        let package_writer = only(DeployTokenScope::WritePackageRegistry);
        let registry_writer = only(DeployTokenScope::WriteRegistry);
        assert!(base_permission(RuleKind::Package, Action::Push, token, package_writer).is_ok());
        assert!(base_permission(RuleKind::Package, Action::Delete, token, package_writer).is_ok());
        assert!(base_permission(RuleKind::Package, Action::Push, token, registry_writer).is_err());
        assert!(
            base_permission(RuleKind::Package, Action::Push, token, only(DeployTokenScope::ReadPackageRegistry))
                .is_err()
        );
        assert!(base_permission(RuleKind::ContainerRepository, Action::Push, token, registry_writer).is_ok());
        assert!(base_permission(RuleKind::ContainerRepository, Action::Push, token, package_writer).is_err());
        let never = base_permission(RuleKind::ContainerRepository, Action::Delete, token, DeployTokenScopes::ALL);
        assert_eq!(never.map_err(|r| r.ability), Err(Ability::DestroyContainerImage));
    }

    #[test]
    fn combine_reads_no_rule_when_the_base_permission_refuses() {
        let refused =
            base_permission(RuleKind::Package, Action::Delete, user(AccessLevel::Developer), DeployTokenScopes::ALL);
        let answer =
            GitlabDecision::combine(refused, || -> Result<Decision, ()> { panic!("protection must not be read") });
        let answer = answer.unwrap_or_else(|()| unreachable!());
        assert!(!answer.allowed);
        assert_eq!(answer.refused_by, Some(Check::BasePermission));
        assert!(answer.blocking_rule_ids.is_empty());
    }

    #[test]
    fn combine_names_protection_and_hides_patterns_on_request() {
        let base = || Ok(Ability::CreatePackage);
        let blocked = Decision {
            allowed: false,
            blocking_rule_ids: vec![3, 9],
            reason: Arc::from("`@secret/*` needs maintainer"),
        };
        let answer =
            GitlabDecision::combine(base(), || Ok::<_, ()>(blocked.clone())).unwrap_or_else(|()| unreachable!());
        assert_eq!(answer.refused_by, Some(Check::ProtectionRules));
        assert_eq!(answer.reason, blocked.reason);
        let hidden = answer.without_patterns(RuleKind::Package, Action::Push);
        assert_eq!(&*hidden.reason, "push is blocked by 2 package protection rules");
        assert_eq!(hidden.blocking_rule_ids, vec![3, 9]);

        let allowed = Decision { allowed: true, blocking_rule_ids: vec![], reason: Arc::from("no rule blocks it") };
        let answer =
            GitlabDecision::combine(base(), || Ok::<_, ()>(allowed.clone())).unwrap_or_else(|()| unreachable!());
        assert!(answer.allowed);
        assert_eq!(answer.refused_by, None);
        assert_eq!(answer.without_patterns(RuleKind::Package, Action::Push).reason, allowed.reason);
    }

    #[test]
    fn deploy_token_scopes_parse_by_gitlab_name_only() {
        let scopes =
            DeployTokenScopes::from_names(["write_registry", "read_package_registry", "write_registry"]).unwrap();
        assert_eq!(
            scopes.iter().collect::<Vec<_>>(),
            [DeployTokenScope::WriteRegistry, DeployTokenScope::ReadPackageRegistry]
        );
        assert_eq!(
            DeployTokenScopes::from_names(DeployTokenScope::ALL.map(DeployTokenScope::as_str)),
            Ok(DeployTokenScopes::ALL)
        );
        assert_eq!(DeployTokenScopes::from_names([]), Ok(DeployTokenScopes::default()));
        for bad in ["api", "Write_Registry", " write_registry", ""] {
            let error = DeployTokenScopes::from_names([bad]).unwrap_err();
            assert_eq!(error, UnknownDeployTokenScope(bad.into()));
            assert!(error.to_string().starts_with(&format!("`{bad}` is not a deploy token scope")));
        }
    }
}
