//! The endpoints: Twilio's OAuth API, an api.twilio.com stand-in, and the admin API.
#![allow(
    clippy::result_large_err,
    reason = "errors are finished HTTP responses, built once per failed request"
)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{DeviceErrorStyle, MockConfig};
use crate::fault::Fault;
use crate::state::{DevicePoll, Grant, Login, RefreshRefusal, Shared};
use crate::util::{self, Form};
use crate::{ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, serve};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Builds the router of one server.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v2/token", post(v2_token))
        .route("/v1/token", post(v1_token))
        .route("/v1/device/code", post(device_code))
        .route("/v1/authorize", get(authorize))
        .route("/v2/authorize", get(authorize))
        .route("/device", get(device_page).post(device_decision))
        .route(
            "/v1/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/2010-04-01/Accounts/{sid}", get(api_account))
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            get(api_messages),
        )
        .route(
            "/admin/config",
            get(admin_get_config)
                .post(admin_patch_config)
                .put(admin_put_config),
        )
        .route(
            "/admin/faults",
            get(admin_get_faults)
                .post(admin_push_faults)
                .delete(admin_clear_faults),
        )
        .route("/admin/device", get(admin_devices))
        .route("/admin/device/approve", post(admin_approve))
        .route("/admin/device/deny", post(admin_deny))
        .route("/admin/stats", get(admin_stats))
        .route(
            "/admin/requests",
            get(admin_requests).delete(admin_clear_requests),
        )
        .route("/admin/reset", post(admin_reset))
        .route("/admin/introspect", post(admin_introspect))
        .route("/admin/health", get(admin_health))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            serve::intercept,
        ))
        .with_state(shared)
}

type AppState = State<Arc<Shared>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Confidential,
    Public,
}

fn client_kind(client_id: &str) -> Option<ClientKind> {
    match client_id {
        CLIENT_ID => Some(ClientKind::Confidential),
        PUBLIC_CLIENT_ID => Some(ClientKind::Public),
        _ => None,
    }
}

fn invalid_client() -> Response {
    util::twilio_error(
        StatusCode::UNAUTHORIZED,
        321401,
        "Invalid client credentials",
    )
}

fn invalid_grant(detail: &str) -> Response {
    util::twilio_error(
        StatusCode::BAD_REQUEST,
        322403,
        &format!("invalid_grant: {detail}"),
    )
}

fn malformed(message: &str) -> Response {
    util::twilio_error(StatusCode::BAD_REQUEST, 322403, message)
}

fn server_error(message: &str) -> Response {
    util::twilio_error(StatusCode::INTERNAL_SERVER_ERROR, 20500, message)
}

/// A device-flow polling error in the configured style.
fn device_error(style: DeviceErrorStyle, error: &str, description: &str) -> Response {
    match style {
        DeviceErrorStyle::Rfc6749 => {
            util::rfc6749_error(StatusCode::BAD_REQUEST, error, description)
        }
        DeviceErrorStyle::Twilio => util::twilio_error(StatusCode::BAD_REQUEST, 20001, error),
    }
}

/// Checks v1's HTTP Basic auth; returns the account it names.
fn v1_account(headers: &HeaderMap, config: &MockConfig) -> Result<String, Response> {
    match util::basic_auth(headers) {
        Some((user, password)) if user == ACCOUNT_SID && password == AUTH_TOKEN => Ok(user),
        Some(_) => Err(util::auth_error("Authentication Error - invalid username")),
        None if headers.contains_key(header::AUTHORIZATION) || config.require_v1_auth => {
            Err(util::auth_error("Authentication Error - invalid username"))
        }
        None => Ok(ACCOUNT_SID.to_owned()),
    }
}

