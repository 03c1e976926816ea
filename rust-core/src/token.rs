//! Tokens, and the expiry rules of PROTOCOL.md.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::secret::{AccessToken, IdToken, RefreshToken, preview};

/// The longest lifetime we believe (Twilio allows up to 30 days).
pub const MAX_LIFETIME: Duration = Duration::from_secs(31 * 24 * 3600);
/// The lifetime assumed when a response says nothing believable about expiry: short enough to be
/// safe, long enough that an odd field never makes us refetch on every call.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
const PERSISTED_SCHEMA_VERSION: u32 = 1;

/// Which token endpoint issued a token, and so where its refresh token must go back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Issuer {
    /// `/v2/token` (client credentials, authorization code, refresh): snake_case form.
    #[default]
    V2,
    /// `/v1/token` (device login, v1 calls): PascalCase form with HTTP Basic auth.
    V1,
}

impl Issuer {
    fn as_str(self) -> &'static str {
        match self {
            Issuer::V1 => "v1",
            Issuer::V2 => "v2",
        }
    }
}

/// An access token with its companions and its expiry.
///
/// Cloning is cheap (the data is shared). `Debug` and `Display` never show a token in full.
#[derive(Clone)]
pub struct Token(Arc<TokenData>);

struct TokenData {
    access_token: AccessToken,
    token_type: String,
    refresh_token: Option<RefreshToken>,
    id_token: Option<IdToken>,
    scope: Option<String>,
    claims: Map<String, Value>,
    lifetime: Duration,
    /// Monotonic deadline: what every freshness decision uses.
    valid_until: Instant,
    /// Wall-clock estimate of the same moment, for people and for persistence.
    expires_at: SystemTime,
    /// When it was issued: the JWT `iat` when there is one, else when it arrived.
    issued_at: SystemTime,
    /// The endpoint that issued it (refresh tokens go back there).
    issuer: Issuer,
    /// The `DeviceId` its refresh token is bound to (v1 device logins that sent one).
    device_id: Option<String>,
}

impl Token {
    /// A token obtained elsewhere, valid for `expires_in` from now (JWT claims are read from
    /// the access token when it is a JWT).
    pub fn new(access_token: impl Into<String>, expires_in: Duration) -> Self {
        Self::assemble(
            TokenParts {
                access_token: access_token.into(),
                token_type: None,
                refresh_token: None,
                id_token: None,
                scope: None,
            },
            expires_in.min(MAX_LIFETIME),
            Instant::now(),
            SystemTime::now(),
        )
    }

    /// The same token with a refresh token attached.
    pub fn with_refresh_token(self, refresh_token: impl Into<String>) -> Self {
        let mut data = self.into_data();
        data.refresh_token = Some(RefreshToken::new(refresh_token));
        Token(Arc::new(data))
    }

