//! GitLab's REST API for protection rules, plus the decision endpoints registries call.

use crate::auth::{PersonalScope, token_hash};
use crate::db::{DbError, Project, RuleActor, RuleWrite, Store, TokenOwner, set_ids};
use crate::engine::{CompiledRules, RuleSetCache};
use crate::metrics::{self, Metrics};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post};
use pkgprotect::permissions::{Ability, Check, DeployTokenScopes, GitlabDecision, base_permission};
use pkgprotect::{
    AccessLevel, Actor, DecisionRequest, ParamsMode, Rejection, RejectionStatus, Rule, RuleKind, ValidationContext,
    check_rule_params, parse_rule_params, validate_rule,
};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Largest request body accepted (GitLab's own API limits are far larger, but no rule
/// request comes near this).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Most decisions one batch request may ask for.
pub const MAX_BATCH: usize = 10_000;

#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub cache: RuleSetCache,
    /// `None` only if the metrics could not be registered (logged at start).
    pub metrics: Option<Arc<Metrics>>,
    /// The registry token service's signer; `None` serves no `/jwt/auth` (404).
    pub registry: Option<Arc<crate::registry::TokenIssuer>>,
}

type Shared = State<Arc<AppState>>;

/// Path parameters; ids that cannot even be decoded (bad percent-encoding, invalid UTF-8)
/// name nothing, so they get GitLab's 404 rather than axum's plain-text 400.
struct ApiPath<T>(T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| ApiError::NotFound(""))
    }
}

/// The raw body, with the size limit answered in GitLab's JSON shape.
struct Body(Bytes);

/// How much of a body over [`MAX_BODY_BYTES`] is still read, and thrown away, before the 413
/// is sent, and for how long. A client that writes its whole body before reading the answer
/// (reqwest, Ruby's Net::HTTP, Python's http.client) otherwise gets a connection reset in the
/// middle of its write — the kernel resets a socket closed with unread data — and never sees
/// the status. nginx does the same ("lingering close"); past these bounds the connection is
/// closed at once, as there.
const DRAIN_MAX_BYTES: u64 = 16 * 1024 * 1024;
const DRAIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let announced =
            request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        // A client waiting for `100 Continue` has sent nothing yet: refuse before inviting the body.
        let waits_for_continue = request
            .headers()
            .get(header::EXPECT)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let mut body = request.into_body();
        if let Some(length) = announced.filter(|&length| length > MAX_BODY_BYTES as u64) {
            let drained = !waits_for_continue
                && length <= DRAIN_MAX_BYTES
                && drain(&mut body, DRAIN_MAX_BYTES).await == Drained::ToTheEnd;
            return Err(ApiError::PayloadTooLarge { connection_reusable: drained });
        }
        let mut collected = Vec::new();
        loop {
            match http_body_util::BodyExt::frame(&mut body).await {
                None => return Ok(Body(Bytes::from(collected))),
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    if collected.len() + data.len() > MAX_BODY_BYTES {
                        let drained = drain(&mut body, DRAIN_MAX_BYTES).await == Drained::ToTheEnd;
                        return Err(ApiError::PayloadTooLarge { connection_reusable: drained });
                    }
                    collected.extend_from_slice(&data);
                }
                Some(Err(error)) => return Err(ApiError::BadRequest(format!("cannot read the request body: {error}"))),
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Drained {
    ToTheEnd,
    /// Too much, too slow, or broken: the connection must be closed.
    CutShort,
}

/// Read and discard the rest of `body`, at most `limit` bytes within [`DRAIN_DEADLINE`].
async fn drain(body: &mut axum::body::Body, limit: u64) -> Drained {
    let read_all = async {
        let mut read = 0u64;
        while let Some(frame) = http_body_util::BodyExt::frame(&mut *body).await {
            let Ok(frame) = frame else { return Drained::CutShort };
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > limit {
                    return Drained::CutShort;
                }
            }
        }
        Drained::ToTheEnd
    };
    tokio::time::timeout(DRAIN_DEADLINE, read_all).await.unwrap_or(Drained::CutShort)
}

