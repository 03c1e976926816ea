//! `TokenProvider`: the cached token that API calls use.

use std::fmt;
use std::sync::Arc;

use crate::cancel::CancellationToken;
use crate::token::Token;
use crate::{Result, call, call_sync};

/// A provider's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Stats {
    /// Calls answered from the cache.
    pub hits: u64,
    /// Token requests made (foreground and background).
    pub fetches: u64,
    /// Of those, the ones made in the background (refresh-ahead).
    pub background_refreshes: u64,
    /// Token requests that failed.
    pub failures: u64,
    /// Tokens taken from the store instead of fetched (another process's refresh, or a
    /// previous run's token).
    pub store_hits: u64,
    /// Store operations (lock, load, save, delete) that failed; each was logged and the
    /// provider went on without the store.
    pub store_errors: u64,
}

/// Whose token a provider serves: the app's own (client credentials) or a person's (a device
/// login or an authorization code, renewed with its refresh token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Grant {
    /// The app acting as itself: client-credentials tokens.
    App,
    /// A person: renewed with the refresh token, never replaced by an app token; when the
    /// login cannot be renewed, calls fail with `LoginRequired`.
    User,
}

impl From<Grant> for twilio_oauth::GrantKind {
    fn from(g: Grant) -> Self {
        match g {
            Grant::App => Self::App,
            Grant::User => Self::User,
        }
    }
}

impl From<twilio_oauth::GrantKind> for Grant {
    fn from(g: twilio_oauth::GrantKind) -> Self {
        match g {
            twilio_oauth::GrantKind::App => Self::App,
            twilio_oauth::GrantKind::User => Self::User,
        }
    }
}

/// The cached token that API calls use: a fresh token at once, otherwise one fetch shared by
/// every concurrent caller (single-flight), refreshed in the background ahead of expiry.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct TokenProvider(pub(crate) twilio_oauth::TokenProvider);

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[uniffi::export]
impl TokenProvider {
    /// A token that is not about to expire: from the cache when possible, otherwise from one
    /// fetch shared by every concurrent caller.
    #[uniffi::method(default(cancel = None))]
    pub async fn token(&self, cancel: Option<Arc<CancellationToken>>) -> Result<Arc<Token>> {
        let provider = self.0.clone();
        call(cancel, async move { provider.token().await })
            .await
            .map(Token::wrap)
    }

    /// The access token itself (secret).
    #[uniffi::method(default(cancel = None))]
    pub async fn access_token(&self, cancel: Option<Arc<CancellationToken>>) -> Result<String> {
        let provider = self.0.clone();
        call(cancel, async move { provider.access_token().await }).await
    }

    /// `"Bearer <access token>"` (secret).
    #[uniffi::method(default(cancel = None))]
    pub async fn authorization_header(
        &self,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<String> {
        let provider = self.0.clone();
        call(cancel, async move { provider.authorization_header().await }).await
    }

    /// A token other than `rejectedAccessToken`, which the API just refused with 401: drops it
    /// from the cache unless another caller already replaced it, then returns a good one.
    #[uniffi::method(default(cancel = None))]
    pub async fn token_after_unauthorized(
        &self,
        rejected_access_token: String,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let provider = self.0.clone();
        call(cancel, async move {
            provider
                .token_after_unauthorized(&rejected_access_token)
                .await
        })
        .await
        .map(Token::wrap)
    }

    /// [`TokenProvider::token`] for callers outside coroutines / `async` code: a cache hit
    /// returns at once, a miss blocks the calling thread until the fetch completes.
    pub fn token_blocking(&self) -> Result<Arc<Token>> {
        call_sync(|| self.0.token_blocking()).map(Token::wrap)
    }

    /// The cached token if it may be handed out, else `null`/`nil`: no I/O, never blocks.
    /// (`cachedToken()`, its former name, is kept in Kotlin and Swift as a deprecated alias.)
    pub fn cached(&self) -> Option<Arc<Token>> {
        self.0.cached().map(Token::wrap)
    }

    /// Drops the cached token (call it after the API answered 401).
    pub fn invalidate(&self) {
        self.0.invalidate()
    }

    /// The provider's counters.
    pub fn stats(&self) -> Stats {
        // Destructured without `..`: a counter added to the core does not compile until it is
        // added here.
        let twilio_oauth::Stats {
            hits,
            fetches,
            background_refreshes,
            failures,
            store_hits,
            store_errors,
        } = self.0.stats();
        Stats {
            hits,
            fetches,
            background_refreshes,
            failures,
            store_hits,
            store_errors,
        }
    }

    /// The key under which this provider's token is cached and stored: an opaque string
    /// (`twilio-oauth:v2?…`) naming the server, app, account, grant, person, scope and
    /// audience. Compare it, never parse it.
    pub fn key(&self) -> String {
        self.0.key().to_owned()
    }

    /// Whose token this provider serves: `App` or `User`.
    pub fn grant(&self) -> Grant {
        self.0.grant().into()
    }
}
