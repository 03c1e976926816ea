//! The server's state: configuration, faults, counters, issued codes and tokens.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use axum::http::{HeaderMap, Method, Uri, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::DEFAULT_AUDIENCE;
use crate::config::MockConfig;
use crate::fault::Fault;
use crate::util::{self, Form};

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
#[serde(default)]
pub struct Stats {
    /// Requests per path (faulted ones included, admin ones excluded).
    pub requests: BTreeMap<String, u64>,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Successful `refresh_token` grants (grace-period reuses included).
    pub refreshes: u64,
    /// Requests that presented a refresh token already consumed by rotation, whether the
    /// grace period let them through or they revoked (or found revoked) the grant.
    pub refresh_reuses: u64,
    /// Grant families revoked because one of their refresh tokens was reused.
    pub grants_revoked: u64,
    /// `CONNECT` tunnels opened (the server as a forward proxy).
    pub tunnels: u64,
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
    /// Who approved it (`user_sid` of the configuration at approval).
    user_sid: Option<String>,
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
    /// Who authorized it (`user_sid` of the configuration at `/authorize`).
    pub(crate) user_sid: String,
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
    /// The grant family (login) it belongs to.
    pub(crate) family: String,
    /// When rotation consumed it (a refresh with it succeeded), by the tokio clock.
    consumed_at: Option<Instant>,
}

/// A grant family: one login (an authorization-code exchange or a device-code redemption)
/// and every refresh token issued from it or from its refreshes.
struct Family {
    /// The person: `sub` of the family's access and id tokens.
    user_sid: String,
    /// `iat` of the login's tokens (server clock, `iat_offset_secs` included): the id
    /// tokens' `auth_time` and the start of the session that `session_max_secs` caps.
    auth_time: i64,
    /// Revoked after a refresh token reuse: its refresh tokens and access tokens are refused.
    revoked: bool,
}

/// Why a refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshRefusal {
    /// Never issued, or issued to another client.
    Unknown,
    /// Bound to another (or no) `DeviceId`.
    OtherDevice,
    /// Its family was revoked earlier.
    Revoked,
    /// The login's session (`session_max_secs`) is over.
    SessionExpired,
    /// Already consumed by rotation, past the grace period: this request revoked the family.
    Reused,
}

/// Whose tokens a user grant issues.
#[derive(Debug, Clone)]
pub(crate) enum Login {
    /// A new login by this person: starts a grant family.
    New { user_sid: String },
    /// A refresh within an existing family.
    Refresh { family: String },
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
    /// `None` for client credentials (the app's own token, `sub` = client id).
    pub(crate) login: Option<Login>,
}