/// An error answer in GitLab's shapes.
#[derive(Debug)]
pub enum ApiError {
    /// 400 `{"error": …}`: Grape's parameter errors.
    BadRequest(String),
    Unauthorized,
    /// 403 `insufficient_scope`: the token lacks every scope of these.
    InsufficientScope(&'static [PersonalScope]),
    Forbidden(Option<String>),
    NotFound(&'static str),
    /// 404 `{"message": "404 Not found"}`: a rule id that names no rule (ActiveRecord's
    /// `RecordNotFound`, as GitLab's API renders it).
    RecordNotFound,
    /// 404 `{"error": "404 Not Found"}`: no such API route (GitLab's catch-all route).
    NoRoute,
    /// 412 `{"message": "412 Precondition Failed"}`: the rule changed after `If-Unmodified-Since`.
    PreconditionFailed,
    /// 422 `{"message": {"error": [...]}}`: model validation.
    Unprocessable(Vec<String>),
    /// 413; `connection_reusable` when the whole body was read (and discarded), so the
    /// connection can carry another request.
    PayloadTooLarge {
        connection_reusable: bool,
    },
    /// 405 `{"error": "405 Not Allowed"}`: the route exists, the method does not.
    MethodNotAllowed,
    /// 415 `{"error": …}`: a body of a content type GitLab does not read.
    UnsupportedMediaType(String),
    /// 503: the database cannot be reached now; logged, never shown in detail.
    Unavailable(String),
    /// The project's stored rules do not compile in the engine (its limits were lowered after
    /// they were stored): decisions refuse; anything else answers 503.
    RulesUnavailable(String),
    /// Something on our side; logged, never shown in detail.
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            ApiError::Unavailable(error.to_string())
        } else {
            ApiError::Internal(error.to_string())
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        match rejection.status {
            RejectionStatus::BadRequest => ApiError::BadRequest(rejection.joined_messages()),
            RejectionStatus::UnprocessableEntity => {
                ApiError::Unprocessable(rejection.errors.into_iter().map(|e| e.message).collect())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, json!({ "error": message })),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, json!({ "message": "401 Unauthorized" })),
            ApiError::InsufficientScope(scopes) => {
                // GitLab's answer (`Gitlab::Auth::InsufficientScopeError`), header and body.
                let scope = scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" ");
                let description = "The request requires higher privileges than provided by the access token.";
                let challenge = format!(
                    "Bearer realm=\"pkgprotect\", error=\"insufficient_scope\", error_description=\"{description}\", scope=\"{scope}\""
                );
                let body = json!({ "error": "insufficient_scope", "error_description": description, "scope": scope });
                return (StatusCode::FORBIDDEN, [(header::WWW_AUTHENTICATE, challenge)], axum::Json(body))
                    .into_response();
            }
            ApiError::Forbidden(None) => (StatusCode::FORBIDDEN, json!({ "message": "403 Forbidden" })),
            ApiError::Forbidden(Some(why)) => {
                (StatusCode::FORBIDDEN, json!({ "message": format!("403 Forbidden - {why}") }))
            }
            ApiError::NotFound("") => (StatusCode::NOT_FOUND, json!({ "message": "404 Not Found" })),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, json!({ "message": format!("404 {what} Not Found") })),
            ApiError::RecordNotFound => (StatusCode::NOT_FOUND, json!({ "message": "404 Not found" })),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, json!({ "error": "404 Not Found" })),
            ApiError::PreconditionFailed => {
                (StatusCode::PRECONDITION_FAILED, json!({ "message": "412 Precondition Failed" }))
            }
            ApiError::Unprocessable(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, json!({ "message": { "error": errors } }))
            }
            ApiError::PayloadTooLarge { connection_reusable } => {
                let body = axum::Json(json!({ "message": "413 Request Entity Too Large" }));
                if connection_reusable {
                    return (StatusCode::PAYLOAD_TOO_LARGE, body).into_response();
                }
                // The rest of the body stays unread, so the connection cannot carry another
                // request: say so, or a keep-alive client sends its next request into a closed socket.
                return (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONNECTION, "close")], body).into_response();
            }
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, json!({ "error": "405 Not Allowed" })),
            ApiError::UnsupportedMediaType(media_type) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({ "error": format!("The provided content-type '{media_type}' is not supported.") }),
            ),
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                let body = axum::Json(json!({ "message": "503 Service Unavailable" }));
                return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], body).into_response();
            }
            ApiError::RulesUnavailable(detail) => {
                tracing::error!(%detail, "a project's rules do not compile in the engine");
                let body = axum::Json(json!({ "message": "503 Service Unavailable" }));
                return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, json!({ "message": "500 Internal Server Error" }))
            }
        };
        (status, axum::Json(body)).into_response()
    }
}

/// The routes under `/api/v4`.
pub fn router(state: Arc<AppState>) -> Router {
    let package_rules = "/api/v4/projects/{id}/packages/protection/rules";
    let container_rules = "/api/v4/projects/{id}/registry/protection/repository/rules";
    let tracked = state.metrics.clone();
    let router = Router::new()
        .route("/-/health", get(health))
        .route("/-/metrics", get(metrics_text))
        .route("/-/liveness", get(liveness))
        .route("/-/readiness", get(readiness))
        .route("/api/v4/user", get(current_user))
        .route("/jwt/auth", get(crate::registry::jwt_auth))
        .route(package_rules, get(list_package_rules).post(create_package_rule))
        .route(&format!("{package_rules}/{{rule_id}}"), patch(update_package_rule).delete(delete_package_rule))
        .route(container_rules, get(list_container_rules).post(create_container_rule))
        .route(&format!("{container_rules}/{{rule_id}}"), patch(update_container_rule).delete(delete_container_rule))
        .route("/api/v4/projects/{id}/packages/protection/decisions", post(package_decisions))
        .route("/api/v4/projects/{id}/registry/protection/repository/decisions", post(container_decisions))
        // Unknown API paths get GitLab's JSON 404 even when static files serve the rest.
        .route("/api", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    match tracked {
        Some(metrics) => router.route_layer(axum::middleware::from_fn_with_state(metrics, metrics::track)),
        None => router,
    }
}

/// Prometheus's text format (GitLab serves its own at the same path).
async fn metrics_text(State(state): Shared) -> Response {
    match &state.metrics {
        Some(metrics) => metrics::exposition(metrics.render(state.cache.len(), state.cache.engine_pool_use())),
        None => ApiError::NoRoute.into_response(),
    }
}

/// GitLab's `/-/health`: the process answers.
async fn health() -> &'static str {
    "GitLab OK"
}

