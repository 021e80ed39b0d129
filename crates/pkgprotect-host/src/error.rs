//! What can go wrong, as data: the host's own failures keep wasmtime's error chain as their
//! `source`, and the component's refusals arrive as the WIT contract types them.

use pkgprotect::{AccessLevel, Field};
use std::path::PathBuf;
use std::time::Duration;

/// A call through the component failed. Hosts must treat every variant as *refused* when
/// it answers a decision.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    #[error("cannot read component `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot compile the component")]
    Compile(#[source] wasmtime::Error),
    #[error("the component implements contract `{found}`, this host needs `{expected}`")]
    ContractMismatch { found: String, expected: &'static str },
    #[error("cannot instantiate the component")]
    Instantiate(#[source] wasmtime::Error),
    #[error("the component exceeded its time limit of {0:?}")]
    Timeout(Duration),
    #[error("the component trapped")]
    Trap(#[source] wasmtime::Error),
    /// An earlier call on this instance trapped; its state cannot be trusted. Make a new one.
    #[error("the component instance is unusable after an earlier trap")]
    InstanceUnusable,
    /// The handle names a rule set of another instance, or one already dropped.
    #[error("the rule set handle does not belong to this instance")]
    ForeignRuleSet,
    #[error(transparent)]
    RulesRefused(CompileError),
    #[error(transparent)]
    CannotDecide(DecideError),
}

/// A rule list the component refused to compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    pub cause: CompileCause,
    /// The core's sentence for people; never parsed.
    pub message: String,
}

/// Why a rule list cannot be compiled: it could not have come from GitLab's database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompileCause {
    /// The rule at `position` (0-based) has no id.
    MissingId {
        position: u32,
    },
    DuplicateId {
        id: i64,
    },
    TooManyRules,
    LevelNotAllowed {
        rule_id: i64,
        field: Field,
        level: AccessLevel,
    },
    BlankPattern {
        rule_id: i64,
        field: Field,
    },
    PatternTooLong {
        rule_id: i64,
        field: Field,
        chars: u32,
    },
    /// GitLab JSON rules that are not JSON, or not of GitLab's shape (1-based position).
    InvalidJson {
        line: u32,
        column: u32,
    },
}

/// A decision the component could not make: refuse the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecideError {
    pub cause: DecideCause,
    /// The core's sentence for people; never parsed.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecideCause {
    /// GitLab's query cannot evaluate rule `rule_id` against the name (its pattern ends with
    /// a lone `\` and matching reached it); GitLab fails the request too.
    Unevaluable { rule_id: i64, pattern: String },
    /// The engine found its compiled rules inconsistent (a bug, not the input's fault).
    Internal,
}
