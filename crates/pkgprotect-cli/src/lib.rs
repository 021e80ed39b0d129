//! The command line of the `pkgprotect` binary: its clap tree, help texts and exit codes.
//!
//! A library of its own so that the tests walk the very tree the binary parses with, and so
//! that `pkgprotect completions` and `pkgprotect man` generate from it.
//!
//! ```text
//! pkgprotect check --rules examples/demo/rules.json --package-name @demo/core --package-type npm \
//!     --action push --actor developer
//! ```

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use pkgprotect::permissions::DeployTokenScope;
use pkgprotect::{AccessLevel, Action, Actor, PackageType, RuleKind};
use pkgprotect_server::auth::PersonalScope;
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Exit code of `check` when the request is allowed, and of every other command that succeeds.
pub const EXIT_OK: u8 = 0;
/// Exit code of an error: unreadable or invalid input, a database or server failure, an invalid
/// rule (`validate`) or a failed vector (`conformance`).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of a usage error, as clap reports it (unknown command, flag or value).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of `check` when the request is blocked.
pub const EXIT_BLOCKED: u8 = 3;

const TOP_EXAMPLES: &str = "\
Exit status:
  0  success: `check` allowed the request, `validate` found the rule valid, `conformance` passed every vector
  1  error: unreadable or invalid input (the message names the flag, argument or file), a database
     or server failure; also an invalid rule (`validate`) and a failed vector (`conformance`)
  2  usage error: an unknown command or flag, a missing argument, a value that does not parse
  3  `check`: a rule blocks the request

Examples:
  # May a developer push @demo/core? (exits 3: blocked)
  pkgprotect check --rules examples/demo/rules.json --package-name @demo/core --package-type npm --actor developer
  # Validate a rule as GitLab's create API would
  pkgprotect validate '{\"package_name_pattern\": \"@demo/*\", \"package_type\": \"npm\", \"minimum_access_level_for_push\": \"maintainer\"}'
  # The REST server with a demo project, on 127.0.0.1:8080
  pkgprotect serve --demo";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  pkgprotect validate '{\"package_name_pattern\": \"@demo/*\", \"package_type\": \"npm\", \"minimum_access_level_for_push\": \"maintainer\"}'
  # A container rule must lie under the project's path (exits 1: GitLab answers 422)
  pkgprotect validate --project-path demo-group/demo-project '{\"repository_path_pattern\": \"other-group/app/*\", \"minimum_access_level_for_push\": \"maintainer\"}'
  # The same pattern and type as an existing rule (exits 1: GitLab answers 422)
  pkgprotect validate --existing examples/demo/rules.json '{\"package_name_pattern\": \"@demo/*\", \"package_type\": \"npm\", \"minimum_access_level_for_push\": \"owner\"}'";

const CHECK_EXAMPLES: &str = "\
Exits 0 when allowed, 3 when blocked, 1 on an error.

Examples:
  pkgprotect check --rules examples/demo/rules.json --package-name @demo/core --package-type npm --actor developer
  pkgprotect check --rules examples/demo/rules.json --repository-path demo-group/demo-project/release/api --action delete --actor maintainer
  pkgprotect check --rules examples/demo/rules.json --package-name @demo/core --package-type npm --action delete --actor deploy_token --json";

const LINT_EXAMPLES: &str = "\
Examples:
  pkgprotect lint examples/demo/rules.json
  pkgprotect lint --json examples/demo/rules.json";

const PREVIEW_EXAMPLES: &str = "\
Examples:
  pkgprotect preview --pattern '@demo/*' @demo/ui @Demo/core @other/ui
  # PyPI rules treat runs of `-`, `_` and `.` as equal
  pkgprotect preview --pattern 'my_internal_*' --package-type pypi My.Internal-Tool
  pkgprotect preview --pattern '@demo/*' --names-file examples/demo/names.txt --matched-only";

const CONFORMANCE_EXAMPLES: &str = "\
Exits 0 when every vector passes, 1 when one fails.