/// GitLab's `/-/liveness`: the process is not wedged.
async fn liveness() -> axum::Json<Value> {
    axum::Json(json!({ "status": "ok" }))
}

/// GitLab's `/-/readiness`, with this server's checks: the database answers and the engine
/// compiles and decides. 503 when either fails, so a load balancer stops sending traffic.
async fn readiness(State(state): Shared) -> Response {
    let db = state.store.ping().await.map_err(|error| error.to_string());
    let engine_state = Arc::clone(&state);
    let engine = tokio::task::spawn_blocking(move || engine_state.cache.engine_ready())
        .await
        .unwrap_or_else(|error| Err(format!("the engine check failed: {error}")));
    // The details (which may name hosts) go to the log; the body says only what failed.
    let check = |name: &str, result: &Result<(), String>| match result {
        Ok(()) => json!([{ "status": "ok" }]),
        Err(detail) => {
            tracing::warn!(check = name, %detail, "readiness check failed");
            json!([{ "status": "failed", "message": format!("{name} check failed") }])
        }
    };
    let ready = db.is_ok() && engine.is_ok();
    let body = json!({
        "status": if ready { "ok" } else { "failed" },
        "db_check": check("database", &db),
        "engine_check": check("engine", &engine),
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

async fn not_found() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The header a token came in. GitLab reads each kind of token from its own headers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenHeader {
    /// `PRIVATE-TOKEN` or `Authorization: Bearer`: personal access tokens.
    Personal,
    /// `Deploy-Token`: deploy tokens.
    Deploy,
    /// `JOB-TOKEN`: CI job tokens, which this server never issues.
    Job,
}

/// The token from GitLab's headers: `PRIVATE-TOKEN`, `Deploy-Token`, `JOB-TOKEN` or `Authorization: Bearer`.
fn token(headers: &HeaderMap) -> Result<(TokenHeader, &str), ApiError> {
    let header_value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let bearer = || {
        // Authentication schemes are case-insensitive (RFC 9110), and GitLab reads `bearer` too.
        let (scheme, token) = header_value(header::AUTHORIZATION.as_str())?.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    };
    header_value("private-token")
        .map(|token| (TokenHeader::Personal, token))
        .or_else(|| header_value("deploy-token").map(|token| (TokenHeader::Deploy, token)))
        .or_else(|| header_value("job-token").map(|token| (TokenHeader::Job, token)))
        .or_else(|| bearer().map(|token| (TokenHeader::Personal, token)))
        .filter(|(_, token)| !token.is_empty())
        .ok_or(ApiError::Unauthorized)
}

/// What a route needs of a personal access token's scopes (GitLab's `api` covers all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Rule lists: `api` or `read_api`.
    Read,
    /// Rule changes: `api`.
    Write,
    /// Decisions: `api`, `read_api` or `decide`.
    Decide,
    /// The current user: `api`, `read_api` or `read_user`.
    User,
}

impl Need {
    const fn scopes(self) -> &'static [PersonalScope] {
        match self {
            Need::Read => &[PersonalScope::Api, PersonalScope::ReadApi],
            Need::Write => &[PersonalScope::Api],
            Need::Decide => &[PersonalScope::Api, PersonalScope::ReadApi, PersonalScope::Decide],
            Need::User => &[PersonalScope::Api, PersonalScope::ReadApi, PersonalScope::ReadUser],
        }
    }
}

/// The owner of a token presented in `header`, when that header may carry its kind, and its
/// scopes allow `need` (403 `insufficient_scope` otherwise, as GitLab answers before routing).
fn authenticated(owner: Option<TokenOwner>, header: TokenHeader, need: Need) -> Result<TokenOwner, ApiError> {
    match (owner, header) {
        (Some(owner @ TokenOwner::User { scopes, .. }), TokenHeader::Personal) => {
            if scopes.any(need.scopes()) {
                Ok(owner)
            } else {
                Err(ApiError::InsufficientScope(need.scopes()))
            }
        }
        (Some(owner @ TokenOwner::DeployToken { .. }), TokenHeader::Deploy) => Ok(owner),
        _ => Err(ApiError::Unauthorized),
    }
}

async fn caller(state: &AppState, headers: &HeaderMap, need: Need) -> Result<TokenOwner, ApiError> {
    let (header, token) = token(headers)?;
    authenticated(state.store.token_owner(&token_hash(token)).await?, header, need)
}

/// What the caller may do in a project.
struct Access {
    project: Project,
    actor: Actor,
    /// The user behind a personal token; `None` for a deploy token.
    user_id: Option<i64>,
    is_admin: bool,
    /// The caller's scopes when it is a deploy token; none otherwise.
    deploy_scopes: DeployTokenScopes,
}

impl Access {
    /// Whether the caller may list the project's rules (maintainer and above, as GitLab's
    /// `admin_package` / `admin_container_image`), and so read their patterns in reasons.
    fn may_list_rules(&self) -> bool {
        self.is_admin || matches!(self.actor, Actor::User { access_level } if access_level >= AccessLevel::Maintainer)
    }
}

/// Resolve `:id` for the caller in one query. GitLab authenticates first (401, then 403 for a
/// token without the scope), then hides projects from non-members (404, so private projects
/// do not leak).
async fn project_access(
    state: &AppState,
    headers: &HeaderMap,
    reference: &str,
    need: Need,
) -> Result<Access, ApiError> {
    let (header, token) = token(headers)?;
    let hash = token_hash(token);
    let found = state.store.project_and_caller(reference, &hash).await?;
    let owner = match &found {
        Some(found) => found.owner,
        // No such project: the token is still checked first, as GitLab authenticates before routing.
        None => state.store.token_owner(&hash).await?,
    };
    let owner = authenticated(owner, header, need)?;
    let Some(found) = found else { return Err(ApiError::NotFound("Project")) };
    let project = found.project;
    let no_scopes = DeployTokenScopes::default();
    match owner {
        TokenOwner::DeployToken { project_id, scopes } if project_id == project.id => {
            Ok(Access { project, actor: Actor::DeployToken, user_id: None, is_admin: false, deploy_scopes: scopes })
        }
        // GitLab finds a deploy token only for its own project: elsewhere it authenticates no one.
        TokenOwner::DeployToken { .. } => Err(ApiError::Unauthorized),
        TokenOwner::User { user_id, is_admin: true, .. } => Ok(Access {
            project,
            actor: Actor::User { access_level: AccessLevel::Admin },
            user_id: Some(user_id),
            is_admin: true,
            deploy_scopes: no_scopes,
        }),
        TokenOwner::User { user_id, .. } => match found.member_level {
            // Memberships stop at owner (a stored `admin` membership is older than this check).
            Some(access_level) => Ok(Access {
                project,
                actor: Actor::User { access_level: access_level.min(AccessLevel::Owner) },
                user_id: Some(user_id),
                is_admin: false,
                deploy_scopes: no_scopes,
            }),
            None => Err(ApiError::NotFound("Project")),
        },
    }
}

/// Managing rules needs Maintainer or above (`admin_package` / `admin_container_image`).
/// The project, and who the caller is for the audit trail of the changes it makes.
async fn maintainer_access(
    state: &AppState,
    headers: &HeaderMap,
    reference: &str,
    need: Need,
) -> Result<(Project, RuleActor), ApiError> {
    let access = project_access(state, headers, reference, need).await?;
    match (access.actor, access.user_id) {
        (Actor::User { access_level }, Some(user_id)) if access_level >= AccessLevel::Maintainer => {
            Ok((access.project, RuleActor::User { user_id, is_admin: access.is_admin }))
        }
        // Deploy tokens only reach registry endpoints in GitLab, not this API.
        (Actor::DeployToken, _) => Err(ApiError::Unauthorized),
        (Actor::User { .. }, _) => Err(ApiError::Forbidden(None)),
    }
}

/// How a body is read, by its media type, as Grape reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFormat {
    /// `application/json`, or no `Content-Type` at all (Grape's default format).
    Json,
    Form,
    /// `text/plain`: a type GitLab declares but does not parse.
    Ignored,
}

