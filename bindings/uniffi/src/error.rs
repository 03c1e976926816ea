//! The error tree: one `TwilioOAuthError` enum whose variants are the kinds of API.md.
//!
//! Kotlin sees a sealed `TwilioOAuthException` with one subclass per variant, Swift an `enum
//! TwilioOAuthError: Error`. It is a field-by-field copy of the core's error, made in one place
//! ([`From<twilio_oauth::Error>`], which matches every kind without a fallback arm), because
//! uniffi 0.32 cannot export the core's own type cleanly (see the crate's README).
//!
//! `message` is the human text in every variant, exactly the core's (`HTTP 401, code 321401:
//! Invalid client credentials`); the server's own words are `serverMessage`. Messages never
//! hold a secret (the core guarantees that, and nothing here adds one).

use std::time::Duration;

/// Everything that can go wrong, one variant per kind (`ConfigError` → `Config`, …).
///
/// `message` is the human text, identical to the error's string form. In Kotlin the field is
/// `description` (every Kotlin exception already has a `message`, which is this same text).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum TwilioOAuthError {
    /// Bad options: malformed `clientId`, empty secret, non-loopback `http://` URL, missing
    /// credentials for an endpoint, a duration out of range.
    #[error("{message}")]
    Config {
        /// The human text: what is wrong and how to fix it.
        message: String,
    },
    /// The server answered with an error body.
    #[error("{message}")]
    Api {
        /// The human text (`HTTP 401, code 20003: Authenticate`).
        message: String,
        /// The HTTP status.
        status: i32,
        /// Twilio's numeric error code (`20003`, `321401`, …).
        code: Option<i64>,
        /// The RFC 6749 error string (`invalid_grant`, `invalid_client`, …).
        error: Option<String>,
        /// The server's own words.
        server_message: String,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
        /// How long the server asked to wait before trying again (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The server kept answering 429 after all retries.
    #[error("{message}")]
    RateLimited {
        /// The human text.
        message: String,
        /// The HTTP status (429).
        status: i32,
        /// Twilio's numeric error code.
        code: Option<i64>,
        /// The RFC 6749 error string.
        error: Option<String>,
        /// The server's own words.
        server_message: String,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
        /// How long the server asked to wait before trying again.
        retry_after: Option<Duration>,
    },
    /// A person's grant can no longer be refreshed (refused or reused refresh token, revoked
    /// grant, ended session, or no refresh token at all): sign the person in again. Carries the
    /// server's answer, as `Api` does. A provider for a person never falls back to an app
    /// token.
    #[error("{message}")]
    LoginRequired {
        /// The human text (`sign in again: HTTP 400, code 322403 …`).
        message: String,
        /// The HTTP status (401 with error `login_required` when no request was made).
        status: i32,
        /// Twilio's numeric error code (`322403` for a refused refresh token).
        code: Option<i64>,
        /// The RFC 6749 error string (`invalid_grant`, or `login_required`).
        error: Option<String>,
        /// The server's own words.
        server_message: String,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
        /// How long the server asked to wait before trying again.
        retry_after: Option<Duration>,
    },
    /// Device flow: the user refused the authorization request.
    #[error("{message}")]
    AccessDenied {
        /// The human text.
        message: String,
    },
    /// Device flow: the device code expired before the user approved it.
    #[error("{message}")]
    ExpiredToken {
        /// The human text.
        message: String,
    },
    /// Connect, TLS, reset or protocol failure.
    #[error("{message}")]
    Transport {
        /// The human text: what failed.
        message: String,
    },
    /// The request did not complete within the configured timeout.
    #[error("{message}")]
    Timeout {
        /// The human text: what timed out.
        message: String,
    },
    /// A 2xx answer whose body is not a usable token or device authorization.
    #[error("{message}")]
    InvalidResponse {
        /// The human text.
        message: String,
        /// The HTTP status.
        status: i32,
        /// The first bytes of the body, sanitised.
        excerpt: String,
    },
    /// The caller cancelled the operation (coroutine or `Task` cancellation, or a fired
    /// `CancellationToken`).
    #[error("cancelled")]
    Cancelled,
    /// A token store failed to load, save or delete (also: a foreign store threw).
    #[error("{message}")]
    Store {
        /// The human text: what failed.
        message: String,
    },
    /// A bug inside the library (a panic or a broken invariant), caught before it crossed the
    /// language boundary.
    #[error("{message}")]
    Internal {
        /// The human text: what happened.
        message: String,
    },
}

/// Shorthand for the binding's results.
pub type Result<T, E = TwilioOAuthError> = std::result::Result<T, E>;

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
}

/// The fields of an API error kind (`Api`, `RateLimited`, `LoginRequired`).
macro_rules! api_kind {
    ($variant:ident, $message:expr, $error:expr, $api:expr) => {{
        let a: twilio_oauth::ApiError = $api;
        TwilioOAuthError::$variant {
            message: $message,
            status: i32::from(a.status),
            code: a.code,
            error: $error,
            server_message: a.message,
            more_info: a.more_info,
            retry_after: a.retry_after,
        }
    }};
}