    fn into_data(self) -> TokenData {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| TokenData {
            access_token: shared.access_token.clone(),
            token_type: shared.token_type.clone(),
            refresh_token: shared.refresh_token.clone(),
            id_token: shared.id_token.clone(),
            scope: shared.scope.clone(),
            claims: shared.claims.clone(),
            lifetime: shared.lifetime,
            valid_until: shared.valid_until,
            expires_at: shared.expires_at,
            issued_at: shared.issued_at,
            issuer: shared.issuer,
            device_id: shared.device_id.clone(),
        })
    }

    /// The same token marked as issued by `issuer` (bound to `device_id` on v1).
    pub(crate) fn issued_by(self, issuer: Issuer, device_id: Option<&str>) -> Self {
        let mut data = self.into_data();
        data.issuer = issuer;
        data.device_id = device_id.filter(|d| !d.is_empty()).map(str::to_owned);
        Token(Arc::new(data))
    }

    /// The same token with its access token already expired (refresh token kept): what a
    /// store keeps after the API rejected the access token.
    pub(crate) fn expired_copy(&self, now: Instant, wall: SystemTime) -> Self {
        let mut data = self.clone().into_data();
        data.valid_until = now;
        data.expires_at = wall;
        Token(Arc::new(data))
    }

    fn assemble(parts: TokenParts, lifetime: Duration, now: Instant, wall: SystemTime) -> Self {
        let claims = decode_claims(&parts.access_token).unwrap_or_default();
        let issued_at = claims
            .get("iat")
            .and_then(Value::as_f64)
            .and_then(epoch_secs)
            .unwrap_or(wall);
        let token_type = match parts.token_type {
            Some(t) if t.eq_ignore_ascii_case("bearer") || t.trim().is_empty() => "Bearer".into(),
            Some(t) => t,
            None => "Bearer".into(),
        };
        Token(Arc::new(TokenData {
            access_token: AccessToken::new(parts.access_token),
            token_type,
            refresh_token: parts.refresh_token.map(RefreshToken::new),
            id_token: parts.id_token.map(IdToken::new),
            scope: parts.scope,
            claims,
            lifetime,
            valid_until: now + lifetime,
            expires_at: wall + lifetime,
            issued_at,
            issuer: Issuer::V2,
            device_id: None,
        }))
    }

    /// The access token. Call `.secret()` on it to read the value.
    pub fn access_token(&self) -> &AccessToken {
        &self.0.access_token
    }

    /// The token type, normalised so that `bearer` reads `Bearer`.
    pub fn token_type(&self) -> &str {
        &self.0.token_type
    }

    /// The refresh token, when the grant issued one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.0.refresh_token.as_ref()
    }

    /// The OpenID Connect id token, when the grant issued one.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.0.id_token.as_ref()
    }

    /// The granted scope, when the server said or the JWT carries one.
    pub fn scope(&self) -> Option<&str> {
        self.0
            .scope
            .as_deref()
            .or_else(|| self.0.claims.get("scope").and_then(Value::as_str))
    }

    /// When the token expires, on the wall clock (an estimate: decisions use a monotonic clock).
    pub fn expires_at(&self) -> SystemTime {
        self.0.expires_at
    }

    /// When the token was issued (the JWT `iat`, else when it arrived): between two tokens of
    /// one cache key, the later one wins.
    pub fn issued_at(&self) -> SystemTime {
        self.0.issued_at
    }

    /// The endpoint that issued the token; its refresh token goes back there.
    pub fn issuer(&self) -> Issuer {
        self.0.issuer
    }

    /// The `DeviceId` the refresh token is bound to, if the login sent one.
    pub fn device_id(&self) -> Option<&str> {
        self.0.device_id.as_deref()
    }

    /// Whose token it is: the access token's JWT `sub`, else the id token's.
    pub fn subject(&self) -> Option<String> {
        let sub = |claims: &Map<String, Value>| {
            claims
                .get("sub")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        sub(&self.0.claims).or_else(|| {
            self.0
                .id_token
                .as_ref()
                .and_then(|t| decode_claims(t.secret()))
                .as_ref()
                .and_then(sub)
        })
    }

    /// The lifetime the token had when it was received.
    pub fn lifetime(&self) -> Duration {
        self.0.lifetime
    }

    /// Time left before expiry (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.expires_in_at(Instant::now())
    }

    /// True once the token has expired.
    pub fn is_expired(&self) -> bool {
        self.expires_in().is_zero()
    }

    /// The access token's JWT claims, unverified; empty when it is not a JWT.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0.claims
    }

    /// `"Bearer <access token>"`, ready for an `Authorization` header.
    pub fn authorization_header(&self) -> String {
        format!("{} {}", self.0.token_type, self.0.access_token.secret())
    }

    /// True when `self` was issued strictly later than `other` (ties: not later).
    pub(crate) fn issued_after(&self, other: &Token) -> bool {
        self.0.issued_at > other.0.issued_at
    }

    pub(crate) fn valid_until(&self) -> Instant {
        self.0.valid_until
    }

    pub(crate) fn expires_in_at(&self, now: Instant) -> Duration {
        self.0.valid_until.saturating_duration_since(now)
    }

    /// The JWT `exp` claim, when there is one: the server's own statement of expiry.
    pub(crate) fn exp_claim(&self) -> Option<f64> {
        self.0.claims.get("exp").and_then(Value::as_f64)
    }

    /// True when `self` expires strictly later than `other`. The same token handed out again
    /// never does, whatever its deadline says; a later `exp` claim always does; otherwise the
    /// monotonic deadlines decide (two tokens issued within one second share their `exp`).
    pub(crate) fn outlives(&self, other: &Token) -> bool {
        if self.access_token() == other.access_token() {
            return false;
        }
        match (self.exp_claim(), other.exp_claim()) {
            (Some(a), Some(b)) if a != b => a > b,
            _ => self.valid_until() > other.valid_until(),
        }
    }

    /// Serialises the whole token, secrets included, for a token store. Keep the result as
    /// secret as the token itself.
    pub fn to_json(&self) -> String {
        let expires_at = self
            .0
            .expires_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let persisted = PersistedToken {
            schema_version: PERSISTED_SCHEMA_VERSION,
            access_token: self.0.access_token.secret().to_owned(),
            token_type: self.0.token_type.clone(),
            refresh_token: self.0.refresh_token.as_ref().map(|t| t.secret().to_owned()),
            id_token: self.0.id_token.as_ref().map(|t| t.secret().to_owned()),
            scope: self.0.scope.clone(),
            expires_at,
            lifetime: Some(self.0.lifetime.as_secs_f64()),
            issued_at: self
                .0
                .issued_at
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs_f64()),
            issuer: Some(self.0.issuer.as_str().to_owned()),
            device_id: self.0.device_id.clone(),
        };
        serde_json::to_string(&persisted).unwrap_or_default()
    }

    /// Reads a token written by [`Token::to_json`]. The time left is re-derived from the wall
    /// clock, which is all a stored token can offer.
    pub fn from_json(json: &str) -> Result<Token> {
        Self::from_json_with_clock(json, &crate::clock::SystemClock)
    }

    pub(crate) fn from_json_with_clock(json: &str, clock: &dyn Clock) -> Result<Token> {
        let p: PersistedToken = serde_json::from_str(json).map_err(|e| Error::Store {
            message: format!("stored token is not valid JSON: {e}"),
        })?;
        if p.schema_version > PERSISTED_SCHEMA_VERSION {
            return Err(Error::Store {
                message: format!("stored token has schema_version {}", p.schema_version),
            });
        }
        if p.access_token.is_empty() || !p.expires_at.is_finite() || p.expires_at < 0.0 {
            return Err(Error::Store {
                message: "stored token has no access token or no expiry".into(),
            });
        }
        let wall = clock.system_time();
        // An expiry past what the clock can represent reads as already expired (`UNIX_EPOCH +
        // d` used to panic for 9.2e18 <= expires_at < 1.8e19; see the stored_token fuzz target).
        let expires_at = epoch_secs(p.expires_at).unwrap_or(UNIX_EPOCH);
        let left = expires_at
            .duration_since(wall)
            .unwrap_or(Duration::ZERO)
            .min(MAX_LIFETIME);
        let token = Self::assemble(
            TokenParts {
                access_token: p.access_token,
                token_type: Some(p.token_type),
                refresh_token: p.refresh_token,
                id_token: p.id_token,
                scope: p.scope,
            },
            left,
            clock.now(),
            wall,
        );
        // Keep the original lifetime so margins scale with it, not with what is left.
        let lifetime = p
            .lifetime
            .and_then(|l| Duration::try_from_secs_f64(l).ok())
            .unwrap_or(left)
            .max(left);
        let mut data = token.into_data();
        data.lifetime = lifetime;
        if let Some(at) = p.issued_at.and_then(epoch_secs) {
            data.issued_at = at;
        }
        data.issuer = match p.issuer.as_deref() {
            Some("v1") => Issuer::V1,
            _ => Issuer::V2,
        };
        data.device_id = p.device_id.filter(|d| !d.is_empty());
        Ok(Token(Arc::new(data)))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &preview(self.0.access_token.secret()))
            .field("token_type", &self.0.token_type)
            .field("refresh_token", &self.0.refresh_token)
            .field("id_token", &self.0.id_token)
            .field("scope", &self.scope())
            .field("expires_in", &self.expires_in())
            .finish()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (expires in {}s)",
            self.0.token_type,
            preview(self.0.access_token.secret()),
            self.expires_in().as_secs()
        )
    }
}

