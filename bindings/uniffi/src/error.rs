//! The error tree: one `TwilioOAuthError` enum whose variants are the kinds of API.md.
//!
//! Kotlin sees a sealed `TwilioOAuthException` with one subclass per variant, Swift an `enum
//! TwilioOAuthError: Error`. Fields carry the server's details; messages never hold a secret
//! (the core guarantees that, and nothing here adds one).

use std::any::Any;

/// Everything that can go wrong, one variant per kind (`ConfigError` → `Config`, …).
#[derive(Debug, Clone, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum TwilioOAuthError {
    /// Bad options: malformed `clientId`, empty secret, non-loopback `http://` URL, missing
    /// credentials for an endpoint.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The server answered with an error body.
    #[error("{}", api_text(*status, *code, error.as_deref(), message, more_info.as_deref()))]
    Api {
        /// The HTTP status.
        status: u16,
        /// Twilio's numeric error code (`20003`, `321401`, …).
        code: Option<i64>,
        /// The RFC 6749 error string (`invalid_grant`, `invalid_client`, …).
        error: Option<String>,
        /// The server's human-readable message.
        message: String,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
    },
    /// The server kept answering 429 after all retries.
    #[error("rate limited: {}", api_text(*status, *code, error.as_deref(), message, more_info.as_deref()))]
    RateLimited {
        /// The HTTP status (429).
        status: u16,
        /// Twilio's numeric error code.
        code: Option<i64>,
        /// The RFC 6749 error string.
        error: Option<String>,
        /// The server's human-readable message.
        message: String,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
        /// How long the server asked the client to wait, in seconds.
        retry_after_seconds: Option<f64>,
    },
    /// A person's grant can no longer be refreshed (refused or reused refresh token, revoked
    /// grant, ended session, or no refresh token at all): sign the person in again. Carries the
    /// server's answer, as `Api` does. A provider for a person never falls back to an app
    /// token.
    #[error("sign in again: {}", api_text(*status, *code, error.as_deref(), message, more_info.as_deref()))]
    LoginRequired {
        /// The HTTP status (401 with error `login_required` when no request was made).
        status: u16,
        /// Twilio's numeric error code (`322403` for a refused refresh token).
        code: Option<i64>,
        /// The RFC 6749 error string (`invalid_grant`, or `login_required`).
        error: Option<String>,
        /// The server's human-readable message.
        message: String,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
    },
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
    /// The caller cancelled the operation (coroutine or `Task` cancellation).
    #[error("cancelled")]
    Cancelled,
    /// A token store failed to load, save or delete (also: a foreign store threw).
    #[error("token store error: {message}")]
    Store {
        /// What failed.
        message: String,
    },
    /// A bug inside the library (a panic or a broken invariant), caught before it crossed the
    /// language boundary.
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

/// Shorthand for the binding's results.
pub type Result<T, E = TwilioOAuthError> = std::result::Result<T, E>;

fn api_text(
    status: u16,
    code: Option<i64>,
    error: Option<&str>,
    message: &str,
    more_info: Option<&str>,
) -> String {
    let mut out = format!("HTTP {status}");
    if let Some(code) = code {
        out.push_str(&format!(", code {code}"));
    }
    if let Some(e) = error {
        out.push_str(&format!(" ({e})"));
    }
    out.push_str(&format!(": {message}"));
    if let Some(more) = more_info {
        out.push_str(&format!(" (see {more})"));
    }
    out
}

impl TwilioOAuthError {
    /// The kind's public name, identical in every language (`"ApiError"`, `"StoreError"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config { .. } => "ConfigError",
            Self::Api { .. } => "ApiError",
            Self::RateLimited { .. } => "RateLimitedError",
            Self::LoginRequired { .. } => "LoginRequiredError",
            Self::AccessDenied { .. } => "AccessDeniedError",
            Self::ExpiredToken { .. } => "ExpiredTokenError",
            Self::Transport { .. } => "TransportError",
            Self::Timeout { .. } => "TimeoutError",
            Self::InvalidResponse { .. } => "InvalidResponseError",
            Self::Cancelled => "CancelledError",
            Self::Store { .. } => "StoreError",
            Self::Internal { .. } => "TwilioOAuthError",
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }

    /// A panic caught at the boundary.
    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Self::Internal {
            message: format!("panic inside twilio-oauth: {message}"),
        }
    }
}

impl From<twilio_oauth::Error> for TwilioOAuthError {
    fn from(e: twilio_oauth::Error) -> Self {
        use twilio_oauth::Error as E;
        match e {
            E::Config { message } => Self::Config { message },
            E::Api(a) => Self::Api {
                status: a.status,
                code: a.code,
                error: a.error,
                message: a.message,
                more_info: a.more_info,
            },
            E::RateLimited(a) => Self::RateLimited {
                status: a.status,
                code: a.code,
                error: a.error,
                message: a.message,
                more_info: a.more_info,
                retry_after_seconds: a.retry_after.map(|d| d.as_secs_f64()),
            },
            E::LoginRequired(a) => Self::LoginRequired {
                status: a.status,
                code: a.code,
                error: a.error,
                message: a.message,
                more_info: a.more_info,
            },
            E::AccessDenied { message } => Self::AccessDenied { message },
            E::ExpiredToken { message } => Self::ExpiredToken { message },
            E::Transport { message } => Self::Transport { message },
            E::Timeout { message } => Self::Timeout { message },
            E::InvalidResponse {
                status,
                message,
                excerpt,
            } => Self::InvalidResponse {
                status,
                message,
                excerpt,
            },
            E::Cancelled => Self::Cancelled,
            E::Store { message } => Self::Store { message },
            E::Internal { message } => Self::Internal { message },
        }
    }
}

