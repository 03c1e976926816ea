//! Twilio OAuth for Rust: access tokens, device authorization, refresh and PKCE, with a token
//! cache that is correct under concurrency.
//!
//! One core for every language: the Python, Node, Kotlin and Swift packages and the
//! `twilio-oauth` command line are thin layers over this crate.
//!
//! # Client credentials, cached
//! ```no_run
//! # async fn run() -> twilio_oauth::Result<()> {
//! use twilio_oauth::{OAuthClient, ProviderOptions};
//! let client = OAuthClient::builder()
//!     .client_id("OQ0123456789abcdef0123456789abcdef")
//!     .client_secret("your-client-secret")
//!     .build()?;
//! let provider = client.token_provider(ProviderOptions::default());
//! // Every caller shares one cached token; one request per lifetime however many ask.
//! let header = provider.authorization_header().await?;
//! # let _ = header; Ok(()) }
//! ```
//!
//! # Device authorization (RFC 8628)
//! ```no_run
//! # async fn run() -> twilio_oauth::Result<()> {
//! use twilio_oauth::OAuthClient;
//! let client = OAuthClient::builder()
//!     .client_id("OQ0123456789abcdef0123456789abcdef")
//!     .account_sid("AC0123456789abcdef0123456789abcdef")
//!     .auth_token("your-auth-token")
//!     .build()?;
//! let device = client.create_device_code(&["offline_access"], &[]).await?;
//! println!("Open {} and enter {}", device.verification_uri(), device.user_code());
//! let token = client.poll_device_token(&device).await?; // waits, honours slow_down
//! # let _ = token; Ok(()) }
//! ```
//!
//! # Authorization code with PKCE, then refresh
//! ```no_run
//! # async fn run(code_from_redirect: &str) -> twilio_oauth::Result<()> {
//! use twilio_oauth::OAuthClient;
//! let client = OAuthClient::builder().client_id("OQ0123456789abcdef0123456789abcdef").build()?;
//! let request = client.authorization_url("myapp://callback", Some("openid offline_access"), None)?;
//! // Open request.url in a browser; check `state` on the redirect, then:
//! let token = client
//!     .exchange_code(code_from_redirect, Some("myapp://callback"), Some(request.code_verifier.secret()))
//!     .await?;
//! if let Some(refresh_token) = token.refresh_token() {
//!     let renewed = client.refresh(refresh_token.secret()).await?;
//!     # let _ = renewed;
//! }
//! # Ok(()) }
//! ```
//!
//! # Blocking callers
//! ```no_run
//! # fn run() -> twilio_oauth::Result<()> {
//! use twilio_oauth::{OAuthClient, ProviderOptions};
//! let provider = OAuthClient::from_env()?.token_provider(ProviderOptions::default());
//! let token = provider.token_blocking()?; // a cache hit never touches the runtime
//! # let _ = token; Ok(()) }
//! ```

pub mod runtime;
/// The former name of [`runtime`], kept for code written against it.
#[doc(hidden)]
pub mod blocking {
    pub use crate::runtime::*;
}
mod cache;
mod client;
pub mod clock;
mod device;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod key;
mod pkce;
#[cfg(test)]
mod proptests;
#[cfg(feature = "redis")]
mod redis_store;
mod secret;
mod store;
mod token;
mod transport;
mod wire;

pub use cache::{ApiCall, Lookup, ProviderOptions, Stats, TokenProvider, TokenSource};
pub use client::{
    ClientOptions, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, OAuthClient,
    OAuthClientBuilder,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use device::{DEFAULT_INTERVAL, DEVICE_CODE_GRANT, DeviceAuthorization, SLOW_DOWN_STEP};
pub use error::{ApiError, ERROR_KINDS, Error, ErrorRecord, Result};
pub use key::{CacheKey, GrantKind, normalize_scope};
pub use pkce::{AuthorizationRequest, code_challenge, new_code_verifier};
#[cfg(feature = "redis")]
pub use redis_store::{
    DEFAULT_KEY_PREFIX, DEFAULT_LOCK_TTL, DEFAULT_LOCK_WAIT, DEFAULT_OPERATION_TIMEOUT,
    ENCRYPTION_KEY_ENV, RedisOptions, RedisStore, USER_TOKEN_TTL,
};
pub use secret::{
    AccessToken, AuthToken, ClientSecret, DeviceCode, IdToken, PkceCodeVerifier, RefreshToken,
    preview,
};
pub use store::{FileStore, LOCK_WAIT, MemoryStore, StoreLock, TokenStore};
pub use token::{DEFAULT_LIFETIME, Issuer, MAX_LIFETIME, Token};
pub use tokio_util::sync::CancellationToken;
pub use transport::MAX_BODY_BYTES;
pub use wire::form::{V1TokenRequest, V2TokenRequest};
pub use wire::jwt::{decode_claims, decode_header};

/// Re-exported so foreign `TokenStore` implementations can use the same macro.
pub use async_trait::async_trait;
