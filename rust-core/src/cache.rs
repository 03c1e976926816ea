//! `TokenProvider`: the cached token that API calls use, over a [`TokenSource`] (the OAuth
//! client in production; anything in tests, so the cache's own tests need no HTTP).
//!
//! States of the cached token, each judged on both the monotonic clock and the wall clock (the
//! monotonic clock stops while a machine sleeps):
//! - fresh (before `refresh_at`): returned at once, lock-free;
//! - refresh-ahead (before `stale_at`): returned at once, and one background refresh starts;
//! - stale (within the expiry margin): never handed out; callers share one fetch.
//!
//! Fetches belong to the provider, not to the caller that started them: they run as tasks, so
//! a caller that is cancelled leaves the fetch running for the others and its result installed.
//! Around each fetch the provider holds the store's lock (when the store is shared between
//! processes), re-reads the store and uses a token another process already refreshed; so a
//! rotated refresh token is sent once, by one process.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwapOption;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;
use rand::Rng;

use crate::clock::Clock;
use crate::error::{ApiError, Error, Result};
use crate::key::{CacheKey, GrantKind};
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

/// Where a [`TokenProvider`] gets its tokens. [`crate::OAuthClient`] is the one that talks to
/// Twilio; tests (and unusual setups) can supply their own.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug + 'static {
    /// The OAuth server's base URL (part of every cache key).
    fn base_url(&self) -> &str;
    /// The app's client id (part of every cache key).
    fn client_id(&self) -> &str;
    /// The clock that decides freshness.
    fn clock(&self) -> Arc<dyn Clock>;
    /// A token of the app itself (client credentials).
    async fn app_token(
        &self,
        scope: Option<&str>,
        audience: Option<&str>,
        account_sid: Option<&str>,
    ) -> Result<Token>;
    /// A person's login renewed with its refresh token, at the endpoint that issued it.
    async fn renew(&self, login: &Token) -> Result<Token>;
}

/// Options of [`crate::OAuthClient::token_provider`].
#[derive(Default, Clone)]
pub struct ProviderOptions {
    /// Scope to request (normalised: `"a b"` and `"b a"` share a cache entry).
    pub scope: Option<String>,
    /// Audience to request.
    pub audience: Option<String>,
    /// Act on behalf of this account (`account_sid` of client credentials); part of the key.
    pub account_sid: Option<String>,
    /// Where tokens are kept between runs (default: memory).
    pub store: Option<Arc<dyn TokenStore>>,
    /// Refresh in the background this long before expiry (default: 5 minutes or half the
    /// lifetime, whichever is less, minus up to 10 % of jitter; never more than three quarters
    /// of the lifetime).
    pub refresh_ahead: Option<Duration>,
    /// Never hand out a token this close to expiry (default: 30 s or a tenth of the lifetime,
    /// whichever is less; never more than half the lifetime).
    pub expiry_margin: Option<Duration>,
    /// A person's token obtained elsewhere (device login, code exchange): served while fresh,
    /// then renewed with its refresh token. Makes the provider a user provider.
    pub initial_token: Option<Token>,
    /// A label for the person (`"alice@example.com"`): keeps two people apart in a shared
    /// store and lets a later process find this login without a token in hand. Makes the
    /// provider a user provider. Default: the token's JWT `sub`.
    pub account: Option<String>,
    /// App or user. Default: user when `initial_token` or `account` is given, else app. A user
    /// provider never hands out an app token: when its grant cannot be refreshed it fails with
    /// `LoginRequiredError`.
    pub grant: Option<GrantKind>,
}

