//! The one place where core errors become JavaScript errors.
//!
//! A core error crosses as a JavaScript `Error` whose `message` is the human text and whose
//! `twilioOAuthError` property is the core's [`twilio_oauth::ErrorRecord`] as a plain object
//! (camelCase). `node/index.js` builds the exported class of that kind from it; the classes
//! themselves are built from [`error_kinds`] (the core's `ERROR_KINDS`), so a kind the core
//! adds is a class in JavaScript without an edit here. Messages never contain secrets: the
//! core guarantees it.

use napi::bindgen_prelude::{JsObjectValue, JsValue, Object};
use napi::{Env, Status};
use napi_derive::napi;
use twilio_oauth::{ERROR_KINDS, Error, ErrorRecord};

/// The property of a native error that holds its record.
pub(crate) const RECORD_KEY: &str = "twilioOAuthError";

/// Every error kind of the core with the kind it specialises, parents first (the core's
/// `ERROR_KINDS`), as `[name, parent | null]` pairs: `index.js` builds its error classes
/// from this list.
#[napi(skip_typescript)]
pub fn error_kinds() -> Vec<(&'static str, Option<&'static str>)> {
    ERROR_KINDS.to_vec()
}

/// The record as a plain object, field by field in camelCase (absent fields are `null`).
fn to_object<'env>(env: &'env Env, r: &ErrorRecord) -> napi::Result<Object<'env>> {
    let mut o = Object::new(env)?;
    o.set_named_property("kind", r.kind)?;
    o.set_named_property("parent", r.parent)?;
    o.set_named_property("message", r.message.as_str())?;
    o.set_named_property("status", r.status.map(u32::from))?;
    o.set_named_property("code", r.code)?;
    o.set_named_property("error", r.error.as_deref())?;
    o.set_named_property("serverMessage", r.server_message.as_deref())?;
    o.set_named_property("moreInfo", r.more_info.as_deref())?;
    o.set_named_property("retryAfter", r.retry_after)?;
    o.set_named_property("excerpt", r.excerpt.as_deref())?;
    Ok(o)
}

/// A core error as the value a native call throws or rejects with: an `Error` carrying its
/// record.
pub(crate) fn to_js(env: &Env, e: &Error) -> napi::Error {
    let record = e.record();
    let build = || -> napi::Result<napi::Error> {
        let mut error = env.create_error(napi::Error::new(
            Status::GenericFailure,
            record.message.clone(),
        ))?;
        error.set_named_property(RECORD_KEY, to_object(env, &record)?)?;
        Ok(napi::Error::from(error.to_unknown()))
    };
    // Creating an object only fails when the engine is out of memory or shutting down: the
    // message alone still says what happened.
    build().unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, e.to_string()))
}

/// Converts a core result for a synchronous method.
pub(crate) fn check<T>(env: &Env, r: twilio_oauth::Result<T>) -> napi::Result<T> {
    r.map_err(|e| to_js(env, &e))
}

/// Runs a synchronous call into the core with the core's guard (a panic becomes an error)
/// and converts its error.
pub(crate) fn guarded<T>(
    env: &Env,
    f: impl FnOnce() -> twilio_oauth::Result<T>,
) -> napi::Result<T> {
    check(env, twilio_oauth::runtime::guard_sync(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use twilio_oauth::ApiError;

    fn refused_refresh() -> ApiError {
        ApiError::from_body(
            400,
            br#"{"code": 322403, "message": "invalid_grant: refresh token already used", "more_info": "https://www.twilio.com/docs/errors/322403", "status": 400}"#,
            None,
        )
    }

    #[test]
    fn login_required_keeps_the_api_fields_and_the_servers_words_apart() {
        let r = Error::LoginRequired(refused_refresh()).record();
        assert_eq!(r.kind, "LoginRequiredError");
        assert_eq!(r.parent, Some("ApiError"));
        assert_eq!(r.status, Some(400));
        assert_eq!(r.code, Some(322403));
        assert_eq!(r.error.as_deref(), Some("invalid_grant"));
        assert_eq!(
            r.more_info.as_deref(),
            Some("https://www.twilio.com/docs/errors/322403")
        );
        assert_eq!(
            r.server_message.as_deref(),
            Some("invalid_grant: refresh token already used")
        );
        assert!(r.message.contains("sign in again"), "{}", r.message);
    }

    #[test]
    fn every_core_kind_keeps_its_name_and_parent() {
        let text = |m: &str| m.to_owned();
        // Exhaustive on purpose: a kind added to the core fails to compile here until it has
        // a case.
        let case = |e: &Error| match e {
            Error::Config { .. }
            | Error::Api(_)
            | Error::RateLimited(_)
            | Error::LoginRequired(_)
            | Error::AccessDenied { .. }
            | Error::ExpiredToken { .. }
            | Error::Transport { .. }
            | Error::Timeout { .. }
            | Error::InvalidResponse { .. }
            | Error::Cancelled
            | Error::Store { .. }
            | Error::Internal { .. } => e.record(),
        };
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
        let mut covered: Vec<&str> = cases.iter().map(Error::kind).collect();
        let mut kinds: Vec<&str> = ERROR_KINDS.iter().map(|(name, _)| *name).collect();
        covered.sort_unstable();
        kinds.sort_unstable();
        assert_eq!(covered, kinds);
        let listed = error_kinds();
        for e in &cases {
            let r = case(e);
            assert_eq!(r.kind, e.kind(), "{e}");
            assert!(!r.message.is_empty(), "{e}");
            assert_eq!(r.status.is_some(), e.status().is_some(), "{e}");
            let kind = listed.iter().find(|(name, _)| *name == r.kind);
            assert_eq!(kind.map(|(_, parent)| *parent), Some(r.parent), "{e}");
        }
    }
}
