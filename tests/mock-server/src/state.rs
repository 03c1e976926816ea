//! The server's state: configuration, faults, counters, issued codes and tokens.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use axum::http::{HeaderMap, Method, Uri, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::config::MockConfig;
use crate::fault::Fault;
use crate::util::{self, Form};
use crate::{DEFAULT_AUDIENCE, USER_SID};

/// How many requests `GET /admin/requests` keeps.
const MAX_RECORDED: usize = 200;
/// Lifetime of authorization codes.
const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// Lifetime announced for refresh tokens (`refresh_token_expires_at`).
const REFRESH_LIFETIME_SECS: i64 = 30 * 24 * 3600;

/// One request as it arrived on the wire (admin requests are not recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query, e.g. `/v2/token`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Form fields (only when the content type is `application/x-www-form-urlencoded`);
    /// repeated keys keep every value in order.
    pub form: BTreeMap<String, Vec<String>>,
    /// `basic <username>` for Basic auth, `bearer` for a bearer token, another scheme's name
    /// in lower case, or `None` without an `Authorization` header.
    pub authorization: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// `Accept` header.
    pub accept: Option<String>,
    /// The raw body as text (lossy UTF-8).
    pub body: String,
}

impl RecordedRequest {
    pub(crate) fn new(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Self {
        let text =
            |name: header::HeaderName| util::header_str(headers, name.as_str()).map(str::to_owned);
        Self {
            method: method.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            form: Form::from_request(headers, body).0,
            authorization: util::describe_authorization(headers),
            user_agent: text(header::USER_AGENT),
            content_type: text(header::CONTENT_TYPE),
            accept: text(header::ACCEPT),
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }
}

/// Where a device code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Waiting for the person to approve or deny.
    Pending,
    /// Approved; the next poll gets a token.
    Approved,
    /// Denied; polls get `access_denied`.
    Denied,
    /// A token was issued for it; later polls get `invalid_grant`.
    Redeemed,
    /// Its lifetime is over (it was pending or approved); polls get `expired_token`.
    Expired,
}

/// A device code as `GET /admin/device` and [`crate::MockServer::devices`] show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The code a person types, e.g. `BCDF-GHJK`.
    pub user_code: String,
    /// The code the device polls with.
    pub device_code: String,
    /// Current status.
    pub status: DeviceStatus,
    /// How many times the device code was polled.
    pub polls: u32,
    /// Requested scopes (`Scopes`), in order.
    pub scopes: Vec<String>,
    /// Requested audiences (`Audiences`), in order.
    pub audiences: Vec<String>,
    /// Client that asked for the code.
    pub client_id: String,
    /// Current polling interval in seconds (grows by 5 on each `slow_down`); `None` when the
    /// response left `interval` out.
    pub interval: Option<u64>,
}

/// Request counters, as `GET /admin/stats` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests per path (faulted ones included, admin ones excluded).
    pub requests: BTreeMap<String, u64>,
    /// Access tokens issued.
    pub tokens_issued: u64,
}

struct Device {
    device_code: String,
    user_code: String,
    client_id: String,
    account_sid: String,
    scopes: Vec<String>,
    audiences: Vec<String>,
    status: DeviceStatus,
    polls: u32,
    interval: Option<u64>,
    last_poll: Option<Instant>,
    expires_at: Instant,
}

impl Device {
    fn info(&self, now: Instant) -> DeviceInfo {
        let expired = now >= self.expires_at
            && matches!(self.status, DeviceStatus::Pending | DeviceStatus::Approved);
        DeviceInfo {
            user_code: self.user_code.clone(),
            device_code: self.device_code.clone(),
            status: if expired {
                DeviceStatus::Expired
            } else {
                self.status
            },
            polls: self.polls,
            scopes: self.scopes.clone(),
            audiences: self.audiences.clone(),
            client_id: self.client_id.clone(),
            interval: self.interval,
        }
    }
}

/// An authorization code issued by `GET /v{1,2}/authorize`.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) expires_at: Instant,
}

impl AuthCode {
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.expires_at
    }
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) scope: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) account_sid: String,
    pub(crate) device_id: Option<String>,
}

/// What to put in the tokens of one successful token request.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) grant_type: &'static str,
    pub(crate) client_id: String,
    pub(crate) scope: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) account_sid: String,
    /// Issue a refresh token (bound to `device_id` when set).
    pub(crate) refresh: bool,
    pub(crate) device_id: Option<String>,
    pub(crate) id_token: bool,
}

