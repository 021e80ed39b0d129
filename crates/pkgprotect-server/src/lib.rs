//! GitLab-compatible REST server for package and container repository protection rules,
//! with decision endpoints for registries.
//!
//! It speaks GitLab's protection-rule API (`/api/v4/projects/:id/packages/protection/rules`,
//! `…/registry/protection/repository/rules`), stores rules in SQLite (embedded) or
//! PostgreSQL (shared by many instances), and answers `…/decisions` through a compiled rule
//! set per project that is rebuilt whenever the project's rules change, on any instance.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use pkgprotect_server::{Config, serve};
//! let config = Config { database_url: "sqlite://pkgprotect.sqlite3?mode=rwc".into(), ..Config::default() };
//! serve(config).await?;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod api;
pub mod auth;
pub mod db;
pub mod engine;
pub mod metrics;
pub mod registry;

use api::AppState;
use axum::Router;
use db::Store;
use engine::{Engine, NativeEngine, RuleSetCache};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// How to run the server.
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    /// Static files served at `/` (the protection settings page), if the directory exists.
    pub static_dir: Option<PathBuf>,
    /// Seed the demo project when the database is empty.
    pub demo: bool,
    pub engine: Arc<dyn Engine>,
    /// Most compiled rule sets kept (see [`engine::RuleSetCache`]).
    pub cached_rule_sets: usize,
    /// How long in-flight requests may take to finish after SIGTERM or SIGINT.
    pub shutdown_deadline: Duration,
    /// The registry token service (`/jwt/auth`); `None` serves none.
    pub registry: Option<registry::RegistryAuthConfig>,
    /// Serve HTTPS with this certificate chain and key (PEM files); plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
}

/// The PEM files of a TLS certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("static_dir", &self.static_dir)
            .field("demo", &self.demo)
            .field("engine", &self.engine.name())
            .field("cached_rule_sets", &self.cached_rule_sets)
            .field("shutdown_deadline", &self.shutdown_deadline)
            .field("registry", &self.registry)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://pkgprotect-data/pkgprotect.sqlite3?mode=rwc".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            static_dir: None,
            demo: false,
            engine: Arc::new(NativeEngine),
            cached_rule_sets: engine::DEFAULT_CACHED_RULE_SETS,
            shutdown_deadline: Duration::from_secs(30),
            registry: None,
            tls: None,
        }
    }
}

/// The server failed to start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Admin(#[from] admin::AdminError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    RegistryKey(#[from] registry::RegistryKeyError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot use `{flag}` `{path}`: {detail}")]
    Tls { flag: &'static str, path: String, detail: String },
}

/// The whole HTTP application over an open store.
pub fn app(store: Store, engine: Arc<dyn Engine>, static_dir: Option<PathBuf>) -> Router {
    app_with_cache(store, RuleSetCache::new(engine), static_dir)
}

/// [`app`] with a rule-set cache of the caller's size.
pub fn app_with_cache(store: Store, cache: RuleSetCache, static_dir: Option<PathBuf>) -> Router {
    app_with_registry(store, cache, static_dir, None)
}

/// [`app_with_cache`] with the registry token service signing with `registry`.
pub fn app_with_registry(
    store: Store,
    cache: RuleSetCache,
    static_dir: Option<PathBuf>,
    registry: Option<Arc<registry::TokenIssuer>>,
) -> Router {
    // Metrics are names fixed at compile time; were they refused, the server still serves.
    let metrics = metrics::Metrics::new()
        .map_err(|error| tracing::error!(%error, "metrics disabled: cannot register them"))
        .ok()
        .map(Arc::new);
    let state = Arc::new(AppState { store, cache, metrics, registry });
    let mut router = api::router(state);
    if let Some(dir) = static_dir.filter(|d| d.is_dir()) {
        router = router.fallback_service(ServeDir::new(dir));
    }
    // The last layer added runs first: the id is set, then the request is logged under it.
    router
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::new(access_log::HEADER))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(access_log::span)
                .on_request(())
                .on_response(access_log::on_response)
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(access_log::HEADER, access_log::Ids::new()))
}

