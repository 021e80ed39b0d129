//! GitLab-exact package and container repository protection rules: matching, validation,
//! decisions and lint, with no dependency on WebAssembly.
//!
//! Every pkgprotect host (the WebAssembly component, the JS bindings, the REST server)
//! translates to and from this crate; the semantics live here only. They follow GitLab's
//! source as recorded in `shared/spec/protection-semantics.md`: patterns are compared as
//! PostgreSQL evaluates `name ILIKE to_like(pattern)`, rules are validated with GitLab's
//! formats and messages, and a request is blocked by any matching rule whose minimum access
//! level for the action is above the actor's.
//!
//! ```
//! use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, Rule, RuleSet, Target};
//!
//! let rules: Vec<Rule> = serde_json::from_str(r#"[
//!   {"id": 1, "package_name_pattern": "@my-scope/pkg-*", "package_type": "npm",
//!    "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": null}
//! ]"#)?;
//! let rule_set = RuleSet::new(rules)?;
//!
//! let request = DecisionRequest {
//!     target: Target::Package { name: "@My-Scope/pkg-core".into(), package_type: "npm".parse()? },
//!     action: Action::Push,
//!     actor: Actor::User { access_level: AccessLevel::Developer },
//! };
//! let decision = rule_set.decide(&request)?;
//! assert!(!decision.allowed);
//! assert_eq!(decision.blocking_rule_ids, [1]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod access;
mod formats;
pub mod glob;
pub mod lint;
pub mod model;
pub mod names;
mod oneshot;
pub mod params;
pub mod permissions;
pub mod preview;
pub mod preview_pattern;
pub mod ruleset;
pub mod text;
pub mod validate;

pub use access::{AccessLevel, UnknownAccessLevel};
pub use glob::{Glob, MatchError, glob_matches, glob_matches_pypi};
pub use lint::{Finding, FindingKind};
pub use model::{
    Action, Actor, ContainerRepositoryRule, Decision, DecisionRequest, PackageRule, PackageType, Rule, RuleKind,
    Summary, Target, TargetKind, UnknownAction, UnknownPackageType, UnknownRuleKind, Verdict,
};
pub use names::{NameList, OffsetUnit, Preview, PreviewFirst};
pub use oneshot::OneShotError;
pub use params::{ParamsMode, check_rule_params, parse_rule_params, validate_params_json};
pub use preview::{PreviewMatch, preview};
pub use preview_pattern::PreviewPattern;
pub use ruleset::{DecideError, Invariant, RuleSet, RuleSetError, allowed_decision, decision_from_summary};
pub use validate::{Field, Rejection, RejectionStatus, ValidationContext, ValidationError, validate_rule};

/// The crate version, as hosts report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
