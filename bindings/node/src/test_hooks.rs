//! Hooks for the package's own tests (feature `test-hooks`; never in a published build).

use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;

use crate::task::spawn;

/// A call that panics inside the core: its promise must reject with a `TwilioOAuthError`.
#[napi(js_name = "_panicForTest", ts_return_type = "Promise<void>")]
pub fn panic_for_test(env: &Env) -> napi::Result<Object<'_>> {
    spawn(env, None, twilio_oauth::blocking::panic_for_test(), |()| ())
}