/// A token request of either version, with the field names unified.
struct TokenRequest<'a> {
    version: Version,
    grant_type: Option<&'a str>,
    client_id: Option<&'a str>,
    client_secret: Option<&'a str>,
    code: Option<&'a str>,
    redirect_uri: Option<&'a str>,
    code_verifier: Option<&'a str>,
    refresh_token: Option<&'a str>,
    device_code: Option<&'a str>,
    device_id: Option<&'a str>,
    scope: Option<&'a str>,
    audience: Option<&'a str>,
    account_sid: String,
}

impl TokenRequest<'_> {
    /// Confidential clients must send their secret; public clients have none.
    fn authenticate(&self, kind: ClientKind) -> Result<(), Response> {
        match kind {
            ClientKind::Confidential if self.client_secret != Some(CLIENT_SECRET) => {
                Err(invalid_client())
            }
            _ => Ok(()),
        }
    }
}

/// Validates a token request and works out what to issue.
fn resolve(
    shared: &Shared,
    config: &MockConfig,
    req: &TokenRequest<'_>,
) -> Result<Grant, Response> {
    let Some(client_id) = req.client_id else {
        let field = match req.version {
            Version::V1 => "ClientSid",
            Version::V2 => "client_id",
        };
        return Err(util::twilio_error(
            StatusCode::BAD_REQUEST,
            321402,
            &format!("{field} is empty"),
        ));
    };
    if req.version == Version::V1 && client_id.chars().count() != 34 {
        return Err(malformed("ClientSid must be 34 characters long"));
    }
    let grant_type: &'static str = match (req.grant_type, req.version) {
        (Some("client_credentials"), _) => "client_credentials",
        (Some("authorization_code"), _) => "authorization_code",
        (Some("refresh_token"), _) => "refresh_token",
        (Some(DEVICE_GRANT), Version::V1) => DEVICE_GRANT,
        (Some(other), _) => {
            return Err(util::twilio_error(
                StatusCode::BAD_REQUEST,
                321403,
                &format!("Invalid grant_type: {other}"),
            ));
        }
        (None, _) => {
            return Err(util::twilio_error(
                StatusCode::BAD_REQUEST,
                321403,
                "grant_type is required",
            ));
        }
    };
    let Some(kind) = client_kind(client_id) else {
        return Err(invalid_client());
    };
    let base = Grant {
        grant_type,
        client_id: client_id.to_owned(),
        scope: req.scope.map(str::to_owned),
        audience: req.audience.map(str::to_owned),
        account_sid: req.account_sid.clone(),
        refresh: false,
        device_id: None,
        id_token: false,
        login: None,
    };
    match grant_type {
        "client_credentials" => {
            if kind != ClientKind::Confidential {
                return Err(invalid_client());
            }
            req.authenticate(kind)?;
            Ok(base)
        }
        "authorization_code" => {
            req.authenticate(kind)?;
            let code = req
                .code
                .ok_or_else(|| invalid_grant("the authorization code is missing"))?;
            let record = shared
                .take_code(code)
                .ok_or_else(|| invalid_grant("unknown or already used authorization code"))?;
            if record.client_id != client_id {
                return Err(invalid_grant(
                    "the authorization code was issued to another client",
                ));
            }
            if record.expired() {
                return Err(invalid_grant("the authorization code has expired"));
            }
            let redirect_ok = match (req.version, req.redirect_uri) {
                (Version::V2, sent) => sent == Some(record.redirect_uri.as_str()),
                (Version::V1, Some(sent)) => sent == record.redirect_uri,
                (Version::V1, None) => true,
            };
            if !redirect_ok {
                return Err(invalid_grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
            match (&record.code_challenge, req.code_verifier) {
                (Some(challenge), Some(verifier)) => {
                    if util::pkce_s256(verifier) != *challenge {
                        return Err(invalid_grant(
                            "code_verifier does not match the code_challenge",
                        ));
                    }
                }
                (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
                (None, _) if kind == ClientKind::Public => {
                    return Err(invalid_grant("public clients must use PKCE (S256)"));
                }
                (None, _) => {}
            }
            let scope = record.scope.clone();
            Ok(Grant {
                id_token: util::has_openid(scope.as_deref()),
                scope,
                refresh: true,
                login: Some(Login::New {
                    user_sid: record.user_sid,
                }),
                ..base
            })
        }
        "refresh_token" => {
            req.authenticate(kind)?;
            let token = req
                .refresh_token
                .ok_or_else(|| invalid_grant("the refresh token is missing"))?;
            // Last check of the branch: it consumes the token (rotation), so only a request
            // that is otherwise valid may get this far.
            let previous = shared
                .redeem_refresh(token, client_id, req.device_id)
                .map_err(|refusal| {
                    invalid_grant(match refusal {
                        RefreshRefusal::Unknown => "unknown refresh token",
                        RefreshRefusal::OtherDevice => {
                            "the refresh token is bound to another DeviceId"
                        }
                        RefreshRefusal::Revoked => {
                            "the grant was revoked because one of its refresh tokens was reused; sign in again"
                        }
                        RefreshRefusal::Reused => {
                            "the refresh token was already used; the grant is revoked, sign in again"
                        }
                        RefreshRefusal::SessionExpired => {
                            "the session expired (session_max_secs); sign in again"
                        }
                    })
                })?;
            let scope = req.scope.map(str::to_owned).or(previous.scope);
            Ok(Grant {
                id_token: util::has_openid(scope.as_deref()),
                scope,
                audience: req.audience.map(str::to_owned).or(previous.audience),
                account_sid: previous.account_sid,
                refresh: true,
                device_id: previous.device_id,
                login: Some(Login::Refresh {
                    family: previous.family,
                }),
                ..base
            })
        }
        _ => {
            // The device-code grant (v1 only).
            if kind == ClientKind::Confidential && req.client_secret.is_some() {
                req.authenticate(kind)?;
            }
            let style = config.device_error_style;
            let Some(device_code) = req.device_code else {
                return Err(device_error(
                    style,
                    "invalid_grant",
                    "DeviceCode is required",
                ));
            };
            match shared.poll_device(device_code, client_id) {
                DevicePoll::Invalid => Err(device_error(
                    style,
                    "invalid_grant",
                    "The device code is invalid or was already used",
                )),
                DevicePoll::Pending => Err(device_error(
                    style,
                    "authorization_pending",
                    "The user has not yet approved the request",
                )),
                DevicePoll::SlowDown => Err(device_error(
                    style,
                    "slow_down",
                    "Polling too fast: wait 5 more seconds between polls",
                )),
                DevicePoll::Denied => Err(device_error(
                    style,
                    "access_denied",
                    "The user denied the request",
                )),
                DevicePoll::Expired => Err(device_error(
                    style,
                    "expired_token",
                    "The device code has expired",
                )),
                DevicePoll::Approved {
                    scopes,
                    audiences,
                    account_sid,
                    user_sid,
                } => Ok(Grant {
                    scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
                    audience: audiences.into_iter().next().or(base.audience.clone()),
                    account_sid,
                    refresh: true,
                    device_id: req.device_id.map(str::to_owned),
                    id_token: true,
                    login: Some(Login::New { user_sid }),
                    ..base
                }),
            }
        }
    }
}

/// Resolves, issues and answers a token request.
fn token_response(shared: &Shared, req: &TokenRequest<'_>) -> Response {
    let config = shared.config();
    let grant = match resolve(shared, &config, req) {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    let issued = match shared.issue(&config, &grant) {
        Ok(issued) => issued,
        Err(e) => return server_error(&format!("could not sign the token: {e}")),
    };
    let (status, token_type) = match req.version {
        Version::V1 => (StatusCode::CREATED, "bearer"),
        Version::V2 => (StatusCode::OK, "Bearer"),
    };
    let body = Shared::token_body(&config, &issued, token_type);
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn v2_token(
    State(shared): AppState,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::from_request(&headers, &body);
    let account_sid = query
        .as_deref()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(key, value)| key == "account_sid" && !value.is_empty())
                .map(|(_, value)| value.into_owned())
        })
        .unwrap_or_else(|| ACCOUNT_SID.to_owned());
    let req = TokenRequest {
        version: Version::V2,
        grant_type: form.get("grant_type"),
        client_id: form.get("client_id"),
        client_secret: form.get("client_secret"),
        code: form.get("code"),
        redirect_uri: form.get("redirect_uri"),
        code_verifier: form.get("code_verifier"),
        refresh_token: form.get("refresh_token"),
        device_code: None,
        device_id: None,
        scope: form.get("scope"),
        audience: form.get("audience"),
        account_sid,
    };
    token_response(&shared, &req)
}

async fn v1_token(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let account_sid = match v1_account(&headers, &shared.config()) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let form = Form::from_request(&headers, &body);
    let req = TokenRequest {
        version: Version::V1,
        grant_type: form.get("GrantType"),
        client_id: form.get("ClientSid").or_else(|| form.get("ClientId")),
        client_secret: form.get("ClientSecret"),
        code: form.get("Code"),
        redirect_uri: form.get("RedirectUri"),
        code_verifier: form.get("CodeVerifier"),
        refresh_token: form.get("RefreshToken"),
        device_code: form.get("DeviceCode"),
        device_id: form.get("DeviceId"),
        scope: form.get("Scope"),
        audience: form.get("Audience"),
        account_sid,
    };
    token_response(&shared, &req)
}

async fn device_code(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let account_sid = match v1_account(&headers, &shared.config()) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let form = Form::from_request(&headers, &body);
    let Some(client_id) = form.get("ClientSid").or_else(|| form.get("ClientId")) else {
        return util::twilio_error(StatusCode::BAD_REQUEST, 321402, "ClientSid is empty");
    };
    if client_id.chars().count() != 34 {
        return malformed("ClientSid must be 34 characters long");
    }
    if client_kind(client_id).is_none() {
        return invalid_client();
    }
    let scopes = form.all("Scopes");
    if scopes.is_empty() {
        return util::twilio_error(
            StatusCode::BAD_REQUEST,
            20001,
            "Missing required parameter Scopes in the post body",
        );
    }
    let audiences = form.all("Audiences");
    let (device_code, user_code, config) =
        shared.create_device(client_id, &account_sid, scopes, audiences);
    let mut body = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{}/device", shared.base_url),
        "verification_uri_complete": format!("{}/device?user_code={user_code}", shared.base_url),
        "expires_in": config.device_expires_in,
    });
    if let (Some(interval), Value::Object(map)) = (config.device_interval, &mut body) {
        map.insert("interval".to_owned(), json!(interval));
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .filter(|(_, value)| !value.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

async fn authorize(State(shared): AppState, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let get = |key: &str| q.get(key).map(String::as_str);
    if get("response_type") != Some("code") {
        return malformed("response_type must be code");
    }
    let Some(client_id) = get("client_id") else {
        return util::twilio_error(StatusCode::BAD_REQUEST, 321402, "client_id is empty");
    };
    if client_kind(client_id).is_none() {
        return util::twilio_error(StatusCode::BAD_REQUEST, 321401, "Unknown client_id");
    }
    let Some(redirect_uri) = get("redirect_uri") else {
        return malformed("redirect_uri is required");
    };
    let Ok(mut location) = url::Url::parse(redirect_uri) else {
        return malformed("redirect_uri must be an absolute URL");
    };
    let challenge = get("code_challenge");
    match (challenge, get("code_challenge_method")) {
        (Some(challenge), Some("S256")) => {
            let valid = (43..=128).contains(&challenge.len())
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !valid {
                return malformed("code_challenge must be 43 to 128 base64url characters");
            }
        }
        (Some(_), _) => {
            return malformed("code_challenge_method must be S256 (plain is not supported)");
        }
        (None, Some(_)) => return malformed("code_challenge_method without code_challenge"),
        (None, None) => {}
    }
    let code = shared.issue_code(client_id, redirect_uri, get("scope"), challenge);
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = get("state") {
            pairs.append_pair("state", state);
        }
    }
    match HeaderValue::from_str(location.as_str()) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => malformed("redirect_uri cannot be used in a Location header"),
    }
}

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}code{font-size:1.5rem;letter-spacing:.15rem}";

