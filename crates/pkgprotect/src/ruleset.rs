//! A compiled rule set: rules indexed by kind, package type and pattern shape, so that a
//! decision looks at the few rules that can match instead of scanning them all.

use crate::access::AccessLevel;
use crate::glob::{Glob, MatchError, Shape};
use crate::lint::{Finding, lint_rules};
use crate::model::{Action, Actor, Decision, DecisionRequest, PackageType, Rule, RuleKind, Summary, TargetKind};
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
    /// GitLab JSON rules ([`RuleSet::from_gitlab_json`]) that are not JSON, or not an array
    /// of rule objects of GitLab's shape; `line` and `column` are 1-based.
    #[error("the rules are not GitLab rule JSON (line {line}, column {column}): {message}")]
    InvalidJson { line: usize, column: usize, message: String },
}

/// A decision could not be made. The caller must treat the request as refused, whatever
/// the variant: on doubt, the engine refuses rather than allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecideError {
    /// GitLab's request fails in the same case (a lone trailing `\` the name reaches).
    #[error("rule {rule_id} cannot be evaluated against `{name}`: {source}")]
    Match {
        rule_id: i64,
        name: String,
        #[source]
        source: MatchError,
    },
    /// The compiled rule set contradicts itself: a bug in pkgprotect, never in the input.
    /// Answering from a broken index could let a protected request through, so none is given.
    #[error("the rule set is inconsistent ({invariant}); the request is refused")]
    Internal { invariant: Invariant },
}

/// Which property of a compiled [`RuleSet`] a decision found broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Invariant {
    #[error("no rule bucket for the package type")]
    MissingBucket,
    #[error("an index names a rule position the set does not hold")]
    UnknownRulePosition,
    #[error("a trie range lies outside its array")]
    BadSpan,
    #[error("a trie edge leads to a node that does not exist")]
    BadTrieNode,
    #[error("the infix start filter does not cover every byte pair")]
    BadBigramFilter,
    #[error("rules matched but none were left to report")]
    NoBlockingRule,
    #[error("a blocking rule has no reason for this action and actor")]
    MissingReason,
    #[error("a PyPI rule has no normalized pattern for the user path")]
    MissingPypiPattern,
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
    /// Bit per hashed byte pair that starts some literal: infix walks skip start positions
    /// whose next two bytes begin no literal (only consulted when every literal has two
    /// bytes). 4,096 bits, not one per pair (65,536): a set's memory bounds how many
    /// projects an engine keeps compiled, and a collision only costs a walk finding nothing.
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

/// The items a range names. A range outside `items` is a broken trie: the walk refuses
/// rather than treating it as empty, which would make the rules behind it vanish.
#[inline]
fn span<T>(items: &[T], (start, end): (u32, u32)) -> Result<&[T], Invariant> {
    items.get(start as usize..end as usize).ok_or(Invariant::BadSpan)
}

/// Append `items` to `to`, returning their range.
fn append<T: Copy>(to: &mut Vec<T>, items: &[T]) -> (u32, u32) {
    let start = to.len() as u32;
    to.extend_from_slice(items);
    (start, to.len() as u32)
}

/// Words of a start filter: 64 of 64 bits.
const BIGRAM_WORDS: usize = 64;