impl fmt::Debug for ProviderOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderOptions")
            .field("scope", &self.scope)
            .field("audience", &self.audience)
            .field("account_sid", &self.account_sid)
            .field("store", &self.store)
            .field("refresh_ahead", &self.refresh_ahead)
            .field("expiry_margin", &self.expiry_margin)
            .field("initial_token", &self.initial_token)
            .field("account", &self.account)
            .field("grant", &self.grant)
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
    /// Tokens taken from the store instead of fetched (another process's refresh, or a
    /// previous run's token).
    pub store_hits: u64,
    /// Store operations (lock, load, save, delete) that failed; each was logged and the
    /// provider went on without the store.
    pub store_errors: u64,
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
///   concurrent caller shares one fetch (single-flight), which belongs to the provider: a
///   cancelled caller does not cancel it.
/// - Inside the refresh-ahead window it returns the still-valid token at once and refreshes
///   once in the background.
/// - A failed background refresh keeps the valid token in service and retries with backoff; a
///   refresh that does not extend the expiry pauses refreshing instead of looping (its new
///   refresh token is kept all the same).
/// - A user provider (a person's token) renews with the refresh token, at the endpoint that
///   issued it, and never falls back to an app token: a refused refresh is
///   [`Error::LoginRequired`].
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

type SharedFetch = Shared<BoxFuture<'static, Result<Token>>>;

struct Inflight {
    /// The process that started it: after `fork()` the child does not wait for a fetch whose
    /// task lives in the parent.
    pid: u32,
    id: u64,
    future: SharedFetch,
}

struct Inner {
    source: Arc<dyn TokenSource>,
    clock: Arc<dyn Clock>,
    key: CacheKey,
    key_text: String,
    store: Arc<dyn TokenStore>,
    refresh_ahead: Option<Duration>,
    expiry_margin: Option<Duration>,
    current: ArcSwapOption<Cached>,
    /// The newest token holding a refresh token (user grants): its refresh token, issuer and
    /// device id say how to renew.
    grant_token: Mutex<Option<Token>>,
    /// An access token the API rejected: never taken back from the store.
    rejected: Mutex<Option<String>>,
    /// An `initial_token` not yet reconciled with an explicit store: the first fetch compares
    /// it with the stored token (the one issued later wins) and saves it.
    pending_initial: Mutex<Option<Token>>,
    inflight: Mutex<Option<Inflight>>,
    next_fetch_id: AtomicU64,
    /// No background refresh before this moment (after failures or a no-progress refresh).
    pause_until: Mutex<Option<Instant>>,
    consecutive_failures: AtomicU32,
    hits: AtomicU64,
    fetches: AtomicU64,
    background_refreshes: AtomicU64,
    failures: AtomicU64,
    store_hits: AtomicU64,
    store_errors: AtomicU64,
    /// Set after a store error, cleared by the next store call that works.
    store_failing: AtomicBool,
    /// The process that created the provider (a forked child is another).
    created_pid: u32,
    warned_fork: AtomicBool,
}

/// A cache read relative to the token the caller already holds (see
/// [`TokenProvider::try_token_since`]).
#[derive(Debug, Clone)]
pub enum Lookup {
    /// No token may be handed out: a fetch is needed.
    Miss,
    /// The token to hand out is the caller's `last` one.
    Unchanged,
    /// The token to hand out, another than the caller's `last` one.
    Changed(Token),
}

impl Lookup {
    /// The token found, unless it is the caller's own `last` one or there is none.
    pub fn into_token(self) -> Option<Token> {
        match self {
            Lookup::Changed(t) => Some(t),
            Lookup::Miss | Lookup::Unchanged => None,
        }
    }
}

struct Cached {
    token: Token,
    /// Judged on the precise clocks.
    exact: Deadlines,
    /// The same deadlines moved earlier by the coarse clocks' resolution, for the cache-hit
    /// check that reads the coarse clocks: it can refuse a token a few milliseconds early,
    /// never serve one late.
    hot: Deadlines,
}

#[derive(Clone, Copy)]
struct Deadlines {
    refresh_at: Instant,
    stale_at: Instant,
    refresh_wall: SystemTime,
    stale_wall: SystemTime,
}

impl Deadlines {
    fn fresh(&self, now: Instant, wall: SystemTime) -> bool {
        now < self.refresh_at && wall < self.refresh_wall
    }

    fn usable(&self, now: Instant, wall: SystemTime) -> bool {
        now < self.stale_at && wall < self.stale_wall
    }

