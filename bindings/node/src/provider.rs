//! `TokenProvider` as a native class. The synchronous methods are the cache-hit path: they
//! answer on the JavaScript thread without touching the runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::Env;
use napi::bindgen_prelude::{Function, JsObjectValue, Object};
use napi_derive::napi;
use twilio_oauth::TokenProvider;

use crate::task::{CancelHandle, spawn};
use crate::token::{NativeToken, token_id};

/// The provider's counters.
#[napi(object)]
pub struct ProviderStats {
    /// Calls answered from the cache.
    pub hits: f64,
    /// Token requests made (foreground and background).
    pub fetches: f64,
    /// Of those, the ones made in the background.
    pub background_refreshes: f64,
    /// Token requests that failed.
    pub failures: f64,
    /// Tokens taken from the store instead of fetched (another process's refresh, or a
    /// previous run's token).
    pub store_hits: f64,
    /// Store operations that failed (each was logged; the provider went on without the store).
    pub store_errors: f64,
}

/// The core's `TokenProvider`.
#[napi]
pub struct NativeProvider {
    inner: TokenProvider,
}

impl NativeProvider {
    pub(crate) fn new(inner: TokenProvider) -> Self {
        Self { inner }
    }
}

#[napi]
impl NativeProvider {
    /// The key under which the token is cached and stored.
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.inner.key().to_owned()
    }

    /// `"app"` (client credentials) or `"user"` (a person's token, renewed with its refresh
    /// token; never replaced by an app token).
    #[napi(getter, ts_return_type = "'app' | 'user'")]
    pub fn grant(&self) -> String {
        self.inner.grant().as_str().to_owned()
    }

    /// The cache-hit path as two plain functions bound to this provider, returning a token's
    /// identity (0 when there is none to hand out); the JavaScript layer keeps the wrapper of
    /// the current token, so a hit allocates nothing.
    /// - `tryTokenId()`: the core's `try_token()` (counts a hit, may start the background
    ///   refresh);
    /// - `cachedId()`: the core's `cached()` (no I/O, starts nothing).
    ///
    /// napi's class methods track borrows of `this` on every call (most of a microsecond);
    /// these closures skip that, so a cache hit costs about a hundred nanoseconds.
    #[napi(ts_return_type = "{ tryTokenId: () => number, cachedId: () => number }")]
    pub fn hot_path<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let mut functions = Object::new(env)?;
        let provider = self.inner.clone();
        let try_token_id: Function<'_, (), f64> =
            env.create_function_from_closure("tryTokenId", move |_ctx| {
                catch_unwind(AssertUnwindSafe(|| {
                    provider.try_token().map_or(0.0, |t| token_id(&t))
                }))
                .map_err(|_| crate::error::to_napi(&internal("tryTokenId panicked")))
            })?;
        let provider = self.inner.clone();
        let cached_id: Function<'_, (), f64> =
            env.create_function_from_closure("cachedId", move |_ctx| {
                catch_unwind(AssertUnwindSafe(|| {
                    provider.cached().map_or(0.0, |t| token_id(&t))
                }))
                .map_err(|_| crate::error::to_napi(&internal("cachedId panicked")))
            })?;
        functions.set_named_property("tryTokenId", try_token_id)?;
        functions.set_named_property("cachedId", cached_id)?;
        Ok(functions)
    }

    /// The core's `try_token()`: the token if it may be handed out, else `null`.
    #[napi(catch_unwind)]
    pub fn try_token(&self) -> Option<NativeToken> {
        self.inner.try_token().map(NativeToken::new)
    }

    /// The cached token if it may be handed out; no I/O, starts nothing.
    #[napi(catch_unwind)]
    pub fn cached(&self) -> Option<NativeToken> {
        self.inner.cached().map(NativeToken::new)
    }

    /// A fresh token: cached, or one fetch shared by every concurrent caller.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn token<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let provider = self.inner.clone();
        spawn(
            env,
            cancel,
            async move { provider.token().await },
            NativeToken::new,
        )
    }

    /// A token other than `rejected_access_token`, which the API just refused.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn token_after_unauthorized<'env>(
        &self,
        env: &'env Env,
        rejected_access_token: String,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let provider = self.inner.clone();
        spawn(
            env,
            cancel,
            async move {
                provider
                    .token_after_unauthorized(&rejected_access_token)
                    .await
            },
            NativeToken::new,
        )
    }

    /// Drops the cached token.
    #[napi]
    pub fn invalidate(&self) {
        self.inner.invalidate();
    }

    /// The provider's counters.
    #[napi]
    pub fn stats(&self) -> ProviderStats {
        let s = self.inner.stats();
        ProviderStats {
            hits: s.hits as f64,
            fetches: s.fetches as f64,
            background_refreshes: s.background_refreshes as f64,
            failures: s.failures as f64,
            store_hits: s.store_hits as f64,
            store_errors: s.store_errors as f64,
        }
    }
}

fn internal(message: &str) -> twilio_oauth::Error {
    twilio_oauth::Error::Internal {
        message: message.to_owned(),
    }
}