struct TokenParts {
    access_token: String,
    token_type: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    scope: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct PersistedToken {
    schema_version: u32,
    access_token: String,
    token_type: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    /// Unix seconds.
    expires_at: f64,
    #[serde(default)]
    lifetime: Option<f64>,
    /// Unix seconds.
    #[serde(default)]
    issued_at: Option<f64>,
    /// `"v1"` or `"v2"`: where the refresh token goes back to.
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    device_id: Option<String>,
}

#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<Value>,
    access_token_expires_at: Option<String>,
    scope: Option<String>,
}

/// What the transport knows about a successful response.
pub(crate) struct Received<'a> {
    pub status: u16,
    pub body: &'a [u8],
    /// The response's `Date` header: the server's clock.
    pub date: Option<SystemTime>,
    /// Monotonic moment the response arrived.
    pub at: Instant,
    /// Wall clock at that moment.
    pub wall: SystemTime,
}

/// Parses a token endpoint's success body.
pub(crate) fn parse_token_response(r: &Received<'_>) -> Result<Token> {
    let raw: RawToken = serde_json::from_slice(r.body).map_err(|e| {
        Error::invalid_response(r.status, format!("token response is not JSON: {e}"), r.body)
    })?;
    let access_token = match raw.access_token {
        Some(t) if !t.trim().is_empty() => t,
        _ => {
            return Err(Error::invalid_response(
                r.status,
                "token response has no access_token",
                r.body,
            ));
        }
    };
    let claims = decode_claims(&access_token).unwrap_or_default();
    let lifetime = lifetime(
        &claims,
        raw.expires_in.as_ref(),
        raw.access_token_expires_at.as_deref(),
        r.date,
        r.wall,
    );
    Ok(Token::assemble(
        TokenParts {
            access_token,
            token_type: raw.token_type,
            refresh_token: raw.refresh_token.filter(|t| !t.is_empty()),
            id_token: raw.id_token.filter(|t| !t.is_empty()),
            scope: raw.scope,
        },
        lifetime,
        r.at,
        r.wall,
    ))
}

