//! One function per behaviour, run against each backend by `main.rs`.

pub use crate::audit::{
    a_change_is_not_stored_without_its_audit_row, backup_while_writers_create_rules_is_consistent,
    concurrent_patches_are_audited_once_each, rule_changes_are_audited_with_actor_before_and_after,
};
use crate::harness::{
    Backend, CONTAINER_RULES, PACKAGE_DECISIONS, PACKAGE_RULES, PROJECT, Server, fresh_database, serve_on,
};
pub use crate::registry::{
    registry_bad_credentials_are_401, registry_concurrent_first_starts_agree,
    registry_instances_on_one_database_sign_with_one_key, registry_protected_push_is_denied_and_delete_dropped,
    registry_tokens_grant_per_role_and_token_kind,
};
pub use crate::scale::{
    concurrent_misses_compile_once, many_projects_decide_through_a_small_pool,
    rule_sets_too_large_for_the_engine_are_refused_at_write_time,
};
pub use crate::shapes::{
    database_outage_answers_503, delete_honours_if_unmodified_since, gitlab_shapes_for_lists_404s_and_parameter_errors,
    metrics_count_requests_decisions_and_the_cache,
};
pub use crate::tokens::{
    deploy_tokens_have_usernames_and_registry_scopes, personal_tokens_have_scopes,
    revoked_expired_and_blocked_tokens_fail_on_every_instance, tokens_are_read_from_their_own_headers_only,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn npm_rule(pattern: &str) -> Value {
    json!({"package_name_pattern": pattern, "package_type": "npm", "minimum_access_level_for_push": "maintainer"})
}

pub async fn package_rules_crud(backend: Backend) {
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let (status, list) = s.call(Method::GET, PACKAGE_RULES, m, None).await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));

    let (status, created) = s.call(Method::POST, PACKAGE_RULES, m, Some(npm_rule("@my-scope/pkg-*"))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created,
        json!({"id": 1, "project_id": 1, "package_name_pattern": "@my-scope/pkg-*", "package_type": "npm",
               "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": null})
    );

    let (status, updated) = s
        .call(
            Method::PATCH,
            &format!("{PACKAGE_RULES}/1"),
            m,
            Some(json!({"minimum_access_level_for_delete": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["minimum_access_level_for_delete"], "owner");
    assert_eq!(updated["minimum_access_level_for_push"], "maintainer");

    let (status, list) = s.call(Method::GET, &format!("{PACKAGE_RULES}?page=1&per_page=20"), m, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([updated]));

    let (status, _) = s.call(Method::DELETE, &format!("{PACKAGE_RULES}/1"), m, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.call(Method::DELETE, &format!("{PACKAGE_RULES}/1"), m, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = s.call(Method::PATCH, &format!("{PACKAGE_RULES}/99"), m, Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // GitLab declares the rule id `type: Integer`: a non-integer is a parameter error.
    let (status, _) = s.call(Method::PATCH, &format!("{PACKAGE_RULES}/not-a-number"), m, Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

pub async fn container_rules_crud_and_unset(backend: Backend) {
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let rule = json!({"repository_path_pattern": "my-group/my-project/release-*",
                      "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"});
    let (status, created) = s.call(Method::POST, CONTAINER_RULES, m, Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let one = format!("{CONTAINER_RULES}/{}", created["id"]);
    // An empty string unsets a minimum on PATCH.
    let (status, updated) = s.call(Method::PATCH, &one, m, Some(json!({"minimum_access_level_for_push": ""}))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["minimum_access_level_for_push"], Value::Null);
    // Unsetting the other too leaves no minimum: the model refuses.
    let (status, body) = s.call(Method::PATCH, &one, m, Some(json!({"minimum_access_level_for_delete": ""}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"message": {"error": ["A rule must have at least a minimum access role for push or delete."]}})
    );
    // Outside the project's path.
    let (status, body) = s
        .call(
            Method::POST,
            CONTAINER_RULES,
            m,
            Some(json!({"repository_path_pattern": "other/x", "minimum_access_level_for_push": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"]["error"][0], "Repository path pattern should start with the project's full path");
    let (status, list) = s.call(Method::GET, CONTAINER_RULES, m, None).await;
    assert_eq!((status, list.as_array().unwrap().len()), (StatusCode::OK, 1));
    let (status, _) = s.call(Method::DELETE, &one, m, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

pub async fn parameter_and_model_errors(backend: Backend) {
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let post = |body: Value| s.call(Method::POST, PACKAGE_RULES, m, Some(body));
    let (status, body) = post(
        json!({"package_name_pattern": "*", "package_type": "composer", "minimum_access_level_for_push": "maintainer"}),
    )
    .await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"error": "package_type does not have a valid value"})));
    let (status, body) = post(json!({"package_name_pattern": "x", "package_type": "npm"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"],
        "minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided"
    );
    let (status, body) = post(npm_rule("@scope/*/x")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"message": {"error": ["Package name pattern should be a valid NPM package name with optional wildcard characters."]}})
    );
    assert_eq!(post(npm_rule("@scope/a")).await.0, StatusCode::CREATED);
    let (status, body) = post(npm_rule("@scope/a")).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": {"error": ["Package name pattern has already been taken"]}})
        )
    );
    // Uniqueness is case-sensitive, as in GitLab.
    assert_eq!(post(npm_rule("@Scope/a")).await.0, StatusCode::CREATED);
}

pub async fn authentication_and_authorization(backend: Backend) {
    let s = Server::start(backend).await;
    let (status, body) = s.call(Method::GET, PACKAGE_RULES, None, None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, json!({"message": "401 Unauthorized"})));
    assert_eq!(s.call(Method::GET, PACKAGE_RULES, Some("glpat-wrong"), None).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = s.call(Method::GET, PACKAGE_RULES, Some(&s.developer), None).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"})));
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, Some(&s.developer), Some(npm_rule("a"))).await.0,
        StatusCode::FORBIDDEN
    );
    // Non-members cannot tell the project exists.
    let (status, body) = s.call(Method::GET, PACKAGE_RULES, Some(&s.outsider), None).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"message": "404 Project Not Found"})));
    assert_eq!(
        s.call(Method::GET, "/api/v4/projects/999/packages/protection/rules", Some(&s.maintainer), None).await.0,
        StatusCode::NOT_FOUND
    );
    // Admins manage any project without membership.
    assert_eq!(s.call(Method::POST, PACKAGE_RULES, Some(&s.admin), Some(npm_rule("a"))).await.0, StatusCode::CREATED);
    // Bearer tokens work like PRIVATE-TOKEN.
    let bearer = format!("Bearer {}", s.maintainer);
    let (status, _) = s.call_with(&s.base, Method::GET, PACKAGE_RULES, Some(("Authorization", &bearer)), None).await;
    assert_eq!(status, StatusCode::OK);
    // Deploy tokens cannot manage rules.
    let (status, _) = s.call_with(&s.base, Method::GET, PACKAGE_RULES, Some(("Deploy-Token", &s.deploy)), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

pub async fn project_by_path_and_form_bodies(backend: Backend) {
    let s = Server::start(backend).await;
    let by_path = "/api/v4/projects/my-group%2Fmy-project/packages/protection/rules";
    let response = s
        .raw()
        .post(format!("{}{by_path}", s.base))
        .header("PRIVATE-TOKEN", &s.maintainer)
        .form(&[
            ("package_name_pattern", "com.acme.*"),
            ("package_type", "maven"),
            ("minimum_access_level_for_push", "owner"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, list) = s
        .call(
            Method::GET,
            "/api/v4/projects/MY-GROUP%2Fmy-project/packages/protection/rules",
            Some(&s.maintainer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["package_name_pattern"], "com.acme.*");
    assert_eq!(s.call(Method::GET, PROJECT, Some(&s.maintainer), None).await.0, StatusCode::NOT_FOUND, "no such route");
}

async fn decide(s: &Server, auth: (&str, &str), body: Value) -> (StatusCode, Value) {
    s.call_with(&s.base, Method::POST, PACKAGE_DECISIONS, Some(auth), Some(body)).await
}

pub async fn decisions_for_users_tokens_and_admins(backend: Backend) {
    let s = Server::start(backend).await;
    let rule = json!({"package_name_pattern": "@demo/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"});
    assert_eq!(s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(rule)).await.0, StatusCode::CREATED);
    let push = json!({"package_name": "@Demo/core", "package_type": "npm", "action": "push"});
    let (status, decision) = decide(&s, ("PRIVATE-TOKEN", &s.developer), push.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((decision["allowed"].clone(), decision["blocking_rule_ids"].clone()), (json!(false), json!([1])));
    let (_, decision) = decide(&s, ("PRIVATE-TOKEN", &s.maintainer), push.clone()).await;
    assert_eq!(decision["allowed"], true);
    let (_, decision) = decide(&s, ("Deploy-Token", &s.deploy), push.clone()).await;
    assert_eq!(decision["allowed"], false);
    // A deploy token of another project authenticates no one here, as in GitLab.
    assert_eq!(decide(&s, ("Deploy-Token", &s.other_deploy), push.clone()).await.0, StatusCode::UNAUTHORIZED);
    // Batch.
    let batch = json!({"requests": [push, {"package_name": "lodash", "package_type": "npm", "action": "push"}]});
    let (status, body) = decide(&s, ("PRIVATE-TOKEN", &s.developer), batch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["decisions"].as_array().unwrap().iter().map(|d| d["allowed"].clone()).collect::<Vec<_>>(),
        [json!(false), json!(true)]
    );
    // A service (admin) token decides for an explicit actor; others may not.
    let for_developer = json!({"package_name": "@demo/x", "package_type": "npm", "action": "push",
                               "actor": {"type": "user", "access_level": "developer"}});
    let (status, decision) = decide(&s, ("PRIVATE-TOKEN", &s.admin), for_developer.clone()).await;
    assert_eq!((status, decision["allowed"].clone()), (StatusCode::OK, json!(false)));
    assert_eq!(decide(&s, ("PRIVATE-TOKEN", &s.developer), for_developer).await.0, StatusCode::FORBIDDEN);
    // Wrong shape for the endpoint.
    let (status, body) =
        decide(&s, ("PRIVATE-TOKEN", &s.developer), json!({"repository_path": "a", "action": "push"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = decide(&s, ("PRIVATE-TOKEN", &s.developer), json!({"requests": [{"package_name": "a"}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The decision endpoints answer what GitLab would end to end (spec §5.1): the base
/// permission first, naming the check that refused, then protection; patterns only to
/// callers who may list the rules.
pub async fn decisions_are_gitlabs_whole_answer(backend: Backend) {
    let s = Server::start(backend).await;
    let package_rule = json!({"package_name_pattern": "@secret/*", "package_type": "npm",
                              "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"});
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(package_rule)).await.0,
        StatusCode::CREATED
    );
    let container_rule =
        json!({"repository_path_pattern": "my-group/my-project/secret-*", "minimum_access_level_for_push": "owner"});
    assert_eq!(
        s.call(Method::POST, CONTAINER_RULES, Some(&s.maintainer), Some(container_rule)).await.0,
        StatusCode::CREATED
    );
    let container_decisions = "/api/v4/projects/1/registry/protection/repository/decisions";
    let as_user = |level: &str| json!({"type": "user", "access_level": level});
    let package = |name: &str, action: &str, actor: Value| json!({"package_name": name, "package_type": "npm", "action": action, "actor": actor});

    // An unprotected package: guests and reporters may not push, developers may; only
    // maintainers and above may delete (GitLab's `destroy_package`).
    let expectations = [
        ("guest", "push", false),
        ("reporter", "push", false),
        ("developer", "push", true),
        ("developer", "delete", false),
        ("maintainer", "delete", true),
    ];
    for (level, action, allowed) in expectations {
        let (status, decision) =
            decide(&s, ("PRIVATE-TOKEN", &s.admin), package("lodash", action, as_user(level))).await;
        assert_eq!(status, StatusCode::OK, "{decision}");
        assert_eq!(decision["allowed"], allowed, "{level} {action}: {decision}");
        let refused_by = if allowed { Value::Null } else { json!("base_permission") };
        assert_eq!(decision["refused_by"], refused_by, "{level} {action}: {decision}");
        assert_eq!(decision["blocking_rule_ids"], json!([]), "{decision}");
    }
    let (_, decision) =
        decide(&s, ("PRIVATE-TOKEN", &s.admin), package("lodash", "delete", as_user("developer"))).await;
    assert_eq!(decision["ability"], "destroy_package", "{decision}");
    assert!(decision["reason"].as_str().unwrap().contains("maintainer"), "{decision}");

    // Base permission holds, protection refuses: the check is named.
    let (_, decision) =
        decide(&s, ("PRIVATE-TOKEN", &s.admin), package("@secret/x", "delete", as_user("maintainer"))).await;
    assert_eq!(
        (decision["allowed"].clone(), decision["refused_by"].clone()),
        (json!(false), json!("protection_rules"))
    );

    // A developer may not list the rules, so the reason says how many block, not which.
    let own = json!({"package_name": "@secret/x", "package_type": "npm", "action": "push"});
    let (_, decision) = decide(&s, ("PRIVATE-TOKEN", &s.developer), own.clone()).await;
    assert_eq!(decision["refused_by"], "protection_rules", "{decision}");
    let reason = decision["reason"].as_str().unwrap();
    assert!(!reason.contains("@secret"), "the pattern leaked to a developer: {decision}");
    assert_eq!(reason, "push is blocked by a package protection rule");
    let (_, decision) = decide(&s, ("Deploy-Token", &s.deploy), own.clone()).await;
    assert!(
        !decision["reason"].as_str().unwrap().contains("@secret"),
        "the pattern leaked to a deploy token: {decision}"
    );
    // A maintainer may, and reads it (an admin deciding for a developer too).
    let for_developer = package("@secret/x", "push", as_user("developer"));
    let (_, decision) = decide(&s, ("PRIVATE-TOKEN", &s.admin), for_developer).await;
    assert!(decision["reason"].as_str().unwrap().contains("@secret/*"), "{decision}");

    // Container images: developers may delete them, deploy tokens never.
    let image = |action: &str, actor: Value| json!({"repository_path": "my-group/my-project/app", "action": action, "actor": actor});
    let container = |body: Value| {
        s.call_with(&s.base, Method::POST, container_decisions, Some(("PRIVATE-TOKEN", &s.admin)), Some(body))
    };
    let (_, decision) = container(image("delete", as_user("developer"))).await;
    assert_eq!(decision["allowed"], true, "{decision}");
    let (_, decision) = container(image("delete", json!({"type": "deploy_token"}))).await;
    assert_eq!(
        (decision["allowed"].clone(), decision["refused_by"].clone(), decision["ability"].clone()),
        (json!(false), json!("base_permission"), json!("destroy_container_image")),
        "{decision}"
    );
    let (_, decision) = container(image("push", as_user("reporter"))).await;
    assert_eq!(decision["refused_by"], "base_permission", "{decision}");
    // The caller's own deploy token, refused the same way before any rule is read.
    let own_delete = json!({"repository_path": "my-group/my-project/secret-app", "action": "delete"});
    let (status, decision) = s
        .call_with(&s.base, Method::POST, container_decisions, Some(("Deploy-Token", &s.deploy)), Some(own_delete))
        .await;
    assert_eq!((status, decision["refused_by"].clone()), (StatusCode::OK, json!("base_permission")), "{decision}");
    assert_eq!(decision["blocking_rule_ids"], json!([]), "{decision}");
}

pub async fn decisions_see_rule_changes_at_once(backend: Backend) {
    let s = Server::start(backend).await;
    let push = json!({"package_name": "internal-tool", "package_type": "pypi", "action": "push"});
    for round in 0..5 {
        let (_, decision) = decide(&s, ("PRIVATE-TOKEN", &s.developer), push.clone()).await;
        assert_eq!(decision["allowed"], true, "round {round}");
        let rule = json!({"package_name_pattern": "internal_*", "package_type": "pypi", "minimum_access_level_for_push": "maintainer"});
        let (status, created) = s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(rule)).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, decision) = decide(&s, ("PRIVATE-TOKEN", &s.developer), push.clone()).await;
        assert_eq!(decision["allowed"], false, "round {round}: the new rule must apply at once");
        let one = format!("{PACKAGE_RULES}/{}", created["id"]);
        assert_eq!(s.call(Method::DELETE, &one, Some(&s.maintainer), None).await.0, StatusCode::NO_CONTENT);
    }
}

pub async fn concurrent_identical_creates_give_one_201(backend: Backend) {
    let s = Server::start(backend).await;
    let attempts = (0..12).map(|_| s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@race/*"))));
    let statuses: Vec<StatusCode> = futures_join_all(attempts).await.into_iter().map(|(status, _)| status).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == StatusCode::CREATED || s == StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );
    let (_, list) = s.call(Method::GET, PACKAGE_RULES, Some(&s.maintainer), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// Run futures concurrently on the test's runtime.
pub async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    let mut outputs = Vec::with_capacity(set.len());
    let pinned: Vec<_> = set.into_iter().map(Box::pin).collect();
    let mut pending: Vec<_> = pinned.into_iter().map(Some).collect();
    // Poll all of them together so the requests really overlap.
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in pending.iter_mut() {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        outputs.push(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    outputs
}

pub async fn two_instances_share_one_database(backend: Backend) {
    let s = Server::start(backend).await;
    let other = serve_on(&s.url).await;
    let push = json!({"package_name": "@shared/x", "package_type": "npm", "action": "push"});
    let on_other = |body: Value| {
        s.call_with(&other, Method::POST, PACKAGE_DECISIONS, Some(("PRIVATE-TOKEN", &s.developer)), Some(body))
    };
    assert_eq!(on_other(push.clone()).await.1["allowed"], true);
    assert_eq!(
        s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@shared/*"))).await.0,
        StatusCode::CREATED
    );
    assert_eq!(on_other(push).await.1["allowed"], false, "a rule created on one instance blocks on the other at once");
    let _ = fresh_database; // each test has its own database; nothing to clean between instances
}

pub async fn hostile_requests_get_4xx(backend: Backend) {
    let s = Server::start(backend).await;
    let client = s.raw();
    let post_raw = |body: Vec<u8>, content_type: &'static str| {
        client
            .post(format!("{}{PACKAGE_RULES}", s.base))
            .header("PRIVATE-TOKEN", &s.maintainer)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    for body in [&b"{"[..], b"[]", b"null", b"\xff\xfe", b"{\"package_name_pattern\": 1e999}"] {
        let status = post_raw(body.to_vec(), "application/json").await.unwrap().status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{:?}", String::from_utf8_lossy(body));
    }
    let huge = vec![b' '; 2 * 1024 * 1024];
    assert_eq!(post_raw(huge, "application/json").await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = s
        .call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(json!({"package_name_pattern": "x".repeat(10_000), "package_type": "generic", "minimum_access_level_for_push": "owner"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = s
        .call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(json!({"package_name_pattern": "a'; DROP TABLE projects; --\u{0}", "package_type": "generic", "minimum_access_level_for_push": "owner"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "NUL cannot be stored");
    let (status, created) = s
        .call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(json!({"package_name_pattern": "a'; DROP TABLE projects; --", "package_type": "generic", "minimum_access_level_for_push": "owner"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["package_name_pattern"], "a'; DROP TABLE projects; --");
    for path in [
        "/api/v4/projects/..%2F..%2Fetc/packages/protection/rules",
        "/api/v4/projects/a%00b/packages/protection/rules",
        "/api/v4/projects/%FF/packages/protection/rules",
        "/api/v4/projects/-1/packages/protection/rules",
        "/api/v4/projects/99999999999999999999/packages/protection/rules",
    ] {
        let (status, _) = s.call(Method::GET, path, Some(&s.maintainer), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    hostile_regressions(&s).await;
    // Still serving.
    assert_eq!(s.call(Method::GET, PACKAGE_RULES, Some(&s.maintainer), None).await.0, StatusCode::OK);
}

/// What `tests/python/test_hostile.py` found, pinned.
async fn hostile_regressions(s: &Server) {
    let maintainer = Some(s.maintainer.as_str());
    // A signed project id is a path, as GitLab reads `:id` (`/^\d+$/` is an id): no project `+1`.
    let (status, _) = s.call(Method::GET, "/api/v4/projects/+1/packages/protection/rules", maintainer, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Rule ids are `type: Integer` in GitLab: anything else is 400; an integer naming nothing 404.
    let invalid = [
        (Method::DELETE, format!("{PACKAGE_RULES}/1.5"), "package_protection_rule_id"),
        (Method::PATCH, format!("{CONTAINER_RULES}/abc"), "protection_rule_id"),
    ];
    for (method, path, param) in invalid {
        let (status, body) = s.call(method, &path, maintainer, Some(json!({}))).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"error": format!("{param} is invalid")})));
    }
    let huge = format!("{PACKAGE_RULES}/99999999999999999999");
    assert_eq!(s.call(Method::DELETE, &huge, maintainer, None).await.0, StatusCode::NOT_FOUND);
    // A method the route lacks: GitLab's JSON 405, not an empty body.
    let (status, body) = s.call(Method::PUT, PACKAGE_RULES, maintainer, None).await;
    assert_eq!((status, body), (StatusCode::METHOD_NOT_ALLOWED, json!({"error": "405 Not Allowed"})));
    // Bodies of types GitLab does not read are 415; text/plain is read as no parameters;
    // bad percent-encoding or invalid UTF-8 in a form is 400, not a pattern stored altered.
    let form = "package_type=generic&minimum_access_level_for_push=owner&package_name_pattern=";
    let cases = [
        ("application/xml", r#"{"package_name_pattern": "x"}"#.to_owned(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("text/plain", npm_rule("@a/text-plain").to_string(), StatusCode::BAD_REQUEST),
        ("application/x-www-form-urlencoded", format!("{form}%FF"), StatusCode::BAD_REQUEST),
        ("application/x-www-form-urlencoded", format!("{form}%G1"), StatusCode::BAD_REQUEST),
        ("application/x-www-form-urlencoded", format!("{form}ok%2A"), StatusCode::CREATED),
    ];
    for (content_type, body, expected) in cases {
        let response = s
            .raw()
            .post(format!("{}{PACKAGE_RULES}", s.base))
            .header("PRIVATE-TOKEN", &s.maintainer)
            .header("Content-Type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{content_type}: {body}");
    }
    // NUL is refused before the model looks at the pattern, for either kind.
    let nul =
        json!({"repository_path_pattern": "my-group/my-project/a\u{0}", "minimum_access_level_for_push": "owner"});
    let (status, body) = s.call(Method::POST, CONTAINER_RULES, maintainer, Some(nul)).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "repository_path_pattern must not contain NUL characters"}))
    );
    // Authentication schemes are case-insensitive.
    let lowercase = s
        .raw()
        .get(format!("{}{PACKAGE_RULES}", s.base))
        .header("Authorization", format!("bearer {}", s.maintainer))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), StatusCode::OK);
    // A client waiting for `100 Continue` with a body over the limit is refused before it
    // sends the body, and the connection closed.
    let address = s.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST {PACKAGE_RULES} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {}\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n\r\n",
        s.maintainer
    );
    let (answer, _) = raw_exchange(&address, vec![head.into_bytes()]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    // A client that writes its whole oversized body first reads the 413 (the server drains
    // the body instead of resetting the connection mid-write), and the connection goes on
    // to serve its next request.
    let oversized = format!(
        "POST {PACKAGE_RULES} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n{body}",
        token = s.maintainer,
        length = 2 * 1024 * 1024,
        body = " ".repeat(2 * 1024 * 1024),
    );
    let next = format!(
        "GET {PACKAGE_RULES} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {}\r\nConnection: close\r\n\r\n",
        s.maintainer
    );
    let (answer, write_error) = raw_exchange(&address, vec![oversized.into_bytes(), next.into_bytes()]).await;
    assert_eq!(write_error, None, "the server reset the connection while the body was being sent");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 1, "the next request on the connection: {answer}");
}

/// Write `messages` to one connection to `address`, then read until the server closes it.
/// Returns what was read and the first write error, if any.
async fn raw_exchange(address: &str, messages: Vec<Vec<u8>>) -> (String, Option<String>) {
    let address = address.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let write_error = messages.iter().find_map(|message| stream.write_all(message).err().map(|e| e.to_string()));
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (String::from_utf8_lossy(&answer).into_owned(), write_error)
    })
    .await
    .unwrap()
}

/// While one rule's pattern flips between `@a/*` and `@b/*`, every batch decision sees
/// exactly one of the two states: never both names blocked, never neither.
pub async fn decisions_never_see_half_applied_changes(backend: Backend) {
    let s = Server::start(backend).await;
    let (status, rule) = s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(npm_rule("@a/*"))).await;
    assert_eq!(status, StatusCode::CREATED);
    let one = format!("{PACKAGE_RULES}/{}", rule["id"]);
    let flips = async {
        for i in 0..40 {
            let pattern = if i % 2 == 0 { "@b/*" } else { "@a/*" };
            let (status, _) =
                s.call(Method::PATCH, &one, Some(&s.maintainer), Some(json!({"package_name_pattern": pattern}))).await;
            assert_eq!(status, StatusCode::OK);
        }
    };
    let batch = json!({"requests": [
        {"package_name": "@a/x", "package_type": "npm", "action": "push"},
        {"package_name": "@b/x", "package_type": "npm", "action": "push"}
    ]});
    let decisions = async {
        let mut seen = 0;
        for _ in 0..200 {
            let (status, body) = decide(&s, ("PRIVATE-TOKEN", &s.developer), batch.clone()).await;
            assert_eq!(status, StatusCode::OK);
            let blocked: Vec<bool> =
                body["decisions"].as_array().unwrap().iter().map(|d| d["allowed"] == false).collect();
            assert_eq!(blocked.iter().filter(|&&b| b).count(), 1, "half-applied view: {body}");
            seen += 1;
        }
        seen
    };
    let ((), seen) = tokio::join!(flips, decisions);
    assert_eq!(seen, 200);
}

/// A connection of the test's own to the server's database, for what HTTP cannot show.
pub async fn direct(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(2).connect(url).await.unwrap()
}

pub async fn rules_version(db: &sqlx::AnyPool) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT rules_version FROM projects WHERE id = 1").fetch_one(db).await.unwrap().get(0)
}

/// The next container minimum after `level`, so that every PATCH really changes the value.
fn next_level(level: &Value) -> &'static str {
    match level.as_str() {
        Some("maintainer") => "owner",
        Some("owner") => "admin",
        _ => "maintainer",
    }
}

/// Two maintainers PATCH different fields of one container rule at the same moment, round
/// after round: both changes must be in the stored rule every time. Before PATCH read and
/// wrote the rule in one locked transaction, one of the two was lost in every round.
pub async fn concurrent_patches_of_different_fields_both_survive(backend: Backend) {
    const ROUNDS: usize = 1_000;
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let rule = json!({"repository_path_pattern": "my-group/my-project/r",
                      "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "maintainer"});
    let (status, mut expected) = s.call(Method::POST, CONTAINER_RULES, m, Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{expected}");
    let one = format!("{CONTAINER_RULES}/{}", expected["id"]);
    let patch = |field: &'static str, value: Value| {
        let body = Value::Object([(field.to_owned(), value)].into_iter().collect());
        s.call(Method::PATCH, &one, m, Some(body))
    };
    let started = std::time::Instant::now();
    let (mut lost, mut lost_rounds) = (0, Vec::new());
    for round in 0..ROUNDS {
        let pattern = json!(format!("my-group/my-project/r{round}"));
        let push = json!(next_level(&expected["minimum_access_level_for_push"]));
        let delete = json!(next_level(&expected["minimum_access_level_for_delete"]));
        // Every pair of the three fields, in turn.
        let [(field_a, value_a), (field_b, value_b)] = match round % 3 {
            0 => [("minimum_access_level_for_push", push), ("repository_path_pattern", pattern)],
            1 => [("minimum_access_level_for_delete", delete), ("repository_path_pattern", pattern)],
            _ => [("minimum_access_level_for_push", push), ("minimum_access_level_for_delete", delete)],
        };
        let ((status_a, body_a), (status_b, body_b)) =
            tokio::join!(patch(field_a, value_a.clone()), patch(field_b, value_b.clone()));
        assert_eq!((status_a, status_b), (StatusCode::OK, StatusCode::OK), "round {round}: {body_a} {body_b}");
        let (status, list) = s.call(Method::GET, CONTAINER_RULES, m, None).await;
        assert_eq!(status, StatusCode::OK);
        let stored = list[0].clone();
        let lost_here = usize::from(stored[field_a] != value_a) + usize::from(stored[field_b] != value_b);
        if lost_here > 0 {
            lost += lost_here;
            lost_rounds.push(round);
        }
        expected = stored;
    }
    eprintln!("{backend:?}: {ROUNDS} rounds of two concurrent PATCHes, {lost} lost changes, {:.1?}", started.elapsed());
    lost_rounds.truncate(10);
    assert_eq!((lost, lost_rounds), (0, vec![]), "changes lost, and the first rounds they were lost in");
}

/// Two maintainers each unset a different minimum of one container rule at the same moment.
/// Each PATCH alone is valid; both together would leave no minimum. Validation sees the rule
/// as the other PATCH left it, so exactly one gets 200 and the other GitLab's 422.
pub async fn concurrent_unsets_are_validated_against_each_other(backend: Backend) {
    const ROUNDS: usize = 200;
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let rule = json!({"repository_path_pattern": "my-group/my-project/u", "minimum_access_level_for_push": "owner"});
    let (status, created) = s.call(Method::POST, CONTAINER_RULES, m, Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let one = format!("{CONTAINER_RULES}/{}", created["id"]);
    let no_minimum =
        json!({"message": {"error": ["A rule must have at least a minimum access role for push or delete."]}});
    for round in 0..ROUNDS {
        let both = json!({"minimum_access_level_for_push": "owner", "minimum_access_level_for_delete": "owner"});
        assert_eq!(s.call(Method::PATCH, &one, m, Some(both)).await.0, StatusCode::OK);
        let (push, delete) = tokio::join!(
            s.call(Method::PATCH, &one, m, Some(json!({"minimum_access_level_for_push": ""}))),
            s.call(Method::PATCH, &one, m, Some(json!({"minimum_access_level_for_delete": ""}))),
        );
        let (_, list) = s.call(Method::GET, CONTAINER_RULES, m, None).await;
        let stored =
            (list[0]["minimum_access_level_for_push"].clone(), list[0]["minimum_access_level_for_delete"].clone());
        match (push.0, delete.0) {
            (StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY) => {
                assert_eq!(delete.1, no_minimum, "round {round}");
                assert_eq!(stored, (Value::Null, json!("owner")), "round {round}");
            }
            (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::OK) => {
                assert_eq!(push.1, no_minimum, "round {round}");
                assert_eq!(stored, (json!("owner"), Value::Null), "round {round}");
            }
            other => panic!("round {round}: {other:?}, {} {}, stored {stored:?}", push.1, delete.1),
        }
    }
}

/// Record every UPDATE and DELETE of a container rule, in commit order, in `rule_events`.
async fn record_container_rule_events(db: &sqlx::AnyPool, backend: Backend) {
    let sql = match backend {
        Backend::Sqlite => {
            "CREATE TABLE rule_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, rule_id INTEGER NOT NULL, event TEXT NOT NULL);
             CREATE TRIGGER rule_updated AFTER UPDATE ON container_repository_protection_rules
                 BEGIN INSERT INTO rule_events (rule_id, event) VALUES (OLD.id, 'update'); END;
             CREATE TRIGGER rule_deleted AFTER DELETE ON container_repository_protection_rules
                 BEGIN INSERT INTO rule_events (rule_id, event) VALUES (OLD.id, 'delete'); END;"
        }
        Backend::Postgres => {
            "CREATE TABLE rule_events (seq BIGSERIAL PRIMARY KEY, rule_id BIGINT NOT NULL, event TEXT NOT NULL);
             CREATE FUNCTION record_rule_event() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN INSERT INTO rule_events (rule_id, event) VALUES (OLD.id, lower(TG_OP)); RETURN NULL; END $$;
             CREATE TRIGGER rule_events AFTER UPDATE OR DELETE ON container_repository_protection_rules
                 FOR EACH ROW EXECUTE FUNCTION record_rule_event();"
        }
    };
    sqlx::raw_sql(sql).execute(db).await.unwrap();
}

/// A PATCH racing a DELETE of the same rule: the PATCH answers 200 only if it changed the
/// row before the DELETE removed it (the database's own record of events says so), else
/// 404; no acknowledged write is missing from `rules_version`, and no refused one is in it.
pub async fn patch_racing_delete_is_200_only_for_a_row_that_still_existed(backend: Backend) {
    const ROUNDS: usize = 300;
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let db = direct(&s.url).await;
    record_container_rule_events(&db, backend).await;
    let version_before = rules_version(&db).await;
    let (mut acknowledged_writes, mut patched_first, mut deleted_first) = (0, 0, 0);
    let started = std::time::Instant::now();
    for round in 0..ROUNDS {
        let rule = json!({"repository_path_pattern": format!("my-group/my-project/d{round}"),
                          "minimum_access_level_for_push": "maintainer"});
        let (status, created) = s.call(Method::POST, CONTAINER_RULES, m, Some(rule)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        acknowledged_writes += 1;
        let one = format!("{CONTAINER_RULES}/{}", created["id"]);
        let patch = s.call(Method::PATCH, &one, m, Some(json!({"minimum_access_level_for_push": "owner"})));
        let delete = s.call(Method::DELETE, &one, m, None);
        // Either request first on the wire, in turn.
        let ((patch_status, patch_body), (delete_status, delete_body)) = if round % 2 == 0 {
            tokio::join!(patch, delete)
        } else {
            let (deleted, patched) = tokio::join!(delete, patch);
            (patched, deleted)
        };
        assert_eq!(delete_status, StatusCode::NO_CONTENT, "round {round}: {delete_body}");
        acknowledged_writes += 1;
        let events: Vec<String> = sqlx::query_scalar("SELECT event FROM rule_events WHERE rule_id = $1 ORDER BY seq")
            .bind(created["id"].as_i64().unwrap())
            .fetch_all(&db)
            .await
            .unwrap();
        match patch_status {
            StatusCode::OK => {
                assert_eq!(events, ["update", "delete"], "round {round}: a 200 for a row that was gone");
                assert_eq!(patch_body["minimum_access_level_for_push"], "owner");
                acknowledged_writes += 1;
                patched_first += 1;
            }
            StatusCode::NOT_FOUND => {
                assert_eq!(events, ["delete"], "round {round}");
                assert_eq!(patch_body, json!({"message": "404 Not found"}));
                deleted_first += 1;
            }
            other => panic!("round {round}: PATCH answered {other}: {patch_body}"),
        }
    }
    let (status, list) = s.call(Method::GET, CONTAINER_RULES, m, None).await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    assert_eq!(rules_version(&db).await - version_before, acknowledged_writes, "one version per acknowledged write");
    eprintln!(
        "{backend:?}: {ROUNDS} PATCH/DELETE races: PATCH first {patched_first}, DELETE first {deleted_first}, {:.1?}",
        started.elapsed()
    );
}

fn is_check_violation(result: Result<sqlx::any::AnyQueryResult, sqlx::Error>) -> bool {
    matches!(result, Err(sqlx::Error::Database(error)) if error.kind() == sqlx::error::ErrorKind::CheckViolation)
}

/// Insert a rule by SQL, bypassing the server: `(minimum for push, minimum for delete)`.
async fn insert_package_rule(
    db: &sqlx::AnyPool,
    pattern: &str,
    push: Option<i64>,
    delete: Option<i64>,
) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    sqlx::query(
        "INSERT INTO package_protection_rules (project_id, package_name_pattern, package_type, \
         minimum_access_level_for_push, minimum_access_level_for_delete) VALUES (1, $1, 'generic', $2, $3)",
    )
    .bind(pattern)
    .bind(push)
    .bind(delete)
    .execute(db)
    .await
}

async fn insert_container_rule(
    db: &sqlx::AnyPool,
    pattern: &str,
    push: Option<i64>,
    delete: Option<i64>,
) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    sqlx::query(
        "INSERT INTO container_repository_protection_rules (project_id, repository_path_pattern, \
         minimum_access_level_for_push, minimum_access_level_for_delete) VALUES (1, $1, $2, $3)",
    )
    .bind(pattern)
    .bind(push)
    .bind(delete)
    .execute(db)
    .await
}

/// The levels GitLab accepts per rule kind and field, and at least one minimum, hold in the
/// schema itself: SQL that goes around the server cannot store a rule the API would refuse.
pub async fn schema_refuses_impossible_rules(backend: Backend) {
    let s = Server::start(backend).await;
    let db = direct(&s.url).await;
    // Package rules: push maintainer (40), owner (50), admin (60); delete owner or admin only.
    for (push, delete) in
        [(Some(30), None), (Some(45), None), (Some(0), Some(50)), (None, Some(40)), (None, Some(70)), (None, None)]
    {
        let refused = is_check_violation(insert_package_rule(&db, "p", push, delete).await);
        assert!(refused, "package rule with push {push:?}, delete {delete:?} was stored");
    }
    for (pattern, push, delete) in [("a", Some(40), None), ("b", None, Some(50)), ("c", Some(60), Some(60))] {
        insert_package_rule(&db, pattern, push, delete).await.unwrap();
    }
    // Container rules: maintainer, owner or admin for either field.
    for (push, delete) in [(Some(30), None), (None, Some(20)), (Some(40), Some(-1)), (Some(61), None), (None, None)] {
        let refused = is_check_violation(insert_container_rule(&db, "my-group/my-project/x", push, delete).await);
        assert!(refused, "container rule with push {push:?}, delete {delete:?} was stored");
    }
    insert_container_rule(&db, "my-group/my-project/y", None, Some(40)).await.unwrap();
    // Changing a stored rule is held to the same.
    for sql in [
        "UPDATE package_protection_rules SET minimum_access_level_for_delete = 40 WHERE package_name_pattern = 'a'",
        "UPDATE package_protection_rules SET minimum_access_level_for_push = NULL WHERE package_name_pattern = 'a'",
        "UPDATE container_repository_protection_rules SET minimum_access_level_for_delete = NULL",
    ] {
        assert!(is_check_violation(sqlx::query(sql).execute(&db).await), "{sql}");
    }
    // What SQL stored is what the API lists.
    let (status, list) = s.call(Method::GET, PACKAGE_RULES, Some(&s.maintainer), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
}

/// A database created before the checks existed takes the migration that adds them: its
/// rules are kept as they were (ids, fields, and the ids of deleted rules never given out
/// again), and from then on the checks hold. A database holding a rule the checks refuse
/// does not migrate, and keeps its data, until the rule is fixed.
pub async fn checks_migration_keeps_an_existing_database(backend: Backend) {
    use pkgprotect::{AccessLevel, RuleKind};
    let url = fresh_database(backend).await;
    let db = direct(&url).await;
    let mut first_only = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    first_only.migrations = first_only.migrations.iter().filter(|m| m.version == 1).cloned().collect::<Vec<_>>().into();
    first_only.run(&db).await.unwrap();
    sqlx::query("INSERT INTO projects (full_path, full_path_lower) VALUES ('g/p', 'g/p')").execute(&db).await.unwrap();
    for (pattern, push, delete) in [("one", Some(40), None), ("two", None, Some(60)), ("three", Some(50), Some(50))] {
        insert_package_rule(&db, pattern, push, delete).await.unwrap();
    }
    sqlx::query("DELETE FROM package_protection_rules WHERE package_name_pattern = 'three'")
        .execute(&db)
        .await
        .unwrap();
    insert_container_rule(&db, "g/p/a", Some(40), Some(40)).await.unwrap();
    // Tokens issued before scopes existed: they keep what they could do (`api`, every registry scope).
    sqlx::query("INSERT INTO users (username) VALUES ('u')").execute(&db).await.unwrap();
    sqlx::query("INSERT INTO tokens (token_sha256, name, user_id, created_at) VALUES ('personal', 'n', 1, 0)")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tokens (token_sha256, name, deploy_project_id, created_at) VALUES ('deploy', 'd', 1, 0)")
        .execute(&db)
        .await
        .unwrap();
    // A rule the checks refuse, stored before they existed (here: a developer minimum).
    insert_container_rule(&db, "g/p/bad", Some(30), None).await.unwrap();
    let refused = pkgprotect_server::db::Store::connect(&url).await;
    assert!(refused.is_err(), "a database with an impossible rule migrated");
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM container_repository_protection_rules").fetch_one(&db).await.unwrap();
    assert_eq!(kept, 2, "the failed migration changed the data");
    sqlx::query("UPDATE container_repository_protection_rules SET minimum_access_level_for_push = 40 WHERE repository_path_pattern = 'g/p/bad'")
        .execute(&db)
        .await
        .unwrap();
    let store = pkgprotect_server::db::Store::connect(&url).await.unwrap();
    let package = store.rules(1, RuleKind::Package).await.unwrap();
    let summary: Vec<_> = package
        .iter()
        .map(|r| {
            (r.id(), r.pattern().to_owned(), r.minimum_access_level_for_push(), r.minimum_access_level_for_delete())
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Some(1), "one".to_owned(), Some(AccessLevel::Maintainer), None),
            (Some(2), "two".to_owned(), None, Some(AccessLevel::Admin)),
        ]
    );
    assert_eq!(store.rules(1, RuleKind::ContainerRepository).await.unwrap().len(), 2);
    let api = pkgprotect_server::auth::PersonalScopes::default().with(pkgprotect_server::auth::PersonalScope::Api);
    assert_eq!(
        store.token_owner("personal").await.unwrap(),
        Some(pkgprotect_server::db::TokenOwner::User { user_id: 1, is_admin: false, scopes: api })
    );
    assert_eq!(
        store.token_owner("deploy").await.unwrap(),
        Some(pkgprotect_server::db::TokenOwner::DeployToken {
            project_id: 1,
            scopes: pkgprotect::permissions::DeployTokenScopes::ALL
        })
    );
    let listed = store.tokens(None).await.unwrap();
    assert_eq!(listed[1].username.as_deref(), Some("gitlab+deploy-token-2"));
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO package_protection_rules (project_id, package_name_pattern, package_type, \
         minimum_access_level_for_push) VALUES (1, 'four', 'generic', 40) RETURNING id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(next, 4, "the id of the deleted rule 3 was given out again");
    assert!(is_check_violation(insert_package_rule(&db, "five", None, None).await));
    assert!(is_check_violation(insert_container_rule(&db, "g/p/c", Some(10), None).await));
    store.close().await;
}

/// GitLab's probe endpoints, and the request id every answer carries for the access log.
pub async fn health_liveness_readiness_and_request_ids(backend: Backend) {
    let s = Server::start(backend).await;
    let health = s.raw().get(format!("{}/-/health", s.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let id = health.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert!(id.as_deref().is_some_and(|id| !id.is_empty()), "no request id");
    assert_eq!(health.text().await.unwrap(), "GitLab OK");
    let (status, body) = s.call(Method::GET, "/-/liveness", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = s.call(Method::GET, "/-/readiness", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "ok", "db_check": [{"status": "ok"}], "engine_check": [{"status": "ok"}]}));
    // Each request gets its own id.
    let again = s.raw().get(format!("{}/-/health", s.base)).send().await.unwrap();
    assert_ne!(again.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned), id);
}