    fn earlier_by(self, by: Duration) -> Self {
        Deadlines {
            refresh_at: self.refresh_at.checked_sub(by).unwrap_or(self.refresh_at),
            stale_at: self.stale_at.checked_sub(by).unwrap_or(self.stale_at),
            refresh_wall: self
                .refresh_wall
                .checked_sub(by)
                .unwrap_or(self.refresh_wall),
            stale_wall: self.stale_wall.checked_sub(by).unwrap_or(self.stale_wall),
        }
    }
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("key", &self.0.key_text)
            .field("cached", &self.0.current.load().as_ref().map(|c| &c.token))
            .field("stats", &self.stats())
            .finish()
    }
}

impl TokenProvider {
    /// A provider over any [`TokenSource`] (usually `OAuthClient::token_provider`).
    pub fn new(source: Arc<dyn TokenSource>, options: ProviderOptions) -> Self {
        let grant = options.grant.unwrap_or(
            if options.initial_token.is_some() || options.account.is_some() {
                GrantKind::User
            } else {
                GrantKind::App
            },
        );
        let subject = match grant {
            GrantKind::App => None,
            GrantKind::User => options
                .account
                .clone()
                .or_else(|| options.initial_token.as_ref().and_then(Token::subject)),
        };
        let key = CacheKey::new(
            source.base_url(),
            source.client_id(),
            grant,
            options.account_sid.as_deref(),
            subject.as_deref(),
            options.scope.as_deref(),
            options.audience.as_deref(),
        );
        let clock = source.clock();
        let explicit_store = options.store.is_some();
        let provider = TokenProvider(Arc::new(Inner {
            clock,
            key_text: key.to_string(),
            key,
            store: options
                .store
                .unwrap_or_else(|| Arc::new(MemoryStore::new())),
            refresh_ahead: options.refresh_ahead,
            expiry_margin: options.expiry_margin,
            current: ArcSwapOption::empty(),
            grant_token: Mutex::new(None),
            rejected: Mutex::new(None),
            pending_initial: Mutex::new(None),
            inflight: Mutex::new(None),
            next_fetch_id: AtomicU64::new(0),
            pause_until: Mutex::new(None),
            consecutive_failures: AtomicU32::new(0),
            hits: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
            background_refreshes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            store_hits: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
            store_failing: AtomicBool::new(false),
            created_pid: std::process::id(),
            warned_fork: AtomicBool::new(false),
            source,
        }));
        match options.initial_token {
            // Another process may hold a newer token of this login in the store: the first
            // fetch decides (before it, `cached()` is empty and `token()` waits for it).
            Some(token) if explicit_store => {
                *provider.0.grant_token.lock() = Some(token.clone());
                *provider.0.pending_initial.lock() = Some(token);
            }
            Some(token) => provider.install(token),
            None => {}
        }
        provider
    }

    /// The key under which this provider's token is cached and stored (the string form of
    /// [`TokenProvider::cache_key`]).
    pub fn key(&self) -> &str {
        &self.0.key_text
    }

    /// What this provider's token belongs to.
    pub fn cache_key(&self) -> &CacheKey {
        &self.0.key
    }

    /// App or user.
    pub fn grant(&self) -> GrantKind {
        self.0.key.grant()
    }

    /// A token that is not within the expiry margin: from the cache when possible, otherwise
    /// from one fetch shared by every concurrent caller.
    pub async fn token(&self) -> Result<Token> {
        loop {
            if let Some(t) = self.try_token() {
                return Ok(t);
            }
            return match self.join_fetch(false) {
                Joined::Ready(t) => Ok(t),
                Joined::Started(f) => f.await,
                Joined::Shared(f) => {
                    let token = f.await?;
                    // A fetch that began before `invalidate()` can bring back the token just
                    // rejected (a refresh that did not extend the expiry keeps the access token
                    // in service). It has finished now, so the next round starts a new one.
                    if self.is_rejected(&token) {
                        continue;
                    }
                    // Answered without a request of its own: a hit, as a cache read would be.
                    self.0.hits.fetch_add(1, Ordering::Relaxed);
                    Ok(token)
                }
                Joined::Failed(e) => Err(e),
            };
        }
    }

