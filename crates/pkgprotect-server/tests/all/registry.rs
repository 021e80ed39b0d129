//! The registry token service (`GET /jwt/auth`, spec §7): grants per role and token kind,
//! protected pushes refused, delete dropped, administrators never blocked, credentials, the
//! JWT verified with the certificate written for the registry, one key per database.

use crate::harness::{Backend, CONTAINER_RULES, Server, policy};
use base64::Engine as _;
use pkgprotect::AccessLevel;
use pkgprotect::permissions::{DeployTokenScope, DeployTokenScopes};
use pkgprotect_server::admin;
use pkgprotect_server::auth::{PersonalScope, PersonalScopes};
use pkgprotect_server::db::Store;
use pkgprotect_server::engine::{ComponentEngine, RuleSetCache};
use pkgprotect_server::registry::{
    CERTIFICATE_FILE, Claims, KEY_FILE, RegistryAuthConfig, TokenIssuer, load_or_create_key,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn data_dir() -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("pkgprotect-registry-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// An instance with the token service on `url`, its key and certificate in `dir`.
async fn serve_registry(url: &str, dir: &Path) -> String {
    let store = Store::connect(url).await.unwrap();
    let key = load_or_create_key(&store, dir).await.unwrap();
    let issuer = Arc::new(TokenIssuer::new(RegistryAuthConfig::new(dir.to_owned()), key));
    let cache = RuleSetCache::new(Arc::new(ComponentEngine::new(policy().clone())));
    let app = pkgprotect_server::app_with_registry(store, cache, None, Some(issuer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct Registry {
    s: Server,
    base: String,
    dir: PathBuf,
}

impl Registry {
    async fn start(backend: Backend) -> Registry {
        let s = Server::start(backend).await;
        let dir = data_dir();
        let base = serve_registry(&s.url, &dir).await;
        Registry { s, base, dir }
    }

    async fn store(&self) -> Store {
        Store::connect(&self.s.url).await.unwrap()
    }

    /// `(status, body, WWW-Authenticate)` for `/jwt/auth` with these scopes and credentials.
    async fn auth(&self, login: Option<(&str, &str)>, scopes: &[&str]) -> (StatusCode, Value, Option<String>) {
        auth_on(&self.base, login, "container_registry", scopes).await
    }

    /// The `access` claim granted, after checking the token verifies with the certificate.
    async fn access(&self, login: Option<(&str, &str)>, scopes: &[&str]) -> Value {
        let (status, body, _) = self.auth(login, scopes).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let claims = verify(body["token"].as_str().unwrap(), &self.dir);
        serde_json::to_value(claims.access).unwrap()
    }
}

async fn auth_on(
    base: &str,
    login: Option<(&str, &str)>,
    service: &str,
    scopes: &[&str],
) -> (StatusCode, Value, Option<String>) {
    let mut query: Vec<(&str, &str)> = vec![("service", service)];
    query.extend(scopes.iter().map(|scope| ("scope", *scope)));
    let mut request = reqwest::Client::new().get(format!("{base}/jwt/auth")).query(&query);
    if let Some((user, password)) = login {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response.headers().get("www-authenticate").map(|value| value.to_str().unwrap().to_owned());
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (status, body, challenge)
}

/// The RSA public key in a certificate: its SubjectPublicKeyInfo, found by the fixed prefix a
/// 2048-bit RSA key's has, and then read by the `rsa` crate.
fn public_key_of(certificate_pem: &str) -> jsonwebtoken::DecodingKey {
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let body: String = certificate_pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    let prefix = [0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let at = der.windows(prefix.len()).position(|window| window == prefix).expect("an RSA 2048 key in the certificate");
    let key = rsa::RsaPublicKey::from_public_key_der(&der[at..at + 0x126]).unwrap();
    jsonwebtoken::DecodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes())
}

/// The claims of `token`, verified (RS256, issuer, audience, expiry) with the certificate in
/// `<dir>/registry-auth.crt`, which must also be the token's `x5c`.
fn verify(token: &str, dir: &Path) -> Claims {
    let certificate = std::fs::read_to_string(dir.join(CERTIFICATE_FILE)).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let body: String = certificate.lines().filter(|line| !line.starts_with("-----")).collect();
    assert_eq!(header.x5c.unwrap(), vec![body], "x5c is the certificate the registry trusts");
    assert!(header.kid.is_some());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["container_registry"]);
    validation.set_issuer(&["gitlab-issuer"]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
    jsonwebtoken::decode::<Claims>(token, &public_key_of(&certificate), &validation).unwrap().claims
}

fn personal_scopes(names: &[PersonalScope]) -> PersonalScopes {
    names.iter().copied().fold(PersonalScopes::default(), PersonalScopes::with)
}

async fn token_for(store: &Store, user: &str, names: &[PersonalScope]) -> String {
    admin::issue_token(store, user, "registry", personal_scopes(names), None).await.unwrap().token
}

const APP: &str = "repository:my-group/my-project/app:pull,push,delete";

pub async fn registry_tokens_grant_per_role_and_token_kind(backend: Backend) {
    let r = Registry::start(backend).await;
    let store = r.store().await;
    admin::create_user(&store, "rep", false).await.unwrap();
    admin::add_member(&store, "my-group/my-project", "rep", AccessLevel::Reporter).await.unwrap();
    let reporter = admin::create_token(&store, "rep").await.unwrap();
    let read_only = token_for(&store, "dev", &[PersonalScope::ReadRegistry]).await;
    let write_only = token_for(&store, "dev", &[PersonalScope::WriteRegistry]).await;
    let both = token_for(&store, "maint", &[PersonalScope::ReadRegistry, PersonalScope::WriteRegistry]).await;
    let read_api = token_for(&store, "maint", &[PersonalScope::ReadApi]).await;
    let read_deploy = admin::issue_deploy_token(
        &store,
        "my-group/my-project",
        None,
        DeployTokenScopes::default().with(DeployTokenScope::ReadRegistry),
        None,
    )
    .await
    .unwrap();
    let package_deploy = admin::issue_deploy_token(
        &store,
        "my-group/my-project",
        None,
        DeployTokenScopes::default().with(DeployTokenScope::ReadPackageRegistry),
        None,
    )
    .await
    .unwrap();
    let all_deploy =
        admin::issue_deploy_token(&store, "my-group/my-project", None, DeployTokenScopes::ALL, None).await.unwrap();
    // A nested project owns the repositories below its path (the longest full path wins).
    admin::create_project(&store, "my-group/my-project/sub").await.unwrap();
    store.close().await;

    let grant = |actions: &[&str]| {
        json!([{ "type": "repository", "name": "my-group/my-project/app", "actions": actions,
                 "meta": { "project_path": "my-group/my-project", "project_id": 1 } }])
    };
    let s = &r.s;
    // GitLab ignores the login of a personal access token; the claims name the token's user.
    assert_eq!(r.access(Some(("anyone", &s.maintainer)), &[APP]).await, grant(&["pull", "push", "delete"]));
    assert_eq!(r.access(Some(("dev", &s.developer)), &[APP]).await, grant(&["pull", "push"]));
    assert_eq!(r.access(Some(("rep", &reporter)), &[APP]).await, grant(&["pull"]));
    assert_eq!(r.access(Some(("outsider", &s.outsider)), &[APP]).await, json!([]));
    assert_eq!(r.access(Some(("root", &s.admin)), &[APP]).await, grant(&["pull", "push", "delete"]));
    // Personal token scopes: read_registry pulls, write_registry pushes, only `api` deletes.
    assert_eq!(r.access(Some(("dev", &read_only)), &[APP]).await, grant(&["pull"]));
    assert_eq!(r.access(Some(("dev", &write_only)), &[APP]).await, grant(&["push"]));
    assert_eq!(r.access(Some(("maint", &both)), &[APP]).await, grant(&["pull", "push"]));
    let (status, body, _) = r.auth(Some(("maint", &read_api)), &[APP]).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"errors": [{"code": "DENIED", "message": "access forbidden"}]}))
    );
    // Deploy tokens: their registry scopes, their own project only, never delete.
    assert_eq!(r.access(Some((&all_deploy.username, &all_deploy.token)), &[APP]).await, grant(&["pull", "push"]));
    assert_eq!(r.access(Some((&read_deploy.username, &read_deploy.token)), &[APP]).await, grant(&["pull"]));
    let (status, _, _) = r.auth(Some((&package_deploy.username, &package_deploy.token)), &[APP]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no registry scope at all");
    let other = "repository:other-group/other-project/x:pull,push";
    assert_eq!(r.access(Some((&all_deploy.username, &all_deploy.token)), &[other]).await, json!([]));
    // The nested project is another project: the maintainer of the parent is not its member.
    let sub = "repository:my-group/my-project/sub/img:pull";
    assert_eq!(r.access(Some(("maint", &s.maintainer)), &[sub]).await, json!([]));
    assert_eq!(r.access(Some(("root", &s.admin)), &[sub]).await[0]["meta"]["project_path"], "my-group/my-project/sub");
    // The catalog is for administrators only.
    let catalog = json!([{ "type": "registry", "name": "catalog", "actions": ["*"] }]);
    assert_eq!(r.access(Some(("root", &s.admin)), &["registry:catalog:*"]).await, catalog);
    assert_eq!(r.access(Some(("maint", &s.maintainer)), &["registry:catalog:*"]).await, json!([]));
    // Several scopes, in one parameter separated by spaces or repeated; hostile ones grant nothing.
    let access = r
        .access(
            Some(("maint", &s.maintainer)),
            &[
                "repository:my-group/my-project/a:pull repository:my-group/my-project/b:push",
                "",
                ":::",
                "repository:localhost:5000/my-group/my-project:pull",
                "repository:My-Group/my-project/c:pull",
                "repository:my-group/my-project/c:fly,pull,pull",
                "repository:nowhere/at-all:pull",
                "other:my-group/my-project:pull",
            ],
        )
        .await;
    let names: Vec<(&str, &Value)> =
        access.as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap(), &a["actions"])).collect();
    assert_eq!(
        names,
        vec![
            ("my-group/my-project/a", &json!(["pull"])),
            ("my-group/my-project/b", &json!(["push"])),
            ("my-group/my-project/c", &json!(["pull"])),
        ]
    );
    // Anonymous: a token with no access and no subject (GitLab's public pulls; no public projects here).
    let (status, body, _) = r.auth(None, &[APP]).await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify(body["token"].as_str().unwrap(), &r.dir);
    assert_eq!((claims.sub, claims.access.len()), (None, 0));
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["access_token"], body["token"]);
    assert!(body["issued_at"].as_str().unwrap().ends_with('Z'));
    // A token names its user and lives GitLab's 5 minutes.
    let (_, body, _) = r.auth(Some(("dev", &s.developer)), &[APP]).await;
    let claims = verify(body["token"].as_str().unwrap(), &r.dir);
    assert_eq!((claims.sub.as_deref(), claims.exp - claims.iat, claims.iat - claims.nbf), (Some("dev"), 300, 5));
    // Another service is not ours.
    let (status, body, _) = auth_on(&r.base, Some(("dev", &s.developer)), "other", &[APP]).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::NOT_FOUND, Some("UNKNOWN")));
    let (status, _, _) = auth_on(&r.base, None, "", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

pub async fn registry_protected_push_is_denied_and_delete_dropped(backend: Backend) {
    let r = Registry::start(backend).await;
    let s = &r.s;
    let rule = json!({"repository_path_pattern": "my-group/my-project/release*",
                      "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"});
    assert_eq!(s.call(Method::POST, CONTAINER_RULES, Some(&s.maintainer), Some(rule)).await.0, StatusCode::CREATED);
    let release = "repository:my-group/my-project/release-api:pull,push";
    let denied = json!({"errors": [{"code": "DENIED", "message": "Pushing to protected repository path forbidden"}]});
    // A developer's push is refused whole, even with other scopes that would be granted.
    let (status, body, _) =
        r.auth(Some(("dev", &s.developer)), &["repository:my-group/my-project/app:pull,push", release]).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, denied.clone()));
    // Pull-only keeps working on the protected path.
    let pull = "repository:my-group/my-project/release-api:pull";
    assert_eq!(r.access(Some(("dev", &s.developer)), &[pull]).await[0]["actions"], json!(["pull"]));
    // A maintainer pushes; delete (owner minimum) is dropped, and `*` keeps pull and push.
    let all = "repository:my-group/my-project/release-api:pull,push,delete";
    assert_eq!(r.access(Some(("maint", &s.maintainer)), &[all]).await[0]["actions"], json!(["pull", "push"]));
    let star = "repository:my-group/my-project/release-api:*";
    assert_eq!(r.access(Some(("maint", &s.maintainer)), &[star]).await[0]["actions"], json!(["pull", "push"]));
    // Unprotected paths keep delete.
    assert_eq!(r.access(Some(("maint", &s.maintainer)), &[APP]).await[0]["actions"], json!(["pull", "push", "delete"]));
    // Administrators are never blocked.
    assert_eq!(r.access(Some(("root", &s.admin)), &[all]).await[0]["actions"], json!(["pull", "push", "delete"]));
    // Deploy tokens are refused on protected paths whatever the minimums, and push elsewhere.
    let store = r.store().await;
    let deploy =
        admin::issue_deploy_token(&store, "my-group/my-project", None, DeployTokenScopes::ALL, None).await.unwrap();
    store.close().await;
    let (status, body, _) = r.auth(Some((&deploy.username, &deploy.token)), &[release]).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, denied));
    assert_eq!(r.access(Some((&deploy.username, &deploy.token)), &[pull]).await[0]["actions"], json!(["pull"]));
    assert_eq!(r.access(Some((&deploy.username, &deploy.token)), &[APP]).await[0]["actions"], json!(["pull", "push"]));
    // A rule created now applies to the next request at once.
    let rule = json!({"repository_path_pattern": "my-group/my-project/app", "minimum_access_level_for_push": "owner"});
    assert_eq!(s.call(Method::POST, CONTAINER_RULES, Some(&s.maintainer), Some(rule)).await.0, StatusCode::CREATED);
    assert_eq!(r.auth(Some(("maint", &s.maintainer)), &[APP]).await.0, StatusCode::FORBIDDEN);
}

