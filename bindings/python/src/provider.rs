//! `TokenProvider`: the cached token. Cache hits are answered on the caller's thread through
//! `try_token()`, without touching the runtime; misses wait with the GIL released.
//!
//! The hot path converts nothing: the Python objects made for the token the core hands out
//! (the `Authorization` header, the access token, the `Token` object) are kept with that token,
//! and handed out again for as long as `try_token()` returns that same token. Freshness is
//! decided by the core on every call; only the conversion is remembered.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::prelude::*;
use pyo3::types::PyString;
use twilio_oauth::{Token, TokenProvider};

use crate::convert::quote;
use crate::types::{PyStats, PyToken};
use crate::wait::{awaitable, call, ready, wait};

/// A cached token shared by every caller: one fetch for all concurrent callers on a miss,
/// refreshed in the background before it expires.
#[pyclass(frozen, module = "twilio_oauth", name = "TokenProvider")]
pub(crate) struct PyTokenProvider {
    provider: TokenProvider,
    /// The Python forms of the last token handed out.
    converted: Mutex<Option<Converted>>,
}

/// The Python objects made for one token, each made on first use.
struct Converted {
    token: Token,
    header: Option<Py<PyString>>,
    access_token: Option<Py<PyString>>,
    object: Option<Py<PyToken>>,
}

fn make_header(py: Python<'_>, token: &Token) -> PyResult<Py<PyString>> {
    Ok(PyString::new(py, &token.authorization_header()).unbind())
}

fn make_access_token(py: Python<'_>, token: &Token) -> PyResult<Py<PyString>> {
    Ok(PyString::new(py, token.access_token().secret()).unbind())
}

fn make_object(py: Python<'_>, token: &Token) -> PyResult<Py<PyToken>> {
    Py::new(py, PyToken(token.clone()))
}