    fn is_rejected(&self, token: &Token) -> bool {
        self.0
            .rejected
            .lock()
            .as_deref()
            .is_some_and(|r| r == token.access_token().secret())
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
        if let Some(t) = self.try_token() {
            return Ok(t);
        }
        let this = self.clone();
        crate::runtime::block_on(async move { this.token().await })
    }

    /// The hot path of [`TokenProvider::token`] without any waiting: the cached token if it may
    /// be handed out (starting the one background refresh inside the refresh-ahead window), or
    /// `None` when a fetch is needed. Bindings use it to answer a cache hit on the caller's
    /// thread.
    pub fn try_token(&self) -> Option<Token> {
        self.lookup(None, true).into_token()
    }

    /// [`TokenProvider::try_token`] for a caller that keeps the last token it was given (and
    /// whatever it derived from it, such as a converted string): [`Lookup::Unchanged`] when
    /// the token to hand out is still `last`, without cloning it.
    pub fn try_token_since(&self, last: Option<&Token>) -> Lookup {
        self.lookup(last, true)
    }

    /// The cached token if it may be handed out; no I/O, never blocks, starts nothing.
    pub fn cached(&self) -> Option<Token> {
        self.cached_since(None).into_token()
    }

    /// [`TokenProvider::cached`] relative to the token the caller already holds (see
    /// [`TokenProvider::try_token_since`]).
    pub fn cached_since(&self, last: Option<&Token>) -> Lookup {
        self.lookup(last, false)
    }

    /// Drops the cached token (call it after the API answered 401), here and in the store, so
    /// that no process hands it out again. A person's refresh token is kept, so the next call
    /// renews instead of asking them to sign in again.
    pub fn invalidate(&self) {
        if let Some(initial) = self.0.pending_initial.lock().take() {
            // Not reconciled with the store yet: only its refresh token is left to use.
            *self.0.rejected.lock() = Some(initial.access_token().secret().to_owned());
        }
        if let Some(old) = self.0.current.swap(None) {
            self.forget(&old.token);
        }
    }

    /// A token other than `rejected_access_token`, which the API just refused: drops it from
    /// the cache unless another caller already replaced it, then returns a good one.
    pub async fn token_after_unauthorized(&self, rejected_access_token: &str) -> Result<Token> {
        let guard = self.0.current.load();
        match guard.as_ref() {
            Some(c) if c.token.access_token().secret() == rejected_access_token => {
                let token = c.token.clone();
                let previous = self.0.current.compare_and_swap(&guard, None);
                let swapped = match (previous.as_ref(), guard.as_ref()) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    _ => false,
                };
                if swapped {
                    self.forget(&token);
                }
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
            store_hits: load(&self.0.store_hits),
            store_errors: load(&self.0.store_errors),
        }
    }

    /// The lock-free read behind every cache hit. `serve` counts the hit and, inside the
    /// refresh-ahead window, starts the background refresh; without it the read has no effect.
    fn lookup(&self, last: Option<&Token>, serve: bool) -> Lookup {
        let guard = self.0.current.load();
        let Some(c) = guard.as_ref() else {
            return Lookup::Miss;
        };
        let now = self.0.clock.coarse_now();
        let wall = self.0.clock.coarse_system_time();
        let refresh = if c.hot.fresh(now, wall) {
            false
        } else if c.hot.usable(now, wall) {
            serve
        } else {
            return Lookup::Miss;
        };
        if serve {
            self.0.hits.fetch_add(1, Ordering::Relaxed);
        }
        let found = match last {
            Some(last) if last.is_same(&c.token) => Lookup::Unchanged,
            _ => Lookup::Changed(c.token.clone()),
        };
        if refresh {
            drop(guard);
            self.start_background_refresh(self.0.clock.now());
        }
        found
    }

    fn start_background_refresh(&self, now: Instant) {
        if matches!(*self.0.pause_until.lock(), Some(until) if now < until) {
            return;
        }
        // Joining an in-flight fetch is enough: its result is installed for everyone.
        let _ = self.join_fetch(true);
    }