/// The expiry rule: the JWT `exp` when there is one, else a plausible `expires_in`, else an
/// absolute expiry the server sent, else [`DEFAULT_LIFETIME`].
fn lifetime(
    claims: &Map<String, Value>,
    expires_in: Option<&Value>,
    legacy_expires_at: Option<&str>,
    date: Option<SystemTime>,
    wall: SystemTime,
) -> Duration {
    let server_now = date.unwrap_or(wall);
    let expires_in = expires_in.and_then(number);
    let plausible = expires_in
        .filter(|s| (1.0..=MAX_LIFETIME.as_secs_f64()).contains(s))
        .map(Duration::from_secs_f64);
    let until = |t: SystemTime| {
        t.duration_since(server_now)
            .ok()
            .filter(|d| !d.is_zero() && *d <= MAX_LIFETIME)
    };
    if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
        let iat = claims.get("iat").and_then(Value::as_f64);
        let from_claims = match iat {
            // The server's own clock on both ends: immune to a wrong clock here or there.
            Some(iat) if exp > iat => {
                // Saturating: `exp - iat` may be past `Duration::MAX` (or infinite); it is
                // capped at MAX_LIFETIME below. Found by fuzzing, as `from_secs_f64` panicked.
                let issued_for = Duration::try_from_secs_f64(exp - iat).unwrap_or(Duration::MAX);
                // A token issued earlier and handed out again has less left than it was
                // issued for: the response's Date (the same server clock) tells how much.
                let left = date.and_then(|_| epoch_secs(exp)).and_then(until);
                // Less than a nanosecond rounds to zero: no believable lifetime, fall through.
                Some(left.map_or(issued_for, |l| l.min(issued_for))).filter(|l| !l.is_zero())
            }
            _ => epoch_secs(exp).and_then(until),
        };
        if let Some(l) = from_claims {
            // JWT times are whole seconds: give one back so we never overshoot the real expiry.
            let l = if l >= Duration::from_secs(2) {
                l - Duration::from_secs(1)
            } else {
                l
            };
            let l = plausible.map_or(l, |p| p.min(l));
            return l.min(MAX_LIFETIME);
        }
    }
    if let Some(p) = plausible {
        return p;
    }
    // A huge `expires_in` is an absolute time (the spec's own example sends epoch milliseconds).
    if let Some(n) = expires_in {
        let absolute = if n > 1e12 { n / 1000.0 } else { n };
        if let Some(l) = epoch_secs(absolute).and_then(until) {
            return l;
        }
    }
    if let Some(l) = legacy_expires_at
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .and_then(until)
    {
        return l;
    }
    DEFAULT_LIFETIME
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn epoch_secs(secs: f64) -> Option<SystemTime> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d))
}

