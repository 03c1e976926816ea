//! Token stores: the core's `FileStore` and `RedisStore` as classes, and a `TokenStore`
//! written in JavaScript.

use std::fmt;
use std::sync::Arc;

use napi::Env;
use napi::Status;
use napi::bindgen_prelude::{Either, FnArgs, Promise, Uint8Array};
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use twilio_oauth::runtime::seconds;
use twilio_oauth::{Error, RedisOptions, Result, TokenStore, async_trait};

use crate::error::{check, guarded};
use crate::token::Token;

/// Keeps tokens in one JSON file (mode 0600, replaced atomically), shared safely by processes
/// (OS file locks; a provider re-reads the file under the lock before refreshing). The file's
/// folder must not be writable by others (use `fs.mkdtempSync`).
#[napi]
pub struct FileStore {
    pub(crate) inner: Arc<twilio_oauth::FileStore>,
    path: String,
}

#[napi]
impl FileStore {
    /// A store in the JSON file at `path` (created on the first save).
    #[napi(constructor)]
    pub fn new(env: &Env, path: String) -> napi::Result<Self> {
        if path.is_empty() {
            return Err(crate::error::to_js(
                env,
                &Error::Config {
                    message: "FileStore needs a path".into(),
                },
            ));
        }
        Ok(Self {
            inner: Arc::new(twilio_oauth::FileStore::new(&path)),
            path,
        })
    }

    /// The file's path.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// The cache keys the file holds.
    #[napi]
    pub fn keys(&self, env: &Env) -> napi::Result<Vec<String>> {
        guarded(env, || self.inner.keys())
    }

    /// `{ path }`.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, string>")]
    pub fn summary(&self) -> std::collections::HashMap<String, String> {
        std::collections::HashMap::from([("path".to_owned(), self.path.clone())])
    }
}

/// Options of `new RedisStore(url, …)`.
#[napi(object)]
#[derive(Default)]
pub struct RedisStoreOptions {
    /// Prefix of every key (default `twilio-oauth:`), so several apps can share a database.
    pub key_prefix: Option<String>,
    /// The AES-256-GCM key (32 bytes, or their base64) that encrypts every token at rest, bound
    /// to its cache key. Without it the key is read from `TWILIO_OAUTH_ENCRYPTION_KEY`
    /// (base64); without either, tokens are stored in the clear — bearer tokens that anyone
    /// who can read the Redis database can use.
    pub encryption_key: Option<Either<Uint8Array, String>>,
    /// Seconds one Redis call may take before the provider goes on without Redis (default
    /// 0.3).
    pub operation_timeout: Option<f64>,
    /// Seconds a fetch may hold the fleet's lock (default 35): longer than a token request.
    pub lock_ttl: Option<f64>,
    /// Seconds to wait for another process's fetch before fetching alone (default 35).
    pub lock_wait: Option<f64>,
}

/// Tokens in Redis (or Valkey), shared by every process of a fleet: one token request per
/// lifetime for the whole fleet (a fleet-wide lock around each fetch), tokens encrypted at
/// rest when a key is given. Redis down, slow or refusing never fails a call: each process
/// carries on alone and counts it in `stats().storeErrors`.
#[napi]
pub struct RedisStore {
    pub(crate) inner: Arc<twilio_oauth::RedisStore>,
}