pub async fn registry_bad_credentials_are_401(backend: Backend) {
    let r = Registry::start(backend).await;
    let store = r.store().await;
    let revoked =
        admin::issue_token(&store, "dev", "revoked", personal_scopes(&[PersonalScope::Api]), None).await.unwrap();
    admin::revoke_token(&store, revoked.id).await.unwrap();
    let deploy =
        admin::issue_deploy_token(&store, "my-group/my-project", None, DeployTokenScopes::ALL, None).await.unwrap();
    let blocked = admin::create_token(&store, "outsider").await.unwrap();
    admin::set_blocked(&store, "outsider", true).await.unwrap();
    store.close().await;
    let s = &r.s;
    let logins: [(&str, &str); 6] = [
        ("dev", "glpat-wrong"),
        ("dev", &revoked.token),
        ("dev", ""),
        ("outsider", &blocked),
        // A deploy token needs its own username.
        ("dev", &deploy.token),
        ("gitlab+deploy-token-999", &deploy.token),
    ];
    for login in logins {
        let (status, body, challenge) = r.auth(Some(login), &[APP]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{login:?}");
        assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
        assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("HTTP Basic: Access denied"));
        assert_eq!(challenge.as_deref(), Some("Basic realm=\"GitLab\""));
    }
    // Garbage in the header is a 401 too, never a 5xx.
    for header in ["Basic !!!", "Basic", "Bearer x", "Basic dXNlcg==", "Basic \u{7f}"] {
        let response = reqwest::Client::new()
            .get(format!("{}/jwt/auth?service=container_registry&scope={APP}", r.base))
            .header("Authorization", header)
            .send()
            .await;
        if let Ok(response) = response {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
        }
    }
    for query in ["service=container_registry&scope=%ff", "service=%zz", "scope=repository:a/b:pull"] {
        let status = reqwest::get(format!("{}/jwt/auth?{query}", r.base)).await.unwrap().status();
        assert!(status.is_client_error(), "{query}: {status}");
    }
    let many: Vec<String> = (0..101).map(|n| format!("repository:my-group/my-project/x{n}:pull")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let (status, body, _) = r.auth(Some(("dev", &s.developer)), &many).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("UNSUPPORTED")));
    assert_eq!(r.auth(Some(("dev", &s.developer)), &many[..100]).await.0, StatusCode::OK);
    // Without the token service configured the route is GitLab's 404.
    assert_eq!(s.call(Method::GET, "/jwt/auth?service=container_registry", None, None).await.0, StatusCode::NOT_FOUND);
    // The key file is the owner's only (SQLite; on PostgreSQL the key is in the database).
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(r.dir.join(KEY_FILE)) {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    }
}

