//! Tokens as GitLab has them: scopes, their own headers, revocation, expiry, blocked users.

use crate::harness::{Backend, PACKAGE_DECISIONS, PACKAGE_RULES, Server, serve_on};
use pkgprotect::permissions::{DeployTokenScope, DeployTokenScopes};
use pkgprotect_server::admin;
use pkgprotect_server::auth::{PersonalScope, PersonalScopes};
use pkgprotect_server::db::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn scopes(names: &[PersonalScope]) -> PersonalScopes {
    names.iter().copied().fold(PersonalScopes::default(), PersonalScopes::with)
}

async fn personal(s: &Server, user: &str, names: &[PersonalScope]) -> String {
    let store = Store::connect(&s.url).await.unwrap();
    let token = admin::issue_token(&store, user, "test", scopes(names), None).await.unwrap().token;
    store.close().await;
    token
}

fn push() -> Value {
    json!({"package_name": "@a/b", "package_type": "npm", "action": "push"})
}

fn npm_rule(pattern: &str) -> Value {
    json!({"package_name_pattern": pattern, "package_type": "npm", "minimum_access_level_for_push": "maintainer"})
}

pub async fn personal_tokens_have_scopes(backend: Backend) {
    let s = Server::start(backend).await;
    let read_api = personal(&s, "maint", &[PersonalScope::ReadApi]).await;
    let decide_only = personal(&s, "maint", &[PersonalScope::Decide]).await;
    let registry_only = personal(&s, "maint", &[PersonalScope::ReadRegistry, PersonalScope::WriteRegistry]).await;
    let read_user = personal(&s, "maint", &[PersonalScope::ReadUser]).await;

    assert_eq!(s.call(Method::GET, PACKAGE_RULES, Some(&read_api), None).await.0, StatusCode::OK);
    let (status, body) = s.call(Method::POST, PACKAGE_RULES, Some(&read_api), Some(npm_rule("@a/*"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"error": "insufficient_scope",
               "error_description": "The request requires higher privileges than provided by the access token.",
               "scope": "api"})
    );
    assert_eq!(s.call(Method::POST, PACKAGE_DECISIONS, Some(&read_api), Some(push())).await.0, StatusCode::OK);

    // The registry's service account: decisions and nothing else.
    let (status, body) = s.call(Method::GET, PACKAGE_RULES, Some(&decide_only), None).await;
    assert_eq!((status, body["scope"].clone()), (StatusCode::FORBIDDEN, json!("api read_api")));
    assert_eq!(s.call(Method::POST, PACKAGE_DECISIONS, Some(&decide_only), Some(push())).await.0, StatusCode::OK);
    assert_eq!(s.call(Method::GET, "/api/v4/user", Some(&decide_only), None).await.0, StatusCode::FORBIDDEN);

    for token in [&registry_only, &read_user] {
        let (status, body) = s.call(Method::POST, PACKAGE_DECISIONS, Some(token), Some(push())).await;
        assert_eq!((status, body["error"].clone()), (StatusCode::FORBIDDEN, json!("insufficient_scope")));
    }
    assert_eq!(s.call(Method::GET, "/api/v4/user", Some(&read_user), None).await.0, StatusCode::OK);
    // The scope is checked before the project is looked up, as GitLab authenticates first.
    let missing = "/api/v4/projects/999/packages/protection/rules";
    assert_eq!(s.call(Method::GET, missing, Some(&decide_only), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.call(Method::GET, missing, Some(&read_api), None).await.0, StatusCode::NOT_FOUND);
    // The answer carries GitLab's challenge.
    let response =
        s.raw().get(format!("{}{PACKAGE_RULES}", s.base)).header("PRIVATE-TOKEN", &decide_only).send().await.unwrap();
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer ") && challenge.contains("error=\"insufficient_scope\""), "{challenge}");
}

pub async fn tokens_are_read_from_their_own_headers_only(backend: Backend) {
    let s = Server::start(backend).await;
    let bearer = format!("Bearer {}", s.deploy);
    let refused = [
        ("Deploy-Token", s.maintainer.as_str()),
        ("JOB-TOKEN", s.maintainer.as_str()),
        ("JOB-TOKEN", s.deploy.as_str()),
        ("PRIVATE-TOKEN", s.deploy.as_str()),
        ("Authorization", bearer.as_str()),
    ];
    for (header, token) in refused {
        let (status, body) =
            s.call_with(&s.base, Method::POST, PACKAGE_DECISIONS, Some((header, token)), Some(push())).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, json!({"message": "401 Unauthorized"})), "{header}");
    }
    for (header, token) in [("PRIVATE-TOKEN", s.maintainer.as_str()), ("Deploy-Token", s.deploy.as_str())] {
        let (status, _) =
            s.call_with(&s.base, Method::POST, PACKAGE_DECISIONS, Some((header, token)), Some(push())).await;
        assert_eq!(status, StatusCode::OK, "{header}");
    }
}