#[napi]
impl RedisStore {
    /// A store on `url` (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS). No
    /// connection is made yet: the first call connects, and later calls reconnect as needed.
    #[napi(constructor)]
    pub fn new(env: &Env, url: String, options: Option<RedisStoreOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or_default();
        let encryption_key = match o.encryption_key {
            Some(Either::A(bytes)) => Some(bytes.to_vec()),
            Some(Either::B(text)) => Some(base64(env, &text)?),
            None => None,
        };
        let defaults = RedisOptions::default();
        let duration = |name: &str, value: Option<f64>, default| {
            value.map_or(Ok(default), |v| seconds(name, v))
        };
        let options = RedisOptions {
            key_prefix: o.key_prefix.unwrap_or(defaults.key_prefix),
            encryption_key,
            operation_timeout: check(
                env,
                duration(
                    "operationTimeout",
                    o.operation_timeout,
                    defaults.operation_timeout,
                ),
            )?,
            lock_ttl: check(env, duration("lockTtl", o.lock_ttl, defaults.lock_ttl))?,
            lock_wait: check(env, duration("lockWait", o.lock_wait, defaults.lock_wait))?,
        };
        let inner = guarded(env, || twilio_oauth::RedisStore::connect(&url, options))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// True when tokens are encrypted at rest.
    #[napi(getter)]
    pub fn encrypted(&self) -> bool {
        self.inner.is_encrypted()
    }

    /// The prefix of every key.
    #[napi(getter)]
    pub fn key_prefix(&self) -> String {
        self.inner.key_prefix().to_owned()
    }

    /// `{ keyPrefix, encrypted }` (never the URL: it may hold a password).
    #[napi(
        js_name = "toJSON",
        ts_return_type = "Record<string, string | boolean>"
    )]
    pub fn summary(&self) -> std::collections::HashMap<String, Either<String, bool>> {
        std::collections::HashMap::from([
            ("keyPrefix".to_owned(), Either::A(self.key_prefix())),
            ("encrypted".to_owned(), Either::B(self.encrypted())),
        ])
    }
}

/// Decodes a key given as base64 (standard alphabet, padded), strictly.
fn base64(env: &Env, text: &str) -> napi::Result<Vec<u8>> {
    decode_base64(text).ok_or_else(|| {
        crate::error::to_js(
            env,
            &Error::Config {
                message: "encryptionKey must be 32 bytes or their base64".into(),
            },
        )
    })
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let chunks = text.len() / 4;
    let mut out = Vec::with_capacity(chunks * 3);
    for (i, chunk) in text.chunks(4).enumerate() {
        let padding = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - padding]);
    }
    Some(out)
}

/// The arguments the dispatcher receives (spread: `op, key, token`).
pub(crate) type StoreCall = FnArgs<(String, String, Option<Token>)>;

/// The dispatcher `index.js` makes of a JavaScript `TokenStore`: `(op, key, token) =>
/// Promise<string | null>`, `op` being `"load"`, `"save"` or `"delete"`, and `load`
/// resolving to the token's `toJson()` or `null`. Weak: a provider with a JavaScript store
/// does not keep the process alive.
pub(crate) type StoreFn =
    ThreadsafeFunction<StoreCall, Promise<Option<String>>, StoreCall, Status, false, true>;

/// The core's `TokenStore` over a JavaScript object.
pub(crate) struct JsStore {
    call: StoreFn,
}

impl JsStore {
    pub(crate) fn new(call: StoreFn) -> Self {
        Self { call }
    }

    async fn invoke(
        &self,
        op: &str,
        key: &str,
        token: Option<&twilio_oauth::Token>,
    ) -> Result<Option<String>> {
        let args = FnArgs::from((
            op.to_owned(),
            key.to_owned(),
            token.cloned().map(Token::new),
        ));
        let promise = self
            .call
            .call_async_catch(args)
            .await
            .map_err(|e| store_error(op, &e))?;
        promise.await.map_err(|e| store_error(op, &e))
    }
}

fn store_error(op: &str, e: &napi::Error) -> Error {
    Error::Store {
        message: format!("JavaScript TokenStore.{op} failed: {}", e.reason),
    }
}

impl fmt::Debug for JsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsStore")
    }
}

#[async_trait]
impl TokenStore for JsStore {
    async fn load(&self, key: &str) -> Result<Option<twilio_oauth::Token>> {
        match self.invoke("load", key, None).await? {
            Some(json) => twilio_oauth::Token::from_json(&json).map(Some),
            None => Ok(None),
        }
    }

    async fn save(&self, key: &str, token: &twilio_oauth::Token) -> Result<()> {
        self.invoke("save", key, Some(token)).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.invoke("delete", key, None).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn a_base64_key_is_decoded_strictly() {
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("Zm9vYmFy").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(decode_base64("Zm9vYg==").as_deref(), Some(&b"foob"[..]));
        assert_eq!(decode_base64("Zm9vYmE=").as_deref(), Some(&b"fooba"[..]));
        assert_eq!(
            decode_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").map(|k| k.len()),
            Some(32)
        );
        for bad in ["Zm9", "Zm9v!mFy", "Zg==Zm9v", "Z===", "Zm9v YmFy"] {
            assert_eq!(decode_base64(bad), None, "{bad}");
        }
    }
}
