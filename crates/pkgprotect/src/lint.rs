//! Advice on a rule set: what GitLab accepts but a maintainer most likely did not mean.

use crate::access::AccessLevel;
use crate::glob::{Glob, Unit};
use crate::model::{Action, PackageType, Rule, RuleKind};
use serde::{Deserialize, Serialize};

/// What a [`Finding`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Two rules with the very same pattern (GitLab only refuses exact duplicates on create).
    DuplicatePattern,
    /// Two rules whose patterns match exactly the same names (`Foo*` and `foo**`).
    EquivalentPatterns,
    /// Every name a rule matches is matched by another rule with minimums at least as high,
    /// so the rule never changes a decision.
    SubsumedRule,
    /// The rule restricts no user: it has no minimum for push nor for delete.
    RestrictsNothing,
    /// The pattern ends with a lone `\`: it never matches, and GitLab's query fails for names
    /// that reach it.
    TrailingEscape,
    /// A `\` in the pattern does something other than escape the next character as typed.
    SurprisingEscape,
    /// `%` or `?` look like wildcards but are literal in GitLab patterns.
    LiteralWildcardLookalike,
    /// A PyPI pattern whose `-`, `_`, `.` match each other for users but not for deploy tokens.
    PypiSeparators,
}

/// One piece of advice, naming the rules it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub rule_ids: Vec<i64>,
    pub message: String,
}

/// Pairwise subsumption costs O(rules² · pattern²); above this many rules of one kind and
/// package type only exact equivalences are reported.
const PAIRWISE_LIMIT: usize = 600;

/// Rules can only overlap within one kind and package type.
type BucketKey = (RuleKind, Option<PackageType>);

struct Linted<'r> {
    id: i64,
    rule: &'r Rule,
    units: Option<Vec<Unit>>,
}

/// Lint `rules` (id, rule), reporting findings in rule order.
pub(crate) fn lint_rules(rules: &[(i64, &Rule)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for &(id, rule) in rules {
        single_rule_findings(id, rule, &mut findings);
    }
    let mut buckets: Vec<(BucketKey, Vec<Linted<'_>>)> = Vec::new();
    for &(id, rule) in rules {
        let key = (rule.kind(), rule.package_type());
        let linted = Linted { id, rule, units: Glob::new(rule.pattern()).units().map(canonical) };
        match buckets.iter_mut().find(|(k, _)| *k == key) {
            Some((_, bucket)) => bucket.push(linted),
            None => buckets.push((key, vec![linted])),
        }
    }
    for (_, bucket) in &buckets {
        pair_findings(bucket, &mut findings);
    }
    findings
}

fn single_rule_findings(id: i64, rule: &Rule, findings: &mut Vec<Finding>) {
    let pattern = rule.pattern();
    let mut add = |kind, message: String| findings.push(Finding { kind, rule_ids: vec![id], message });
    if rule.minimum_access_level_for_push().is_none() && rule.minimum_access_level_for_delete().is_none() {
        add(
            FindingKind::RestrictsNothing,
            format!(
                "rule {id} (`{pattern}`) has no minimum for push or delete: it restricts no user, only deploy tokens"
            ),
        );
    }
    if Glob::new(pattern).has_trailing_escape() {
        add(
            FindingKind::TrailingEscape,
            format!(
                "rule {id} (`{pattern}`) ends with a lone `\\`: it never matches, and GitLab's query fails (HTTP 500) for names that reach it"
            ),
        );
    }
    if let Some(explanation) = first_surprising_escape(pattern) {
        add(FindingKind::SurprisingEscape, format!("rule {id} (`{pattern}`): {explanation}"));
    }
    if let Some(c) = pattern.chars().find(|c| matches!(c, '%' | '?')) {
        add(
            FindingKind::LiteralWildcardLookalike,
            format!("rule {id} (`{pattern}`): `{c}` is a literal character in GitLab patterns; only `*` is a wildcard"),
        );
    }
    if rule.package_type() == Some(PackageType::Pypi) && pattern.contains(['_', '.']) || pattern_has_separator_run(rule)
    {
        add(
            FindingKind::PypiSeparators,
            format!(
                "rule {id} (`{pattern}`): for users GitLab treats runs of `-`, `_` and `.` in PyPI names as one `-`, so this rule also protects the other spellings; deploy tokens are compared literally"
            ),
        );
    }
}

fn pattern_has_separator_run(rule: &Rule) -> bool {
    rule.package_type() == Some(PackageType::Pypi)
        && rule.pattern().as_bytes().windows(2).any(|w| w.iter().all(|b| matches!(b, b'-' | b'_' | b'.')))
}

/// Explain the first backslash escape whose effect differs from "the next character, literally".
fn first_surprising_escape(pattern: &str) -> Option<String> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            continue;
        }
        return Some(match chars.next() {
            None => return None,
            Some('*') => {
                "`\\*` matches a literal `%`, not `*` (GitLab turns `*` into `%` before the backslash applies)".into()
            }
            Some('%') => "`\\%` matches a `\\` followed by any text, because GitLab escapes the `%` itself".into(),
            Some('_') => {
                "`\\_` matches a `\\` followed by any one character, because GitLab escapes the `_` itself".into()
            }
            Some('\\') => continue,
            Some(other) => format!("`\\{other}` matches `{other}`: the backslash is dropped, not matched"),
        });
    }
    None
}

