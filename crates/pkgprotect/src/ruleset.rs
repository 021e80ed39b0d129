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
use std::sync::Arc;

/// A rule list cannot be compiled: it could not have come from GitLab's database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("rule at position {index} has no `id`; every rule needs one so decisions can name it")]
    MissingId { index: usize },
    #[error("rule id {id} appears more than once")]
    DuplicateId { id: i64 },
    #[error("a rule set holds at most 4,294,967,295 rules")]
    TooMany,
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
    /// The reason of a decision this rule blocks, by [`reason_slot`]; prepared once so that
    /// deciding allocates nothing but the list of blocking ids.
    reasons: [Option<Arc<str>>; 4],
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
///
/// Built node by node ([`Trie::add`]), then frozen ([`Trie::freeze`]) into a path-compressed
/// form that walks use: literal sets are mostly unbranched chains, which a walk then matches
/// as one run of bytes instead of a node hop and a child scan per byte.
struct Trie {
    /// The trie while it is built; empty once frozen.
    building: Vec<Node>,
    frozen: Frozen,
    /// The root's children by first byte (`NONE` = no child): the hot first step of
    /// every walk, and of the infix walks that start at each position of a name.
    /// Empty until the first literal is added, so unused tries cost nothing.
    root: Vec<u32>,
    /// Length of the shortest literal, so infix walks skip start positions too close to the end.
    shortest: usize,
    /// Bit per byte pair that starts some literal: infix walks skip start positions whose
    /// next two bytes begin no literal (only consulted when every literal has two bytes).
    bigrams: Vec<u64>,
}

/// The frozen trie: nodes where a walk may branch or report rules, the unbranched bytes
/// between them as labels, everything in four flat arrays.
#[derive(Default)]
struct Frozen {
    nodes: Vec<FrozenNode>,
    labels: Vec<u8>,
    edges: Vec<(u8, u32)>,
    rules: Vec<u32>,
}

/// Ranges (start, end) into the arrays of [`Frozen`].
#[derive(Default, Clone, Copy)]
struct FrozenNode {
    /// The bytes after the edge that leads here, all of which a walk must match to arrive.
    label: (u32, u32),
    /// Children by first byte: few, so a linear scan.
    edges: (u32, u32),
    /// Rules whose literal ends here: they match whenever a walk arrives.
    reached: (u32, u32),
    /// Rules whose literal is the whole name: they match when a walk ends here.
    whole: (u32, u32),
}

fn span<T>(items: &[T], (start, end): (u32, u32)) -> &[T] {
    items.get(start as usize..end as usize).unwrap_or_default()
}

/// Append `items` to `to`, returning their range.
fn append<T: Copy>(to: &mut Vec<T>, items: &[T]) -> (u32, u32) {
    let start = to.len() as u32;
    to.extend_from_slice(items);
    (start, to.len() as u32)
}

fn bigram_bit(first: u8, second: u8) -> (usize, u64) {
    let pair = usize::from(first) << 8 | usize::from(second);
    (pair >> 6, 1u64 << (pair & 63))
}

const NONE: u32 = u32::MAX;

