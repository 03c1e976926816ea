//! `OAuthClient`: configuration plus the raw endpoint calls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cancel::CancellationToken;
use crate::config::{LANGUAGE, OAuthConfig, one_of, secs};
use crate::provider::{Grant, TokenProvider};
use crate::store::{TokenStore, core_store};
use crate::token::{AuthorizationRequest, DeviceAuthorization, Token};
use crate::{Result, call, call_sync};
use twilio_oauth::runtime::seconds;

/// Reads an OAuth client's configuration and calls Twilio's OAuth endpoints.
///
/// Cheap to share between threads and coroutines; `toString()` / `description` never show the
/// secrets.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct OAuthClient(twilio_oauth::OAuthClient);

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[uniffi::export]
impl OAuthClient {
    /// A client from explicit options (with `fromEnv = true`, the environment fills the
    /// options left unset); a malformed option is a `Config` error.
    #[uniffi::constructor]
    pub fn new(config: OAuthConfig) -> Result<Arc<Self>> {
        call_sync(|| {
            let client = twilio_oauth::OAuthClient::from_options(config.options()?)?;
            Ok(Arc::new(Self(client)))
        })
    }

    /// A client configured from `TWILIO_CLIENT_ID`, `TWILIO_CLIENT_SECRET`,
    /// `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and `TWILIO_OAUTH_BASE_URL`; the options given
    /// here win over the environment.
    #[uniffi::constructor(default(base_url = None, timeout = None, max_retries = None))]
    pub fn from_env(
        base_url: Option<String>,
        timeout: Option<Duration>,
        max_retries: Option<u32>,
    ) -> Result<Arc<Self>> {
        call_sync(|| {
            let client = twilio_oauth::OAuthClient::from_options(twilio_oauth::ClientOptions {
                base_url,
                timeout: secs(timeout),
                max_retries,
                language: Some(LANGUAGE.into()),
                from_env: true,
                ..twilio_oauth::ClientOptions::default()
            })?;
            Ok(Arc::new(Self(client)))
        })
    }

    /// The app's client id.
    pub fn client_id(&self) -> String {
        self.0.client_id().to_owned()
    }

    /// True when the client has a secret (a confidential client).
    pub fn has_client_secret(&self) -> bool {
        self.0.has_client_secret()
    }

    /// The OAuth server's base URL.
    pub fn base_url(&self) -> String {
        self.0.base_url().to_owned()
    }