/// What an app's `TokenStore` reported, as the core sees it: always a store error, whatever
/// the store threw (the core logs it and carries on without the store). Each kind is listed, so
/// a new one must be placed here on purpose.
impl From<TwilioOAuthError> for twilio_oauth::Error {
    fn from(e: TwilioOAuthError) -> Self {
        use TwilioOAuthError as T;
        match e {
            T::Store { message } => twilio_oauth::Error::Store { message },
            other @ (T::Config { .. }
            | T::Api { .. }
            | T::RateLimited { .. }
            | T::LoginRequired { .. }
            | T::AccessDenied { .. }
            | T::ExpiredToken { .. }
            | T::Transport { .. }
            | T::Timeout { .. }
            | T::InvalidResponse { .. }
            | T::Cancelled
            | T::Internal { .. }) => twilio_oauth::Error::Store {
                message: format!("the token store failed with {}: {other}", other.kind()),
            },
        }
    }
}

/// An exception of another type thrown by a foreign `TokenStore` (a `RuntimeException`, a Swift
/// error that is not a `TwilioOAuthError`): a store error, never a crash.
impl From<uniffi::UnexpectedUniFFICallbackError> for TwilioOAuthError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Store {
            message: format!("the token store threw: {}", e.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_refresh() -> twilio_oauth::ApiError {
        twilio_oauth::ApiError::from_body(
            400,
            br#"{"code": 322403, "message": "invalid_grant: refresh token already used", "more_info": "https://www.twilio.com/docs/errors/322403", "status": 400}"#,
            None,
        )
    }

    /// Every kind of the core, once: each keeps its name and its text here. (The conversion
    /// itself has no fallback arm: a kind added to the core does not compile until it is
    /// mapped.)
    #[test]
    fn every_core_kind_keeps_its_name() {
        use twilio_oauth::Error as E;
        let api = refused_refresh();
        let cases = [
            E::Config {
                message: "x".into(),
            },
            E::Api(api.clone()),
            E::RateLimited(twilio_oauth::ApiError::from_body(
                429,
                b"{}",
                Some(std::time::Duration::from_secs(2)),
            )),
            E::LoginRequired(api),
            E::AccessDenied {
                message: "x".into(),
            },
            E::ExpiredToken {
                message: "x".into(),
            },
            E::Transport {
                message: "x".into(),
            },
            E::Timeout {
                message: "x".into(),
            },
            E::InvalidResponse {
                status: 200,
                message: "m".into(),
                excerpt: "e".into(),
            },
            E::Cancelled,
            E::Store {
                message: "x".into(),
            },
            E::Internal {
                message: "x".into(),
            },
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for core in cases {
            let kind = core.kind();
            let text = core.to_string();
            let ours = TwilioOAuthError::from(core);
            assert_eq!(ours.kind(), kind);
            assert_eq!(ours.to_string(), text);
            kinds.insert(kind);
        }
        assert_eq!(kinds.len(), twilio_oauth::ERROR_KINDS.len(), "{kinds:?}");
        for (kind, _) in twilio_oauth::ERROR_KINDS {
            assert!(kinds.contains(kind), "{kind} is not covered");
        }
    }

    #[test]
    fn login_required_carries_the_servers_answer() {
        let core = twilio_oauth::Error::LoginRequired(refused_refresh());
        match TwilioOAuthError::from(core) {
            TwilioOAuthError::LoginRequired {
                status,
                code,
                message,
                more_info,
                ..
            } => {
                assert_eq!((status, code), (400, Some(322403)));
                assert!(message.contains("already used"), "{message}");
                assert_eq!(
                    more_info.as_deref(),
                    Some("https://www.twilio.com/docs/errors/322403")
                );
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn api_errors_read_like_the_core() {
        let api = twilio_oauth::ApiError::from_body(
            401,
            br#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003"}"#,
            None,
        );
        let core = twilio_oauth::Error::Api(api);
        let text = core.to_string();
        let ours = TwilioOAuthError::from(core);
        assert_eq!(ours.to_string(), text);
        match ours {
            TwilioOAuthError::Api { status, code, .. } => {
                assert_eq!((status, code), (401, Some(20003)));
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn a_foreign_store_failure_becomes_a_store_error() {
        let e: TwilioOAuthError = uniffi::UnexpectedUniFFICallbackError::new("boom").into();
        assert_eq!(e.kind(), "StoreError");
        let core: twilio_oauth::Error = TwilioOAuthError::config("bad").into();
        assert_eq!(core.kind(), "StoreError");
        // Even a person's login error thrown by a store is the store's failure, nothing more.
        let thrown: TwilioOAuthError = twilio_oauth::Error::LoginRequired(refused_refresh()).into();
        let core: twilio_oauth::Error = thrown.into();
        assert_eq!(core.kind(), "StoreError");
        assert!(core.to_string().contains("LoginRequiredError"), "{core}");
    }
}
