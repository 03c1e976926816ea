//! `CancellationToken`: cancels the calls it is passed to.
//!
//! Kotlin needs none (cancelling the coroutine drops the Rust future). Swift's generated async
//! functions ignore `Task` cancellation, so the Swift package wraps every call in
//! `withTaskCancellationHandler` and fires a token from it. It also serves callers that cancel
//! from outside structured concurrency (a Cancel button, Java code).

use std::sync::Arc;

/// Cancels every call it was passed to: they end with `Cancelled`, and their Rust futures
/// (with any request in flight) are dropped. Cancelling twice is harmless.
#[derive(Debug, Default, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct CancellationToken(pub(crate) twilio_oauth::CancellationToken);

#[uniffi::export]
impl CancellationToken {
    /// A token that has not fired yet.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Fires the token.
    pub fn cancel(&self) {
        self.0.cancel()
    }

    /// True once the token has fired.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}
