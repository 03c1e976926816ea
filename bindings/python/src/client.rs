//! `OAuthClient`: keyword options in, the raw endpoint calls out (each sync, with an awaitable
//! `<name>_async` twin).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use twilio_oauth::{
    ClientOptions, GrantKind, OAuthClient, ProviderOptions, V1TokenRequest, V2TokenRequest,
};

use crate::convert::{quote, seconds};
use crate::errors::{config_error, to_pyerr};
use crate::provider::PyTokenProvider;
use crate::store::to_store;
use crate::types::{PyAuthorizationRequest, PyCancellationToken, PyDeviceAuthorization, PyToken};
use crate::wait::{awaitable, call, wait};

/// Configuration of a Twilio OAuth app, and the calls to Twilio's OAuth endpoints.
#[pyclass(frozen, module = "twilio_oauth", name = "OAuthClient")]
pub(crate) struct PyOAuthClient(OAuthClient);

#[pymethods]
impl PyOAuthClient {
    /// Options not given are read from the `TWILIO_*` environment variables (and the CA file
    /// from `TWILIO_OAUTH_CA_FILE`; the proxy from `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY`).
    #[new]
    #[pyo3(signature = (*, client_id = None, client_secret = None, account_sid = None, auth_token = None, base_url = None, timeout = None, max_retries = None, ca_file = None, ca_pem = None, proxy = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client_id: Option<String>,
        client_secret: Option<String>,
        account_sid: Option<String>,
        auth_token: Option<String>,
        base_url: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<i64>,
        ca_file: Option<PathBuf>,
        ca_pem: Option<String>,
        proxy: Option<String>,
    ) -> PyResult<Self> {
        let max_retries = max_retries
            .map(|v| {
                u32::try_from(v).map_err(|_| {
                    config_error(py, format!("max_retries must be 0 or more (got {v})"))
                })
            })
            .transpose()?;
        let options = ClientOptions {
            client_id,
            client_secret,
            account_sid,
            auth_token,
            base_url,
            timeout,
            max_retries,
            ca_file,
            ca_pem,
            proxy,
            language: Some("python".into()),
            from_env: true,
            ..ClientOptions::default()
        };
        call(py, || OAuthClient::from_options(options).map(PyOAuthClient))
    }

    /// A client configured from `TWILIO_CLIENT_ID`, `TWILIO_CLIENT_SECRET`,
    /// `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` (the keyword options override them).
    #[staticmethod]
    #[pyo3(signature = (*, base_url = None, timeout = None, max_retries = None, ca_file = None, ca_pem = None, proxy = None))]
    fn from_env(
        py: Python<'_>,
        base_url: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<i64>,
        ca_file: Option<PathBuf>,
        ca_pem: Option<String>,
        proxy: Option<String>,
    ) -> PyResult<Self> {
        Self::new(
            py,
            None,
            None,
            None,
            None,
            base_url,
            timeout,
            max_retries,
            ca_file,
            ca_pem,
            proxy,
        )
    }

    /// The app's client id.
    #[getter]
    fn client_id(&self) -> &str {
        self.0.client_id()
    }

    /// The OAuth server's base URL.
    #[getter]
    fn base_url(&self) -> &str {
        self.0.base_url()
    }

    /// True when the client has a secret (a confidential client).
    #[getter]
    fn has_client_secret(&self) -> bool {
        self.0.has_client_secret()
    }

    fn __repr__(&self) -> String {
        format!(
            "<OAuthClient client_id={} base_url={} client_secret={}>",
            quote(self.0.client_id()),
            quote(self.0.base_url()),
            if self.0.has_client_secret() {
                "[redacted]"
            } else {
                "None"
            }
        )
    }

    /// `POST /v1/token` (HTTP Basic auth with account_sid and auth_token).
    #[pyo3(signature = (grant_type, *, code = None, code_verifier = None, device_code = None, device_id = None, refresh_token = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_token(
        &self,
        py: Python<'_>,
        grant_type: String,
        code: Option<String>,
        code_verifier: Option<String>,
        device_code: Option<String>,
        device_id: Option<String>,
        refresh_token: Option<String>,
    ) -> PyResult<PyToken> {
        let c = self.0.clone();
        let r = V1TokenRequest {
            grant_type,
            code,
            code_verifier,
            device_code,
            device_id,
            refresh_token,
        };
        wait(py, async move { c.create_token(&r).await.map(PyToken) })
    }

    /// Awaitable `create_token`.
    #[pyo3(signature = (grant_type, *, code = None, code_verifier = None, device_code = None, device_id = None, refresh_token = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_token_async<'py>(
        &self,
        py: Python<'py>,
        grant_type: String,
        code: Option<String>,
        code_verifier: Option<String>,
        device_code: Option<String>,
        device_id: Option<String>,
        refresh_token: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        let r = V1TokenRequest {
            grant_type,
            code,
            code_verifier,
            device_code,
            device_id,
            refresh_token,
        };
        awaitable(py, async move { c.create_token(&r).await.map(PyToken) })
    }

    /// `POST /v1/device/code`: starts the device authorization flow.
    #[pyo3(signature = (scopes, *, audiences = None))]
    fn create_device_code(
        &self,
        py: Python<'_>,
        scopes: Vec<String>,
        audiences: Option<Vec<String>>,
    ) -> PyResult<PyDeviceAuthorization> {
        let c = self.0.clone();
        let audiences = audiences.unwrap_or_default();
        wait(py, async move {
            c.create_device_code(&scopes, &audiences)
                .await
                .map(PyDeviceAuthorization)
        })
    }

    /// Awaitable `create_device_code`.
    #[pyo3(signature = (scopes, *, audiences = None))]
    fn create_device_code_async<'py>(
        &self,
        py: Python<'py>,
        scopes: Vec<String>,
        audiences: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        let audiences = audiences.unwrap_or_default();
        awaitable(py, async move {
            c.create_device_code(&scopes, &audiences)
                .await
                .map(PyDeviceAuthorization)
        })
    }

    /// `POST /v2/token` with any grant.
    #[pyo3(signature = (grant_type, *, code = None, redirect_uri = None, audience = None, refresh_token = None, scope = None, code_verifier = None, account_sid = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_oauth2_token(
        &self,
        py: Python<'_>,
        grant_type: String,
        code: Option<String>,
        redirect_uri: Option<String>,
        audience: Option<String>,
        refresh_token: Option<String>,
        scope: Option<String>,
        code_verifier: Option<String>,
        account_sid: Option<String>,
    ) -> PyResult<PyToken> {
        let c = self.0.clone();
        let r = V2TokenRequest {
            grant_type,
            code,
            redirect_uri,
            audience,
            refresh_token,
            scope,
            code_verifier,
            account_sid,
        };
        wait(
            py,
            async move { c.create_oauth2_token(&r).await.map(PyToken) },
        )
    }

    /// Awaitable `create_oauth2_token`.
    #[pyo3(signature = (grant_type, *, code = None, redirect_uri = None, audience = None, refresh_token = None, scope = None, code_verifier = None, account_sid = None))]
    #[allow(clippy::too_many_arguments)]
    fn create_oauth2_token_async<'py>(
        &self,
        py: Python<'py>,
        grant_type: String,
        code: Option<String>,
        redirect_uri: Option<String>,
        audience: Option<String>,
        refresh_token: Option<String>,
        scope: Option<String>,
        code_verifier: Option<String>,
        account_sid: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        let r = V2TokenRequest {
            grant_type,
            code,
            redirect_uri,
            audience,
            refresh_token,
            scope,
            code_verifier,
            account_sid,
        };
        awaitable(
            py,
            async move { c.create_oauth2_token(&r).await.map(PyToken) },
        )
    }

    /// A client-credentials token (uncached: use `token_provider()` for API calls);
    /// `account_sid` acts on behalf of that account.
    #[pyo3(signature = (scope = None, audience = None, account_sid = None))]
    fn client_credentials(
        &self,
        py: Python<'_>,
        scope: Option<String>,
        audience: Option<String>,
        account_sid: Option<String>,
    ) -> PyResult<PyToken> {
        let c = self.0.clone();
        wait(py, async move {
            c.client_credentials(
                scope.as_deref(),
                audience.as_deref(),
                account_sid.as_deref(),
            )
            .await
            .map(PyToken)
        })
    }

    /// Awaitable `client_credentials`.
    #[pyo3(signature = (scope = None, audience = None, account_sid = None))]
    fn client_credentials_async<'py>(
        &self,
        py: Python<'py>,
        scope: Option<String>,
        audience: Option<String>,
        account_sid: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        awaitable(py, async move {
            c.client_credentials(
                scope.as_deref(),
                audience.as_deref(),
                account_sid.as_deref(),
            )
            .await
            .map(PyToken)
        })
    }

    /// Exchanges an authorization code (with its PKCE verifier) for a token.
    #[pyo3(signature = (code, redirect_uri = None, code_verifier = None))]
    fn exchange_code(
        &self,
        py: Python<'_>,
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    ) -> PyResult<PyToken> {
        let c = self.0.clone();
        wait(py, async move {
            c.exchange_code(&code, redirect_uri.as_deref(), code_verifier.as_deref())
                .await
                .map(PyToken)
        })
    }

    /// Awaitable `exchange_code`.
    #[pyo3(signature = (code, redirect_uri = None, code_verifier = None))]
    fn exchange_code_async<'py>(
        &self,
        py: Python<'py>,
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        awaitable(py, async move {
            c.exchange_code(&code, redirect_uri.as_deref(), code_verifier.as_deref())
                .await
                .map(PyToken)
        })
    }

    /// Trades a refresh token for a new token.
    fn refresh(&self, py: Python<'_>, refresh_token: String) -> PyResult<PyToken> {
        let c = self.0.clone();
        wait(
            py,
            async move { c.refresh(&refresh_token).await.map(PyToken) },
        )
    }

    /// Awaitable `refresh`.
    fn refresh_async<'py>(
        &self,
        py: Python<'py>,
        refresh_token: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        awaitable(
            py,
            async move { c.refresh(&refresh_token).await.map(PyToken) },
        )
    }

    /// Builds the `/v2/authorize` URL with PKCE (S256). No request is made.
    #[pyo3(signature = (redirect_uri, scope = None, state = None))]
    fn authorization_url(
        &self,
        py: Python<'_>,
        redirect_uri: &str,
        scope: Option<&str>,
        state: Option<&str>,
    ) -> PyResult<PyAuthorizationRequest> {
        call(py, || {
            self.0
                .authorization_url(redirect_uri, scope, state)
                .map(PyAuthorizationRequest)
        })
    }

    /// Polls for the device token until the user approves (RFC 8628), honouring `interval` and
    /// `slow_down`. Ctrl-C raises `KeyboardInterrupt` at once; `cancel=` stops it from another
    /// thread (`CancelledError`).
    #[pyo3(signature = (device_authorization, *, cancel = None))]
    fn poll_device_token(
        &self,
        py: Python<'_>,
        device_authorization: PyRef<'_, PyDeviceAuthorization>,
        cancel: Option<PyRef<'_, PyCancellationToken>>,
    ) -> PyResult<PyToken> {
        let c = self.0.clone();
        let device = device_authorization.0.clone();
        let cancel = cancel.map(|t| t.0.clone());
        wait(py, async move {
            match cancel {
                Some(cancel) => c.poll_device_token_with_cancel(&device, cancel).await,
                None => c.poll_device_token(&device).await,
            }
            .map(PyToken)
        })
    }

    /// Awaitable `poll_device_token`; cancelling the asyncio task stops the polling.
    #[pyo3(signature = (device_authorization, *, cancel = None))]
    fn poll_device_token_async<'py>(
        &self,
        py: Python<'py>,
        device_authorization: PyRef<'_, PyDeviceAuthorization>,
        cancel: Option<PyRef<'_, PyCancellationToken>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.0.clone();
        let device = device_authorization.0.clone();
        let cancel = cancel.map(|t| t.0.clone());
        awaitable(py, async move {
            match cancel {
                Some(cancel) => c.poll_device_token_with_cancel(&device, cancel).await,
                None => c.poll_device_token(&device).await,
            }
            .map(PyToken)
        })
    }

    /// A cached token source for API calls. `refresh_ahead` and `expiry_margin` are seconds;
    /// `store` is a `MemoryStore`, a `FileStore` or any object with `load`/`save`/`delete`.
    ///
    /// The app's own token (client credentials, `account_sid` acting on behalf of an account)
    /// by default. A person's token when `initial_token` (a token obtained elsewhere: device
    /// login, code exchange; renewed with its refresh token) or `account` (a label for the
    /// person, which finds their login in `store` without a token in hand) is given, or
    /// `grant="user"`. A person's provider never falls back to an app token: it raises
    /// `LoginRequiredError` when the login can no longer be refreshed.
    #[pyo3(signature = (*, scope = None, audience = None, store = None, refresh_ahead = None, expiry_margin = None, initial_token = None, account_sid = None, account = None, grant = None))]
    #[allow(clippy::too_many_arguments)]
    fn token_provider(
        &self,
        py: Python<'_>,
        scope: Option<String>,
        audience: Option<String>,
        store: Option<&Bound<'_, PyAny>>,
        refresh_ahead: Option<f64>,
        expiry_margin: Option<f64>,
        initial_token: Option<PyRef<'_, PyToken>>,
        account_sid: Option<String>,
        account: Option<String>,
        grant: Option<String>,
    ) -> PyResult<PyTokenProvider> {
        let grant = grant
            .map(|g| g.parse::<GrantKind>())
            .transpose()
            .map_err(|e| to_pyerr(py, &e))?;
        let store = store.filter(|s| !s.is_none()).map(to_store).transpose()?;
        let options = ProviderOptions {
            scope,
            audience,
            store: store.map(|s| s as Arc<dyn twilio_oauth::TokenStore>),
            refresh_ahead: refresh_ahead
                .map(|s| seconds(py, "refresh_ahead", s))
                .transpose()?,
            expiry_margin: expiry_margin
                .map(|s| seconds(py, "expiry_margin", s))
                .transpose()?,
            initial_token: initial_token.map(|t| t.0.clone()),
            account_sid,
            account,
            grant,
        };
        call(py, || {
            Ok(PyTokenProvider::new(self.0.token_provider(options)))
        })
    }
}
