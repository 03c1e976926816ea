//! Token stores: the built-in `MemoryStore` and `FileStore`, and any Python object with
//! `load(key)`, `save(key, token)` and `delete(key)` as a core `TokenStore`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use twilio_oauth::{Error, FileStore, MemoryStore, Token, TokenStore};

use crate::convert::quote;
use crate::types::PyToken;
use crate::wait::wait;

/// Keeps tokens in memory (the default store).
#[pyclass(frozen, module = "twilio_oauth", name = "MemoryStore")]
pub(crate) struct PyMemoryStore(Arc<MemoryStore>);

/// Keeps tokens in one JSON file (mode 0600 in a private folder, replaced atomically), shared
/// safely by every process that opens it: a refresh runs under an OS file lock, after
/// re-reading the file, so N processes sharing one login make one refresh and never send a
/// refresh token twice.
#[pyclass(frozen, module = "twilio_oauth", name = "FileStore")]
pub(crate) struct PyFileStore(Arc<FileStore>);

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
        py.detach(move || store.keys())
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
                "store must be a MemoryStore, a FileStore or an object with load(key), save(key, token) and delete(key) methods; {type_name} has no {method}()"
            )));
        }
    }
    Ok(Arc::new(PyObjectStore {
        object: Arc::new(object.clone().unbind()),
        type_name,
    }))
}
