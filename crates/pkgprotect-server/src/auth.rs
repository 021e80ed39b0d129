//! Tokens: generated from the OS's randomness, shown once, stored only as SHA-256.

use sha2::{Digest, Sha256};

/// The SHA-256 of a token, in hex: what the database stores and looks up. Lookup by an
/// unpredictable hash leaks nothing usable through timing, so no secret is ever compared
/// byte by byte against attacker input.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A fresh token with GitLab's prefixes (`glpat-` personal, `gldt-` deploy) and 160 random bits.
pub fn new_token(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// A personal access token's scope, by GitLab's name. Scopes a token was not given are
/// refused with 403 `insufficient_scope` before anything else is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalScope {
    /// Everything the API offers: rules read and written, decisions.
    Api,
    /// Reads: rule lists, decisions, the current user.
    ReadApi,
    /// `GET /api/v4/user` only.
    ReadUser,
    /// Decisions only: for the service account a registry asks with (this server's own scope).
    Decide,
    /// Registry pulls through the token service (`/jwt/auth`).
    ReadRegistry,
    /// Registry pushes through the token service (`/jwt/auth`).
    WriteRegistry,
}

impl PersonalScope {
    pub const ALL: [PersonalScope; 6] = [
        PersonalScope::Api,
        PersonalScope::ReadApi,
        PersonalScope::ReadUser,
        PersonalScope::Decide,
        PersonalScope::ReadRegistry,
        PersonalScope::WriteRegistry,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PersonalScope::Api => "api",
            PersonalScope::ReadApi => "read_api",
            PersonalScope::ReadUser => "read_user",
            PersonalScope::Decide => "decide",
            PersonalScope::ReadRegistry => "read_registry",
            PersonalScope::WriteRegistry => "write_registry",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl std::fmt::Display for PersonalScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not a personal access token scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a personal access token scope: expected api, read_api, read_user, decide, read_registry or write_registry"
)]
pub struct UnknownPersonalScope(pub String);

impl std::str::FromStr for PersonalScope {
    type Err = UnknownPersonalScope;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        PersonalScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == name)
            .ok_or_else(|| UnknownPersonalScope(name.to_owned()))
    }
}

/// The scopes a personal access token holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PersonalScopes(u8);

impl PersonalScopes {
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, UnknownPersonalScope> {
        names.into_iter().try_fold(PersonalScopes::default(), |scopes, name| Ok(scopes.with(name.parse()?)))
    }

    pub const fn with(self, scope: PersonalScope) -> Self {
        PersonalScopes(self.0 | scope.bit())
    }

    pub const fn has(self, scope: PersonalScope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether any of `scopes` is held.
    pub fn any(self, scopes: &[PersonalScope]) -> bool {
        scopes.iter().any(|&scope| self.has(scope))
    }

    pub fn iter(self) -> impl Iterator<Item = PersonalScope> {
        PersonalScope::ALL.into_iter().filter(move |&scope| self.has(scope))
    }
}

/// Scope names as the database stores them: comma-separated, in canonical order.
pub fn join_scopes<T: std::fmt::Display>(scopes: impl Iterator<Item = T>) -> String {
    scopes.map(|scope| scope.to_string()).collect::<Vec<_>>().join(",")
}

/// The names in a stored scope list.
pub fn split_scopes(stored: &str) -> impl Iterator<Item = &str> {
    stored.split(',').filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn tokens_are_random_and_prefixed() {
        let (a, b) = (new_token("glpat-").unwrap(), new_token("glpat-").unwrap());
        assert!(a.starts_with("glpat-") && a.len() == 46);
        assert_ne!(a, b);
    }

    #[test]
    fn personal_scopes_round_trip_through_storage() {
        let scopes = PersonalScopes::from_names(["read_api", "decide"]).unwrap();
        assert!(scopes.has(PersonalScope::Decide) && !scopes.has(PersonalScope::Api));
        assert_eq!(join_scopes(scopes.iter()), "read_api,decide");
        assert_eq!(PersonalScopes::from_names(split_scopes("read_api,decide")), Ok(scopes));
        assert_eq!(PersonalScopes::from_names(split_scopes("")), Ok(PersonalScopes::default()));
        let error = PersonalScopes::from_names(["sudo"]).unwrap_err();
        assert!(error.to_string().starts_with("`sudo` is not a personal access token scope"));
    }
}