pub async fn registry_instances_on_one_database_sign_with_one_key(backend: Backend) {
    let r = Registry::start(backend).await;
    // A second and third instance start at the same time: on PostgreSQL each with its own data
    // directory (the key is in the database), on SQLite sharing the data directory.
    let (dir_b, dir_c) = match backend {
        Backend::Postgres => (data_dir(), data_dir()),
        Backend::Sqlite => (r.dir.clone(), r.dir.clone()),
    };
    let (b, c) = tokio::join!(serve_registry(&r.s.url, &dir_b), serve_registry(&r.s.url, &dir_c));
    let certificate = std::fs::read_to_string(r.dir.join(CERTIFICATE_FILE)).unwrap();
    for dir in [&dir_b, &dir_c] {
        assert_eq!(std::fs::read_to_string(dir.join(CERTIFICATE_FILE)).unwrap(), certificate);
    }
    if backend == Backend::Postgres {
        assert!(!dir_b.join(KEY_FILE).exists(), "on PostgreSQL the key never leaves the database");
    }
    // A token from every instance verifies with the one certificate.
    for base in [&r.base, &b, &c] {
        let (status, body, _) = auth_on(base, Some(("dev", &r.s.developer)), "container_registry", &[APP]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verify(body["token"].as_str().unwrap(), &r.dir).access.len(), 1);
    }
}

/// Two first starts at once on a fresh PostgreSQL database agree on one key.
pub async fn registry_concurrent_first_starts_agree(backend: Backend) {
    let url = crate::harness::fresh_database(backend).await;
    let (dir_a, dir_b) = (data_dir(), data_dir());
    let (store_a, store_b) = (Store::connect(&url).await.unwrap(), Store::connect(&url).await.unwrap());
    let shared = match backend {
        Backend::Postgres => dir_b.clone(),
        Backend::Sqlite => dir_a.clone(),
    };
    let (a, b) = tokio::join!(load_or_create_key(&store_a, &dir_a), load_or_create_key(&store_b, &shared));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.key_id(), b.key_id());
    assert_eq!(a.certificate_pem(), b.certificate_pem());
    assert_eq!(std::fs::read_to_string(shared.join(CERTIFICATE_FILE)).unwrap(), a.certificate_pem());
}
