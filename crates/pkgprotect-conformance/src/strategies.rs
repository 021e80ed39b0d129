//! proptest strategies for rules and decision requests over a small alphabet, so that random
//! patterns and names collide often (wildcards, escapes, case folding, non-ASCII). Shared by
//! every property test that compares two deciders (`features = ["proptest"]`).

use pkgprotect::{
    AccessLevel, Action, Actor, ContainerRepositoryRule, DecisionRequest, PackageRule, PackageType, Rule, Target,
};
use proptest::prelude::*;

fn text(alphabet: Vec<char>, len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(prop::sample::select(alphabet), len).prop_map(|c| c.into_iter().collect())
}

fn level() -> impl Strategy<Value = Option<AccessLevel>> {
    prop::sample::select(vec![None, Some(AccessLevel::Maintainer), Some(AccessLevel::Owner), Some(AccessLevel::Admin)])
}

/// A package rule (npm, PyPI, generic) or a container repository rule, without an id.
pub fn rule() -> impl Strategy<Value = Rule> {
    let pattern = text(vec!['a', 'b', 'B', '*', '*', '-', '_', '.', '\\', 'é'], 1..7);
    let types =
        prop::sample::select(vec![Some(PackageType::Npm), Some(PackageType::Pypi), Some(PackageType::Generic), None]);
    (pattern, types, level(), level()).prop_map(|(pattern, package_type, push, delete)| {
        // Package delete minimums cannot be maintainer in GitLab.
        let delete_for_package = delete.filter(|&l| l != AccessLevel::Maintainer);
        match package_type {
            Some(package_type) => Rule::Package(PackageRule {
                id: None,
                project_id: None,
                package_name_pattern: pattern,
                package_type,
                minimum_access_level_for_push: push,
                minimum_access_level_for_delete: delete_for_package,
            }),
            None => Rule::ContainerRepository(ContainerRepositoryRule {
                id: None,
                project_id: None,
                repository_path_pattern: pattern,
                minimum_access_level_for_push: push,
                minimum_access_level_for_delete: delete,
            }),
        }
    })
}

/// Up to `max` rules with the ids 1, 2, … in order.
pub fn rules_with_ids(max: usize) -> impl Strategy<Value = Vec<Rule>> {
    proptest::collection::vec(rule(), 0..max)
        .prop_map(|rules| rules.into_iter().zip(1..).map(|(rule, id)| with_id(rule, id)).collect())
}

/// `rule` with its id set to `id`.
pub fn with_id(rule: Rule, id: i64) -> Rule {
    match rule {
        Rule::Package(r) => Rule::Package(PackageRule { id: Some(id), ..r }),
        Rule::ContainerRepository(r) => Rule::ContainerRepository(ContainerRepositoryRule { id: Some(id), ..r }),
    }
}

/// A push or delete of a package or container repository by any kind of actor.
pub fn request() -> impl Strategy<Value = DecisionRequest> {
    let name = text(vec!['a', 'b', 'A', 'B', '-', '_', '.', '\\', 'é', 'É', ' '], 0..9);
    let target =
        prop::sample::select(vec![Some(PackageType::Npm), Some(PackageType::Pypi), Some(PackageType::Generic), None]);
    let actor = prop::sample::select(vec![
        Actor::DeployToken,
        Actor::User { access_level: AccessLevel::Developer },
        Actor::User { access_level: AccessLevel::Maintainer },
        Actor::User { access_level: AccessLevel::Owner },
        Actor::User { access_level: AccessLevel::Admin },
    ]);
    let action = prop::sample::select(vec![Action::Push, Action::Delete]);
    (name, target, actor, action).prop_map(|(name, package_type, actor, action)| DecisionRequest {
        target: match package_type {
            Some(package_type) => Target::Package { name, package_type },
            None => Target::ContainerRepository { path: name },
        },
        action,
        actor,
    })
}
