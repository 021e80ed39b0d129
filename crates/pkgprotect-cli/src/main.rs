//! The `pkgprotect` command: validate, check, lint and preview GitLab protection rules,
//! and run conformance vectors.
//!
//! ```text
//! pkgprotect check --rules examples/demo/rules.json --package-name @demo/core --package-type npm \
//!     --action push --actor developer
//! ```

mod wasmtime_cli;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pkgprotect::{
    AccessLevel, Action, Actor, DecisionRequest, PackageType, ParamsMode, Rule, RuleKind, RuleSet, Target,
    ValidationContext, parse_rule_params, preview, validate_rule,
};
use pkgprotect_conformance::{NativeHost, VectorFile};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code of `check` when the request is blocked (0 = allowed, 1 = error, 2 = usage error).
const EXIT_BLOCKED: u8 = 3;

#[derive(Parser)]
#[command(name = "pkgprotect", version, about = "GitLab-exact package and container repository protection rules")]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a rule as GitLab's create API would (REST parameters, HTTP 201/400/422).
    Validate(ValidateArgs),
    /// Decide whether an actor may push or delete a package or container repository.
    Check(CheckArgs),
    /// Report duplicate, subsumed and surprising rules.
    Lint {
        /// Rules JSON file (an array, as GitLab's list API returns it), or `-` for stdin.
        rules: PathBuf,
    },
    /// Show which names a pattern matches, with the matched parts in [brackets].
    Preview(PreviewArgs),
    /// Run a conformance vector file and print `N passed, N failed`.
    /// Run the GitLab-compatible REST server (SQLite in --data-dir, or --database-url).
    Serve(ServeArgs),
    /// Manage projects, users, memberships and tokens in the server's database.
    Admin {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    Conformance {
        /// Which implementation answers the vectors.
        #[arg(long, value_enum, default_value_t = HostKind::Native)]
        host: HostKind,
        /// The component, for `--host component` and `--host wasmtime-cli`.
        #[arg(long, default_value = "target/pkgprotect.wasm")]
        component: PathBuf,
        /// The `wasmtime` binary, for `--host wasmtime-cli`.
        #[arg(long, default_value = "wasmtime")]
        wasmtime: PathBuf,
        /// Run about N vectors of each category, spread over the file (a process per vector is slow).
        #[arg(long)]
        sample: Option<usize>,
        /// Vector file (schema: shared/conformance/README.md).
        file: PathBuf,
    },
}

#[derive(Args)]
struct DatabaseArgs {
    /// Directory of the embedded SQLite database (created if missing).
    #[arg(long, default_value = "pkgprotect-data", global = true)]
    data_dir: PathBuf,
    /// A database URL instead (`postgres://user@127.0.0.1:5432/db` to share it between instances).
    #[arg(long, env = "PKGPROTECT_DATABASE_URL", global = true)]
    database_url: Option<String>,
}

