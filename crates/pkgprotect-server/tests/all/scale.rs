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
    for i in 0..projects {
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
    store.close().await;

    // Two instances keeping at most 16 rule sets each, for hundreds of projects × 2 kinds.
    let policy = crate::harness::policy().clone();
    let engine = ComponentEngine::with_limits(policy, PoolLimits { instances: 2, rule_sets_per_instance: 16 });
    let base = crate::harness::serve_engine(&url, Arc::new(engine)).await;
    let client = reqwest::Client::new();
    let developer = json!({"type": "user", "access_level": "developer"});
    let mut server_errors = 0;
    for round in 0..2 {
        for i in 0..projects {
            let project = format!("{base}/api/v4/projects/{}", i + 1);
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
            }
        }
    }
    assert_eq!(server_errors, 0, "5xx answers");
}
