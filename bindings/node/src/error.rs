//! The one place where core errors become JavaScript errors.
//!
//! A native error's message is a JSON object whose first key is `twilioOAuthError` (the
//! kind, e.g. `"RateLimitedError"`), followed by the message (the core's `Display`, or for
//! `ApiError` and `RateLimitedError` the server's own message) and the kind's fields in
//! camelCase. `node/index.js` (`toTwilioOAuthError`) parses it and throws the class of that
//! name. Messages never contain secrets: the core guarantees it.

use napi::Status;
use serde_json::{Map, Value, json};
use twilio_oauth::Error;

/// The JSON payload of a core error.
pub(crate) fn payload(e: &Error) -> String {
    let mut map = Map::new();
    map.insert("twilioOAuthError".into(), json!(e.kind()));
    // As in twilio-node's RestException, an API error's `message` is the server's message: the
    // status, code, error and link are fields of their own.
    let message = e
        .api()
        .map_or_else(|| e.to_string(), |api| api.message.clone());
    map.insert("message".into(), json!(message));
    if let Some(api) = e.api() {
        map.insert("status".into(), json!(api.status));
        map.insert("code".into(), json!(api.code));
        map.insert("error".into(), json!(api.oauth_error()));
        map.insert("moreInfo".into(), json!(api.more_info));
        map.insert(
            "retryAfter".into(),
            json!(api.retry_after.map(|d| d.as_secs_f64())),
        );
    }
    if let Error::InvalidResponse {
        status, excerpt, ..
    } = e
    {
        map.insert("status".into(), json!(status));
        map.insert("excerpt".into(), json!(excerpt));
    }
    Value::Object(map).to_string()
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
