//! The value types: `Token`, `DeviceAuthorization`, `AuthorizationRequest`, `Stats` and
//! `CancellationToken`. Reprs never show a secret.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use twilio_oauth::{AuthorizationRequest, DeviceAuthorization, Stats, Token};

use crate::convert::{datetime, json_object, quote};
use crate::wait::call;

/// An access token with its companions and its expiry.
#[pyclass(frozen, module = "twilio_oauth", name = "Token")]
pub(crate) struct PyToken(pub(crate) Token);

#[pymethods]
impl PyToken {
    /// A token obtained elsewhere, valid for `expires_in` seconds from now (`ConfigError` for an
    /// empty access token; an empty refresh token counts as none).
    #[new]
    #[pyo3(signature = (access_token, expires_in = 3600.0, *, refresh_token = None))]
    fn new(
        py: Python<'_>,
        access_token: String,
        expires_in: f64,
        refresh_token: Option<String>,
    ) -> PyResult<Self> {
        call(py, || {
            Token::from_access_token(&access_token, expires_in, refresh_token.as_deref()).map(Self)
        })
    }

    /// The access token itself (secret).
    #[getter]
    fn access_token(&self) -> &str {
        self.0.access_token().secret()
    }

    /// `"Bearer"` (normalised).
    #[getter]
    fn token_type(&self) -> &str {
        self.0.token_type()
    }

    /// The refresh token, when the grant issued one (secret).
    #[getter]
    fn refresh_token(&self) -> Option<&str> {
        self.0.refresh_token().map(|t| t.secret())
    }

    /// The OpenID Connect id token, when the grant issued one (secret).
    #[getter]
    fn id_token(&self) -> Option<&str> {
        self.0.id_token().map(|t| t.secret())
    }

    /// The granted scope, when known.
    #[getter]
    fn scope(&self) -> Option<&str> {
        self.0.scope()
    }

