//! `Token`, `DeviceAuthorization` and `AuthorizationRequest`: objects (not records), so that
//! their secrets are read through methods and never appear in `toString()` / `description`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::{one_of, secs};
use crate::{Result, call_sync};

/// An access token with its companions and its expiry.
///
/// `toString()` / `description` show a short preview (`Bearer eyJhbGci…(812 chars) (expires in
/// 3599s)`), never a token in full.
#[derive(uniffi::Object)]
#[uniffi::export(Debug, Display)]
pub struct Token(pub(crate) twilio_oauth::Token);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Token {
    pub(crate) fn wrap(token: twilio_oauth::Token) -> Arc<Self> {
        Arc::new(Self(token))
    }
}

#[uniffi::export]
impl Token {
    /// A token obtained elsewhere, valid for `expiresIn` from now (JWT claims are read from the
    /// access token when it is a JWT). An empty access token, or a lifetime that is negative or
    /// longer than a year, is a `Config` error. `expiresInSeconds` is the deprecated form of
    /// `expiresIn`, in seconds: give one of them.
    #[uniffi::constructor(default(expires_in_seconds = None, refresh_token = None, expires_in = None))]
    pub fn new(
        access_token: String,
        expires_in_seconds: Option<f64>,
        refresh_token: Option<String>,
        expires_in: Option<Duration>,
    ) -> Result<Arc<Self>> {
        call_sync(|| {
            let lifetime = one_of(
                ("expiresIn", secs(expires_in)),
                ("expiresInSeconds", expires_in_seconds),
            )?
            .ok_or_else(|| twilio_oauth::Error::Config {
                message: "a token needs its lifetime: give expiresIn".into(),
            })?;
            twilio_oauth::Token::from_access_token(
                &access_token,
                lifetime,
                refresh_token.as_deref(),
            )
        })
        .map(Self::wrap)
    }

    /// Reads a token written by [`Token::to_json`] (for a `TokenStore`): the time left is
    /// derived from the wall clock. A malformed string is a `Store` error.
    #[uniffi::constructor]
    pub fn from_json(json: String) -> Result<Arc<Self>> {
        call_sync(|| twilio_oauth::Token::from_json(&json)).map(Self::wrap)
    }

    /// The whole token, secrets included, as JSON for a `TokenStore` (Keychain, Keystore-backed
    /// storage). Keep it as secret as the token itself.
    pub fn to_json(&self) -> String {
        self.0.to_json()
    }

    /// The access token itself (secret: never log it).
    pub fn access_token(&self) -> String {
        self.0.access_token().secret().to_owned()
    }

    /// The token type, normalised so that `bearer` reads `Bearer`.
    pub fn token_type(&self) -> String {
        self.0.token_type().to_owned()
    }

    /// The refresh token, when the grant issued one (secret).
    pub fn refresh_token(&self) -> Option<String> {
        self.0.refresh_token().map(|t| t.secret().to_owned())
    }

    /// The OpenID Connect id token, when the grant issued one (secret).
    pub fn id_token(&self) -> Option<String> {
        self.0.id_token().map(|t| t.secret().to_owned())
    }

    /// The granted scope, when the server said or the JWT carries one.
    pub fn scope(&self) -> Option<String> {
        self.0.scope().map(str::to_owned)
    }

    /// When the token expires, on the wall clock.
    pub fn expires_at(&self) -> SystemTime {
        self.0.expires_at()
    }

    /// Time left before the token expires (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.0.expires_in()
    }

    /// How long the token was valid for when issued.
    pub fn lifetime(&self) -> Duration {
        self.0.lifetime()
    }

    /// When the token was issued (the JWT `iat`, else when it arrived).
    pub fn issued_at(&self) -> SystemTime {
        self.0.issued_at()
    }

    /// Whose token it is: the access token's JWT `sub`, else the id token's.
    pub fn subject(&self) -> Option<String> {
        self.0.subject()
    }

    /// True once the token has expired.
    pub fn is_expired(&self) -> bool {
        self.0.is_expired()
    }

    /// The access token's JWT claims (unverified), empty when it is not a JWT. String claims are
    /// given as they are; other values as JSON (`"exp"` → `"1767225600"`).
    pub fn claims(&self) -> HashMap<String, String> {
        self.0
            .claims()
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }

    /// The access token's JWT claims (unverified) as one JSON object, `{}` when not a JWT.
    pub fn claims_json(&self) -> String {
        serde_json::Value::Object(self.0.claims().clone()).to_string()
    }

    /// `"Bearer <access token>"` (secret).
    pub fn authorization_header(&self) -> String {
        self.0.authorization_header()
    }
}

