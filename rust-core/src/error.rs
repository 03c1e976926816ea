//! The one error tree of the crate, shared by every language binding.
//!
//! Messages never contain a secret: request bodies are never echoed, and server bodies are kept
//! only as short, sanitised excerpts.

use std::time::Duration;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong. Each variant is one error kind of the public API
/// (`ConfigError`, `ApiError`, …), exported as its own class or case in every language.
///
/// Deliberately exhaustive: a binding that matches on it must handle every kind, so a new kind
/// cannot be downgraded to a generic error by a wildcard arm.
#[derive(Debug, Clone, thiserror::Error)]
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

    /// The error as flat data, which every binding maps field by field onto its own error
    /// object. `message` is the human text in every language; the server's own words are in
    /// `server_message`.
    pub fn record(&self) -> ErrorRecord {
        let api = self.api();
        let excerpt = match self {
            Error::InvalidResponse { excerpt, .. } => Some(excerpt.clone()),
            _ => None,
        };
        ErrorRecord {
            kind: self.kind(),
            parent: parent_kind(self.kind()),
            message: self.to_string(),
            status: self.status(),
            code: api.and_then(|a| a.code),
            // A Twilio body names the RFC 6749 error in its message (`"invalid_grant: …"`).
            error: api.and_then(|a| a.oauth_error()).map(str::to_owned),
            server_message: api.map(|a| a.message.clone()),
            more_info: api.and_then(|a| a.more_info.clone()),
            retry_after: api.and_then(|a| a.retry_after).map(|d| d.as_secs_f64()),
            excerpt,
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
}

/// Every error kind with its parent, parents first: the tree each language builds its classes
/// (or cases) from. The root is `TwilioOAuthError`, which is also the kind of internal errors.
pub const ERROR_KINDS: &[(&str, Option<&str>)] = &[
    ("TwilioOAuthError", None),
    ("ConfigError", Some("TwilioOAuthError")),
    ("ApiError", Some("TwilioOAuthError")),
    ("RateLimitedError", Some("ApiError")),
    ("LoginRequiredError", Some("ApiError")),
    ("AccessDeniedError", Some("TwilioOAuthError")),
    ("ExpiredTokenError", Some("TwilioOAuthError")),
    ("TransportError", Some("TwilioOAuthError")),
    ("TimeoutError", Some("TwilioOAuthError")),
    ("InvalidResponseError", Some("TwilioOAuthError")),
    ("CancelledError", Some("TwilioOAuthError")),
    ("StoreError", Some("TwilioOAuthError")),
];

fn parent_kind(kind: &str) -> Option<&'static str> {
    ERROR_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .and_then(|(_, parent)| *parent)
}

/// An [`Error`] as flat, serializable data (see [`Error::record`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ErrorRecord {
    /// The kind's public name (`"ApiError"`, `"LoginRequiredError"`, …).
    pub kind: &'static str,
    /// The kind it specialises (`"ApiError"` for `"LoginRequiredError"`); `None` for the root.
    pub parent: Option<&'static str>,
    /// The human text: what the error says, secrets masked.
    pub message: String,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// Twilio's numeric error code.
    pub code: Option<i64>,
    /// The RFC 6749 error string (`invalid_grant`, …), from the body's `error` field or, in a
    /// Twilio body, its message.
    pub error: Option<String>,
    /// The server's own words (API errors only).
    pub server_message: Option<String>,
    /// Twilio's documentation link for the code.
    pub more_info: Option<String>,
    /// Seconds the server asked to wait before trying again.
    pub retry_after: Option<f64>,
    /// The start of an unusable body, sanitised (`InvalidResponseError`).
    pub excerpt: Option<String>,
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
