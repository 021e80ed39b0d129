//! `admin audit` and `admin backup` on a database with rule changes in it.

use crate::{pkgprotect, stderr, stdout};
use pkgprotect::{AccessLevel, PackageRule, PackageType, Rule, RuleKind};
use pkgprotect_server::db::{RuleActor, Store, sqlite_url};
use serde_json::Value;

/// A database in `dir` with a project, a rule created by the system, changed by `alice` and
/// deleted by the administrator `root`.
fn seeded(dir: &std::path::Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::connect(&sqlite_url(dir).unwrap()).await.unwrap();
        let project = pkgprotect_server::admin::create_project(&store, "g/p").await.unwrap();
        let alice = pkgprotect_server::admin::create_user(&store, "alice", false).await.unwrap();
        let root = pkgprotect_server::admin::create_user(&store, "root", true).await.unwrap();
        let rule = Rule::Package(PackageRule {
            id: None,
            project_id: None,
            package_name_pattern: "@g/*".into(),
            package_type: PackageType::Npm,
            minimum_access_level_for_push: Some(AccessLevel::Maintainer),
            minimum_access_level_for_delete: None,
        });
        let id = store.insert_rule(project, &rule).await.unwrap();
        let actor = RuleActor::User { user_id: alice, is_admin: false };
        let mut write = store.begin_rule_write(project, actor).await.unwrap().unwrap();
        let stored = write.rules(RuleKind::Package).await.unwrap().remove(0);
        let mut changed = stored.clone();
        if let Rule::Package(r) = &mut changed {
            r.minimum_access_level_for_push = Some(AccessLevel::Owner);
        }
        assert!(write.update(id, &stored, &changed).await.unwrap());
        write.commit().await.unwrap();
        let actor = RuleActor::User { user_id: root, is_admin: true };
        let mut write = store.begin_rule_write(project, actor).await.unwrap().unwrap();
        assert!(write.delete(RuleKind::Package, id).await.unwrap());
        write.commit().await.unwrap();
        store.close().await;
    });
}

#[test]
fn audit_lists_changes_newest_first_and_backup_copies_them() {
    let dir = std::env::temp_dir().join(format!("pkgprotect-cli-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    seeded(&dir);
    let data = dir.to_str().unwrap();

    let table = pkgprotect(&["admin", "--data-dir", data, "audit"]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("TIME") && lines[0].ends_with("CHANGE"), "{text}");
    let columns: Vec<&str> = lines[1].split_whitespace().collect();
    assert!(columns[0].len() == 20 && columns[0].ends_with('Z') && columns[0].contains('T'), "{text}");
    assert_eq!(columns[1..9], ["root", "(user", "2,", "admin)", "g/p", "package", "1", "delete"], "{text}");
    assert!(lines[1].ends_with("- minimum_access_level_for_push=owner, package_name_pattern=@g/*, package_type=npm"));
    assert!(
        lines[2].contains("alice (user 1)") && lines[2].ends_with("minimum_access_level_for_push: maintainer → owner")
    );
    assert!(lines[3].contains("system") && lines[3].contains("create  + minimum_access_level_for_push=maintainer"));

    let limited = pkgprotect(&["admin", "--data-dir", data, "--json", "audit", "--project", "g/p", "--limit", "2"]);
    assert_eq!(limited.status.code(), Some(0), "{}", stderr(&limited));
    let entries: Value = serde_json::from_str(&stdout(&limited)).unwrap();
    let actions: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["delete", "update"]);
    assert_eq!(entries[1]["before"]["minimum_access_level_for_push"], "maintainer");
    assert_eq!(entries[1]["after"]["minimum_access_level_for_push"], "owner");
    assert_eq!(entries[0]["after"], Value::Null);
    assert_eq!(entries[0]["actor_username"], "root");
    assert_eq!(entries[0]["actor_is_admin"], true);

    let copy = dir.join("copy.sqlite3");
    let backup = pkgprotect(&["admin", "--data-dir", data, "backup", copy.to_str().unwrap()]);
    assert_eq!(backup.status.code(), Some(0), "{}", stderr(&backup));
    assert_eq!(stdout(&backup), format!("backed up to `{}`\n", copy.display()));
    let from_copy =
        pkgprotect(&["admin", "--database-url", &format!("sqlite://{}", copy.display()), "--json", "audit"]);
    let all = pkgprotect(&["admin", "--data-dir", data, "--json", "audit"]);
    assert_eq!(stdout(&from_copy), stdout(&all), "{}", stderr(&from_copy));
    let again = pkgprotect(&["admin", "--data-dir", data, "--json", "backup", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        format!("error: `{}` already exists; a backup never overwrites a file\n", copy.display())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