/// The tokens of one successful token request.
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) id_token: Option<String>,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
}

/// The outcome of one device-code poll.
pub(crate) enum DevicePoll {
    /// Unknown, issued to another client, or already redeemed.
    Invalid,
    Pending,
    SlowDown,
    Denied,
    Expired,
    Approved {
        scopes: Vec<String>,
        audiences: Vec<String>,
        account_sid: String,
    },
}

#[derive(Default)]
struct Inner {
    config: MockConfig,
    faults: HashMap<String, VecDeque<Fault>>,
    counts: BTreeMap<String, u64>,
    tokens_issued: u64,
    requests: VecDeque<RecordedRequest>,
    devices: Vec<Device>,
    codes: HashMap<String, AuthCode>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    /// Opaque access tokens and their `exp`.
    opaque_tokens: HashMap<String, i64>,
}

/// State shared by every connection of one server.
pub(crate) struct Shared {
    pub(crate) base_url: String,
    key: [u8; 32],
    inner: Mutex<Inner>,
}

#[derive(Deserialize)]
struct AccessClaims {
    exp: i64,
    /// Present in access tokens only (not in id tokens).
    grant_type: String,
}

impl Shared {
    pub(crate) fn new(base_url: String) -> Self {
        Self {
            base_url,
            key: util::random_key(),
            inner: Mutex::new(Inner::default()),
        }
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    pub(crate) fn config(&self) -> MockConfig {
        self.inner.lock().config.clone()
    }

    pub(crate) fn set_config(&self, config: MockConfig) {
        self.inner.lock().config = config;
    }

    pub(crate) fn update_config<R>(&self, f: impl FnOnce(&mut MockConfig) -> R) -> R {
        f(&mut self.inner.lock().config)
    }

    pub(crate) fn push_fault(&self, endpoint: &str, fault: Fault) -> usize {
        let mut inner = self.inner.lock();
        let queue = inner.faults.entry(endpoint.to_owned()).or_default();
        for _ in 0..fault.repeat {
            queue.push_back(fault.clone());
        }
        queue.len()
    }

    pub(crate) fn faults(&self) -> BTreeMap<String, Vec<Fault>> {
        let inner = self.inner.lock();
        inner
            .faults
            .iter()
            .filter(|(_, queue)| !queue.is_empty())
            .map(|(endpoint, queue)| (endpoint.clone(), queue.iter().cloned().collect()))
            .collect()
    }

    pub(crate) fn clear_faults(&self) -> usize {
        let mut inner = self.inner.lock();
        let count = inner.faults.values().map(VecDeque::len).sum();
        inner.faults.clear();
        count
    }

    /// Counts and records a request, and pops the endpoint's next fault. Returns the fault and
    /// the configured latency.
    pub(crate) fn begin_request(&self, request: RecordedRequest) -> (Option<Fault>, u64) {
        let mut inner = self.inner.lock();
        *inner.counts.entry(request.path.clone()).or_default() += 1;
        let fault = inner
            .faults
            .get_mut(&request.path)
            .and_then(VecDeque::pop_front);
        if inner.requests.len() >= MAX_RECORDED {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
        (fault, inner.config.latency_ms)
    }

    pub(crate) fn stats(&self) -> Stats {
        let inner = self.inner.lock();
        Stats {
            requests: inner.counts.clone(),
            tokens_issued: inner.tokens_issued,
        }
    }

    pub(crate) fn request_count(&self, path: &str) -> u64 {
        self.inner.lock().counts.get(path).copied().unwrap_or(0)
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().requests.iter().cloned().collect()
    }

    pub(crate) fn clear_requests(&self) {
        self.inner.lock().requests.clear();
    }

    /// Resets configuration, faults, counters, recorded requests and device codes. Issued
    /// tokens, refresh tokens and authorization codes stay valid.
    pub(crate) fn reset(&self) {
        let mut inner = self.inner.lock();
        inner.config = MockConfig::default();
        inner.faults.clear();
        inner.counts.clear();
        inner.tokens_issued = 0;
        inner.requests.clear();
        inner.devices.clear();
    }

    // ---- authorization codes ----

    pub(crate) fn issue_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        scope: Option<&str>,
        code_challenge: Option<&str>,
    ) -> String {
        let code = util::random_alnum(32);
        let record = AuthCode {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.map(str::to_owned),
            code_challenge: code_challenge.map(str::to_owned),
            expires_at: Instant::now() + CODE_LIFETIME,
        };
        self.inner.lock().codes.insert(code.clone(), record);
        code
    }

    /// Removes and returns an authorization code: codes are single-use, whatever the outcome
    /// of the exchange.
    pub(crate) fn take_code(&self, code: &str) -> Option<AuthCode> {
        self.inner.lock().codes.remove(code)
    }

    pub(crate) fn refresh_grant(&self, token: &str) -> Option<RefreshGrant> {
        self.inner.lock().refresh_tokens.get(token).cloned()
    }

    // ---- device codes ----

    pub(crate) fn create_device(
        &self,
        client_id: &str,
        account_sid: &str,
        scopes: Vec<String>,
        audiences: Vec<String>,
    ) -> (String, String, MockConfig) {
        let mut inner = self.inner.lock();
        let config = inner.config.clone();
        let device_code = util::random_b64url(32);
        let user_code = loop {
            let candidate = util::random_user_code();
            if !inner.devices.iter().any(|d| d.user_code == candidate) {
                break candidate;
            }
        };
        inner.devices.push(Device {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: client_id.to_owned(),
            account_sid: account_sid.to_owned(),
            scopes,
            audiences,
            status: DeviceStatus::Pending,
            polls: 0,
            interval: config.device_interval,
            last_poll: None,
            expires_at: Instant::now() + Duration::from_secs(config.device_expires_in),
        });
        (device_code, user_code, config)
    }

    /// Approves (`true`) or denies (`false`) a pending, unexpired device code.
    pub(crate) fn decide(&self, user_code: &str, approve: bool) -> Option<DeviceInfo> {
        let wanted = util::normalize_user_code(user_code);
        let now = Instant::now();
        let mut inner = self.inner.lock();
        let device = inner.devices.iter_mut().find(|d| {
            util::normalize_user_code(&d.user_code) == wanted
                && d.status == DeviceStatus::Pending
                && now < d.expires_at
        })?;
        device.status = if approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        Some(device.info(now))
    }

    pub(crate) fn devices(&self) -> Vec<DeviceInfo> {
        let now = Instant::now();
        self.inner
            .lock()
            .devices
            .iter()
            .map(|d| d.info(now))
            .collect()
    }

    pub(crate) fn device_by_user_code(&self, user_code: &str) -> Option<DeviceInfo> {
        let wanted = util::normalize_user_code(user_code);
        let now = Instant::now();
        self.inner
            .lock()
            .devices
            .iter()
            .find(|d| util::normalize_user_code(&d.user_code) == wanted)
            .map(|d| d.info(now))
    }

    /// One poll of a device code, following RFC 8628 section 3.5.
    pub(crate) fn poll_device(&self, device_code: &str, client_id: &str) -> DevicePoll {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        let config = inner.config.clone();
        let Some(device) = inner
            .devices
            .iter_mut()
            .find(|d| d.device_code == device_code)
        else {
            return DevicePoll::Invalid;
        };
        if device.client_id != client_id {
            return DevicePoll::Invalid;
        }
        device.polls = device.polls.saturating_add(1);
        let previous = device.last_poll.replace(now);
        if device.status == DeviceStatus::Redeemed {
            return DevicePoll::Invalid;
        }
        if now >= device.expires_at {
            return DevicePoll::Expired;
        }
        if config.enforce_interval {
            if let Some(previous) = previous {
                let interval = device.interval.unwrap_or(5);
                if now.duration_since(previous) < Duration::from_secs(interval) {
                    device.interval = Some(interval + 5);
                    return DevicePoll::SlowDown;
                }
            }
        }
        if device.status == DeviceStatus::Pending
            && config
                .auto_approve_after_polls
                .is_some_and(|after| device.polls > after)
        {
            device.status = DeviceStatus::Approved;
        }
        match device.status {
            DeviceStatus::Pending => DevicePoll::Pending,
            DeviceStatus::Denied => DevicePoll::Denied,
            DeviceStatus::Approved => {
                device.status = DeviceStatus::Redeemed;
                DevicePoll::Approved {
                    scopes: device.scopes.clone(),
                    audiences: device.audiences.clone(),
                    account_sid: device.account_sid.clone(),
                }
            }
            DeviceStatus::Redeemed | DeviceStatus::Expired => DevicePoll::Invalid,
        }
    }

    // ---- tokens ----

    fn sign(&self, claims: &Value) -> Result<String, String> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(&self.key),
        )
        .map_err(|e| e.to_string())
    }

    /// Mints the tokens of a successful token request.
    pub(crate) fn issue(&self, config: &MockConfig, grant: &Grant) -> Result<Issued, String> {
        let lifetime = i64::try_from(config.token_lifetime_secs).unwrap_or(i64::MAX / 4);
        let iat = util::now_unix().saturating_add(config.iat_offset_secs);
        let exp = iat.saturating_add(lifetime);
        let access_token = if config.opaque_tokens {
            format!("at_{}", util::random_alnum(40))
        } else {
            let mut claims = json!({
                "iss": self.base_url,
                "sub": grant.client_id,
                "aud": grant.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE),
                "account_sid": grant.account_sid,
                "iat": iat,
                "exp": exp,
                "jti": util::random_b64url(16),
                "grant_type": grant.grant_type,
            });
            if let (Some(scope), Value::Object(map)) = (&grant.scope, &mut claims) {
                map.insert("scope".to_owned(), Value::String(scope.clone()));
            }
            self.sign(&claims)?
        };
        let id_token = if grant.id_token {
            Some(self.sign(&json!({
                "iss": self.base_url,
                "sub": USER_SID,
                "aud": grant.client_id,
                "account_sid": grant.account_sid,
                "iat": iat,
                "exp": exp,
                "auth_time": iat,
                "jti": util::random_b64url(16),
            }))?)
        } else {
            None
        };
        let refresh_token = grant
            .refresh
            .then(|| format!("rt_{}", util::random_alnum(48)));
        let mut inner = self.inner.lock();
        inner.tokens_issued += 1;
        if config.opaque_tokens {
            inner.opaque_tokens.insert(access_token.clone(), exp);
        }
        if let Some(token) = &refresh_token {
            inner.refresh_tokens.insert(
                token.clone(),
                RefreshGrant {
                    client_id: grant.client_id.clone(),
                    scope: grant.scope.clone(),
                    audience: grant.audience.clone(),
                    account_sid: grant.account_sid.clone(),
                    device_id: grant.device_id.clone(),
                },
            );
        }
        Ok(Issued {
            access_token,
            refresh_token,
            id_token,
            iat,
            exp,
        })
    }

    /// The JSON body of a successful token response.
    pub(crate) fn token_body(config: &MockConfig, issued: &Issued, token_type: &str) -> Value {
        let mut body = serde_json::Map::new();
        body.insert("access_token".into(), json!(issued.access_token));
        body.insert("refresh_token".into(), json!(issued.refresh_token));
        body.insert("id_token".into(), json!(issued.id_token));
        body.insert(
            "token_type".into(),
            json!(config.token_type.as_deref().unwrap_or(token_type)),
        );
        if config.legacy_expires_at {
            body.insert(
                "access_token_expires_at".into(),
                json!(util::rfc3339(issued.exp)),
            );
            body.insert(
                "refresh_token_expires_at".into(),
                json!(
                    issued
                        .refresh_token
                        .as_ref()
                        .map(|_| util::rfc3339(issued.iat + REFRESH_LIFETIME_SECS))
                ),
            );
        } else if !config.omit_expires_in {
            let value = config
                .expires_in
                .clone()
                .unwrap_or_else(|| json!(config.token_lifetime_secs));
            body.insert("expires_in".into(), value);
        }
        Value::Object(body)
    }

    /// The claims of a JWT this server signed (any `exp`), or `None`.
    pub(crate) fn decode(&self, token: &str) -> Option<Value> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(&self.key), &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// Whether `token` is an unexpired access token this server issued.
    pub(crate) fn access_token_valid(&self, token: &str) -> bool {
        let now = util::now_unix();
        if let Some(exp) = self.inner.lock().opaque_tokens.get(token) {
            return *exp > now;
        }
        self.decode(token)
            .and_then(|claims| serde_json::from_value::<AccessClaims>(claims).ok())
            .is_some_and(|claims| claims.exp > now && !claims.grant_type.is_empty())
    }
}
