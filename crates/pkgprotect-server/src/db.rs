//! Storage: one SQL dialect subset over SQLite (embedded, WAL) and PostgreSQL (shared by
//! many instances), through sqlx's `Any` driver.

use crate::auth::{PersonalScopes, join_scopes, split_scopes};
use pkgprotect::permissions::DeployTokenScopes;
use pkgprotect::{AccessLevel, ContainerRepositoryRule, PackageRule, PackageType, Rule, RuleKind};
use sqlx::any::{AnyPoolOptions, AnyRow, install_default_drivers};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A storage failure. Unique violations are told apart so callers can answer GitLab's 422.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the value is already taken")]
    Duplicate,
    /// A CHECK constraint refused the row: the core's validation let through something the
    /// schema does not allow, so the two disagree.
    #[error("the database refused the rule: {0}")]
    Refused(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory `{path}`: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("no project with id {0}")]
    NoProject(i64),
    #[error("stored {what} `{value}` is not valid; was the database edited by hand?")]
    Corrupt { what: &'static str, value: String },
    #[error("cannot write the rule as JSON for the audit trail: {0}")]
    Entity(#[from] serde_json::Error),
}

impl DbError {
    /// Whether the database could not be reached or is overloaded (connection refused or
    /// lost, no connection free within the pool's wait, SQLite busy past its timeout): a
    /// condition that passes, which a server answers with 503 rather than 500.
    pub fn is_unavailable(&self) -> bool {
        let DbError::Sql(error) = self else { return false };
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // PostgreSQL: connection exceptions (08…), shutdown and start-up (57P01–57P03),
                // too many connections (53300). SQLite: busy and locked, with extended codes.
                code.starts_with("08")
                    || ["57P01", "57P02", "57P03", "53300", "5", "6", "261", "262", "517"].contains(&code.as_ref())
            }),
            _ => false,
        }
    }
}

fn classify(error: sqlx::Error) -> DbError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Duplicate,
        sqlx::Error::Database(db) if db.is_check_violation() => DbError::Refused(db.message().to_owned()),
        _ => DbError::Sql(error),
    }
}

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A project as the API resolves it.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: i64,
    pub full_path: String,
    pub rules_version: i64,
}

/// What one authenticated request needs to know, read together.
#[derive(Debug, Clone)]
pub struct ProjectAndCaller {
    pub project: Project,
    /// `None`: no valid token with that hash.
    pub owner: Option<TokenOwner>,
    pub member_level: Option<AccessLevel>,
}

/// Who a valid token belongs to, and what it may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    User { user_id: i64, is_admin: bool, scopes: PersonalScopes },
    DeployToken { project_id: i64, scopes: DeployTokenScopes },
}

/// What a token is issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewToken {
    Personal {
        user_id: i64,
        scopes: PersonalScopes,
    },
    /// `username: None` names it as GitLab does, `gitlab+deploy-token-<id>`.
    Deploy {
        project_id: i64,
        scopes: DeployTokenScopes,
        username: Option<String>,
    },
}

/// Who changes a rule, as the audit trail records it. Deploy tokens never reach the rule API
/// (401), so only users and this program itself change rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleActor {
    /// A user through the API; their username is read in the write's own transaction.
    User { user_id: i64, is_admin: bool },
    /// No request: this program itself ([`Store::insert_rule`], the demo seed).
    System,
}

/// What a change did, as the audit trail names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuditAction {
    Create,
    Update,
    Delete,
}

impl AuditAction {
    const fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
        }
    }
}

/// One row of the audit trail, as `admin audit` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub project_id: i64,
    pub project: Option<String>,
    /// `package` or `container_repository`.
    pub rule_kind: String,
    pub rule_id: i64,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// `user` or `system`.
    pub actor_kind: String,
    pub actor_user_id: Option<i64>,
    /// The username when the change was made.
    pub actor_username: Option<String>,
    pub actor_is_admin: bool,
    /// The rule's REST entity before the change; `None` for a create.
    pub before: Option<serde_json::Value>,
    /// The rule's REST entity after the change; `None` for a delete.
    pub after: Option<serde_json::Value>,
}

