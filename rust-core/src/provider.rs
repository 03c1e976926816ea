//! `TokenProvider`: the cached token that API calls use.
//!
//! States of the cached token, on the monotonic clock:
//! - fresh (`now < refresh_at`): returned at once, lock-free;
//! - refresh-ahead (`refresh_at <= now < stale_at`): returned at once, and one background
//!   refresh starts;
//! - stale (`now >= stale_at`, within the expiry margin): never handed out; callers share one
//!   fetch (single-flight).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use rand::Rng;

use crate::client::OAuthClient;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::secret::RefreshToken;
use crate::store::{MemoryStore, TokenStore};
use crate::token::Token;

/// Longest refresh-ahead window by default.
pub const MAX_REFRESH_AHEAD: Duration = Duration::from_secs(300);
/// Largest expiry margin by default.
pub const MAX_EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// After a refresh that did not extend the expiry, wait this long (or a tenth of the time
/// left, if less) before refreshing again in the background.
pub const NO_PROGRESS_PAUSE: Duration = Duration::from_secs(30);
const FAILURE_BACKOFF_BASE: Duration = Duration::from_secs(1);
const FAILURE_BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Options of [`OAuthClient::token_provider`].
#[derive(Default, Clone)]
pub struct ProviderOptions {
    /// Scope to request (normalised: `"a b"` and `"b a"` share a cache entry).
    pub scope: Option<String>,
    /// Audience to request.
    pub audience: Option<String>,
    /// Where tokens are kept between runs (default: memory).
    pub store: Option<Arc<dyn TokenStore>>,
    /// Refresh in the background this long before expiry (default: 5 minutes or half the
    /// lifetime, whichever is less, minus up to 10 % of jitter).
    pub refresh_ahead: Option<Duration>,
    /// Never hand out a token this close to expiry (default: 30 s or a tenth of the lifetime,
    /// whichever is less).
    pub expiry_margin: Option<Duration>,
    /// A token obtained elsewhere (device login, code exchange): served while fresh, then
    /// renewed with its refresh token.
    pub initial_token: Option<Token>,
}

impl fmt::Debug for ProviderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderOptions")
            .field("scope", &self.scope)
            .field("audience", &self.audience)
            .field("store", &self.store)
            .field("refresh_ahead", &self.refresh_ahead)
            .field("expiry_margin", &self.expiry_margin)
            .field("initial_token", &self.initial_token)
            .finish()
    }
}

/// Counters of a provider's work, for dashboards and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Calls answered from the cache.
    pub hits: u64,
    /// Token requests made (foreground and background).
    pub fetches: u64,
    /// Of those, the ones made in the background (refresh-ahead).
    pub background_refreshes: u64,
    /// Token requests that failed.
    pub failures: u64,
}

/// What an API call reports to [`TokenProvider::retry_unauthorized`].
#[derive(Debug)]
pub enum ApiCall<T> {
    /// The call went through (whatever its outcome, it was not a 401).
    Done(T),
    /// The API answered 401: the token was rejected.
    Unauthorized(T),
}

/// A cached token, shared by every caller.
///
/// - `token()` returns the cached token while it is fresh (a lock-free read); on a miss every
///   concurrent caller shares one fetch (single-flight).
/// - Inside the refresh-ahead window it returns the still-valid token at once and refreshes
///   once in the background.
/// - A failed background refresh keeps the valid token in service and retries with backoff; a
///   refresh that does not extend the expiry pauses refreshing instead of looping.
///
/// Cheap to clone: clones share the cache.
///
/// ```no_run
/// # async fn run() -> twilio_oauth::Result<()> {
/// use twilio_oauth::{OAuthClient, ProviderOptions};
/// let client = OAuthClient::from_env()?;
/// let provider = client.token_provider(ProviderOptions::default());
/// let header = provider.authorization_header().await?; // "Bearer eyJ…"
/// # let _ = header; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenProvider(Arc<Inner>);

