//! Administration without a GitLab: projects, users, memberships and tokens, and the demo seed.

use crate::auth::{PersonalScope, PersonalScopes, new_token, token_hash};
use crate::db::{AuditEntry, Backend, DbError, NewToken, Store, TokenInfo};
use pkgprotect::permissions::DeployTokenScopes;
use pkgprotect::{AccessLevel, Rule};
use serde::Serialize;

/// An administration step failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Db(DbError),
    #[error("{what} `{name}` already exists")]
    Exists { what: &'static str, name: String },
    #[error("no {what} `{name}`")]
    Missing { what: &'static str, name: String },
    #[error(
        "`{0}` is not a membership level: members are guest, planner, reporter, developer, maintainer or owner (instance administrators are users created with --admin)"
    )]
    NotAMembershipLevel(AccessLevel),
    #[error(
        "`{0}` is not a valid project path: expected `group/project` (or `group/subgroup/project`), each part as GitLab allows a path"
    )]
    BadPath(String),
    #[error(
        "`{0}` is not a valid username: letters, digits, `_`, `-` and `.`, not starting with `-` nor ending with `.`, `.git` or `.atom`, no two special characters in a row, at most 255 characters"
    )]
    BadUsername(String),
    #[error(
        "`{0}` is not a valid deploy token username: lowercase letters, digits, `_`, `-`, `+` and `.`, at most 255 characters"
    )]
    BadDeployTokenUsername(String),
    #[error("the operating system gave no randomness for a token: {0}")]
    Randomness(String),
    #[error("demo rule rejected: {0}")]
    DemoRule(String),
    #[error("a token needs at least one scope")]
    NoScopes,
    #[error("the expiry `{0}` is not in the future")]
    ExpiryPassed(String),
    #[error("no token with id `{0}`, or it is revoked already")]
    NoSuchToken(i64),
    #[error("`{user}` is not a member of `{project}`")]
    NotAMember { project: String, user: String },
    #[error("`{0}` already exists; a backup never overwrites a file")]
    BackupExists(String),
    #[error("the backup path `{0}` is not valid UTF-8")]
    BackupPath(String),
    #[error("cannot write the backup `{path}`: {source}")]
    BackupFailed { path: String, source: DbError },
    #[error(
        "`admin backup` copies SQLite databases only; back up a PostgreSQL database with `pg_dump` (e.g. `pg_dump --format=custom --file=pkgprotect.dump DBNAME`)"
    )]
    BackupNeedsPgDump,
}

impl From<DbError> for AdminError {
    fn from(error: DbError) -> Self {
        AdminError::Db(error)
    }
}

fn exists(what: &'static str, name: &str) -> impl FnOnce(DbError) -> AdminError {
    let name = name.to_owned();
    move |error| match error {
        DbError::Duplicate => AdminError::Exists { what, name },
        other => AdminError::Db(other),
    }
}

/// One part of a GitLab path, or a username: GitLab's namespace path rules
/// (`Gitlab::PathRegex.namespace_format_regex` and the namespace validator): `[A-Za-z0-9_.-]`,
/// 1 to 255 characters, starting with a letter, digit, `_` or `.` and ending with a letter,
/// digit, `_` or `-`, not ending in `.git` or `.atom`, and no two of `.`, `_`, `-` in a row
/// (which also rules out `.` and `..`).
pub fn valid_path_part(part: &str) -> bool {
    let special = |c: char| matches!(c, '.' | '_' | '-');
    let allowed = |c: char| c.is_ascii_alphanumeric() || special(c);
    let (Some(first), Some(last)) = (part.chars().next(), part.chars().last()) else { return false };
    part.len() <= 255
        && part.chars().all(allowed)
        && first != '-'
        && last != '.'
        && !part.ends_with(".git")
        && !part.ends_with(".atom")
        && !part.as_bytes().windows(2).any(|pair| pair.iter().all(|&b| special(char::from(b))))
}

pub async fn create_project(store: &Store, full_path: &str) -> Result<i64, AdminError> {
    let valid = full_path.split('/').count() >= 2 && full_path.split('/').all(valid_path_part);
    if !valid {
        return Err(AdminError::BadPath(full_path.to_owned()));
    }
    store.create_project(full_path).await.map_err(exists("project", full_path))
}

pub async fn create_user(store: &Store, username: &str, is_admin: bool) -> Result<i64, AdminError> {
    if !valid_path_part(username) {
        return Err(AdminError::BadUsername(username.to_owned()));
    }
    store.create_user(username, is_admin).await.map_err(exists("user", username))
}

