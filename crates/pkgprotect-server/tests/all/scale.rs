//! Many projects through a pool much smaller than the projects: the component engine keeps
//! deciding (no 5xx) as rule sets are compiled, evicted and compiled again.

use crate::harness::{Backend, fresh_database};
use pkgprotect::{ContainerRepositoryRule, PackageRule, PackageType, Rule};
use pkgprotect_server::admin;
use pkgprotect_server::db::Store;
use pkgprotect_server::engine::{ComponentEngine, PoolLimits};
use serde_json::{Value, json};
use std::sync::Arc;

/// How many projects; `PKGPROTECT_TEST_PROJECTS` raises it for load runs.
fn project_count() -> usize {
    std::env::var("PKGPROTECT_TEST_PROJECTS").ok().and_then(|n| n.parse().ok()).unwrap_or(400)
}

pub async fn many_projects_decide_through_a_small_pool(backend: Backend) {
    let url = fresh_database(backend).await;
    let store = Store::connect(&url).await.unwrap();
    admin::create_user(&store, "root", true).await.unwrap();
    let token = admin::create_token(&store, "root").await.unwrap();
    let projects = project_count();
    let started = std::time::Instant::now();
    // Stored by a few writers at once: PostgreSQL commits them together (SQLite serializes).
    let writers = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let store = store.clone();
        tasks.spawn(async move {
            for i in (writer..projects).step_by(writers) {
                store_project(&store, i).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    store.close().await;
    let stored_in = started.elapsed();

    // Two instances keeping at most 16 rule sets each, for hundreds of projects × 2 kinds.
    let policy = crate::harness::policy().clone();
    let engine = ComponentEngine::with_limits(policy, PoolLimits { instances: 2, rule_sets_per_instance: 16 });
    let base = crate::harness::serve_engine(&url, Arc::new(engine)).await;
    let client = reqwest::Client::new();
    let developer = json!({"type": "user", "access_level": "developer"});
    let mut server_errors = 0;
    let mut decisions = 0;
    let started = std::time::Instant::now();
    // A second round compiles every evicted set again; with more projects than the cache holds
    // many times over, the first round already does that for nearly every request.
    let rounds = if projects > 1_000 { 1 } else { 2 };
    for round in 0..rounds {
        for i in 0..projects {
            let project = format!("{base}/api/v4/projects/group-{i}%2Fproject");
            let batch = json!({"requests": [
                {"package_name": format!("@p{i}/x"), "package_type": "npm", "action": "push", "actor": developer},
                {"package_name": format!("@p{}/x", i + 1), "package_type": "npm", "action": "push", "actor": developer},
            ]});
            let container = json!({"repository_path": format!("group-{i}/project/release-1"), "action": "push",
                                   "actor": {"type": "user", "access_level": "maintainer"}});
            for (path, body) in
                [("packages/protection/decisions", batch), ("registry/protection/repository/decisions", container)]
            {
                let response = client
                    .post(format!("{project}/{path}"))
                    .header("PRIVATE-TOKEN", &token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                if status.is_server_error() {
                    server_errors += 1;
                    continue;
                }
                assert_eq!(status, 200, "round {round}, project {i}: {answer}");
                let allowed: Vec<Value> = match answer.get("decisions") {
                    Some(decisions) => decisions.as_array().unwrap().iter().map(|d| d["allowed"].clone()).collect(),
                    None => vec![answer["allowed"].clone()],
                };
                let expected = if allowed.len() == 2 { vec![json!(false), json!(true)] } else { vec![json!(false)] };
                assert_eq!(allowed, expected, "round {round}, project {i}: {answer}");
                decisions += allowed.len();
            }
        }
    }
    // The server runs in this process: its resident memory is the process's.
    let resident_mib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok()))
        .map_or_else(|| "unknown".to_owned(), |kib| format!("{} MiB", kib / 1024));
    println!(
        "many projects [{backend:?}]: {projects} projects × 2 kinds stored in {:.1}s; {decisions} decisions through \
         2 component instances × 16 rule sets in {:.1}s, {server_errors} 5xx; resident memory {resident_mib}",
        stored_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(server_errors, 0, "5xx answers");
}

/// Project `group-{i}/project` with one rule of each kind.
async fn store_project(store: &Store, i: usize) {
    let id = store.create_project(&format!("group-{i}/project")).await.unwrap();
    let package = Rule::Package(PackageRule {
        id: None,
        project_id: None,
        package_name_pattern: format!("@p{i}/*"),
        package_type: PackageType::Npm,
        minimum_access_level_for_push: Some(pkgprotect::AccessLevel::Maintainer),
        minimum_access_level_for_delete: None,
    });
    let container = Rule::ContainerRepository(ContainerRepositoryRule {
        id: None,
        project_id: None,
        repository_path_pattern: format!("group-{i}/project/release*"),
        minimum_access_level_for_push: Some(pkgprotect::AccessLevel::Owner),
        minimum_access_level_for_delete: None,
    });
    store.insert_rule(id, &package).await.unwrap();
    store.insert_rule(id, &container).await.unwrap();
}

fn long_npm_rule(i: usize) -> serde_json::Value {
    serde_json::json!({"package_name_pattern": format!("@scope-{i}/{}-*", "p".repeat(180)),
                       "package_type": "npm", "minimum_access_level_for_push": "maintainer"})
}

/// A rule set too large for the engine's limits is refused when written (422), never found out
/// by every decision after; rules stored around the check (an operator lowering the limits)
/// make decisions refuse, not fail.
pub async fn rule_sets_too_large_for_the_engine_are_refused_at_write_time(backend: Backend) {
    use reqwest::{Method, StatusCode};
    let s = crate::harness::Server::start(backend).await;
    // A 2 MiB instance holds a few dozen long patterns, not a hundred.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pkgprotect.wasm");
    let limits = pkgprotect_host::Limits { memory_bytes: 2 << 20, ..Default::default() };
    let policy = pkgprotect_host::Policy::load_with(&path, limits).unwrap();
    let engine = ComponentEngine::with_limits(policy, PoolLimits { instances: 1, rule_sets_per_instance: 16 });
    let small = crate::harness::serve_engine(&s.url, std::sync::Arc::new(engine)).await;
    let rules = crate::harness::PACKAGE_RULES;
    let maintainer = Some(("PRIVATE-TOKEN", s.maintainer.as_str()));
    let mut stored = 0;
    let refusal = loop {
        assert!(stored < 200, "2 MiB held 200 long rules: the limit is not what this test expects");
        let (status, body) = s.call_with(&small, Method::POST, rules, maintainer, Some(long_npm_rule(stored))).await;
        match status {
            StatusCode::CREATED => stored += 1,
            StatusCode::UNPROCESSABLE_ENTITY => break body,
            other => panic!("rule {stored}: {other} {body}"),
        }
    };
    assert!(stored >= 5, "only {stored} rules fitted");
    let message = refusal["message"]["error"][0].as_str().unwrap();
    assert!(
        message.starts_with(&format!("The project's {} package protection rules would not fit", stored + 1)),
        "{message}"
    );
    let (_, listed) = s.call_with(&small, Method::GET, rules, maintainer, None).await;
    assert_eq!(listed.as_array().unwrap().len(), stored, "the refused rule was stored");
    let decide = serde_json::json!({"package_name": "@scope-0/x", "package_type": "npm", "action": "push"});
    let decisions = crate::harness::PACKAGE_DECISIONS;
    let developer = Some(("PRIVATE-TOKEN", s.developer.as_str()));
    let (status, answer) = s.call_with(&small, Method::POST, decisions, developer, Some(decide.clone())).await;
    assert_eq!((status, answer["error"].clone()), (StatusCode::OK, serde_json::Value::Null), "{answer}");

    // The same rules and more, written through a server with the default limits: the small
    // engine can no longer compile them, and refuses every decision instead of failing it.
    for i in stored..stored + 60 {
        assert_eq!(
            s.call(Method::POST, rules, Some(&s.maintainer), Some(long_npm_rule(i))).await.0,
            StatusCode::CREATED
        );
    }
    let (status, answer) = s.call_with(&small, Method::POST, decisions, developer, Some(decide)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["allowed"].clone(), answer["error"].clone()),
        (serde_json::json!(false), serde_json::json!(true))
    );
}

/// Requests that miss the cache together compile the project's rules once.
pub async fn concurrent_misses_compile_once(backend: Backend) {
    use reqwest::{Method, StatusCode};
    let s = crate::harness::Server::start(backend).await;
    let rule = serde_json::json!({"package_name_pattern": "@a/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"});
    assert_eq!(
        s.call(Method::POST, crate::harness::PACKAGE_RULES, Some(&s.maintainer), Some(rule)).await.0,
        StatusCode::CREATED
    );
    let fresh = crate::harness::serve_on(&s.url).await;
    let decide = serde_json::json!({"package_name": "@a/x", "package_type": "npm", "action": "push"});
    let calls = (0..16).map(|_| {
        s.call_with(
            &fresh,
            Method::POST,
            crate::harness::PACKAGE_DECISIONS,
            Some(("PRIVATE-TOKEN", &s.developer)),
            Some(decide.clone()),
        )
    });
    for (status, answer) in crate::scenarios::futures_join_all(calls).await {
        assert_eq!((status, answer["allowed"].clone()), (StatusCode::OK, serde_json::json!(false)));
    }
    let metrics = s.raw().get(format!("{fresh}/-/metrics")).send().await.unwrap().text().await.unwrap();
    let compiles = metrics
        .lines()
        .find_map(|line| line.strip_prefix("pkgprotect_rule_set_compile_duration_seconds_count "))
        .unwrap();
    assert_eq!(compiles, "1", "16 concurrent first decisions compiled more than once");
}
