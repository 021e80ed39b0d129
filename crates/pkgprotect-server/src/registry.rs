//! GitLab's container registry token service (`GET /jwt/auth`, spec §7): a registry (CNCF
//! distribution with `auth.token`) sends the client here; the client authenticates with HTTP
//! Basic and gets an RS256 JWT naming what it may do to which repository, decided by the
//! base permissions and the project's container repository protection rules.

use crate::api::{ApiError, AppState, compiled_rules, form_pairs};
use crate::auth::{PersonalScope, token_hash};
use crate::db::{Backend, DbError, Project, Store, TokenOwner};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use pkgprotect::permissions::{DeployTokenScope, DeployTokenScopes, base_permission};
use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, RuleKind, Target};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The certificate a registry must trust (`auth.token.rootcertbundle`), in the data directory.
pub const CERTIFICATE_FILE: &str = "registry-auth.crt";
/// The signing key on SQLite (mode 0600); on PostgreSQL the key lives in the database.
pub const KEY_FILE: &str = "registry-auth.key";

/// GitLab's defaults (`gitlab.yml`: `registry.issuer`, the audience, `container_registry_token_expire_delay`).
pub const DEFAULT_ISSUER: &str = "gitlab-issuer";
pub const DEFAULT_SERVICE: &str = "container_registry";
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Most scopes one token request may name.
pub const MAX_SCOPES: usize = 100;

/// How the token service signs.
#[derive(Debug, Clone)]
pub struct RegistryAuthConfig {
    /// Where the certificate (and, on SQLite, the key) is written.
    pub data_dir: PathBuf,
    /// `iss`: the registry's `auth.token.issuer`.
    pub issuer: String,
    /// `aud`: the registry's `auth.token.service`; other `service` parameters are 404.
    pub service: String,
    pub expiry: Duration,
}

impl RegistryAuthConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        RegistryAuthConfig {
            data_dir,
            issuer: DEFAULT_ISSUER.into(),
            service: DEFAULT_SERVICE.into(),
            expiry: DEFAULT_EXPIRY,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryKeyError {
    #[error("cannot generate the registry signing key: {0}")]
    Generate(String),
    #[error("the registry signing key is unreadable: {0}")]
    Unreadable(String),
    #[error("cannot write `{path}`: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot read `{path}`: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the key generation task failed: {0}")]
    Task(String),
}

/// The key tokens are signed with and the certificate that vouches for it.
pub struct SigningKey {
    encoding: jsonwebtoken::EncodingKey,
    /// libtrust's key id of the public key (what GitLab puts in `kid`).
    kid: String,
    /// The certificate's DER in standard base64 (`x5c`).
    certificate_b64: String,
    certificate_pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// From a PKCS#8 PEM private key and the PEM certificate of its public key.
    pub fn from_pems(key_pem: &str, certificate_pem: &str) -> Result<Self, RegistryKeyError> {
        let key =
            rsa::RsaPrivateKey::from_pkcs8_pem(key_pem).map_err(|e| RegistryKeyError::Unreadable(e.to_string()))?;
        let pkcs1 = key.to_pkcs1_der().map_err(|e| RegistryKeyError::Unreadable(e.to_string()))?;
        let spki = key.to_public_key().to_public_key_der().map_err(|e| RegistryKeyError::Unreadable(e.to_string()))?;
        let certificate_b64 = pem_body(certificate_pem);
        let certificate = base64::engine::general_purpose::STANDARD
            .decode(&certificate_b64)
            .map_err(|e| RegistryKeyError::Unreadable(format!("the certificate is not PEM: {e}")))?;
        // The certificate must be of this very key, or the registry rejects every token.
        if !contains(&certificate, spki.as_bytes()) {
            return Err(RegistryKeyError::Unreadable("the certificate is not of the signing key".into()));
        }
        Ok(SigningKey {
            encoding: jsonwebtoken::EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            kid: libtrust_key_id(spki.as_bytes()),
            certificate_b64,
            certificate_pem: certificate_pem.to_owned(),
        })
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    pub fn key_id(&self) -> &str {
        &self.kid
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

/// The base64 between a PEM's armour lines.
fn pem_body(pem: &str) -> String {
    pem.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with("-----")).collect()
}

/// libtrust's key id, as distribution computes it for keys in `rootcertbundle`: the first 30
/// bytes of the SHA-256 of the DER public key, in base32, in groups of four joined by `:`.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(spki_der);
    let bytes = digest.get(..30).unwrap_or_default();
    let mut encoded = String::with_capacity(48);
    // 30 bytes are 48 base32 characters exactly: no padding.
    for chunk in bytes.chunks(5) {
        let mut buffer = 0u64;
        for &byte in chunk {
            buffer = (buffer << 8) | u64::from(byte);
        }
        for i in (0..8).rev() {
            let index = usize::try_from((buffer >> (i * 5)) & 31).unwrap_or(0);
            encoded.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
        }
    }
    let groups: Vec<&str> = (0..encoded.len()).step_by(4).filter_map(|at| encoded.get(at..at + 4)).collect();
    groups.join(":")
}

/// A fresh 2048-bit RSA key (PKCS#8 PEM) and its self-signed certificate (PEM). Slow (about a
/// second): call it off the async runtime.
pub fn generate_key() -> Result<(String, String), RegistryKeyError> {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|e| RegistryKeyError::Generate(e.to_string()))?;
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| RegistryKeyError::Generate(e.to_string()))?;
    let certificate = self_signed_certificate(&pem)?;
    Ok((pem.to_string(), certificate))
}