Examples:
  pkgprotect conformance ../shared/conformance/gitlab-vectors.json
  # Through the WebAssembly component (build it first with scripts/build-component.sh)
  pkgprotect conformance --host component ../shared/conformance/gitlab-vectors.json
  pkgprotect conformance --host wasmtime-cli --wasmtime .tools/venv/bin/wasmtime --sample 20 ../shared/conformance/gitlab-vectors.json";

const SERVE_EXAMPLES: &str = "\
Runs until Ctrl-C or SIGTERM.

Examples:
  # SQLite in ./pkgprotect-data; on an empty database, a demo project with its users and tokens
  pkgprotect serve --demo
  # Several instances sharing one PostgreSQL database
  pkgprotect serve --listen 0.0.0.0:8080 --database-url postgres://pkgprotect@db.internal:5432/pkgprotect
  # Without the component: the core crate decides in process
  pkgprotect serve --engine native --data-dir /var/lib/pkgprotect
  # HTTPS, so tokens never travel in clear (or terminate TLS in a reverse proxy)
  pkgprotect serve --listen 0.0.0.0:8443 --tls-cert /etc/pkgprotect/cert.pem --tls-key /etc/pkgprotect/key.pem";

const ADMIN_EXAMPLES: &str = "\
Examples:
  pkgprotect admin project create my-group/my-project
  pkgprotect admin --data-dir /var/lib/pkgprotect user create alice
  pkgprotect admin audit --project my-group/my-project
  pkgprotect admin backup pkgprotect-backup.sqlite3
  pkgprotect admin --database-url postgres://pkgprotect@db.internal:5432/pkgprotect token create alice";

const ADMIN_PROJECT_EXAMPLES: &str = "\
Examples:
  pkgprotect admin project create my-group/my-project";

const ADMIN_PROJECT_CREATE_EXAMPLES: &str = "\
Examples:
  pkgprotect admin project create my-group/my-project
  pkgprotect admin project create my-group/subgroup/my-project --json";

const ADMIN_USER_EXAMPLES: &str = "\
Examples:
  pkgprotect admin user create alice";

const ADMIN_USER_CREATE_EXAMPLES: &str = "\
Examples:
  pkgprotect admin user create alice
  # A service account that may ask for decisions on behalf of other actors
  pkgprotect admin user create registry --admin";

const ADMIN_MEMBER_EXAMPLES: &str = "\
Examples:
  pkgprotect admin member add my-group/my-project alice maintainer
  pkgprotect admin member remove my-group/my-project alice";

const ADMIN_MEMBER_ADD_EXAMPLES: &str = "\
Examples:
  pkgprotect admin member add my-group/my-project alice maintainer
  # Adding a member again changes their level
  pkgprotect admin member add my-group/my-project alice developer";

const ADMIN_MEMBER_REMOVE_EXAMPLES: &str = "\
Their tokens stay valid for other projects; the project answers 404 to them from the next request.

Examples:
  pkgprotect admin member remove my-group/my-project alice";

const ADMIN_USER_BLOCK_EXAMPLES: &str = "\
Every token of a blocked user gets 401 on every instance from its next request.

Examples:
  pkgprotect admin user block alice";

const ADMIN_USER_UNBLOCK_EXAMPLES: &str = "\
Examples:
  pkgprotect admin user unblock alice";

const ADMIN_TOKEN_EXAMPLES: &str = "\
Examples:
  pkgprotect admin token create alice
  pkgprotect admin token list --user alice
  pkgprotect admin token revoke 7";

const ADMIN_TOKEN_CREATE_EXAMPLES: &str = "\
The token goes to stdout, a reminder that it is shown once to stderr.

Scopes (GitLab's names; `decide` is this server's own):
  api             everything: rules read and written, decisions (the default)
  read_api        rule lists, decisions, the current user
  read_user       the current user only
  decide          decisions only: for the service account a registry asks with
  read_registry   registry pulls through the token service
  write_registry  registry pushes through the token service

Examples:
  pkgprotect admin token create alice
  pkgprotect admin token create alice --json
  pkgprotect admin token create registry-bot --scope decide --expires-at 2027-06-30";

const ADMIN_TOKEN_LIST_EXAMPLES: &str = "\
Shows ids, owners, scopes, expiry and revocation; never the tokens (only their hashes are stored).