/// Collapse each run of wildcards to its `_`s followed by at most one `%`, which matches
/// the same names; equal canonical forms mean equal patterns.
fn canonical(units: Vec<Unit>) -> Vec<Unit> {
    let mut out = Vec::with_capacity(units.len());
    let mut ones = 0usize;
    let mut run = false;
    let flush = |out: &mut Vec<Unit>, ones: &mut usize, run: &mut bool| {
        out.extend(std::iter::repeat_n(Unit::One, *ones));
        if *run {
            out.push(Unit::Run);
        }
        *ones = 0;
        *run = false;
    };
    for unit in units {
        match unit {
            Unit::One => ones += 1,
            Unit::Run => run = true,
            Unit::Char(_) => {
                flush(&mut out, &mut ones, &mut run);
                out.push(unit);
            }
        }
    }
    flush(&mut out, &mut ones, &mut run);
    out
}

/// Whether pattern `a` matches every name pattern `b` matches (a sufficient test: `b`'s
/// wildcards must be covered by `a`'s wildcards), in O(|a|·|b|).
fn covers(a: &[Unit], b: &[Unit]) -> bool {
    let n = b.len();
    // row[j] = does a[i..] cover b[j..], computed for i from m down to 0.
    let mut next = vec![false; n + 1];
    if let Some(last) = next.last_mut() {
        *last = true;
    }
    let mut row = vec![false; n + 1];
    for &unit in a.iter().rev() {
        for j in (0..=n).rev() {
            let rest_of_b = b.get(j).copied();
            let next_here = next.get(j).copied().unwrap_or(false);
            let next_after = next.get(j + 1).copied().unwrap_or(false);
            let row_after = row.get(j + 1).copied().unwrap_or(false);
            let value = match (unit, rest_of_b) {
                (Unit::Run, _) => next_here || (rest_of_b.is_some() && row_after),
                (Unit::One, Some(Unit::Char(_) | Unit::One)) => next_after,
                (Unit::Char(x), Some(Unit::Char(y))) => x == y && next_after,
                _ => false,
            };
            if let Some(slot) = row.get_mut(j) {
                *slot = value;
            }
        }
        std::mem::swap(&mut row, &mut next);
    }
    next.first().copied().unwrap_or(false)
}

fn level_rank(level: Option<AccessLevel>) -> u8 {
    level.map_or(0, AccessLevel::value)
}

fn at_least_as_strict(a: &Rule, b: &Rule) -> bool {
    [Action::Push, Action::Delete]
        .iter()
        .all(|&action| level_rank(a.minimum_for(action)) >= level_rank(b.minimum_for(action)))
}