/// The `Content-Type` without its parameters, lowercased.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = String::from_utf8_lossy(headers.get(header::CONTENT_TYPE)?.as_bytes()).into_owned();
    Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// The body's format; any other media type is 415, as in Grape.
fn body_format(headers: &HeaderMap) -> Result<BodyFormat, ApiError> {
    let Some(media_type) = media_type(headers) else { return Ok(BodyFormat::Json) };
    match media_type.as_str() {
        "" | "application/json" => Ok(BodyFormat::Json),
        "application/x-www-form-urlencoded" => Ok(BodyFormat::Form),
        "text/plain" => Ok(BodyFormat::Ignored),
        _ => Err(ApiError::UnsupportedMediaType(media_type)),
    }
}

/// Parameters from the query string, then a JSON or form body (the body wins), as Grape merges them.
/// Strings holding NUL are refused, as GitLab refuses them in any parameter (PostgreSQL text
/// cannot hold them either).
fn parameters(headers: &HeaderMap, query: Option<&str>, body: &Bytes) -> Result<Value, ApiError> {
    let format = body_format(headers)?;
    let mut params = Map::new();
    if let Some(query) = query {
        params.extend(form_pairs(query.as_bytes(), "query string")?);
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        match format {
            BodyFormat::Form => params.extend(form_pairs(body, "form body")?),
            BodyFormat::Ignored => {}
            BodyFormat::Json => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(fields)) => params.extend(fields),
                Ok(_) => return Err(ApiError::BadRequest("the request body must be a JSON object".into())),
                Err(e) => return Err(ApiError::BadRequest(format!("the request body is not valid JSON: {e}"))),
            },
        }
    }
    if let Some((key, _)) = params.iter().find(|(key, value)| key.contains('\0') || holds_nul(value)) {
        return Err(ApiError::BadRequest(format!("{key} must not contain NUL characters")));
    }
    Ok(Value::Object(params))
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `a=1&b=2` pairs, the last of a repeated key winning. Bad percent-encoding or invalid UTF-8
/// is a 400, as in GitLab (Rack), never a value silently altered.
pub(crate) fn form_pairs(input: &[u8], what: &str) -> Result<Vec<(String, Value)>, ApiError> {
    input
        .split(|&byte| byte == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = match pair.iter().position(|&byte| byte == b'=') {
                Some(at) => (pair.get(..at).unwrap_or_default(), pair.get(at + 1..).unwrap_or_default()),
                None => (pair, &b""[..]),
            };
            match (percent_decode(key), percent_decode(value)) {
                (Some(key), Some(value)) => Ok((key, Value::String(value))),
                _ => Err(ApiError::BadRequest(format!("invalid {what}: bad percent-encoding or invalid UTF-8"))),
            }
        })
        .collect()
}