/// The answer of the device authorization request: what to show the user, and the device code
/// (secret) to poll with.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct DeviceAuthorization(pub(crate) twilio_oauth::DeviceAuthorization);

#[uniffi::export]
impl DeviceAuthorization {
    /// The device code (secret: never show it).
    pub fn device_code(&self) -> String {
        self.0.device_code().secret().to_owned()
    }

    /// The code the user types on the verification page.
    pub fn user_code(&self) -> String {
        self.0.user_code().to_owned()
    }

    /// Where the user goes to approve.
    pub fn verification_uri(&self) -> String {
        self.0.verification_uri().to_owned()
    }

    /// The verification URL with the user code filled in (for a QR code), when sent.
    pub fn verification_uri_complete(&self) -> Option<String> {
        self.0.verification_uri_complete().map(str::to_owned)
    }

    /// The minimum time between polls the server asked for.
    pub fn interval(&self) -> Duration {
        self.0.interval()
    }

    /// How long the codes were valid for when issued.
    pub fn lifetime(&self) -> Duration {
        self.0.lifetime()
    }

    /// When the codes expire, on the wall clock.
    pub fn expires_at(&self) -> SystemTime {
        self.0.expires_at()
    }

    /// Time left before the codes expire.
    pub fn expires_in(&self) -> Duration {
        self.0.expires_in()
    }
}

/// What `authorizationUrl` returns: the URL to open in a browser, the `state` the redirect must
/// carry back, and the PKCE `codeVerifier` (secret) for `exchangeCode`.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct AuthorizationRequest(pub(crate) twilio_oauth::AuthorizationRequest);

#[uniffi::export]
impl AuthorizationRequest {
    /// The `/v2/authorize` URL with `code_challenge` and `code_challenge_method=S256`.
    pub fn url(&self) -> String {
        self.0.url.clone()
    }

    /// The `state` value the redirect must carry back.
    pub fn state(&self) -> String {
        self.0.state.clone()
    }

    /// The PKCE verifier to send with `exchangeCode` (secret).
    pub fn code_verifier(&self) -> String {
        self.0.code_verifier.secret().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_survives_json_and_hides_its_secret() {
        let t = Token::new(
            "opaque-access-value".into(),
            None,
            Some("refresh-value".into()),
            Some(Duration::from_secs(60)),
        )
        .unwrap();
        let back = Token::from_json(t.to_json()).unwrap();
        assert_eq!(back.access_token(), "opaque-access-value");
        assert_eq!(back.refresh_token().as_deref(), Some("refresh-value"));
        for shown in [format!("{back}"), format!("{back:?}")] {
            assert!(!shown.contains("opaque-access-value"), "{shown}");
            assert!(!shown.contains("refresh-value"), "{shown}");
        }
    }

    #[test]
    fn a_token_is_checked_once_by_the_core_under_either_lifetime_name() {
        let old = Token::new("opaque".into(), Some(90.0), None, None).unwrap();
        assert!(
            old.lifetime() > Duration::from_secs(89),
            "{:?}",
            old.lifetime()
        );
        for (access, seconds, lifetime, why) in [
            (
                "",
                None,
                Some(Duration::from_secs(60)),
                "access token must not be empty",
            ),
            (
                "opaque",
                Some(-1.0),
                None,
                "expires_in must be a number of seconds",
            ),
            (
                "opaque",
                Some(f64::NAN),
                None,
                "expires_in must be a number of seconds",
            ),
            ("opaque", None, None, "give expiresIn"),
            (
                "opaque",
                Some(1.0),
                Some(Duration::from_secs(1)),
                "not both",
            ),
        ] {
            let e = Token::new(access.into(), seconds, None, lifetime).unwrap_err();
            assert_eq!(e.kind(), "ConfigError", "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn malformed_json_is_a_store_error() {
        assert_eq!(
            Token::from_json("{".into()).unwrap_err().kind(),
            "StoreError"
        );
    }
}