/// The core's error, field by field. Every kind has its own arm and there is no fallback: a
/// kind added to the core does not compile until it is mapped here.
impl From<twilio_oauth::Error> for TwilioOAuthError {
    fn from(e: twilio_oauth::Error) -> Self {
        use twilio_oauth::Error as E;
        // The record's message and RFC 6749 error (read also from a Twilio body's message);
        // the other fields keep their types (a status, a Duration) from the core's error.
        let twilio_oauth::ErrorRecord { message, error, .. } = e.record();
        match e {
            E::Config { .. } => Self::Config { message },
            E::Api(a) => api_kind!(Api, message, error, a),
            E::RateLimited(a) => api_kind!(RateLimited, message, error, a),
            E::LoginRequired(a) => api_kind!(LoginRequired, message, error, a),
            E::AccessDenied { .. } => Self::AccessDenied { message },
            E::ExpiredToken { .. } => Self::ExpiredToken { message },
            E::Transport { .. } => Self::Transport { message },
            E::Timeout { .. } => Self::Timeout { message },
            E::InvalidResponse {
                status, excerpt, ..
            } => Self::InvalidResponse {
                message,
                status: i32::from(status),
                excerpt,
            },
            E::Cancelled => Self::Cancelled,
            E::Store { .. } => Self::Store { message },
            E::Internal { .. } => Self::Internal { message },
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

    /// The fields of ours that `ErrorRecord` also has, in its shape.
    #[derive(Debug, PartialEq)]
    struct RecordFields {
        status: Option<u16>,
        code: Option<i64>,
        error: Option<String>,
        server_message: Option<String>,
        more_info: Option<String>,
        retry_after: Option<f64>,
        excerpt: Option<String>,
    }

    impl RecordFields {
        fn of_record(r: &twilio_oauth::ErrorRecord) -> Self {
            Self {
                status: r.status,
                code: r.code,
                error: r.error.clone(),
                server_message: r.server_message.clone(),
                more_info: r.more_info.clone(),
                retry_after: r.retry_after,
                excerpt: r.excerpt.clone(),
            }
        }

        fn of_ours(e: &TwilioOAuthError) -> Self {
            use TwilioOAuthError as T;
            let none = Self {
                status: None,
                code: None,
                error: None,
                server_message: None,
                more_info: None,
                retry_after: None,
                excerpt: None,
            };
            match e {
                T::Api {
                    status,
                    code,
                    error,
                    server_message,
                    more_info,
                    retry_after,
                    ..
                }
                | T::RateLimited {
                    status,
                    code,
                    error,
                    server_message,
                    more_info,
                    retry_after,
                    ..
                }
                | T::LoginRequired {
                    status,
                    code,
                    error,
                    server_message,
                    more_info,
                    retry_after,
                    ..
                } => Self {
                    status: u16::try_from(*status).ok(),
                    code: *code,
                    error: error.clone(),
                    server_message: Some(server_message.clone()),
                    more_info: more_info.clone(),
                    retry_after: retry_after.map(|d| d.as_secs_f64()),
                    ..none
                },
                T::InvalidResponse {
                    status, excerpt, ..
                } => Self {
                    status: u16::try_from(*status).ok(),
                    excerpt: Some(excerpt.clone()),
                    ..none
                },
                T::Config { .. }
                | T::AccessDenied { .. }
                | T::ExpiredToken { .. }
                | T::Transport { .. }
                | T::Timeout { .. }
                | T::Cancelled
                | T::Store { .. }
                | T::Internal { .. } => none,
            }
        }
    }

    /// Every kind of the core, once: each keeps its name, its human text and every field of its
    /// `ErrorRecord`. The list is checked against `ERROR_KINDS`, so a kind added to the core
    /// fails here until it is listed (and the conversion does not compile until it is mapped).
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
                br#"{"code": 20429, "message": "Too Many Requests"}"#,
                Some(std::time::Duration::from_millis(2500)),
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
            let record = core.record();
            let ours = TwilioOAuthError::from(core);
            assert_eq!(ours.kind(), record.kind);
            assert_eq!(ours.to_string(), record.message);
            assert_eq!(
                RecordFields::of_ours(&ours),
                RecordFields::of_record(&record),
                "{}",
                record.kind
            );
            assert!(kinds.insert(record.kind), "{} listed twice", record.kind);
        }
        let all: std::collections::BTreeSet<_> =
            twilio_oauth::ERROR_KINDS.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, all, "every kind of ERROR_KINDS, and only those");
    }

    #[test]
    fn the_message_is_the_human_text_and_the_servers_words_have_their_own_field() {
        let core = twilio_oauth::Error::LoginRequired(refused_refresh());
        let text = core.to_string();
        match TwilioOAuthError::from(core) {
            TwilioOAuthError::LoginRequired {
                message,
                status,
                code,
                server_message,
                more_info,
                ..
            } => {
                assert_eq!(message, text);
                assert!(message.starts_with("sign in again: HTTP 400"), "{message}");
                assert_eq!((status, code), (400, Some(322403)));
                assert_eq!(server_message, "invalid_grant: refresh token already used");
                assert_eq!(
                    more_info.as_deref(),
                    Some("https://www.twilio.com/docs/errors/322403")
                );
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn a_rate_limited_error_carries_retry_after() {
        let core = twilio_oauth::Error::RateLimited(twilio_oauth::ApiError::from_body(
            429,
            b"{}",
            Some(std::time::Duration::from_secs(7)),
        ));
        match TwilioOAuthError::from(core) {
            TwilioOAuthError::RateLimited {
                status,
                retry_after,
                ..
            } => {
                assert_eq!(status, 429);
                assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)));
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn a_foreign_store_failure_becomes_a_store_error() {
        let e: TwilioOAuthError = uniffi::UnexpectedUniFFICallbackError::new("boom").into();
        assert_eq!(e.kind(), "StoreError");
        let core: twilio_oauth::Error = TwilioOAuthError::Config {
            message: "bad".into(),
        }
        .into();
        assert_eq!(core.kind(), "StoreError");
        // Even a person's login error thrown by a store is the store's failure, nothing more.
        let thrown: TwilioOAuthError = twilio_oauth::Error::LoginRequired(refused_refresh()).into();
        let core: twilio_oauth::Error = thrown.into();
        assert_eq!(core.kind(), "StoreError");
        assert!(core.to_string().contains("LoginRequiredError"), "{core}");
    }
}
