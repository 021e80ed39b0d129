//! A server on an ephemeral 127.0.0.1 port with a seeded project, users and tokens.

use pkgprotect::AccessLevel;
use pkgprotect_server::admin;
use pkgprotect_server::db::Store;
use pkgprotect_server::engine::ComponentEngine;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty database for one test.
pub async fn fresh_database(backend: Backend) -> String {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("pkgprotect-server-test-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            pkgprotect_server::db::sqlite_url(&dir).unwrap()
        }
        Backend::Postgres => {
            let base = std::env::var("PKGPROTECT_TEST_POSTGRES_URL")
                .expect("PKGPROTECT_TEST_POSTGRES_URL must name a PostgreSQL server (scripts/test.sh starts one)");
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&base).await.unwrap();
            let name = format!("pkgprotect_test_{}_{n}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
    }
}

pub struct Server {
    pub base: String,
    pub url: String,
    pub maintainer: String,
    pub developer: String,
    pub outsider: String,
    pub admin: String,
    pub deploy: String,
    pub other_deploy: String,
    client: reqwest::Client,
}

/// The component every test server decides with (built by scripts/build-component.sh).
pub fn policy() -> &'static pkgprotect_host::Policy {
    static POLICY: OnceLock<pkgprotect_host::Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = std::env::var_os("PKGPROTECT_COMPONENT").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pkgprotect.wasm")
        });
        pkgprotect_host::Policy::load(&path).unwrap_or_else(|e| panic!("{e} — run scripts/build-component.sh first"))
    })
}

/// Serve `url` on an ephemeral port, deciding through the component.
pub async fn serve_on(url: &str) -> String {
    serve_engine(url, Arc::new(ComponentEngine::new(policy().clone()))).await
}

/// Serve `url` on an ephemeral port, deciding with `engine`.
pub async fn serve_engine(url: &str, engine: Arc<dyn pkgprotect_server::engine::Engine>) -> String {
    let store = Store::connect(url).await.unwrap();
    let app = pkgprotect_server::app(store, engine, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        let url = fresh_database(backend).await;
        let store = Store::connect(&url).await.unwrap();
        admin::create_project(&store, "my-group/my-project").await.unwrap();
        admin::create_project(&store, "other-group/other-project").await.unwrap();
        for (user, level) in
            [("maint", Some(AccessLevel::Maintainer)), ("dev", Some(AccessLevel::Developer)), ("outsider", None)]
        {
            admin::create_user(&store, user, false).await.unwrap();
            if let Some(level) = level {
                admin::add_member(&store, "my-group/my-project", user, level).await.unwrap();
            }
        }
        admin::create_user(&store, "root", true).await.unwrap();
        let server = Server {
            maintainer: admin::create_token(&store, "maint").await.unwrap(),
            developer: admin::create_token(&store, "dev").await.unwrap(),
            outsider: admin::create_token(&store, "outsider").await.unwrap(),
            admin: admin::create_token(&store, "root").await.unwrap(),
            deploy: admin::create_deploy_token(&store, "my-group/my-project").await.unwrap(),
            other_deploy: admin::create_deploy_token(&store, "other-group/other-project").await.unwrap(),
            base: serve_on(&url).await,
            url,
            client: reqwest::Client::new(),
        };
        store.close().await;
        server
    }

    /// `(status, JSON body or Null)` for a request with a `PRIVATE-TOKEN`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(&self.base, method, path, token.map(|t| ("PRIVATE-TOKEN", t)), body).await
    }

    pub async fn call_with(
        &self,
        base: &str,
        method: Method,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{base}{path}"));
        if let Some((header, token)) = auth {
            request = request.header(header, token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.client
    }
}

pub const PROJECT: &str = "/api/v4/projects/1";
pub const PACKAGE_RULES: &str = "/api/v4/projects/1/packages/protection/rules";
pub const CONTAINER_RULES: &str = "/api/v4/projects/1/registry/protection/repository/rules";
pub const PACKAGE_DECISIONS: &str = "/api/v4/projects/1/packages/protection/decisions";
