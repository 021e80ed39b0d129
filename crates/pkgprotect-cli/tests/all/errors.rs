//! Exit codes as documented, and errors that say which flag, argument or file is at fault.

use crate::{demo_rules, scratch, stderr};
use clap::CommandFactory;
use pkgprotect_cli::{Cli, EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, EXIT_USAGE};
use std::process::{Command, Output};

/// Runs the binary with the database chosen by the arguments alone.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pkgprotect")).args(args).env_remove("PKGPROTECT_DATABASE_URL").output().unwrap()
}

#[test]
fn exit_codes_are_the_documented_ones() {
    let help = Cli::command().get_after_long_help().map(ToString::to_string).unwrap();
    let (_, section) = help.split_once("Exit status:\n").unwrap();
    let documented: Vec<u8> = section
        .lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.trim_start().split_once("  ").and_then(|(code, _)| code.parse().ok()))
        .collect();
    assert_eq!(documented, [EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BLOCKED]);

    let rules = demo_rules();
    let check = |actor: &str| {
        run(&[
            "check",
            "--rules",
            rules.to_str().unwrap(),
            "--package-name",
            "@demo/core",
            "--package-type",
            "npm",
            "--actor",
            actor,
        ])
    };
    assert_eq!(check("maintainer").status.code(), Some(i32::from(EXIT_OK)));
    assert_eq!(check("developer").status.code(), Some(i32::from(EXIT_BLOCKED)));
    assert_eq!(run(&["lint", "/nonexistent/rules.json"]).status.code(), Some(i32::from(EXIT_ERROR)));
    assert_eq!(run(&["lint", "--no-such-flag", "rules.json"]).status.code(), Some(i32::from(EXIT_USAGE)));
}

