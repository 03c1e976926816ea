//! The uniffi binding of twilio-oauth: Kotlin (package `twiliooauth`) and Swift (module
//! `TwilioOAuth`) over the one Rust core.
//!
//! A thin layer: it converts types and errors and nothing else. The guards are the core's
//! ([`twilio_oauth::runtime::guard`] for async calls, [`twilio_oauth::runtime::guard_sync`] for
//! the others), so no panic crosses the boundary: it becomes `TwilioOAuthError.Internal`.
//! Async methods become Kotlin `suspend` functions and Swift `async throws` functions; their
//! work runs on the core's runtime. Cancelling the Kotlin coroutine ends the call (its task is
//! cancelled, which drops any request in flight or stops device polling); Swift, whose
//! generated code cannot observe `Task` cancellation, gets the same through a
//! [`CancellationToken`] that the package's hand-written wrappers fire from the `Task`'s
//! cancellation handler.

// The error enum crosses the FFI by value, with the fields of API.md on each kind; the `Err` path
// is the rare one, so its size is not worth boxing (which uniffi could not export anyway).
#![allow(clippy::result_large_err)]

use std::future::Future;
use std::sync::Arc;

use twilio_oauth::runtime;

mod cancel;
mod client;
mod config;
mod error;
mod provider;
mod store;
mod token;

pub use cancel::CancellationToken;
pub use client::OAuthClient;
pub use config::OAuthConfig;
pub use error::{Result, TwilioOAuthError};
pub use provider::{Grant, Stats, TokenProvider};
pub use store::{TokenStore, file_token_store, memory_token_store, redis_token_store};
pub use token::{AuthorizationRequest, DeviceAuthorization, Token};

uniffi::setup_scaffolding!();

/// Runs one async call of the binding through the core's [`runtime::guard`] (the core's
/// runtime, a panic becomes `Internal`), ending with `Cancelled` when `cancel` fires.
///
/// uniffi drops the call's future when the Kotlin coroutine is cancelled. `guard` runs the work
/// as a task of its own, which outlives a dropped caller, so the call has a token of its own
/// (a child of `cancel`) that fires when the future is dropped, and the task stops on it.
pub(crate) async fn call<T, F>(cancel: Option<Arc<CancellationToken>>, work: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = twilio_oauth::Result<T>> + Send + 'static,
{
    let token = cancel.map_or_else(twilio_oauth::CancellationToken::new, |c| c.0.child_token());
    let _fire_when_dropped = token.clone().drop_guard();
    let task_token = token.clone();
    let work = async move {
        task_token
            .run_until_cancelled_owned(work)
            .await
            .unwrap_or(Err(twilio_oauth::Error::Cancelled))
    };
    Ok(runtime::guard(Some(token), work).await?)
}

/// One sync call of the binding through the core's [`runtime::guard_sync`].
pub(crate) fn call_sync<T>(f: impl FnOnce() -> twilio_oauth::Result<T>) -> Result<T> {
    Ok(runtime::guard_sync(f)?)
}

/// Test hook (only with the `test-hooks` feature): a call that panics inside the core, so the
/// foreign tests can prove a panic becomes `TwilioOAuthError.Internal` instead of a crash.
#[cfg(feature = "test-hooks")]
#[uniffi::export]
pub async fn panic_for_test() -> Result<()> {
    call(None, runtime::panic_for_test()).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    /// Sets its flag when dropped: tells whether a future was dropped (its request aborted).
    struct Flag(Arc<AtomicBool>);

    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A core future that never ends, and the flag its drop sets.
    fn endless() -> (
        impl Future<Output = twilio_oauth::Result<()>> + Send + 'static,
        Arc<AtomicBool>,
    ) {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = Flag(dropped.clone());
        let work = async move {
            let _flag = flag;
            std::future::pending::<twilio_oauth::Result<()>>().await
        };
        (work, dropped)
    }

    async fn eventually(what: &str, condition: impl Fn() -> bool) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !condition() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| unreachable!("{what}"));
    }

    #[tokio::test]
    async fn a_fired_token_ends_the_call_with_cancelled_and_drops_its_work() {
        let (work, dropped) = endless();
        let cancel = CancellationToken::new();
        let fire = cancel.clone();
        tokio::spawn(async move { fire.cancel() });
        let err = call(Some(cancel), work).await.unwrap_err();
        assert_eq!(err.kind(), "CancelledError");
        eventually("the work was dropped", || dropped.load(Ordering::SeqCst)).await;
    }

    #[tokio::test]
    async fn a_dropped_call_drops_its_work_as_a_cancelled_coroutine_must() {
        let (work, dropped) = endless();
        let pending = tokio::time::timeout(Duration::from_millis(20), call(None, work)).await;
        assert!(pending.is_err(), "the call cannot have ended");
        eventually("the work was dropped", || dropped.load(Ordering::SeqCst)).await;
    }

    #[tokio::test]
    async fn a_panic_becomes_an_internal_error_on_both_paths() {
        #[allow(clippy::panic)]
        let err = call_sync::<()>(|| panic!("boom")).unwrap_err();
        assert_eq!(err.kind(), "TwilioOAuthError");
        assert!(err.to_string().contains("boom"), "{err}");
        #[allow(clippy::panic)]
        let work = async { panic!("inside") as twilio_oauth::Result<()> };
        let err = call(None, work).await.unwrap_err();
        assert_eq!(err.kind(), "TwilioOAuthError");
        assert!(err.to_string().contains("inside"), "{err}");
    }
}
