//! The audit trail of rule changes, and online backups.

use crate::harness::{Backend, CONTAINER_RULES, PACKAGE_RULES, Server};
use crate::scenarios::{direct, futures_join_all, rules_version};
use pkgprotect::RuleKind;
use pkgprotect_server::admin::{self, AdminError};
use pkgprotect_server::db::{AuditEntry, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every audit entry of project 1, oldest first.
async fn trail(url: &str) -> Vec<AuditEntry> {
    let store = Store::connect(url).await.unwrap();
    let mut entries = store.audit(Some(1), 1_000_000).await.unwrap();
    store.close().await;
    entries.reverse();
    entries
}

async fn user_id(s: &Server, token: &str) -> i64 {
    let (status, user) = s.call(Method::GET, "/api/v4/user", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    user["id"].as_i64().unwrap()
}

/// Asserts `entry` records `action` of rule `rule_id` of `kind` by `(user id, username, admin)`.
fn assert_entry(
    entry: &AuditEntry,
    action: &str,
    kind: RuleKind,
    rule_id: &Value,
    actor: (i64, &str, bool),
    before: Option<&Value>,
    after: Option<&Value>,
) {
    assert_eq!(entry.action, action, "{entry:?}");
    assert_eq!(entry.rule_kind, kind.as_str(), "{entry:?}");
    assert_eq!(Some(entry.rule_id), rule_id.as_i64(), "{entry:?}");
    assert_eq!((entry.project_id, entry.project.as_deref()), (1, Some("my-group/my-project")));
    assert_eq!(entry.actor_kind, "user");
    assert_eq!(
        (entry.actor_user_id, entry.actor_username.as_deref(), entry.actor_is_admin),
        (Some(actor.0), Some(actor.1), actor.2)
    );
    assert_eq!(entry.before.as_ref(), before, "before of {entry:?}");
    assert_eq!(entry.after.as_ref(), after, "after of {entry:?}");
    let now = pkgprotect_server::db::unix_now();
    assert!((now - 120..=now).contains(&entry.at), "at {} is not now ({now})", entry.at);
}

/// Create, PATCH and DELETE through HTTP, by a maintainer and by an administrator: one entry
/// each, with the API's own entity before and after. Refused changes record nothing.
pub async fn rule_changes_are_audited_with_actor_before_and_after(backend: Backend) {
    let s = Server::start(backend).await;
    let (m, root) = (Some(s.maintainer.as_str()), Some(s.admin.as_str()));
    let maint = (user_id(&s, &s.maintainer).await, "maint", false);
    let admin = (user_id(&s, &s.admin).await, "root", true);

    let npm = json!({"package_name_pattern": "@audit/*", "package_type": "npm", "minimum_access_level_for_push": "maintainer"});
    let (status, created) = s.call(Method::POST, PACKAGE_RULES, m, Some(npm)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let package = format!("{PACKAGE_RULES}/{}", created["id"]);
    let (status, updated) =
        s.call(Method::PATCH, &package, root, Some(json!({"minimum_access_level_for_delete": "owner"}))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    // A PATCH that changes nothing is still a 200, and still recorded.
    let (status, same) =
        s.call(Method::PATCH, &package, m, Some(json!({"minimum_access_level_for_delete": "owner"}))).await;
    assert_eq!((status, &same), (StatusCode::OK, &updated));

    let container =
        json!({"repository_path_pattern": "my-group/my-project/audit-*", "minimum_access_level_for_push": "owner"});
    let (status, c_created) = s.call(Method::POST, CONTAINER_RULES, root, Some(container)).await;
    assert_eq!(status, StatusCode::CREATED, "{c_created}");
    let one_container = format!("{CONTAINER_RULES}/{}", c_created["id"]);
    let (status, c_updated) = s
        .call(
            Method::PATCH,
            &one_container,
            m,
            Some(json!({"repository_path_pattern": "my-group/my-project/audited-*"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c_updated}");

    let before_refusals = trail(&s.url).await.len();
    // Refused: GitLab's 422 (no minimum left), 400, 403, 404 for a missing rule, a duplicate create.
    let (status, body) =
        s.call(Method::PATCH, &one_container, m, Some(json!({"minimum_access_level_for_push": ""}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = s.call(Method::PATCH, &package, m, Some(json!({"minimum_access_level_for_push": "guest"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .call(Method::PATCH, &package, Some(&s.developer), Some(json!({"minimum_access_level_for_push": "owner"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let dup =
        json!({"package_name_pattern": "@audit/*", "package_type": "npm", "minimum_access_level_for_push": "owner"});
    let (status, _) = s.call(Method::POST, PACKAGE_RULES, m, Some(dup)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(trail(&s.url).await.len(), before_refusals, "a refused change was recorded");

    let (status, _) = s.call(Method::DELETE, &package, m, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.call(Method::DELETE, &one_container, root, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The rule is gone: PATCH and DELETE are 404s, and record nothing.
    let (status, body) =
        s.call(Method::PATCH, &package, m, Some(json!({"minimum_access_level_for_push": "owner"}))).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"message": "404 Not found"})));
    let (status, _) = s.call(Method::DELETE, &one_container, root, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let entries = trail(&s.url).await;
    assert_eq!(entries.len(), 7, "{entries:#?}");
    let p = RuleKind::Package;
    let c = RuleKind::ContainerRepository;
    assert_entry(&entries[0], "create", p, &created["id"], maint, None, Some(&created));
    assert_entry(&entries[1], "update", p, &created["id"], admin, Some(&created), Some(&updated));
    assert_entry(&entries[2], "update", p, &created["id"], maint, Some(&updated), Some(&updated));
    assert_entry(&entries[3], "create", c, &c_created["id"], admin, None, Some(&c_created));
    assert_entry(&entries[4], "update", c, &c_created["id"], maint, Some(&c_created), Some(&c_updated));
    assert_entry(&entries[5], "delete", p, &created["id"], maint, Some(&updated), None);
    assert_entry(&entries[6], "delete", c, &c_created["id"], admin, Some(&c_updated), None);
    // Newest first, and only the project asked for.
    let store = Store::connect(&s.url).await.unwrap();
    let newest: Vec<i64> = store.audit(None, 2).await.unwrap().iter().map(|e| e.id).collect();
    assert_eq!(newest, [entries[6].id, entries[5].id]);
    assert!(store.audit(Some(2), 100).await.unwrap().is_empty());
    store.close().await;
}

/// Many PATCHes of one rule at once, some of which GitLab's validation refuses as the others
/// leave the rule: exactly one entry per 200, none for a 422, and replaying the entries'
/// before → after from the created rule ends at the stored rule.
pub async fn concurrent_patches_are_audited_once_each(backend: Backend) {
    const PATCHES: usize = 48;
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let db = direct(&s.url).await;
    let rule = json!({"repository_path_pattern": "my-group/my-project/c",
                      "minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "maintainer"});
    let (status, created) = s.call(Method::POST, CONTAINER_RULES, m, Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let version_after_create = rules_version(&db).await;
    let one = format!("{CONTAINER_RULES}/{}", created["id"]);
    let bodies: Vec<Value> = (0..PATCHES)
        .map(|i| match i % 6 {
            0 => json!({"minimum_access_level_for_push": ""}),
            1 => json!({"minimum_access_level_for_delete": ""}),
            2 => json!({"minimum_access_level_for_push": "owner"}),
            3 => json!({"minimum_access_level_for_delete": "admin"}),
            4 => json!({"repository_path_pattern": format!("my-group/my-project/c{i}")}),
            _ => json!({"minimum_access_level_for_push": "maintainer", "minimum_access_level_for_delete": "owner"}),
        })
        .collect();
    let answers = futures_join_all(bodies.into_iter().map(|body| s.call(Method::PATCH, &one, m, Some(body)))).await;
    let ok = answers.iter().filter(|(status, _)| *status == StatusCode::OK).count();
    let refused = answers.iter().filter(|(status, _)| *status == StatusCode::UNPROCESSABLE_ENTITY).count();
    assert_eq!(ok + refused, PATCHES, "{answers:?}");
    assert!(ok > 0, "no PATCH succeeded");
    eprintln!("{backend:?}: {PATCHES} concurrent PATCHes: {ok} × 200, {refused} × 422");

    let entries = trail(&s.url).await;
    let (first, updates) = entries.split_first().unwrap();
    assert_eq!((first.action.as_str(), first.after.as_ref()), ("create", Some(&created)));
    assert_eq!(updates.len(), ok, "one entry per 200, none per 422");
    assert_eq!(rules_version(&db).await - version_after_create, i64::try_from(ok).unwrap());
    // Each entry's before is the previous one's after: the writes were recorded in the order
    // they committed, none lost, none invented.
    let mut replayed = created.clone();
    for entry in updates {
        assert_eq!(entry.action, "update");
        assert_eq!(entry.before.as_ref(), Some(&replayed), "entry {} does not follow the one before it", entry.id);
        replayed = entry.after.clone().unwrap();
    }
    let answered: Vec<&Value> =
        answers.iter().filter(|(status, _)| *status == StatusCode::OK).map(|(_, body)| body).collect();
    for entry in updates {
        assert!(answered.contains(&entry.after.as_ref().unwrap()), "no 200 answered {:?}", entry.after);
    }
    let (status, list) = s.call(Method::GET, CONTAINER_RULES, m, None).await;
    assert_eq!((status, list), (StatusCode::OK, json!([replayed])));
}

/// `admin backup` while writers create rules through HTTP: each copy is a consistent database
/// (every migration applied, rules readable, `rules_version` equal to the writes it holds and
/// to its audit entries). PostgreSQL answers with `pg_dump`.
pub async fn backup_while_writers_create_rules_is_consistent(backend: Backend) {
    const WRITERS: usize = 4;
    const RULES_EACH: usize = 30;
    let s = Server::start(backend).await;
    let store = Store::connect(&s.url).await.unwrap();
    let dir = std::env::temp_dir().join(format!("pkgprotect-backup-test-{}-{backend:?}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if backend == Backend::Postgres {
        let error = admin::backup(&store, &dir.join("x.sqlite3")).await.unwrap_err();
        assert!(matches!(error, AdminError::BackupNeedsPgDump), "{error}");
        assert!(error.to_string().contains("pg_dump"), "{error}");
        assert!(!dir.join("x.sqlite3").exists());
        return;
    }
    let writers = (0..WRITERS).map(|writer| {
        let s = &s;
        async move {
            for n in 0..RULES_EACH {
                let rule = json!({"package_name_pattern": format!("@w{writer}/p{n}"), "package_type": "npm",
                                  "minimum_access_level_for_push": "maintainer"});
                let (status, body) = s.call(Method::POST, PACKAGE_RULES, Some(&s.maintainer), Some(rule)).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
    });
    let backups = async {
        let mut paths = Vec::new();
        for n in 0..6 {
            let path = dir.join(format!("backup-{n}.sqlite3"));
            admin::backup(&store, &path).await.unwrap();
            paths.push(path);
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        }
        paths
    };
    let (_, mut paths) = tokio::join!(futures_join_all(writers), backups);
    let last = dir.join("backup-last.sqlite3");
    admin::backup(&store, &last).await.unwrap();
    paths.push(last.clone());
    // Never over an existing file, whatever it holds.
    let error = admin::backup(&store, &last).await.unwrap_err();
    assert_eq!(error.to_string(), format!("`{}` already exists; a backup never overwrites a file", last.display()));
    std::fs::write(dir.join("empty"), b"").unwrap();
    assert!(matches!(admin::backup(&store, &dir.join("empty")).await, Err(AdminError::BackupExists(_))));
    store.close().await;

    let mut counts = Vec::new();
    for path in &paths {
        let url = format!("sqlite://{}", path.display());
        // Read before `Store::connect`, which would apply a missing migration itself.
        let raw = direct(&url).await;
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&raw)
                .await
                .unwrap();
        let every: Vec<i64> = sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).collect();
        assert_eq!(applied, every, "{}", path.display());
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&raw).await.unwrap();
        assert_eq!(integrity, "ok", "{}", path.display());
        let version = rules_version(&raw).await;
        raw.close().await;
        let copy = Store::connect(&url).await.unwrap();
        let rules = copy.rules(1, RuleKind::Package).await.unwrap();
        let audited = copy.audit(Some(1), 1_000_000).await.unwrap();
        copy.close().await;
        // Only creates ran: one version, one rule and one entry per write the copy holds.
        assert_eq!(version, i64::try_from(rules.len()).unwrap(), "{}", path.display());
        assert_eq!(audited.len(), rules.len(), "{}", path.display());
        let mut audited_ids: Vec<i64> = audited.iter().map(|entry| entry.rule_id).collect();
        audited_ids.sort_unstable();
        let rule_ids: Vec<i64> = rules.iter().filter_map(pkgprotect::Rule::id).collect();
        assert_eq!(audited_ids, rule_ids, "{}", path.display());
        counts.push(rules.len());
    }
    eprintln!("{backend:?}: rules in each backup taken during the writes, then after: {counts:?}");
    assert_eq!(counts.last(), Some(&(WRITERS * RULES_EACH)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A change whose audit row cannot be written is not stored either: the database refuses
/// every audit insert (a trigger), and create, PATCH and DELETE each answer 500 with the
/// rules, `rules_version` and the trail as they were. Once audit rows can be written again,
/// the same requests succeed, each with its row.
pub async fn a_change_is_not_stored_without_its_audit_row(backend: Backend) {
    let s = Server::start(backend).await;
    let m = Some(s.maintainer.as_str());
    let db = direct(&s.url).await;
    let rule =
        json!({"package_name_pattern": "@kept/*", "package_type": "npm", "minimum_access_level_for_push": "owner"});
    let (status, kept) = s.call(Method::POST, PACKAGE_RULES, m, Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    let one = format!("{PACKAGE_RULES}/{}", kept["id"]);
    let (refuse, allow) = match backend {
        Backend::Sqlite => (
            "CREATE TRIGGER no_audit BEFORE INSERT ON rule_audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
            "DROP TRIGGER no_audit;",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN RAISE EXCEPTION 'audit refused'; END $$;
             CREATE TRIGGER no_audit BEFORE INSERT ON rule_audit FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
            "DROP TRIGGER no_audit ON rule_audit;",
        ),
    };
    sqlx::raw_sql(refuse).execute(&db).await.unwrap();
    let version = rules_version(&db).await;
    let new_rule =
        json!({"package_name_pattern": "@new/*", "package_type": "npm", "minimum_access_level_for_push": "owner"});
    let patch = json!({"minimum_access_level_for_delete": "owner"});
    let attempts = [
        (Method::POST, PACKAGE_RULES.to_owned(), Some(new_rule.clone())),
        (Method::PATCH, one.clone(), Some(patch.clone())),
        (Method::DELETE, one.clone(), None),
    ];
    for (method, path, body) in attempts.clone() {
        let (status, answer) = s.call(method.clone(), &path, m, body).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}: {answer}");
    }
    let (_, list) = s.call(Method::GET, PACKAGE_RULES, m, None).await;
    assert_eq!(list, json!([kept]), "a change was stored without its audit row");
    assert_eq!(rules_version(&db).await, version);
    assert_eq!(trail(&s.url).await.len(), 1);

    sqlx::raw_sql(allow).execute(&db).await.unwrap();
    let expected = [StatusCode::CREATED, StatusCode::OK, StatusCode::NO_CONTENT];
    for ((method, path, body), expected) in attempts.into_iter().zip(expected) {
        let (status, answer) = s.call(method.clone(), &path, m, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
    }
    let actions: Vec<String> = trail(&s.url).await.into_iter().map(|entry| entry.action).collect();
    assert_eq!(actions, ["create", "create", "update", "delete"]);
    assert_eq!(rules_version(&db).await, version + 3);
}
