//! GitLab's answers where a client reads the exact shape: 404 bodies, no pagination headers,
//! the entity's field order, parameter errors before authentication, `If-Unmodified-Since`,
//! and 503 while the database is out.

use crate::harness::{Backend, CONTAINER_RULES, PACKAGE_RULES, Server, fresh_database, serve_on};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

fn npm_rule(pattern: &str) -> Value {
    json!({"package_name_pattern": pattern, "package_type": "npm", "minimum_access_level_for_push": "maintainer"})
}

pub async fn gitlab_shapes_for_lists_404s_and_parameter_errors(backend: Backend) {
    let s = Server::start(backend).await;
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@a/*"))).await.0,
        StatusCode::CREATED
    );
    let listed =
        s.raw().get(format!("{}{PACKAGE_RULES}?page=2&per_page=1", s.base)).header("PRIVATE-TOKEN", &s.maintainer);
    let listed = listed.send().await.unwrap();
    for header in ["x-page", "x-total", "x-total-pages", "x-per-page", "x-next-page", "link"] {
        assert!(listed.headers().get(header).is_none(), "GitLab sends no `{header}` on these lists");
    }
    // The entity's field order, as GitLab's entity exposes them (spec §6.1).
    let text = listed.text().await.unwrap();
    assert_eq!(
        text,
        r#"[{"id":1,"project_id":1,"package_name_pattern":"@a/*","package_type":"npm","minimum_access_level_for_push":"maintainer","minimum_access_level_for_delete":null}]"#
    );

    let record_not_found = (StatusCode::NOT_FOUND, json!({"message": "404 Not found"}));
    for path in [
        format!("{PACKAGE_RULES}/999"),
        format!("{CONTAINER_RULES}/999"),
        format!("{PACKAGE_RULES}/99999999999999999999"),
    ] {
        assert_eq!(
            s.call(Method::PATCH, &path, Some(&s.maintainer), Some(json!({}))).await,
            record_not_found,
            "{path}"
        );
        assert_eq!(s.call(Method::DELETE, &path, Some(&s.maintainer), None).await, record_not_found, "{path}");
    }
    assert_eq!(
        s.call(Method::GET, "/api/v4/no/such/route", Some(&s.maintainer), None).await,
        (StatusCode::NOT_FOUND, json!({"error": "404 Not Found"}))
    );

    // Grape validates parameters before GitLab authenticates (`after_validation { authenticate! }`).
    let missing_type = json!({"package_name_pattern": "@a/b", "minimum_access_level_for_push": "maintainer"});
    let (status, body) = s.call(Method::POST, PACKAGE_RULES, None, Some(missing_type)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"error": "package_type is missing"})));
    let (status, body) = s.call(Method::PATCH, &format!("{PACKAGE_RULES}/abc"), None, Some(json!({}))).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"error": "package_protection_rule_id is invalid"})));
    let bad_level = json!({"minimum_access_level_for_push": "developer"});
    assert_eq!(
        s.call(Method::PATCH, &format!("{CONTAINER_RULES}/1"), Some("glpat-wrong"), Some(bad_level)).await.0,
        StatusCode::BAD_REQUEST
    );
    // The model's checks (422) and missing rules (404) come after authentication.
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, None, Some(npm_rule("not valid"))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(s.call(Method::DELETE, &format!("{PACKAGE_RULES}/999"), None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, Some(&s.developer), Some(npm_rule("@b/*"))).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn delete_with(s: &Server, path: &str, unmodified_since: &str) -> (StatusCode, Value) {
    let response = s
        .raw()
        .delete(format!("{}{path}", s.base))
        .header("PRIVATE-TOKEN", &s.maintainer)
        .header("If-Unmodified-Since", unmodified_since)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
}

pub async fn delete_honours_if_unmodified_since(backend: Backend) {
    let s = Server::start(backend).await;
    let created = |pattern: &'static str| {
        let s = &s;
        async move {
            let (status, rule) =
                s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule(pattern))).await;
            assert_eq!(status, StatusCode::CREATED);
            format!("{PACKAGE_RULES}/{}", rule["id"])
        }
    };
    let hour = Duration::from_secs(3600);
    let an_hour_ago = httpdate::fmt_http_date(SystemTime::now() - hour);
    let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + hour);

    let first = created("@first/*").await;
    assert_eq!(
        delete_with(&s, &first, &an_hour_ago).await,
        (StatusCode::PRECONDITION_FAILED, json!({"message": "412 Precondition Failed"}))
    );
    assert_eq!(s.call(Method::GET, PACKAGE_RULES, Some(&s.maintainer), None).await.1.as_array().unwrap().len(), 1);
    // A change after the client's copy counts too: PATCH moves the rule's time on.
    let patched =
        s.call(Method::PATCH, &first, Some(&s.maintainer), Some(json!({"minimum_access_level_for_push": "owner"})));
    assert_eq!(patched.await.0, StatusCode::OK);
    assert_eq!(delete_with(&s, &first, &an_hour_ago).await.0, StatusCode::PRECONDITION_FAILED);
    assert_eq!(delete_with(&s, &first, &in_an_hour).await.0, StatusCode::NO_CONTENT);
    // A time that is not an HTTP date is ignored, as GitLab ignores what it cannot parse.
    let second = created("@second/*").await;
    assert_eq!(delete_with(&s, &second, "yesterday-ish").await.0, StatusCode::NO_CONTENT);
}

/// A TCP proxy in front of PostgreSQL that the test can cut, as a network outage would.
struct Outage {
    address: String,
    down: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Outage {
    async fn in_front_of(target: String) -> Outage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_down, open) = (Arc::clone(&down), Arc::clone(&connections));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                open.lock().unwrap().push(task.abort_handle());
            }
        });
        Outage { address, down, connections }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

pub async fn database_outage_answers_503(backend: Backend) {
    let s = Server::start(backend).await;
    let unavailable = (StatusCode::SERVICE_UNAVAILABLE, json!({"message": "503 Service Unavailable"}));
    match backend {
        Backend::Sqlite => {
            // Another process holds the write lock past the server's busy timeout.
            sqlx::any::install_default_drivers();
            let db = sqlx::AnyPool::connect(&s.url).await.unwrap();
            let mut holder = db.acquire().await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE").execute(&mut *holder).await.unwrap();
            let answer = s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@held/*"))).await;
            assert_eq!(answer, unavailable);
            sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
            drop(holder);
            db.close().await;
            let answer = s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@held/*"))).await;
            assert_eq!(answer.0, StatusCode::CREATED, "{}", answer.1);
        }
        Backend::Postgres => {
            let (prefix, rest) = s.url.split_once('@').unwrap();
            let (target, database) = rest.split_once('/').unwrap();
            let outage = Outage::in_front_of(target.to_owned()).await;
            let base = serve_on(&format!("{prefix}@{}/{database}", outage.address)).await;
            let list = || s.call_with(&base, Method::GET, PACKAGE_RULES, Some(("PRIVATE-TOKEN", &s.maintainer)), None);
            assert_eq!(list().await.0, StatusCode::OK);
            outage.cut();
            let started = std::time::Instant::now();
            assert_eq!(list().await, unavailable);
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "503 within the pool's wait, not the request deadline"
            );
            let readiness = s.raw().get(format!("{base}/-/readiness")).send().await.unwrap();
            assert_eq!(readiness.status(), StatusCode::SERVICE_UNAVAILABLE);
            outage.restore();
            assert_eq!(list().await.0, StatusCode::OK, "the server recovers when the database is back");
        }
    }
    let _ = fresh_database;
}

/// The value of the sample `line_start` (name and labels) in a Prometheus text exposition.
fn sample(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(line_start).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no `{line_start}` in\n{text}"))
}

pub async fn metrics_count_requests_decisions_and_the_cache(backend: Backend) {
    let s = Server::start(backend).await;
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@a/*"))).await.0,
        StatusCode::CREATED
    );
    let decisions = "/api/v4/projects/1/packages/protection/decisions";
    let batch = json!({"requests": [
        {"package_name": "@a/x", "package_type": "npm", "action": "push"},
        {"package_name": "b", "package_type": "npm", "action": "push"},
    ]});
    for _ in 0..2 {
        assert_eq!(s.call(Method::POST, decisions, Some(&s.developer), Some(batch.clone())).await.0, StatusCode::OK);
    }
    let response = s.raw().get(format!("{}/-/metrics", s.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let route = "/api/v4/projects/{id}/packages/protection/decisions";
    assert_eq!(
        sample(&text, &format!("pkgprotect_http_requests_total{{method=\"POST\",route=\"{route}\",status=\"200\"}}")),
        2.0
    );
    assert_eq!(sample(&text, "pkgprotect_decisions_total{kind=\"package\",outcome=\"allowed\"}"), 2.0);
    assert_eq!(sample(&text, "pkgprotect_decisions_total{kind=\"package\",outcome=\"refused\"}"), 2.0);
    assert_eq!(sample(&text, "pkgprotect_decision_duration_seconds_count{kind=\"package\"}"), 2.0);
    assert_eq!(sample(&text, "pkgprotect_rule_set_cache_lookups_total{result=\"miss\"}"), 1.0);
    assert_eq!(sample(&text, "pkgprotect_rule_set_cache_lookups_total{result=\"hit\"}"), 1.0);
    assert_eq!(sample(&text, "pkgprotect_rule_set_compile_duration_seconds_count"), 1.0);
    assert_eq!(sample(&text, "pkgprotect_rule_set_cache_entries"), 1.0);
    assert!(sample(&text, "pkgprotect_engine_instances") >= 1.0, "the component engine's pool");
    // Labels are route templates, never paths with ids or project names.
    assert!(!text.contains("my-group") && !text.contains("projects/1/"), "{text}");
}