#[test]
fn errors_name_the_flag_argument_or_file_at_fault() {
    let not_array = scratch("not-array.json", r#"{"id": 1}"#);
    let duplicate_ids = scratch(
        "duplicate-ids.json",
        r#"[{"id": 1, "package_name_pattern": "a", "package_type": "npm", "minimum_access_level_for_push": "owner"},
        {"id": 1, "package_name_pattern": "b", "package_type": "npm", "minimum_access_level_for_push": "owner"}]"#,
    );
    let vectors = scratch("no-vectors.json", r#"{"match": []}"#);
    let plain_file = scratch("plain-file", "");
    let (not_array, duplicate_ids, vectors) =
        (not_array.to_str().unwrap(), duplicate_ids.to_str().unwrap(), vectors.to_str().unwrap());
    let under_file = format!("{}/dir", plain_file.display());
    // An empty database for the administration errors.
    let data = format!("{}/empty-data", plain_file.parent().unwrap().display());
    let package = ["--package-name", "a", "--package-type", "npm", "--actor", "developer"];
    let rule = r#"{"package_name_pattern": "a", "package_type": "npm"}"#;

    let failures: &[(&[&str], &str)] = &[
        (
            &[&["check", "--rules", "/nonexistent/rules.json"], &package[..]].concat(),
            "cannot read `--rules` file `/nonexistent/rules.json`: ",
        ),
        (
            &[&["check", "--rules", not_array], &package[..]].concat(),
            &format!("`--rules` file `{not_array}` is not a JSON array of rules: "),
        ),
        (&[&["check", "--rules", "-"], &package[..]].concat(), "`--rules` from stdin is not a JSON array of rules: "),
        (
            &[&["check", "--rules", duplicate_ids], &package[..]].concat(),
            &format!("`--rules` file `{duplicate_ids}` holds an invalid rule set: rule id 1 appears more than once"),
        ),
        (&["lint", "/nonexistent/rules.json"], "cannot read `<RULES>` file `/nonexistent/rules.json`: "),
        (&["validate", "{\"package_name_pattern\": "], "`<RULE>` is not valid JSON: "),
        (
            &["validate", "/nonexistent/rule.json"],
            "`<RULE>` is neither JSON (`{…}`) nor a readable file: `/nonexistent/rule.json`: ",
        ),
        (
            &["validate", "--existing", "/nonexistent/rules.json", rule],
            "cannot read `--existing` file `/nonexistent/rules.json`: ",
        ),
        (
            &["preview", "--pattern", "a", "--names-file", "/nonexistent/names.txt"],
            "cannot read `--names-file` file `/nonexistent/names.txt`: ",
        ),
        (
            &["conformance", "--host", "component", "--component", "/nonexistent/p.wasm", vectors],
            "cannot load `--component` `/nonexistent/p.wasm`: ",
        ),
        (
            &["conformance", "--host", "wasmtime-cli", "--wasmtime", "/nonexistent/wasmtime", vectors],
            "cannot run `--wasmtime` `/nonexistent/wasmtime`: ",
        ),
        (
            &["serve", "--engine", "native", "--data-dir", &under_file],
            &format!("cannot create `--data-dir` `{under_file}`: "),
        ),
        (
            &["serve", "--component", "/nonexistent/p.wasm"],
            "cannot load `--component` `/nonexistent/p.wasm` (build it with `scripts/build-component.sh`, or use `--engine native`): ",
        ),
        (
            &["admin", "--data-dir", &under_file, "user", "create", "alice"],
            &format!("cannot create `--data-dir` `{under_file}`: "),
        ),
        (&["man", "--out-dir", &under_file], &format!("cannot create `--out-dir` `{under_file}`: ")),
        (
            &["admin", "--data-dir", &data, "token", "create", "alice", "--expires-at", "2020-01-01"],
            "the expiry `2020-01-01` is not in the future",
        ),
        (&["admin", "--data-dir", &data, "token", "revoke", "99"], "no token with id `99`, or it is revoked already"),
        (
            &[
                "serve",
                "--engine",
                "native",
                "--data-dir",
                &data,
                "--tls-cert",
                "/nonexistent/cert.pem",
                "--tls-key",
                "/nonexistent/key.pem",
            ],
            "cannot use `--tls-cert` `/nonexistent/cert.pem`: ",
        ),
        (&["admin", "--data-dir", &data, "member", "remove", "g/p", "alice"], "no project `g/p`"),
        (&["admin", "--data-dir", &data, "user", "block", "nobody"], "no user `nobody`"),
        (&["admin", "--data-dir", &data, "audit", "--project", "g/p"], "no project `g/p`"),
        (
            &["admin", "--data-dir", &data, "backup", not_array],
            &format!("`{not_array}` already exists; a backup never overwrites a file"),
        ),
        (&["admin", "--data-dir", &data, "backup", &under_file], &format!("cannot write the backup `{under_file}`: ")),
    ];
    for (args, expected) in failures {
        let output = run(args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(i32::from(EXIT_ERROR)), "{args:?}: {message}");
        let message = message.strip_prefix("error: ").unwrap_or_else(|| panic!("{args:?}: {message}"));
        assert!(message.starts_with(expected), "{args:?}:\n{message}\ndoes not start with\n{expected}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
    }

    let usage: &[(&[&str], &str)] = &[
        (
            &["check", "--rules", "r.json", "--package-name", "a", "--package-type", "nmp", "--actor", "developer"],
            "invalid value 'nmp' for '--package-type <TYPE>'",
        ),
        (
            &["check", "--rules", "r.json", "--package-type", "npm", "--repository-path", "a", "--actor", "developer"],
            "the argument '--package-type <TYPE>' cannot be used with '--repository-path <PATH>'",
        ),
        (&["check", "--rules", "r.json", "--actor", "developer"], "<--package-name <NAME>|--repository-path <PATH>>"),
        (&["conformance", "--sample", "0", "vectors.json"], "invalid value '0' for '--sample <N>'"),
        (&["admin", "member", "add", "g/p", "alice", "Developer"], "invalid value 'Developer' for '<LEVEL>'"),
        // Memberships stop at owner: instance administration is a user flag.
        (&["admin", "member", "add", "g/p", "alice", "admin"], "invalid value 'admin' for '<LEVEL>'"),
        (&["admin", "member", "add", "g/p", "alice", "no_access"], "invalid value 'no_access' for '<LEVEL>'"),
        (&["completions", "tcsh"], "invalid value 'tcsh' for '<SHELL>'"),
        (
            &["serve", "--tls-cert", "cert.pem"],
            "the following required arguments were not provided:\n  --tls-key <FILE>",
        ),
        (&["admin", "token", "create", "alice", "--scope", "sudo"], "`sudo` is not a personal access token scope"),
        (&["admin", "deploy-token", "create", "g/p", "--scope", "api"], "`api` is not a deploy token scope"),
        (
            &["admin", "token", "create", "alice", "--expires-at", "31/12/2027"],
            "invalid value '31/12/2027' for '--expires-at <YYYY-MM-DD>'",
        ),
        (&["admin", "token", "revoke", "seven"], "invalid value 'seven' for '<ID>'"),
        (&["admin", "audit", "--limit", "-1"], "unexpected argument '-1' found"),
        (&["admin", "audit", "--limit", "many"], "invalid value 'many' for '--limit <N>'"),
        (&["admin", "backup"], "the following required arguments were not provided:\n  <PATH>"),
    ];
    for (args, expected) in usage {
        let output = run(args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(i32::from(EXIT_USAGE)), "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
    }
}

/// A PostgreSQL database is backed up with `pg_dump`: `admin backup` says so, and writes nothing.
#[test]
#[ignore = "needs PKGPROTECT_TEST_POSTGRES_URL; scripts/test.sh starts PostgreSQL and runs these"]
fn backup_of_postgres_says_to_use_pg_dump() {
    let url = std::env::var("PKGPROTECT_TEST_POSTGRES_URL").unwrap();
    let path = std::env::temp_dir().join(format!("pkgprotect-cli-pg-backup-{}", std::process::id()));
    let output = run(&["admin", "--database-url", &url, "backup", path.to_str().unwrap()]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(i32::from(EXIT_ERROR)), "{message}");
    assert!(
        message.starts_with(
            "error: `admin backup` copies SQLite databases only; back up a PostgreSQL database with `pg_dump`"
        ),
        "{message}"
    );
    assert!(!path.exists());
}