impl DatabaseArgs {
    fn url(&self) -> Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => Ok(pkgprotect_server::db::sqlite_url(&self.data_dir)?),
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// On an empty database, create a demo project, users and tokens, and print them.
    #[arg(long)]
    demo: bool,
    /// Directory served at `/` (the browser preview page).
    #[arg(long, default_value = "examples/browser-preview")]
    static_dir: PathBuf,
    /// Which engine decides.
    #[arg(long, value_enum, default_value_t = EngineKind::Component)]
    engine: EngineKind,
    /// The component the `component` engine runs (built by scripts/build-component.sh).
    #[arg(long, default_value = "target/pkgprotect.wasm")]
    component: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineKind {
    /// pkgprotect.wasm through the wasmtime host crate.
    Component,
    /// The core crate, in process (for comparison).
    Native,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Users and their personal access tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// Project memberships.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Deploy tokens.
    #[command(subcommand, name = "deploy-token")]
    DeployToken(DeployTokenCommand),
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project: `admin project create group/project`.
    Create { full_path: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; `--admin` makes an instance administrator (never blocked, may decide for others).
    Create {
        name: String,
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Add a user to a project with an access level (`developer`, `maintainer`, `owner`…).
    Add {
        project: String,
        user: String,
        #[arg(value_parser = parse_level)]
        level: AccessLevel,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a personal access token; printed once, only its hash is stored.
    Create { user: String },
}

#[derive(Subcommand)]
enum DeployTokenCommand {
    /// Create a deploy token for a project; printed once, only its hash is stored.
    Create { project: String },
}

fn parse_level(s: &str) -> Result<AccessLevel, String> {
    s.parse().map_err(|e: pkgprotect::UnknownAccessLevel| e.to_string())
}

#[derive(Clone, Copy, ValueEnum)]
enum HostKind {
    /// The core crate, in this process.
    Native,
    /// The WebAssembly component through the wasmtime host crate.
    Component,
    /// The real `wasmtime` CLI, one `wasmtime run --invoke` per vector.
    WasmtimeCli,
}

#[derive(Args)]
struct ValidateArgs {
    /// Rule as REST JSON (`{"package_name_pattern": …}`), a file path, or `-` for stdin.
    rule: String,
    /// Rule kind; guessed from the pattern field when omitted.
    #[arg(long, value_parser = parse_kind)]
    kind: Option<RuleKind>,
    /// The project's full path, for the container path-prefix check.
    #[arg(long)]
    project_path: Option<String>,
    /// Rules already in the project (JSON array file), for the uniqueness check.
    #[arg(long)]
    existing: Option<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    /// Rules JSON file (an array, as GitLab's list API returns it), or `-` for stdin.
    #[arg(long)]
    rules: PathBuf,
    /// Package name to check (with --package-type).
    #[arg(long, conflicts_with = "repository_path", requires = "package_type")]
    package_name: Option<String>,
    #[arg(long, value_parser = parse_package_type)]
    package_type: Option<PackageType>,
    /// Container repository path to check.
    #[arg(long)]
    repository_path: Option<String>,
    #[arg(long, value_parser = parse_action, default_value = "push")]
    action: Action,
    /// The actor: an access level (`developer`, `maintainer`, `owner`, `admin`, …) or `deploy_token`.
    #[arg(long, value_parser = parse_actor)]
    actor: Actor,
}

#[derive(Args)]
struct PreviewArgs {
    /// The wildcard pattern.
    #[arg(long)]
    pattern: String,
    /// Match as a rule of this package type would (PyPI normalizes separators).
    #[arg(long, value_parser = parse_package_type)]
    package_type: Option<PackageType>,
    /// Names to test; with `--names-file` too, both are used.
    names: Vec<String>,
    /// File with one name per line (`-` for stdin).
    #[arg(long)]
    names_file: Option<PathBuf>,
    /// Show only matching names.
    #[arg(long)]
    matched_only: bool,
}

fn parse_kind(s: &str) -> Result<RuleKind, String> {
    s.parse().map_err(|e: pkgprotect::UnknownRuleKind| e.to_string())
}
fn parse_package_type(s: &str) -> Result<PackageType, String> {
    s.parse().map_err(|e: pkgprotect::UnknownPackageType| e.to_string())
}
fn parse_action(s: &str) -> Result<Action, String> {
    s.parse().map_err(|e: pkgprotect::UnknownAction| e.to_string())
}
fn parse_actor(s: &str) -> Result<Actor, String> {
    if matches!(s, "deploy_token" | "deploy-token") {
        return Ok(Actor::DeployToken);
    }
    let access_level = s.parse::<AccessLevel>().map_err(|e| format!("{e}, or `deploy_token`"))?;
    Ok(Actor::User { access_level })
}

fn read_input(path: &Path) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

fn read_rules(path: &Path) -> Result<Vec<Rule>> {
    let text = read_input(path)?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not a JSON array of rules", path.display()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_json(value: &Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate(args, cli.json),
        Command::Check(args) => check(args, cli.json),
        Command::Lint { rules } => {
            let set = RuleSet::new(read_rules(&rules)?)?;
            let findings = set.lint();
            if cli.json {
                print_json(&serde_json::to_value(&findings)?)?;
            } else if findings.is_empty() {
                println!("no findings in {} rules", set.len());
            } else {
                for finding in &findings {
                    println!(
                        "{}: {}",
                        serde_json::to_value(finding.kind)?.as_str().unwrap_or("finding"),
                        finding.message
                    );
                }
                println!("{} findings in {} rules", findings.len(), set.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Preview(args) => preview_names(args, cli.json),
        Command::Serve(args) => serve(args),
        Command::Admin { database, command } => admin(&database, command, cli.json),
        Command::Conformance { host, component, wasmtime, sample, file } => {
            let mut vectors = VectorFile::load(&file)?;
            if let Some(n) = sample {
                vectors.matches = spread(std::mem::take(&mut vectors.matches), n);
                vectors.validate = spread(std::mem::take(&mut vectors.validate), n);
                vectors.decide = spread(std::mem::take(&mut vectors.decide), n);
            }
            let report = match host {
                HostKind::Native => pkgprotect_conformance::run(&vectors, &mut NativeHost),
                HostKind::Component => {
                    let policy = pkgprotect_host::Policy::load(&component)?;
                    pkgprotect_conformance::run(&vectors, &mut pkgprotect_host::conformance::ComponentHost { policy })
                }
                HostKind::WasmtimeCli => pkgprotect_conformance::run(
                    &vectors,
                    &mut wasmtime_cli::WasmtimeCliHost { wasmtime, component },
                ),
            };
            println!("{report}");
            Ok(if report.failed() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
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
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let engine: std::sync::Arc<dyn pkgprotect_server::engine::Engine> = match args.engine {
        EngineKind::Native => std::sync::Arc::new(pkgprotect_server::engine::NativeEngine),
        EngineKind::Component => {
            let policy = pkgprotect_host::Policy::load(&args.component)
                .context("cannot load the component (build it with scripts/build-component.sh, or use --engine native)")?;
            std::sync::Arc::new(pkgprotect_server::engine::ComponentEngine::new(policy))
        }
    };
    let config = pkgprotect_server::Config {
        database_url: args.database.url()?,
        listen: args.listen,
        static_dir: Some(args.static_dir),
        demo: args.demo,
        engine,
    };
    runtime()?.block_on(pkgprotect_server::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

fn admin(database: &DatabaseArgs, command: AdminCommand, json_output: bool) -> Result<ExitCode> {
    use pkgprotect_server::admin as ops;
    let url = database.url()?;
    let output: Value = runtime()?.block_on(async move {
        let store = pkgprotect_server::db::Store::connect(&url).await?;
        let output = match command {
            AdminCommand::Project(ProjectCommand::Create { full_path }) => {
                let id = ops::create_project(&store, &full_path).await?;
                json!({"id": id, "full_path": full_path})
            }
            AdminCommand::User(UserCommand::Create { name, admin }) => {
                let id = ops::create_user(&store, &name, admin).await?;
                json!({"id": id, "username": name, "is_admin": admin})
            }
            AdminCommand::Member(MemberCommand::Add { project, user, level }) => {
                ops::add_member(&store, &project, &user, level).await?;
                json!({"project": project, "user": user, "access_level": level})
            }
            AdminCommand::Token(TokenCommand::Create { user }) => {
                json!({"user": user, "token": ops::create_token(&store, &user).await?})
            }
            AdminCommand::DeployToken(DeployTokenCommand::Create { project }) => {
                json!({"project": project, "token": ops::create_deploy_token(&store, &project).await?})
            }
        };
        store.close().await;
        Ok::<Value, anyhow::Error>(output)
    })?;
    if json_output {
        println!("{output}");
    } else if let Some(token) = output.get("token").and_then(Value::as_str) {
        println!("{token}");
        eprintln!("(shown once: only its hash is stored)");
    } else {
        println!("{}", serde_json::to_string_pretty(&output)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs, json_output: bool) -> Result<ExitCode> {
    let text =
        if args.rule.trim_start().starts_with('{') { args.rule.clone() } else { read_input(Path::new(&args.rule))? };
    let params: Value = serde_json::from_str(&text).context("the rule is not valid JSON")?;
    let kind = match args.kind {
        Some(kind) => kind,
        None if params.get("repository_path_pattern").is_some() => RuleKind::ContainerRepository,
        None => RuleKind::Package,
    };
    let existing = match &args.existing {
        Some(path) => read_rules(path)?,
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
            Ok(ExitCode::FAILURE)
        }
    }
}

fn check(args: CheckArgs, json_output: bool) -> Result<ExitCode> {
    let target = match (args.package_name, args.package_type, args.repository_path) {
        (Some(name), Some(package_type), None) => Target::Package { name, package_type },
        (None, None, Some(path)) => Target::ContainerRepository { path },
        _ => bail!("give `--package-name` with `--package-type`, or `--repository-path`"),
    };
    let set = RuleSet::new(read_rules(&args.rules)?)?;
    let request = DecisionRequest { target, action: args.action, actor: args.actor };
    let decision = set.decide(&request)?;
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
        names.extend(read_input(path)?.lines().filter(|l| !l.is_empty()).map(str::to_owned));
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
