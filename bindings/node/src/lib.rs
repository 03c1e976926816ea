//! The Node binding of twilio-oauth: the core's objects as napi-rs classes, whose
//! TypeScript declarations napi-rs generates from this crate (`node/native.d.ts`, with these
//! doc comments).
//!
//! This crate converts types and errors and nothing else; `node/index.js` adds only what
//! JavaScript alone can do: the error classes (built from the core's `ERROR_KINDS`),
//! `AbortSignal` wiring, `util.inspect`, twilio-node's credential provider, and the cache-hit
//! path that keeps the current token's object and strings.
//!
//! - Every network call runs on the core's runtime under the core's guard
//!   (`twilio_oauth::runtime::guard`: a panic becomes an error, a cancel handle ends the
//!   call) and settles a JavaScript promise; the event loop never blocks.
//! - A core error crosses as an `Error` carrying the core's `ErrorRecord` (see [`error`]).

mod client;
mod error;
mod provider;
mod store;
mod task;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod token;

use napi_derive::napi;

pub use client::{
    AuthorizationUrlOptions, CallOptions, ClientCredentialsOptions, CreateDeviceCodeOptions,
    CreateOauth2TokenOptions, CreateTokenOptions, ExchangeCodeOptions, OAuthClient,
    OAuthClientOptions, TokenProviderOptions,
};
pub use error::error_kinds;
pub use provider::{GrantKind, ProviderStats, TokenProvider};
pub use store::{FileStore, RedisStore, RedisStoreOptions};
#[cfg(feature = "test-hooks")]
pub use test_hooks::{panic_for_test, panic_for_test_sync};
pub use token::{AuthorizationRequest, DeviceAuthorization, FromAccessTokenOptions, Token};

/// The device-code grant type (`createToken(DEVICE_CODE_GRANT, { deviceCode })`).
#[napi]
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