fn percent_decode(encoded: &[u8]) -> Option<String> {
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.iter();
    while let Some(&byte) = bytes.next() {
        decoded.push(match byte {
            b'+' => b' ',
            b'%' => {
                let mut digit = || bytes.next().and_then(|&d| char::from(d).to_digit(16));
                u8::try_from(digit()? * 16 + digit()?).ok()?
            }
            other => other,
        });
    }
    String::from_utf8(decoded).ok()
}

/// The rule id of the path. GitLab declares it `type: Integer`: anything else is a parameter
/// error (400, answered before authentication as Grape validates first); an integer no rule
/// can have (out of range) is `None`, a 404 once the caller is known.
fn rule_id(raw: &str, kind: RuleKind) -> Result<Option<i64>, ApiError> {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        let param = match kind {
            RuleKind::Package => "package_protection_rule_id",
            RuleKind::ContainerRepository => "protection_rule_id",
        };
        return Err(ApiError::BadRequest(format!("{param} is invalid")));
    }
    Ok(raw.parse::<i64>().ok())
}

/// GitLab's entity: the rule's REST fields plus `project_id`, in the entity's field order
/// (serialized from the rule itself: a `serde_json::Value` would sort the keys).
fn entity(rule: &Rule) -> axum::Json<&Rule> {
    axum::Json(rule)
}

async fn current_user(State(state): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    match caller(&state, &headers, Need::User).await? {
        TokenOwner::User { user_id, is_admin, .. } => {
            Ok(axum::Json(json!({ "id": user_id, "is_admin": is_admin })).into_response())
        }
        TokenOwner::DeployToken { .. } => Err(ApiError::Unauthorized),
    }
}

async fn list(state: &AppState, headers: &HeaderMap, reference: &str, kind: RuleKind) -> Result<Response, ApiError> {
    let (project, _) = maintainer_access(state, headers, reference, Need::Read).await?;
    let rules = state.store.rules(project.id, kind).await?;
    // GitLab presents these lists without `paginate`: everything, and no pagination headers,
    // whatever `page`/`per_page` a client sends.
    Ok(axum::Json(rules).into_response())
}

/// Run `change` as one write to the project's rules (see [`Store::begin_rule_write`]):
/// committed if it succeeds, rolled back if it refuses.
/// The change is recorded in the audit trail as `actor`'s, in the same transaction.
async fn write_rules<T, F>(
    state: &AppState,
    project: &Project,
    actor: RuleActor,
    kind: RuleKind,
    change: F,
) -> Result<T, ApiError>
where
    F: AsyncFnOnce(&mut RuleWrite) -> Result<T, ApiError>,
{
    let mut write = state.store.begin_rule_write(project.id, actor).await?.ok_or(ApiError::NotFound("Project"))?;
    match change(&mut write).await {
        Ok(value) => {
            write.commit().await.map_err(|error| stored_rule_error(error, kind))?;
            Ok(value)
        }
        Err(refusal) => {
            // Nothing was stored either way: a failed rollback closes the connection, which
            // ends the transaction, so the refusal is still the answer.
            if let Err(error) = write.rollback().await {
                tracing::warn!(%error, "rolling back a refused rule write failed");
            }
            Err(refusal)
        }
    }
}