Examples:
  pkgprotect admin token list
  pkgprotect admin token list --user alice --json";

const ADMIN_TOKEN_REVOKE_EXAMPLES: &str = "\
Revokes personal and deploy tokens alike: every instance answers 401 from its next request.

Examples:
  pkgprotect admin token revoke 7";

const ADMIN_DEPLOY_TOKEN_EXAMPLES: &str = "\
Examples:
  pkgprotect admin deploy-token create my-group/my-project --scope write_package_registry";

const ADMIN_DEPLOY_TOKEN_CREATE_EXAMPLES: &str = "\
The token goes to stdout, a reminder that it is shown once to stderr. Without --scope the token
holds every registry scope. Its username is `gitlab+deploy-token-<id>` unless --username is given.
Revoke it with `pkgprotect admin token revoke <id>`.

Examples:
  pkgprotect admin deploy-token create my-group/my-project
  pkgprotect admin deploy-token create my-group/my-project --scope read_package_registry --scope write_package_registry --json
  pkgprotect admin deploy-token create my-group/my-project --username ci-publisher --expires-at 2027-01-31";

const ADMIN_AUDIT_EXAMPLES: &str = "\
Every create, PATCH and DELETE of a package or container protection rule through the API is
recorded in the transaction that makes it: when, who (user id and username, and whether an
administrator; `system` for rules this program writes itself, as `serve --demo` does), the
project, the rule, and the rule's REST entity before and after. Refused changes record nothing. Newest entries first; the table shows the fields a change touched,
`--json` every entry whole (a JSON array, with `before` and `after` as GitLab's entity).

Examples:
  pkgprotect admin audit
  pkgprotect admin audit --project my-group/my-project --limit 20
  pkgprotect admin audit --project 1 --limit 1000 --json";

const ADMIN_BACKUP_EXAMPLES: &str = "\
Copies the SQLite database into a new file with SQLite's `VACUUM INTO`: one consistent
snapshot, taken while the server keeps running and writing. The file must not exist yet. To
restore, stop the server and put the copy in place of `pkgprotect.sqlite3` in `--data-dir`
(removing its `-wal` and `-shm` files). A PostgreSQL database is backed up with `pg_dump`.

Examples:
  pkgprotect admin backup /var/backups/pkgprotect-2026-12-03.sqlite3
  pkgprotect admin --data-dir /var/lib/pkgprotect backup pkgprotect-backup.sqlite3";

const ADMIN_REGISTRY_CONFIG_EXAMPLES: &str = "\
Creates the token signing key and `<data-dir>/registry-auth.crt` if `serve` has not yet (the same
key on every instance of one PostgreSQL database), then prints a whole docker-registry (CNCF
distribution) configuration whose `auth.token` trusts them. Give --registry-issuer and
--registry-service as `serve` gets them. Walk-through: examples/container-registry/README.md.

Examples:
  pkgprotect admin registry-config --server-url https://gitlab.example.com > /etc/docker/registry/config.yml
  pkgprotect admin --data-dir /var/lib/pkgprotect registry-config --registry-listen 0.0.0.0:5000 --storage /srv/registry
  pkgprotect admin registry-config --json";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  pkgprotect completions bash > ~/.local/share/bash-completion/completions/pkgprotect
  pkgprotect completions zsh > ~/.zfunc/_pkgprotect
  pkgprotect completions fish > ~/.config/fish/completions/pkgprotect.fish
  # PowerShell: add this line to $PROFILE
  pkgprotect completions powershell | Out-String | Invoke-Expression
  # Elvish: in ~/.config/elvish/rc.elv, `eval (pkgprotect completions elvish | slurp)`
  pkgprotect completions elvish";

const MAN_EXAMPLES: &str = "\
Examples:
  pkgprotect man | man -l -
  # One page per command (pkgprotect.1, pkgprotect-check.1, pkgprotect-admin-user-create.1, ...)
  pkgprotect man --out-dir target/man";

