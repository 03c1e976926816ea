//! `Token`, `DeviceAuthorization` and `AuthorizationRequest`: the core's objects as classes.

use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{Either, Function, JsObjectValue, JsValue, Object, Undefined};
use napi::{Env, JsDate};
use napi_derive::napi;
use serde_json::Value;
use twilio_oauth::preview;

use crate::error::guarded;

/// Lifetime of `Token.fromAccessToken(token)` when none is given, in seconds.
pub const DEFAULT_EXPIRES_IN: f64 = 3600.0;

/// A value, or `undefined` when absent (what a missing field reads as in JavaScript).
pub(crate) fn maybe<T>(value: Option<T>) -> Either<T, Undefined> {
    value.map_or(Either::B(()), Either::A)
}

/// A wall-clock time as a JavaScript `Date`.
pub(crate) fn date(env: &Env, t: SystemTime) -> napi::Result<JsDate<'_>> {
    let ms = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64() * 1000.0,
        Err(e) => -(e.duration().as_secs_f64() * 1000.0),
    };
    env.create_date(ms)
}

/// A wall-clock time as an ISO 8601 string (`Date.prototype.toISOString`).
fn iso(env: &Env, t: SystemTime) -> napi::Result<String> {
    let d = date(env, t)?;
    let to_iso: Function<'_, (), String> = d.get_named_property("toISOString")?;
    to_iso.apply(d.to_unknown(), ())
}

/// Options of `Token.fromAccessToken`.
#[napi(object)]
#[derive(Default)]
pub struct FromAccessTokenOptions {
    /// Seconds from now until the token expires (default 3600).
    pub expires_in: Option<f64>,
    /// The refresh token that came with it, if any: a provider given this token renews it
    /// with the refresh token instead of asking the person to sign in again.
    pub refresh_token: Option<String>,
}

/// An access token with its companions and its expiry. `String()`, `JSON.stringify` and
/// `util.inspect` never show a secret in full.
#[napi]
pub struct Token {
    pub(crate) inner: twilio_oauth::Token,
}

impl Token {
    pub(crate) fn new(inner: twilio_oauth::Token) -> Self {
        Self { inner }
    }
}

#[napi]
impl Token {
    /// A token obtained elsewhere: `Token.fromAccessToken(accessToken, expiresIn)` or
    /// `Token.fromAccessToken(accessToken, { expiresIn, refreshToken })` (seconds from now,
    /// default 3600). An empty access token is a `ConfigError`.
    #[napi(factory, writable = true, configurable = true)]
    pub fn from_access_token(
        env: &Env,
        access_token: String,
        expires_in: Option<Either<f64, FromAccessTokenOptions>>,
    ) -> napi::Result<Self> {
        let (expires_in, refresh_token) = match expires_in {
            Some(Either::A(secs)) => (secs, None),
            Some(Either::B(o)) => (o.expires_in.unwrap_or(DEFAULT_EXPIRES_IN), o.refresh_token),
            None => (DEFAULT_EXPIRES_IN, None),
        };
        guarded(env, || {
            twilio_oauth::Token::from_access_token(
                &access_token,
                expires_in,
                refresh_token.as_deref(),
            )
        })
        .map(Self::new)
    }

    /// Reads a token written by `token.toJson()` (for token stores); a `StoreError` when the
    /// text is not one.
    #[napi(factory, writable = true, configurable = true)]
    pub fn from_json(env: &Env, json: String) -> napi::Result<Self> {
        guarded(env, || twilio_oauth::Token::from_json(&json)).map(Self::new)
    }

    /// @deprecated Use `Token.fromJson`.
    #[napi(factory, writable = true, configurable = true)]
    pub fn deserialize(env: &Env, json: String) -> napi::Result<Self> {
        Self::from_json(env, json)
    }