    /// The in-flight fetch, or a new one owned by the provider (a task on the runtime).
    fn join_fetch(&self, background: bool) -> Joined {
        let pid = std::process::id();
        let mut slot = self.0.inflight.lock();
        // A fetch of this process that has not finished yet is joined; a finished one (its
        // task is clearing the slot) is not waited for again.
        if let Some(f) = slot
            .as_ref()
            .filter(|f| f.pid == pid && f.future.peek().is_none())
        {
            return Joined::Shared(f.future.clone());
        }
        if !background {
            // A fetch may have finished between the caller's miss and this lock.
            if let Some(t) = self.cached() {
                self.0.hits.fetch_add(1, Ordering::Relaxed);
                return Joined::Ready(t);
            }
        }
        let handle = match crate::runtime::handle() {
            Ok(h) => h,
            Err(e) => return Joined::Failed(e),
        };
        let id = self.0.next_fetch_id.fetch_add(1, Ordering::Relaxed);
        let this = self.clone();
        let task = handle.spawn(async move {
            let result = this.fetch(background).await;
            let mut slot = this.0.inflight.lock();
            if slot.as_ref().is_some_and(|f| f.id == id) {
                *slot = None;
            }
            result
        });
        let future = async move { crate::runtime::join_result(task.await) }
            .boxed()
            .shared();
        *slot = Some(Inflight {
            pid,
            id,
            future: future.clone(),
        });
        Joined::Started(future)
    }

    /// One fetch, under the store's lock: re-read the store, use what another process already
    /// fetched, otherwise request, install and save.
    async fn fetch(&self, background: bool) -> Result<Token> {
        let key = self.0.key_text.as_str();
        // First a plain read: when another process already fetched (the common case in a
        // fleet), its token is used without taking the lock at all.
        let read_first = self.0.pending_initial.lock().is_none();
        if read_first {
            match self.0.store.load(key).await {
                Ok(Some(stored)) => {
                    if self.consider_stored(stored)
                        && let Some(t) = self.servable(background)
                    {
                        return Ok(t);
                    }
                }
                Ok(None) => {}
                Err(e) => self.store_error("load", &e),
            }
        }
        let lock = match self.0.store.lock(key).await {
            Ok(lock) => lock,
            Err(e) => {
                self.store_error("lock", &e);
                None
            }
        };
        let initial = self.0.pending_initial.lock().take();
        if let Some(initial) = &initial {
            self.install(initial.clone());
        }
        if lock.is_none()
            && self.grant() == GrantKind::User
            && std::process::id() != self.0.created_pid
            && !self.0.warned_fork.swap(true, Ordering::Relaxed)
        {
            // Every forked copy holds the same refresh token: the first to refresh spends it
            // and the server revokes the login when the next one sends it.
            tracing::warn!(
                key = %self.0.key_text,
                "a person's token provider is used in a forked process with a store that \
                 processes cannot share: give it a FileStore (or RedisStore) so the login is \
                 refreshed once for all of them"
            );
        }
        // Without a lock nothing can have changed that the first read did not see.
        let reread = lock.is_some() || !read_first;
        let stored = match if reread {
            self.0.store.load(key).await
        } else {
            Ok(None)
        } {
            Ok(stored) => {
                self.0.store_failing.store(false, Ordering::Relaxed);
                stored
            }
            Err(e) => {
                self.store_error("load", &e);
                None
            }
        };
        // A token handed in (a fresh login) wins a tie with the stored one: JWT times are whole
        // seconds, and signing in again within one must not bring back the old login.
        let adopted = match (stored, &initial) {
            (Some(stored), Some(initial)) if !stored.issued_after(initial) => {
                stored.access_token() == initial.access_token()
                    && stored.refresh_token() == initial.refresh_token()
            }
            (Some(stored), _) => self.consider_stored(stored),
            (None, _) => false,
        };
        if let Some(initial) = initial.filter(|_| !adopted)
            && let Err(e) = self.0.store.save(key, &initial).await
        {
            self.store_error("save", &e);
        }
        if let Some(t) = self.servable(background) {
            return Ok(t);
        }
        self.request_and_install(background).await
    }