/// A self-signed certificate of `key_pem`: the trust anchor the registry's `rootcertbundle`
/// holds, and the one certificate of every token's `x5c` chain.
pub fn self_signed_certificate(key_pem: &str) -> Result<String, RegistryKeyError> {
    let key_pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| RegistryKeyError::Generate(e.to_string()))?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, "pkgprotect registry token signer");
    let certificate = params.self_signed(&key_pair).map_err(|e| RegistryKeyError::Generate(e.to_string()))?;
    Ok(certificate.pem())
}

async fn generate_off_runtime() -> Result<(String, String), RegistryKeyError> {
    tokio::task::spawn_blocking(generate_key).await.map_err(|e| RegistryKeyError::Task(e.to_string()))?
}

/// The signing key of this installation, created on first start: on PostgreSQL one row that
/// every instance reads (the first insert wins, so concurrent first starts agree); on SQLite
/// a 0600 file in the data directory. Then the certificate is (re)written to
/// `<data_dir>/registry-auth.crt` for the registry to trust.
pub async fn load_or_create_key(store: &Store, data_dir: &Path) -> Result<SigningKey, RegistryKeyError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|source| RegistryKeyError::Write { path: data_dir.display().to_string(), source })?;
    let (key_pem, certificate_pem) = match store.backend {
        Backend::Postgres => match store.registry_key().await? {
            Some(stored) => stored,
            None => {
                let (key, certificate) = generate_off_runtime().await?;
                store.insert_registry_key(&key, &certificate).await?;
                store
                    .registry_key()
                    .await?
                    .ok_or_else(|| RegistryKeyError::Unreadable("the stored registry signing key vanished".into()))?
            }
        },
        Backend::Sqlite => {
            let key_path = data_dir.join(KEY_FILE);
            let key = match read_optional(&key_path)? {
                Some(key) => key,
                None => {
                    let (key, _) = generate_off_runtime().await?;
                    write_key_file(&key_path, &key)?;
                    // A concurrent start may have won the race: use whichever key is on disk.
                    read_optional(&key_path)?.unwrap_or(key)
                }
            };
            let certificate_path = data_dir.join(CERTIFICATE_FILE);
            let certificate = match read_optional(&certificate_path)? {
                Some(certificate) if SigningKey::from_pems(&key, &certificate).is_ok() => certificate,
                // None yet: make one; a concurrent start may write its own first, and then
                // every instance uses that one (the registry trusts only what is on disk).
                None => {
                    write_new_file(&certificate_path, &self_signed_certificate(&key)?, 0o644)?;
                    read_optional(&certificate_path)?.unwrap_or_default()
                }
                // One of another key (the key file was replaced): this key's replaces it.
                Some(_) => {
                    let certificate = self_signed_certificate(&key)?;
                    replace_file(&certificate_path, &certificate)?;
                    certificate
                }
            };
            (key, certificate)
        }
    };
    let signing = SigningKey::from_pems(&key_pem, &certificate_pem)?;
    let certificate_path = data_dir.join(CERTIFICATE_FILE);
    if read_optional(&certificate_path)?.as_deref() != Some(certificate_pem.as_str()) {
        replace_file(&certificate_path, &certificate_pem)?;
    }
    Ok(signing)
}

