//! Token stores: the built-in `MemoryStore`, `FileStore` and `RedisStore` (handed to the core
//! as themselves, so their locks work), and any Python object with `load(key)`,
//! `save(key, token)` and `delete(key)` as a core `TokenStore`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyByteArray, PyBytes, PyString};
use twilio_oauth::{Error, FileStore, MemoryStore, RedisOptions, RedisStore, Token, TokenStore};

use crate::convert::quote;
use crate::errors::config_error;
use crate::types::PyToken;
use crate::wait::{call, wait};

/// Keeps tokens in memory (the default store).
#[pyclass(frozen, module = "twilio_oauth", name = "MemoryStore")]
pub(crate) struct PyMemoryStore(Arc<MemoryStore>);

/// Keeps tokens in one JSON file (mode 0600 in a private folder, replaced atomically), shared
/// safely by every process that opens it: a refresh runs under an OS file lock, after
/// re-reading the file, so N processes sharing one login make one refresh and never send a
/// refresh token twice.
#[pyclass(frozen, module = "twilio_oauth", name = "FileStore")]
pub(crate) struct PyFileStore(Arc<FileStore>);

/// Keeps tokens in Redis (or Valkey), shared by every process of a fleet: around a fetch a
/// provider takes the key's fleet-wide lock and re-reads Redis, so the whole fleet makes one
/// token request per lifetime and sends a refresh token once. The in-process cache stays in
/// front (a cache hit never touches Redis); Redis down or slow (300 ms per call) only makes
/// each process carry on alone, counted in `stats().store_errors`. Values are encrypted with
/// AES-256-GCM under `encryption_key` (or the base64 key in `TWILIO_OAUTH_ENCRYPTION_KEY`);
/// without one, tokens are stored in the clear.
#[pyclass(frozen, module = "twilio_oauth", name = "RedisStore")]
pub(crate) struct PyRedisStore(Arc<RedisStore>);

fn load(py: Python<'_>, store: Arc<dyn TokenStore>, key: String) -> PyResult<Option<PyToken>> {
    wait(py, async move { store.load(&key).await }).map(|t| t.map(PyToken))
}

fn save(py: Python<'_>, store: Arc<dyn TokenStore>, key: String, token: Token) -> PyResult<()> {
    wait(py, async move { store.save(&key, &token).await })
}

fn delete(py: Python<'_>, store: Arc<dyn TokenStore>, key: String) -> PyResult<()> {
    wait(py, async move { store.delete(&key).await })
}

#[pymethods]
impl PyMemoryStore {
    #[new]
    fn new() -> Self {
        Self(Arc::new(MemoryStore::new()))
    }

    /// The token saved under `key`, if any.
    fn load(&self, py: Python<'_>, key: String) -> PyResult<Option<PyToken>> {
        load(py, self.0.clone(), key)
    }

    /// Saves `token` under `key`.
    fn save(&self, py: Python<'_>, key: String, token: PyRef<'_, PyToken>) -> PyResult<()> {
        save(py, self.0.clone(), key, token.0.clone())
    }

    /// Forgets `key`.
    fn delete(&self, py: Python<'_>, key: String) -> PyResult<()> {
        delete(py, self.0.clone(), key)
    }

    fn __repr__(&self) -> &'static str {
        "<MemoryStore>"
    }
}

#[pymethods]
impl PyFileStore {
    #[new]
    fn new(path: PathBuf) -> Self {
        Self(Arc::new(FileStore::new(path)))
    }