/// A write the database refused, as GitLab's 422 where the client's rule is the cause.
fn stored_rule_error(error: DbError, kind: RuleKind) -> ApiError {
    match error {
        // Validation under the lock finds duplicates first; this is reached only when a writer
        // that takes no lock (an older server sharing the database) stored the pattern first.
        DbError::Duplicate => {
            let field = match kind {
                RuleKind::Package => "Package name pattern",
                RuleKind::ContainerRepository => "Repository path pattern",
            };
            ApiError::Unprocessable(vec![format!("{field} has already been taken")])
        }
        // The core accepted what the schema refuses: our bug, but the rule is still refused
        // (4xx, not 5xx), and logged so the disagreement is seen.
        DbError::Refused(detail) => {
            tracing::error!(%detail, "validation accepted a rule the database refuses");
            ApiError::Unprocessable(vec!["The rule is not allowed".into()])
        }
        other => other.into(),
    }
}

async fn create(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    reference: &str,
    kind: RuleKind,
    params: Value,
) -> Result<Response, ApiError> {
    check_rule_params(kind, &params, true)?;
    let (project, actor) = maintainer_access(state, headers, reference, Need::Write).await?;
    let mut rule = parse_rule_params(kind, &params, ParamsMode::Create)?;
    let id = write_rules(state, &project, actor, kind, async |write| {
        let existing = write.rules(kind).await?;
        let context =
            ValidationContext { project_path: Some(&project.full_path), existing_rules: &existing, previous: None };
        validate_rule(&rule, &context)?;
        // The new rule's id is given by the insert; any id no other rule has compiles the same.
        let mut after = existing.clone();
        let mut draft = rule.clone();
        set_ids(&mut draft, existing.iter().filter_map(Rule::id).max().unwrap_or(0).saturating_add(1), project.id);
        after.push(draft);
        compiles_within_limits(state, kind, after).await?;
        write.insert(&rule).await.map_err(|error| stored_rule_error(error, kind))
    })
    .await?;
    set_ids(&mut rule, id, project.id);
    Ok((StatusCode::CREATED, entity(&rule)).into_response())
}

/// PATCH: the rule is read, changed by the parameters sent, validated and written in one
/// write, so a concurrent change of another field is never overwritten with the value read
/// before it, and a rule deleted meanwhile is a 404.
async fn update(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    reference: &str,
    raw_rule_id: &str,
    kind: RuleKind,
    params: Value,
) -> Result<Response, ApiError> {
    let id = rule_id(raw_rule_id, kind)?;
    check_rule_params(kind, &params, false)?;
    let (project, actor) = maintainer_access(state, headers, reference, Need::Write).await?;
    let id = id.ok_or(ApiError::RecordNotFound)?;
    let mut rule = write_rules(state, &project, actor, kind, async |write| {
        let existing = write.rules(kind).await?;
        let stored = existing.iter().find(|r| r.id() == Some(id)).ok_or(ApiError::RecordNotFound)?;
        let rule = parse_rule_params(kind, &params, ParamsMode::Update(stored))?;
        let context = ValidationContext {
            project_path: Some(&project.full_path),
            existing_rules: &existing,
            previous: Some(stored),
        };
        validate_rule(&rule, &context)?;
        let after = existing.iter().map(|r| if r.id() == Some(id) { rule.clone() } else { r.clone() }).collect();
        compiles_within_limits(state, kind, after).await?;
        if write.update(id, stored, &rule).await.map_err(|error| stored_rule_error(error, kind))? {
            Ok(rule)
        } else {
            Err(ApiError::RecordNotFound)
        }
    })
    .await?;
    set_ids(&mut rule, id, project.id);
    Ok(entity(&rule).into_response())
}

/// `If-Unmodified-Since` as unix seconds. A value that is not an HTTP date is ignored, as
/// GitLab ignores a time it cannot parse.
fn if_unmodified_since(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::IF_UNMODIFIED_SINCE)?.to_str().ok()?;
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    let seconds = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(seconds).ok()
}

