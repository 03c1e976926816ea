//! The one error tree of the crate, shared by every language binding.
//!
//! Messages never contain a secret: request bodies are never echoed, and server bodies are kept
//! only as short, sanitised excerpts.

use std::time::Duration;

use serde_json::Value;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong. Each variant is one error kind of the public API
/// (`ConfigError`, `ApiError`, …), exported as its own class or case in every language.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad options: malformed `client_id`, empty secret, non-loopback `http://` URL, missing
    /// credentials for an endpoint.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The server answered with an error body.
    #[error("{0}")]
    Api(ApiError),
    /// The server kept answering 429 after all retries.
    #[error("rate limited: {0}")]
    RateLimited(ApiError),
    /// A user grant can no longer be refreshed (refused or reused refresh token, revoked grant,
    /// ended session, or no refresh token at all): the person must sign in again. Carries the
    /// server's answer. A provider for a person never falls back to an app token.
    #[error("sign in again: {0}")]
    LoginRequired(ApiError),
    /// Device flow: the user refused the authorization request.
    #[error("access denied: {message}")]
    AccessDenied {
        /// The server's description.
        message: String,
    },
    /// Device flow: the device code expired before the user approved it.
    #[error("device code expired: {message}")]
    ExpiredToken {
        /// The server's description, or why the client gave up.
        message: String,
    },
    /// Connect, TLS, reset or protocol failure.
    #[error("transport error: {message}")]
    Transport {
        /// What failed.
        message: String,
    },
    /// The request did not complete within the configured timeout.
    #[error("timed out: {message}")]
    Timeout {
        /// What timed out.
        message: String,
    },
    /// A 2xx answer whose body is not a usable token or device authorization.
    #[error("invalid response (HTTP {status}): {message}; body starts with {excerpt:?}")]
    InvalidResponse {
        /// The HTTP status.
        status: u16,
        /// Why the body was rejected.
        message: String,
        /// The first bytes of the body, sanitised.
        excerpt: String,
    },
    /// The caller cancelled the operation.
    #[error("cancelled")]
    Cancelled,
    /// A token store failed to load, save or delete.
    #[error("token store error: {message}")]
    Store {
        /// What failed.
        message: String,
    },
    /// A bug: a panic or a broken invariant inside the library, caught before it crossed a
    /// language boundary.
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

impl Error {
    /// The kind's public name, identical in every language (`"ApiError"`, `"TimeoutError"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config { .. } => "ConfigError",
            Error::Api(_) => "ApiError",
            Error::RateLimited(_) => "RateLimitedError",
            Error::LoginRequired(_) => "LoginRequiredError",
            Error::AccessDenied { .. } => "AccessDeniedError",
            Error::ExpiredToken { .. } => "ExpiredTokenError",
            Error::Transport { .. } => "TransportError",
            Error::Timeout { .. } => "TimeoutError",
            Error::InvalidResponse { .. } => "InvalidResponseError",
            Error::Cancelled => "CancelledError",
            Error::Store { .. } => "StoreError",
            Error::Internal { .. } => "TwilioOAuthError",
        }
    }

    /// The server's error details, for `ApiError`, `RateLimitedError` and
    /// `LoginRequiredError`.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) | Error::RateLimited(e) | Error::LoginRequired(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status the server answered with, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) | Error::RateLimited(e) | Error::LoginRequired(e) => Some(e.status),
            Error::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for errors worth retrying later (transport, timeout, 429, 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } | Error::RateLimited(_) => true,
            Error::Api(e) => e.status >= 500,
            _ => false,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// `LoginRequired` for a user provider that holds no refresh token at all (nothing was
    /// asked of the server): status 401 and the OpenID Connect error `login_required`.
    pub(crate) fn login_required(message: impl Into<String>) -> Self {
        Error::LoginRequired(ApiError {
            status: 401,
            error: Some("login_required".into()),
            message: message.into(),
            ..ApiError::default()
        })
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    /// A 2xx body we cannot use. Such a body may well carry a token or a device code, so both
    /// the message (serde errors quote values) and the excerpt go through [`redact`].
    pub(crate) fn invalid_response(status: u16, message: impl Into<String>, body: &[u8]) -> Self {
        Error::InvalidResponse {
            status,
            message: mask_token_like(&message.into()),
            excerpt: excerpt(body),
        }
    }
}