    /// `POST /v1/token`: PascalCase form, HTTP Basic auth with `accountSid` and `authToken`.
    #[uniffi::method(default(
        code = None,
        code_verifier = None,
        device_code = None,
        device_id = None,
        refresh_token = None,
        cancel = None
    ))]
    #[allow(clippy::too_many_arguments)] // the endpoint's form fields, one argument each
    pub async fn create_token(
        &self,
        grant_type: String,
        code: Option<String>,
        code_verifier: Option<String>,
        device_code: Option<String>,
        device_id: Option<String>,
        refresh_token: Option<String>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let request = twilio_oauth::V1TokenRequest {
            grant_type,
            code,
            code_verifier,
            device_code,
            device_id,
            refresh_token,
        };
        let client = self.0.clone();
        call(cancel, async move { client.create_token(&request).await })
            .await
            .map(Token::wrap)
    }

    /// `POST /v1/device/code`: starts the device authorization flow.
    #[uniffi::method(default(audiences = [], cancel = None))]
    pub async fn create_device_code(
        &self,
        scopes: Vec<String>,
        audiences: Vec<String>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<DeviceAuthorization>> {
        let client = self.0.clone();
        call(cancel, async move {
            client.create_device_code(&scopes, &audiences).await
        })
        .await
        .map(|d| Arc::new(DeviceAuthorization(d)))
    }

    /// `POST /v2/token` with any grant; unset options are not sent.
    #[uniffi::method(default(
        code = None,
        redirect_uri = None,
        audience = None,
        refresh_token = None,
        scope = None,
        code_verifier = None,
        account_sid = None,
        cancel = None
    ))]
    #[allow(clippy::too_many_arguments)] // the endpoint's form fields, one argument each
    pub async fn create_oauth2_token(
        &self,
        grant_type: String,
        code: Option<String>,
        redirect_uri: Option<String>,
        audience: Option<String>,
        refresh_token: Option<String>,
        scope: Option<String>,
        code_verifier: Option<String>,
        account_sid: Option<String>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let request = twilio_oauth::V2TokenRequest {
            grant_type,
            code,
            redirect_uri,
            audience,
            refresh_token,
            scope,
            code_verifier,
            account_sid,
        };
        let client = self.0.clone();
        call(
            cancel,
            async move { client.create_oauth2_token(&request).await },
        )
        .await
        .map(Token::wrap)
    }

    /// A client-credentials token (needs `clientSecret`). `accountSid` acts on behalf of that
    /// account (sent as the `account_sid` query parameter; the token's `account_sid` claim).
    #[uniffi::method(default(scope = None, audience = None, account_sid = None, cancel = None))]
    pub async fn client_credentials(
        &self,
        scope: Option<String>,
        audience: Option<String>,
        account_sid: Option<String>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let client = self.0.clone();
        call(cancel, async move {
            client
                .client_credentials(
                    scope.as_deref(),
                    audience.as_deref(),
                    account_sid.as_deref(),
                )
                .await
        })
        .await
        .map(Token::wrap)
    }

    /// Exchanges an authorization code (with its PKCE verifier) for a token.
    #[uniffi::method(default(redirect_uri = None, code_verifier = None, cancel = None))]
    pub async fn exchange_code(
        &self,
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let client = self.0.clone();
        call(cancel, async move {
            client
                .exchange_code(&code, redirect_uri.as_deref(), code_verifier.as_deref())
                .await
        })
        .await
        .map(Token::wrap)
    }

    /// Trades a refresh token for a new token (the old refresh token is kept when the server
    /// does not rotate it).
    #[uniffi::method(default(cancel = None))]
    pub async fn refresh(
        &self,
        refresh_token: String,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let client = self.0.clone();
        call(cancel, async move { client.refresh(&refresh_token).await })
            .await
            .map(Token::wrap)
    }

    /// Builds the `/v2/authorize` URL with PKCE (S256); no request is made. `state` is random
    /// unless given.
    #[uniffi::method(default(scope = None, state = None))]
    pub fn authorization_url(
        &self,
        redirect_uri: String,
        scope: Option<String>,
        state: Option<String>,
    ) -> Result<Arc<AuthorizationRequest>> {
        call_sync(|| {
            let request =
                self.0
                    .authorization_url(&redirect_uri, scope.as_deref(), state.as_deref())?;
            Ok(Arc::new(AuthorizationRequest(request)))
        })
    }

    /// Polls for the device flow's token until the user approves (RFC 8628: honours the
    /// interval and `slow_down`). Cancel the coroutine / `Task` to stop polling.
    #[uniffi::method(default(cancel = None))]
    pub async fn poll_device_token(
        &self,
        device: Arc<DeviceAuthorization>,
        cancel: Option<Arc<CancellationToken>>,
    ) -> Result<Arc<Token>> {
        let client = self.0.clone();
        call(
            cancel,
            async move { client.poll_device_token(&device.0).await },
        )
        .await
        .map(Token::wrap)
    }

    /// A cached token source for API calls.
    ///
    /// - `store` keeps tokens between runs and shares them between processes (default: memory):
    ///   `fileTokenStore(path)` on one host, `RedisStore(url)` for a fleet, or your own.
    /// - `initialToken` is a person's token obtained elsewhere (device login, code exchange),
    ///   renewed with its refresh token.
    /// - `accountSid`: client credentials on behalf of that account (part of the key).
    /// - `account` labels the person (`"alice@example.com"`): keeps two people apart in one
    ///   store, and lets a later run find the login without a token in hand.
    /// - `grant`: `App` or `User`; by default `User` when `initialToken` or `account` is given,
    ///   else `App`. A `User` provider never hands out an app token: when the login cannot be
    ///   renewed its calls fail with `LoginRequired`.
    /// - `refreshAhead`: how long before expiry a background refresh starts (default 5 minutes
    ///   or half the lifetime, whichever is less); `expiryMargin`: how close to expiry a token
    ///   is never handed out (default 30 s or a tenth of the lifetime).
    /// - `refreshAheadSeconds`, `expiryMarginSeconds`: deprecated, the same in seconds.
    #[uniffi::method(default(
        scope = None,
        audience = None,
        store = None,
        refresh_ahead_seconds = None,
        expiry_margin_seconds = None,
        initial_token = None,
        account_sid = None,
        account = None,
        grant = None,
        refresh_ahead = None,
        expiry_margin = None
    ))]
    #[allow(clippy::too_many_arguments)] // ProviderOptions, one argument each
    pub fn token_provider(
        &self,
        scope: Option<String>,
        audience: Option<String>,
        store: Option<Arc<dyn TokenStore>>,
        refresh_ahead_seconds: Option<f64>,
        expiry_margin_seconds: Option<f64>,
        initial_token: Option<Arc<Token>>,
        account_sid: Option<String>,
        account: Option<String>,
        grant: Option<Grant>,
        refresh_ahead: Option<Duration>,
        expiry_margin: Option<Duration>,
    ) -> Result<Arc<TokenProvider>> {
        call_sync(|| {
            let refresh_ahead = one_of(
                ("refreshAhead", secs(refresh_ahead)),
                ("refreshAheadSeconds", refresh_ahead_seconds),
            )?;
            let expiry_margin = one_of(
                ("expiryMargin", secs(expiry_margin)),
                ("expiryMarginSeconds", expiry_margin_seconds),
            )?;
            let options = twilio_oauth::ProviderOptions {
                scope,
                audience,
                account_sid,
                store: store.map(core_store),
                refresh_ahead: refresh_ahead
                    .map(|v| seconds("refresh_ahead", v))
                    .transpose()?,
                expiry_margin: expiry_margin
                    .map(|v| seconds("expiry_margin", v))
                    .transpose()?,
                initial_token: initial_token.map(|t| t.0.clone()),
                account,
                grant: grant.map(Into::into),
            };
            Ok(Arc::new(TokenProvider(self.0.token_provider(options))))
        })
    }
}