async fn delete(
    state: &AppState,
    headers: &HeaderMap,
    reference: &str,
    raw_rule_id: &str,
    kind: RuleKind,
) -> Result<Response, ApiError> {
    let id = rule_id(raw_rule_id, kind)?;
    let (project, actor) = maintainer_access(state, headers, reference, Need::Write).await?;
    let id = id.ok_or(ApiError::RecordNotFound)?;
    let unmodified_since = if_unmodified_since(headers);
    write_rules(state, &project, actor, kind, async |write| {
        let updated_at_ms = write.updated_at_ms(kind, id).await?.ok_or(ApiError::RecordNotFound)?;
        // GitLab's `check_unmodified_since!`: refuse when the rule changed after the given time.
        if let (Some(since), Some(updated_at_ms)) = (unmodified_since, updated_at_ms)
            && updated_at_ms > since.saturating_mul(1000)
        {
            return Err(ApiError::PreconditionFailed);
        }
        if write.delete(kind, id).await? { Ok(()) } else { Err(ApiError::RecordNotFound) }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_package_rules(
    State(s): Shared,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    list(&s, &h, &id, RuleKind::Package).await
}

async fn list_container_rules(
    State(s): Shared,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    list(&s, &h, &id, RuleKind::ContainerRepository).await
}

async fn create_package_rule(
    State(s): Shared,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let params = parameters(&h, q.as_deref(), &body)?;
    create(&s, &h, &id, RuleKind::Package, params).await
}

async fn create_container_rule(
    State(s): Shared,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let params = parameters(&h, q.as_deref(), &body)?;
    create(&s, &h, &id, RuleKind::ContainerRepository, params).await
}

async fn update_package_rule(
    State(s): Shared,
    h: HeaderMap,
    ApiPath((id, rule)): ApiPath<(String, String)>,
    RawQuery(q): RawQuery,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let params = parameters(&h, q.as_deref(), &body)?;
    update(&s, &h, &id, &rule, RuleKind::Package, params).await
}

async fn update_container_rule(
    State(s): Shared,
    h: HeaderMap,
    ApiPath((id, rule)): ApiPath<(String, String)>,
    RawQuery(q): RawQuery,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let params = parameters(&h, q.as_deref(), &body)?;
    update(&s, &h, &id, &rule, RuleKind::ContainerRepository, params).await
}

async fn delete_package_rule(
    State(s): Shared,
    h: HeaderMap,
    ApiPath((id, rule)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    delete(&s, &h, &id, &rule, RuleKind::Package).await
}

async fn delete_container_rule(
    State(s): Shared,
    h: HeaderMap,
    ApiPath((id, rule)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    delete(&s, &h, &id, &rule, RuleKind::ContainerRepository).await
}

fn kind_noun(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Package => "package",
        RuleKind::ContainerRepository => "container repository",
    }
}

/// Refuse (422) a change after which the project's rules would not compile within the
/// engine's limits, so an oversized rule set is refused when written, never found out later by
/// every decision. Compiling is slow work: off the async runtime.
async fn compiles_within_limits(state: &Arc<AppState>, kind: RuleKind, rules: Vec<Rule>) -> Result<(), ApiError> {
    let count = rules.len();
    let task_state = Arc::clone(state);
    tokio::task::spawn_blocking(move || task_state.cache.check(rules))
        .await
        .map_err(|error| ApiError::Internal(format!("the compile task failed: {error}")))?
        .map_err(|error| {
            tracing::warn!(%error, count, "a rule change refused: the rule set does not compile");
            ApiError::Unprocessable(vec![format!(
                "The project's {count} {} protection rules would not fit within the decision engine's limits ({error})",
                kind_noun(kind)
            )])
        })
}

/// The project's compiled rules, current as of the `rules_version` read for this request.
pub(crate) async fn compiled_rules(
    state: &Arc<AppState>,
    project: &Project,
    kind: RuleKind,
) -> Result<Arc<dyn CompiledRules>, ApiError> {
    let cached = state.cache.get(project.id, kind, project.rules_version);
    if let Some(metrics) = &state.metrics {
        metrics.rule_set_lookup(cached.is_some());
    }
    if let Some(set) = cached {
        return Ok(set);
    }
    // One compile per key at a time: requests that missed together wait for the first.
    let _turn = state.cache.compile_turn(project.id, kind).await;
    if let Some(set) = state.cache.get(project.id, kind, project.rules_version) {
        return Ok(set);
    }
    let rules = state.store.rules(project.id, kind).await?;
    // Compiling runs guest code for up to its deadline: not on the async runtime's threads.
    let (task_state, id, version) = (Arc::clone(state), project.id, project.rules_version);
    let started = std::time::Instant::now();
    let compiled = tokio::task::spawn_blocking(move || task_state.cache.insert(id, kind, version, rules))
        .await
        .map_err(|error| ApiError::Internal(format!("the compile task failed: {error}")))?
        .map_err(ApiError::RulesUnavailable)?;
    if let Some(metrics) = &state.metrics {
        metrics.compiled(started.elapsed().as_secs_f64());
    }
    Ok(compiled)
}

async fn package_decisions(
    State(s): Shared,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    decisions(&s, &h, &id, RuleKind::Package, &body).await
}

async fn container_decisions(
    State(s): Shared,
    h: HeaderMap,
    ApiPath(id): ApiPath<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    decisions(&s, &h, &id, RuleKind::ContainerRepository, &body).await
}

/// `{package_name, package_type, action[, actor]}` → a decision, or `{"requests": [...]}` →
/// `{"decisions": [...]}`. The actor is the caller; only administrators (service tokens)
/// may name another actor. A decision is GitLab's whole answer: the base permission (spec
/// §5.1), then protection; `refused_by` names the check that refused. Callers who may not
/// list the rules read how many rules block, not their patterns.
async fn decisions(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    reference: &str,
    kind: RuleKind,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let access = project_access(state, headers, reference, Need::Decide).await?;
    if body_format(headers)? != BodyFormat::Json {
        return Err(ApiError::UnsupportedMediaType(media_type(headers).unwrap_or_default()));
    }
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
    let (items, batch) = match body {
        Value::Object(mut fields) if fields.contains_key("requests") => match fields.remove("requests") {
            Some(Value::Array(items)) => (items, true),
            _ => return Err(ApiError::BadRequest("requests must be an array of decision requests".into())),
        },
        single @ Value::Object(_) => (vec![single], false),
        _ => return Err(ApiError::BadRequest("the request body must be a JSON object".into())),
    };
    if items.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "requests has {} items; at most {MAX_BATCH} are allowed",
            items.len()
        )));
    }
    let requests = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| decision_request(item, kind, &access).map_err(|e| prefix_batch_error(e, batch, index)))
        .collect::<Result<Vec<_>, _>>()?;
    // GitLab's base permission comes first and reads no rule; protection decides the rest.
    // A deploy token deciding for itself has its own scopes; an administrator naming a deploy
    // token as the actor asks for one holding every registry scope.
    let scopes = if access.is_admin { DeployTokenScopes::ALL } else { access.deploy_scopes };
    let bases: Vec<_> =
        requests.iter().map(|request| base_permission(kind, request.action, request.actor, scopes)).collect();
    let permitted: Vec<DecisionRequest> =
        requests.iter().zip(&bases).filter(|(_, base)| base.is_ok()).map(|(request, _)| request.clone()).collect();
    let rules = if permitted.is_empty() {
        Ok(None)
    } else {
        match compiled_rules(state, &access.project, kind).await {
            Ok(rules) => Ok(Some(rules)),
            // On doubt, refuse: each permitted request is answered as unevaluable.
            Err(ApiError::RulesUnavailable(detail)) => {
                tracing::error!(%detail, project = access.project.id, "deciding without compiled rules: refused");
                Err(format!("the project's {} rules cannot be compiled within the engine's limits", kind_noun(kind)))
            }
            Err(other) => return Err(other),
        }
    };
    let started = std::time::Instant::now();
    let mut protection = match rules {
        Ok(rules) => rules.map(|rules| rules.decide_batch(&permitted)).unwrap_or_default(),
        Err(reason) => permitted.iter().map(|_| Err(reason.clone())).collect(),
    }
    .into_iter();
    let engine_seconds = started.elapsed().as_secs_f64();
    let may_read_rules = access.may_list_rules();
    let answers: Vec<Value> = requests
        .iter()
        .zip(bases)
        .map(|(request, base)| {
            let answer = GitlabDecision::combine(base, || {
                protection.next().unwrap_or_else(|| Err("the engine answered fewer requests than it was asked".into()))
            });
            let error = answer.is_err();
            let answer = match answer {
                Ok(answer) if may_read_rules => answer,
                Ok(answer) => answer.without_patterns(kind, request.action),
                // GitLab's own query fails here (a lone trailing `\` in a rule): refuse, and say why.
                Err(error) => GitlabDecision {
                    allowed: false,
                    refused_by: Some(Check::ProtectionRules),
                    ability: Ability::needed_for(kind, request.action),
                    blocking_rule_ids: Vec::new(),
                    reason: Arc::from(if may_read_rules {
                        error
                    } else {
                        "the protection rules cannot be evaluated".into()
                    }),
                },
            };
            let mut answer = serde_json::to_value(answer).unwrap_or(Value::Null);
            if let (true, Value::Object(fields)) = (error, &mut answer) {
                fields.insert("error".into(), Value::Bool(true));
            }
            answer
        })
        .collect();
    if let Some(metrics) = &state.metrics {
        let each = answers.iter().map(|answer| match (answer.get("error"), answer.get("allowed")) {
            (Some(Value::Bool(true)), _) => None,
            (_, allowed) => Some(allowed == Some(&Value::Bool(true))),
        });
        metrics.decided_each(kind.as_str(), engine_seconds, each);
    }
    let body = if batch { json!({ "decisions": answers }) } else { answers.into_iter().next().unwrap_or(Value::Null) };
    Ok(axum::Json(body).into_response())
}