/// Where a registry reaches this server and keeps its images: what
/// [`distribution_config`] needs besides the token settings.
#[derive(Debug, Clone)]
pub struct DistributionSettings {
    /// The URL clients reach `pkgprotect serve` at (the realm is `<url>/jwt/auth`).
    pub server_url: String,
    /// The registry's `http.addr`.
    pub listen: String,
    /// The registry's `storage.filesystem.rootdirectory`.
    pub storage: PathBuf,
}

impl DistributionSettings {
    /// The registry's `auth.token.realm`: this server's token endpoint.
    pub fn realm(&self) -> String {
        format!("{}/jwt/auth", self.server_url.trim_end_matches('/'))
    }
}

/// A complete CNCF distribution (Debian's `docker-registry`) configuration whose `auth.token`
/// trusts this server's tokens. Every value is a JSON string, which YAML reads as a
/// double-quoted scalar, so no path or URL can break the document.
pub fn distribution_config(auth: &RegistryAuthConfig, registry: &DistributionSettings) -> String {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned());
    let realm = registry.realm();
    let certificate = auth.data_dir.join(CERTIFICATE_FILE);
    format!(
        "# CNCF distribution (docker-registry) configuration: pushes, pulls and deletes are
# authorized by pkgprotect serve's registry token service, as GitLab's registry is.
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {listen}
auth:
  token:
    realm: {realm}
    service: {service}
    issuer: {issuer}
    rootcertbundle: {certificate}
",
        storage = quoted(&registry.storage.display().to_string()),
        listen = quoted(&registry.listen),
        realm = quoted(&realm),
        service = quoted(&auth.service),
        issuer = quoted(&auth.issuer),
        certificate = quoted(&certificate.display().to_string()),
    )
}

fn read_optional(path: &Path) -> Result<Option<String>, RegistryKeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RegistryKeyError::Read { path: path.display().to_string(), source }),
    }
}

/// Create the key file readable by its owner only, never replacing one (a concurrent start's).
fn write_key_file(path: &Path, key: &str) -> Result<(), RegistryKeyError> {
    write_new_file(path, key, 0o600)
}

/// Create `path` with `contents` and `mode`; a file already there (a concurrent start's) is kept.
fn write_new_file(path: &Path, contents: &str, mode: u32) -> Result<(), RegistryKeyError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let error = |source| RegistryKeyError::Write { path: path.display().to_string(), source };
    match options.open(path) {
        Ok(mut file) => file.write_all(contents.as_bytes()).and_then(|()| file.sync_all()).map_err(error),
        Err(source) if source.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(error(source)),
    }
}

/// Replace `path` whole (a temporary file renamed over it), so a registry starting meanwhile
/// never reads half a certificate.
fn replace_file(path: &Path, contents: &str) -> Result<(), RegistryKeyError> {
    let error = |source| RegistryKeyError::Write { path: path.display().to_string(), source };
    let mut temporary = path.as_os_str().to_owned();
    // Unique per process and call: two instances in one process may replace it at once.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    temporary.push(format!(".{}-{n}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, contents).map_err(error)?;
    std::fs::rename(&temporary, path).map_err(error)
}

/// Signs registry tokens.
#[derive(Debug)]
pub struct TokenIssuer {
    pub config: RegistryAuthConfig,
    pub key: SigningKey,
}

/// One entry of a token's `access` claim, as distribution reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceAccess {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
    /// GitLab's extra: the project the repository belongs to (distribution ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// A registry token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub access: Vec<ResourceAccess>,
}

impl TokenIssuer {
    pub fn new(config: RegistryAuthConfig, key: SigningKey) -> Self {
        TokenIssuer { config, key }
    }

    /// The claims of a token issued at `now` (Unix seconds). `nbf` is 5 s earlier, as GitLab
    /// sets it, so a registry whose clock is a little behind accepts the token at once.
    pub fn claims(&self, subject: Option<String>, access: Vec<ResourceAccess>, now: i64, jti: String) -> Claims {
        let expiry = i64::try_from(self.config.expiry.as_secs()).unwrap_or(i64::MAX);
        Claims {
            iss: self.config.issuer.clone(),
            sub: subject,
            aud: self.config.service.clone(),
            exp: now.saturating_add(expiry),
            nbf: now.saturating_sub(5),
            iat: now,
            jti,
            access,
        }
    }

    /// The signed JWT: RS256, `kid` as GitLab sends it and `x5c` with the certificate, which
    /// distribution verifies against `rootcertbundle`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.key.kid.clone());
        header.x5c = Some(vec![self.key.certificate_b64.clone()]);
        jsonwebtoken::encode(&header, claims, &self.key.encoding)
    }
}