fn page(title: &str, content: &str) -> Response {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>{PAGE_STYLE}</style></head><body><h1>{title}</h1>{content}</body></html>"
    ))
    .into_response()
}

async fn device_page(State(shared): AppState, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let user_code = q.get("user_code").map(String::as_str).unwrap_or_default();
    let status = match shared.device_by_user_code(user_code) {
        Some(info) => format!(
            "<p>Scopes: {}</p><p>Status: {:?}</p>",
            util::html_escape(&info.scopes.join(", ")),
            info.status
        ),
        None if user_code.is_empty() => String::new(),
        None => "<p>No device code has this user code.</p>".to_owned(),
    };
    let code = util::html_escape(user_code);
    page(
        "Twilio OAuth mock: connect a device",
        &format!(
            "<p>Enter the code shown on your device.</p>{status}<form method=\"post\" action=\"/device\"><p><input name=\"user_code\" value=\"{code}\" autofocus></p><p><button name=\"action\" value=\"approve\">Approve</button> <button name=\"action\" value=\"deny\">Deny</button></p></form>"
        ),
    )
}

async fn device_decision(State(shared): AppState, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let user_code = form.get("user_code").unwrap_or_default();
    let approve = form.get("action") != Some("deny");
    let code = util::html_escape(user_code);
    match shared.decide(user_code, approve) {
        Some(_) if approve => page(
            "Device approved",
            &format!(
                "<p><code>{code}</code> may now use your account. You can close this page.</p>"
            ),
        ),
        Some(_) => page(
            "Device denied",
            &format!("<p><code>{code}</code> was denied.</p>"),
        ),
        None => {
            let mut response = page(
                "Unknown code",
                &format!(
                    "<p>No pending device code <code>{code}</code>.</p><p><a href=\"/device\">Try again</a></p>"
                ),
            );
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}

async fn openid_configuration(State(shared): AppState) -> Json<Value> {
    let base = &shared.base_url;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/v1/authorize"),
        "token_endpoint": format!("{base}/v1/token"),
        "device_authorization_endpoint": format!("{base}/v1/device/code"),
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "client_credentials",
            "authorization_code",
            "refresh_token",
            DEVICE_GRANT,
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "subject_types_supported": ["public"],
    }))
}

