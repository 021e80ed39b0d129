//! A compiled rule set: rules indexed by kind, package type and pattern shape, so that a
//! decision looks at the few rules that can match instead of scanning them all.

use crate::access::AccessLevel;
use crate::glob::{Glob, MatchError, Shape};
use crate::lint::{Finding, lint_rules};
use crate::model::{Action, Actor, Decision, DecisionRequest, PackageType, Rule, RuleKind, Target};
use crate::text::{fold, is_blank, normalize_pypi};
use crate::validate::{Field, MAX_PATTERN_CHARS, allowed_levels};
use std::borrow::Cow;
use std::fmt;

/// A rule list cannot be compiled: it could not have come from GitLab's database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("rule at position {index} has no `id`; every rule needs one so decisions can name it")]
    MissingId { index: usize },
    #[error("rule id {id} appears more than once")]
    DuplicateId { id: i64 },
    #[error("rule {id}: `{field}` cannot be `{level}` for a {kind} rule")]
    LevelNotAllowed { id: i64, kind: RuleKind, field: Field, level: AccessLevel },
    #[error("rule {id}: `{field}` is blank")]
    BlankPattern { id: i64, field: Field },
    #[error("rule {id}: `{field}` has {chars} characters (maximum is 255)")]
    PatternTooLong { id: i64, field: Field, chars: usize },
}

/// A decision could not be made; GitLab's request fails in the same case, so the caller
/// must treat the request as refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("rule {rule_id} cannot be evaluated against `{name}`: {source}")]
    Match {
        rule_id: i64,
        name: String,
        #[source]
        source: MatchError,
    },
}

struct CompiledRule {
    rule: Rule,
    id: i64,
    glob: Glob,
    /// The pattern as GitLab's PyPI user path compares it (normalized separators).
    pypi_glob: Option<Glob>,
}

impl CompiledRule {
    fn could_block(&self, actor: Actor, action: Action) -> bool {
        match actor {
            Actor::DeployToken => true,
            Actor::User { access_level } => self.rule.minimum_for(action).is_some_and(|minimum| access_level < minimum),
        }
    }
}

/// A byte trie over literal pattern parts. Literals are valid UTF-8 and so are names, so a
/// byte match always lands on character boundaries.
#[derive(Default)]
struct Trie {
    nodes: Vec<Node>,
}

#[derive(Default)]
struct Node {
    /// Sorted by byte.
    children: Vec<(u8, u32)>,
    /// Rules that match when the walk ends exactly here (exact patterns).
    at_end: Vec<u32>,
    /// Rules that match whenever the walk reaches here (prefix, suffix, infix patterns).
    reached: Vec<u32>,
}

impl Trie {
    fn node_for(&mut self, bytes: impl Iterator<Item = u8>) -> usize {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut at = 0usize;
        for byte in bytes {
            let next_index = self.nodes.len();
            let Some(node) = self.nodes.get_mut(at) else { return at };
            at = match node.children.binary_search_by_key(&byte, |&(b, _)| b) {
                Ok(found) => node.children.get(found).map_or(at, |&(_, child)| child as usize),
                Err(insert_at) => {
                    node.children.insert(insert_at, (byte, next_index as u32));
                    self.nodes.push(Node::default());
                    next_index
                }
            };
        }
        at
    }

    fn add(&mut self, bytes: impl Iterator<Item = u8>, rule: u32, only_at_end: bool) {
        let at = self.node_for(bytes);
        if let Some(node) = self.nodes.get_mut(at) {
            if only_at_end { node.at_end.push(rule) } else { node.reached.push(rule) }
        }
    }

    /// Walk `bytes` from the root, reporting every rule whose literal the walk completes.
    #[inline]
    fn walk(&self, bytes: impl Iterator<Item = u8>, len: usize, hit: &mut impl FnMut(u32)) {
        let Some(mut node) = self.nodes.first() else { return };
        let mut depth = 0usize;
        let mut bytes = bytes;
        loop {
            node.reached.iter().for_each(|&r| hit(r));
            if depth == len {
                node.at_end.iter().for_each(|&r| hit(r));
                return;
            }
            let Some(byte) = bytes.next() else { return };
            let Ok(found) = node.children.binary_search_by_key(&byte, |&(b, _)| b) else { return };
            let Some(next) = node.children.get(found).and_then(|&(_, child)| self.nodes.get(child as usize)) else {
                return;
            };
            node = next;
            depth += 1;
        }
    }
}

