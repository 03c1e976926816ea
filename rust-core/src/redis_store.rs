//! `RedisStore`: a token store shared by a fleet (Redis or Valkey), with a fleet-wide lock so
//! that the whole fleet makes one token request per lifetime.
//!
//! The in-process cache stays in front: a cache hit never touches Redis. Around a fetch the
//! provider takes the key's lock here (`SET NX PX` with a random value, released by
//! compare-and-delete), re-reads the token and uses one another process already fetched. Redis
//! down, slow or refusing is a `StoreError` the provider counts and carries on without: no
//! caller ever gets an error or an expired token because of Redis.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use parking_lot::Mutex;
use rand::RngCore;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::store::{StoreLock, TokenStore};
use crate::token::Token;

/// Keys start with this unless another prefix is given.
pub const DEFAULT_KEY_PREFIX: &str = "twilio-oauth:";
/// The environment variable read for the encryption key when none is given (32 bytes, base64).
pub const ENCRYPTION_KEY_ENV: &str = "TWILIO_OAUTH_ENCRYPTION_KEY";
/// How long one Redis call may take before the provider goes on without Redis.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(300);
/// How long a fetch may hold the fleet's lock: longer than a token request's timeout (30 s),
/// so a slow fetch keeps it, and a holder that died delays the fleet at most this long.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(35);
/// How long a process waits for another's fetch before it fetches for itself.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(35);
/// How long a person's token (with its refresh token) is kept after its access token expires.
pub const USER_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
const VALUE_VERSION: u32 = 1;

/// Options of [`RedisStore::connect`].
#[derive(Clone)]
pub struct RedisOptions {
    /// Prefix of every key (default `twilio-oauth:`): several apps can share one database.
    pub key_prefix: String,
    /// AES-256-GCM key (32 bytes) that encrypts every value; `None` reads
    /// `TWILIO_OAUTH_ENCRYPTION_KEY` (base64), and without it values are stored in the clear.
    pub encryption_key: Option<Vec<u8>>,
    /// Per-call timeout (default 300 ms).
    pub operation_timeout: Duration,
    /// Lifetime of the fleet's fetch lock (default 35 s).
    pub lock_ttl: Duration,
    /// How long to wait for another process's fetch (default 35 s).
    pub lock_wait: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_prefix: DEFAULT_KEY_PREFIX.into(),
            encryption_key: None,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            lock_ttl: DEFAULT_LOCK_TTL,
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }
}

impl fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOptions")
            .field("key_prefix", &self.key_prefix)
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "[redacted]"),
            )
            .field("operation_timeout", &self.operation_timeout)
            .field("lock_ttl", &self.lock_ttl)
            .field("lock_wait", &self.lock_wait)
            .finish()
    }
}

/// Tokens in Redis (or Valkey), shared by every process of a fleet. See the module docs.
///
/// ```no_run
/// # fn run() -> twilio_oauth::Result<()> {
/// use std::sync::Arc;
/// use twilio_oauth::{OAuthClient, ProviderOptions, RedisOptions, RedisStore};
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0", RedisOptions::default())?;
/// let provider = OAuthClient::from_env()?.token_provider(ProviderOptions {
///     store: Some(Arc::new(store)),
///     ..ProviderOptions::default()
/// });
/// # let _ = provider; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore(Arc<Inner>);

struct Inner {
    client: redis::Client,
    /// The connection of this process (a forked child makes its own).
    connection: Mutex<Option<(u32, ConnectionManager)>>,
    connecting: tokio::sync::Mutex<()>,
    options: RedisOptions,
    cipher: Option<Aes256Gcm>,
    clock: Arc<dyn Clock>,
    /// Set while Redis fails: one warning per outage, not one per call.
    down: AtomicBool,
    url_shown: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.0.url_shown)
            .field("key_prefix", &self.0.options.key_prefix)
            .field("encrypted", &self.0.cipher.is_some())
            .finish()
    }
}

/// What is stored under a key.
#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u32,
    /// The [`Payload`] as JSON, when not encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// AES-256-GCM nonce and ciphertext (base64), when encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<String>,
}