/// The status of a rule listing with `token` on the test's server and on `other`.
async fn status_on_both(s: &Server, other: &str, token: String) -> [StatusCode; 2] {
    let mut statuses = [StatusCode::OK; 2];
    for (base, status) in [s.base.as_str(), other].into_iter().zip(&mut statuses) {
        *status = s.call_with(base, Method::GET, PACKAGE_RULES, Some(("PRIVATE-TOKEN", &token)), None).await.0;
    }
    statuses
}

/// What a second instance sharing the database sees the moment a token stops being valid.
pub async fn revoked_expired_and_blocked_tokens_fail_on_every_instance(backend: Backend) {
    let s = Server::start(backend).await;
    let other = serve_on(&s.url).await;
    let store = Store::connect(&s.url).await.unwrap();
    let in_an_hour = pkgprotect_server::db::unix_now() + 3600;
    let expiring =
        admin::issue_token(&store, "maint", "expiring", scopes(&[PersonalScope::Api]), Some(in_an_hour)).await.unwrap();
    let revoked = admin::issue_token(&store, "maint", "revoked", scopes(&[PersonalScope::Api]), None).await.unwrap();
    let on_both = |token: String| status_on_both(&s, &other, token);
    for token in [&expiring.token, &revoked.token, &s.maintainer] {
        assert_eq!(on_both(token.clone()).await, [StatusCode::OK; 2]);
    }

    admin::revoke_token(&store, revoked.id).await.unwrap();
    assert_eq!(on_both(revoked.token.clone()).await, [StatusCode::UNAUTHORIZED; 2], "revoked");
    assert!(matches!(admin::revoke_token(&store, revoked.id).await, Err(admin::AdminError::NoSuchToken(_))));

    // The hour passes: the stored expiry is moved into the past.
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&s.url).await.unwrap();
    sqlx::query("UPDATE tokens SET expires_at = $1 WHERE id = $2")
        .bind(pkgprotect_server::db::unix_now() - 1)
        .bind(expiring.id)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(on_both(expiring.token.clone()).await, [StatusCode::UNAUTHORIZED; 2], "expired");
    assert_eq!(on_both(s.maintainer.clone()).await, [StatusCode::OK; 2], "other tokens of the user still work");

    // Blocking refuses every token of the user; unblocking gives them back.
    admin::set_blocked(&store, "maint", true).await.unwrap();
    assert_eq!(on_both(s.maintainer.clone()).await, [StatusCode::UNAUTHORIZED; 2], "blocked");
    admin::set_blocked(&store, "maint", false).await.unwrap();
    assert_eq!(on_both(s.maintainer.clone()).await, [StatusCode::OK; 2], "unblocked");

    // A removed member no longer sees the project.
    admin::remove_member(&store, "my-group/my-project", "maint").await.unwrap();
    assert_eq!(on_both(s.maintainer.clone()).await, [StatusCode::NOT_FOUND; 2], "removed member");
    assert!(matches!(
        admin::remove_member(&store, "my-group/my-project", "maint").await,
        Err(admin::AdminError::NotAMember { .. })
    ));
    db.close().await;
    store.close().await;
}

pub async fn deploy_tokens_have_usernames_and_registry_scopes(backend: Backend) {
    let s = Server::start(backend).await;
    let store = Store::connect(&s.url).await.unwrap();
    let issue = |scopes: &'static [DeployTokenScope], username: Option<&'static str>| {
        let store = store.clone();
        async move {
            let scopes = scopes.iter().copied().fold(DeployTokenScopes::default(), DeployTokenScopes::with);
            admin::issue_deploy_token(&store, "my-group/my-project", username.map(Into::into), scopes, None)
                .await
                .unwrap()
        }
    };
    let read_only = issue(&[DeployTokenScope::ReadPackageRegistry], None).await;
    let writer = issue(&[DeployTokenScope::WritePackageRegistry], Some("ci-publisher")).await;
    assert_eq!(read_only.username, format!("gitlab+deploy-token-{}", read_only.id));
    assert_eq!(
        (writer.username.as_str(), writer.scopes.as_slice()),
        ("ci-publisher", &["write_package_registry".to_owned()][..])
    );
    assert!(matches!(
        admin::issue_deploy_token(&store, "my-group/my-project", None, DeployTokenScopes::default(), None).await,
        Err(admin::AdminError::NoScopes)
    ));

    let decide = |token: String, body: Value| {
        let s = &s;
        async move {
            s.call_with(&s.base, Method::POST, PACKAGE_DECISIONS, Some(("Deploy-Token", &token)), Some(body)).await
        }
    };
    let (status, answer) = decide(read_only.token.clone(), push()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (answer["allowed"].clone(), answer["refused_by"].clone(), answer["ability"].clone()),
        (json!(false), json!("base_permission"), json!("create_package"))
    );
    let (_, answer) = decide(writer.token.clone(), push()).await;
    assert_eq!((answer["allowed"].clone(), answer["refused_by"].clone()), (json!(true), Value::Null));
    store.close().await;
}