    /// The file's path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.0.path().to_path_buf()
    }

    /// The keys currently stored; `StoreError` when the file cannot be read or is not a token
    /// file of this version (it is left untouched).
    fn keys(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let store = self.0.clone();
        py.detach(move || twilio_oauth::runtime::guard_sync(|| store.keys()))
            .map_err(|e| crate::errors::to_pyerr(py, &e))
    }

    /// The token saved under `key`, if any.
    fn load(&self, py: Python<'_>, key: String) -> PyResult<Option<PyToken>> {
        load(py, self.0.clone(), key)
    }

    /// Saves `token` under `key`.
    fn save(&self, py: Python<'_>, key: String, token: PyRef<'_, PyToken>) -> PyResult<()> {
        save(py, self.0.clone(), key, token.0.clone())
    }

    /// Forgets `key`.
    fn delete(&self, py: Python<'_>, key: String) -> PyResult<()> {
        delete(py, self.0.clone(), key)
    }

    fn __repr__(&self) -> String {
        format!(
            "<FileStore path={}>",
            quote(&self.0.path().to_string_lossy())
        )
    }
}

/// The `encryption_key` argument: bytes (or a bytearray) as they are, a str as base64.
fn encryption_key(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = key.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(bytes) = key.cast::<PyByteArray>() {
        return Ok(bytes.to_vec());
    }
    if key.is_instance_of::<PyString>() {
        let decoded = py
            .import("base64")?
            .call_method(
                "b64decode",
                (key,),
                Some(&[("validate", true)].into_py_dict(py)?),
            )
            .map_err(|_| config_error(py, "encryption_key is not base64"))?;
        return Ok(decoded.cast_into::<PyBytes>()?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "encryption_key must be bytes (32 of them) or a base64 str, not {}",
        key.get_type()
            .name()
            .map_or_else(|_| "?".into(), |n| n.to_string())
    )))
}

#[pymethods]
impl PyRedisStore {
    /// A store on `url` (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS); every
    /// key starts with `key_prefix`. `encryption_key`: 32 bytes, or their base64 text; `None`
    /// reads `TWILIO_OAUTH_ENCRYPTION_KEY`. `lock_ttl`: seconds a fetch may hold the fleet's
    /// lock (default 35; a holder that dies delays the others at most this long). No
    /// connection is made here (the first call connects); a malformed URL or key is a
    /// `ConfigError`.
    #[new]
    #[pyo3(
        signature = (url, *, key_prefix = twilio_oauth::DEFAULT_KEY_PREFIX.to_owned(), encryption_key = None, lock_ttl = None),
        text_signature = "(url, *, key_prefix='twilio-oauth:', encryption_key=None, lock_ttl=None)"
    )]
    fn new(
        py: Python<'_>,
        url: &str,
        key_prefix: String,
        encryption_key: Option<&Bound<'_, PyAny>>,
        lock_ttl: Option<f64>,
    ) -> PyResult<Self> {
        let encryption_key = encryption_key
            .filter(|k| !k.is_none())
            .map(|k| self::encryption_key(py, k))
            .transpose()?;
        call(py, || {
            let options = RedisOptions {
                key_prefix,
                encryption_key,
                lock_ttl: twilio_oauth::runtime::seconds_or(
                    "lock_ttl",
                    lock_ttl,
                    twilio_oauth::DEFAULT_LOCK_TTL,
                )?,
                ..RedisOptions::default()
            };
            RedisStore::connect(url, options)
        })
        .map(|s| Self(Arc::new(s)))
    }

    /// True when values are encrypted (a key was given or found in the environment).
    #[getter]
    fn encrypted(&self) -> bool {
        self.0.is_encrypted()
    }

    /// The prefix of every key this store writes.
    #[getter]
    fn key_prefix(&self) -> &str {
        self.0.key_prefix()
    }

    /// The keys of the tokens stored under this prefix (values this store cannot read, such
    /// as ones encrypted under another key, are left out).
    fn keys(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let store = self.0.clone();
        wait(py, async move { store.keys().await })
    }

    /// The token saved under `key`, if any (`None` for a value this store cannot read).
    fn load(&self, py: Python<'_>, key: String) -> PyResult<Option<PyToken>> {
        load(py, self.0.clone(), key)
    }

    /// Saves `token` under `key` (expiring with it).
    fn save(&self, py: Python<'_>, key: String, token: PyRef<'_, PyToken>) -> PyResult<()> {
        save(py, self.0.clone(), key, token.0.clone())
    }

    /// Forgets `key`.
    fn delete(&self, py: Python<'_>, key: String) -> PyResult<()> {
        delete(py, self.0.clone(), key)
    }

    fn __repr__(&self) -> String {
        // The core's Debug: the URL without its password, the prefix, whether it encrypts.
        format!("<{:?}>", self.0)
    }
}

