//! `OAuthClient` as a native class: options in, promises of tokens out.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;
use std::str::FromStr;

use twilio_oauth::{FileStore, GrantKind, OAuthClient, TokenStore, V1TokenRequest, V2TokenRequest};

use crate::error::{check, config, to_napi};
use crate::provider::NativeProvider;
use crate::store::{JsStore, StoreFn};
use crate::task::{CancelHandle, spawn};
use crate::token::{NativeDevice, NativeToken, seconds};

/// Options of `new OAuthClient(…)`; unset ones fall back to `TWILIO_*` variables.
#[napi(object)]
#[derive(Default)]
pub struct ClientOptions {
    /// The OAuth app's id (`OQ…`).
    pub client_id: Option<String>,
    /// The app's secret; unset for public clients.
    pub client_secret: Option<String>,
    /// Account SID for the v1 endpoints.
    pub account_sid: Option<String>,
    /// Auth token for the v1 endpoints.
    pub auth_token: Option<String>,
    /// The OAuth server (default `https://oauth.twilio.com`).
    pub base_url: Option<String>,
    /// Whole-request timeout in seconds (default 30).
    pub timeout: Option<f64>,
    /// Retries on connect errors, 429 and 5xx (default 2).
    pub max_retries: Option<f64>,
}

/// Optional fields of `createToken` (v1).
#[napi(object)]
#[derive(Default)]
pub struct V1TokenOptions {
    /// `Code`.
    pub code: Option<String>,
    /// `CodeVerifier`.
    pub code_verifier: Option<String>,
    /// `DeviceCode`.
    pub device_code: Option<String>,
    /// `DeviceId`.
    pub device_id: Option<String>,
    /// `RefreshToken`.
    pub refresh_token: Option<String>,
}

/// Optional fields of `createOauth2Token` (v2).
#[napi(object)]
#[derive(Default)]
pub struct V2TokenOptions {
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `audience`.
    pub audience: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `code_verifier`.
    pub code_verifier: Option<String>,
    /// The `account_sid` query parameter.
    pub account_sid: Option<String>,
}

/// Options of `tokenProvider` (durations in seconds).
#[napi(object)]
#[derive(Default)]
pub struct ProviderOptions {
    /// Scope to request.
    pub scope: Option<String>,
    /// Audience to request.
    pub audience: Option<String>,
    /// Refresh in the background this many seconds before expiry.
    pub refresh_ahead: Option<f64>,
    /// Never hand out a token this many seconds from expiry.
    pub expiry_margin: Option<f64>,
    /// Keep tokens in this JSON file (the core's `FileStore`) instead of memory.
    pub file_store_path: Option<String>,
    /// Client credentials on behalf of this account (`account_sid`); part of the cache key.
    pub account_sid: Option<String>,
    /// A label for the person whose token this is (makes the provider a user provider).
    pub account: Option<String>,
    /// `"app"` or `"user"` (default: user when `account` or an initial token is given).
    #[napi(ts_type = "'app' | 'user'")]
    pub grant: Option<String>,
}

/// What `authorizationUrl` returns.
#[napi(object)]
pub struct AuthorizationRequest {
    /// The `/v2/authorize` URL to open.
    pub url: String,
    /// The `state` the redirect must carry back.
    pub state: String,
    /// The PKCE verifier for `exchangeCode` (secret).
    pub code_verifier: String,
}

/// The core's `OAuthClient`.
#[napi]
pub struct NativeClient {
    inner: OAuthClient,
}

