//! GitLab access levels (`Gitlab::Access`), with their numbers and REST names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A GitLab role, ordered by its numeric level.
///
/// The REST API speaks the lowercase names (`"maintainer"`); the database stores the numbers.
/// `Admin` (60) is only reachable as a rule minimum or as an instance administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    NoAccess,
    MinimalAccess,
    Guest,
    Planner,
    Reporter,
    Developer,
    Maintainer,
    Owner,
    Admin,
}

impl AccessLevel {
    /// Every level, lowest first.
    pub const ALL: [AccessLevel; 9] = [
        AccessLevel::NoAccess,
        AccessLevel::MinimalAccess,
        AccessLevel::Guest,
        AccessLevel::Planner,
        AccessLevel::Reporter,
        AccessLevel::Developer,
        AccessLevel::Maintainer,
        AccessLevel::Owner,
        AccessLevel::Admin,
    ];

    /// Whether a project membership can have this level: guest to owner. Administration is
    /// an instance-wide user flag in GitLab, never a membership.
    pub fn is_membership(self) -> bool {
        (AccessLevel::Guest..=AccessLevel::Owner).contains(&self)
    }

    /// GitLab's integer for this level (`Gitlab::Access`).
    pub const fn value(self) -> u8 {
        match self {
            AccessLevel::NoAccess => 0,
            AccessLevel::MinimalAccess => 5,
            AccessLevel::Guest => 10,
            AccessLevel::Planner => 15,
            AccessLevel::Reporter => 20,
            AccessLevel::Developer => 30,
            AccessLevel::Maintainer => 40,
            AccessLevel::Owner => 50,
            AccessLevel::Admin => 60,
        }
    }

    /// The level with GitLab's integer `value`, if there is one.
    pub fn from_value(value: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.value() == value)
    }

    /// The lowercase REST name (`"maintainer"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AccessLevel::NoAccess => "no_access",
            AccessLevel::MinimalAccess => "minimal_access",
            AccessLevel::Guest => "guest",
            AccessLevel::Planner => "planner",
            AccessLevel::Reporter => "reporter",
            AccessLevel::Developer => "developer",
            AccessLevel::Maintainer => "maintainer",
            AccessLevel::Owner => "owner",
            AccessLevel::Admin => "admin",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not one of GitLab's lowercase access level names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown access level `{0}` (expected one of: no_access, minimal_access, guest, planner, reporter, developer, maintainer, owner, admin)"
)]
pub struct UnknownAccessLevel(pub String);

impl FromStr for AccessLevel {
    type Err = UnknownAccessLevel;

    /// Exact, case-sensitive names, as GitLab's API validates them (`Maintainer` is rejected).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|level| level.as_str() == s).ok_or_else(|| UnknownAccessLevel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::AccessLevel;

    #[test]
    fn memberships_are_guest_to_owner() {
        let members: Vec<&str> =
            AccessLevel::ALL.into_iter().filter(|level| level.is_membership()).map(AccessLevel::as_str).collect();
        assert_eq!(members, ["guest", "planner", "reporter", "developer", "maintainer", "owner"]);
    }
}