/// GitLab's `DeployToken` username format: `\A[a-z0-9.+_-]+\z`, at most 255 characters.
fn valid_deploy_token_username(username: &str) -> bool {
    !username.is_empty()
        && username.len() <= 255
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".+_-".contains(&b))
}

pub async fn add_member(store: &Store, project: &str, username: &str, level: AccessLevel) -> Result<(), AdminError> {
    if !level.is_membership() {
        return Err(AdminError::NotAMembershipLevel(level));
    }
    let project_id = project_id(store, project).await?;
    let user_id = user_id(store, username).await?;
    store.set_member(project_id, user_id, level).await?;
    Ok(())
}

async fn project_id(store: &Store, project: &str) -> Result<i64, AdminError> {
    Ok(store
        .find_project(project)
        .await?
        .ok_or_else(|| AdminError::Missing { what: "project", name: project.into() })?
        .id)
}

/// A token just issued: the only time the token itself is visible.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub id: i64,
    pub token: String,
    /// The user, or the deploy token's username (`gitlab+deploy-token-<id>` by default).
    pub username: String,
    pub scopes: Vec<String>,
    /// Unix seconds; `None`: never expires.
    pub expires_at: Option<i64>,
}

/// When a token expires, as unix seconds, checked to lie in the future; `shown` is how the
/// caller wrote it, for the error.
pub fn check_expiry(expires_at: Option<(i64, String)>) -> Result<Option<i64>, AdminError> {
    match expires_at {
        Some((at, shown)) if at <= crate::db::unix_now() => Err(AdminError::ExpiryPassed(shown)),
        other => Ok(other.map(|(at, _)| at)),
    }
}

/// A personal access token for `username` with `scopes`.
pub async fn issue_token(
    store: &Store,
    username: &str,
    name: &str,
    scopes: PersonalScopes,
    expires_at: Option<i64>,
) -> Result<IssuedToken, AdminError> {
    if scopes == PersonalScopes::default() {
        return Err(AdminError::NoScopes);
    }
    let user_id = user_id(store, username).await?;
    let token = new_token("glpat-").map_err(|e| AdminError::Randomness(e.to_string()))?;
    let spec = NewToken::Personal { user_id, scopes };
    let (id, _) = store.insert_token(&token_hash(&token), name, &spec, expires_at).await?;
    let scopes = scopes.iter().map(|scope| scope.as_str().to_owned()).collect();
    Ok(IssuedToken { id, token, username: username.to_owned(), scopes, expires_at })
}

/// A personal access token with the `api` scope that never expires.
pub async fn create_token(store: &Store, username: &str) -> Result<String, AdminError> {
    let scopes = PersonalScopes::default().with(PersonalScope::Api);
    Ok(issue_token(store, username, username, scopes, None).await?.token)
}

/// A deploy token for `project` with `scopes`, named `username` or as GitLab names them.
pub async fn issue_deploy_token(
    store: &Store,
    project: &str,
    username: Option<String>,
    scopes: DeployTokenScopes,
    expires_at: Option<i64>,
) -> Result<IssuedToken, AdminError> {
    if scopes == DeployTokenScopes::default() {
        return Err(AdminError::NoScopes);
    }
    if let Some(name) = username.as_deref().filter(|name| !valid_deploy_token_username(name)) {
        return Err(AdminError::BadDeployTokenUsername(name.to_owned()));
    }
    let project_id = project_id(store, project).await?;
    let token = new_token("gldt-").map_err(|e| AdminError::Randomness(e.to_string()))?;
    let spec = NewToken::Deploy { project_id, scopes, username };
    let (id, username) = store.insert_token(&token_hash(&token), "deploy-token", &spec, expires_at).await?;
    let scopes = scopes.iter().map(|scope| scope.as_str().to_owned()).collect();
    Ok(IssuedToken { id, token, username: username.unwrap_or_default(), scopes, expires_at })
}

/// A deploy token for `project` with every registry scope that never expires.
pub async fn create_deploy_token(store: &Store, project: &str) -> Result<String, AdminError> {
    Ok(issue_deploy_token(store, project, None, DeployTokenScopes::ALL, None).await?.token)
}

/// Revoke a personal or deploy token by id.
pub async fn revoke_token(store: &Store, id: i64) -> Result<(), AdminError> {
    if store.revoke_token(id).await? { Ok(()) } else { Err(AdminError::NoSuchToken(id)) }
}

/// Every token (of `username` when given), never the tokens themselves.
pub async fn list_tokens(store: &Store, username: Option<&str>) -> Result<Vec<TokenInfo>, AdminError> {
    Ok(store.tokens(username).await?)
}

