//! The `pkgprotect` binary: what each command does. Its command line (clap tree, help texts,
//! exit codes) is the library's, `src/lib.rs`.

mod wasmtime_cli;

use anyhow::{Context, Result, anyhow, bail};
use clap::{CommandFactory, Parser};
use pkgprotect::permissions::DeployTokenScopes;
use pkgprotect::{
    DecisionRequest, ParamsMode, Rule, RuleKind, RuleSet, Target, ValidationContext, parse_rule_params, preview,
    validate_rule,
};
use pkgprotect_cli::{
    AdminArgs, AdminCommand, CheckArgs, Cli, Command, CompletionsArgs, ConformanceArgs, DatabaseArgs,
    DeployTokenCommand, EXIT_BLOCKED, EXIT_ERROR, EngineKind, HostKind, LintArgs, ManArgs, MemberCommand, PreviewArgs,
    ProjectCommand, ServeArgs, TokenCommand, UserCommand, ValidateArgs,
};
use pkgprotect_conformance::{NativeHost, VectorFile};
use pkgprotect_server::auth::PersonalScopes;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the database lives, for error messages: never the URL itself, which may hold a password.
fn database_source(database: &DatabaseArgs) -> String {
    match &database.database_url {
        Some(_) => "the database of `--database-url` (or `PKGPROTECT_DATABASE_URL`)".to_owned(),
        None => format!("the database in `--data-dir` `{}`", database.data_dir.display()),
    }
}

fn database_url(database: &DatabaseArgs) -> Result<String> {
    match &database.database_url {
        Some(url) => Ok(url.clone()),
        None => pkgprotect_server::db::sqlite_url(&database.data_dir).map_err(|error| match error {
            pkgprotect_server::db::DbError::DataDir { path, source } => {
                anyhow!("cannot create `--data-dir` `{path}`: {source}")
            }
            other => other.into(),
        }),
    }
}

/// The contents of `path`, or stdin for `-`; `what` names the flag or argument it came from.
fn read_input(path: &Path, what: &str) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).with_context(|| format!("cannot read {what} from stdin"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} file `{}`", path.display()))
}

/// `--rules` file `x.json`, or `--rules` from stdin: where an input came from, for messages.
fn shown(path: &Path, what: &str) -> String {
    if path.as_os_str() == "-" { format!("{what} from stdin") } else { format!("{what} file `{}`", path.display()) }
}

fn read_rules(path: &Path, what: &str) -> Result<Vec<Rule>> {
    let text = read_input(path, what)?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a JSON array of rules", shown(path, what)))
}

fn read_rule_set(path: &Path, what: &str) -> Result<RuleSet> {
    RuleSet::new(read_rules(path, what)?).with_context(|| format!("{} holds an invalid rule set", shown(path, what)))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", message(&error));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and its causes, `outer: inner`, each cause once: some library errors print their
/// source in their own message and also return it from `source()`.
fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.is_empty() {
            text = cause;
        } else if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

fn print_json(value: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate(args, cli.json),
        Command::Check(args) => check(args, cli.json),
        Command::Lint(args) => lint(args, cli.json),
        Command::Preview(args) => preview_names(args, cli.json),
        Command::Serve(args) => serve(args),
        Command::Admin(args) => admin(args, cli.json),
        Command::Conformance(args) => conformance(args),
        Command::Completions(args) => completions(args),
        Command::Man(args) => man(args),
    }
}

