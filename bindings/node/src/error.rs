//! The one place where core errors become JavaScript errors.
//!
//! A native error's message is a JSON object whose first key is `twilioOAuthError` (the
//! kind, e.g. `"RateLimitedError"`), followed by the message (the core's `Display`, or for the
//! API errors — `ApiError`, `RateLimitedError`, `LoginRequiredError` — the server's own
//! message) and the kind's fields in camelCase. `node/index.js` (`toTwilioOAuthError`) parses
//! it and throws the class of that name. Messages never contain secrets: the core guarantees
//! it.

use napi::Status;
use napi_derive::napi;
use serde_json::{Map, Value, json};
use twilio_oauth::{ApiError, ERROR_KINDS, Error};

/// One error kind of the core, and the kind it specialises.
#[napi(object)]
pub struct ErrorKind {
    /// The kind's public name (`"LoginRequiredError"`): the class `index.js` exports.
    pub name: String,
    /// The kind it specialises (`"ApiError"`); absent for the root, `TwilioOAuthError`.
    pub parent: Option<String>,
}

/// Every error kind the core has, so that the package's tests can check that each one is an
/// exported class with the right parent.
#[napi]
pub fn error_kinds() -> Vec<ErrorKind> {
    ERROR_KINDS
        .iter()
        .map(|(name, parent)| ErrorKind {
            name: (*name).to_owned(),
            parent: parent.map(str::to_owned),
        })
        .collect()
}

/// The JSON payload of a core error.
pub(crate) fn payload(e: &Error) -> String {
    let mut map = Map::new();
    map.insert("twilioOAuthError".into(), json!(e.kind()));
    // Every kind is named (the core's `Error` is exhaustive on purpose): a kind added to the
    // core does not compile here until it is mapped.
    match e {
        // As in twilio-node's RestException, an API error's `message` is the server's message:
        // the status, code, error and link are fields of their own.
        Error::Api(api) | Error::RateLimited(api) | Error::LoginRequired(api) => {
            api_fields(&mut map, api);
        }
        Error::InvalidResponse {
            status, excerpt, ..
        } => {
            map.insert("message".into(), json!(e.to_string()));
            map.insert("status".into(), json!(status));
            map.insert("excerpt".into(), json!(excerpt));
        }
        Error::Config { .. }
        | Error::AccessDenied { .. }
        | Error::ExpiredToken { .. }
        | Error::Transport { .. }
        | Error::Timeout { .. }
        | Error::Cancelled
        | Error::Store { .. }
        | Error::Internal { .. } => {
            map.insert("message".into(), json!(e.to_string()));
        }
    }
    Value::Object(map).to_string()
}

/// The fields of a server's error answer (`status`, `code`, `error`, `moreInfo`,
/// `retryAfter` in seconds), with the server's message as the message.
fn api_fields(map: &mut Map<String, Value>, api: &ApiError) {
    map.insert("message".into(), json!(api.message));
    map.insert("status".into(), json!(api.status));
    map.insert("code".into(), json!(api.code));
    map.insert("error".into(), json!(api.oauth_error()));
    map.insert("moreInfo".into(), json!(api.more_info));
    map.insert(
        "retryAfter".into(),
        json!(api.retry_after.map(|d| d.as_secs_f64())),
    );
}

/// A core error as a napi error carrying the payload.
pub(crate) fn to_napi(e: &Error) -> napi::Error {
    napi::Error::new(Status::GenericFailure, payload(e))
}

/// Bad input from JavaScript (a value of the wrong shape): a `ConfigError`.
pub(crate) fn config(message: impl Into<String>) -> napi::Error {
    to_napi(&Error::Config {
        message: message.into(),
    })
}

/// Converts a core result for a synchronous method.
pub(crate) fn check<T>(r: twilio_oauth::Result<T>) -> napi::Result<T> {
    r.map_err(|e| to_napi(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(e: &Error) -> Map<String, Value> {
        serde_json::from_str(&payload(e)).unwrap()
    }

    fn refused_refresh() -> ApiError {
        ApiError::from_body(
            400,
            br#"{"code": 322403, "message": "invalid_grant: refresh token already used", "more_info": "https://www.twilio.com/docs/errors/322403", "status": 400}"#,
            None,
        )
    }

    #[test]
    fn login_required_crosses_as_its_own_kind_with_the_api_fields() {
        let map = parsed(&Error::LoginRequired(refused_refresh()));
        assert_eq!(map["twilioOAuthError"], json!("LoginRequiredError"));
        assert_eq!(map["status"], json!(400));
        assert_eq!(map["code"], json!(322403));
        assert_eq!(map["error"], json!("invalid_grant"));
        assert_eq!(
            map["moreInfo"],
            json!("https://www.twilio.com/docs/errors/322403")
        );
        assert_eq!(
            map["message"],
            json!("invalid_grant: refresh token already used")
        );
    }

    #[test]
    fn every_core_kind_keeps_its_name_and_message() {
        let text = |m: &str| m.to_owned();
        let cases = [
            Error::Config {
                message: text("bad"),
            },
            Error::Api(refused_refresh()),
            Error::RateLimited(refused_refresh()),
            Error::LoginRequired(refused_refresh()),
            Error::AccessDenied {
                message: text("no"),
            },
            Error::ExpiredToken {
                message: text("late"),
            },
            Error::Transport {
                message: text("reset"),
            },
            Error::Timeout {
                message: text("slow"),
            },
            Error::InvalidResponse {
                status: 200,
                message: text("odd"),
                excerpt: text("<html>"),
            },
            Error::Cancelled,
            Error::Store {
                message: text("disk"),
            },
            Error::Internal {
                message: text("bug"),
            },
        ];
        // `Internal` crosses as the root kind, `TwilioOAuthError`: every kind is covered.
        let mut covered: Vec<&str> = cases.iter().map(Error::kind).collect();
        let mut kinds: Vec<&str> = ERROR_KINDS.iter().map(|(name, _)| *name).collect();
        covered.sort_unstable();
        kinds.sort_unstable();
        assert_eq!(covered, kinds);
        for e in &cases {
            let map = parsed(e);
            assert_eq!(map["twilioOAuthError"], json!(e.kind()), "{e}");
            let message = map["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{e}");
            assert_eq!(map.contains_key("status"), e.status().is_some(), "{e}");
        }
    }
}
