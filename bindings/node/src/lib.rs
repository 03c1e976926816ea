//! The Node binding of twilio-oauth: napi-rs classes over the core's objects.
//!
//! This crate converts types and errors and nothing else. The JavaScript layer of the npm
//! package (`node/index.js`) wraps these native classes in the public API (camelCase options
//! objects, `AbortSignal`, the error classes, redacted `util.inspect`).
//!
//! - Every network call runs on the core's shared runtime and settles a JavaScript promise;
//!   the event loop never blocks.
//! - Errors cross as one JSON payload in the error message (see [`error`]), which the
//!   JavaScript layer turns into the matching `TwilioOAuthError` subclass.
//! - A panic inside the core becomes an `Internal` error, never an abort.

mod client;
mod error;
mod provider;
mod store;
mod task;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod token;

pub use client::{
    AuthorizationRequest, ClientOptions, NativeClient, ProviderOptions, V1TokenOptions,
    V2TokenOptions,
};
pub use error::{ErrorKind, error_kinds};
pub use provider::{NativeProvider, ProviderStats};
pub use task::CancelHandle;
pub use token::{NativeDevice, NativeToken};
