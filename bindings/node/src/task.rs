//! Running a core future on the core's runtime and settling a JavaScript promise with it.

use std::future::Future;

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, JsDeferred};
use napi_derive::napi;
use twilio_oauth::{CancellationToken, Error};

use crate::error::to_napi;

/// A cancellation switch for one call: the JavaScript layer creates one per `AbortSignal` and
/// calls `cancel()` when the signal aborts.
#[napi]
#[derive(Default)]
pub struct CancelHandle {
    token: CancellationToken,
}

#[napi]
impl CancelHandle {
    /// A switch that has not fired.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the call: its promise rejects with `CancelledError` at once.
    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// True once `cancel()` was called.
    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// Runs `fut` on the core's shared runtime and returns a promise of `convert(result)`.
///
/// The future races the cancel handle (if any): cancelling drops the future and rejects with
/// `CancelledError`. A panic inside becomes a `TwilioOAuthError` (the core's `Internal`).
pub(crate) fn spawn<'env, T, V, F, C>(
    env: &'env Env,
    cancel: Option<&CancelHandle>,
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
    let cancel = cancel.map(|c| c.token.clone());
    if cancel.as_ref().is_some_and(CancellationToken::is_cancelled) {
        reject(deferred, &Error::Cancelled);
        return Ok(promise);
    }
    let runtime = match twilio_oauth::blocking::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            reject(deferred, &e);
            return Ok(promise);
        }
    };
    let guarded = async move {
        match cancel {
            Some(token) => tokio::select! {
                biased;
                () = token.cancelled() => Err(Error::Cancelled),
                r = fut => r,
            },
            None => fut.await,
        }
    };
    runtime.spawn(async move {
        // `run` spawns the future as its own task, so a panic inside becomes an error here.
        match twilio_oauth::blocking::run(guarded).await {
            Ok(v) => deferred.resolve(move |_env: Env| Ok(convert(v))),
            Err(e) => reject(deferred, &e),
        }
    });
    Ok(promise)
}

fn reject<V: ToNapiValue, R: FnOnce(Env) -> napi::Result<V>>(
    deferred: JsDeferred<V, R>,
    e: &Error,
) {
    deferred.reject(to_napi(e));
}