/// GitLab-exact package and container repository protection rules
///
/// Decide, validate, lint and preview GitLab's package and container repository protection
/// rules offline, run the GitLab-compatible REST server, and manage its database.
#[derive(Debug, Parser)]
#[command(name = "pkgprotect", version, after_long_help = TOP_EXAMPLES)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a rule as GitLab's create API would (REST parameters, HTTP 201/400/422).
    #[command(after_long_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Decide whether an actor may push or delete a package or container repository.
    #[command(after_long_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Report duplicate, subsumed and surprising rules.
    #[command(after_long_help = LINT_EXAMPLES)]
    Lint(LintArgs),
    /// Show which names a pattern matches, with the matched parts in [brackets].
    #[command(after_long_help = PREVIEW_EXAMPLES)]
    Preview(PreviewArgs),
    /// Run the GitLab-compatible REST server (SQLite in `--data-dir`, or `--database-url`).
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Manage projects, users, memberships and tokens; read the audit trail; back up the database.
    #[command(after_long_help = ADMIN_EXAMPLES)]
    Admin(AdminArgs),
    /// Run a conformance vector file through a host and print `N passed, N failed`.
    #[command(after_long_help = CONFORMANCE_EXAMPLES)]
    Conformance(ConformanceArgs),
    /// Print a shell completion script to stdout.
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per command into a directory.
    #[command(after_long_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Rule as REST JSON (`{"package_name_pattern": ...}`), a file holding it, or `-` for stdin.
    pub rule: String,
    /// Rule kind; guessed from the pattern field when omitted.
    #[arg(long, value_parser = rule_kinds())]
    pub kind: Option<RuleKind>,
    /// The project's full path, for the container path-prefix check.
    #[arg(long, value_name = "GROUP/PROJECT")]
    pub project_path: Option<String>,
    /// Rules already in the project (JSON array file), for the uniqueness check.
    #[arg(long, value_name = "FILE")]
    pub existing: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group = ArgGroup::new("target").required(true).args(["package_name", "repository_path"]))]