/// A token as `admin token list` shows it (never the token itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// `personal` or `deploy`.
    pub kind: &'static str,
    /// The user (personal tokens) or the deploy token's username.
    pub username: Option<String>,
    /// The project of a deploy token.
    pub project: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The columns a token lookup reads, in this order, after the query's own columns.
const TOKEN_COLUMNS: &str = "t.user_id, t.deploy_project_id, t.expires_at, t.revoked_at, t.scopes, \
                             COALESCE(u.is_admin, 0), u.blocked_at";

/// The owner of a looked-up token, or `None` when it cannot be used: expired, revoked, its
/// user blocked, or its stored scopes unreadable (on doubt, refuse).
fn token_owner_from(row: &AnyRow, first: usize) -> Result<Option<TokenOwner>, DbError> {
    let user_id: Option<i64> = row.try_get(first)?;
    let deploy_project_id: Option<i64> = row.try_get(first + 1)?;
    let expires_at: Option<i64> = row.try_get(first + 2)?;
    let revoked_at: Option<i64> = row.try_get(first + 3)?;
    let scopes: Option<String> = row.try_get(first + 4)?;
    let is_admin: i64 = row.try_get(first + 5)?;
    let blocked_at: Option<i64> = row.try_get(first + 6)?;
    if expires_at.is_some_and(|at| at <= now()) || revoked_at.is_some() || blocked_at.is_some() {
        return Ok(None);
    }
    let scopes = scopes.unwrap_or_default();
    Ok(match (user_id, deploy_project_id) {
        (Some(user_id), None) => PersonalScopes::from_names(split_scopes(&scopes))
            .ok()
            .map(|scopes| TokenOwner::User { user_id, is_admin: is_admin != 0, scopes }),
        (None, Some(project_id)) => DeployTokenScopes::from_names(split_scopes(&scopes))
            .ok()
            .map(|scopes| TokenOwner::DeployToken { project_id, scopes }),
        // Neither or both: not a token this server issued.
        _ => None,
    })
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    pub backend: Backend,
}

/// The SQLite URL for the database file in `data_dir`, creating the directory.
pub fn sqlite_url(data_dir: &Path) -> Result<String, DbError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|source| DbError::DataDir { path: data_dir.display().to_string(), source })?;
    Ok(format!("sqlite://{}?mode=rwc", data_dir.join("pkgprotect.sqlite3").display()))
}