fn check_bearer(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    match util::bearer_token(headers) {
        Some(token) if shared.access_token_valid(&token) => Ok(()),
        Some(_) => Err(util::auth_error(
            "Authentication Error - invalid or expired access token",
        )),
        None => Err(util::auth_error(
            "Authentication Error - No credentials provided",
        )),
    }
}

async fn api_account(
    State(shared): AppState,
    Path(sid): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(sid) = sid.strip_suffix(".json") else {
        return not_found(uri).await;
    };
    if let Err(response) = check_bearer(&shared, &headers) {
        return response;
    }
    Json(json!({
        "sid": sid,
        "status": "active",
        "friendly_name": "Twilio OAuth mock account",
        "type": "Full",
        "uri": format!("/2010-04-01/Accounts/{sid}.json"),
    }))
    .into_response()
}

async fn api_messages(
    State(shared): AppState,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check_bearer(&shared, &headers) {
        return response;
    }
    let uri = format!("/2010-04-01/Accounts/{sid}/Messages.json?PageSize=50&Page=0");
    Json(json!({
        "messages": [],
        "end": 0,
        "first_page_uri": uri,
        "next_page_uri": null,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": null,
        "start": 0,
        "uri": uri,
    }))
    .into_response()
}

async fn not_found(uri: Uri) -> Response {
    util::twilio_error(
        StatusCode::NOT_FOUND,
        20404,
        &format!("The requested resource {} was not found", uri.path()),
    )
}

