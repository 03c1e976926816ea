//! Running a core future and settling a JavaScript promise with it.

use std::future::Future;

use napi::Env;
use napi::bindgen_prelude::{Function, JsObjectValue, Object, ToNapiValue};
use twilio_oauth::CancellationToken;
use twilio_oauth::runtime::{guard, runtime};

use crate::error::to_js;

/// What `index.js` passes in an options object's `signal` field in place of the caller's
/// `AbortSignal`: an empty object, on which the call sets `cancel()`, a function that ends it
/// with `CancelledError` (`index.js` calls it when the signal aborts). A fetch the call shares
/// with other callers goes on for them.
pub(crate) fn cancel_token(
    env: &Env,
    signal: Option<Object<'_>>,
) -> napi::Result<Option<CancellationToken>> {
    let Some(mut handle) = signal else {
        return Ok(None);
    };
    let token = CancellationToken::new();
    let fire = token.clone();
    let cancel: Function<'_, (), ()> = env.create_function_from_closure("cancel", move |_| {
        fire.cancel();
        Ok(())
    })?;
    handle.set_named_property("cancel", cancel)?;
    Ok(Some(token))
}

/// Runs `fut` with the core's guard (a panic becomes an error; `cancel` ends the call with
/// `Cancelled`) and returns a promise of `convert(result)`.
pub(crate) fn spawn<'env, T, V, F, C>(
    env: &'env Env,
    cancel: Option<CancellationToken>,
    fut: F,
    convert: C,
) -> napi::Result<Object<'env>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
    F: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
    C: FnOnce(T) -> V + Send + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    match runtime() {
        Ok(rt) => {
            rt.spawn(async move {
                deferred.resolve(resolver(guard(cancel, fut).await.map(convert)));
            });
        }
        Err(e) => deferred.resolve(resolver(Err(e))),
    }
    Ok(promise)
}

/// What settles the promise on the JavaScript thread: the value, or the error with its
/// record.
fn resolver<V>(result: twilio_oauth::Result<V>) -> impl FnOnce(Env) -> napi::Result<V> {
    move |env: Env| result.map_err(|e| to_js(&env, &e))
}