/// Seconds since the Unix epoch, as tokens' times are stored.
pub fn unix_now() -> i64 {
    now()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A project reference that is all ASCII digits is an id, as GitLab's `find_project` reads it
/// (`/^\d+$/`); anything else (`+1`, ` 1`, `-1`) is a path.
fn numeric_id(reference: &str) -> Option<i64> {
    if reference.is_empty() || !reference.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    reference.parse().ok()
}

fn level_from_db(value: Option<i64>) -> Result<Option<AccessLevel>, DbError> {
    value
        .map(|v| {
            u8::try_from(v)
                .ok()
                .and_then(AccessLevel::from_value)
                .ok_or(DbError::Corrupt { what: "access level", value: v.to_string() })
        })
        .transpose()
}

fn level_to_db(level: Option<AccessLevel>) -> Option<i64> {
    level.map(|l| i64::from(l.value()))
}

impl Store {
    /// Connect and bring the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        // A request waits at most this long for a connection: past it the database counts as
        // unavailable (503), well before the request's own 30 s deadline.
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(5));
        let pool = match backend {
            // WAL lets readers run while a write commits; `busy_timeout` queues writers instead
            // of failing them; foreign keys are off by default in SQLite.
            Backend::Sqlite => {
                options
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.connect(url).await?,
        };
        let store = Store { pool, backend };
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&store.pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&store.pool).await?,
        }
        Ok(store)
    }

    /// One round trip to the database (readiness checks).
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    pub async fn is_empty(&self) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT COUNT(*) FROM projects").fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>(0)? == 0)
    }

    pub async fn create_project(&self, full_path: &str) -> Result<i64, DbError> {
        let row = sqlx::query("INSERT INTO projects (full_path, full_path_lower) VALUES ($1, $2) RETURNING id")
            .bind(full_path)
            .bind(full_path.to_lowercase())
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.try_get(0)?)
    }

    pub async fn create_user(&self, username: &str, is_admin: bool) -> Result<i64, DbError> {
        let row = sqlx::query("INSERT INTO users (username, is_admin) VALUES ($1, $2) RETURNING id")
            .bind(username)
            .bind(i64::from(is_admin))
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.try_get(0)?)
    }

    pub async fn user_id(&self, username: &str) -> Result<Option<i64>, DbError> {
        let row =
            sqlx::query("SELECT id FROM users WHERE username = $1").bind(username).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Add or change a membership.
    pub async fn set_member(&self, project_id: i64, user_id: i64, level: AccessLevel) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM members WHERE project_id = $1 AND user_id = $2")
            .bind(project_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO members (project_id, user_id, access_level) VALUES ($1, $2, $3)")
            .bind(project_id)
            .bind(user_id)
            .bind(i64::from(level.value()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Store a token's hash (never the token); its id and, for a deploy token, its username.
    pub async fn insert_token(
        &self,
        sha256: &str,
        name: &str,
        token: &NewToken,
        expires_at: Option<i64>,
    ) -> Result<(i64, Option<String>), DbError> {
        let (user_id, project_id, scopes) = match token {
            NewToken::Personal { user_id, scopes } => (Some(*user_id), None, join_scopes(scopes.iter())),
            NewToken::Deploy { project_id, scopes, .. } => (None, Some(*project_id), join_scopes(scopes.iter())),
        };
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO tokens (token_sha256, name, user_id, deploy_project_id, created_at, expires_at, scopes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(sha256)
        .bind(name)
        .bind(user_id)
        .bind(project_id)
        .bind(now())
        .bind(expires_at)
        .bind(scopes)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        let id: i64 = row.try_get(0)?;
        let username = match token {
            NewToken::Personal { .. } => None,
            NewToken::Deploy { username, .. } => {
                let username = username.clone().unwrap_or_else(|| format!("gitlab+deploy-token-{id}"));
                sqlx::query("UPDATE tokens SET username = $1 WHERE id = $2")
                    .bind(&username)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Some(username)
            }
        };
        tx.commit().await?;
        Ok((id, username))
    }

    /// The owner of a usable token with this hash.
    pub async fn token_owner(&self, sha256: &str) -> Result<Option<TokenOwner>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1"
        ))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        row.map_or(Ok(None), |row| token_owner_from(&row, 0))
    }

    /// A usable token's owner and the username it acts as (the user's, or the deploy token's
    /// `gitlab+deploy-token-<id>`): what the registry token service authenticates.
    pub async fn registry_login(&self, sha256: &str) -> Result<Option<(TokenOwner, String)>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS}, COALESCE(u.username, t.username) \
             FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $1"
        ))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let username: Option<String> = row.try_get(7)?;
        Ok(token_owner_from(&row, 0)?.zip(username))
    }

    /// The project whose full path is the longest of `candidates` (case-insensitively, as
    /// GitLab routes): the project a container repository path belongs to.
    pub async fn project_for_repository(&self, candidates: &[&str]) -> Result<Option<Project>, DbError> {
        let candidates: Vec<String> =
            candidates.iter().filter(|c| !c.is_empty() && !c.contains('\0')).map(|c| c.to_lowercase()).collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let placeholders: Vec<String> = (1..=candidates.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT id, full_path, rules_version FROM projects WHERE full_path_lower IN ({}) \
             ORDER BY LENGTH(full_path_lower) DESC LIMIT 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for candidate in &candidates {
            query = query.bind(candidate.as_str());
        }
        let row = query.fetch_optional(&self.pool).await?;
        row.map(|r| Ok(Project { id: r.try_get(0)?, full_path: r.try_get(1)?, rules_version: r.try_get(2)? }))
            .transpose()
    }

    /// The registry token signing key and its certificate (PEM), on PostgreSQL.
    pub async fn registry_key(&self) -> Result<Option<(String, String)>, DbError> {
        let row = sqlx::query("SELECT private_key_pem, certificate_pem FROM registry_signing_keys WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Store the signing key unless one is stored already: concurrent first starts each try,
    /// the primary key lets one win, and every instance then reads that one.
    pub async fn insert_registry_key(&self, private_key_pem: &str, certificate_pem: &str) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO registry_signing_keys (id, private_key_pem, certificate_pem, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(private_key_pem)
        .bind(certificate_pem)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revoke a token by id: every instance refuses it from its next request on (each
    /// request reads the token's row). `false` when no such token or it was revoked already.
    pub async fn revoke_token(&self, id: i64) -> Result<bool, DbError> {
        let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every token, oldest first; only those of `username` when given.
    pub async fn tokens(&self, username: Option<&str>) -> Result<Vec<TokenInfo>, DbError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.user_id, COALESCE(u.username, t.username), p.full_path, t.scopes, \
                    t.created_at, t.expires_at, t.revoked_at \
             FROM tokens t LEFT JOIN users u ON u.id = t.user_id LEFT JOIN projects p ON p.id = t.deploy_project_id \
             WHERE CAST($1 AS TEXT) IS NULL OR u.username = $1 OR t.username = $1 ORDER BY t.id",
        )
        .bind(username)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let user_id: Option<i64> = row.try_get(2)?;
                let scopes: String = row.try_get(5)?;
                Ok(TokenInfo {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    kind: if user_id.is_some() { "personal" } else { "deploy" },
                    username: row.try_get(3)?,
                    project: row.try_get(4)?,
                    scopes: split_scopes(&scopes).map(str::to_owned).collect(),
                    created_at: row.try_get(6)?,
                    expires_at: row.try_get(7)?,
                    revoked_at: row.try_get(8)?,
                })
            })
            .collect()
    }

    /// Block (or unblock) a user: a blocked user's tokens are refused. `false`: no such user.
    pub async fn set_blocked(&self, username: &str, blocked: bool) -> Result<bool, DbError> {
        let done = sqlx::query("UPDATE users SET blocked_at = $1 WHERE username = $2")
            .bind(blocked.then(now))
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Remove a membership. `false` when the user was not a member.
    pub async fn remove_member(&self, project_id: i64, user_id: i64) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM members WHERE project_id = $1 AND user_id = $2")
            .bind(project_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A project by numeric id or full path (case-insensitive, as GitLab routes).
    pub async fn find_project(&self, reference: &str) -> Result<Option<Project>, DbError> {
        // PostgreSQL text cannot hold NUL; no project path contains one.
        if reference.contains('\0') {
            return Ok(None);
        }
        let row = match numeric_id(reference) {
            Some(id) => {
                sqlx::query("SELECT id, full_path, rules_version FROM projects WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT id, full_path, rules_version FROM projects WHERE full_path_lower = $1")
                    .bind(reference.to_lowercase())
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        row.map(|r| Ok(Project { id: r.try_get(0)?, full_path: r.try_get(1)?, rules_version: r.try_get(2)? }))
            .transpose()
    }

    /// The project `reference` names, the token's owner and their membership, in one query:
    /// the per-request work of every authenticated call. `None` when no such project.
    pub async fn project_and_caller(&self, reference: &str, sha256: &str) -> Result<Option<ProjectAndCaller>, DbError> {
        if reference.contains('\0') {
            return Ok(None);
        }
        let select = format!(
            "SELECT p.id, p.full_path, p.rules_version, m.access_level, {TOKEN_COLUMNS} \
                      FROM projects p \
                      LEFT JOIN tokens t ON t.token_sha256 = $1 \
                      LEFT JOIN users u ON u.id = t.user_id \
                      LEFT JOIN members m ON m.project_id = p.id AND m.user_id = t.user_id "
        );
        let row = match numeric_id(reference) {
            Some(id) => {
                sqlx::query(&format!("{select} WHERE p.id = $2"))
                    .bind(sha256)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                sqlx::query(&format!("{select} WHERE p.full_path_lower = $2"))
                    .bind(sha256)
                    .bind(reference.to_lowercase())
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        let project = Project { id: row.try_get(0)?, full_path: row.try_get(1)?, rules_version: row.try_get(2)? };
        let member_level = level_from_db(row.try_get(3)?)?;
        let owner = token_owner_from(&row, 4)?;
        Ok(Some(ProjectAndCaller { project, owner, member_level }))
    }

    pub async fn member_level(&self, project_id: i64, user_id: i64) -> Result<Option<AccessLevel>, DbError> {
        let row = sqlx::query("SELECT access_level FROM members WHERE project_id = $1 AND user_id = $2")
            .bind(project_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        level_from_db(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn rules_version(&self, project_id: i64) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT rules_version FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// The project's rules of `kind`, in id order (GitLab's list order).
    pub async fn rules(&self, project_id: i64, kind: RuleKind) -> Result<Vec<Rule>, DbError> {
        read_rules(&self.pool, project_id, kind).await
    }

    /// Start a write to `project_id`'s rules, waiting until no other write to them is under
    /// way; `None` when there is no such project. Nothing is stored unless it is committed.
    pub async fn begin_rule_write(&self, project_id: i64, actor: RuleActor) -> Result<Option<RuleWrite>, DbError> {
        let mut tx = match self.backend {
            // Takes SQLite's write lock at once (queued by `busy_timeout`), so every read in the
            // transaction already sees the last committed write and no other write can commit
            // before this one. A deferred `BEGIN` would read an older snapshot, and its first
            // write fail (SQLITE_BUSY) if another write had committed since.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // Named, not inherited from the server's default: the lock below is enough only
            // because each statement after it reads what was committed before it was granted.
            // Under REPEATABLE READ a write that waited for the lock would fail to serialize.
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?,
        };
        // Every rule write bumps the project's `rules_version`, which decision caches compare.
        // Done first, the bump is also PostgreSQL's lock: the UPDATE holds the project row's
        // lock until commit, so writes to one project's rules run one after another.
        let bumped = sqlx::query("UPDATE projects SET rules_version = rules_version + 1 WHERE id = $1")
            .bind(project_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if bumped == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(RuleWrite { tx, project_id, actor }))
    }

    /// Insert a rule (its `id` is ignored) in a write of its own, recorded as the system's;
    /// returns the new id.
    pub async fn insert_rule(&self, project_id: i64, rule: &Rule) -> Result<i64, DbError> {
        let mut write =
            self.begin_rule_write(project_id, RuleActor::System).await?.ok_or(DbError::NoProject(project_id))?;
        let id = write.insert(rule).await?;
        write.commit().await?;
        Ok(id)
    }

    /// The audit trail, newest first: at most `limit` entries, of `project_id` when given.
    pub async fn audit(&self, project_id: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
        let rows = sqlx::query(
            "SELECT a.id, a.at, a.project_id, p.full_path, a.rule_kind, a.rule_id, a.action, a.actor_kind, \
                    a.actor_user_id, a.actor_username, a.actor_is_admin, a.before, a.after \
             FROM rule_audit a LEFT JOIN projects p ON p.id = a.project_id \
             WHERE CAST($1 AS BIGINT) IS NULL OR a.project_id = $1 ORDER BY a.id DESC LIMIT $2",
        )
        .bind(project_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let json = |text: Option<String>| {
            text.map(|text| {
                serde_json::from_str(&text).map_err(|_| DbError::Corrupt { what: "audit entity", value: text })
            })
            .transpose()
        };
        rows.iter()
            .map(|row| {
                let is_admin: i64 = row.try_get(10)?;
                Ok(AuditEntry {
                    id: row.try_get(0)?,
                    at: row.try_get(1)?,
                    project_id: row.try_get(2)?,
                    project: row.try_get(3)?,
                    rule_kind: row.try_get(4)?,
                    rule_id: row.try_get(5)?,
                    action: row.try_get(6)?,
                    actor_kind: row.try_get(7)?,
                    actor_user_id: row.try_get(8)?,
                    actor_username: row.try_get(9)?,
                    actor_is_admin: is_admin != 0,
                    before: json(row.try_get(11)?)?,
                    after: json(row.try_get(12)?)?,
                })
            })
            .collect()
    }

    /// Copy the SQLite database into a new file at `path` while the server may be running:
    /// `VACUUM INTO` reads one snapshot, so the copy is consistent however many writes commit
    /// meanwhile, and SQLite itself refuses a `path` that already holds data.
    pub async fn vacuum_into(&self, path: &str) -> Result<(), DbError> {
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The project's rules of `kind`, read through `executor` (the pool, or a write's transaction).
async fn read_rules<'e, E>(executor: E, project_id: i64, kind: RuleKind) -> Result<Vec<Rule>, DbError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = match kind {
        RuleKind::Package => {
            "SELECT id, package_name_pattern, package_type, minimum_access_level_for_push, minimum_access_level_for_delete \
             FROM package_protection_rules WHERE project_id = $1 ORDER BY id"
        }
        RuleKind::ContainerRepository => {
            "SELECT id, repository_path_pattern, '', minimum_access_level_for_push, minimum_access_level_for_delete \
             FROM container_repository_protection_rules WHERE project_id = $1 ORDER BY id"
        }
    };
    let rows = sqlx::query(sql).bind(project_id).fetch_all(executor).await?;
    rows.iter().map(|row| rule_from_row(row, project_id, kind)).collect()
}

/// A rule from the columns `id, pattern, package type ('' for containers), push, delete`.
fn rule_from_row(row: &AnyRow, project_id: i64, kind: RuleKind) -> Result<Rule, DbError> {
    let id: i64 = row.try_get(0)?;
    let pattern: String = row.try_get(1)?;
    let push = level_from_db(row.try_get(3)?)?;
    let delete = level_from_db(row.try_get(4)?)?;
    Ok(match kind {
        RuleKind::Package => {
            let type_name: String = row.try_get(2)?;
            let package_type = type_name
                .parse::<PackageType>()
                .map_err(|_| DbError::Corrupt { what: "package type", value: type_name })?;
            Rule::Package(PackageRule {
                id: Some(id),
                project_id: Some(project_id),
                package_name_pattern: pattern,
                package_type,
                minimum_access_level_for_push: push,
                minimum_access_level_for_delete: delete,
            })
        }
        RuleKind::ContainerRepository => Rule::ContainerRepository(ContainerRepositoryRule {
            id: Some(id),
            project_id: Some(project_id),
            repository_path_pattern: pattern,
            minimum_access_level_for_push: push,
            minimum_access_level_for_delete: delete,
        }),
    })
}

/// `rule` with its id and project, as the API's entity shows it.
fn with_ids(rule: &Rule, id: i64, project_id: i64) -> Rule {
    let mut rule = rule.clone();
    set_ids(&mut rule, id, project_id);
    rule
}

/// Give `rule` its id and project, as the API's entity shows them.
pub fn set_ids(rule: &mut Rule, id: i64, project_id: i64) {
    match rule {
        Rule::Package(r) => {
            r.id = Some(id);
            r.project_id = Some(project_id);
        }
        Rule::ContainerRepository(r) => {
            r.id = Some(id);
            r.project_id = Some(project_id);
        }
    }
}

/// One write to a project's rules: a transaction in which no other write to them runs (see
/// [`Store::begin_rule_write`]), so the rules it reads — the one it changes, the ones a new
/// pattern must not collide with — stay as read until it commits. Dropped without
/// [`RuleWrite::commit`], it stores nothing.
pub struct RuleWrite {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    project_id: i64,
    actor: RuleActor,
}

impl std::fmt::Debug for RuleWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleWrite")
            .field("project_id", &self.project_id)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// A value for one column of a rule.
enum Column<'a> {
    Text(&'a str),
    Level(Option<i64>),
    Millis(i64),
}

impl RuleWrite {
    /// The project's rules of `kind` as they are now, in id order.
    pub async fn rules(&mut self, kind: RuleKind) -> Result<Vec<Rule>, DbError> {
        read_rules(&mut *self.tx, self.project_id, kind).await
    }

    /// Insert `rule` (its `id` is ignored); returns the new id.
    pub async fn insert(&mut self, rule: &Rule) -> Result<i64, DbError> {
        let push = level_to_db(rule.minimum_access_level_for_push());
        let delete = level_to_db(rule.minimum_access_level_for_delete());
        let query = match rule {
            Rule::Package(r) => sqlx::query(
                "INSERT INTO package_protection_rules (project_id, package_name_pattern, package_type, \
                 minimum_access_level_for_push, minimum_access_level_for_delete, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(self.project_id)
            .bind(&r.package_name_pattern)
            .bind(r.package_type.as_str()),
            Rule::ContainerRepository(r) => sqlx::query(
                "INSERT INTO container_repository_protection_rules (project_id, repository_path_pattern, \
                 minimum_access_level_for_push, minimum_access_level_for_delete, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(self.project_id)
            .bind(&r.repository_path_pattern),
        };
        let row = query.bind(push).bind(delete).bind(now_ms()).fetch_one(&mut *self.tx).await.map_err(classify)?;
        let id: i64 = row.try_get(0)?;
        let created = with_ids(rule, id, self.project_id);
        self.record(AuditAction::Create, rule.kind(), id, None, Some(&created)).await?;
        Ok(id)
    }

    /// Change rule `id` from `stored` (as read in this write) to `changed`, writing only the
    /// columns that differ, so a column this change did not touch is never written back.
    /// False when the project has no such rule.
    /// The change is recorded in the audit trail, also when it changes nothing (the caller
    /// still answers 200 for it).
    pub async fn update(&mut self, id: i64, stored: &Rule, changed: &Rule) -> Result<bool, DbError> {
        let found = self.update_columns(id, stored, changed).await?;
        if found {
            let before = with_ids(stored, id, self.project_id);
            let after = with_ids(changed, id, self.project_id);
            self.record(AuditAction::Update, changed.kind(), id, Some(&before), Some(&after)).await?;
        }
        Ok(found)
    }

    async fn update_columns(&mut self, id: i64, stored: &Rule, changed: &Rule) -> Result<bool, DbError> {
        let (table, pattern_column) = match changed.kind() {
            RuleKind::Package => ("package_protection_rules", "package_name_pattern"),
            RuleKind::ContainerRepository => ("container_repository_protection_rules", "repository_path_pattern"),
        };
        let mut columns = Vec::new();
        if changed.pattern() != stored.pattern() {
            columns.push((pattern_column, Column::Text(changed.pattern())));
        }
        if let Some(package_type) = changed.package_type().filter(|&t| Some(t) != stored.package_type()) {
            columns.push(("package_type", Column::Text(package_type.as_str())));
        }
        for (column, now, before) in [
            (
                "minimum_access_level_for_push",
                changed.minimum_access_level_for_push(),
                stored.minimum_access_level_for_push(),
            ),
            (
                "minimum_access_level_for_delete",
                changed.minimum_access_level_for_delete(),
                stored.minimum_access_level_for_delete(),
            ),
        ] {
            if now != before {
                columns.push((column, Column::Level(level_to_db(now))));
            }
        }
        if columns.is_empty() {
            // Nothing to write; the rule still has to exist for the caller's 200.
            let sql = format!("SELECT id FROM {table} WHERE id = $1 AND project_id = $2");
            let found = sqlx::query(&sql).bind(id).bind(self.project_id).fetch_optional(&mut *self.tx).await?;
            return Ok(found.is_some());
        }
        columns.push(("updated_at_ms", Column::Millis(now_ms())));
        let assignments: Vec<String> =
            columns.iter().enumerate().map(|(at, (column, _))| format!("{column} = ${}", at + 1)).collect();
        let sql = format!(
            "UPDATE {table} SET {} WHERE id = ${} AND project_id = ${}",
            assignments.join(", "),
            columns.len() + 1,
            columns.len() + 2
        );
        let mut query = sqlx::query(&sql);
        for (_, value) in &columns {
            query = match value {
                Column::Text(text) => query.bind(*text),
                Column::Level(level) => query.bind(*level),
                Column::Millis(millis) => query.bind(*millis),
            };
        }
        let updated =
            query.bind(id).bind(self.project_id).execute(&mut *self.tx).await.map_err(classify)?.rows_affected();
        Ok(updated == 1)
    }

    /// When rule `id` of `kind` last changed (milliseconds since the epoch; `Some(None)` for a
    /// rule stored before this was recorded); `None` when the project has no such rule.
    pub async fn updated_at_ms(&mut self, kind: RuleKind, id: i64) -> Result<Option<Option<i64>>, DbError> {
        let sql = match kind {
            RuleKind::Package => "SELECT updated_at_ms FROM package_protection_rules WHERE id = $1 AND project_id = $2",
            RuleKind::ContainerRepository => {
                "SELECT updated_at_ms FROM container_repository_protection_rules WHERE id = $1 AND project_id = $2"
            }
        };
        let row = sqlx::query(sql).bind(id).bind(self.project_id).fetch_optional(&mut *self.tx).await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// Delete rule `id` of `kind`; false when the project has no such rule.
    pub async fn delete(&mut self, kind: RuleKind, id: i64) -> Result<bool, DbError> {
        // The deleted row comes back, for the audit trail's `before`, from the statement that
        // deletes it: no second read that could disagree with it.
        let sql = match kind {
            RuleKind::Package => {
                "DELETE FROM package_protection_rules WHERE id = $1 AND project_id = $2 \
                 RETURNING id, package_name_pattern, package_type, minimum_access_level_for_push, \
                 minimum_access_level_for_delete"
            }
            RuleKind::ContainerRepository => {
                "DELETE FROM container_repository_protection_rules WHERE id = $1 AND project_id = $2 \
                 RETURNING id, repository_path_pattern, '', minimum_access_level_for_push, \
                 minimum_access_level_for_delete"
            }
        };
        let row = sqlx::query(sql).bind(id).bind(self.project_id).fetch_optional(&mut *self.tx).await?;
        let Some(row) = row else { return Ok(false) };
        let deleted = rule_from_row(&row, self.project_id, kind)?;
        self.record(AuditAction::Delete, kind, id, Some(&deleted), None).await?;
        Ok(true)
    }

    /// Append this change to the audit trail, in this write's transaction: the record commits
    /// or rolls back with the change it records.
    async fn record(
        &mut self,
        action: AuditAction,
        kind: RuleKind,
        rule_id: i64,
        before: Option<&Rule>,
        after: Option<&Rule>,
    ) -> Result<(), DbError> {
        let before = before.map(serde_json::to_string).transpose()?;
        let after = after.map(serde_json::to_string).transpose()?;
        let (actor_kind, user_id, is_admin) = match self.actor {
            RuleActor::User { user_id, is_admin } => ("user", Some(user_id), is_admin),
            RuleActor::System => ("system", None, false),
        };
        sqlx::query(
            "INSERT INTO rule_audit (at, project_id, rule_kind, rule_id, action, actor_kind, actor_user_id, \
             actor_username, actor_is_admin, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT username FROM users WHERE id = $7), $8, $9, $10)",
        )
        .bind(now())
        .bind(self.project_id)
        .bind(kind.as_str())
        .bind(rule_id)
        .bind(action.as_str())
        .bind(actor_kind)
        .bind(user_id)
        .bind(i64::from(is_admin))
        .bind(before)
        .bind(after)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Store everything this write did, with the bumped `rules_version`.
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await.map_err(classify)
    }

    /// Store nothing, and end the transaction now, so that the next write to the project's
    /// rules goes ahead before this refusal is answered rather than whenever the pool next
    /// touches the connection.
    pub async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }
}