/// The cache key (so that `keys()` can list them without naming anyone in Redis key names)
/// and the token (`Token::to_json`): encrypted together when the store has a key.
#[derive(Serialize, Deserialize)]
struct Stored {
    key: String,
    token: String,
}

impl RedisStore {
    /// A store on `url` (`redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS).
    /// No connection is made yet: the first call connects, and every later call reconnects if
    /// needed.
    pub fn connect(url: &str, options: RedisOptions) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::config(format!("Redis URL {}: {e}", shown(url))))?;
        let key = match &options.encryption_key {
            Some(k) => Some(Zeroizing::new(k.clone())),
            None => match std::env::var(ENCRYPTION_KEY_ENV) {
                Ok(b64) if !b64.trim().is_empty() => {
                    Some(Zeroizing::new(STANDARD.decode(b64.trim()).map_err(
                        |_| Error::config(format!("{ENCRYPTION_KEY_ENV} is not base64")),
                    )?))
                }
                _ => None,
            },
        };
        let cipher = match key {
            Some(k) if k.len() == 32 => Some(
                Aes256Gcm::new_from_slice(&k)
                    .map_err(|_| Error::config("the encryption key must be 32 bytes"))?,
            ),
            Some(k) => {
                return Err(Error::config(format!(
                    "the encryption key must be 32 bytes (got {})",
                    k.len()
                )));
            }
            None => None,
        };
        if options.lock_ttl.is_zero() || options.operation_timeout.is_zero() {
            return Err(Error::config(
                "lock_ttl and operation_timeout must be greater than zero",
            ));
        }
        Ok(RedisStore(Arc::new(Inner {
            client,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            options,
            cipher,
            clock: Arc::new(SystemClock),
            down: AtomicBool::new(false),
            url_shown: shown(url),
        })))
    }

    /// True when values are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.0.cipher.is_some()
    }

    /// The prefix of every key this store writes.
    pub fn key_prefix(&self) -> &str {
        &self.0.options.key_prefix
    }

    /// The Redis key of a cache key: the prefix and a hash (a cache key names a person).
    pub fn redis_key(&self, key: &str) -> String {
        self.hashed("token", key)
    }

    fn lock_key(&self, key: &str) -> String {
        self.hashed("lock", key)
    }

    /// `<prefix><kind>:<hash of the cache key>`.
    fn hashed(&self, kind: &str, key: &str) -> String {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{kind}:{hex}", self.0.options.key_prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager> {
        let pid = std::process::id();
        if let Some((p, c)) = self.0.connection.lock().as_ref()
            && *p == pid
        {
            return Ok(c.clone());
        }
        let _connecting = self.0.connecting.lock().await;
        if let Some((p, c)) = self.0.connection.lock().as_ref()
            && *p == pid
        {
            return Ok(c.clone());
        }
        let timeout = self.0.options.operation_timeout;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let manager = tokio::time::timeout(
            timeout,
            ConnectionManager::new_with_config(self.0.client.clone(), config),
        )
        .await
        .map_err(|_| self.failed("connect", "timed out"))?
        .map_err(|e| self.failed("connect", e))?;
        *self.0.connection.lock() = Some((pid, manager.clone()));
        Ok(manager)
    }

    /// One Redis call, bounded by the operation timeout.
    async fn call<T>(
        &self,
        what: &str,
        f: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let mut conn = self.connection().await?;
        let result = tokio::time::timeout(self.0.options.operation_timeout, f(&mut conn))
            .await
            .map_err(|_| self.failed(what, "timed out"))?
            .map_err(|e| self.failed(what, e))?;
        if self.0.down.swap(false, Ordering::Relaxed) {
            tracing::info!(url = %self.0.url_shown, "Redis answers again: sharing tokens resumes");
        }
        Ok(result)
    }

    fn failed(&self, what: &str, e: impl fmt::Display) -> Error {
        if !self.0.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                url = %self.0.url_shown,
                error = %e,
                "Redis {what} failed: each process goes on with its own tokens until it answers"
            );
        }
        Error::Store {
            message: format!("Redis {what} failed ({}): {e}", self.0.url_shown),
        }
    }

    fn seal(&self, key: &str, token: &Token) -> Result<String> {
        let payload = Zeroizing::new(
            serde_json::to_string(&Stored {
                key: key.to_owned(),
                token: token.to_json(),
            })
            .map_err(|e| Error::internal(format!("cannot serialise a token: {e}")))?,
        );
        let envelope = match &self.0.cipher {
            None => Envelope {
                v: VALUE_VERSION,
                token: Some(payload.to_string()),
                nonce: None,
                data: None,
            },
            Some(cipher) => {
                let mut nonce = [0u8; 12];
                rand::rng().fill_bytes(&mut nonce);
                // The Redis key (a hash of the cache key) is the associated data: a value
                // moved to another key does not decrypt.
                let aad = self.redis_key(key);
                let data = cipher
                    .encrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: payload.as_bytes(),
                            aad: aad.as_bytes(),
                        },
                    )
                    .map_err(|_| Error::internal("cannot encrypt a token"))?;
                Envelope {
                    v: VALUE_VERSION,
                    token: None,
                    nonce: Some(STANDARD.encode(nonce)),
                    data: Some(STANDARD.encode(data)),
                }
            }
        };
        serde_json::to_string(&envelope)
            .map_err(|e| Error::internal(format!("cannot serialise a token: {e}")))
    }

    /// The cache key and token in the value stored under `rkey`, or why they cannot be used.
    fn open(&self, rkey: &str, value: &str) -> std::result::Result<(String, Token), String> {
        let envelope: Envelope =
            serde_json::from_str(value).map_err(|_| "not a twilio-oauth value".to_owned())?;
        if envelope.v != VALUE_VERSION {
            return Err(format!("value version {}", envelope.v));
        }
        let payload = match (&self.0.cipher, envelope) {
            (
                None,
                Envelope {
                    token: Some(json), ..
                },
            ) => Zeroizing::new(json),
            (
                Some(cipher),
                Envelope {
                    nonce: Some(nonce),
                    data: Some(data),
                    ..
                },
            ) => {
                let nonce: [u8; 12] = STANDARD
                    .decode(nonce)
                    .ok()
                    .and_then(|n| n.try_into().ok())
                    .ok_or_else(|| "bad nonce".to_owned())?;
                let data = STANDARD
                    .decode(data)
                    .map_err(|_| "bad ciphertext".to_owned())?;
                let plain = cipher
                    .decrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: &data,
                            aad: rkey.as_bytes(),
                        },
                    )
                    .map_err(|_| {
                        "it does not decrypt under this key for this cache key (tampered, moved, or another key)".to_owned()
                    })?;
                Zeroizing::new(String::from_utf8(plain).map_err(|_| "not UTF-8".to_owned())?)
            }
            (None, _) => return Err("it is encrypted and this store has no key".into()),
            (Some(_), _) => {
                return Err(
                    "it is not encrypted, and this store only reads encrypted values".into(),
                );
            }
        };
        let stored: Stored =
            serde_json::from_str(&payload).map_err(|_| "not a stored token".to_owned())?;
        if self.redis_key(&stored.key) != rkey {
            return Err("it belongs to another cache key".into());
        }
        let token = Token::from_json_with_clock(&stored.token, self.0.clock.as_ref())
            .map_err(|e| e.to_string())?;
        Ok((stored.key, token))
    }

    /// The cache keys of every token this store holds (a `SCAN` of its prefix; values it
    /// cannot read are left out).
    pub async fn keys(&self) -> Result<Vec<String>> {
        let pattern = format!("{}token:*", self.0.options.key_prefix);
        let names: Vec<String> = self
            .call("SCAN", async |c: &mut ConnectionManager| {
                let mut cursor = 0u64;
                let mut names = Vec::new();
                loop {
                    let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(200)
                        .query_async(c)
                        .await?;
                    names.extend(batch);
                    if next == 0 {
                        return Ok(names);
                    }
                    cursor = next;
                }
            })
            .await?;
        let mut keys = Vec::new();
        for rkey in names {
            let value: Option<String> = self
                .call("GET", async |c: &mut ConnectionManager| c.get(&rkey).await)
                .await?;
            if let Some((key, _)) = value.and_then(|v| self.open(&rkey, &v).ok()) {
                keys.push(key);
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Milliseconds to keep a token: until its access token expires, or, for a person's token
    /// (which carries a refresh token), a month past that.
    fn ttl_ms(&self, token: &Token) -> u64 {
        let left = token
            .expires_at()
            .duration_since(self.0.clock.system_time())
            .unwrap_or(Duration::ZERO);
        let keep = if token.refresh_token().is_some() {
            left + USER_TOKEN_TTL
        } else {
            left
        };
        (keep.as_millis() as u64).max(1_000)
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &str) -> Result<Option<Token>> {
        let rkey = self.redis_key(key);
        let value: Option<String> = self
            .call("GET", async |c: &mut ConnectionManager| c.get(&rkey).await)
            .await?;
        let Some(value) = value else {
            return Ok(None);
        };
        match self.open(&rkey, &value) {
            Ok((stored_key, token)) if stored_key == key => Ok(Some(token)),
            Ok(_) => {
                tracing::warn!(key = %rkey, "ignoring a Redis value stored for another cache key");
                Ok(None)
            }
            Err(why) => {
                tracing::warn!(key = %rkey, why, "ignoring a Redis value that is not a usable token");
                Ok(None)
            }
        }
    }

    async fn save(&self, key: &str, token: &Token) -> Result<()> {
        let rkey = self.redis_key(key);
        let value = self.seal(key, token)?;
        let ttl = self.ttl_ms(token);
        self.call("SET", async |c: &mut ConnectionManager| {
            c.pset_ex::<_, _, ()>(&rkey, value, ttl).await
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let rkey = self.redis_key(key);
        self.call("DEL", async |c: &mut ConnectionManager| {
            c.del::<_, ()>(&rkey).await
        })
        .await
    }

    async fn lock(&self, key: &str) -> Result<Option<StoreLock>> {
        let lock_key = self.lock_key(key);
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        // `pid:random`: unique per holder, and it says which process holds the fleet's lock.
        let value = format!(
            "{}:{}",
            std::process::id(),
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let ttl = self.0.options.lock_ttl.as_millis() as u64;
        let deadline = tokio::time::Instant::now() + self.0.options.lock_wait;
        let mut pause = Duration::from_millis(5);
        loop {
            let taken: Option<String> = self
                .call("SET NX", async |c: &mut ConnectionManager| {
                    redis::cmd("SET")
                        .arg(&lock_key)
                        .arg(&value)
                        .arg("NX")
                        .arg("PX")
                        .arg(ttl)
                        .query_async(c)
                        .await
                })
                .await?;
            if taken.is_some() {
                return Ok(Some(StoreLock::new(FleetLock {
                    store: self.clone(),
                    key: lock_key,
                    value,
                })));
            }
            if tokio::time::Instant::now() + pause >= deadline {
                return Err(Error::Store {
                    message: format!(
                        "another process has held the fleet's lock for more than {:?}",
                        self.0.options.lock_wait
                    ),
                });
            }
            // Short polling with backoff: the holder's fetch takes a request's time.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}

/// The fleet's lock on one key, released (only if still ours) when dropped.
struct FleetLock {
    store: RedisStore,
    key: String,
    value: String,
}

impl Drop for FleetLock {
    fn drop(&mut self) {
        let store = self.store.clone();
        let key = std::mem::take(&mut self.key);
        let value = std::mem::take(&mut self.value);
        crate::runtime::spawn_detached(async move {
            // Compare-and-delete: a lock that expired and was taken by another is not ours.
            let script = redis::Script::new(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
            );
            let _ = store
                .call("unlock", async |c: &mut ConnectionManager| {
                    script.key(&key).arg(&value).invoke_async::<i64>(c).await
                })
                .await;
        });
    }
}

/// The URL without its password, for messages.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}