struct Inner {
    client: OAuthClient,
    clock: Arc<dyn Clock>,
    key: String,
    scope: Option<String>,
    audience: Option<String>,
    store: Arc<dyn TokenStore>,
    refresh_ahead: Option<Duration>,
    expiry_margin: Option<Duration>,
    current: ArcSwapOption<Cached>,
    refresh_token: Mutex<Option<RefreshToken>>,
    /// Held by whoever is fetching; guards the last fetch's error.
    fetch: tokio::sync::Mutex<Option<Error>>,
    /// Bumped after every completed fetch, so waiters know one finished while they waited.
    generation: AtomicU64,
    store_checked: AtomicBool,
    refreshing: AtomicBool,
    /// No background refresh before this moment (after failures or a no-progress refresh).
    pause_until: Mutex<Option<Instant>>,
    consecutive_failures: AtomicU32,
    hits: AtomicU64,
    fetches: AtomicU64,
    background_refreshes: AtomicU64,
    failures: AtomicU64,
}

struct Cached {
    token: Token,
    refresh_at: Instant,
    stale_at: Instant,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("key", &self.0.key)
            .field("cached", &self.0.current.load().as_ref().map(|c| &c.token))
            .field("stats", &self.stats())
            .finish()
    }
}

/// Splits a scope string on spaces and commas, sorts and de-duplicates it.
pub fn normalize_scope(scope: &str) -> String {
    let mut parts: Vec<&str> = scope
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect();
    parts.sort_unstable();
    parts.dedup();
    parts.join(" ")
}

impl TokenProvider {
    pub(crate) fn new(client: OAuthClient, options: ProviderOptions) -> Self {
        let scope = options
            .scope
            .as_deref()
            .map(normalize_scope)
            .filter(|s| !s.is_empty());
        let audience = options.audience.filter(|a| !a.trim().is_empty());
        let grant = if options.initial_token.is_some() {
            "user"
        } else {
            "client_credentials"
        };
        let key = format!(
            "twilio-oauth:{}:{}:{}:{}",
            client.client_id(),
            grant,
            scope.as_deref().unwrap_or(""),
            audience.as_deref().unwrap_or("")
        );
        let clock = client.clock().clone();
        let provider = TokenProvider(Arc::new(Inner {
            clock,
            key,
            scope,
            audience,
            store: options
                .store
                .unwrap_or_else(|| Arc::new(MemoryStore::new())),
            refresh_ahead: options.refresh_ahead,
            expiry_margin: options.expiry_margin,
            current: ArcSwapOption::empty(),
            refresh_token: Mutex::new(None),
            fetch: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
            store_checked: AtomicBool::new(false),
            refreshing: AtomicBool::new(false),
            pause_until: Mutex::new(None),
            consecutive_failures: AtomicU32::new(0),
            hits: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
            background_refreshes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            client,
        }));
        if let Some(token) = options.initial_token {
            provider.install(token);
        }
        provider
    }

    /// The key under which this provider's token is cached and stored.
    pub fn key(&self) -> &str {
        &self.0.key
    }

    /// A token that is not within the expiry margin: from the cache when possible, otherwise
    /// from one fetch shared by every concurrent caller.
    pub async fn token(&self) -> Result<Token> {
        if let Some(t) = self.cached_or_refresh_ahead() {
            return Ok(t);
        }
        self.fetch_shared().await
    }

    /// The access token itself.
    pub async fn access_token(&self) -> Result<String> {
        Ok(self.token().await?.access_token().secret().to_owned())
    }

    /// `"Bearer <access token>"`.
    pub async fn authorization_header(&self) -> Result<String> {
        Ok(self.token().await?.authorization_header())
    }

    /// [`TokenProvider::token`] for callers without an async runtime (and for the bindings):
    /// a cache hit returns at once on the calling thread; a miss blocks on the shared runtime.
    pub fn token_blocking(&self) -> Result<Token> {
        if let Some(t) = self.cached_or_refresh_ahead() {
            return Ok(t);
        }
        let this = self.clone();
        crate::blocking::block_on(async move { this.fetch_shared().await })
    }

    /// The hot path of [`TokenProvider::token`] without any waiting: the cached token if it may
    /// be handed out (starting the one background refresh inside the refresh-ahead window), or
    /// `None` when a fetch is needed. Bindings use it to answer a cache hit on the caller's
    /// thread.
    pub fn try_token(&self) -> Option<Token> {
        self.cached_or_refresh_ahead()
    }

    /// The cached token if it may be handed out; no I/O, never blocks, starts nothing.
    pub fn cached(&self) -> Option<Token> {
        let now = self.0.clock.now();
        let guard = self.0.current.load();
        let c = guard.as_ref()?;
        (now < c.stale_at).then(|| c.token.clone())
    }

