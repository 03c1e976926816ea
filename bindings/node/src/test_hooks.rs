//! Hooks for the package's own tests (feature `test-hooks`; never in a published build).

use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;

use crate::error::guarded;
use crate::task::spawn;

/// A call that panics inside the core: its promise must reject with a `TwilioOAuthError`.
#[napi(js_name = "_panicForTest", skip_typescript)]
pub fn panic_for_test(env: &Env) -> napi::Result<Object<'_>> {
    spawn(env, None, twilio_oauth::runtime::panic_for_test(), |()| ())
}

/// A synchronous call that panics inside the binding's guard: it must throw a
/// `TwilioOAuthError`.
#[napi(js_name = "_panicForTestSync", skip_typescript)]
#[allow(clippy::panic)]
pub fn panic_for_test_sync(env: &Env) -> napi::Result<()> {
    guarded(env, || panic!("test hook: deliberate panic"))
}