/// Open the database, seed the demo if asked and the database is empty, and serve until
/// SIGTERM or SIGINT; then stop accepting and let in-flight requests finish (up to
/// `config.shutdown_deadline`).
pub async fn serve(config: Config) -> Result<(), ServeError> {
    // A bad certificate or key stops the start, before anything listens.
    let tls = config.tls.as_ref().map(tls_acceptor).transpose()?;
    let store = Store::connect(&config.database_url).await?;
    if config.demo {
        if store.is_empty().await? {
            let demo = admin::seed_demo(&store).await?;
            print_demo(&demo, config.listen);
        } else {
            tracing::info!("--demo: the database already has projects; nothing seeded");
        }
    }
    // The signing key is made (slowly, once) before the server listens, off the async runtime.
    let registry = match &config.registry {
        Some(registry) => {
            let key = registry::load_or_create_key(&store, &registry.data_dir).await?;
            tracing::info!(kid = key.key_id(), "registry token service signing");
            Some(Arc::new(registry::TokenIssuer::new(registry.clone(), key)))
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%local, scheme, engine = config.engine.name(), "pkgprotect server listening");
    println!("pkgprotect server listening on {scheme}://{local} (engine: {})", config.engine.name());
    let cache = RuleSetCache::with_capacity(config.engine, config.cached_rule_sets);
    let app = app_with_registry(store.clone(), cache, config.static_dir, registry);
    serve_http1(listener, app, tls, shutdown_signal(), config.shutdown_deadline).await;
    store.close().await;
    Ok(())
}

/// How long a client may take to send a request's headers. `axum::serve` gives hyper no
/// timer, so without this a client that never finishes its headers holds a connection for
/// ever (the per-request `TimeoutLayer` starts only once the headers are in).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve `app` over HTTP/1.1 until `shutdown` resolves, then let open requests finish
/// within `deadline`.
async fn serve_http1(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
    deadline: Duration,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = hyper_util::service::TowerToHyperService::new(app.clone());
                    match &tls {
                        None => {
                            let connection = graceful.watch(http.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
                            tokio::spawn(async move {
                                if let Err(error) = connection.await {
                                    tracing::debug!(%error, "connection closed with an error");
                                }
                            });
                        }
                        // The handshake runs in the connection's task, so a slow client never
                        // holds up the accept loop, and within the header deadline.
                        Some(acceptor) => {
                            let (acceptor, http, watcher) = (acceptor.clone(), http.clone(), graceful.watcher());
                            tokio::spawn(async move {
                                let stream = match tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream)).await {
                                    Ok(Ok(stream)) => stream,
                                    Ok(Err(error)) => return tracing::debug!(%error, "TLS handshake failed"),
                                    Err(_) => return tracing::debug!("TLS handshake timed out"),
                                };
                                let connection = watcher.watch(http.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
                                if let Err(error) = connection.await {
                                    tracing::debug!(%error, "connection closed with an error");
                                }
                            });
                        }
                    }
                }
                // Out of file descriptors and the like: wait rather than spin.
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(?deadline, "shutting down: no new connections, waiting for in-flight requests");
    match tokio::time::timeout(deadline, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all requests finished"),
        Err(_) => tracing::warn!(?deadline, "requests still running at the shutdown deadline; stopping anyway"),
    }
}

/// A TLS acceptor for `files`: every certificate in the chain file, the first private key in
/// the key file; HTTP/1.1 only, as served.
fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert_error =
        |detail: String| ServeError::Tls { flag: "--tls-cert", path: files.cert.display().to_string(), detail };
    let key_error =
        |detail: String| ServeError::Tls { flag: "--tls-key", path: files.key.display().to_string(), detail };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| cert_error(error.to_string()))?;
    if certs.is_empty() {
        return Err(cert_error("no PEM certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| key_error(error.to_string()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| cert_error(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| key_error(format!("does not go with the certificate: {error}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// SIGTERM (systemd, Kubernetes) or SIGINT (Ctrl-C), whichever comes first.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the server gracefully");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The access log: one line per request with a request id, method, path (never the query,
/// which may carry a token), status and latency; the id is echoed as `X-Request-Id`.
mod access_log {
    use axum::body::Body;
    use axum::http::{HeaderName, HeaderValue, Request, Response};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;
    use tower_http::request_id::{MakeRequestId, RequestId};
    use tracing::Span;

    pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

    /// Ids unique within the process and across restarts: the start time, then a counter.
    #[derive(Clone)]
    pub struct Ids {
        prefix: u64,
        next: Arc<AtomicU64>,
    }

    impl Ids {
        pub fn new() -> Self {
            let prefix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            Ids { prefix, next: Arc::new(AtomicU64::new(1)) }
        }
    }

    impl MakeRequestId for Ids {
        fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            HeaderValue::from_str(&format!("{:x}-{n}", self.prefix)).ok().map(RequestId::new)
        }
    }

    pub fn span(request: &Request<Body>) -> Span {
        let id = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
    }

    pub fn on_response(response: &Response<Body>, latency: Duration, _: &Span) {
        tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "served");
    }
}

fn print_demo(demo: &admin::Demo, listen: SocketAddr) {
    let base = format!("http://{listen}/api/v4/projects/{}", demo.project.replace('/', "%2F"));
    println!(
        "\nDemo project `{project}` created (id {id}). Tokens (shown once, stored hashed):\n\
         \x20 maintainer:   {m}\n  developer:    {d}\n  deploy token: {t}\n\n\
         Try:\n\
         \x20 curl -s -H 'PRIVATE-TOKEN: {m}' {base}/packages/protection/rules\n\
         \x20 curl -s -X POST -H 'PRIVATE-TOKEN: {m}' -H 'Content-Type: application/json' \\\n\
         \x20      -d '{{\"package_name_pattern\": \"@demo/internal-*\", \"package_type\": \"npm\", \"minimum_access_level_for_push\": \"owner\"}}' \\\n\
         \x20      {base}/packages/protection/rules\n\
         \x20 curl -s -X POST -H 'PRIVATE-TOKEN: {d}' -H 'Content-Type: application/json' \\\n\
         \x20      -d '{{\"package_name\": \"@demo/core\", \"package_type\": \"npm\", \"action\": \"push\"}}' \\\n\
         \x20      {base}/packages/protection/decisions\n\
         \x20 curl -s -X POST -H 'Deploy-Token: {t}' -H 'Content-Type: application/json' \\\n\
         \x20      -d '{{\"repository_path\": \"demo-group/demo-project/release/api\", \"action\": \"push\"}}' \\\n\
         \x20      {base}/registry/protection/repository/decisions\n\
         \x20 open http://{listen}/?project={encoded}  and sign in with the maintainer's token\n\
         \x20      (the project's protection settings with the live preview; the token never goes in the address)\n",
        project = demo.project,
        id = demo.project_id,
        m = demo.maintainer_token,
        d = demo.developer_token,
        t = demo.deploy_token,
        encoded = demo.project.replace('/', "%2F"),
    );
}
