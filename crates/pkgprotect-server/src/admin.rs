//! Administration without a GitLab: projects, users, memberships and tokens, and the demo seed.

use crate::auth::{new_token, token_hash};
use crate::db::{DbError, Store, TokenOwner};
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
    #[error("`{0}` is not a valid project path (expected `group/project`)")]
    BadPath(String),
    #[error("the operating system gave no randomness for a token: {0}")]
    Randomness(String),
    #[error("demo rule rejected: {0}")]
    DemoRule(String),
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

pub async fn create_project(store: &Store, full_path: &str) -> Result<i64, AdminError> {
    let valid = full_path.split('/').count() >= 2
        && full_path
            .split('/')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    if !valid {
        return Err(AdminError::BadPath(full_path.to_owned()));
    }
    store.create_project(full_path).await.map_err(exists("project", full_path))
}

pub async fn create_user(store: &Store, username: &str, is_admin: bool) -> Result<i64, AdminError> {
    store.create_user(username, is_admin).await.map_err(exists("user", username))
}

pub async fn add_member(store: &Store, project: &str, username: &str, level: AccessLevel) -> Result<(), AdminError> {
    if !level.is_membership() {
        return Err(AdminError::NotAMembershipLevel(level));
    }
    let project_id = project_id(store, project).await?;
    let user_id =
        store.user_id(username).await?.ok_or_else(|| AdminError::Missing { what: "user", name: username.into() })?;
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

/// A new personal access token for `username`; the only time the token is visible.
pub async fn create_token(store: &Store, username: &str) -> Result<String, AdminError> {
    let user_id =
        store.user_id(username).await?.ok_or_else(|| AdminError::Missing { what: "user", name: username.into() })?;
    let token = new_token("glpat-").map_err(|e| AdminError::Randomness(e.to_string()))?;
    store.insert_token(&token_hash(&token), username, TokenOwner::User { user_id, is_admin: false }).await?;
    Ok(token)
}

/// A new deploy token for `project`; the only time the token is visible.
pub async fn create_deploy_token(store: &Store, project: &str) -> Result<String, AdminError> {
    let project_id = project_id(store, project).await?;
    let token = new_token("gldt-").map_err(|e| AdminError::Randomness(e.to_string()))?;
    store.insert_token(&token_hash(&token), "deploy-token", TokenOwner::DeployToken { project_id }).await?;
    Ok(token)
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
