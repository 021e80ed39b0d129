//! The `pkgprotect` binary, end to end.

// Test code may index, unwrap and panic: a failure is the point.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod errors;
mod help;
mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pkgprotect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pkgprotect")).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pkgprotect-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn demo_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/rules.json")
}

#[test]
fn conformance_reports_failures_with_notes_and_exits_1() {
    let vectors = scratch(
        "vectors.json",
        r#"{"match": [
            {"pattern": "a*", "name": "ab", "matches": true, "note": "right"},
            {"pattern": "a*", "name": "b", "matches": true, "note": "deliberately wrong expectation"}
        ]}"#,
    );
    let output = pkgprotect(&["conformance", "--host", "native", vectors.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("deliberately wrong expectation"), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn conformance_on_a_missing_file_is_a_clear_error() {
    let output = pkgprotect(&["conformance", "/nonexistent/vectors.json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read vector file `/nonexistent/vectors.json`"));
}

#[test]
fn check_exit_codes_follow_the_decision() {
    let rules = demo_rules();
    let rules = rules.to_str().unwrap();
    let base = ["check", "--rules", rules, "--package-name", "@demo/core", "--package-type", "npm", "--actor"];
    let blocked = pkgprotect(&[&base[..], &["developer"]].concat());
    assert_eq!(blocked.status.code(), Some(3));
    assert!(stdout(&blocked).starts_with("blocked: blocked by rule 1 (`@demo/*`)"));
    let allowed = pkgprotect(&[&base[..], &["maintainer", "--json"]].concat());
    assert_eq!(allowed.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout(&allowed)).unwrap();
    assert_eq!(json["allowed"], true);
    let bad_actor = pkgprotect(&[&base[..], &["Developer"]].concat());
    assert_eq!(bad_actor.status.code(), Some(2), "clap usage errors exit 2");
    let message = stderr(&bad_actor);
    assert!(message.contains("invalid value 'Developer' for '--actor <ACTOR>'"), "{message}");
    assert!(message.contains("a similar value exists: 'developer'"), "{message}");
}

#[test]
fn validate_prints_gitlab_status_and_messages() {
    let output = pkgprotect(&[
        "validate",
        "--json",
        r#"{"package_name_pattern": "*-x", "package_type": "pypi", "minimum_access_level_for_push": "owner"}"#,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["http_status"], 422);
    assert_eq!(
        json["errors"][0]["message"],
        "Package name pattern should be a valid PyPI package name with optional wildcard characters."
    );
    let broken = pkgprotect(&["validate", "{not json"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stderr(&broken).contains("`<RULE>` is not valid JSON"), "{}", stderr(&broken));
}

#[test]
fn lint_and_preview_explain_themselves() {
    let lint = pkgprotect(&["lint", demo_rules().to_str().unwrap()]);
    assert!(stdout(&lint).contains("subsumed_rule: rule 2 (`@demo/core`) never changes a decision"));
    let preview = pkgprotect(&["preview", "--pattern", "@demo/*", "@Demo/ui", "@other/ui"]);
    let text = stdout(&preview);
    assert!(text.contains("match    [@Demo/]ui"), "{text}");
    assert!(text.contains("no match @other/ui"), "{text}");
    assert!(text.ends_with("1 of 2 names match `@demo/*`\n"), "{text}");
}

#[test]
fn broken_rule_files_are_refused_with_the_reason() {
    let rules = scratch(
        "dup.json",
        r#"[{"id": 1, "package_name_pattern": "a", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        {"id": 1, "package_name_pattern": "b", "package_type": "npm", "minimum_access_level_for_push": "owner"}]"#,
    );
    let output = pkgprotect(&["lint", rules.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rule id 1 appears more than once"));
}