/// One `scope` of a token request, by distribution's grammar:
/// `resourcetype ":" resourcename ":" action ("," action)*`. The name may itself hold colons
/// (a registry host's port, `host:5000/x`), so the type ends at the first colon and the
/// actions start after the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScope {
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// `None` for a scope that does not follow the grammar (empty, fewer than three parts, an
/// empty type or name): it grants nothing.
pub fn parse_scope(scope: &str) -> Option<ResourceScope> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    let actions = actions.split(',').filter(|action| !action.is_empty()).map(str::to_owned).collect();
    Some(ResourceScope { kind: kind.to_owned(), name: name.to_owned(), actions })
}

/// Whether `path` is a container repository path GitLab accepts
/// (`container_repository_name_regex`: lowercase alphanumeric runs joined by `.`, `_`, `__`,
/// `/` or dashes) with a namespace and a project, at most 255 characters (distribution's limit).
pub fn valid_repository_path(path: &str) -> bool {
    if path.is_empty() || path.len() > 255 || !path.contains('/') {
        return false;
    }
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut rest = path.as_bytes();
    loop {
        let run = rest.iter().take_while(|b| alnum(b)).count();
        if run == 0 {
            return false;
        }
        rest = rest.get(run..).unwrap_or_default();
        if rest.is_empty() {
            return true;
        }
        let length = rest.iter().take_while(|b| !alnum(b)).count();
        let separator = rest.get(..length).unwrap_or_default();
        if !(matches!(separator, b"." | b"_" | b"__" | b"/") || separator.iter().all(|&b| b == b'-')) {
            return false;
        }
        rest = rest.get(length..).unwrap_or_default();
    }
}

/// The candidate project paths of a repository path, longest first: `a/b/c` → `a/b/c`, `a/b`, `a`.
pub fn project_path_candidates(path: &str) -> Vec<&str> {
    let mut candidates = vec![path];
    candidates.extend(path.match_indices('/').rev().filter_map(|(at, _)| path.get(..at)));
    candidates
}

/// Who asked, once their credentials are checked.
#[derive(Debug, Clone)]
enum Requester {
    Anonymous,
    User { user_id: i64, username: String, is_admin: bool, scopes: crate::auth::PersonalScopes },
    DeployToken { project_id: i64, username: String, scopes: DeployTokenScopes },
}

impl Requester {
    fn username(&self) -> Option<String> {
        match self {
            Requester::Anonymous => None,
            Requester::User { username, .. } | Requester::DeployToken { username, .. } => Some(username.clone()),
        }
    }

    /// GitLab's first check: the credentials carry some registry ability at all.
    fn has_registry_ability(&self) -> bool {
        match self {
            Requester::Anonymous => true,
            Requester::User { scopes, .. } => {
                scopes.any(&[PersonalScope::Api, PersonalScope::ReadRegistry, PersonalScope::WriteRegistry])
            }
            Requester::DeployToken { scopes, .. } => {
                scopes.has(DeployTokenScope::ReadRegistry) || scopes.has(DeployTokenScope::WriteRegistry)
            }
        }
    }
}

/// Errors in the registry's own shape (`{"errors": [{"code", "message"}]}`), which docker,
/// skopeo and the registry show to the user.
#[derive(Debug)]
enum TokenError {
    Unauthorized,
    Denied(&'static str),
    UnknownService(String),
    BadRequest(String),
    Api(ApiError),
}

impl From<ApiError> for TokenError {
    fn from(error: ApiError) -> Self {
        TokenError::Api(error)
    }
}

impl From<DbError> for TokenError {
    fn from(error: DbError) -> Self {
        TokenError::Api(error.into())
    }
}

fn registry_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "errors": [{ "code": code, "message": message }] }))).into_response()
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        match self {
            TokenError::Unauthorized => {
                let mut response = registry_error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "HTTP Basic: Access denied. The provided username or token is incorrect, expired or revoked.",
                );
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"GitLab\""));
                response
            }
            TokenError::Denied(message) => registry_error(StatusCode::FORBIDDEN, "DENIED", message),
            TokenError::UnknownService(service) => {
                registry_error(StatusCode::NOT_FOUND, "UNKNOWN", &format!("unknown service `{service}`"))
            }
            TokenError::BadRequest(message) => registry_error(StatusCode::BAD_REQUEST, "UNSUPPORTED", &message),
            TokenError::Api(error) => error.into_response(),
        }
    }
}