/// The rules one request can meet (one package type, or container rules), by shape.
#[derive(Default)]
struct Bucket {
    forward: Trie,
    reverse: Trie,
    infix: Trie,
    everything: Vec<u32>,
    general: Vec<u32>,
}

impl Bucket {
    fn add(&mut self, glob: &Glob, rule: u32) {
        match &glob.shape {
            Shape::Exact(lit) => self.forward.add(lit.bytes(), rule, true),
            Shape::Prefix(lit) => self.forward.add(lit.bytes(), rule, false),
            Shape::Suffix(lit) => self.reverse.add(lit.bytes().rev(), rule, false),
            Shape::Infix(lit) => self.infix.add(lit.bytes(), rule, false),
            Shape::Everything => self.everything.push(rule),
            Shape::General => self.general.push(rule),
        }
    }

    /// Every literal-shaped rule matching the prepared name (may repeat infix rules).
    fn literal_hits(&self, name: &str, hit: &mut impl FnMut(u32)) {
        let bytes = name.as_bytes();
        self.forward.walk(bytes.iter().copied(), bytes.len(), hit);
        self.reverse.walk(bytes.iter().rev().copied(), bytes.len(), hit);
        if !self.infix.nodes.is_empty() {
            for start in 0..bytes.len() {
                let rest = bytes.get(start..).unwrap_or_default();
                self.infix.walk(rest.iter().copied(), rest.len(), hit);
            }
        }
    }
}

/// Rules compiled once, deciding many requests.
///
/// A rule set holds one project's rules of both kinds (`project_id` is not consulted).
/// It is immutable and `Send + Sync`: share it between threads behind an `Arc`.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    packages: [Bucket; PackageType::ALL.len()],
    pypi_users: Bucket,
    containers: Bucket,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleSet").field("rules", &self.rules.len()).finish_non_exhaustive()
    }
}