/// An error answer from the server, parsed from whichever body shape it used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Twilio's numeric error code (`321401`, `20003`, …).
    pub code: Option<i64>,
    /// The RFC 6749 error string (`invalid_grant`, `authorization_pending`, …).
    pub error: Option<String>,
    /// A human-readable message.
    pub message: String,
    /// Twilio's documentation link for the code.
    pub more_info: Option<String>,
    /// How long the server asked us to wait (`Retry-After`, or `throttled_until`).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// Parses an error answer: Twilio's body, RFC 6749, RFC 9457 problem details, or anything
    /// else (kept as a short excerpt).
    pub fn from_body(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let mut err = ApiError {
            status,
            retry_after,
            ..ApiError::default()
        };
        let parsed: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
        let Some(map) = parsed else {
            err.message = if body.is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                format!("HTTP {status}: {}", excerpt(body))
            };
            return err;
        };
        let text = |k: &str| match map.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(sanitize(s, 500)),
            _ => None,
        };
        // A server may echo the grant it refused ("refresh token rt_… is invalid"): prose
        // fields are masked like any other token-like text.
        let prose = |k: &str| text(k).map(|s| mask_token_like(&s));
        err.code = map.get("code").and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        err.error = text("error");
        err.more_info = text("more_info").or_else(|| text("type"));
        err.message = prose("message")
            .or_else(|| prose("error_description"))
            .or_else(|| prose("detail"))
            .or_else(|| prose("title"))
            .or_else(|| err.error.clone())
            .unwrap_or_else(|| format!("HTTP {status}"));
        if err.retry_after.is_none() {
            err.retry_after = map
                .get("throttled_until")
                .and_then(|v| v.as_str())
                .and_then(crate::transport::retry_after_from_date);
        }
        err
    }

    /// The RFC 6749 / RFC 8628 error string, also when a Twilio body carries it in `message`.
    pub fn oauth_error(&self) -> Option<&str> {
        const KNOWN: [&str; 6] = [
            "authorization_pending",
            "slow_down",
            "access_denied",
            "expired_token",
            "invalid_grant",
            "invalid_client",
        ];
        if let Some(e) = self.error.as_deref() {
            return Some(e);
        }
        let message = self.message.to_ascii_lowercase();
        KNOWN
            .into_iter()
            .find(|k| message.contains(k) || message.contains(&k.replace('_', " ")))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = self.code {
            write!(f, ", code {code}")?;
        }
        if let Some(e) = &self.error {
            write!(f, " ({e})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(more) = &self.more_info {
            write!(f, " (see {more})")?;
        }
        Ok(())
    }
}

/// The first bytes of a body, made printable and with anything that may be a secret masked.
pub(crate) fn excerpt(body: &[u8]) -> String {
    sanitize(&redact(body), 120)
}

/// Keys whose string values describe an answer rather than grant anything; every other string
/// value of a JSON body is masked, since a server may put a token under any name.
const DESCRIPTIVE_KEYS: &[&str] = &[
    "error",
    "error_description",
    "message",
    "detail",
    "title",
    "type",
    "more_info",
    "token_type",
    "scope",
    "status",
];

/// A body as safe text: JSON with every non-descriptive string value replaced by its length,
/// anything else with its token-like runs masked (which also covers truncated JSON).
pub(crate) fn redact(body: &[u8]) -> String {
    fn mask(v: &mut Value, key: Option<&str>) {
        match v {
            Value::String(s) if !key.is_some_and(|k| DESCRIPTIVE_KEYS.contains(&k)) => {
                *s = format!("…({} chars)", s.chars().count());
            }
            Value::String(s) => *s = mask_token_like(s),
            Value::Array(items) => items.iter_mut().for_each(|i| mask(i, key)),
            Value::Object(map) => map.iter_mut().for_each(|(k, i)| mask(i, Some(k))),
            _ => {}
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            mask(&mut v, None);
            v.to_string()
        }
        Err(_) => mask_token_like(&String::from_utf8_lossy(&body[..body.len().min(4096)])),
    }
}