/// `Authorization: Basic …` → `Some(Ok((login, password)))`; no header → `None`; anything
/// unreadable → `Some(Err(()))`, a 401.
#[allow(clippy::result_unit_err)]
pub fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some((|| {
        let value = value.to_str().map_err(|_| ())?.trim();
        let (scheme, encoded) = value.split_once(' ').ok_or(())?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(());
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| ())?;
        let decoded = String::from_utf8(decoded).map_err(|_| ())?;
        let (login, password) = decoded.split_once(':').ok_or(())?;
        Ok((login.to_owned(), password.to_owned()))
    })())
}

async fn requester(store: &Store, headers: &HeaderMap) -> Result<Requester, TokenError> {
    let (login, password) = match basic_credentials(headers) {
        None => return Ok(Requester::Anonymous),
        Some(Err(())) => return Err(TokenError::Unauthorized),
        Some(Ok(credentials)) => credentials,
    };
    if password.is_empty() {
        return Err(TokenError::Unauthorized);
    }
    let Some((owner, username)) = store.registry_login(&token_hash(&password)).await? else {
        return Err(TokenError::Unauthorized);
    };
    match owner {
        // GitLab finds a personal access token by the token alone; the login is not compared.
        TokenOwner::User { user_id, is_admin, scopes } => Ok(Requester::User { user_id, username, is_admin, scopes }),
        // A deploy token authenticates only with its own username (GitLab's `deploy_token_check`).
        TokenOwner::DeployToken { project_id, scopes } if username == login => {
            Ok(Requester::DeployToken { project_id, username, scopes })
        }
        TokenOwner::DeployToken { .. } => Err(TokenError::Unauthorized),
    }
}

/// The query's `service` and every `scope` (repeated, or several in one separated by spaces).
fn token_query(query: Option<&str>) -> Result<(Option<String>, Vec<String>), TokenError> {
    let pairs = form_pairs(query.unwrap_or_default().as_bytes(), "query").map_err(|error| match error {
        ApiError::BadRequest(message) => TokenError::BadRequest(message),
        other => TokenError::Api(other),
    })?;
    let mut service = None;
    let mut scopes = Vec::new();
    for (key, value) in pairs {
        let Value::String(value) = value else { continue };
        match key.as_str() {
            "service" => service = Some(value),
            "scope" => scopes.extend(value.split(' ').filter(|s| !s.is_empty()).map(str::to_owned)),
            _ => {}
        }
    }
    Ok((service, scopes))
}

/// Seconds since the epoch as RFC 3339 (`issued_at`), UTC.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

fn random_jti() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness for a token id: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What a token request asked for and got, for its one log line.
#[derive(Debug, Default)]
struct TokenRequestLog {
    user: Option<String>,
    requested: Vec<String>,
    granted: Vec<String>,
}

