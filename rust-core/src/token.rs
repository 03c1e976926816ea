//! `Token`: an access token with its companions and its expiry. Parsing lives in `wire`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};

use crate::clock::{Clock, SystemClock};
use crate::secret::{AccessToken, IdToken, RefreshToken, preview};
use crate::wire::epoch_secs;
use crate::wire::jwt::decode_claims;

/// The longest lifetime we believe (Twilio allows up to 30 days).
pub const MAX_LIFETIME: Duration = Duration::from_secs(31 * 24 * 3600);
/// The lifetime assumed when a response says nothing believable about expiry: short enough to be
/// safe, long enough that an odd field never makes us refetch on every call.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

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
    pub(crate) fn as_str(self) -> &'static str {
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
pub struct Token(pub(crate) Arc<TokenData>);

pub(crate) struct TokenData {
    pub(crate) access_token: AccessToken,
    pub(crate) token_type: String,
    pub(crate) refresh_token: Option<RefreshToken>,
    pub(crate) id_token: Option<IdToken>,
    pub(crate) scope: Option<String>,
    pub(crate) claims: Map<String, Value>,
    pub(crate) lifetime: Duration,
    /// Monotonic deadline: what every freshness decision uses.
    pub(crate) valid_until: Instant,
    /// Wall-clock estimate of the same moment, for people and for persistence.
    pub(crate) expires_at: SystemTime,
    /// When it was issued: the JWT `iat` when there is one, else when it arrived.
    pub(crate) issued_at: SystemTime,
    /// The endpoint that issued it (refresh tokens go back there).
    pub(crate) issuer: Issuer,
    /// The `DeviceId` its refresh token is bound to (v1 device logins that sent one).
    pub(crate) device_id: Option<String>,
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
            SystemClock.now(),
            SystemClock.system_time(),
        )
    }

    /// A token a caller hands in (the bindings' `Token(...)` constructors): the access token
    /// must not be empty, `expires_in` is seconds from now (one rule:
    /// [`crate::runtime::seconds`]), and an empty refresh token counts as none.
    pub fn from_access_token(
        access_token: &str,
        expires_in: f64,
        refresh_token: Option<&str>,
    ) -> crate::Result<Token> {
        if access_token.trim().is_empty() {
            return Err(crate::Error::Config {
                message: "access token must not be empty".into(),
            });
        }
        let token = Token::new(
            access_token,
            crate::runtime::seconds("expires_in", expires_in)?,
        );
        Ok(match refresh_token.filter(|r| !r.trim().is_empty()) {
            Some(r) => token.with_refresh_token(r),
            None => token,
        })
    }

    /// The same token with a refresh token attached.
    pub fn with_refresh_token(self, refresh_token: impl Into<String>) -> Self {
        let mut data = self.into_data();
        data.refresh_token = Some(RefreshToken::new(refresh_token));
        Token(Arc::new(data))
    }

    pub(crate) fn into_data(self) -> TokenData {
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

    pub(crate) fn assemble(
        parts: TokenParts,
        lifetime: Duration,
        now: Instant,
        wall: SystemTime,
    ) -> Self {
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

    /// True when `other` is this very token (a clone of it), not merely an equal one: one
    /// pointer comparison, for callers that keep what they derived from the last token.
    pub fn is_same(&self, other: &Token) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
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
        self.expires_in_at(SystemClock.now())
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

/// The fields of a token endpoint's answer, before expiry is worked out.
pub(crate) struct TokenParts {
    pub(crate) access_token: String,
    pub(crate) token_type: Option<String>,
    pub(crate) refresh_token: Option<String>,
    pub(crate) id_token: Option<String>,
    pub(crate) scope: Option<String>,
}