fn pair_findings(bucket: &[Linted<'_>], findings: &mut Vec<Finding>) {
    let pairwise = bucket.len() <= PAIRWISE_LIMIT;
    let mut subsumed: Vec<bool> = vec![false; bucket.len()];
    for (i, a) in bucket.iter().enumerate() {
        let Some(a_units) = &a.units else { continue };
        for (j, b) in bucket.iter().enumerate().skip(i + 1) {
            let Some(b_units) = &b.units else { continue };
            let (pa, pb) = (a.rule.pattern(), b.rule.pattern());
            if a_units == b_units {
                let (kind, what) = if pa == pb {
                    (FindingKind::DuplicatePattern, "have the same pattern")
                } else {
                    (FindingKind::EquivalentPatterns, "match exactly the same names")
                };
                findings.push(Finding {
                    kind,
                    rule_ids: vec![a.id, b.id],
                    message: format!(
                        "rules {} (`{pa}`) and {} (`{pb}`) {what}; the stricter minimums apply, so one rule can go",
                        a.id, b.id
                    ),
                });
                continue;
            }
            if !pairwise {
                continue;
            }
            for (outer, inner, outer_units, inner_units, inner_index) in
                [(a, b, a_units, b_units, j), (b, a, b_units, a_units, i)]
            {
                let already = subsumed.get(inner_index).copied().unwrap_or(true);
                if !already && at_least_as_strict(outer.rule, inner.rule) && covers(outer_units, inner_units) {
                    if let Some(flag) = subsumed.get_mut(inner_index) {
                        *flag = true;
                    }
                    findings.push(Finding {
                        kind: FindingKind::SubsumedRule,
                        rule_ids: vec![inner.id, outer.id],
                        message: format!(
                            "rule {} (`{}`) never changes a decision: rule {} (`{}`) matches every name it matches, with minimums at least as high",
                            inner.id,
                            inner.rule.pattern(),
                            outer.id,
                            outer.rule.pattern()
                        ),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;
    use serde_json::json;

    fn kinds(value: serde_json::Value) -> Vec<FindingKind> {
        let set = RuleSet::new(serde_json::from_value::<Vec<Rule>>(value).unwrap()).unwrap();
        set.lint().into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn finds_equivalent_and_subsumed_rules() {
        let found = kinds(json!([
            {"id": 1, "package_name_pattern": "@s/*", "package_type": "npm", "minimum_access_level_for_push": "owner"},
            {"id": 2, "package_name_pattern": "@S/**", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 3, "package_name_pattern": "@s/core-*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 4, "package_name_pattern": "@s/core-*", "package_type": "maven", "minimum_access_level_for_push": "maintainer"},
        ]));
        assert_eq!(found, [FindingKind::EquivalentPatterns, FindingKind::SubsumedRule]);
    }

    #[test]
    fn stricter_narrow_rule_is_not_subsumed() {
        let found = kinds(json!([
            {"id": 1, "package_name_pattern": "*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"},
            {"id": 2, "package_name_pattern": "core", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        ]));
        assert!(found.is_empty());
    }

    #[test]
    fn flags_surprising_characters() {
        let found = kinds(json!([
            {"id": 1, "package_name_pattern": "a\\*", "package_type": "generic", "minimum_access_level_for_push": "owner"},
            {"id": 2, "package_name_pattern": "b%", "package_type": "generic", "minimum_access_level_for_push": "owner"},
            {"id": 3, "package_name_pattern": "c\\", "package_type": "generic", "minimum_access_level_for_push": "owner"},
            {"id": 4, "package_name_pattern": "my_pkg", "package_type": "pypi", "minimum_access_level_for_push": "owner"},
        ]));
        assert_eq!(
            found,
            [
                FindingKind::SurprisingEscape,
                FindingKind::LiteralWildcardLookalike,
                FindingKind::TrailingEscape,
                FindingKind::PypiSeparators
            ]
        );
    }

    #[test]
    fn covers_handles_wildcards() {
        let u = |p: &str| canonical(Glob::new(p).units().unwrap());
        assert!(covers(&u("a*"), &u("ab*c")));
        assert!(!covers(&u("ab*c"), &u("a*")));
        assert!(covers(&u("*"), &u("x")));
        assert!(covers(&u("a*"), &u("a")));
        assert!(!covers(&u("a_"), &u("a")));
    }
}
