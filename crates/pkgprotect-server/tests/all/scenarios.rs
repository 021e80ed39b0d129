//! One function per behaviour, run against each backend by `main.rs`.

use crate::harness::{
    Backend, CONTAINER_RULES, PACKAGE_DECISIONS, PACKAGE_RULES, PROJECT, Server, fresh_database, serve_on,
};
pub use crate::scale::many_projects_decide_through_a_small_pool;
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
    // A deploy token of another project learns nothing about this one.
    assert_eq!(decide(&s, ("Deploy-Token", &s.other_deploy), push.clone()).await.0, StatusCode::NOT_FOUND);
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
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
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
    // A body announced over the limit is refused before it is sent, and the connection closed.
    let address = s.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST {PACKAGE_RULES} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {}\r\nContent-Length: 10485760\r\n\r\n",
        s.maintainer
    );
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
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
