//! `TokenStore`: where cached tokens live, implementable in Kotlin or Swift (Keychain, Android
//! Keystore-backed storage, a database) or taken from the built-in memory, file and Redis
//! stores.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::token::Token;
use crate::{Result, call, call_sync};

/// Somewhere to keep tokens between runs. Keys are opaque strings built by the provider.
///
/// Implement it in Kotlin (`suspend` functions) or Swift (`async throws`); persist a token with
/// `token.toJson()` and read it back with `Token.fromJson(json)`. Anything the implementation
/// throws becomes a `Store` error, which the provider logs before carrying on without the store:
/// a failing store never breaks token acquisition.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The token saved under `key`, if any.
    async fn load(&self, key: String) -> Result<Option<Arc<Token>>>;
    /// Saves `token` under `key`, replacing what was there.
    async fn save(&self, key: String, token: Arc<Token>) -> Result<()>;
    /// Forgets `key`.
    async fn delete(&self, key: String) -> Result<()>;
}

/// An app's store, seen by the core.
pub(crate) struct ForeignStore(pub(crate) Arc<dyn TokenStore>);

impl fmt::Debug for ForeignStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ForeignTokenStore")
    }
}

#[twilio_oauth::async_trait]
impl twilio_oauth::TokenStore for ForeignStore {
    async fn load(&self, key: &str) -> twilio_oauth::Result<Option<twilio_oauth::Token>> {
        let found = self.0.load(key.to_owned()).await?;
        Ok(found.map(|t| t.0.clone()))
    }

    async fn save(&self, key: &str, token: &twilio_oauth::Token) -> twilio_oauth::Result<()> {
        Ok(self
            .0
            .save(key.to_owned(), Token::wrap(token.clone()))
            .await?)
    }

    async fn delete(&self, key: &str) -> twilio_oauth::Result<()> {
        Ok(self.0.delete(key.to_owned()).await?)
    }
}

/// One of the core's stores, offered to the foreign side as a `TokenStore`. Direct calls from
/// Kotlin or Swift run on the core's runtime, as the provider's do.
struct BuiltinStore(Arc<dyn twilio_oauth::TokenStore>);

#[async_trait::async_trait]
impl TokenStore for BuiltinStore {
    async fn load(&self, key: String) -> Result<Option<Arc<Token>>> {
        let store = self.0.clone();
        let found = call(None, async move { store.load(&key).await }).await?;
        Ok(found.map(Token::wrap))
    }

    async fn save(&self, key: String, token: Arc<Token>) -> Result<()> {
        let store = self.0.clone();
        call(None, async move { store.save(&key, &token.0).await }).await
    }

    async fn delete(&self, key: String) -> Result<()> {
        let store = self.0.clone();
        call(None, async move { store.delete(&key).await }).await
    }
}

/// The built-in stores handed out so far, by address. A provider given one of them must see
/// the core's store itself, not a `TokenStore` wrapper around it: only the core's `FileStore`
/// knows how to lock a key against other processes while it refreshes (the foreign trait has
/// no `lock`). uniffi hands a Rust-made trait object back as the same `Arc`, so its address
/// finds it here; the `Weak` keeps that address from being reused while it is listed.
static BUILTIN: Mutex<Vec<Weak<BuiltinStore>>> = Mutex::new(Vec::new());

fn builtin(store: impl twilio_oauth::TokenStore + 'static) -> Arc<dyn TokenStore> {
    let store = Arc::new(BuiltinStore(Arc::new(store)));
    let mut listed = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
    listed.retain(|w| w.strong_count() > 0);
    listed.push(Arc::downgrade(&store));
    store
}

/// What the core should use for a store passed in from Kotlin or Swift: the core's own store
/// when it is one of ours (`fileTokenStore`, `memoryTokenStore`, `RedisStore`), else the
/// foreign object.
pub(crate) fn core_store(store: Arc<dyn TokenStore>) -> Arc<dyn twilio_oauth::TokenStore> {
    let address = Arc::as_ptr(&store).cast::<()>();
    let listed = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
    let ours = listed
        .iter()
        .find(|w| w.as_ptr().cast::<()>() == address)
        .and_then(Weak::upgrade);
    drop(listed);
    match ours {
        Some(builtin) => builtin.0.clone(),
        None => Arc::new(ForeignStore(store)),
    }
}

/// A store that keeps tokens in memory (what a provider uses when given none).
#[uniffi::export]
pub fn memory_token_store() -> Arc<dyn TokenStore> {
    builtin(twilio_oauth::MemoryStore::new())
}