/// `GET /jwt/auth`: GitLab's `JwtController#auth` with `ContainerRegistryAuthenticationService`.
/// Every request is logged once (who, what was asked, what was granted or why not) and
/// counted by outcome.
pub async fn jwt_auth(State(state): State<Arc<AppState>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let mut log = TokenRequestLog::default();
    let result = issue(&state, &headers, query.as_deref(), &mut log).await;
    let user = log.user.as_deref().unwrap_or("-");
    let outcome = match &result {
        Ok(_) => {
            tracing::info!(user, requested = ?log.requested, granted = ?log.granted, "registry token granted");
            "granted"
        }
        Err(error) => {
            let (outcome, reason) = match error {
                TokenError::Unauthorized => ("unauthorized", "bad credentials".to_owned()),
                TokenError::Denied(message) => ("denied", (*message).to_owned()),
                TokenError::UnknownService(service) => ("bad_request", format!("unknown service `{service}`")),
                TokenError::BadRequest(message) => ("bad_request", message.clone()),
                TokenError::Api(error) => ("error", format!("{error:?}")),
            };
            tracing::info!(user, requested = ?log.requested, reason, "registry token refused");
            outcome
        }
    };
    if let Some(metrics) = &state.metrics {
        metrics.registry_token(outcome);
    }
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn issue(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    query: Option<&str>,
    log: &mut TokenRequestLog,
) -> Result<Response, TokenError> {
    let Some(issuer) = &state.registry else { return Err(TokenError::Api(ApiError::NoRoute)) };
    let (service, scopes) = token_query(query)?;
    // GitLab answers 404 for a service it does not know (`JwtController::SERVICES`).
    match service {
        Some(service) if service == issuer.config.service => {}
        other => return Err(TokenError::UnknownService(other.unwrap_or_default())),
    }
    // Each scope costs a few queries; docker asks for one or two, so a flood is refused up front.
    if scopes.len() > MAX_SCOPES {
        return Err(TokenError::BadRequest(format!(
            "{} scopes requested; at most {MAX_SCOPES} are allowed",
            scopes.len()
        )));
    }
    log.requested.clone_from(&scopes);
    let requester = requester(&state.store, headers).await?;
    log.user = requester.username();
    if !requester.has_registry_ability() {
        return Err(TokenError::Denied("access forbidden"));
    }
    let mut access = Vec::new();
    for scope in &scopes {
        if let Some(granted) = grant(state, &requester, scope).await? {
            access.push(granted);
        }
    }
    log.granted = access.iter().map(|a| format!("{}:{}:{}", a.kind, a.name, a.actions.join(","))).collect();
    let now = crate::db::unix_now();
    let claims = issuer.claims(requester.username(), access, now, random_jti()?);
    // An RS256 signature costs a millisecond or two of CPU: not on the async runtime's threads.
    let signer = Arc::clone(issuer);
    let signed = tokio::task::spawn_blocking(move || signer.sign(&claims).map(|token| (token, claims))).await;
    let (token, claims) = signed
        .map_err(|e| ApiError::Internal(format!("the registry token signing task failed: {e}")))?
        .map_err(|e| ApiError::Internal(format!("cannot sign a registry token: {e}")))?;
    let expires_in = claims.exp - claims.iat;
    Ok(axum::Json(json!({
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": rfc3339(now),
    }))
    .into_response())
}

/// What one scope grants: the requested actions the requester holds, with protection applied;
/// `None` when nothing is left. A push on a protected path refuses the whole request.
async fn grant(
    state: &Arc<AppState>,
    requester: &Requester,
    scope: &str,
) -> Result<Option<ResourceAccess>, TokenError> {
    let Some(parsed) = parse_scope(scope) else {
        tracing::info!(scope, "ignored a registry token scope that does not follow distribution's grammar");
        return Ok(None);
    };
    match parsed.kind.as_str() {
        "registry" => {
            // The catalog (every repository) is for instance administrators only.
            let admin = matches!(requester, Requester::User { is_admin: true, .. });
            let ok = admin && parsed.name == "catalog" && parsed.actions.iter().any(|a| a == "*");
            Ok(ok.then(|| ResourceAccess {
                kind: "registry".into(),
                name: "catalog".into(),
                actions: vec!["*".into()],
                meta: None,
            }))
        }
        "repository" => grant_repository(state, requester, parsed).await,
        _ => Ok(None),
    }
}

async fn grant_repository(
    state: &Arc<AppState>,
    requester: &Requester,
    scope: ResourceScope,
) -> Result<Option<ResourceAccess>, TokenError> {
    let path = scope.name;
    if !valid_repository_path(&path) {
        tracing::info!(path, "denied container registry permissions: not a valid repository path");
        return Ok(None);
    }
    let Some(project) = state.store.project_for_repository(&project_path_candidates(&path)).await? else {
        tracing::info!(path, "denied container registry permissions: no project");
        return Ok(None);
    };
    let (actor, deploy_scopes, personal) = match requester {
        Requester::Anonymous => return Ok(None),
        Requester::User { is_admin: true, scopes, .. } => {
            (Actor::User { access_level: AccessLevel::Admin }, DeployTokenScopes::default(), Some(*scopes))
        }
        Requester::User { user_id, scopes, .. } => match state.store.member_level(project.id, *user_id).await? {
            // Memberships stop at owner (a stored `admin` membership is older than that check).
            Some(level) => (
                Actor::User { access_level: level.min(AccessLevel::Owner) },
                DeployTokenScopes::default(),
                Some(*scopes),
            ),
            None => (Actor::User { access_level: AccessLevel::NoAccess }, DeployTokenScopes::default(), Some(*scopes)),
        },
        Requester::DeployToken { project_id, scopes, .. } if *project_id == project.id => {
            (Actor::DeployToken, *scopes, None)
        }
        // A deploy token reaches its own project's repositories only.
        Requester::DeployToken { .. } => return Ok(None),
    };
    let has = |scope: PersonalScope| personal.is_none_or(|scopes| scopes.has(PersonalScope::Api) || scopes.has(scope));
    let level = match actor {
        Actor::User { access_level } => Some(access_level),
        Actor::DeployToken => None,
    };
    let mut granted: Vec<String> = Vec::new();
    let mut denied: Vec<String> = Vec::new();
    for action in scope.actions {
        let allowed = match action.as_str() {
            // read_container_image: reporter and above, or a deploy token with read_registry.
            "pull" => match level {
                Some(level) => level >= AccessLevel::Reporter && has(PersonalScope::ReadRegistry),
                None => deploy_scopes.has(DeployTokenScope::ReadRegistry),
            },
            // create_container_image: the core's base permission (developer+, deploy token write_registry).
            "push" => {
                base_permission(RuleKind::ContainerRepository, Action::Push, actor, deploy_scopes).is_ok()
                    && has(PersonalScope::WriteRegistry)
            }
            // admin_container_image: maintainer and above, with the full `api` scope; never a deploy token.
            "delete" | "*" => {
                level.is_some_and(|level| level >= AccessLevel::Maintainer)
                    && personal.is_some_and(|scopes| scopes.has(PersonalScope::Api))
            }
            _ => false,
        };
        let list = if allowed { &mut granted } else { &mut denied };
        if !list.contains(&action) {
            list.push(action);
        }
    }
    if !denied.is_empty() {
        tracing::info!(path, ?denied, "denied container registry permissions");
    }
    let is_admin = level == Some(AccessLevel::Admin);
    let pushes = granted.iter().any(|a| a == "push" || a == "*");
    let deletes = granted.iter().any(|a| a == "delete" || a == "*");
    if !is_admin && (pushes || deletes) {
        let rules = compiled_rules(state, &project, RuleKind::ContainerRepository).await?;
        let mut requests = Vec::new();
        let target = Target::ContainerRepository { path: path.clone() };
        if pushes {
            requests.push(DecisionRequest { target: target.clone(), action: Action::Push, actor });
        }
        if deletes {
            requests.push(DecisionRequest { target, action: Action::Delete, actor });
        }
        let started = std::time::Instant::now();
        let answers = rules.decide_batch(&requests);
        if let Some(metrics) = &state.metrics {
            let each = answers.iter().map(|answer| answer.as_ref().ok().map(|decision| decision.allowed));
            metrics.decided_each(RuleKind::ContainerRepository.as_str(), started.elapsed().as_secs_f64(), each);
        }
        let mut answers = answers.into_iter();
        // A rule that cannot be evaluated refuses, as GitLab's failing query would.
        let allowed = |answer: Option<Result<pkgprotect::Decision, String>>| match answer {
            Some(Ok(decision)) => decision.allowed,
            Some(Err(error)) => {
                tracing::warn!(path, %error, "a container protection rule cannot be evaluated; refused");
                false
            }
            None => false,
        };
        if pushes && !allowed(answers.next()) {
            tracing::info!(path, "pushing to protected repository path forbidden");
            return Err(TokenError::Denied("Pushing to protected repository path forbidden"));
        }
        if deletes && !allowed(answers.next()) {
            tracing::info!(path, "delete dropped: the repository path is delete-protected");
            // `*` includes delete: what is left of it is pull and push.
            if granted.iter().any(|a| a == "*") {
                granted.retain(|a| a != "*");
                for kept in ["pull", "push"] {
                    if !granted.iter().any(|a| a == kept) {
                        granted.push(kept.into());
                    }
                }
            }
            granted.retain(|a| a != "delete");
        }
    }
    if granted.is_empty() {
        return Ok(None);
    }
    Ok(Some(ResourceAccess {
        kind: "repository".into(),
        name: path,
        actions: granted,
        meta: Some(json!({ "project_path": project_path(&project), "project_id": project.id })),
    }))
}

fn project_path(project: &Project) -> &str {
    &project.full_path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_distributions_grammar() {
        let scope = |s| parse_scope(s);
        assert_eq!(
            scope("repository:group/project:pull,push"),
            Some(ResourceScope {
                kind: "repository".into(),
                name: "group/project".into(),
                actions: vec!["pull".into(), "push".into()],
            })
        );
        // A host with a port in the name: the actions start after the last colon.
        let with_port = scope("repository:host:5000/x:pull").unwrap();
        assert_eq!((with_port.name.as_str(), with_port.actions.as_slice()), ("host:5000/x", &["pull".to_owned()][..]));
        assert!(!valid_repository_path(&with_port.name), "a name with a colon is no GitLab path");
        assert_eq!(scope("registry:catalog:*").unwrap().actions, vec!["*"]);
        for hostile in ["", ":", "::", "repository", "repository:", "repository:x", ":x:pull", "repository::pull"] {
            assert_eq!(scope(hostile), None, "{hostile:?}");
        }
        assert_eq!(scope("repository:a/b:").unwrap().actions, Vec::<String>::new());
        assert_eq!(scope("repository:a/b:,pull,,").unwrap().actions, vec!["pull"]);
    }

    #[test]
    fn repository_paths_as_gitlab_validates_them() {
        for ok in ["a/b", "group/project", "g/p/sub-image", "g/p/a.b_c__d---e", "g0/p9/x/y/z"] {
            assert!(valid_repository_path(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "A/b",
            "group/Project",
            "/a/b",
            "a/b/",
            "a//b",
            "a/.b",
            "a/b.",
            "a/b..c",
            "a/b___c",
            "a/b_.c",
            "a/b c",
            "a/b:tag",
            "a/b\0",
            "a/ü",
        ] {
            assert!(!valid_repository_path(bad), "{bad:?}");
        }
        assert!(!valid_repository_path(&format!("a/{}", "b".repeat(254))));
    }

    #[test]
    fn project_candidates_are_longest_first() {
        assert_eq!(project_path_candidates("a/b/c"), vec!["a/b/c", "a/b", "a"]);
        assert_eq!(project_path_candidates("a"), vec!["a"]);
    }

    #[test]
    fn basic_credentials_are_parsed_or_refused() {
        let mut headers = HeaderMap::new();
        assert_eq!(basic_credentials(&headers), None);
        headers.insert(header::AUTHORIZATION, "Basic dXNlcjpwYTpzcw==".parse().unwrap());
        assert_eq!(basic_credentials(&headers), Some(Ok(("user".into(), "pa:ss".into()))));
        for bad in ["Basic !!!", "Bearer abc", "Basic", "Basic dXNlcg=="] {
            headers.insert(header::AUTHORIZATION, bad.parse().unwrap());
            assert_eq!(basic_credentials(&headers), Some(Err(())), "{bad}");
        }
    }

    #[test]
    fn distribution_config_quotes_every_value() {
        let auth = RegistryAuthConfig::new(PathBuf::from("/var/lib/pkg protect"));
        let settings = DistributionSettings {
            server_url: "https://gitlab.example.com/".into(),
            listen: "127.0.0.1:5000".into(),
            storage: PathBuf::from("/srv/images: \"x\""),
        };
        let config = distribution_config(&auth, &settings);
        for line in [
            "    realm: \"https://gitlab.example.com/jwt/auth\"",
            "    service: \"container_registry\"",
            "    issuer: \"gitlab-issuer\"",
            "    rootcertbundle: \"/var/lib/pkg protect/registry-auth.crt\"",
            "    rootdirectory: \"/srv/images: \\\"x\\\"\"",
            "  addr: \"127.0.0.1:5000\"",
        ] {
            assert!(config.lines().any(|l| l == line), "{line} missing from\n{config}");
        }
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_765_432), "2025-12-03T12:37:12Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn key_ids_are_libtrusts_shape() {
        let kid = libtrust_key_id(b"anything");
        assert_eq!(kid.len(), 12 * 4 + 11);
        assert!(kid.split(':').all(|group| group.len() == 4));
    }

    #[test]
    fn claims_are_what_distribution_reads() {
        let (key, certificate) = generate_key().unwrap();
        let signing = SigningKey::from_pems(&key, &certificate).unwrap();
        let issuer = TokenIssuer::new(RegistryAuthConfig::new(PathBuf::from("unused")), signing);
        let access = vec![ResourceAccess {
            kind: "repository".into(),
            name: "g/p".into(),
            actions: vec!["pull".into()],
            meta: None,
        }];
        let claims = issuer.claims(Some("dev".into()), access, 1_000_000, "id".into());
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), ("gitlab-issuer", "container_registry"));
        assert_eq!((claims.iat, claims.nbf, claims.exp), (1_000_000, 999_995, 1_000_300));
        let token = issuer.sign(&claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(issuer.key.key_id()));
        assert_eq!(header.x5c.unwrap(), vec![pem_body(&certificate)]);
        let payload: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(payload["access"], json!([{ "type": "repository", "name": "g/p", "actions": ["pull"] }]));
        assert_eq!(payload["sub"], "dev");
        // A certificate of another key is refused.
        let (other, _) = generate_key().unwrap();
        assert!(SigningKey::from_pems(&other, &certificate).is_err());
    }
}