/// The start filter's word and bit for a byte pair: the pair folded to the filter's 12 bits.
fn bigram_bit(first: u8, second: u8) -> (usize, u64) {
    let hash = usize::from(first) << 4 ^ usize::from(second);
    (hash >> 6, 1u64 << (hash & 63))
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
            self.bigrams = vec![0; BIGRAM_WORDS];
        }
        let mut at = 0usize;
        for byte in bytes {
            let next_index = self.building.len();
            let Some(node) = self.building.get_mut(at) else {
                // `at` is the root or a child this loop pushed; a miss here would drop the
                // literal, which a decision could not notice (fuzzing runs with this on).
                debug_assert!(at < next_index, "trie build: node {at} of {next_index} is missing");
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
        let node = self.building.get_mut(at);
        debug_assert!(node.is_some(), "trie build: literal of rule position {rule} ends at missing node {at}");
        if let Some(node) = node {
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
        // Without a root table a walk of this non-empty trie refuses, so a failure here
        // surfaces at decision time instead of hiding the root's children.
        let root_edges = frozen.nodes.first().map(|root| span(&frozen.edges, root.edges));
        debug_assert!(matches!(root_edges, Some(Ok(_))), "trie build: the root's edges are out of range");
        if let Some(Ok(edges)) = root_edges {
            let mut table = vec![NONE; 256];
            for &(byte, child) in edges {
                if let Some(slot) = table.get_mut(usize::from(byte)) {
                    *slot = child;
                }
            }
            self.root = table;
        }
        self.frozen = frozen;
    }

    fn is_empty(&self) -> bool {
        self.frozen.nodes.is_empty()
    }

    /// Walk `bytes` from the root, reporting every rule whose literal the walk completes,
    /// and the whole-name rules of the node where `bytes` end. `Err` when the trie is
    /// broken: the rules already reported are then not all there are.
    #[inline]
    fn walk(&self, mut bytes: impl Iterator<Item = u8>, hit: &mut impl FnMut(u32)) -> Result<(), Invariant> {
        let frozen = &self.frozen;
        let Some(root) = frozen.nodes.first() else {
            return Ok(());
        };
        span(&frozen.rules, root.reached)?.iter().for_each(|&r| hit(r));
        let Some(first) = bytes.next() else {
            span(&frozen.rules, root.whole)?.iter().for_each(|&r| hit(r));
            return Ok(());
        };
        let mut at = *self.root.get(usize::from(first)).ok_or(Invariant::BadTrieNode)?;
        while at != NONE {
            let node = frozen.nodes.get(at as usize).ok_or(Invariant::BadTrieNode)?;
            for &expected in span(&frozen.labels, node.label)? {
                if bytes.next() != Some(expected) {
                    return Ok(());
                }
            }
            span(&frozen.rules, node.reached)?.iter().for_each(|&r| hit(r));
            let Some(byte) = bytes.next() else {
                span(&frozen.rules, node.whole)?.iter().for_each(|&r| hit(r));
                return Ok(());
            };
            at = span(&frozen.edges, node.edges)?.iter().find(|&&(b, _)| b == byte).map_or(NONE, |&(_, child)| child);
        }
        Ok(())
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
    fn literal_hits(&self, name: &str, hit: &mut impl FnMut(u32)) -> Result<(), Invariant> {
        let bytes = name.as_bytes();
        self.forward.walk(bytes.iter().copied(), hit)?;
        self.reverse.walk(bytes.iter().rev().copied(), hit)?;
        if self.infix.is_empty() {
            return Ok(());
        }
        let use_bigrams = self.infix.shortest >= 2;
        // Every suffix of the name long enough to hold the shortest literal, longest first.
        let mut rest = bytes;
        while rest.len() >= self.infix.shortest {
            let may_start = match *rest {
                [first, second, ..] if use_bigrams => {
                    let (word, bit) = bigram_bit(first, second);
                    // A filter word missing would skip starts that hold a literal.
                    self.infix.bigrams.get(word).ok_or(Invariant::BadBigramFilter)? & bit != 0
                }
                _ => true,
            };
            if may_start {
                self.infix.walk(rest.iter().copied(), hit)?;
            }
            let [_, tail @ ..] = rest else { break };
            rest = tail;
        }
        Ok(())
    }
}

/// Rules compiled once, deciding many requests.
///
/// A rule set holds one project's rules of both kinds (`project_id` is not consulted).
/// It is immutable and `Send + Sync`: share it between threads behind an `Arc`.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    /// One bucket per [`PackageType::ALL`] entry. A slice rather than an array so that fault
    /// injection can take buckets away; a decision for a type without one refuses.
    packages: Box<[Bucket]>,
    pypi_users: Bucket,
    containers: Bucket,
    allowed_reasons: AllowedReasons,
    /// The invariants [`RuleSet::inject_fault`] broke on purpose: refusing for these is the
    /// expected outcome, not a bug for the debug assertions to report.
    #[cfg(any(test, feature = "fault-injection"))]
    injected: Vec<Invariant>,
}

/// The reasons of allowed decisions.
pub(crate) mod reasons {
    pub const ADMIN: &str = "administrators are never blocked by protection rules";
    pub const BLANK_NAME: &str = "a blank name matches no protection rule";
    pub const NOT_BLOCKED: &str = "no protection rule blocks this request";
}

/// The reasons of allowed decisions, shared by every decision that gives them.
struct AllowedReasons {
    admin: Arc<str>,
    blank_name: Arc<str>,
    not_blocked: Arc<str>,
}

/// What [`RuleSet::evaluate`] found; the blocking positions are in its `hits`.
enum Evaluated {
    Allowed(Allowed),
    Blocked,
}

#[derive(Clone, Copy)]
enum Allowed {
    Admin,
    BlankName,
    NotBlocked,
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
            packages: PackageType::ALL.iter().map(|_| Bucket::default()).collect(),
            pypi_users: Bucket::default(),
            containers: Bucket::default(),
            allowed_reasons: AllowedReasons {
                admin: Arc::from(reasons::ADMIN),
                blank_name: Arc::from(reasons::BLANK_NAME),
                not_blocked: Arc::from(reasons::NOT_BLOCKED),
            },
            #[cfg(any(test, feature = "fault-injection"))]
            injected: Vec::new(),
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
                    // Without its bucket the rule is lost here, but every decision for its
                    // package type then refuses (`Invariant::MissingBucket`).
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
    ///
    /// Every `Err` means *refused*: [`DecideError::Match`] where GitLab's own query fails,
    /// [`DecideError::Internal`] where this set's compiled index is found inconsistent.
    pub fn decide(&self, request: &DecisionRequest) -> Result<Decision, DecideError> {
        let mut hits = Hits::new();
        let (kind, name) = (request.target.target_kind(), request.target.name());
        match self.evaluate(kind, name, request.action, request.actor, &mut hits)? {
            Evaluated::Allowed(why) => Ok(self.allowed(why)),
            Evaluated::Blocked => self.blocked(request.action, request.actor, hits.sorted()),
        }
    }

    /// [`RuleSet::decide`] without the explanation: nothing is allocated for the answer.
    pub fn summarize(&self, request: &DecisionRequest) -> Result<Summary, DecideError> {
        let (kind, name) = (request.target.target_kind(), request.target.name());
        self.summarize_name(kind, name, request.action, request.actor)
    }

    /// [`RuleSet::summarize`] for a target given by kind and name, so that batches of names
    /// need no owned request each.
    pub fn summarize_name(
        &self,
        kind: TargetKind,
        name: &str,
        action: Action,
        actor: Actor,
    ) -> Result<Summary, DecideError> {
        let mut hits = Hits::new();
        if let Evaluated::Allowed(_) = self.evaluate(kind, name, action, actor, &mut hits)? {
            return Ok(Summary { allowed: true, blocking_rules: 0, first_blocking_rule: None });
        }
        let positions = hits.sorted();
        let mut first_blocking_rule = None;
        for &position in positions {
            let Some(rule) = self.rules.get(position as usize) else {
                return Err(self.refuse(Invariant::UnknownRulePosition));
            };
            first_blocking_rule = first_blocking_rule.or(Some(rule.id));
        }
        if first_blocking_rule.is_none() {
            return Err(self.refuse(Invariant::NoBlockingRule));
        }
        let blocking_rules = u32::try_from(positions.len()).unwrap_or(u32::MAX);
        Ok(Summary { allowed: false, blocking_rules, first_blocking_rule })
    }

    /// Which rules block `action` on the target by `actor`: `hits` receives their positions.
    fn evaluate(
        &self,
        kind: TargetKind,
        raw_name: &str,
        action: Action,
        actor: Actor,
        hits: &mut Hits,
    ) -> Result<Evaluated, DecideError> {
        if actor == (Actor::User { access_level: AccessLevel::Admin }) {
            return Ok(Evaluated::Allowed(Allowed::Admin));
        }
        if is_blank(raw_name) {
            return Ok(Evaluated::Allowed(Allowed::BlankName));
        }
        let pypi_user_path = kind == TargetKind::Package(PackageType::Pypi) && actor != Actor::DeployToken;
        let (bucket, name): (&Bucket, Cow<'_, str>) = match kind {
            _ if pypi_user_path => (&self.pypi_users, fold_owned(normalize_pypi(raw_name))),
            TargetKind::Package(package_type) => match self.packages.get(package_type.index()) {
                Some(bucket) => (bucket, fold(raw_name)),
                None => return Err(self.refuse(Invariant::MissingBucket)),
            },
            TargetKind::ContainerRepository => (&self.containers, fold(raw_name)),
        };

        // An unknown position is kept, not skipped: `blocked` then refuses the request.
        let mut keep_if_blocking = |position: u32| {
            if self.rules.get(position as usize).is_none_or(|rule| rule.could_block(actor, action)) {
                hits.push(position);
            }
        };
        if let Err(invariant) = bucket.literal_hits(&name, &mut keep_if_blocking) {
            return Err(self.refuse(invariant));
        }
        bucket.everything.iter().for_each(|&position| keep_if_blocking(position));
        for &position in &bucket.general {
            let Some(rule) = self.rules.get(position as usize) else {
                return Err(self.refuse(Invariant::UnknownRulePosition));
            };
            if !rule.could_block(actor, action) {
                continue;
            }
            // The raw pattern would miss names that differ only in separators.
            let glob = match (pypi_user_path, &rule.pypi_glob) {
                (false, _) => &rule.glob,
                (true, Some(normalized)) => normalized,
                (true, None) => return Err(self.refuse(Invariant::MissingPypiPattern)),
            };
            match glob.matches_folded(&name) {
                Ok(true) => hits.push(position),
                Ok(false) => {}
                Err(source) => {
                    return Err(DecideError::Match { rule_id: rule.id, name: raw_name.to_owned(), source });
                }
            }
        }
        Ok(if hits.is_empty() { Evaluated::Allowed(Allowed::NotBlocked) } else { Evaluated::Blocked })
    }

    /// Compile rules given as GitLab's REST JSON: an array of rule objects as GitLab's list
    /// endpoints answer them (both kinds may be mixed). The core is then the only place that
    /// checks a rule's shape, for every host.
    pub fn from_gitlab_json(json: &str) -> Result<Self, RuleSetError> {
        RuleSet::new(RuleSet::parse_gitlab_json(json)?)
    }

    /// The rules of GitLab's REST JSON, without compiling them.
    pub fn parse_gitlab_json(json: &str) -> Result<Vec<Rule>, RuleSetError> {
        serde_json::from_str(json).map_err(|error| RuleSetError::InvalidJson {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        })
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
    fn allowed(&self, why: Allowed) -> Decision {
        let reasons = &self.allowed_reasons;
        let reason = match why {
            Allowed::Admin => &reasons.admin,
            Allowed::BlankName => &reasons.blank_name,
            Allowed::NotBlocked => &reasons.not_blocked,
        };
        Decision { allowed: true, blocking_rule_ids: Vec::new(), reason: Arc::clone(reason) }
    }

    /// The decision blocked by the rules at `positions` (sorted, at least one). Every
    /// position must name a rule and the first must have a reason; otherwise the index is
    /// broken and the request is refused without an answer.
    fn blocked(&self, action: Action, actor: Actor, positions: &[u32]) -> Result<Decision, DecideError> {
        let Some(&first) = positions.first() else {
            return Err(self.refuse(Invariant::NoBlockingRule));
        };
        let Some(first) = self.rules.get(first as usize) else {
            return Err(self.refuse(Invariant::UnknownRulePosition));
        };
        let Some(reason) = first.reasons.get(reason_slot(action, actor)).and_then(Option::as_ref) else {
            return Err(self.refuse(Invariant::MissingReason));
        };
        // Sized exactly: the component hands this vector over as it is, and a spare
        // capacity would cost a reallocation there on every blocked decision.
        let mut blocking_rule_ids = Vec::with_capacity(positions.len());
        for &position in positions {
            let Some(rule) = self.rules.get(position as usize) else {
                return Err(self.refuse(Invariant::UnknownRulePosition));
            };
            blocking_rule_ids.push(rule.id);
        }
        let reason = with_more_rules(reason, positions.len());
        Ok(Decision { allowed: false, blocking_rule_ids, reason })
    }

    /// The error for a broken `invariant`. Cold: only a bug in pkgprotect (or a test's
    /// injected fault) gets here. Debug builds (tests, fuzzing) stop at the first one.
    #[cold]
    #[inline(never)]
    fn refuse(&self, invariant: Invariant) -> DecideError {
        debug_assert!(self.was_injected(invariant), "pkgprotect invariant broken: {invariant}");
        DecideError::Internal { invariant }
    }

    #[cfg(any(test, feature = "fault-injection"))]
    fn was_injected(&self, invariant: Invariant) -> bool {
        self.injected.contains(&invariant)
    }

    #[cfg(not(any(test, feature = "fault-injection")))]
    fn was_injected(&self, _: Invariant) -> bool {
        false
    }
}

/// Fault injection: tests break one invariant of a compiled set and check that decisions
/// reaching it refuse. Compiled for this crate's unit tests, and for other crates' test
/// builds through the `fault-injection` feature (enable it under `[dev-dependencies]` only).
#[cfg(any(test, feature = "fault-injection"))]
impl RuleSet {
    /// Break `invariant` in this set's compiled data, everywhere it can be broken, so that
    /// any decision consulting that data refuses with [`DecideError::Internal`]; decisions
    /// that do not consult it are unchanged. Returns `false` for an invariant that is a
    /// contract between private functions rather than data ([`Invariant::NoBlockingRule`]):
    /// nothing is broken then.
    #[doc(hidden)]
    pub fn inject_fault(&mut self, invariant: Invariant) -> bool {
        match invariant {
            Invariant::MissingBucket => self.packages = Box::default(),
            Invariant::UnknownRulePosition => self.rules.clear(),
            Invariant::BadSpan => {
                let outside = (u32::MAX, u32::MAX);
                for node in self.tries_mut().flat_map(|trie| trie.frozen.nodes.iter_mut()) {
                    *node = FrozenNode { label: outside, edges: outside, reached: outside, whole: outside };
                }
            }
            Invariant::BadTrieNode => {
                for trie in self.tries_mut() {
                    let beyond = trie.frozen.nodes.len() as u32;
                    trie.root.iter_mut().chain(trie.frozen.edges.iter_mut().map(|(_, child)| child)).for_each(
                        |child| {
                            *child = beyond;
                        },
                    );
                }
            }
            Invariant::BadBigramFilter => self.tries_mut().for_each(|trie| trie.bigrams.clear()),
            Invariant::NoBlockingRule => return false,
            Invariant::MissingReason => self.rules.iter_mut().for_each(|rule| rule.reasons = Default::default()),
            Invariant::MissingPypiPattern => self.rules.iter_mut().for_each(|rule| rule.pypi_glob = None),
        }
        self.injected.push(invariant);
        true
    }

    fn tries_mut(&mut self) -> impl Iterator<Item = &mut Trie> {
        self.packages
            .iter_mut()
            .chain([&mut self.pypi_users, &mut self.containers])
            .flat_map(|bucket| [&mut bucket.forward, &mut bucket.reverse, &mut bucket.infix])
    }
}

/// The reason of a decision `blocking` rules block, from the first one's reason.
fn with_more_rules(first: &Arc<str>, blocking: usize) -> Arc<str> {
    match blocking {
        0 | 1 => Arc::clone(first),
        n => {
            let mut text = first.to_string();
            text.push_str(" (and ");
            push_decimal(&mut text, n - 1);
            text.push_str(if n == 2 { " more rule)" } else { " more rules)" });
            Arc::from(text)
        }
    }
}

/// The reason a one-shot decision gives when `rule` is the first of `blocking` rules that
/// block `request` (as [`RuleSet::decide`] words it).
pub(crate) fn blocked_reason(rule: &Rule, request: &DecisionRequest, blocking: usize) -> Option<Arc<str>> {
    let reasons = blocked_reasons(rule.id()?, rule);
    let reason = reasons.get(reason_slot(request.action, request.actor))?.as_ref()?;
    Some(with_more_rules(reason, blocking))
}

/// The decision for a request no rule blocks, with the reason [`RuleSet::decide`] gives:
/// for hosts whose fast path learnt only that the request is allowed.
pub fn allowed_decision(request: &DecisionRequest) -> Decision {
    let reason = if request.actor == (Actor::User { access_level: AccessLevel::Admin }) {
        reasons::ADMIN
    } else if is_blank(request.target.name()) {
        reasons::BLANK_NAME
    } else {
        reasons::NOT_BLOCKED
    };
    Decision { allowed: true, blocking_rule_ids: Vec::new(), reason: Arc::from(reason) }
}

fn reason_slot(action: Action, actor: Actor) -> usize {
    let action = match action {
        Action::Push => 0,
        Action::Delete => 2,
    };
    action + usize::from(actor == Actor::DeployToken)
}

/// The reasons `rule` gives when it blocks, per [`reason_slot`].
fn blocked_reasons(id: i64, rule: &Rule) -> [Option<Arc<str>>; 4] {
    let mut reasons: [Option<Arc<str>>; 4] = Default::default();
    for action in [Action::Push, Action::Delete] {
        for actor in [Actor::User { access_level: AccessLevel::NoAccess }, Actor::DeployToken] {
            if let Some(slot) = reasons.get_mut(reason_slot(action, actor)) {
                *slot = blocked_text(id, rule, action, actor).map(Arc::from);
            }
        }
    }
    reasons
}

/// Why `rule` blocks `actor` (users by their level, not consulted here) from `action`;
/// `None` for users when the rule has no minimum for the action, so never blocks them.
fn blocked_text(id: i64, rule: &Rule, action: Action, actor: Actor) -> Option<String> {
    let pattern = rule.pattern();
    if actor == Actor::DeployToken {
        let what = match rule.kind() {
            RuleKind::Package => "package",
            RuleKind::ContainerRepository => "container repository",
        };
        return Some(format!("blocked by rule {id} (`{pattern}`): deploy tokens may not {action} a protected {what}"));
    }
    let minimum = rule.minimum_for(action)?;
    Some(format!("blocked by rule {id} (`{pattern}`): {action} needs at least {minimum}"))
}

/// Append `n` in decimal without the formatting machinery (hot path).
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

pub(crate) fn check_storable(index: usize, rule: &Rule) -> Result<i64, RuleSetError> {
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

// Here, below every item `target/pkgprotect.wasm` is built from, rather than beside
// `Invariant`: a line added above them would move the source locations compiled into the
// component's bytes, and the production component must not change for a test-only list.
#[cfg(any(test, feature = "fault-injection"))]
impl Invariant {
    /// Every invariant, so that tests outside this crate (the component's fault build and
    /// the host crate's test of it) break each in turn without a list of their own. A new
    /// variant also needs an arm in [`RuleSet::inject_fault`], whose match has no `_`.
    #[doc(hidden)]
    pub const ALL: [Invariant; 8] = [
        Invariant::MissingBucket,
        Invariant::UnknownRulePosition,
        Invariant::BadSpan,
        Invariant::BadTrieNode,
        Invariant::BadBigramFilter,
        Invariant::NoBlockingRule,
        Invariant::MissingReason,
        Invariant::MissingPypiPattern,
    ];
}

/// The full decision a [`Summary`] stands for, when the summary names every rule that blocks:
/// allowed, or blocked by exactly one rule, found by id in `rules` (the rules the set was
/// compiled from), with the reason [`RuleSet::decide`] gives. `None` when more rules block
/// (only the set knows which) or `rules` holds no rule with that id: ask the set for the
/// full answer then. For hosts whose fast path returns summaries (the component's `decide`),
/// so that only refusals by several rules cross back for an explanation.
pub fn decision_from_summary(request: &DecisionRequest, summary: Summary, rules: &[Rule]) -> Option<Decision> {
    match summary {
        Summary { allowed: true, blocking_rules: 0, first_blocking_rule: None } => Some(allowed_decision(request)),
        Summary { allowed: false, blocking_rules: 1, first_blocking_rule: Some(id) } => {
            let rule = rules.iter().find(|rule| rule.id() == Some(id))?;
            // Only this request's reason: a one-shot's `blocked_reason` words all four.
            let reason = Arc::from(blocked_text(id, rule, request.action, request.actor)?);
            Some(Decision { allowed: false, blocking_rule_ids: vec![id], reason })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Target;
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

    /// Infix walks find every rule wherever its literal sits in a name, with few literals
    /// and with more than the start filter has bits (where hashed pairs collide).
    #[test]
    fn infix_rules_are_found_whatever_their_number() {
        for count in [1usize, 2, 64, 700, 5000] {
            let given: Vec<serde_json::Value> = (0..count)
                .map(|i| {
                    json!({"id": i + 1, "package_name_pattern": format!("*k{i}z*"), "package_type": "npm",
                                "minimum_access_level_for_push": "maintainer"})
                })
                .collect();
            let set = rules(serde_json::Value::Array(given));
            let dev = user(AccessLevel::Developer);
            for i in (0..count).step_by(count.div_ceil(50)) {
                for name in [format!("k{i}z"), format!("a-k{i}z"), format!("k{i}z-b"), format!("xyzk{i}zk{i}z")] {
                    let ids = set.decide(&npm(&name, dev, Action::Push)).unwrap().blocking_rule_ids;
                    assert_eq!(ids, [i as i64 + 1], "{count} literals: `{name}`");
                }
            }
            assert!(set.decide(&npm("kz-none", dev, Action::Push)).unwrap().allowed);
        }
    }

    /// Rules of every shape in every kind of bucket: npm literals and a general pattern,
    /// a generic match-everything rule, a PyPI rule (user-path bucket), container rules.
    fn every_shape() -> RuleSet {
        rules(json!([
            {"id": 1, "package_name_pattern": "exact", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 2, "package_name_pattern": "pre*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 3, "package_name_pattern": "*fix", "package_type": "npm", "minimum_access_level_for_delete": "owner"},
            {"id": 4, "package_name_pattern": "*mid*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
            {"id": 5, "package_name_pattern": "p*x", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 6, "package_name_pattern": "*", "package_type": "generic", "minimum_access_level_for_delete": "owner"},
            {"id": 7, "package_name_pattern": "my_pkg*", "package_type": "pypi", "minimum_access_level_for_push": "maintainer"},
            {"id": 10, "package_name_pattern": "py*_thon", "package_type": "pypi", "minimum_access_level_for_push": "owner"},
            {"id": 8, "repository_path_pattern": "group/project/*", "minimum_access_level_for_push": "maintainer"},
            {"id": 9, "repository_path_pattern": "group/project/exact", "minimum_access_level_for_delete": "owner"},
        ]))
    }

    /// Requests reaching every bucket, shape, actor and action, blocked and allowed.
    fn every_request() -> Vec<DecisionRequest> {
        let names =
            ["exact", "EXACT", "exactly", "pre-mid-fix", "prefix", "midmid", "px", "py-thon", "x", "ab", "unrelated"];
        let actors = [AccessLevel::Developer, AccessLevel::Maintainer, AccessLevel::Owner, AccessLevel::Admin]
            .map(user)
            .into_iter()
            .chain([Actor::DeployToken]);
        let mut targets = Vec::new();
        for name in names {
            for package_type in [PackageType::Npm, PackageType::Generic, PackageType::Pypi] {
                targets.push(Target::Package { name: name.into(), package_type });
            }
            targets.push(Target::Package { name: format!("my-pkg.{name}"), package_type: PackageType::Pypi });
            targets.push(Target::ContainerRepository { path: format!("group/project/{name}") });
        }
        let mut requests = Vec::new();
        for actor in actors {
            for action in [Action::Push, Action::Delete] {
                requests.extend(targets.iter().map(|target| DecisionRequest { target: target.clone(), action, actor }));
            }
        }
        requests
    }

    const INJECTABLE: [Invariant; 7] = [
        Invariant::MissingBucket,
        Invariant::UnknownRulePosition,
        Invariant::BadSpan,
        Invariant::BadTrieNode,
        Invariant::BadBigramFilter,
        Invariant::MissingReason,
        Invariant::MissingPypiPattern,
    ];

    /// A request the intact set blocks and that reaches `invariant` once it is broken.
    fn reaching(invariant: Invariant) -> DecisionRequest {
        match invariant {
            // Only the PyPI user path reads the normalized patterns (rule 10's `py-*-thon`).
            Invariant::MissingPypiPattern => DecisionRequest {
                target: Target::Package { name: "Py.Thon".into(), package_type: PackageType::Pypi },
                action: Action::Push,
                actor: user(AccessLevel::Maintainer),
            },
            // The npm bucket's three tries, rule 1 and its reason.
            _ => npm("exact", user(AccessLevel::Developer), Action::Push),
        }
    }

    #[test]
    fn a_broken_invariant_refuses_and_never_allows() {
        let intact = every_shape();
        for invariant in INJECTABLE {
            let request = reaching(invariant);
            assert!(!intact.decide(&request).unwrap().allowed, "{invariant:?}");
            let mut broken = every_shape();
            assert!(broken.inject_fault(invariant), "{invariant:?}");
            let refused = Err(DecideError::Internal { invariant });
            assert_eq!(broken.decide(&request), refused, "{invariant:?}");
            // Elsewhere the broken set answers as the intact one or refuses, never otherwise.
            for request in every_request() {
                let answer = broken.decide(&request);
                assert!(
                    answer == intact.decide(&request) || answer == refused,
                    "{invariant:?} {request:?}: {answer:?}"
                );
            }
            let batch = broken.decide_batch(&[request, npm("x", user(AccessLevel::Admin), Action::Push)]);
            assert_eq!(batch.first(), Some(&refused), "{invariant:?}: one refusal fails only its own request");
            assert!(batch.get(1).is_some_and(|answer| answer.as_ref().is_ok_and(|d| d.allowed)), "{invariant:?}");
        }
    }

    #[test]
    fn each_fault_is_found_where_it_lies() {
        // Container rules live outside the package buckets.
        let mut set = every_shape();
        set.inject_fault(Invariant::MissingBucket);
        let container = |path: &str| DecisionRequest {
            target: Target::ContainerRepository { path: path.into() },
            action: Action::Push,
            actor: user(AccessLevel::Developer),
        };
        assert_eq!(set.decide(&container("group/project/a")).unwrap().blocking_rule_ids, [8]);
        // A general pattern (`p*x`) and a match-everything rule, with the rules gone.
        let mut set = every_shape();
        set.inject_fault(Invariant::UnknownRulePosition);
        let refused = Err(DecideError::Internal { invariant: Invariant::UnknownRulePosition });
        assert_eq!(set.decide(&npm("zz", user(AccessLevel::Developer), Action::Push)), refused);
        let generic = DecisionRequest {
            target: Target::Package { name: "zz".into(), package_type: PackageType::Generic },
            action: Action::Delete,
            actor: Actor::DeployToken,
        };
        assert_eq!(set.decide(&generic), refused);
        // The bigram filter is only consulted by infix walks.
        let mut set = every_shape();
        set.inject_fault(Invariant::BadBigramFilter);
        assert_eq!(
            set.decide(&container("group/project/a")).unwrap().blocking_rule_ids,
            [8],
            "no infix rule among the containers"
        );
        // Reasons are only needed to block.
        let mut set = every_shape();
        set.inject_fault(Invariant::MissingReason);
        assert!(set.decide(&npm("exact", user(AccessLevel::Maintainer), Action::Push)).unwrap().allowed);
    }

    #[test]
    fn hits_with_no_rule_to_report_refuse() {
        let mut set = every_shape();
        // Not data a set holds: the contract between `decide` and `blocked`, broken by the call.
        assert!(!set.inject_fault(Invariant::NoBlockingRule));
        set.injected.push(Invariant::NoBlockingRule);
        let request = npm("exact", user(AccessLevel::Developer), Action::Push);
        assert_eq!(
            set.blocked(request.action, request.actor, &[]),
            Err(DecideError::Internal { invariant: Invariant::NoBlockingRule })
        );
        // A later position past the rules (injection empties them, so only the first is seen).
        set.injected.push(Invariant::UnknownRulePosition);
        assert_eq!(
            set.blocked(request.action, request.actor, &[0, 99]),
            Err(DecideError::Internal { invariant: Invariant::UnknownRulePosition })
        );
    }

    /// Outside fault injection a broken invariant is a bug: debug builds (these tests, the
    /// fuzz targets) stop at it; release builds refuse.
    #[test]
    #[cfg_attr(
        debug_assertions,
        should_panic(expected = "pkgprotect invariant broken: a trie range lies outside its array")
    )]
    fn a_broken_invariant_nobody_injected_stops_debug_builds() {
        let mut set = every_shape();
        set.inject_fault(Invariant::BadSpan);
        set.injected.clear();
        let answer = set.decide(&npm("exact", user(AccessLevel::Developer), Action::Push));
        assert_eq!(answer, Err(DecideError::Internal { invariant: Invariant::BadSpan }));
    }

    #[test]
    fn internal_errors_say_which_invariant_broke() {
        let error = DecideError::Internal { invariant: Invariant::BadTrieNode };
        assert_eq!(
            error.to_string(),
            "the rule set is inconsistent (a trie edge leads to a node that does not exist); the request is refused"
        );
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