/// The tokens of one successful token request.
pub(crate) struct Issued {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) id_token: Option<String>,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    /// `exp - iat`: the configured lifetime, cut short by the session cap.
    pub(crate) lifetime: u64,
    /// When the login's session ends (`auth_time + session_max_secs`), if capped.
    pub(crate) session_end: Option<i64>,
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
        user_sid: String,
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
    /// Grant families by id.
    families: HashMap<String, Family>,
    /// Opaque access tokens: their `exp` and grant family.
    opaque_tokens: HashMap<String, (i64, Option<String>)>,
    refreshes: u64,
    refresh_reuses: u64,
    grants_revoked: u64,
    tunnels: u64,
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
    /// The grant family of a user grant's access token.
    #[serde(default)]
    grant_id: Option<String>,
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
            refreshes: inner.refreshes,
            refresh_reuses: inner.refresh_reuses,
            grants_revoked: inner.grants_revoked,
            tunnels: inner.tunnels,
        }
    }

    /// Counts a `CONNECT` tunnel.
    pub(crate) fn count_tunnel(&self) {
        self.inner.lock().tunnels += 1;
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
    /// tokens, refresh tokens, grant families (revoked ones stay revoked) and authorization
    /// codes stay as they are.
    pub(crate) fn reset(&self) {
        let mut inner = self.inner.lock();
        inner.config = MockConfig::default();
        inner.faults.clear();
        inner.counts.clear();
        inner.tokens_issued = 0;
        inner.refreshes = 0;
        inner.refresh_reuses = 0;
        inner.grants_revoked = 0;
        inner.tunnels = 0;
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
        let mut inner = self.inner.lock();
        let record = AuthCode {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.map(str::to_owned),
            code_challenge: code_challenge.map(str::to_owned),
            expires_at: Instant::now() + CODE_LIFETIME,
            user_sid: inner.config.user_sid.clone(),
        };
        inner.codes.insert(code.clone(), record);
        code
    }

    /// Removes and returns an authorization code: codes are single-use, whatever the outcome
    /// of the exchange.
    pub(crate) fn take_code(&self, code: &str) -> Option<AuthCode> {
        self.inner.lock().codes.remove(code)
    }

    /// Checks a refresh token and, with rotation on, consumes it, all under one lock: of two
    /// simultaneous refreshes with the same token exactly one gets it, the other is a reuse.
    ///
    /// Order of the checks: unknown (or another client's), `DeviceId`, family revoked,
    /// session over, then reuse of a consumed token (within the grace period it passes and is
    /// counted; after it, the family is revoked).
    pub(crate) fn redeem_refresh(
        &self,
        token: &str,
        client_id: &str,
        device_id: Option<&str>,
    ) -> Result<RefreshGrant, RefreshRefusal> {
        let now = Instant::now();
        let now_unix = util::now_unix();
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        let config = &inner.config;
        let Some(record) = inner
            .refresh_tokens
            .get_mut(token)
            .filter(|record| record.client_id == client_id)
        else {
            return Err(RefreshRefusal::Unknown);
        };
        if let Some(bound) = &record.device_id
            && device_id != Some(bound.as_str())
        {
            return Err(RefreshRefusal::OtherDevice);
        }
        let Some(family) = inner.families.get_mut(&record.family) else {
            return Err(RefreshRefusal::Unknown);
        };
        let consumed = record.consumed_at.filter(|_| config.rotate_refresh_tokens);
        if family.revoked {
            if consumed.is_some() {
                inner.refresh_reuses += 1;
            }
            return Err(RefreshRefusal::Revoked);
        }
        if session_end(family.auth_time, config.session_max_secs)
            .is_some_and(|end| now_unix.saturating_add(config.iat_offset_secs) >= end)
        {
            return Err(RefreshRefusal::SessionExpired);
        }
        if let Some(consumed_at) = consumed {
            inner.refresh_reuses += 1;
            let grace = Duration::from_secs(config.refresh_reuse_grace_secs);
            if consumed_at.checked_add(grace).is_none_or(|end| now < end) {
                return Ok(record.clone());
            }
            family.revoked = true;
            inner.grants_revoked += 1;
            return Err(RefreshRefusal::Reused);
        }
        if config.rotate_refresh_tokens {
            record.consumed_at = Some(now);
        }
        Ok(record.clone())
    }

    /// Whether the grant family `id` was revoked.
    fn family_revoked(&self, id: &str) -> bool {
        self.inner
            .lock()
            .families
            .get(id)
            .is_some_and(|family| family.revoked)
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
            user_sid: None,
        });
        (device_code, user_code, config)
    }

    /// Approves (`true`) or denies (`false`) a pending, unexpired device code.
    pub(crate) fn decide(&self, user_code: &str, approve: bool) -> Option<DeviceInfo> {
        let wanted = util::normalize_user_code(user_code);
        let now = Instant::now();
        let mut inner = self.inner.lock();
        let user_sid = inner.config.user_sid.clone();
        let device = inner.devices.iter_mut().find(|d| {
            util::normalize_user_code(&d.user_code) == wanted
                && d.status == DeviceStatus::Pending
                && now < d.expires_at
        })?;
        device.status = if approve {
            device.user_sid = Some(user_sid);
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
        if config.enforce_interval
            && let Some(previous) = previous
        {
            let interval = device.interval.unwrap_or(5);
            if now.duration_since(previous) < Duration::from_secs(interval) {
                device.interval = Some(interval + 5);
                return DevicePoll::SlowDown;
            }
        }
        if device.status == DeviceStatus::Pending
            && config
                .auto_approve_after_polls
                .is_some_and(|after| device.polls > after)
        {
            device.status = DeviceStatus::Approved;
            device.user_sid = Some(config.user_sid.clone());
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
                    user_sid: device
                        .user_sid
                        .clone()
                        .unwrap_or_else(|| config.user_sid.clone()),
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

    /// Mints the tokens of a successful token request. A new login starts a grant family;
    /// the tokens of a user grant carry its person (`sub`), its id (`grant_id`) and its
    /// `auth_time`, and never outlive its session.
    pub(crate) fn issue(&self, config: &MockConfig, grant: &Grant) -> Result<Issued, String> {
        let iat = util::now_unix().saturating_add(config.iat_offset_secs);
        // Who the tokens are for: (family id, person, login time).
        let login = match &grant.login {
            None => None,
            Some(Login::New { user_sid }) => {
                let id = format!("gf_{}", util::random_alnum(24));
                let family = Family {
                    user_sid: user_sid.clone(),
                    auth_time: iat,
                    revoked: false,
                };
                self.inner.lock().families.insert(id.clone(), family);
                Some((id, user_sid.clone(), iat))
            }
            Some(Login::Refresh { family }) => {
                let inner = self.inner.lock();
                let record = inner
                    .families
                    .get(family)
                    .ok_or_else(|| format!("unknown grant family {family}"))?;
                Some((family.clone(), record.user_sid.clone(), record.auth_time))
            }
        };
        let session_end = login
            .as_ref()
            .and_then(|(_, _, auth_time)| session_end(*auth_time, config.session_max_secs));
        let mut exp =
            iat.saturating_add(i64::try_from(config.token_lifetime_secs).unwrap_or(i64::MAX / 4));
        let mut lifetime = config.token_lifetime_secs;
        if let Some(end) = session_end.filter(|end| *end < exp) {
            exp = end.max(iat);
            lifetime = u64::try_from(exp - iat).unwrap_or(0);
        }
        let (family, subject, auth_time) = match &login {
            Some((id, user_sid, auth_time)) => (Some(id.as_str()), user_sid.as_str(), *auth_time),
            None => (None, grant.client_id.as_str(), iat),
        };
        let access_token = if config.opaque_tokens {
            format!("at_{}", util::random_alnum(40))
        } else {
            let mut claims = json!({
                "iss": self.base_url,
                "sub": subject,
                "aud": grant.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE),
                "account_sid": grant.account_sid,
                "iat": iat,
                "exp": exp,
                "jti": util::random_b64url(16),
                "grant_type": grant.grant_type,
            });
            if let Value::Object(map) = &mut claims {
                if let Some(scope) = &grant.scope {
                    map.insert("scope".to_owned(), Value::String(scope.clone()));
                }
                if let Some(family) = family {
                    map.insert("grant_id".to_owned(), Value::String(family.to_owned()));
                }
            }
            self.sign(&claims)?
        };
        let id_token = if grant.id_token {
            Some(self.sign(&json!({
                "iss": self.base_url,
                "sub": subject,
                "aud": grant.client_id,
                "account_sid": grant.account_sid,
                "iat": iat,
                "exp": exp,
                "auth_time": auth_time,
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
        if matches!(grant.login, Some(Login::Refresh { .. })) {
            inner.refreshes += 1;
        }
        if config.opaque_tokens {
            inner
                .opaque_tokens
                .insert(access_token.clone(), (exp, family.map(str::to_owned)));
        }
        if let (Some(token), Some(family)) = (&refresh_token, family) {
            inner.refresh_tokens.insert(
                token.clone(),
                RefreshGrant {
                    client_id: grant.client_id.clone(),
                    scope: grant.scope.clone(),
                    audience: grant.audience.clone(),
                    account_sid: grant.account_sid.clone(),
                    device_id: grant.device_id.clone(),
                    family: family.to_owned(),
                    consumed_at: None,
                },
            );
        }
        Ok(Issued {
            access_token,
            refresh_token,
            id_token,
            iat,
            exp,
            lifetime,
            session_end,
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
            let refresh_exp = issued
                .iat
                .saturating_add(REFRESH_LIFETIME_SECS)
                .min(issued.session_end.unwrap_or(i64::MAX));
            body.insert(
                "refresh_token_expires_at".into(),
                json!(
                    issued
                        .refresh_token
                        .as_ref()
                        .map(|_| util::rfc3339(refresh_exp))
                ),
            );
        } else if !config.omit_expires_in {
            let value = config
                .expires_in
                .clone()
                .unwrap_or_else(|| json!(issued.lifetime));
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

    /// Whether `token` is an unexpired access token this server issued, of no revoked grant.
    pub(crate) fn access_token_valid(&self, token: &str) -> bool {
        let now = util::now_unix();
        let opaque = self.inner.lock().opaque_tokens.get(token).cloned();
        let (exp, family) = match opaque {
            Some(known) => known,
            None => match self
                .decode(token)
                .and_then(|claims| serde_json::from_value::<AccessClaims>(claims).ok())
            {
                Some(claims) if !claims.grant_type.is_empty() => (claims.exp, claims.grant_id),
                _ => return false,
            },
        };
        exp > now && !family.is_some_and(|id| self.family_revoked(&id))
    }
}

/// When a login's session ends: `auth_time + session_max_secs`, if capped.
fn session_end(auth_time: i64, session_max_secs: Option<u64>) -> Option<i64> {
    session_max_secs.map(|max| auth_time.saturating_add(i64::try_from(max).unwrap_or(i64::MAX)))
}
