//! `TokenProvider`: the cached token. Cache hits are answered on the caller's thread through
//! `try_token()`, without touching the runtime; misses wait with the GIL released.

use pyo3::prelude::*;
use twilio_oauth::TokenProvider;

use crate::convert::quote;
use crate::types::{PyStats, PyToken};
use crate::wait::{awaitable, ready, wait};

/// A cached token shared by every caller: one fetch for all concurrent callers on a miss,
/// refreshed in the background before it expires.
#[pyclass(frozen, module = "twilio_oauth", name = "TokenProvider")]
pub(crate) struct PyTokenProvider(pub(crate) TokenProvider);

impl PyTokenProvider {
    fn fetch<T, F>(&self, py: Python<'_>, map: F) -> PyResult<T>
    where
        T: Send + 'static,
        F: FnOnce(twilio_oauth::Token) -> T + Send + 'static,
    {
        if let Some(token) = self.0.try_token() {
            return Ok(map(token));
        }
        let provider = self.0.clone();
        wait(py, async move { provider.token().await.map(map) })
    }

    fn fetch_async<'py, T, F>(&self, py: Python<'py>, map: F) -> PyResult<Bound<'py, PyAny>>
    where
        T: for<'a> IntoPyObject<'a> + Send + 'static,
        F: FnOnce(twilio_oauth::Token) -> T + Send + 'static,
    {
        if let Some(token) = self.0.try_token() {
            return ready(py, map(token));
        }
        let provider = self.0.clone();
        awaitable(py, async move { provider.token().await.map(map) })
    }
}

fn header(token: twilio_oauth::Token) -> String {
    token.authorization_header()
}

fn access_token(token: twilio_oauth::Token) -> String {
    token.access_token().secret().to_owned()
}

#[pymethods]
impl PyTokenProvider {
    /// A token that is not about to expire: from the cache, or from one fetch shared by every
    /// concurrent caller.
    fn token(&self, py: Python<'_>) -> PyResult<PyToken> {
        self.fetch(py, PyToken)
    }

    /// Awaitable `token`.
    fn token_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.fetch_async(py, PyToken)
    }

    /// The access token itself.
    fn access_token(&self, py: Python<'_>) -> PyResult<String> {
        self.fetch(py, access_token)
    }

    /// Awaitable `access_token`.
    fn access_token_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.fetch_async(py, access_token)
    }

    /// `"Bearer <access token>"`, for an `Authorization` header.
    fn authorization_header(&self, py: Python<'_>) -> PyResult<String> {
        self.fetch(py, header)
    }

    /// Awaitable `authorization_header`.
    fn authorization_header_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.fetch_async(py, header)
    }

    /// After the API answered 401 to `rejected_access_token`: drops it from the cache (unless
    /// another caller already replaced it) and returns a good token.
    fn token_after_unauthorized(
        &self,
        py: Python<'_>,
        rejected_access_token: String,
    ) -> PyResult<PyToken> {
        let provider = self.0.clone();
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
        let provider = self.0.clone();
        awaitable(py, async move {
            provider
                .token_after_unauthorized(&rejected_access_token)
                .await
                .map(PyToken)
        })
    }

    /// The cached token if it may be handed out; no I/O, never blocks.
    fn cached(&self) -> Option<PyToken> {
        self.0.cached().map(PyToken)
    }

    /// Drops the cached token (call it after the API answered 401).
    fn invalidate(&self) {
        self.0.invalidate();
    }

    /// The provider's counters.
    fn stats(&self) -> PyStats {
        PyStats(self.0.stats())
    }

    /// The key under which the token is cached and stored.
    #[getter]
    fn key(&self) -> &str {
        self.0.key()
    }

    /// Whose token this provider holds: `"app"` (client credentials) or `"user"` (a person's
    /// login, renewed with its refresh token; never replaced by an app token).
    #[getter]
    fn grant(&self) -> &'static str {
        self.0.grant().as_str()
    }

    fn __repr__(&self) -> String {
        let cached = self
            .0
            .cached()
            .map_or_else(|| "None".to_owned(), |t| format!("<Token {t}>"));
        format!(
            "<TokenProvider key={} cached={cached}>",
            quote(self.0.key())
        )
    }
}