/// Decodes a JWT's payload without verifying it. `None` when the token is not a JWT.
pub fn decode_claims(token: &str) -> Option<Map<String, Value>> {
    decode_segment(token, 1)
}

/// Decodes a JWT's header without verifying it. `None` when the token is not a JWT.
pub fn decode_header(token: &str) -> Option<Map<String, Value>> {
    decode_segment(token, 0)
}

fn decode_segment(token: &str, index: usize) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let segment = if index == 0 { header } else { payload };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn jwt(claims: Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn received(body: &Value, date: Option<SystemTime>) -> Token {
        let bytes = body.to_string().into_bytes();
        parse_token_response(&Received {
            status: 200,
            body: &bytes,
            date,
            at: Instant::now(),
            wall: SystemTime::now(),
        })
        .unwrap()
    }

    fn now_secs() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .floor()
    }

    #[test]
    fn jwt_exp_minus_iat_wins_over_expires_in() {
        let now = now_secs();
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"iat": now, "exp": now + 600.0})), "expires_in": 3600}),
            None,
        );
        assert_eq!(t.lifetime(), Duration::from_secs(599));
    }

    #[test]
    fn a_wrong_server_clock_does_not_shorten_the_lifetime() {
        // Server clock a day behind: exp is "in the past" for us, but exp - iat is still 1 h.
        let skewed = now_secs() - 86_400.0;
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"iat": skewed, "exp": skewed + 3600.0}))}),
            None,
        );
        assert_eq!(t.lifetime(), Duration::from_secs(3599));
    }

    #[test]
    fn jwt_exp_without_iat_is_measured_against_the_server_date() {
        let date = SystemTime::now() - Duration::from_secs(7200);
        let exp = date
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .floor()
            + 120.0;
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"exp": exp}))}),
            Some(UNIX_EPOCH + Duration::from_secs_f64(exp - 120.0)),
        );
        assert_eq!(t.lifetime(), Duration::from_secs(119));
    }

    #[test]
    fn a_token_handed_out_again_counts_only_what_it_has_left() {
        let now = now_secs();
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"iat": now - 3000.0, "exp": now + 600.0}))}),
            Some(UNIX_EPOCH + Duration::from_secs_f64(now)),
        );
        assert_eq!(t.lifetime(), Duration::from_secs(599));
    }

    #[test]
    fn plausible_expires_in_is_used_for_opaque_tokens() {
        let t = received(
            &serde_json::json!({"access_token": "opaque", "expires_in": "1800"}),
            None,
        );
        assert_eq!(t.lifetime(), Duration::from_secs(1800));
    }

    #[test]
    fn the_specs_epoch_millisecond_example_falls_back_to_the_default() {
        let t = received(
            &serde_json::json!({"access_token": "opaque", "expires_in": 1_438_315_200_000_i64}),
            None,
        );
        assert_eq!(t.lifetime(), DEFAULT_LIFETIME);
    }

    #[test]
    fn a_future_epoch_in_expires_in_is_read_as_an_absolute_time() {
        let t = received(
            &serde_json::json!({"access_token": "opaque", "expires_in": (now_secs() + 900.0) * 1000.0}),
            None,
        );
        assert!(t.lifetime() <= Duration::from_secs(900));
        assert!(t.lifetime() >= Duration::from_secs(895));
    }

    #[test]
    fn legacy_expires_at_is_accepted() {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(600);
        let s = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let t = received(
            &serde_json::json!({"access_token": "opaque", "access_token_expires_at": s}),
            None,
        );
        assert!(t.lifetime() > Duration::from_secs(590));
        assert!(t.lifetime() <= Duration::from_secs(600));
    }

    #[test]
    fn zero_or_negative_expires_in_never_means_forever_or_never() {
        for v in [serde_json::json!(0), serde_json::json!(-5), Value::Null] {
            let t = received(
                &serde_json::json!({"access_token": "opaque", "expires_in": v}),
                None,
            );
            assert_eq!(t.lifetime(), DEFAULT_LIFETIME);
        }
    }

    #[test]
    fn lowercase_bearer_is_normalised() {
        let t = received(
            &serde_json::json!({"access_token": "abc", "token_type": "bearer", "expires_in": 60}),
            None,
        );
        assert_eq!(t.authorization_header(), "Bearer abc");
    }

    #[test]
    fn missing_access_token_is_an_invalid_response() {
        let body = br#"{"token_type": "Bearer"}"#;
        let err = parse_token_response(&Received {
            status: 200,
            body,
            date: None,
            at: Instant::now(),
            wall: SystemTime::now(),
        })
        .unwrap_err();
        assert_eq!(err.kind(), "InvalidResponseError");
    }

    #[test]
    fn claims_are_decoded_and_reprs_hide_the_token() {
        let token = jwt(serde_json::json!({"sub": "OQx", "exp": 1}));
        let t =
            Token::new(token.clone(), Duration::from_secs(60)).with_refresh_token("refresh-secret");
        assert_eq!(t.claims()["sub"], "OQx");
        let shown = format!("{t} {t:?}");
        assert!(!shown.contains(&token));
        assert!(!shown.contains("refresh-secret"));
    }

    /// Regression (fuzz/corpus/jwt_claims/regression-exp-minus-iat-*): `exp - iat` past
    /// `Duration::MAX`, infinite, or under a nanosecond once panicked or gave a zero lifetime.
    #[test]
    fn absurd_exp_minus_iat_neither_panics_nor_gives_a_zero_lifetime() {
        for (claims, expires_in) in [
            (
                r#"{"iat":11111111111111111111111111, "exp": 1731658111111111444444444444444444444444444444444444444444444444444444444444444444444444444444444411}"#,
                None,
            ),
            (r#"{"iat":-1e308,"exp":1e308}"#, Some(3600)),
            (r#"{"iat":0,"exp":1e-10}"#, None),
        ] {
            let token = format!(
                "{}.{}.sig",
                URL_SAFE_NO_PAD.encode(b"{}"),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let t = received(
                &serde_json::json!({"access_token": token, "expires_in": expires_in}),
                None,
            );
            assert!(t.lifetime() > Duration::ZERO, "{claims}");
            assert!(t.lifetime() <= MAX_LIFETIME, "{claims}");
        }
    }

    /// Regression (fuzz/corpus/stored_token/regression-expires-at-past-systemtime.json): a
    /// stored expiry that `Duration` holds but `SystemTime` does not once panicked on load.
    #[test]
    fn a_stored_expiry_past_the_clocks_range_reads_as_expired() {
        for expires_at in ["1e19", "9223372036854775807", "1.8e19", "1e300"] {
            let json = format!(
                r#"{{"schema_version":1,"access_token":"a","token_type":"Bearer","expires_at":{expires_at}}}"#
            );
            let t = Token::from_json(&json).unwrap();
            assert!(t.is_expired(), "{expires_at}");
        }
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let t = Token::new("abc", Duration::from_secs(600)).with_refresh_token("r");
        let back = Token::from_json(&t.to_json()).unwrap();
        assert_eq!(back.access_token().secret(), "abc");
        assert_eq!(back.refresh_token().unwrap().secret(), "r");
        assert!(back.expires_in() > Duration::from_secs(590));
        assert_eq!(back.lifetime(), Duration::from_secs(600));
    }
}