/// A Python object used as a core `TokenStore`. Its methods are called with the GIL on a
/// blocking thread of the runtime; an exception becomes `Error::Store` (which the provider logs
/// and goes on without the store).
struct PyObjectStore {
    object: Arc<Py<PyAny>>,
    type_name: String,
}

impl fmt::Debug for PyObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PyObjectStore({})", self.type_name)
    }
}

impl PyObjectStore {
    async fn call<T, F>(&self, method: &'static str, f: F) -> twilio_oauth::Result<T>
    where
        T: Send + 'static,
        F: for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<T> + Send + 'static,
    {
        let object = self.object.clone();
        let type_name = self.type_name.clone();
        let joined = tokio::task::spawn_blocking(move || {
            crate::lifecycle::attach(|py| {
                f(object.bind(py)).map_err(|e| Error::Store {
                    message: format!("{type_name}.{method} raised {e}"),
                })
            })
            .unwrap_or_else(|| {
                Err(Error::Store {
                    message: format!("{type_name}.{method} skipped: Python is exiting"),
                })
            })
        })
        .await;
        joined.unwrap_or_else(|e| {
            Err(Error::Store {
                message: format!("{}.{method} did not complete: {e}", self.type_name),
            })
        })
    }
}

#[twilio_oauth::async_trait]
impl TokenStore for PyObjectStore {
    async fn load(&self, key: &str) -> twilio_oauth::Result<Option<Token>> {
        let key = key.to_owned();
        self.call("load", move |store| {
            let loaded = store.call_method1("load", (key,))?;
            if loaded.is_none() {
                return Ok(None);
            }
            let token = loaded.cast::<PyToken>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "load() must return a twilio_oauth.Token or None, not {}",
                    loaded
                        .get_type()
                        .name()
                        .map_or_else(|_| "?".into(), |n| n.to_string())
                ))
            })?;
            Ok(Some(token.get().0.clone()))
        })
        .await
    }

    async fn save(&self, key: &str, token: &Token) -> twilio_oauth::Result<()> {
        let key = key.to_owned();
        let token = token.clone();
        self.call("save", move |store| {
            store.call_method1("save", (key, PyToken(token)))?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, key: &str) -> twilio_oauth::Result<()> {
        let key = key.to_owned();
        self.call("delete", move |store| {
            store.call_method1("delete", (key,))?;
            Ok(())
        })
        .await
    }
}

/// The store behind a `store=` argument: a built-in store as is, any other object through
/// its `load`/`save`/`delete` methods.
pub(crate) fn to_store(object: &Bound<'_, PyAny>) -> PyResult<Arc<dyn TokenStore>> {
    if let Ok(memory) = object.cast::<PyMemoryStore>() {
        return Ok(memory.get().0.clone());
    }
    if let Ok(file) = object.cast::<PyFileStore>() {
        return Ok(file.get().0.clone());
    }
    if let Ok(redis) = object.cast::<PyRedisStore>() {
        return Ok(redis.get().0.clone());
    }
    let type_name = object
        .get_type()
        .name()
        .map_or_else(|_| "store".to_owned(), |n| n.to_string());
    for method in ["load", "save", "delete"] {
        let callable = object
            .getattr(PyString::intern(object.py(), method))
            .map(|m| m.is_callable())
            .unwrap_or(false);
        if !callable {
            return Err(PyTypeError::new_err(format!(
                "store must be a MemoryStore, a FileStore, a RedisStore or an object with load(key), save(key, token) and delete(key) methods; {type_name} has no {method}()"
            )));
        }
    }
    Ok(Arc::new(PyObjectStore {
        object: Arc::new(object.clone().unbind()),
        type_name,
    }))
}
