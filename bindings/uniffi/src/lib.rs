//! The uniffi binding of twilio-oauth: Kotlin (package `twiliooauth`) and Swift (module
//! `TwilioOAuth`) over the one Rust core.
//!
//! A thin layer: it converts types and errors and nothing else. Async methods become Kotlin
//! `suspend` functions and Swift `async throws` functions running on tokio; cancelling the
//! coroutine drops the Rust future; Swift, whose generated code cannot do that, gets the same
//! through a [`CancellationToken`] that the package's hand-written wrappers fire from the
//! `Task`'s cancellation handler. No panic crosses the boundary: every fallible call
//! turns one into `TwilioOAuthError.Internal`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;

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
pub use provider::{Stats, TokenProvider};
pub use store::{TokenStore, file_token_store, memory_token_store};
pub use token::{AuthorizationRequest, DeviceAuthorization, Token};

uniffi::setup_scaffolding!();

/// Runs a core future, turning its error into ours and a panic into `Internal`.
pub(crate) async fn guard<T>(fut: impl Future<Output = twilio_oauth::Result<T>>) -> Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r.map_err(Into::into),
        Err(payload) => Err(TwilioOAuthError::from_panic(payload)),
    }
}

/// [`guard`], ending early with `Cancelled` (and dropping the core future, which aborts its
/// request) when `cancel` fires.
pub(crate) async fn guard_cancellable<T>(
    cancel: Option<Arc<CancellationToken>>,
    fut: impl Future<Output = twilio_oauth::Result<T>>,
) -> Result<T> {
    match cancel {
        None => guard(fut).await,
        Some(cancel) => {
            tokio::select! {
                biased;
                () = cancel.0.cancelled() => Err(TwilioOAuthError::Cancelled),
                r = guard(fut) => r,
            }
        }
    }
}

/// [`guard`] for synchronous calls.
pub(crate) fn guard_sync<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(TwilioOAuthError::from_panic(payload)))
}

/// A number of seconds from a foreign caller, as a `Duration` (rejecting NaN, negatives and
/// infinities with a `Config` error instead of a panic).
pub(crate) fn seconds(name: &str, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        TwilioOAuthError::config(format!(
            "{name} must be a finite number of seconds, at least 0 (got {value})"
        ))
    })
}

/// Test hook (only with the `test-hooks` feature): a call that panics inside the core, so the
/// foreign tests can prove a panic becomes `TwilioOAuthError.Internal` instead of a crash.
#[cfg(feature = "test-hooks")]
#[uniffi::export(async_runtime = "tokio")]
pub async fn panic_for_test() -> Result<()> {
    guard(twilio_oauth::blocking::panic_for_test()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_seconds_are_config_errors() {
        for bad in [f64::NAN, -1.0, f64::INFINITY] {
            assert_eq!(seconds("x", bad).unwrap_err().kind(), "ConfigError");
        }
        assert_eq!(seconds("x", 1.5).unwrap(), Duration::from_millis(1500));
    }

    #[tokio::test]
    async fn a_fired_token_ends_the_call_and_drops_its_future() {
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Flag(dropped.clone());
        let cancel = CancellationToken::new();
        let pending = async move {
            let _flag = flag;
            std::future::pending::<twilio_oauth::Result<()>>().await
        };
        let fire = cancel.clone();
        tokio::spawn(async move { fire.cancel() });
        let err = guard_cancellable(Some(cancel), pending).await.unwrap_err();
        assert_eq!(err.kind(), "CancelledError");
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_panic_becomes_an_internal_error() {
        #[allow(clippy::panic)]
        let err = guard_sync::<()>(|| panic!("boom")).unwrap_err();
        assert_eq!(err.kind(), "TwilioOAuthError");
        assert!(err.to_string().contains("boom"));
    }
}