impl PyTokenProvider {
    pub(crate) fn new(provider: TokenProvider) -> Self {
        Self {
            provider,
            converted: Mutex::new(None),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Converted>> {
        // Only ever held with the GIL and without calling Python code: never contended, and a
        // panic while it was held left nothing half-written that matters.
        self.converted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached token if the core may hand it out now (the core decides freshness; this
    /// only asks).
    fn hit(&self, py: Python<'_>) -> PyResult<Option<Token>> {
        call(py, || Ok(self.provider.try_token()))
    }

    /// A token: a cache hit on this thread, else a fetch waited for with the GIL released.
    fn fetch(&self, py: Python<'_>) -> PyResult<Token> {
        if let Some(token) = self.hit(py)? {
            return Ok(token);
        }
        let provider = self.provider.clone();
        wait(py, async move { provider.token().await })
    }

    /// The Python form of `token` that `field` selects, made once per token. Python objects
    /// are made and released outside the lock (making one can run Python code, such as the
    /// garbage collector, which could call back in here).
    fn form<T>(
        &self,
        py: Python<'_>,
        token: Token,
        field: fn(&mut Converted) -> &mut Option<Py<T>>,
        make: fn(Python<'_>, &Token) -> PyResult<Py<T>>,
    ) -> PyResult<Py<T>> {
        if let Some(made) = self
            .slot()
            .as_mut()
            .filter(|c| c.token.is_same(&token))
            .and_then(|c| field(c).as_ref().map(|m| m.clone_ref(py)))
        {
            return Ok(made);
        }
        let made = make(py, &token)?;
        let keep = made.clone_ref(py);
        let mut slot = self.slot();
        let (old_form, old_token) = match slot.as_mut().filter(|c| c.token.is_same(&token)) {
            Some(converted) => (field(converted).replace(keep), None),
            None => {
                let mut converted = Converted {
                    token,
                    header: None,
                    access_token: None,
                    object: None,
                };
                *field(&mut converted) = Some(keep);
                (None, slot.replace(converted))
            }
        };
        drop(slot);
        drop((old_form, old_token));
        Ok(made)
    }

    fn header(&self, py: Python<'_>, token: Token) -> PyResult<Py<PyString>> {
        self.form(py, token, |c| &mut c.header, make_header)
    }

    fn access_token_of(&self, py: Python<'_>, token: Token) -> PyResult<Py<PyString>> {
        self.form(py, token, |c| &mut c.access_token, make_access_token)
    }

    fn object(&self, py: Python<'_>, token: Token) -> PyResult<Py<PyToken>> {
        self.form(py, token, |c| &mut c.object, make_object)
    }
}

fn header(token: Token) -> String {
    token.authorization_header()
}

fn access_token(token: Token) -> String {
    token.access_token().secret().to_owned()
}

#[pymethods]
impl PyTokenProvider {
    /// A token that is not about to expire: from the cache, or from one fetch shared by every
    /// concurrent caller.
    fn token(&self, py: Python<'_>) -> PyResult<Py<PyToken>> {
        let token = self.fetch(py)?;
        self.object(py, token)
    }

    /// Awaitable `token`.
    fn token_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(token) = self.hit(py)? {
            return ready(py, self.object(py, token)?);
        }
        let provider = self.provider.clone();
        awaitable(py, async move { provider.token().await.map(PyToken) })
    }

    /// The access token itself.
    fn access_token(&self, py: Python<'_>) -> PyResult<Py<PyString>> {
        let token = self.fetch(py)?;
        self.access_token_of(py, token)
    }

    /// Awaitable `access_token`.
    fn access_token_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(token) = self.hit(py)? {
            return ready(py, self.access_token_of(py, token)?);
        }
        let provider = self.provider.clone();
        awaitable(py, async move { provider.token().await.map(access_token) })
    }

    /// `"Bearer <access token>"`, for an `Authorization` header.
    fn authorization_header(&self, py: Python<'_>) -> PyResult<Py<PyString>> {
        let token = self.fetch(py)?;
        self.header(py, token)
    }

    /// Awaitable `authorization_header`.
    fn authorization_header_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(token) = self.hit(py)? {
            return ready(py, self.header(py, token)?);
        }
        let provider = self.provider.clone();
        awaitable(py, async move { provider.token().await.map(header) })
    }

    /// After the API answered 401 to `rejected_access_token`: drops it from the cache (unless
    /// another caller already replaced it) and returns a good token.
    fn token_after_unauthorized(
        &self,
        py: Python<'_>,
        rejected_access_token: String,
    ) -> PyResult<PyToken> {
        let provider = self.provider.clone();
        wait(py, async move {
            provider
                .token_after_unauthorized(&rejected_access_token)
                .await
                .map(PyToken)
        })
    }

    /// Awaitable `token_after_unauthorized`.
    fn token_after_unauthorized_async<'py>(
        &self,
        py: Python<'py>,
        rejected_access_token: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let provider = self.provider.clone();
        awaitable(py, async move {
            provider
                .token_after_unauthorized(&rejected_access_token)
                .await
                .map(PyToken)
        })
    }

    /// The cached token if it may be handed out; no I/O, never blocks.
    fn cached(&self, py: Python<'_>) -> PyResult<Option<PyToken>> {
        call(py, || Ok(self.provider.cached().map(PyToken)))
    }

    /// Drops the cached token (call it after the API answered 401).
    fn invalidate(&self, py: Python<'_>) -> PyResult<()> {
        call(py, || {
            self.provider.invalidate();
            Ok(())
        })?;
        // Nothing made for the rejected token is kept.
        let previous = self.slot().take();
        drop(previous);
        Ok(())
    }

    /// The provider's counters.
    fn stats(&self) -> PyStats {
        PyStats(self.provider.stats())
    }

    /// The key under which the token is cached and stored.
    #[getter]
    fn key(&self) -> &str {
        self.provider.key()
    }

    /// Whose token this provider holds: `"app"` (client credentials) or `"user"` (a person's
    /// login, renewed with its refresh token; never replaced by an app token).
    #[getter]
    fn grant(&self) -> &'static str {
        self.provider.grant().as_str()
    }

    fn __repr__(&self) -> String {
        let cached = self
            .provider
            .cached()
            .map_or_else(|| "None".to_owned(), |t| format!("<Token {t}>"));
        format!(
            "<TokenProvider key={} cached={cached}>",
            quote(self.provider.key())
        )
    }
}