    /// Drops the cached token (call it after the API answered 401). The refresh token, if any,
    /// is kept for the next fetch.
    pub fn invalidate(&self) {
        self.0.current.store(None);
        // The stored copy is as bad as the cached one: do not load it back.
        self.0.store_checked.store(true, Ordering::Release);
    }

    /// A token other than `rejected_access_token`, which the API just refused: drops it from
    /// the cache unless another caller already replaced it, then returns a good one.
    pub async fn token_after_unauthorized(&self, rejected_access_token: &str) -> Result<Token> {
        let guard = self.0.current.load();
        match guard.as_ref() {
            Some(c) if c.token.access_token().secret() == rejected_access_token => {
                self.0.current.compare_and_swap(&guard, None);
                self.0.store_checked.store(true, Ordering::Release);
            }
            _ => {}
        }
        drop(guard);
        self.token().await
    }

    /// Runs an API call with a token; if it reports [`ApiCall::Unauthorized`], runs it once
    /// more with a token that is not the rejected one, and returns that outcome.
    pub async fn retry_unauthorized<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut(Token) -> Fut,
        Fut: Future<Output = ApiCall<T>>,
    {
        let token = self.token().await?;
        let rejected = token.access_token().secret().to_owned();
        match call(token).await {
            ApiCall::Done(v) => Ok(v),
            ApiCall::Unauthorized(_) => {
                let token = self.token_after_unauthorized(&rejected).await?;
                match call(token).await {
                    ApiCall::Done(v) | ApiCall::Unauthorized(v) => Ok(v),
                }
            }
        }
    }