pub struct CheckArgs {
    /// Rules JSON file (an array, as GitLab's list API returns it), or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Package name to check (with `--package-type`).
    #[arg(long, value_name = "NAME", conflicts_with = "repository_path", requires = "package_type")]
    pub package_name: Option<String>,
    /// Package type of `--package-name`.
    #[arg(long, value_name = "TYPE", value_parser = package_types(), conflicts_with = "repository_path")]
    pub package_type: Option<PackageType>,
    /// Container repository path to check (instead of a package).
    #[arg(long, value_name = "PATH")]
    pub repository_path: Option<String>,
    /// What the actor wants to do.
    #[arg(long, value_parser = actions(), default_value = "push")]
    pub action: Action,
    /// Who asks: a user's access level in the project, `admin`, or `deploy_token`.
    #[arg(long, value_parser = actors())]
    pub actor: Actor,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Rules JSON file (an array, as GitLab's list API returns it), or `-` for stdin.
    pub rules: PathBuf,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The wildcard pattern (`*` is the only wildcard).
    #[arg(long)]
    pub pattern: String,
    /// Match as a rule of this package type would (PyPI makes `-`, `_` and `.` runs equal).
    #[arg(long, value_name = "TYPE", value_parser = package_types())]
    pub package_type: Option<PackageType>,
    /// Names to test; with `--names-file` too, both are used.
    pub names: Vec<String>,
    /// File with one name per line (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub names_file: Option<PathBuf>,
    /// Show only matching names.
    #[arg(long)]
    pub matched_only: bool,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Directory of the embedded SQLite database (created if missing).
    #[arg(long, value_name = "DIR", default_value = "pkgprotect-data", global = true)]
    pub data_dir: PathBuf,
    /// A database URL instead (`postgres://user@127.0.0.1:5432/db` to share it between instances).
    // The value may hold a password: `--help` must not print it from the environment.
    #[arg(long, value_name = "URL", env = "PKGPROTECT_DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address and port to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// On an empty database, create a demo project, users and tokens, and print them.
    #[arg(long)]
    pub demo: bool,
    /// Directory served at `/` (the protection settings page); ignored when missing.
    #[arg(long, value_name = "DIR", default_value = "examples/browser-preview")]
    pub static_dir: PathBuf,
    /// Which engine decides.
    #[arg(long, value_enum, default_value_t = EngineKind::Component)]
    pub engine: EngineKind,
    /// The component the `component` engine runs (built by scripts/build-component.sh).
    #[arg(long, value_name = "FILE", default_value = "target/pkgprotect.wasm")]
    pub component: PathBuf,
    /// Component instances shared by every project (default: one per core).
    #[arg(long, value_name = "N", env = "PKGPROTECT_POOL_INSTANCES", value_parser = clap::value_parser!(u32).range(1..=512))]
    pub pool_instances: Option<u32>,
    /// Most compiled rule sets one component instance keeps; the least recently used go first.
    #[arg(long, value_name = "N", env = "PKGPROTECT_RULE_SETS_PER_INSTANCE", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(1..))]
    pub rule_sets_per_instance: u32,
    /// Memory cap of one component instance, in MiB; an instance past three quarters of it evicts rule sets.
    #[arg(long, value_name = "MIB", env = "PKGPROTECT_INSTANCE_MEMORY_MIB", default_value_t = 128, value_parser = clap::value_parser!(u32).range(4..=4096))]
    pub instance_memory_mib: u32,
    /// Most compiled rule sets the server keeps (two per project: packages and containers).
    #[arg(long, value_name = "N", env = "PKGPROTECT_CACHED_RULE_SETS", default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub cached_rule_sets: u32,
    /// Seconds in-flight requests may take to finish after SIGTERM or SIGINT.
    #[arg(long, value_name = "SECONDS", env = "PKGPROTECT_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", env = "PKGPROTECT_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", env = "PKGPROTECT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Registry token issuer (`iss`; the registry's `auth.token.issuer`).
    #[arg(long, value_name = "NAME", env = "PKGPROTECT_REGISTRY_ISSUER", default_value = "gitlab-issuer")]
    pub registry_issuer: String,
    /// Registry token service (`aud`; the registry's `auth.token.service`).
    #[arg(long, value_name = "NAME", env = "PKGPROTECT_REGISTRY_SERVICE", default_value = "container_registry")]
    pub registry_service: String,
    /// Seconds a registry token is valid.
    #[arg(long, value_name = "SECONDS", env = "PKGPROTECT_REGISTRY_TOKEN_EXPIRY", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub registry_token_expiry: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EngineKind {
    /// pkgprotect.wasm through the wasmtime host crate.
    Component,
    /// The core crate, in process (for comparison).
    Native,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create projects.
    #[command(subcommand, after_long_help = ADMIN_PROJECT_EXAMPLES)]
    Project(ProjectCommand),
    /// Create users (their tokens: `admin token`).
    #[command(subcommand, after_long_help = ADMIN_USER_EXAMPLES)]
    User(UserCommand),
    /// Give users access to projects.
    #[command(subcommand, after_long_help = ADMIN_MEMBER_EXAMPLES)]
    Member(MemberCommand),
    /// Issue personal access tokens.
    #[command(subcommand, after_long_help = ADMIN_TOKEN_EXAMPLES)]
    Token(TokenCommand),
    /// Issue deploy tokens.
    #[command(subcommand, name = "deploy-token", after_long_help = ADMIN_DEPLOY_TOKEN_EXAMPLES)]
    DeployToken(DeployTokenCommand),
    /// List the audit trail of rule changes: who changed which rule when, before and after.
    #[command(after_long_help = ADMIN_AUDIT_EXAMPLES)]
    Audit {
        /// Only the changes to this project's rules: its path (`group/project`) or numeric id.
        #[arg(long)]
        project: Option<String>,
        /// Show at most this many entries, the newest.
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
    },
    /// Print a docker-registry (CNCF distribution) configuration that asks this server for tokens.
    #[command(name = "registry-config", after_long_help = ADMIN_REGISTRY_CONFIG_EXAMPLES)]
    RegistryConfig {
        /// The URL registry clients reach `pkgprotect serve` at; the token realm is `<URL>/jwt/auth`.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
        server_url: String,
        /// Address the registry listens on (its `http.addr`).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5000")]
        registry_listen: String,
        /// Directory the registry keeps images in (its `storage.filesystem.rootdirectory`).
        #[arg(long, value_name = "DIR", default_value = "/var/lib/docker-registry")]
        storage: PathBuf,
        /// Registry token issuer, as `serve --registry-issuer` has it.
        #[arg(long, value_name = "NAME", env = "PKGPROTECT_REGISTRY_ISSUER", default_value = "gitlab-issuer")]
        registry_issuer: String,
        /// Registry token service, as `serve --registry-service` has it.
        #[arg(long, value_name = "NAME", env = "PKGPROTECT_REGISTRY_SERVICE", default_value = "container_registry")]
        registry_service: String,
    },
    /// Copy the SQLite database into a new file while the server runs (online backup).
    #[command(after_long_help = ADMIN_BACKUP_EXAMPLES)]
    Backup {
        /// The file to write; it must not exist.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project with its full path.
    #[command(after_long_help = ADMIN_PROJECT_CREATE_EXAMPLES)]
    Create {
        /// Full path of the project: `group/project`, or with subgroups `group/sub/project`.
        #[arg(value_name = "GROUP/PROJECT")]
        full_path: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    #[command(after_long_help = ADMIN_USER_CREATE_EXAMPLES)]
    Create {
        /// Username, unique in the database.
        #[arg(value_name = "USERNAME")]
        name: String,
        /// Make an instance administrator: never blocked, and may ask for decisions for other actors.
        #[arg(long)]
        admin: bool,
    },
    /// Block a user: all their tokens are refused until unblocked.
    #[command(after_long_help = ADMIN_USER_BLOCK_EXAMPLES)]
    Block {
        /// Username to block.
        #[arg(value_name = "USERNAME")]
        name: String,
    },
    /// Unblock a user: their tokens work again (unless revoked or expired).
    #[command(after_long_help = ADMIN_USER_UNBLOCK_EXAMPLES)]
    Unblock {
        /// Username to unblock.
        #[arg(value_name = "USERNAME")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a user to a project with an access level, or change their level.
    #[command(after_long_help = ADMIN_MEMBER_ADD_EXAMPLES)]
    Add {
        /// Project path (`group/project`) or numeric id.
        project: String,
        /// Username of the member.
        #[arg(value_name = "USERNAME")]
        user: String,
        /// The member's access level in the project (guest to owner; instance administrators
        /// are users created with --admin).
        #[arg(value_parser = member_levels())]
        level: AccessLevel,
    },
    /// Remove a user from a project.
    #[command(after_long_help = ADMIN_MEMBER_REMOVE_EXAMPLES)]
    Remove {
        /// Project path (`group/project`) or numeric id.
        project: String,
        /// Username of the member.
        #[arg(value_name = "USERNAME")]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal access token; printed once, only its hash is stored.
    #[command(after_long_help = ADMIN_TOKEN_CREATE_EXAMPLES)]
    Create {
        /// Username the token acts as.
        #[arg(value_name = "USERNAME")]
        user: String,
        /// A scope the token holds (repeat for several; default `api`).
        #[arg(long = "scope", value_name = "SCOPE", default_value = "api", value_parser = personal_scope)]
        scopes: Vec<PersonalScope>,
        /// The day the token stops working (00:00 UTC), as GitLab's `expires_at`: YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = expiry_date)]
        expires_at: Option<(i64, String)>,
        /// A name to recognise the token by in `admin token list` (default: the username).
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never the tokens themselves): ids for `revoke`, scopes, expiry.
    #[command(after_long_help = ADMIN_TOKEN_LIST_EXAMPLES)]
    List {
        /// Only the tokens of this user (or deploy token username).
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
    },
    /// Revoke a personal or deploy token by id.
    #[command(after_long_help = ADMIN_TOKEN_REVOKE_EXAMPLES)]
    Revoke {
        /// The token's id, from `admin token list` or the output of `create`.
        #[arg(value_name = "ID")]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeployTokenCommand {
    /// Create a deploy token for a project; printed once, only its hash is stored.
    #[command(after_long_help = ADMIN_DEPLOY_TOKEN_CREATE_EXAMPLES)]
    Create {
        /// Project path (`group/project`) or numeric id.
        project: String,
        /// A registry scope the token holds (repeat for several; default: all four).
        #[arg(long = "scope", value_name = "SCOPE", value_parser = deploy_token_scope)]
        scopes: Vec<DeployTokenScope>,
        /// The token's username (default `gitlab+deploy-token-<id>`, as GitLab names them).
        #[arg(long)]
        username: Option<String>,
        /// The day the token stops working (00:00 UTC): YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = expiry_date)]
        expires_at: Option<(i64, String)>,
    },
}

fn personal_scope(name: &str) -> Result<PersonalScope, String> {
    name.parse().map_err(|error: pkgprotect_server::auth::UnknownPersonalScope| error.to_string())
}

fn deploy_token_scope(name: &str) -> Result<DeployTokenScope, String> {
    name.parse().map_err(|error: pkgprotect::permissions::UnknownDeployTokenScope| error.to_string())
}

/// `YYYY-MM-DD` as unix seconds at 00:00 UTC, with the text for messages.
fn expiry_date(text: &str) -> Result<(i64, String), String> {
    let date = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|error| format!("`{text}` is not a date of the form YYYY-MM-DD: {error}"))?;
    Ok((date.midnight().assume_utc().unix_timestamp(), text.to_owned()))
}

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Which implementation answers the vectors.
    #[arg(long, value_enum, default_value_t = HostKind::Native)]
    pub host: HostKind,
    /// The component, for `--host component` and `--host wasmtime-cli`.
    #[arg(long, value_name = "FILE", default_value = "target/pkgprotect.wasm")]
    pub component: PathBuf,
    /// The `wasmtime` binary, for `--host wasmtime-cli`.
    #[arg(long, value_name = "PROGRAM", default_value = "wasmtime")]
    pub wasmtime: PathBuf,
    /// Run about N vectors of each category, spread over the file (a process per vector is slow).
    #[arg(long, value_name = "N")]
    pub sample: Option<NonZeroUsize>,
    /// Vector file (schema: shared/conformance/README.md).
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HostKind {
    /// The core crate, in this process.
    Native,
    /// The WebAssembly component through the wasmtime host crate.
    Component,
    /// The real `wasmtime` CLI, one `wasmtime run --invoke` per vector.
    WasmtimeCli,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `pkgprotect.1` and a page per subcommand (`pkgprotect-check.1`, ...) into this
    /// directory, created if missing, instead of printing `pkgprotect.1` to stdout.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

// Parsers that list their values, so that help, completions and man pages offer them; the
// core's `FromStr` still turns the accepted text into the value.

fn package_types() -> impl TypedValueParser<Value = PackageType> {
    PossibleValuesParser::new(PackageType::ALL.map(PackageType::as_str)).try_map(|s| s.parse::<PackageType>())
}

fn rule_kinds() -> impl TypedValueParser<Value = RuleKind> {
    PossibleValuesParser::new([RuleKind::Package, RuleKind::ContainerRepository].map(RuleKind::as_str))
        .try_map(|s| s.parse::<RuleKind>())
}

fn actions() -> impl TypedValueParser<Value = Action> {
    PossibleValuesParser::new([Action::Push, Action::Delete].map(Action::as_str)).try_map(|s| s.parse::<Action>())
}

fn member_levels() -> impl TypedValueParser<Value = AccessLevel> {
    let levels = AccessLevel::ALL.into_iter().filter(|level| level.is_membership()).map(AccessLevel::as_str);
    PossibleValuesParser::new(levels).try_map(|s| s.parse::<AccessLevel>())
}

fn actors() -> impl TypedValueParser<Value = Actor> {
    let levels = AccessLevel::ALL.map(|level| PossibleValue::new(level.as_str()));
    let deploy_token = PossibleValue::new("deploy_token").alias("deploy-token");
    PossibleValuesParser::new(levels.into_iter().chain([deploy_token]).collect::<Vec<_>>()).try_map(|s| {
        if s == "deploy_token" || s == "deploy-token" {
            return Ok(Actor::DeployToken);
        }
        s.parse::<AccessLevel>().map(|access_level| Actor::User { access_level })
    })
}