impl RuleSet {
    /// Compile `rules`. Refuses only what GitLab's database could not hold (missing or
    /// repeated ids, level values the API never accepts, blank or over-long patterns); use
    /// [`crate::validate_rule`] for GitLab's full checks, and [`RuleSet::lint`] for advice.
    pub fn new(rules: impl IntoIterator<Item = Rule>) -> Result<Self, RuleSetError> {
        let mut set = RuleSet {
            rules: Vec::new(),
            packages: Default::default(),
            pypi_users: Bucket::default(),
            containers: Bucket::default(),
        };
        let mut seen = rustc_hash::FxHashSet::default();
        for (index, rule) in rules.into_iter().enumerate() {
            let id = check_storable(index, &rule)?;
            if !seen.insert(id) {
                return Err(RuleSetError::DuplicateId { id });
            }
            let position = u32::try_from(set.rules.len()).map_err(|_| RuleSetError::DuplicateId { id })?;
            let glob = Glob::new(rule.pattern());
            let mut pypi_glob = None;
            match rule.package_type() {
                Some(package_type) => {
                    if let Some(bucket) = set.packages.get_mut(package_type.index()) {
                        bucket.add(&glob, position);
                    }
                    if package_type == PackageType::Pypi {
                        let normalized = Glob::new_pypi_normalized(rule.pattern());
                        set.pypi_users.add(&normalized, position);
                        pypi_glob = Some(normalized);
                    }
                }
                None => set.containers.add(&glob, position),
            }
            set.rules.push(CompiledRule { rule, id, glob, pypi_glob });
        }
        Ok(set)
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Rule> {
        self.rules.iter().map(|compiled| &compiled.rule)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Advice on these rules: duplicates, subsumed rules, rules that restrict nothing,
    /// surprising characters.
    pub fn lint(&self) -> Vec<Finding> {
        let rules: Vec<(i64, &Rule)> = self.rules.iter().map(|compiled| (compiled.id, &compiled.rule)).collect();
        lint_rules(&rules)
    }

    /// GitLab's answer to `request`, with every rule that blocks it.
    pub fn decide(&self, request: &DecisionRequest) -> Result<Decision, DecideError> {
        let (actor, action) = (request.actor, request.action);
        if actor == (Actor::User { access_level: AccessLevel::Admin }) {
            return Ok(allowed("administrators are never blocked by protection rules"));
        }
        let raw_name = request.target.name();
        if is_blank(raw_name) {
            return Ok(allowed("a blank name matches no protection rule"));
        }
        let pypi_user_path =
            matches!(request.target, Target::Package { package_type: PackageType::Pypi, .. }) && actor != Actor::DeployToken;
        let (bucket, name): (&Bucket, Cow<'_, str>) = match &request.target {
            _ if pypi_user_path => (&self.pypi_users, fold_owned(normalize_pypi(raw_name))),
            Target::Package { package_type, .. } => match self.packages.get(package_type.index()) {
                Some(bucket) => (bucket, fold(raw_name)),
                None => return Ok(allowed("no protection rule applies")),
            },
            Target::ContainerRepository { .. } => (&self.containers, fold(raw_name)),
        };

        let mut hits: Vec<u32> = Vec::new();
        let mut keep_if_blocking = |position: u32| {
            if self.rules.get(position as usize).is_some_and(|rule| rule.could_block(actor, action)) {
                hits.push(position);
            }
        };
        bucket.literal_hits(&name, &mut keep_if_blocking);
        bucket.everything.iter().for_each(|&position| keep_if_blocking(position));
        for &position in &bucket.general {
            let Some(rule) = self.rules.get(position as usize) else { continue };
            if !rule.could_block(actor, action) {
                continue;
            }
            let glob = if pypi_user_path { rule.pypi_glob.as_ref().unwrap_or(&rule.glob) } else { &rule.glob };
            match glob.matches_folded(&name) {
                Ok(true) => hits.push(position),
                Ok(false) => {}
                Err(source) => {
                    return Err(DecideError::Match { rule_id: rule.id, name: raw_name.to_owned(), source });
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        let blocking: Vec<&CompiledRule> = hits.iter().filter_map(|&p| self.rules.get(p as usize)).collect();
        Ok(decision(request, &blocking))
    }

    /// [`RuleSet::decide`] for many requests; each answer stands alone.
    pub fn decide_batch<'r>(
        &self,
        requests: impl IntoIterator<Item = &'r DecisionRequest>,
    ) -> Vec<Result<Decision, DecideError>> {
        requests.into_iter().map(|request| self.decide(request)).collect()
    }
}

/// Lower a possibly owned string without copying it twice.
fn fold_owned(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(borrowed) => fold(borrowed),
        Cow::Owned(owned) => Cow::Owned(fold(&owned).into_owned()),
    }
}

fn allowed(reason: &'static str) -> Decision {
    Decision { allowed: true, blocking_rule_ids: Vec::new(), reason: Cow::Borrowed(reason) }
}

fn decision(request: &DecisionRequest, blocking: &[&CompiledRule]) -> Decision {
    let Some(first) = blocking.first() else {
        return allowed("no protection rule blocks this request");
    };
    let what = match request.target.kind() {
        RuleKind::Package => "package",
        RuleKind::ContainerRepository => "container repository",
    };
    let why = match request.actor {
        Actor::DeployToken => format!("deploy tokens may not {} a protected {what}", request.action),
        Actor::User { access_level } => format!(
            "{} needs at least {}, the actor is {access_level}",
            request.action,
            first.rule.minimum_for(request.action).map_or("-", AccessLevel::as_str),
        ),
    };
    let more = match blocking.len() {
        1 => String::new(),
        n => format!(" (and {} more rule{})", n - 1, if n == 2 { "" } else { "s" }),
    };
    Decision {
        allowed: false,
        blocking_rule_ids: blocking.iter().map(|rule| rule.id).collect(),
        reason: Cow::Owned(format!("blocked by rule {} (`{}`): {why}{more}", first.id, first.rule.pattern())),
    }
}

fn check_storable(index: usize, rule: &Rule) -> Result<i64, RuleSetError> {
    let id = rule.id().ok_or(RuleSetError::MissingId { index })?;
    let field = rule.pattern_field();
    if is_blank(rule.pattern()) {
        return Err(RuleSetError::BlankPattern { id, field });
    }
    let chars = rule.pattern().chars().count();
    if chars > MAX_PATTERN_CHARS {
        return Err(RuleSetError::PatternTooLong { id, field, chars });
    }
    for (field, level) in [
        (Field::MinimumAccessLevelForPush, rule.minimum_access_level_for_push()),
        (Field::MinimumAccessLevelForDelete, rule.minimum_access_level_for_delete()),
    ] {
        if let Some(level) = level
            && !allowed_levels(rule.kind(), field).contains(&level)
        {
            return Err(RuleSetError::LevelNotAllowed { id, kind: rule.kind(), field, level });
        }
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(value: serde_json::Value) -> RuleSet {
        RuleSet::new(serde_json::from_value::<Vec<Rule>>(value).unwrap()).unwrap()
    }

    fn user(level: AccessLevel) -> Actor {
        Actor::User { access_level: level }
    }

    fn npm(name: &str, actor: Actor, action: Action) -> DecisionRequest {
        DecisionRequest { target: Target::Package { name: name.into(), package_type: PackageType::Npm }, action, actor }
    }

    #[test]
    fn every_shape_is_found_through_the_index() {
        let set = rules(json!([
            {"id": 1, "package_name_pattern": "exact", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 2, "package_name_pattern": "pre*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 3, "package_name_pattern": "*fix", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 4, "package_name_pattern": "*mid*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 5, "package_name_pattern": "*", "package_type": "npm", "minimum_access_level_for_delete": "owner"},
            {"id": 6, "package_name_pattern": "p*x", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        ]));
        let dev = user(AccessLevel::Developer);
        assert_eq!(set.decide(&npm("EXACT", dev, Action::Push)).unwrap().blocking_rule_ids, [1]);
        assert_eq!(set.decide(&npm("exactly", dev, Action::Push)).unwrap().blocking_rule_ids, Vec::<i64>::new());
        assert_eq!(set.decide(&npm("pre-mid-fix", dev, Action::Push)).unwrap().blocking_rule_ids, [2, 3, 4, 6]);
        assert_eq!(set.decide(&npm("midmid", dev, Action::Push)).unwrap().blocking_rule_ids, [4]);
        assert_eq!(set.decide(&npm("x", Actor::DeployToken, Action::Delete)).unwrap().blocking_rule_ids, [5]);
        assert!(set.decide(&npm("pre", user(AccessLevel::Admin), Action::Push)).unwrap().allowed);
        assert!(set.decide(&npm("  ", dev, Action::Push)).unwrap().allowed);
    }

    #[test]
    fn trailing_escape_fails_closed_only_when_reached() {
        let set = rules(json!([
            {"id": 7, "package_name_pattern": "abc\\", "package_type": "generic", "minimum_access_level_for_push": "maintainer"},
        ]));
        let request = |name: &str, actor| DecisionRequest {
            target: Target::Package { name: name.into(), package_type: PackageType::Generic },
            action: Action::Push,
            actor,
        };
        assert!(set.decide(&request("abcd", user(AccessLevel::Developer))).is_err());
        assert!(set.decide(&request("abc", user(AccessLevel::Developer))).unwrap().allowed);
        // A maintainer cannot be blocked by this rule, so it is not evaluated.
        assert!(set.decide(&request("abcd", user(AccessLevel::Maintainer))).unwrap().allowed);
    }

    #[test]
    fn storable_checks() {
        let missing_id = serde_json::from_value::<Vec<Rule>>(json!([
            {"package_name_pattern": "a", "package_type": "npm", "minimum_access_level_for_push": "maintainer"}
        ]))
        .unwrap();
        assert_eq!(RuleSet::new(missing_id).unwrap_err(), RuleSetError::MissingId { index: 0 });
    }
}
