//! The one error tree of the crate, shared by every language binding.
//!
//! Messages never contain a secret: request bodies are never echoed, and server bodies are kept
//! only as short, sanitised excerpts.

use std::time::Duration;


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