/// A store that keeps tokens in one JSON file (mode 0600 in a 0700 folder, replaced
/// atomically), for desktop JVM apps and command-line tools. Processes that share the file
/// share the tokens safely: a provider locks the person's entry while it refreshes, and uses a
/// token another process already refreshed, so a rotated refresh token is sent once. A folder or
/// file that other users can write is refused (`Store` error). Mobile apps should implement
/// `TokenStore` over the Keychain or Keystore-backed storage instead.
#[uniffi::export]
pub fn file_token_store(path: String) -> Arc<dyn TokenStore> {
    builtin(twilio_oauth::FileStore::new(path))
}

/// A store in Redis or Valkey, shared by every process of a fleet (Kotlin and Swift also offer
/// it as `RedisStore(url, keyPrefix, encryptionKey)`).
///
/// `url` is `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS; every key
/// starts with `keyPrefix`. With `encryptionKey` (32 bytes; else the base64 key in
/// `TWILIO_OAUTH_ENCRYPTION_KEY`) values are encrypted with AES-256-GCM, bound to their cache
/// key. **Without one, tokens are stored in the clear: bearer tokens that anyone who can read
/// the Redis database can use.**
///
/// The in-process cache stays in front (a cache hit never touches Redis). Around a fetch the
/// provider takes the key's fleet-wide lock and re-reads Redis, so the fleet makes one token
/// request per lifetime and sends a refresh token once. Redis down or slow (300 ms per call):
/// every provider carries on alone, logging one warning and counting `stats().storeErrors`.
/// `lockTtl`: how long a fetch may hold the fleet's lock (default 35 s; a holder that dies
/// delays the others at most this long). No connection is made here; a malformed URL or key is
/// a `Config` error.
#[uniffi::export(default(key_prefix = "twilio-oauth:", encryption_key = None, lock_ttl = None))]
pub fn redis_token_store(
    url: String,
    key_prefix: String,
    encryption_key: Option<Vec<u8>>,
    lock_ttl: Option<std::time::Duration>,
) -> Result<Arc<dyn TokenStore>> {
    call_sync(|| {
        let lock_ttl = twilio_oauth::runtime::seconds_or(
            "lockTtl",
            lock_ttl.map(|d| d.as_secs_f64()),
            twilio_oauth::DEFAULT_LOCK_TTL,
        )?;
        twilio_oauth::RedisStore::connect(
            &url,
            twilio_oauth::RedisOptions {
                key_prefix,
                encryption_key,
                lock_ttl,
                ..twilio_oauth::RedisOptions::default()
            },
        )
    })
    .map(builtin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_redis_url_or_key_is_a_config_error() {
        for (url, key) in [
            ("not a url", None),
            ("redis://127.0.0.1:6379/0", Some(vec![1u8; 16])),
        ] {
            match redis_token_store(url.into(), "twilio-oauth:".into(), key, None) {
                Err(e) => assert_eq!(e.kind(), "ConfigError", "{e}"),
                Ok(_) => unreachable!("{url} was accepted"),
            }
        }
    }

    #[test]
    fn a_builtin_store_reaches_the_core_unwrapped_and_a_foreign_one_wrapped() {
        let dir = std::env::temp_dir().join("never-created-by-this-test");
        let file = file_token_store(dir.join("t.json").display().to_string());
        let core = core_store(file.clone());
        assert!(format!("{core:?}").starts_with("FileStore"), "{core:?}");

        struct Foreign;
        #[async_trait::async_trait]
        impl TokenStore for Foreign {
            async fn load(&self, _: String) -> Result<Option<Arc<Token>>> {
                Ok(None)
            }
            async fn save(&self, _: String, _: Arc<Token>) -> Result<()> {
                Ok(())
            }
            async fn delete(&self, _: String) -> Result<()> {
                Ok(())
            }
        }
        let foreign: Arc<dyn TokenStore> = Arc::new(Foreign);
        assert_eq!(format!("{:?}", core_store(foreign)), "ForeignTokenStore");
        // A Redis store reaches the core as itself, so its fleet-wide lock is used.
        let redis =
            redis_token_store("redis://127.0.0.1:1/0".into(), "t:".into(), None, None).unwrap();
        let redis_core = core_store(redis.clone());
        assert!(
            format!("{redis_core:?}").starts_with("RedisStore"),
            "{redis_core:?}"
        );
        drop((redis, redis_core));
        // Once the app drops the built-in store, its entry goes with the next one made.
        drop((file, core));
        let _memory = memory_token_store();
        let listed = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(listed.iter().all(|w| w.strong_count() > 0));
    }
}
