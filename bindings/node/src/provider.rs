//! `TokenProvider`: the cached token that API calls use.

use std::cell::RefCell;
use std::rc::Rc;

use napi::Env;
use napi::bindgen_prelude::{Either, Function, JsObjectValue, Object};
use napi_derive::napi;
use twilio_oauth::Lookup;
use twilio_oauth::runtime::guard_sync;

use crate::client::CallOptions;
use crate::error::to_js;
use crate::task::{cancel_token, spawn};
use crate::token::Token;

/// Whose token a provider holds: the app's own (client credentials) or a person's.
#[napi(string_enum = "lowercase")]
pub enum GrantKind {
    /// The app's own token (client credentials).
    App,
    /// A person's token, renewed with its refresh token.
    User,
}

impl GrantKind {
    pub(crate) fn core(self) -> twilio_oauth::GrantKind {
        match self {
            GrantKind::App => twilio_oauth::GrantKind::App,
            GrantKind::User => twilio_oauth::GrantKind::User,
        }
    }
}

/// A provider's counters.
#[napi(object, object_from_js = false)]
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

/// The cached token that API calls use: one fetch shared by every concurrent caller,
/// refreshed in the background before it expires. Made by `client.tokenProvider()`.
#[napi]
pub struct TokenProvider {
    inner: twilio_oauth::TokenProvider,
}

impl TokenProvider {
    pub(crate) fn new(inner: twilio_oauth::TokenProvider) -> Self {
        Self { inner }
    }
}

#[napi]
impl TokenProvider {
    /// The key under which the token is cached and stored.
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.inner.key().to_owned()
    }

    /// `'app'` (client credentials) or `'user'` (a person's token; never an app token).
    #[napi(getter)]
    pub fn grant(&self) -> GrantKind {
        match self.inner.grant() {
            twilio_oauth::GrantKind::App => GrantKind::App,
            twilio_oauth::GrantKind::User => GrantKind::User,
        }
    }

    /// The cache-hit path for `index.js`, as two plain functions over this provider (napi's
    /// class methods cost several hundred nanoseconds a call; these, tens):
    /// - `tryToken()`: the core's `try_token()` (counts a hit, may start the background
    ///   refresh);
    /// - `cached()`: the core's `cached()` (no I/O, starts nothing).
    ///
    /// Each answers `0` when there is no token to hand out, `1` when it is the token the
    /// previous answer carried, and else the new `Token`: `index.js` keeps that object, and
    /// the strings it converted from it, for as long as the answer is `1`.
    #[napi(js_name = "_hotPath", skip_typescript)]
    pub fn hot_path<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let last: Rc<RefCell<Option<twilio_oauth::Token>>> = Rc::default();
        let mut functions = Object::new(env)?;
        for (name, counts) in [("tryToken", true), ("cached", false)] {
            let provider = self.inner.clone();
            let last = Rc::clone(&last);
            let function: Function<'_, (), Either<u32, Token>> =
                env.create_function_from_closure(name, move |ctx| {
                    let mut last = last.borrow_mut();
                    let found = guard_sync(|| {
                        Ok(if counts {
                            provider.try_token_since(last.as_ref())
                        } else {
                            provider.cached_since(last.as_ref())
                        })
                    })
                    .map_err(|e| to_js(ctx.env, &e))?;
                    let token = match found {
                        Lookup::Miss => return Ok(Either::A(0)),
                        Lookup::Unchanged => return Ok(Either::A(1)),
                        Lookup::Changed(token) => token,
                    };
                    *last = Some(token.clone());
                    Ok(Either::B(Token::new(token)))
                })?;
            functions.set_named_property(name, function)?;
        }
        Ok(functions)
    }

    /// A fresh token: from the cache when possible (answered on the calling thread), else
    /// one fetch shared by every concurrent caller.
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn token<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let provider = self.inner.clone();
        spawn(
            env,
            cancel_token(env, options.and_then(|o| o.signal))?,
            async move { provider.token().await },
            Token::new,
        )
    }

    /// The access token string (of `token()`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn access_token<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let provider = self.inner.clone();
        spawn(
            env,
            cancel_token(env, options.and_then(|o| o.signal))?,
            async move { provider.access_token().await },
            |s| s,
        )
    }

    /// `"Bearer <access token>"` (of `token()`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn authorization_header<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let provider = self.inner.clone();
        spawn(
            env,
            cancel_token(env, options.and_then(|o| o.signal))?,
            async move { provider.authorization_header().await },
            |s| s,
        )
    }

    /// The cached token if it may be handed out, else `null`. Synchronous; no I/O.
    #[napi]
    pub fn cached_token(&self, env: &Env) -> napi::Result<Option<Token>> {
        guard_sync(|| Ok(self.inner.cached().map(Token::new))).map_err(|e| to_js(env, &e))
    }

    /// A token other than `rejectedAccessToken`, which the API just refused (401): drops it
    /// unless another caller already replaced it, then returns a good one.
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn token_after_unauthorized<'env>(
        &self,
        env: &'env Env,
        rejected_access_token: String,
        options: Option<CallOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let provider = self.inner.clone();
        spawn(
            env,
            cancel_token(env, options.and_then(|o| o.signal))?,
            async move {
                provider
                    .token_after_unauthorized(&rejected_access_token)
                    .await
            },
            Token::new,
        )
    }

    /// Drops the cached token, here and in the store (call it after a 401 from the API). A
    /// person's refresh token is kept, so the next call renews instead of asking them to sign
    /// in again.
    #[napi]
    pub fn invalidate(&self, env: &Env) -> napi::Result<()> {
        guard_sync(|| {
            self.inner.invalidate();
            Ok(())
        })
        .map_err(|e| to_js(env, &e))
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

    /// `{ key, grant, stats }` (never a secret).
    #[napi(
        js_name = "toJSON",
        ts_return_type = "{ key: string, grant: GrantKind, stats: ProviderStats }"
    )]
    pub fn summary<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let mut out = Object::new(env)?;
        out.set_named_property("key", self.key())?;
        out.set_named_property("grant", self.grant())?;
        out.set_named_property("stats", self.stats())?;
        Ok(out)
    }
}