    /// The whole token, secrets included, as JSON for a token store. Keep it secret.
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// @deprecated Use `token.toJson()`.
    #[napi]
    pub fn serialize(&self) -> String {
        self.to_json()
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
    pub fn refresh_token(&self) -> Either<String, Undefined> {
        maybe(self.inner.refresh_token().map(|t| t.secret().to_owned()))
    }

    /// The OpenID Connect id token, when the grant issued one.
    #[napi(getter)]
    pub fn id_token(&self) -> Either<String, Undefined> {
        maybe(self.inner.id_token().map(|t| t.secret().to_owned()))
    }

    /// The granted scope, when known.
    #[napi(getter)]
    pub fn scope(&self) -> Either<String, Undefined> {
        maybe(self.inner.scope().map(str::to_owned))
    }

    /// When the token expires (wall clock).
    #[napi(getter)]
    pub fn expires_at<'env>(&self, env: &'env Env) -> napi::Result<JsDate<'env>> {
        date(env, self.inner.expires_at())
    }

    /// When the token was issued (the JWT `iat`, else when it arrived).
    #[napi(getter)]
    pub fn issued_at<'env>(&self, env: &'env Env) -> napi::Result<JsDate<'env>> {
        date(env, self.inner.issued_at())
    }

    /// Whose token it is: the access token's JWT `sub`, else the id token's.
    #[napi(getter)]
    pub fn subject(&self) -> Either<String, Undefined> {
        maybe(self.inner.subject())
    }

    /// The lifetime the token had when received, in seconds.
    #[napi(getter)]
    pub fn lifetime(&self) -> f64 {
        self.inner.lifetime().as_secs_f64()
    }

    /// Seconds left before expiry (0 once expired).
    #[napi]
    pub fn expires_in(&self) -> f64 {
        self.inner.expires_in().as_secs_f64()
    }

    /// True once the token has expired.
    #[napi]
    pub fn is_expired(&self) -> bool {
        self.inner.is_expired()
    }

    /// The access token's JWT claims, unverified; `{}` when it is not a JWT.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn claims(&self) -> Value {
        Value::Object(self.inner.claims().clone())
    }

    /// `"Bearer <access token>"`.
    #[napi]
    pub fn authorization_header(&self) -> String {
        self.inner.authorization_header()
    }

    /// `Bearer eyJhbGci…(812 chars) (expires in 3599s)`.
    #[napi(js_name = "toString")]
    pub fn display(&self) -> String {
        self.inner.to_string()
    }

    /// A redacted summary (what `JSON.stringify` writes and `util.inspect` shows).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, string>")]
    pub fn summary<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let mut out = Object::new(env)?;
        out.set_named_property("tokenType", self.inner.token_type())?;
        out.set_named_property("accessToken", preview(self.inner.access_token().secret()))?;
        if self.inner.refresh_token().is_some() {
            out.set_named_property("refreshToken", "[redacted]")?;
        }
        if self.inner.id_token().is_some() {
            out.set_named_property("idToken", "[redacted]")?;
        }
        if let Some(scope) = self.inner.scope() {
            out.set_named_property("scope", scope)?;
        }
        out.set_named_property("expiresAt", iso(env, self.inner.expires_at())?)?;
        Ok(out)
    }
}

/// The answer of the device-code request: what to show the user. `deviceCode` is secret:
/// readable, never shown.
#[napi]
pub struct DeviceAuthorization {
    pub(crate) inner: twilio_oauth::DeviceAuthorization,
}

#[napi]
impl DeviceAuthorization {
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

    /// The verification URL with the user code filled in, when the server sent one.
    #[napi(getter)]
    pub fn verification_uri_complete(&self) -> Either<String, Undefined> {
        maybe(self.inner.verification_uri_complete().map(str::to_owned))
    }

    /// Minimum seconds between polls.
    #[napi(getter)]
    pub fn interval(&self) -> f64 {
        self.inner.interval().as_secs_f64()
    }

    /// Seconds the codes were valid for when issued.
    #[napi(getter)]
    pub fn lifetime(&self) -> f64 {
        self.inner.lifetime().as_secs_f64()
    }

    /// When the codes expire (wall clock).
    #[napi(getter)]
    pub fn expires_at<'env>(&self, env: &'env Env) -> napi::Result<JsDate<'env>> {
        date(env, self.inner.expires_at())
    }

    /// Seconds left before the codes expire.
    #[napi]
    pub fn expires_in(&self) -> f64 {
        self.inner.expires_in().as_secs_f64()
    }

    /// `Open <verificationUri> and enter <userCode>`.
    #[napi(js_name = "toString")]
    pub fn display(&self) -> String {
        format!(
            "Open {} and enter {}",
            self.inner.verification_uri(),
            self.inner.user_code()
        )
    }

    /// A redacted summary (what `JSON.stringify` writes and `util.inspect` shows).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, string | number>")]
    pub fn summary<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let mut out = Object::new(env)?;
        out.set_named_property("userCode", self.inner.user_code())?;
        out.set_named_property("verificationUri", self.inner.verification_uri())?;
        if let Some(complete) = self.inner.verification_uri_complete() {
            out.set_named_property("verificationUriComplete", complete)?;
        }
        out.set_named_property("interval", self.interval())?;
        out.set_named_property("expiresAt", iso(env, self.inner.expires_at())?)?;
        out.set_named_property("deviceCode", preview(self.inner.device_code().secret()))?;
        Ok(out)
    }
}

/// What `authorizationUrl` returns. `codeVerifier` is secret: keep it (and `state`) for
/// `exchangeCode` after the redirect.
#[napi]
pub struct AuthorizationRequest {
    pub(crate) url: String,
    pub(crate) state: String,
    pub(crate) code_verifier: String,
}

#[napi]
impl AuthorizationRequest {
    /// The `/v2/authorize` URL to open.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The `state` the redirect must carry back.
    #[napi(getter)]
    pub fn state(&self) -> String {
        self.state.clone()
    }

    /// The PKCE verifier for `exchangeCode` (secret; redacted in `JSON.stringify` and
    /// `util.inspect`).
    #[napi(getter)]
    pub fn code_verifier(&self) -> String {
        self.code_verifier.clone()
    }

    /// The URL.
    #[napi(js_name = "toString")]
    pub fn display(&self) -> String {
        self.url.clone()
    }

    /// A redacted summary (what `JSON.stringify` writes and `util.inspect` shows).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, string>")]
    pub fn summary<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let mut out = Object::new(env)?;
        out.set_named_property("url", self.url.as_str())?;
        out.set_named_property("state", self.state.as_str())?;
        out.set_named_property("codeVerifier", "[redacted]")?;
        Ok(out)
    }
}