    /// The cached token if a fetch need not ask the server: fresh, or (for a caller that only
    /// needs a usable token) not yet inside the margin.
    fn servable(&self, background: bool) -> Option<Token> {
        let now = self.0.clock.now();
        let wall = self.0.clock.system_time();
        let c = self.0.current.load_full()?;
        (c.exact.fresh(now, wall) || (!background && c.exact.usable(now, wall)))
            .then(|| c.token.clone())
    }

    /// Takes a stored token when it is at least as new as the one in memory: the store is
    /// where every process's latest refresh lands (under the lock), and a rotated refresh token
    /// must replace the consumed one here. A newer `initial_token` wins over an older stored
    /// token.
    /// Returns true when the stored token was taken.
    fn consider_stored(&self, stored: Token) -> bool {
        let current = self.0.current.load_full();
        let grant_token = self.0.grant_token.lock().clone();
        let ours = current.as_ref().map(|c| &c.token).or(grant_token.as_ref());
        if let Some(ours) = ours {
            if ours.issued_after(&stored) {
                return false;
            }
            if ours.access_token() == stored.access_token()
                && ours.refresh_token() == stored.refresh_token()
            {
                // The same token: nothing to take, and nothing to save either.
                return true;
            }
        }
        let stored = if self.is_rejected(&stored) {
            stored.expired_copy(self.0.clock.now(), self.0.clock.system_time())
        } else {
            stored
        };
        self.0.store_hits.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(key = %self.0.key_text, "token taken from the store");
        self.install(stored);
        true
    }

    async fn request_and_install(&self, background: bool) -> Result<Token> {
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
        let wall = self.0.clock.system_time();
        match result {
            Ok(token) => {
                self.0.consecutive_failures.store(0, Ordering::Relaxed);
                // The server handed back a token that expires no later than the one still in
                // service (a re-issue, or a shorter lifetime): keep serving the one we have and
                // pause background refreshes instead of asking again at once. A rotated refresh
                // token is kept all the same: the one we sent is spent.
                let keep = previous.as_ref().filter(|p| {
                    p.exact.usable(now, wall)
                        && !token.outlives(&p.token)
                        && !self.is_rejected(&p.token)
                });
                let installed = match (keep, token.refresh_token()) {
                    (Some(p), Some(rt)) if p.token.refresh_token() != Some(rt) => {
                        p.token.clone().with_refresh_token(rt.secret().to_owned())
                    }
                    (Some(p), _) => p.token.clone(),
                    (None, _) => token,
                };
                if let Some(p) = keep {
                    let pause = NO_PROGRESS_PAUSE.min(p.token.expires_in_at(now) / 10);
                    tracing::warn!(
                        pause_ms = pause.as_millis() as u64,
                        "refresh returned a token that expires no later than the cached one"
                    );
                    *self.0.pause_until.lock() = Some(now + pause);
                } else {
                    *self.0.pause_until.lock() = None;
                }
                self.install(installed.clone());
                if let Err(e) = self.0.store.save(&self.0.key_text, &installed).await {
                    self.store_error("save", &e);
                }
                Ok(installed)
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
                if let Error::LoginRequired(_) = e {
                    // The grant is gone for every process: nothing left to renew with. The
                    // access token in service (if any) is served until its margin.
                    *self.0.grant_token.lock() = None;
                    if let Err(e) = self.0.store.delete(&self.0.key_text).await {
                        self.store_error("delete", &e);
                    }
                }
                Err(e)
            }
        }
    }

    /// One token request: client credentials for the app; for a person, the refresh token at
    /// the endpoint that issued it, and never anything else.
    async fn request(&self) -> Result<Token> {
        let key = &self.0.key;
        match key.grant() {
            GrantKind::App => {
                self.0
                    .source
                    .app_token(key.scope(), key.audience(), key.account_sid())
                    .await
            }
            GrantKind::User => {
                let login = self.0.grant_token.lock().clone();
                let Some(login) = login.filter(|t| t.refresh_token().is_some()) else {
                    return Err(Error::login_required(
                        "no refresh token for this login: sign in again",
                    ));
                };
                self.0.source.renew(&login).await.map_err(|e| match e {
                    Error::Api(api) if refused(&api) => Error::LoginRequired(api),
                    other => other,
                })
            }
        }
    }