impl Default for Trie {
    fn default() -> Self {
        Trie {
            building: Vec::new(),
            frozen: Frozen::default(),
            root: Vec::new(),
            shortest: usize::MAX,
            bigrams: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Node {
    /// Sorted by byte.
    children: Vec<(u8, u32)>,
    /// Rules whose literal ends here: they match whenever a walk reaches this node.
    reached: Vec<u32>,
    /// Rules whose literal is the whole name: they match when a walk ends at this node.
    whole: Vec<u32>,
}

/// How a literal added to a [`Trie`] matches.
#[derive(Clone, Copy)]
enum Ending {
    /// When a walk reaches its end (prefix, suffix, infix literals).
    Reached,
    /// When a walk ends exactly there (exact literals).
    Whole,
}

impl Trie {
    fn node_for(&mut self, bytes: impl Iterator<Item = u8>) -> usize {
        if self.building.is_empty() {
            self.building.push(Node::default());
            self.bigrams = vec![0; 1024];
        }
        let mut at = 0usize;
        for byte in bytes {
            let next_index = self.building.len();
            let Some(node) = self.building.get_mut(at) else {
                return at;
            };
            at = match node.children.binary_search_by_key(&byte, |&(b, _)| b) {
                Ok(found) => node.children.get(found).map_or(at, |&(_, child)| child as usize),
                Err(insert_at) => {
                    node.children.insert(insert_at, (byte, next_index as u32));
                    self.building.push(Node::default());
                    next_index
                }
            };
        }
        at
    }

    fn add(&mut self, bytes: impl ExactSizeIterator<Item = u8> + Clone, rule: u32, ending: Ending) {
        self.shortest = self.shortest.min(bytes.len());
        let mut head = bytes.clone();
        let at = self.node_for(bytes);
        if let (Some(first), Some(second)) = (head.next(), head.next()) {
            let (word, bit) = bigram_bit(first, second);
            if let Some(slot) = self.bigrams.get_mut(word) {
                *slot |= bit;
            }
        }
        if let Some(node) = self.building.get_mut(at) {
            match ending {
                Ending::Reached => node.reached.push(rule),
                Ending::Whole => node.whole.push(rule),
            }
        }
    }

    /// Turn the built trie into the form walks use; called once every literal is added.
    fn freeze(&mut self) {
        let building = std::mem::take(&mut self.building);
        let Some(root) = building.first() else {
            return;
        };
        let mut frozen = Frozen::default();
        frozen.nodes.push(FrozenNode {
            reached: append(&mut frozen.rules, &root.reached),
            whole: append(&mut frozen.rules, &root.whole),
            ..FrozenNode::default()
        });
        // (frozen node, built node) whose edges are still to be laid out.
        let mut pending = vec![(0usize, 0usize)];
        while let Some((frozen_at, built_at)) = pending.pop() {
            let children = building.get(built_at).map(|node| node.children.as_slice()).unwrap_or_default();
            let edges_start = frozen.edges.len() as u32;
            for &(byte, child) in children {
                // Follow the unbranched chain below this edge into a label.
                let label_start = frozen.labels.len() as u32;
                let mut at = child as usize;
                while let Some(node) = building.get(at)
                    && node.reached.is_empty()
                    && node.whole.is_empty()
                    && let [(next_byte, next)] = node.children[..]
                {
                    frozen.labels.push(next_byte);
                    at = next as usize;
                }
                let (reached, whole) =
                    building.get(at).map(|node| (node.reached.as_slice(), node.whole.as_slice())).unwrap_or_default();
                let index = frozen.nodes.len();
                frozen.nodes.push(FrozenNode {
                    label: (label_start, frozen.labels.len() as u32),
                    edges: (0, 0),
                    reached: append(&mut frozen.rules, reached),
                    whole: append(&mut frozen.rules, whole),
                });
                frozen.edges.push((byte, index as u32));
                pending.push((index, at));
            }
            if let Some(node) = frozen.nodes.get_mut(frozen_at) {
                node.edges = (edges_start, frozen.edges.len() as u32);
            }
        }
        self.root = vec![NONE; 256];
        if let Some(root) = frozen.nodes.first() {
            for &(byte, child) in span(&frozen.edges, root.edges) {
                if let Some(slot) = self.root.get_mut(usize::from(byte)) {
                    *slot = child;
                }
            }
        }
        self.frozen = frozen;
    }

    fn is_empty(&self) -> bool {
        self.frozen.nodes.is_empty()
    }

    /// Walk `bytes` from the root, reporting every rule whose literal the walk completes,
    /// and the whole-name rules of the node where `bytes` end.
    #[inline]
    fn walk(&self, mut bytes: impl Iterator<Item = u8>, hit: &mut impl FnMut(u32)) {
        let frozen = &self.frozen;
        let Some(root) = frozen.nodes.first() else {
            return;
        };
        span(&frozen.rules, root.reached).iter().for_each(|&r| hit(r));
        let Some(first) = bytes.next() else {
            span(&frozen.rules, root.whole).iter().for_each(|&r| hit(r));
            return;
        };
        let mut at = self.root.get(usize::from(first)).copied().unwrap_or(NONE);
        while let Some(node) = frozen.nodes.get(at as usize) {
            for &expected in span(&frozen.labels, node.label) {
                if bytes.next() != Some(expected) {
                    return;
                }
            }
            span(&frozen.rules, node.reached).iter().for_each(|&r| hit(r));
            let Some(byte) = bytes.next() else {
                span(&frozen.rules, node.whole).iter().for_each(|&r| hit(r));
                return;
            };
            at = span(&frozen.edges, node.edges).iter().find(|&&(b, _)| b == byte).map_or(NONE, |&(_, child)| child);
        }
    }
}

/// Matched rule positions: a few inline, spilling to the heap only for many.
struct Hits {
    inline: [u32; 8],
    len: usize,
    spill: Vec<u32>,
}

impl Hits {
    fn new() -> Self {
        Hits { inline: [0; 8], len: 0, spill: Vec::new() }
    }

    #[inline]
    fn push(&mut self, position: u32) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = position;
                self.len += 1;
            }
            None => self.spill.push(position),
        }
    }