/// The audit trail of rule changes, newest first: at most `limit` entries, of `project` (path
/// or id) when given.
pub async fn audit(store: &Store, project: Option<&str>, limit: u32) -> Result<Vec<AuditEntry>, AdminError> {
    let project_id = match project {
        Some(project) => Some(project_id(store, project).await?),
        None => None,
    };
    Ok(store.audit(project_id, i64::from(limit)).await?)
}

/// An online backup of the SQLite database into the new file `path`, consistent while the
/// server runs and writes. Never overwrites a file; PostgreSQL has `pg_dump` for this.
pub async fn backup(store: &Store, path: &std::path::Path) -> Result<(), AdminError> {
    let shown = path.display().to_string();
    if store.backend == Backend::Postgres {
        return Err(AdminError::BackupNeedsPgDump);
    }
    // SQLite refuses a non-empty file itself; this also refuses an empty one, a directory and
    // a dangling symlink, with a message naming the path.
    if path.symlink_metadata().is_ok() {
        return Err(AdminError::BackupExists(shown));
    }
    let text = path.to_str().ok_or_else(|| AdminError::BackupPath(shown.clone()))?;
    store.vacuum_into(text).await.map_err(|source| AdminError::BackupFailed { path: shown, source })
}

/// Take a user's membership of a project away.
pub async fn remove_member(store: &Store, project: &str, username: &str) -> Result<(), AdminError> {
    let project_id = project_id(store, project).await?;
    let user_id = user_id(store, username).await?;
    if store.remove_member(project_id, user_id).await? {
        Ok(())
    } else {
        Err(AdminError::NotAMember { project: project.into(), user: username.into() })
    }
}

/// Block or unblock a user: a blocked user's tokens get 401 everywhere.
pub async fn set_blocked(store: &Store, username: &str, blocked: bool) -> Result<(), AdminError> {
    if store.set_blocked(username, blocked).await? {
        Ok(())
    } else {
        Err(AdminError::Missing { what: "user", name: username.into() })
    }
}

async fn user_id(store: &Store, username: &str) -> Result<i64, AdminError> {
    store.user_id(username).await?.ok_or_else(|| AdminError::Missing { what: "user", name: username.into() })
}

/// What `serve --demo` created, to print once.
#[derive(Debug, Serialize)]
pub struct Demo {
    pub project: String,
    pub project_id: i64,
    pub maintainer_token: String,
    pub developer_token: String,
    pub deploy_token: String,
}

pub const DEMO_PROJECT: &str = "demo-group/demo-project";

/// The demo project, users, tokens and rules. Only call on an empty database.
pub async fn seed_demo(store: &Store) -> Result<Demo, AdminError> {
    let project_id = create_project(store, DEMO_PROJECT).await?;
    create_user(store, "maintainer", false).await?;
    create_user(store, "developer", false).await?;
    add_member(store, DEMO_PROJECT, "maintainer", AccessLevel::Maintainer).await?;
    add_member(store, DEMO_PROJECT, "developer", AccessLevel::Developer).await?;
    let rules: Vec<Rule> = serde_json::from_str(include_str!("../../../examples/demo/rules.json"))
        .map_err(|e| AdminError::DemoRule(e.to_string()))?;
    for mut rule in rules {
        match &mut rule {
            Rule::Package(r) => r.id = None,
            Rule::ContainerRepository(r) => r.id = None,
        }
        store.insert_rule(project_id, &rule).await?;
    }
    Ok(Demo {
        project: DEMO_PROJECT.into(),
        project_id,
        maintainer_token: create_token(store, "maintainer").await?,
        developer_token: create_token(store, "developer").await?,
        deploy_token: create_deploy_token(store, DEMO_PROJECT).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_as_gitlab_allows_them() {
        for good in ["g", "my-group", "my_project", "v1.2", "_x", ".hidden", "a-", "A9", &"a".repeat(255)] {
            assert!(valid_path_part(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "-a",
            "a.",
            "a..b",
            "a-_b",
            "x.git",
            "x.atom",
            "a b",
            "tökén",
            "a/b",
            "a'b",
            "🦀",
            &"a".repeat(256),
        ] {
            assert!(!valid_path_part(bad), "{bad}");
        }
    }

    #[test]
    fn deploy_token_usernames_as_gitlab_allows_them() {
        assert!(valid_deploy_token_username("gitlab+deploy-token-7"));
        assert!(valid_deploy_token_username("ci.publisher_1"));
        for bad in ["", "CI", "a b", "a/b", "é", &"a".repeat(256)] {
            assert!(!valid_deploy_token_username(bad), "{bad}");
        }
    }
}