/// Masks every run of at least 16 token characters (base64url, JWT dots, `~+/=%`) that holds
/// a digit: access tokens, refresh tokens, device codes and JWTs all do, prose does not.
pub(crate) fn mask_token_like(text: &str) -> String {
    fn is_token_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || "-_.~+/=%".contains(c)
    }
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 16 && run.bytes().any(|b| b.is_ascii_digit()) {
            out.push_str(&format!("…({} chars)", run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn sanitize(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_body_is_parsed() {
        let body = br#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#;
        let e = ApiError::from_body(401, body, None);
        assert_eq!(e.code, Some(20003));
        assert_eq!(e.message, "Authenticate");
        assert_eq!(
            e.more_info.as_deref(),
            Some("https://www.twilio.com/docs/errors/20003")
        );
    }

    #[test]
    fn rfc6749_body_is_parsed() {
        let body = br#"{"error": "invalid_grant", "error_description": "bad code"}"#;
        let e = ApiError::from_body(400, body, None);
        assert_eq!(e.error.as_deref(), Some("invalid_grant"));
        assert_eq!(e.message, "bad code");
    }

    #[test]
    fn rfc9457_body_is_parsed() {
        let body = br#"{"type": "https://example.com/probs/x", "title": "Bad", "status": 400, "code": 322403, "detail": "malformed"}"#;
        let e = ApiError::from_body(400, body, None);
        assert_eq!(e.code, Some(322403));
        assert_eq!(e.message, "malformed");
        assert_eq!(e.more_info.as_deref(), Some("https://example.com/probs/x"));
    }

    #[test]
    fn html_body_keeps_a_short_excerpt() {
        let body = format!("<html>{}</html>", "x".repeat(1000));
        let e = ApiError::from_body(502, body.as_bytes(), None);
        assert!(e.message.starts_with("HTTP 502: <html>"));
        assert!(e.message.len() < 200);
    }

    #[test]
    fn excerpts_never_carry_a_token() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJlMTIz";
        let bodies = [
            format!(r#"{{"access_token": "{jwt}", "token_type": 5}}"#),
            format!(r#"{{"access_token": "{jwt}"#),
            format!("access_token={jwt}&expires_in=3600"),
        ];
        for body in &bodies {
            // serde's messages quote values, so the message is masked too.
            let e = Error::invalid_response(200, format!("bad: {body}"), body.as_bytes());
            let text = e.to_string();
            assert!(!text.contains(jwt), "{text}");
            assert!(!text.contains("c2lnbmF0dXJlMTIz"), "{text}");
        }
        // In JSON every value under a key that may hold a secret goes, however short.
        let body = br#"{"nested": {"device_code": "dc-short"}, "list": ["abc"]}"#;
        let e = Error::invalid_response(200, "bad", body);
        assert!(!e.to_string().contains("dc-short"), "{e}");
        let e = Error::invalid_response(200, "x", br#"{"token_type": "Bearer", "error": "odd"}"#);
        assert!(e.to_string().contains("Bearer"), "{e}");
    }

    #[test]
    fn a_server_message_that_echoes_a_grant_is_masked() {
        let body = br#"{"error": "invalid_grant", "error_description": "refresh token rt_0123456789abcdefXYZ was already used"}"#;
        let e = ApiError::from_body(400, body, None);
        assert!(
            !e.message.contains("rt_0123456789abcdefXYZ"),
            "{}",
            e.message
        );
        assert!(e.message.contains("was already used"));
    }

    #[test]
    fn twilio_message_carries_the_oauth_error() {
        let e = ApiError::from_body(
            400,
            br#"{"code": 20001, "message": "authorization_pending", "status": 400}"#,
            None,
        );
        assert_eq!(e.oauth_error(), Some("authorization_pending"));
    }
}