fn lint(args: LintArgs, json_output: bool) -> Result<ExitCode> {
    let set = read_rule_set(&args.rules, "`<RULES>`")?;
    let findings = set.lint();
    if json_output {
        print_json(&serde_json::to_value(&findings)?)?;
    } else if findings.is_empty() {
        println!("no findings in {} rules", set.len());
    } else {
        for finding in &findings {
            println!("{}: {}", serde_json::to_value(finding.kind)?.as_str().unwrap_or("finding"), finding.message);
        }
        println!("{} findings in {} rules", findings.len(), set.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn conformance(args: ConformanceArgs) -> Result<ExitCode> {
    let ConformanceArgs { host, component, wasmtime, sample, file } = args;
    let mut vectors = VectorFile::load(&file)?;
    if let Some(n) = sample {
        vectors.matches = spread(std::mem::take(&mut vectors.matches), n.get());
        vectors.validate = spread(std::mem::take(&mut vectors.validate), n.get());
        vectors.decide = spread(std::mem::take(&mut vectors.decide), n.get());
    }
    let report = match host {
        HostKind::Native => pkgprotect_conformance::run(&vectors, &mut NativeHost),
        HostKind::Component => {
            let policy = load_component(&component, "")?;
            pkgprotect_conformance::run(&vectors, &mut pkgprotect_host::conformance::ComponentHost { policy })
        }
        HostKind::WasmtimeCli => {
            // Otherwise a missing binary fails every vector, thousands of lines of the same error.
            std::process::Command::new(&wasmtime)
                .arg("--version")
                .output()
                .with_context(|| format!("cannot run `--wasmtime` `{}`", wasmtime.display()))?;
            let mut cli_host = wasmtime_cli::WasmtimeCliHost::new(wasmtime, component)?;
            pkgprotect_conformance::run(&vectors, &mut cli_host)
        }
    };
    println!("{report}");
    Ok(if report.failed() == 0 { ExitCode::SUCCESS } else { ExitCode::from(EXIT_ERROR) })
}

fn load_component(path: &Path, hint: &str) -> Result<pkgprotect_host::Policy> {
    pkgprotect_host::Policy::load(path).with_context(|| format!("cannot load `--component` `{}`{hint}", path.display()))
}

fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    // Into memory first: `generate` panics on a failed write, e.g. a closed pipe.
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "pkgprotect", &mut out);
    std::io::stdout().write_all(&out).context("cannot write the completion script to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn man(args: ManArgs) -> Result<ExitCode> {
    // Clap's `help` subcommand only leads to the other commands' help; it gets no page.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let Some(dir) = args.out_dir else {
        let mut out = Vec::new();
        man_page(command).render(&mut out).context("cannot render the man page")?;
        std::io::stdout().write_all(&out).context("cannot write the man page to stdout")?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `--out-dir` `{}`", dir.display()))?;
    let mut pending = vec![command];
    while let Some(command) = pending.pop() {
        let mut subcommands: Vec<_> = command.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned().collect();
        // Popped in reverse: the pages are listed in the order of `--help`.
        subcommands.reverse();
        pending.extend(subcommands);
        let path = man_page(command)
            .generate_to(&dir)
            .with_context(|| format!("cannot write a man page into `--out-dir` `{}`", dir.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn man_page(command: clap::Command) -> clap_mangen::Man {
    // Without this a subcommand's page would say `check` where readers look for the program.
    clap_mangen::Man::new(command).source(format!("pkgprotect {}", env!("CARGO_PKG_VERSION")))
}

/// At most `n` items spread evenly over `items`, so a sample covers every kind of vector.
fn spread<T>(items: Vec<T>, n: usize) -> Vec<T> {
    let stride = items.len().div_ceil(n.max(1)).max(1);
    items.into_iter().step_by(stride).collect()
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        // Colour codes only for a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let engine: std::sync::Arc<dyn pkgprotect_server::engine::Engine> = match args.engine {
        EngineKind::Native => std::sync::Arc::new(pkgprotect_server::engine::NativeEngine),
        EngineKind::Component => {
            let limits = pkgprotect_host::Limits {
                memory_bytes: args.instance_memory_mib as usize * (1 << 20),
                ..pkgprotect_host::Limits::default()
            };
            let policy = pkgprotect_host::Policy::load_with(&args.component, limits).with_context(|| {
                format!(
                    "cannot load `--component` `{}` (build it with `scripts/build-component.sh`, or use `--engine native`)",
                    args.component.display()
                )
            })?;
            let mut pool = pkgprotect_server::engine::PoolLimits::default();
            if let Some(instances) = args.pool_instances {
                pool.instances = instances as usize;
            }
            pool.rule_sets_per_instance = args.rule_sets_per_instance as usize;
            std::sync::Arc::new(pkgprotect_server::engine::ComponentEngine::with_limits(policy, pool))
        }
    };
    let source = database_source(&args.database);
    let config = pkgprotect_server::Config {
        database_url: database_url(&args.database)?,
        listen: args.listen,
        static_dir: Some(args.static_dir),
        demo: args.demo,
        engine,
        cached_rule_sets: args.cached_rule_sets as usize,
        shutdown_deadline: std::time::Duration::from_secs(args.shutdown_timeout),
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| pkgprotect_server::TlsFiles { cert, key }),
        // The signing key's certificate (and, on SQLite, the key) lives in the data directory.
        registry: Some(pkgprotect_server::registry::RegistryAuthConfig {
            data_dir: args.database.data_dir.clone(),
            issuer: args.registry_issuer,
            service: args.registry_service,
            expiry: std::time::Duration::from_secs(args.registry_token_expiry),
        }),
    };
    runtime()?.block_on(pkgprotect_server::serve(config)).map_err(|error| match error {
        pkgprotect_server::ServeError::Listen { addr, source } => {
            anyhow!("cannot listen on `--listen` `{addr}`: {source}")
        }
        pkgprotect_server::ServeError::Db(error) => anyhow::Error::new(error).context(source),
        other => other.into(),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn admin(args: AdminArgs, json_output: bool) -> Result<ExitCode> {
    use pkgprotect_server::admin as ops;
    let AdminArgs { database, command } = args;
    let shown_as = match &command {
        AdminCommand::Audit { .. } => Shown::AuditTable,
        AdminCommand::Backup { .. } => Shown::Backup,
        AdminCommand::RegistryConfig { .. } => Shown::RegistryConfig,
        _ => Shown::Json,
    };
    let url = database_url(&database)?;
    let source = database_source(&database);
    let output: Value = runtime()?.block_on(async move {
        let store =
            pkgprotect_server::db::Store::connect(&url).await.with_context(|| format!("cannot open {source}"))?;
        let output = match command {
            AdminCommand::Project(ProjectCommand::Create { full_path }) => {
                let id = ops::create_project(&store, &full_path).await?;
                json!({"id": id, "full_path": full_path})
            }
            AdminCommand::User(UserCommand::Create { name, admin }) => {
                let id = ops::create_user(&store, &name, admin).await?;
                json!({"id": id, "username": name, "is_admin": admin})
            }
            AdminCommand::User(UserCommand::Block { name }) => {
                ops::set_blocked(&store, &name, true).await?;
                json!({"username": name, "blocked": true})
            }
            AdminCommand::User(UserCommand::Unblock { name }) => {
                ops::set_blocked(&store, &name, false).await?;
                json!({"username": name, "blocked": false})
            }
            AdminCommand::Member(MemberCommand::Add { project, user, level }) => {
                ops::add_member(&store, &project, &user, level).await?;
                json!({"project": project, "user": user, "access_level": level})
            }
            AdminCommand::Member(MemberCommand::Remove { project, user }) => {
                ops::remove_member(&store, &project, &user).await?;
                json!({"project": project, "user": user, "removed": true})
            }
            AdminCommand::Token(TokenCommand::Create { user, scopes, expires_at, name }) => {
                let scopes = scopes.into_iter().fold(PersonalScopes::default(), PersonalScopes::with);
                let expires_at = ops::check_expiry(expires_at)?;
                let name = name.as_deref().unwrap_or(&user);
                serde_json::to_value(ops::issue_token(&store, &user, name, scopes, expires_at).await?)?
            }
            AdminCommand::Token(TokenCommand::List { user }) => {
                serde_json::to_value(ops::list_tokens(&store, user.as_deref()).await?)?
            }
            AdminCommand::Token(TokenCommand::Revoke { id }) => {
                ops::revoke_token(&store, id).await?;
                json!({"id": id, "revoked": true})
            }
            AdminCommand::DeployToken(DeployTokenCommand::Create { project, scopes, username, expires_at }) => {
                let scopes = if scopes.is_empty() {
                    DeployTokenScopes::ALL
                } else {
                    scopes.into_iter().fold(DeployTokenScopes::default(), DeployTokenScopes::with)
                };
                let expires_at = ops::check_expiry(expires_at)?;
                let issued = ops::issue_deploy_token(&store, &project, username, scopes, expires_at).await?;
                let mut output = serde_json::to_value(issued)?;
                if let Some(fields) = output.as_object_mut() {
                    fields.insert("project".into(), json!(project));
                }
                output
            }
            AdminCommand::Audit { project, limit } => {
                serde_json::to_value(ops::audit(&store, project.as_deref(), limit).await?)?
            }
            AdminCommand::RegistryConfig {
                server_url,
                registry_listen,
                storage,
                registry_issuer,
                registry_service,
            } => {
                use pkgprotect_server::registry;
                check_registry_config_flags(&server_url, &registry_listen, &registry_issuer, &registry_service)?;
                let storage = std::path::absolute(&storage)
                    .with_context(|| format!("cannot resolve `--storage` `{}`", storage.display()))?;
                let key = registry::load_or_create_key(&store, &database.data_dir).await?;
                // The registry runs elsewhere: it needs the certificate's absolute path.
                let data_dir = std::fs::canonicalize(&database.data_dir)
                    .with_context(|| format!("cannot resolve `--data-dir` `{}`", database.data_dir.display()))?;
                let auth = registry::RegistryAuthConfig {
                    data_dir,
                    issuer: registry_issuer,
                    service: registry_service,
                    ..registry::RegistryAuthConfig::new(PathBuf::new())
                };
                let settings = registry::DistributionSettings { server_url, listen: registry_listen, storage };
                json!({
                    "realm": settings.realm(),
                    "service": auth.service,
                    "issuer": auth.issuer,
                    "rootcertbundle": auth.data_dir.join(registry::CERTIFICATE_FILE),
                    "key_id": key.key_id(),
                    "config": registry::distribution_config(&auth, &settings),
                })
            }
            AdminCommand::Backup { path } => {
                ops::backup(&store, &path).await?;
                json!({"backup": path.display().to_string()})
            }
        };
        store.close().await;
        Ok::<Value, anyhow::Error>(output)
    })?;
    if json_output {
        println!("{output}");
    } else if shown_as == Shown::AuditTable {
        print!("{}", audit_table(&output));
    } else if shown_as == Shown::RegistryConfig {
        print!("{}", output.get("config").and_then(Value::as_str).unwrap_or_default());
    } else if shown_as == Shown::Backup {
        println!("backed up to `{}`", output.get("backup").and_then(Value::as_str).unwrap_or_default());
    } else if let Some(token) = output.get("token").and_then(Value::as_str) {
        println!("{token}");
        let id = output.get("id").and_then(Value::as_i64).unwrap_or_default();
        let username = output.get("username").and_then(Value::as_str).unwrap_or_default();
        eprintln!("(shown once: only its hash is stored; token id {id}, username `{username}`)");
    } else {
        println!("{}", serde_json::to_string_pretty(&output)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// What a registry needs to read its configuration and reach the realm: refused here, with the
/// flag named, rather than by the registry at its start.
fn check_registry_config_flags(server_url: &str, listen: &str, issuer: &str, service: &str) -> Result<()> {
    let host = server_url.strip_prefix("https://").or_else(|| server_url.strip_prefix("http://"));
    let host_ok = host.is_some_and(|rest| {
        let authority = rest.split('/').next().unwrap_or_default();
        !authority.is_empty() && !authority.starts_with(':')
    });
    if !host_ok || server_url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "`--server-url` `{server_url}` is not an http:// or https:// URL with a host (the URL registry clients reach pkgprotect serve at)"
        );
    }
    let port_ok = listen.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !port_ok || listen.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("`--registry-listen` `{listen}` is not a `host:port` address");
    }
    for (flag, value) in [("--registry-issuer", issuer), ("--registry-service", service)] {
        if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!("`{flag}` `{value}` must be a non-empty name without spaces");
        }
    }
    Ok(())
}

/// How an admin command's answer is printed without `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Json,
    AuditTable,
    Backup,
    RegistryConfig,
}

/// The audit entries (as `admin audit --json` prints them) as a table, one line per entry.
fn audit_table(entries: &Value) -> String {
    let entries = entries.as_array().map(Vec::as_slice).unwrap_or_default();
    if entries.is_empty() {
        return "no rule changes recorded\n".to_owned();
    }
    let text = |entry: &Value, field: &str| match entry.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut rows = vec![["TIME", "ACTOR", "PROJECT", "KIND", "RULE", "ACTION", "CHANGE"].map(str::to_owned)];
    for entry in entries {
        let at = entry.get("at").and_then(Value::as_i64).unwrap_or_default();
        let actor = match (entry.get("actor_username").and_then(Value::as_str), entry.get("actor_user_id")) {
            (Some(name), Some(id)) if !id.is_null() => {
                let admin = entry.get("actor_is_admin").and_then(Value::as_bool).unwrap_or_default();
                format!("{name} (user {id}{})", if admin { ", admin" } else { "" })
            }
            (None, Some(id)) if !id.is_null() => format!("user {id}"),
            _ => text(entry, "actor_kind"),
        };
        let project = match text(entry, "project") {
            path if path.is_empty() => text(entry, "project_id"),
            path => path,
        };
        rows.push([
            rfc3339(at),
            actor,
            project,
            text(entry, "rule_kind"),
            text(entry, "rule_id"),
            text(entry, "action"),
            change_summary(entry.get("before"), entry.get("after")),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (index, (width, cell)) in widths.iter().zip(row).enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Unix seconds as RFC 3339 in UTC (`2026-12-03T12:38:08Z`).
fn rfc3339(at: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(at) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => at.to_string(),
    }
}

/// The fields a change touched, compactly: `field: old → new` for an update, the rule's set
/// fields for a create (`+`) or delete (`-`). `id` and `project_id` never change, and are
/// shown in their own columns.
fn change_summary(before: Option<&Value>, after: Option<&Value>) -> String {
    // Keys in name order, whatever map serde_json was built with (`preserve_order` is a
    // feature another crate of a workspace build may turn on).
    let fields = |value: Option<&Value>| -> std::collections::BTreeMap<String, Value> {
        value.and_then(Value::as_object).map(|map| map.clone().into_iter().collect()).unwrap_or_default()
    };
    let (before, after) = (fields(before), fields(after));
    let shown = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    };
    let set = |fields: &std::collections::BTreeMap<String, Value>| {
        fields
            .iter()
            .filter(|(key, value)| !value.is_null() && key.as_str() != "id" && key.as_str() != "project_id")
            .map(|(key, value)| format!("{key}={}", shown(value)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (before.is_empty(), after.is_empty()) {
        (true, false) => format!("+ {}", set(&after)),
        (false, true) => format!("- {}", set(&before)),
        _ => {
            let changed: Vec<String> = after
                .iter()
                .filter_map(|(key, new)| {
                    let old = before.get(key).unwrap_or(&Value::Null);
                    (old != new).then(|| format!("{key}: {} → {}", shown(old), shown(new)))
                })
                .collect();
            if changed.is_empty() { "no change".to_owned() } else { changed.join("; ") }
        }
    }
}

fn validate(args: ValidateArgs, json_output: bool) -> Result<ExitCode> {
    let inline = args.rule.trim_start().starts_with('{');
    let params: Value = if inline {
        serde_json::from_str(&args.rule).context("`<RULE>` is not valid JSON")?
    } else {
        let path = Path::new(&args.rule);
        let text = if path.as_os_str() == "-" {
            read_input(path, "`<RULE>`")?
        } else {
            std::fs::read_to_string(path).map_err(|error| {
                anyhow!("`<RULE>` is neither JSON (`{{…}}`) nor a readable file: `{}`: {error}", path.display())
            })?
        };
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", shown(path, "`<RULE>`")))?
    };
    let kind = match args.kind {
        Some(kind) => kind,
        None if params.get("repository_path_pattern").is_some() => RuleKind::ContainerRepository,
        None => RuleKind::Package,
    };
    let existing = match &args.existing {
        Some(path) => read_rules(path, "`--existing`")?,
        None => Vec::new(),
    };
    let context =
        ValidationContext { project_path: args.project_path.as_deref(), existing_rules: &existing, previous: None };
    let outcome = parse_rule_params(kind, &params, ParamsMode::Create).and_then(|rule| validate_rule(&rule, &context));
    match outcome {
        Ok(()) => {
            if json_output {
                print_json(&json!({"valid": true, "http_status": 201, "errors": []}))?;
            } else {
                println!("valid {kind} rule (GitLab answers 201)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(rejection) => {
            if json_output {
                print_json(
                    &json!({"valid": false, "http_status": rejection.http_status(), "errors": rejection.errors}),
                )?;
            } else {
                println!("invalid {kind} rule (GitLab answers {}):", rejection.http_status());
                for error in &rejection.errors {
                    println!("  {}: {}", error.field, error.message);
                }
            }
            Ok(ExitCode::from(EXIT_ERROR))
        }
    }
}

fn check(args: CheckArgs, json_output: bool) -> Result<ExitCode> {
    let target = match (args.package_name, args.package_type, args.repository_path) {
        (Some(name), Some(package_type), None) => Target::Package { name, package_type },
        (None, None, Some(path)) => Target::ContainerRepository { path },
        _ => bail!("give `--package-name` with `--package-type`, or `--repository-path`"),
    };
    let set = read_rule_set(&args.rules, "`--rules`")?;
    let request = DecisionRequest { target, action: args.action, actor: args.actor };
    let decision =
        set.decide(&request).with_context(|| format!("cannot decide with {}", shown(&args.rules, "`--rules`")))?;
    if json_output {
        print_json(&serde_json::to_value(&decision)?)?;
    } else {
        println!("{}: {}", if decision.allowed { "allowed" } else { "blocked" }, decision.reason);
    }
    Ok(if decision.allowed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_BLOCKED) })
}

fn preview_names(args: PreviewArgs, json_output: bool) -> Result<ExitCode> {
    let mut names = args.names;
    if let Some(path) = &args.names_file {
        names.extend(read_input(path, "`--names-file`")?.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    let results = preview(&args.pattern, args.package_type, &names);
    if json_output {
        print_json(&serde_json::to_value(&results)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut matched = 0usize;
    for result in &results {
        if let Some(error) = &result.error {
            println!("error    {}  ({error})", result.name);
        } else if result.matched {
            matched += 1;
            println!("match    {}", bracket(&result.name, &result.spans));
        } else if !args.matched_only {
            println!("no match {}", result.name);
        }
    }
    println!("{matched} of {} names match `{}`", results.len(), args.pattern);
    Ok(ExitCode::SUCCESS)
}

/// `name` with the matched spans in brackets: `[@demo/]core`.
fn bracket(name: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(name.len() + 2 * spans.len());
    let mut at = 0usize;
    for &(start, end) in spans {
        out.push_str(name.get(at..start).unwrap_or_default());
        out.push('[');
        out.push_str(name.get(start..end).unwrap_or_default());
        out.push(']');
        at = end;
    }
    out.push_str(name.get(at..).unwrap_or_default());
    out
}