fn prefix_batch_error(error: ApiError, batch: bool, index: usize) -> ApiError {
    match error {
        ApiError::BadRequest(message) if batch => ApiError::BadRequest(format!("requests[{index}]: {message}")),
        other => other,
    }
}

fn decision_request(item: Value, kind: RuleKind, access: &Access) -> Result<DecisionRequest, ApiError> {
    let Value::Object(mut fields) = item else {
        return Err(ApiError::BadRequest("a decision request must be a JSON object".into()));
    };
    let actor = match fields.remove("actor") {
        None | Some(Value::Null) => access.actor,
        Some(explicit) if access.is_admin => serde_json::from_value::<Actor>(explicit)
            .map_err(|e| ApiError::BadRequest(format!("actor is invalid: {e}")))?,
        Some(_) => {
            return Err(ApiError::Forbidden(Some("only administrators may decide for another actor".into())));
        }
    };
    fields.insert("actor".into(), serde_json::to_value(actor).unwrap_or(Value::Null));
    let request: DecisionRequest =
        serde_json::from_value(Value::Object(fields)).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if request.target.kind() != kind {
        let expected = match kind {
            RuleKind::Package => "package_name and package_type",
            RuleKind::ContainerRepository => "repository_path",
        };
        return Err(ApiError::BadRequest(format!("this endpoint decides on {expected}")));
    }
    Ok(request)
}