#[napi]
impl NativeClient {
    /// Builds a client; options not given are read from `TWILIO_*` variables.
    #[napi(constructor)]
    pub fn new(options: Option<ClientOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or_default();
        let mut b = OAuthClient::builder().language("node").from_env();
        if let Some(v) = o.client_id {
            b = b.client_id(v);
        }
        if let Some(v) = o.client_secret {
            b = b.client_secret(v);
        }
        if let Some(v) = o.account_sid {
            b = b.account_sid(v);
        }
        if let Some(v) = o.auth_token {
            b = b.auth_token(v);
        }
        if let Some(v) = o.base_url {
            b = b.base_url(v);
        }
        if let Some(v) = o.timeout {
            b = b.timeout(seconds("timeout", v)?);
        }
        if let Some(v) = o.max_retries {
            if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)) {
                return Err(config("maxRetries must be a non-negative integer"));
            }
            b = b.max_retries(v as u32);
        }
        check(b.build()).map(|inner| Self { inner })
    }

    /// The app's client id.
    #[napi(getter)]
    pub fn client_id(&self) -> String {
        self.inner.client_id().to_owned()
    }

    /// The OAuth server's base URL.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// True for a confidential client (one with a secret).
    #[napi(getter)]
    pub fn has_client_secret(&self) -> bool {
        self.inner.has_client_secret()
    }

    /// `POST /v1/token`.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn create_token<'env>(
        &self,
        env: &'env Env,
        grant_type: String,
        options: Option<V1TokenOptions>,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let o = options.unwrap_or_default();
        let request = V1TokenRequest {
            grant_type,
            code: o.code,
            code_verifier: o.code_verifier,
            device_code: o.device_code,
            device_id: o.device_id,
            refresh_token: o.refresh_token,
        };
        let client = self.inner.clone();
        spawn(
            env,
            cancel,
            async move { client.create_token(&request).await },
            NativeToken::new,
        )
    }

    /// `POST /v1/device/code`.
    #[napi(ts_return_type = "Promise<NativeDevice>")]
    pub fn create_device_code<'env>(
        &self,
        env: &'env Env,
        scopes: Vec<String>,
        audiences: Option<Vec<String>>,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let client = self.inner.clone();
        let audiences = audiences.unwrap_or_default();
        spawn(
            env,
            cancel,
            async move { client.create_device_code(&scopes, &audiences).await },
            |inner| NativeDevice { inner },
        )
    }

    /// `POST /v2/token`.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn create_oauth2_token<'env>(
        &self,
        env: &'env Env,
        grant_type: String,
        options: Option<V2TokenOptions>,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let o = options.unwrap_or_default();
        let request = V2TokenRequest {
            grant_type,
            code: o.code,
            redirect_uri: o.redirect_uri,
            audience: o.audience,
            refresh_token: o.refresh_token,
            scope: o.scope,
            code_verifier: o.code_verifier,
            account_sid: o.account_sid,
        };
        let client = self.inner.clone();
        spawn(
            env,
            cancel,
            async move { client.create_oauth2_token(&request).await },
            NativeToken::new,
        )
    }

    /// A client-credentials token (on behalf of `account_sid` when given).
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn client_credentials<'env>(
        &self,
        env: &'env Env,
        scope: Option<String>,
        audience: Option<String>,
        account_sid: Option<String>,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let client = self.inner.clone();
        spawn(
            env,
            cancel,
            async move {
                client
                    .client_credentials(
                        scope.as_deref(),
                        audience.as_deref(),
                        account_sid.as_deref(),
                    )
                    .await
            },
            NativeToken::new,
        )
    }

    /// Exchanges an authorization code.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn exchange_code<'env>(
        &self,
        env: &'env Env,
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let client = self.inner.clone();
        spawn(
            env,
            cancel,
            async move {
                client
                    .exchange_code(&code, redirect_uri.as_deref(), code_verifier.as_deref())
                    .await
            },
            NativeToken::new,
        )
    }

    /// Trades a refresh token for a new token.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn refresh<'env>(
        &self,
        env: &'env Env,
        refresh_token: String,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let client = self.inner.clone();
        spawn(
            env,
            cancel,
            async move { client.refresh(&refresh_token).await },
            NativeToken::new,
        )
    }

    /// Polls for the device flow's token until the user decides.
    #[napi(ts_return_type = "Promise<NativeToken>")]
    pub fn poll_device_token<'env>(
        &self,
        env: &'env Env,
        device: &NativeDevice,
        cancel: Option<&CancelHandle>,
    ) -> napi::Result<Object<'env>> {
        let client = self.inner.clone();
        let device = device.inner.clone();
        spawn(
            env,
            cancel,
            async move { client.poll_device_token(&device).await },
            NativeToken::new,
        )
    }

    /// Builds the PKCE authorization URL (no request).
    #[napi(catch_unwind)]
    pub fn authorization_url(
        &self,
        redirect_uri: String,
        scope: Option<String>,
        state: Option<String>,
    ) -> napi::Result<AuthorizationRequest> {
        let r = check(self.inner.authorization_url(
            &redirect_uri,
            scope.as_deref(),
            state.as_deref(),
        ))?;
        Ok(AuthorizationRequest {
            url: r.url,
            state: r.state,
            code_verifier: r.code_verifier.secret().to_owned(),
        })
    }

    /// A cached token source. `store` is the JavaScript layer's dispatcher for a custom
    /// `TokenStore`; `initial_token` a token obtained elsewhere.
    #[napi(
        ts_args_type = "options: ProviderOptions | undefined | null, store?: ((op: string, key: string, token: NativeToken | null) => Promise<string | null>) | null, initialToken?: NativeToken | null"
    )]
    pub fn token_provider(
        &self,
        options: Option<ProviderOptions>,
        store: Option<StoreFn>,
        initial_token: Option<&NativeToken>,
    ) -> napi::Result<NativeProvider> {
        let o = options.unwrap_or_default();
        let store: Option<Arc<dyn TokenStore>> = match (store, o.file_store_path) {
            (Some(f), _) => Some(Arc::new(JsStore::new(f))),
            (None, Some(path)) => Some(Arc::new(FileStore::new(path))),
            (None, None) => None,
        };
        let options = twilio_oauth::ProviderOptions {
            scope: o.scope,
            audience: o.audience,
            store,
            refresh_ahead: o
                .refresh_ahead
                .map(|v| seconds("refreshAhead", v))
                .transpose()?,
            expiry_margin: o
                .expiry_margin
                .map(|v| seconds("expiryMargin", v))
                .transpose()?,
            initial_token: initial_token.map(|t| t.inner.clone()),
            account_sid: o.account_sid,
            account: o.account,
            grant: o
                .grant
                .as_deref()
                .map(GrantKind::from_str)
                .transpose()
                .map_err(|e| to_napi(&e))?,
        };
        Ok(NativeProvider::new(self.inner.token_provider(options)))
    }
}