    /// Removes a rejected token from the store (app: the entry; user: the access token, keeping
    /// the refresh token), unless another process already replaced it.
    fn forget(&self, token: &Token) {
        *self.0.rejected.lock() = Some(token.access_token().secret().to_owned());
        let this = self.clone();
        let rejected = token.access_token().clone();
        crate::runtime::spawn_detached(async move {
            let key = this.0.key_text.as_str();
            let _lock = this.0.store.lock(key).await;
            match this.0.store.load(key).await {
                Ok(Some(stored)) if stored.access_token() == &rejected => {
                    let result = match this.0.key.grant() {
                        GrantKind::App => this.0.store.delete(key).await,
                        GrantKind::User => {
                            let expired =
                                stored.expired_copy(this.0.clock.now(), this.0.clock.system_time());
                            this.0.store.save(key, &expired).await
                        }
                    };
                    if let Err(e) = result {
                        this.store_error("invalidate", &e);
                    }
                }
                Ok(_) => {}
                Err(e) => this.store_error("load", &e),
            }
        });
    }

    fn store_error(&self, what: &str, e: &Error) {
        // One warning per run of failures (a store that is down fails every call).
        if self.0.store_errors.fetch_add(1, Ordering::Relaxed) == 0
            || !self.0.store_failing.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(key = %self.0.key_text, error = %e, "token store {what} failed; going on without it");
        } else {
            tracing::debug!(key = %self.0.key_text, error = %e, "token store {what} failed");
        }
    }

    fn install(&self, token: Token) {
        let lifetime = token.lifetime();
        // Clamped so that no setting makes every call fetch: a token is always served for at
        // least half its lifetime, and refreshed ahead no earlier than a quarter into it.
        let margin = self
            .0
            .expiry_margin
            .unwrap_or_else(|| MAX_EXPIRY_MARGIN.min(lifetime / 10))
            .min(lifetime / 2);
        let ahead = self
            .0
            .refresh_ahead
            .unwrap_or_else(|| {
                // Jitter so a fleet started together does not refresh in step.
                MAX_REFRESH_AHEAD
                    .min(lifetime / 2)
                    .mul_f64(rand::rng().random_range(0.9..=1.0))
            })
            .min(lifetime.mul_f64(0.75));
        let valid_until = token.valid_until();
        let stale_at = valid_until.checked_sub(margin).unwrap_or(valid_until);
        let refresh_at = valid_until
            .checked_sub(ahead)
            .unwrap_or(valid_until)
            .min(stale_at);
        let expires_at = token.expires_at();
        let stale_wall = expires_at.checked_sub(margin).unwrap_or(expires_at);
        let refresh_wall = expires_at
            .checked_sub(ahead)
            .unwrap_or(expires_at)
            .min(stale_wall);
        if token.refresh_token().is_some() {
            *self.0.grant_token.lock() = Some(token.clone());
        }
        let exact = Deadlines {
            refresh_at,
            stale_at,
            refresh_wall,
            stale_wall,
        };
        self.0.current.store(Some(Arc::new(Cached {
            token,
            exact,
            hot: exact.earlier_by(self.0.clock.coarse_resolution()),
        })));
    }
}

/// A refresh the server refused for good: the grant is invalid, reused, revoked or its session
/// ended. Other 4xx (a bad client secret, say) are the app's problem, not the person's.
fn refused(e: &ApiError) -> bool {
    e.oauth_error() == Some("invalid_grant") || e.code == Some(322403)
}

enum Joined {
    /// A fetch finished just before: its token.
    Ready(Token),
    /// This caller started the fetch.
    Started(SharedFetch),
    /// This caller joined a fetch already under way.
    Shared(SharedFetch),
    Failed(Error),
}