    /// The provider's counters.
    pub fn stats(&self) -> Stats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            hits: load(&self.0.hits),
            fetches: load(&self.0.fetches),
            background_refreshes: load(&self.0.background_refreshes),
            failures: load(&self.0.failures),
        }
    }

    /// The hot path: a lock-free read of the cached token.
    fn cached_or_refresh_ahead(&self) -> Option<Token> {
        let guard = self.0.current.load();
        let c = guard.as_ref()?;
        let now = self.0.clock.now();
        if now < c.refresh_at {
            self.0.hits.fetch_add(1, Ordering::Relaxed);
            return Some(c.token.clone());
        }
        if now < c.stale_at {
            self.0.hits.fetch_add(1, Ordering::Relaxed);
            let token = c.token.clone();
            drop(guard);
            self.start_background_refresh(now);
            return Some(token);
        }
        None
    }

    fn start_background_refresh(&self, now: Instant) {
        if matches!(*self.0.pause_until.lock(), Some(until) if now < until) {
            return;
        }
        if self.0.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        crate::blocking::spawn_detached(async move {
            let _reset = ResetOnDrop(&this.0.refreshing);
            let mut last_error = this.0.fetch.lock().await;
            // Another caller may have fetched while we waited for the lock.
            let still_due = match this.0.current.load().as_ref() {
                Some(c) => this.0.clock.now() >= c.refresh_at,
                None => false,
            };
            if still_due {
                let _ = this.fetch_locked(&mut last_error, true).await;
            }
        });
    }

    /// Single-flight: the first caller fetches, the others wait for its result.
    async fn fetch_shared(&self) -> Result<Token> {
        let seen = self.0.generation.load(Ordering::Acquire);
        let mut last_error = self.0.fetch.lock().await;
        if let Some(t) = self.cached() {
            self.0.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(t);
        }
        if self.0.generation.load(Ordering::Acquire) != seen {
            // A fetch finished while we waited and left no usable token: share its error
            // rather than sending one more request per waiter.
            if let Some(e) = last_error.as_ref() {
                return Err(e.clone());
            }
        }
        if !self.0.store_checked.swap(true, Ordering::AcqRel) {
            match self.0.store.load(&self.0.key).await {
                Ok(Some(token)) => {
                    self.install(token);
                    if let Some(t) = self.cached() {
                        tracing::debug!(key = %self.0.key, "token loaded from the store");
                        return Ok(t);
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(key = %self.0.key, error = %e, "token store load failed"),
            }
        }
        self.fetch_locked(&mut last_error, false).await
    }

    /// Fetches and installs a token; the caller holds the fetch lock.
    async fn fetch_locked(
        &self,
        last_error: &mut Option<Error>,
        background: bool,
    ) -> Result<Token> {
        let previous = self.0.current.load_full();
        self.0.fetches.fetch_add(1, Ordering::Relaxed);
        if background {
            self.0.background_refreshes.fetch_add(1, Ordering::Relaxed);
        }
        let result = self.request().await;
        let now = self.0.clock.now();
        let result = result.and_then(|token| {
            if token.valid_until() <= now {
                Err(Error::InvalidResponse {
                    status: 200,
                    message: "the server returned a token that has already expired".into(),
                    excerpt: String::new(),
                })
            } else {
                Ok(token)
            }
        });
        match &result {
            Ok(token) => {
                self.0.consecutive_failures.store(0, Ordering::Relaxed);
                // The server handed back a token that expires no later than the one still in
                // service (a re-issue, or a shorter lifetime): keep the one we have, and pause
                // background refreshes instead of asking again at once.
                let keep = previous
                    .as_ref()
                    .filter(|p| now < p.stale_at && !token.outlives(&p.token));
                if let Some(p) = keep {
                    let pause = NO_PROGRESS_PAUSE.min(p.token.expires_in_at(now) / 10);
                    tracing::warn!(
                        pause_ms = pause.as_millis() as u64,
                        "refresh returned a token that expires no later than the cached one"
                    );
                    *self.0.pause_until.lock() = Some(now + pause);
                    *last_error = None;
                    self.0.generation.fetch_add(1, Ordering::AcqRel);
                    return Ok(p.token.clone());
                }
                *self.0.pause_until.lock() = None;
                self.install(token.clone());
                *last_error = None;
                if let Err(e) = self.0.store.save(&self.0.key, token).await {
                    tracing::warn!(key = %self.0.key, error = %e, "token store save failed");
                }
            }
            Err(e) => {
                self.0.failures.fetch_add(1, Ordering::Relaxed);
                let n = self.0.consecutive_failures.fetch_add(1, Ordering::Relaxed);
                let backoff = FAILURE_BACKOFF_BASE
                    .saturating_mul(1 << n.min(10))
                    .min(FAILURE_BACKOFF_CAP);
                *self.0.pause_until.lock() = Some(now + backoff);
                tracing::warn!(
                    error = %e,
                    background,
                    retry_in_ms = backoff.as_millis() as u64,
                    "token request failed"
                );
                *last_error = Some(e.clone());
            }
        }
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// One token request: the refresh token when there is one (falling back to client
    /// credentials if the server refuses it and the client has a secret), else client
    /// credentials.
    async fn request(&self) -> Result<Token> {
        let client = &self.0.client;
        let refresh = self.0.refresh_token.lock().clone();
        if let Some(rt) = refresh {
            match client.refresh(rt.secret()).await {
                Ok(t) => return Ok(t),
                Err(Error::Api(e))
                    if (400..500).contains(&e.status) && client.has_client_secret() =>
                {
                    tracing::warn!(
                        status = e.status,
                        "refresh token refused; using client credentials"
                    );
                    *self.0.refresh_token.lock() = None;
                }
                Err(e) => return Err(e),
            }
        }
        client
            .client_credentials(self.0.scope.as_deref(), self.0.audience.as_deref())
            .await
    }

    fn install(&self, token: Token) {
        let lifetime = token.lifetime();
        let margin = self
            .0
            .expiry_margin
            .unwrap_or_else(|| MAX_EXPIRY_MARGIN.min(lifetime / 10));
        let ahead = self.0.refresh_ahead.unwrap_or_else(|| {
            // Jitter so a fleet started together does not refresh in step.
            MAX_REFRESH_AHEAD
                .min(lifetime / 2)
                .mul_f64(rand::rng().random_range(0.9..=1.0))
        });
        let valid_until = token.valid_until();
        let stale_at = valid_until.checked_sub(margin).unwrap_or(valid_until);
        let refresh_at = valid_until
            .checked_sub(ahead)
            .unwrap_or(valid_until)
            .min(stale_at);
        if let Some(rt) = token.refresh_token() {
            *self.0.refresh_token.lock() = Some(rt.clone());
        }
        self.0.current.store(Some(Arc::new(Cached {
            token,
            refresh_at,
            stale_at,
        })));
    }
}

struct ResetOnDrop<'a>(&'a AtomicBool);

impl Drop for ResetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_normalised() {
        assert_eq!(normalize_scope("b a  a,c"), "a b c");
        assert_eq!(normalize_scope("a b"), normalize_scope("b a"));
    }
}
