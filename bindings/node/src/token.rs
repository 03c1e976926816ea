//! `Token` and `DeviceAuthorization` as native classes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi_derive::napi;
use serde_json::Value;
use twilio_oauth::{DeviceAuthorization, Token, preview};

use crate::error::{check, config};

/// Milliseconds since the Unix epoch, for `new Date(ms)`.
fn epoch_ms(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64() * 1000.0,
        Err(e) => -(e.duration().as_secs_f64() * 1000.0),
    }
}

/// A number of seconds from JavaScript as a duration (`ConfigError` when negative or not
/// finite).
pub(crate) fn seconds(name: &str, value: f64) -> napi::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| config(format!("{name} must be a non-negative number of seconds")))
}

/// An access token with its companions and its expiry (the core's `Token`).
#[napi]
pub struct NativeToken {
    pub(crate) inner: Token,
}

impl NativeToken {
    pub(crate) fn new(inner: Token) -> Self {
        Self { inner }
    }
}

/// The identity of a token: the address of its shared access-token string. Two clones of
/// one token share it; two live tokens never do.
pub(crate) fn token_id(token: &Token) -> f64 {
    token.access_token().secret().as_ptr() as usize as f64
}

#[napi]
impl NativeToken {
    /// A token obtained elsewhere, valid for `expires_in` seconds from now.
    #[napi(factory)]
    pub fn from_access_token(access_token: String, expires_in: f64) -> napi::Result<Self> {
        if access_token.is_empty() {
            return Err(config("access token must not be empty"));
        }
        Ok(Self::new(Token::new(
            access_token,
            seconds("expiresIn", expires_in)?,
        )))
    }

    /// Reads a token written by `serialize()`.
    #[napi(factory)]
    pub fn deserialize(json: String) -> napi::Result<Self> {
        check(Token::from_json(&json)).map(Self::new)
    }

    /// The whole token, secrets included, as JSON for a token store.
    #[napi]
    pub fn serialize(&self) -> String {
        self.inner.to_json()
    }

    /// Identity of the underlying token (equal for the same token, across calls).
    #[napi(getter)]
    pub fn id(&self) -> f64 {
        token_id(&self.inner)
    }

    /// The access token.
    #[napi(getter)]
    pub fn access_token(&self) -> String {
        self.inner.access_token().secret().to_owned()
    }

    /// The token type (`Bearer`).
    #[napi(getter)]
    pub fn token_type(&self) -> String {
        self.inner.token_type().to_owned()
    }

    /// The refresh token, when the grant issued one.
    #[napi(getter)]
    pub fn refresh_token(&self) -> Option<String> {
        self.inner.refresh_token().map(|t| t.secret().to_owned())
    }

    /// The OpenID Connect id token, when the grant issued one.
    #[napi(getter)]
    pub fn id_token(&self) -> Option<String> {
        self.inner.id_token().map(|t| t.secret().to_owned())
    }

    /// The granted scope, when known.
    #[napi(getter)]
    pub fn scope(&self) -> Option<String> {
        self.inner.scope().map(str::to_owned)
    }

    /// When the token expires, in milliseconds since the epoch.
    #[napi(getter)]
    pub fn expires_at_ms(&self) -> f64 {
        epoch_ms(self.inner.expires_at())
    }

    /// When the token was issued (the JWT `iat`, else when it arrived), in milliseconds since
    /// the epoch.
    #[napi(getter)]
    pub fn issued_at_ms(&self) -> f64 {
        epoch_ms(self.inner.issued_at())
    }

    /// Whose token it is: the access token's JWT `sub`, else the id token's.
    #[napi(getter)]
    pub fn subject(&self) -> Option<String> {
        self.inner.subject()
    }

    /// The lifetime the token had when received, in seconds.
    #[napi(getter)]
    pub fn lifetime(&self) -> f64 {
        self.inner.lifetime().as_secs_f64()
    }

    /// Seconds left before expiry (zero once expired).
    #[napi]
    pub fn expires_in(&self) -> f64 {
        self.inner.expires_in().as_secs_f64()
    }

    /// True once the token has expired.
    #[napi]
    pub fn is_expired(&self) -> bool {
        self.inner.is_expired()
    }

    /// The access token's JWT claims, unverified; empty when it is not a JWT.
    #[napi]
    pub fn claims(&self) -> Value {
        Value::Object(self.inner.claims().clone())
    }

    /// `"Bearer <access token>"`.
    #[napi]
    pub fn authorization_header(&self) -> String {
        self.inner.authorization_header()
    }

    /// The core's redacted display form: `Bearer eyJhbGci…(812 chars) (expires in 3599s)`.
    #[napi]
    pub fn display(&self) -> String {
        self.inner.to_string()
    }

    /// A short preview of the access token (`eyJhbGci…(812 chars)`).
    #[napi(getter)]
    pub fn access_token_preview(&self) -> String {
        preview(self.inner.access_token().secret())
    }
}

/// The answer of `/v1/device/code` (the core's `DeviceAuthorization`).
#[napi]
pub struct NativeDevice {
    pub(crate) inner: DeviceAuthorization,
}

#[napi]
impl NativeDevice {
    /// The device code (secret).
    #[napi(getter)]
    pub fn device_code(&self) -> String {
        self.inner.device_code().secret().to_owned()
    }

    /// The code the user types on the verification page.
    #[napi(getter)]
    pub fn user_code(&self) -> String {
        self.inner.user_code().to_owned()
    }

    /// Where the user goes to approve.
    #[napi(getter)]
    pub fn verification_uri(&self) -> String {
        self.inner.verification_uri().to_owned()
    }

    /// The verification URL with the user code filled in, when sent.
    #[napi(getter)]
    pub fn verification_uri_complete(&self) -> Option<String> {
        self.inner.verification_uri_complete().map(str::to_owned)
    }

    /// The minimum time between polls, in seconds.
    #[napi(getter)]
    pub fn interval(&self) -> f64 {
        self.inner.interval().as_secs_f64()
    }

    /// When the codes expire, in milliseconds since the epoch.
    #[napi(getter)]
    pub fn expires_at_ms(&self) -> f64 {
        epoch_ms(self.inner.expires_at())
    }

    /// Seconds left before the codes expire.
    #[napi]
    pub fn expires_in(&self) -> f64 {
        self.inner.expires_in().as_secs_f64()
    }

    /// A short preview of the device code.
    #[napi(getter)]
    pub fn device_code_preview(&self) -> String {
        preview(self.inner.device_code().secret())
    }
}