// ---- admin ----

fn admin_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn admin_get_config(State(shared): AppState) -> Json<MockConfig> {
    Json(shared.config())
}

async fn admin_patch_config(State(shared): AppState, Json(patch): Json<Value>) -> Response {
    let result = shared.update_config(|config| {
        let merged = config.merged(&patch)?;
        *config = merged.clone();
        Ok::<_, String>(merged)
    });
    match result {
        Ok(config) => Json(config).into_response(),
        Err(e) => admin_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn admin_put_config(State(shared): AppState, Json(value): Json<Value>) -> Response {
    match serde_json::from_value::<MockConfig>(value) {
        Ok(config) => {
            shared.set_config(config.clone());
            Json(config).into_response()
        }
        Err(e) => admin_error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    endpoint: String,
    #[serde(default)]
    responses: Vec<Fault>,
}

async fn admin_push_faults(State(shared): AppState, Json(request): Json<FaultRequest>) -> Response {
    if !request.endpoint.starts_with('/') {
        return admin_error(
            StatusCode::BAD_REQUEST,
            "endpoint must be a path such as /v2/token",
        );
    }
    if let Err(e) = request.responses.iter().try_for_each(Fault::validate) {
        return admin_error(StatusCode::BAD_REQUEST, &e);
    }
    let mut queued = shared.faults().get(&request.endpoint).map_or(0, Vec::len);
    for fault in request.responses {
        queued = shared.push_fault(&request.endpoint, fault);
    }
    Json(json!({"endpoint": request.endpoint, "queued": queued})).into_response()
}

async fn admin_get_faults(State(shared): AppState) -> Response {
    Json(shared.faults()).into_response()
}

async fn admin_clear_faults(State(shared): AppState) -> Json<Value> {
    Json(json!({"cleared": shared.clear_faults()}))
}

#[derive(Deserialize)]
struct UserCodeRequest {
    user_code: String,
}

fn decision(shared: &Shared, user_code: &str, approve: bool) -> Response {
    match shared.decide(user_code, approve) {
        Some(info) => Json(info).into_response(),
        None => util::twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            &format!("No pending device code has the user code {user_code}"),
        ),
    }
}

async fn admin_approve(State(shared): AppState, Json(request): Json<UserCodeRequest>) -> Response {
    decision(&shared, &request.user_code, true)
}

async fn admin_deny(State(shared): AppState, Json(request): Json<UserCodeRequest>) -> Response {
    decision(&shared, &request.user_code, false)
}

async fn admin_devices(State(shared): AppState) -> Response {
    Json(shared.devices()).into_response()
}

async fn admin_stats(State(shared): AppState) -> Response {
    Json(shared.stats()).into_response()
}

async fn admin_requests(State(shared): AppState) -> Response {
    Json(shared.requests()).into_response()
}

async fn admin_clear_requests(State(shared): AppState) -> Json<Value> {
    shared.clear_requests();
    Json(json!({"cleared": true}))
}

// Reading the (ignored) body keeps the connection reusable: an unread body makes hyper close
// a keep-alive connection, which some clients then trip over on their next request.
async fn admin_reset(State(shared): AppState, _body: axum::body::Bytes) -> Json<Value> {
    shared.reset();
    Json(json!({"reset": true}))
}

#[derive(Deserialize)]
struct IntrospectRequest {
    token: String,
}

async fn admin_introspect(
    State(shared): AppState,
    Json(request): Json<IntrospectRequest>,
) -> Json<Value> {
    Json(json!({
        "active": shared.access_token_valid(&request.token),
        "claims": shared.decode(&request.token),
    }))
}

async fn admin_health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
