//! The input format the decide targets share: lines; the first is
//! `<target digit><actor digit><action digit><name>`, then one rule per line as
//! `<type digit><push digit><delete digit><pattern>`.

use pkgprotect::{
    AccessLevel, Action, Actor, ContainerRepositoryRule, DecisionRequest, PackageRule, PackageType, Rule, Target,
};

const TYPES: [Option<PackageType>; 4] = [Some(PackageType::Npm), Some(PackageType::Pypi), Some(PackageType::Generic), None];
const LEVELS: [Option<AccessLevel>; 4] = [None, Some(AccessLevel::Maintainer), Some(AccessLevel::Owner), Some(AccessLevel::Admin)];
const ACTORS: [Actor; 5] = [
    Actor::DeployToken,
    Actor::User { access_level: AccessLevel::Developer },
    Actor::User { access_level: AccessLevel::Maintainer },
    Actor::User { access_level: AccessLevel::Owner },
    Actor::User { access_level: AccessLevel::Admin },
];

fn digit(c: Option<char>) -> usize {
    c.and_then(|c| c.to_digit(10)).unwrap_or(0) as usize
}

pub fn parse_rule(id: i64, line: &str) -> Option<Rule> {
    let mut chars = line.chars();
    let (kind, push, delete) = (digit(chars.next()), digit(chars.next()), digit(chars.next()));
    let pattern: String = chars.collect();
    if pattern.trim().is_empty() || pattern.chars().count() > 12 {
        return None;
    }
    let push = LEVELS[push % 4];
    Some(match TYPES[kind % 4] {
        Some(package_type) => Rule::Package(PackageRule {
            id: Some(id),
            project_id: None,
            package_name_pattern: pattern,
            package_type,
            minimum_access_level_for_push: push,
            // Package delete minimums cannot be maintainer.
            minimum_access_level_for_delete: LEVELS[delete % 4].filter(|&l| l != AccessLevel::Maintainer),
        }),
        None => Rule::ContainerRepository(ContainerRepositoryRule {
            id: Some(id),
            project_id: None,
            repository_path_pattern: pattern,
            minimum_access_level_for_push: push,
            minimum_access_level_for_delete: LEVELS[delete % 4],
        }),
    })
}

/// The rules and the request an input describes (`None`: not a well-formed input).
pub fn parse_case(data: &[u8]) -> Option<(Vec<Rule>, DecisionRequest)> {
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text.split('\n');
    let head = lines.next()?;
    let mut head_chars = head.chars();
    let (target, actor, action) = (digit(head_chars.next()), digit(head_chars.next()), digit(head_chars.next()));
    let name: String = head_chars.collect();
    if name.chars().count() > 16 {
        return None;
    }
    let rules: Vec<Rule> = lines.take(64).zip(1..).filter_map(|(line, id)| parse_rule(id, line)).collect();
    let request = DecisionRequest {
        target: match TYPES[target % 4] {
            Some(package_type) => Target::Package { name, package_type },
            None => Target::ContainerRepository { path: name },
        },
        action: if action % 2 == 0 { Action::Push } else { Action::Delete },
        actor: ACTORS[actor % 5],
    };
    Some((rules, request))
}