    /// When the token expires: an aware `datetime` in UTC.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.0.expires_at())
    }

    /// When the token was issued (the JWT `iat`, else when it arrived): an aware `datetime` in
    /// UTC. Of two tokens of one login, the later one wins.
    #[getter]
    fn issued_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.0.issued_at())
    }

    /// Whose token it is: the access token's JWT `sub`, else the id token's (`None` when
    /// neither says).
    #[getter]
    fn subject(&self) -> Option<String> {
        self.0.subject()
    }

    /// The lifetime the token had when it was received, in seconds.
    #[getter]
    fn lifetime(&self) -> f64 {
        self.0.lifetime().as_secs_f64()
    }

    /// Seconds left before expiry (0.0 once expired).
    fn expires_in(&self) -> f64 {
        self.0.expires_in().as_secs_f64()
    }

    /// True once the token has expired.
    fn is_expired(&self) -> bool {
        self.0.is_expired()
    }

    /// The access token's JWT claims, unverified; empty when it is not a JWT.
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_object(py, self.0.claims())
    }

    /// `"Bearer <access token>"`.
    fn authorization_header(&self) -> String {
        self.0.authorization_header()
    }

    /// The whole token as JSON, secrets included: for token stores only.
    fn to_json(&self) -> String {
        self.0.to_json()
    }

    /// Reads a token written by `to_json`.
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        call(py, || Token::from_json(json).map(Self))
    }

    fn __repr__(&self) -> String {
        format!("<Token {}>", self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

/// The answer of `create_device_code`: what to show the user, and the device code to poll with.
#[pyclass(frozen, module = "twilio_oauth", name = "DeviceAuthorization")]
pub(crate) struct PyDeviceAuthorization(pub(crate) DeviceAuthorization);

#[pymethods]
impl PyDeviceAuthorization {
    /// The device code (secret: never shown in a repr).
    #[getter]
    fn device_code(&self) -> &str {
        self.0.device_code().secret()
    }

    /// The code the user types on the verification page.
    #[getter]
    fn user_code(&self) -> &str {
        self.0.user_code()
    }

    /// Where the user goes to approve.
    #[getter]
    fn verification_uri(&self) -> &str {
        self.0.verification_uri()
    }

    /// The verification URL with the user code filled in, when the server sent one.
    #[getter]
    fn verification_uri_complete(&self) -> Option<&str> {
        self.0.verification_uri_complete()
    }

    /// Seconds between polls the server asked for.
    #[getter]
    fn interval(&self) -> f64 {
        self.0.interval().as_secs_f64()
    }

    /// When the codes expire: an aware `datetime` in UTC.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.0.expires_at())
    }

    /// How long the codes were valid for when issued, in seconds.
    #[getter]
    fn lifetime(&self) -> f64 {
        self.0.lifetime().as_secs_f64()
    }

    /// Seconds left before the codes expire.
    fn expires_in(&self) -> f64 {
        self.0.expires_in().as_secs_f64()
    }

    fn __repr__(&self) -> String {
        format!(
            "<DeviceAuthorization user_code={} verification_uri={} interval={}s expires in {}s>",
            quote(self.0.user_code()),
            quote(self.0.verification_uri()),
            self.0.interval().as_secs_f64(),
            self.0.expires_in().as_secs()
        )
    }
}

/// What `authorization_url` returns: the URL to open, the `state` to check on the redirect and
/// the PKCE `code_verifier` to send with `exchange_code`.
#[pyclass(frozen, module = "twilio_oauth", name = "AuthorizationRequest")]
pub(crate) struct PyAuthorizationRequest(pub(crate) AuthorizationRequest);

#[pymethods]
impl PyAuthorizationRequest {
    /// The `/v2/authorize` URL (with the S256 code challenge).
    #[getter]
    fn url(&self) -> &str {
        &self.0.url
    }

    /// The `state` value the redirect must carry back.
    #[getter]
    fn state(&self) -> &str {
        &self.0.state
    }

    /// The PKCE verifier for `exchange_code` (secret: never shown in a repr).
    #[getter]
    fn code_verifier(&self) -> &str {
        self.0.code_verifier.secret()
    }

    fn __repr__(&self) -> String {
        format!(
            "<AuthorizationRequest url={} state={}>",
            quote(&self.0.url),
            quote(&self.0.state)
        )
    }
}

/// A token provider's counters.
#[pyclass(frozen, eq, module = "twilio_oauth", name = "Stats")]
#[derive(PartialEq, Eq)]
pub(crate) struct PyStats(pub(crate) Stats);

#[pymethods]
impl PyStats {
    /// Calls answered from the cache.
    #[getter]
    fn hits(&self) -> u64 {
        self.0.hits
    }

    /// Token requests made (foreground and background).
    #[getter]
    fn fetches(&self) -> u64 {
        self.0.fetches
    }

    /// Of those, the ones made in the background (refresh-ahead).
    #[getter]
    fn background_refreshes(&self) -> u64 {
        self.0.background_refreshes
    }

    /// Token requests that failed.
    #[getter]
    fn failures(&self) -> u64 {
        self.0.failures
    }

    /// Tokens taken from the store instead of fetched (another process's refresh, or a
    /// previous run's token).
    #[getter]
    fn store_hits(&self) -> u64 {
        self.0.store_hits
    }

    /// Store operations (lock, load, save, delete) that failed; each was logged and the
    /// provider went on without the store.
    #[getter]
    fn store_errors(&self) -> u64 {
        self.0.store_errors
    }

    /// The counters as a `dict`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("hits", self.0.hits)?;
        d.set_item("fetches", self.0.fetches)?;
        d.set_item("background_refreshes", self.0.background_refreshes)?;
        d.set_item("failures", self.0.failures)?;
        d.set_item("store_hits", self.0.store_hits)?;
        d.set_item("store_errors", self.0.store_errors)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let s = &self.0;
        format!(
            "Stats(hits={}, fetches={}, background_refreshes={}, failures={}, store_hits={}, store_errors={})",
            s.hits, s.fetches, s.background_refreshes, s.failures, s.store_hits, s.store_errors
        )
    }
}

/// Cancels a blocking call from another thread: pass it as `cancel=` and call `cancel()`; the
/// call then raises `CancelledError`.
#[pyclass(frozen, module = "twilio_oauth", name = "CancellationToken")]
pub(crate) struct PyCancellationToken(pub(crate) twilio_oauth::CancellationToken);

#[pymethods]
impl PyCancellationToken {
    #[new]
    fn new() -> Self {
        Self(twilio_oauth::CancellationToken::new())
    }

    /// Cancels every call this token was passed to.
    fn cancel(&self) {
        self.0.cancel();
    }

    /// True once `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    fn __repr__(&self) -> String {
        format!("<CancellationToken cancelled={}>", self.0.is_cancelled())
    }
}