    /// The positions in input order, without repeats (an infix literal can occur twice).
    fn sorted(&mut self) -> &[u32] {
        let slice: &mut [u32] = if self.spill.is_empty() {
            self.inline.get_mut(..self.len).unwrap_or_default()
        } else {
            self.spill.extend_from_slice(self.inline.get(..self.len).unwrap_or_default());
            &mut self.spill
        };
        slice.sort_unstable();
        let mut kept = 0usize;
        for read in 0..slice.len() {
            let (Some(&value), previous) = (slice.get(read), kept.checked_sub(1).and_then(|k| slice.get(k))) else {
                continue;
            };
            if previous != Some(&value) {
                if let Some(slot) = slice.get_mut(kept) {
                    *slot = value;
                }
                kept += 1;
            }
        }
        slice.get(..kept).unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The rules one request can meet (one package type, or container rules), by shape.
#[derive(Default)]
struct Bucket {
    /// Prefix literals, and exact literals as whole-name entries: one walk finds both (a
    /// binary search over sorted literals cost 3× more in the component, where `memcmp` is
    /// a byte loop; and no hash table in the component's code).
    forward: Trie,
    reverse: Trie,
    infix: Trie,
    everything: Vec<u32>,
    general: Vec<u32>,
}

impl Bucket {
    fn add(&mut self, glob: &Glob, rule: u32) {
        match &glob.shape {
            Shape::Exact(lit) => self.forward.add(lit.bytes(), rule, Ending::Whole),
            Shape::Prefix(lit) => self.forward.add(lit.bytes(), rule, Ending::Reached),
            Shape::Suffix(lit) => self.reverse.add(lit.bytes().rev(), rule, Ending::Reached),
            Shape::Infix(lit) => self.infix.add(lit.bytes(), rule, Ending::Reached),
            Shape::Everything => self.everything.push(rule),
            Shape::General => self.general.push(rule),
        }
    }

    /// Called once every rule is added.
    fn freeze(&mut self) {
        self.forward.freeze();
        self.reverse.freeze();
        self.infix.freeze();
    }

    /// Every literal-shaped rule matching the prepared name (may repeat infix rules).
    fn literal_hits(&self, name: &str, hit: &mut impl FnMut(u32)) {
        let bytes = name.as_bytes();
        self.forward.walk(bytes.iter().copied(), hit);
        self.reverse.walk(bytes.iter().rev().copied(), hit);
        if !self.infix.is_empty() && self.infix.shortest <= bytes.len() {
            let use_bigrams = self.infix.shortest >= 2;
            for start in 0..=bytes.len() - self.infix.shortest {
                let rest = bytes.get(start..).unwrap_or_default();
                if use_bigrams && let [first, second, ..] = *rest {
                    let (word, bit) = bigram_bit(first, second);
                    if self.infix.bigrams.get(word).is_none_or(|w| w & bit == 0) {
                        continue;
                    }
                }
                self.infix.walk(rest.iter().copied(), hit);
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
    allowed_reasons: [Arc<str>; 3],
}

const ADMIN: usize = 0;
const BLANK_NAME: usize = 1;
const NOT_BLOCKED: usize = 2;

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
            allowed_reasons: [
                Arc::from("administrators are never blocked by protection rules"),
                Arc::from("a blank name matches no protection rule"),
                Arc::from("no protection rule blocks this request"),
            ],
        };
        let mut ids = Vec::new();
        for (index, rule) in rules.into_iter().enumerate() {
            let id = check_storable(index, &rule)?;
            ids.push(id);
            let position = u32::try_from(set.rules.len()).map_err(|_| RuleSetError::TooMany)?;
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
            let reasons = blocked_reasons(id, &rule);
            set.rules.push(CompiledRule { rule, id, reasons, glob, pypi_glob });
        }
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair.first() == pair.last()) {
            return Err(RuleSetError::DuplicateId { id: pair.first().copied().unwrap_or_default() });
        }
        for bucket in set.packages.iter_mut().chain([&mut set.pypi_users, &mut set.containers]) {
            bucket.freeze();
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
            return Ok(self.allowed(ADMIN));
        }
        let raw_name = request.target.name();
        if is_blank(raw_name) {
            return Ok(self.allowed(BLANK_NAME));
        }
        let pypi_user_path = matches!(request.target, Target::Package { package_type: PackageType::Pypi, .. })
            && actor != Actor::DeployToken;
        let (bucket, name): (&Bucket, Cow<'_, str>) = match &request.target {
            _ if pypi_user_path => (&self.pypi_users, fold_owned(normalize_pypi(raw_name))),
            Target::Package { package_type, .. } => match self.packages.get(package_type.index()) {
                Some(bucket) => (bucket, fold(raw_name)),
                None => return Ok(self.allowed(NOT_BLOCKED)),
            },
            Target::ContainerRepository { .. } => (&self.containers, fold(raw_name)),
        };

        let mut hits = Hits::new();
        let mut keep_if_blocking = |position: u32| {
            if self.rules.get(position as usize).is_some_and(|rule| rule.could_block(actor, action)) {
                hits.push(position);
            }
        };
        bucket.literal_hits(&name, &mut keep_if_blocking);
        bucket.everything.iter().for_each(|&position| keep_if_blocking(position));
        for &position in &bucket.general {
            let Some(rule) = self.rules.get(position as usize) else {
                continue;
            };
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
        if hits.is_empty() {
            return Ok(self.allowed(NOT_BLOCKED));
        }
        Ok(self.blocked(request, hits.sorted()))
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

impl RuleSet {
    fn allowed(&self, which: usize) -> Decision {
        let reason = self.allowed_reasons.get(which).cloned().unwrap_or_else(|| Arc::from("allowed"));
        Decision { allowed: true, blocking_rule_ids: Vec::new(), reason }
    }

    fn blocked(&self, request: &DecisionRequest, positions: &[u32]) -> Decision {
        let blocking = || positions.iter().filter_map(|&p| self.rules.get(p as usize));
        let Some(first) = blocking().next() else {
            return self.allowed(NOT_BLOCKED);
        };
        let slot = reason_slot(request.action, request.actor);
        let reason = match (first.reasons.get(slot).cloned().flatten(), positions.len()) {
            (Some(reason), 1) => reason,
            (reason, n) => {
                let mut text = reason.map_or_else(|| format!("blocked by rule {}", first.id), |r| r.to_string());
                text.push_str(" (and ");
                push_decimal(&mut text, n - 1);
                text.push_str(if n == 2 { " more rule)" } else { " more rules)" });
                Arc::from(text)
            }
        };
        // Sized exactly: the component hands this vector over as it is, and a spare
        // capacity would cost a reallocation there on every blocked decision.
        let mut blocking_rule_ids = Vec::with_capacity(positions.len());
        blocking_rule_ids.extend(blocking().map(|rule| rule.id));
        Decision { allowed: false, blocking_rule_ids, reason }
    }
}

/// Append `n` in decimal without the formatting machinery (hot path).
fn reason_slot(action: Action, actor: Actor) -> usize {
    let action = match action {
        Action::Push => 0,
        Action::Delete => 2,
    };
    action + usize::from(actor == Actor::DeployToken)
}

/// The reasons `rule` gives when it blocks, per [`reason_slot`].
fn blocked_reasons(id: i64, rule: &Rule) -> [Option<Arc<str>>; 4] {
    let what = match rule.kind() {
        RuleKind::Package => "package",
        RuleKind::ContainerRepository => "container repository",
    };
    let pattern = rule.pattern();
    let mut reasons: [Option<Arc<str>>; 4] = Default::default();
    for action in [Action::Push, Action::Delete] {
        if let Some(minimum) = rule.minimum_for(action)
            && let Some(slot) = reasons.get_mut(reason_slot(action, Actor::User { access_level: minimum }))
        {
            *slot = Some(Arc::from(format!("blocked by rule {id} (`{pattern}`): {action} needs at least {minimum}")));
        }
        if let Some(slot) = reasons.get_mut(reason_slot(action, Actor::DeployToken)) {
            *slot = Some(Arc::from(format!(
                "blocked by rule {id} (`{pattern}`): deploy tokens may not {action} a protected {what}"
            )));
        }
    }
    reasons
}

fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        if let Some(slot) = digits.get_mut(at) {
            *slot = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        if rest == 0 || at == 0 {
            break;
        }
    }
    digits.get(at..).unwrap_or_default().iter().for_each(|&d| out.push(char::from(d)));
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
    fn decimal_digits() {
        for n in [0usize, 7, 10, 1234, usize::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
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
