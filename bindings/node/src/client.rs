//! `OAuthClient`: options in, promises of tokens out.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::{ClassInstance, Either, Either3, Object};
use napi_derive::napi;
use twilio_oauth::runtime::seconds;
use twilio_oauth::{ClientOptions, Error, TokenStore, V1TokenRequest, V2TokenRequest};

use crate::error::{guarded, to_js};
use crate::provider::{GrantKind, TokenProvider};
use crate::store::{FileStore, JsStore, RedisStore, StoreFn};
use crate::task::{cancel_token, spawn};
use crate::token::{AuthorizationRequest, DeviceAuthorization, Token};

/// Options of `new OAuthClient(…)`. Options not given are read from `TWILIO_CLIENT_ID`,
/// `TWILIO_CLIENT_SECRET`, `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` (and the base URL from
/// `TWILIO_OAUTH_BASE_URL`).
#[napi(object)]
#[derive(Default)]
pub struct OAuthClientOptions {
    /// The OAuth app's id (`OQ…`, 34 characters).
    pub client_id: Option<String>,
    /// The app's secret; absent for public (PKCE/device) clients.
    pub client_secret: Option<String>,
    /// Account SID for the v1 endpoints' HTTP Basic auth.
    pub account_sid: Option<String>,
    /// Auth token for the v1 endpoints' HTTP Basic auth.
    pub auth_token: Option<String>,
    /// The OAuth server (default `https://oauth.twilio.com`; `http://` only for loopback
    /// hosts).
    pub base_url: Option<String>,
    /// Whole-call timeout in seconds, retries included (default 30).
    pub timeout: Option<f64>,
    /// Connect timeout in seconds.
    pub connect_timeout: Option<f64>,
    /// Retries on connect errors, 429 and 5xx (default 2).
    pub max_retries: Option<f64>,
    /// A PEM file of CA certificates to trust besides the system's (a private or corporate
    /// CA); default `TWILIO_OAUTH_CA_FILE`.
    pub ca_file: Option<String>,
    /// The same as PEM text (one or more certificates).
    pub ca_pem: Option<String>,
    /// The proxy of every request (`http://[user:password@]host:port`), instead of
    /// `HTTPS_PROXY`/`ALL_PROXY`; `NO_PROXY` still applies. Never shown in full.
    pub proxy: Option<String>,
}

/// Every network call accepts an `AbortSignal`: aborting rejects the call with
/// `CancelledError` at once (a fetch it shares with other callers goes on for them).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CallOptions<'a> {
    /// Cancels the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Optional fields of `createToken` (v1 `/v1/token`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CreateTokenOptions<'a> {
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
    /// Cancels the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Optional fields of `createDeviceCode`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CreateDeviceCodeOptions<'a> {
    /// Audiences to request.
    pub audiences: Option<Either<Vec<String>, String>>,
    /// Cancels the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Optional fields of `createOauth2Token` (v2 `/v2/token`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CreateOauth2TokenOptions<'a> {
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
    /// Sent as the `account_sid` query parameter ("act on behalf of").
    pub account_sid: Option<String>,
    /// Cancels the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Optional fields of `clientCredentials`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ClientCredentialsOptions<'a> {
    /// Scope to request.
    pub scope: Option<String>,
    /// Audience to request.
    pub audience: Option<String>,
    /// Act on behalf of this account (sent as the `account_sid` query parameter).
    pub account_sid: Option<String>,
    /// Cancels the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Optional fields of `exchangeCode`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ExchangeCodeOptions<'a> {
    /// The redirect URI the code was sent to.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier of `authorizationUrl`.
    pub code_verifier: Option<String>,
    /// Cancels the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Optional fields of `authorizationUrl`.
#[napi(object)]
#[derive(Default)]
pub struct AuthorizationUrlOptions {
    /// Scope to request.
    pub scope: Option<String>,
    /// Random when not given.
    pub state: Option<String>,
}

/// Options of `tokenProvider`. Durations in seconds.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct TokenProviderOptions<'a> {
    /// Scope to request (normalised: `"b a"` and `"a  b"` share one cache key).
    pub scope: Option<String>,
    /// Audience to request.
    pub audience: Option<String>,
    /// Client credentials on behalf of this account (`account_sid`); part of the cache key.
    pub account_sid: Option<String>,
    /// A label for the person (`'alice@example.com'`): keeps two people apart in a shared
    /// store and lets a later process find this login in the store without a token in hand.
    /// Makes the provider a user provider. Default: the token's JWT `sub`.
    pub account: Option<String>,
    /// `'app'` or `'user'` (anything else is a `ConfigError`). Default: `'user'` when
    /// `initialToken` or `account` is given, else `'app'`. A user provider never hands out an
    /// app token: when its login cannot be refreshed it rejects with `LoginRequiredError`.
    pub grant: Option<GrantKind>,
    /// Where tokens live besides memory: a `FileStore`, a `RedisStore`, or any object with
    /// `load(key)`, `save(key, token)` and optionally `delete(key)`. Default: memory only.
    #[napi(ts_type = "import('./index').TokenStore | FileStore | RedisStore")]
    pub store:
        Option<Either3<ClassInstance<'a, FileStore>, ClassInstance<'a, RedisStore>, StoreFn>>,
    /// Refresh in the background this many seconds before expiry (default: 5 minutes or half
    /// the lifetime, with a little jitter).
    pub refresh_ahead: Option<f64>,
    /// Never hand out a token this many seconds from expiry (default: 30 s or a tenth of the
    /// lifetime).
    pub expiry_margin: Option<f64>,
    /// A person's token obtained elsewhere (device login, code exchange), renewed with its
    /// refresh token. With a `store` too, the first call reconciles with what the store holds
    /// (the token issued later wins) and saves it.
    #[napi(ts_type = "Token")]
    pub initial_token: Option<ClassInstance<'a, Token>>,
}

/// Configuration of a Twilio OAuth app plus the raw OAuth endpoint calls.
#[napi]
pub struct OAuthClient {
    inner: twilio_oauth::OAuthClient,
}

#[napi]
impl OAuthClient {
    /// A client; options not given are read from the `TWILIO_*` variables.
    #[napi(constructor)]
    pub fn new(env: &Env, options: Option<OAuthClientOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or_default();
        let max_retries = match o.max_retries {
            None => None,
            Some(v)
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) =>
            {
                Some(v as u32)
            }
            Some(_) => {
                return Err(to_js(
                    env,
                    &Error::Config {
                        message: "maxRetries must be a non-negative integer".into(),
                    },
                ));
            }
        };
        let options = ClientOptions {
            client_id: o.client_id,
            client_secret: o.client_secret,
            account_sid: o.account_sid,
            auth_token: o.auth_token,
            base_url: o.base_url,
            timeout: o.timeout,
            connect_timeout: o.connect_timeout,
            max_retries,
            ca_file: o.ca_file.map(Into::into),
            ca_pem: o.ca_pem,
            proxy: o.proxy,
            language: Some("node".into()),
            from_env: true,
        };
        guarded(env, || twilio_oauth::OAuthClient::from_options(options))
            .map(|inner| Self { inner })
    }

    /// The same as `new OAuthClient(options)`: a client configured from the `TWILIO_*`
    /// variables plus any options given.
    #[napi(factory, writable = true, configurable = true)]
    pub fn from_env(env: &Env, options: Option<OAuthClientOptions>) -> napi::Result<Self> {
        Self::new(env, options)
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
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn create_token<'env>(
        &self,
        env: &'env Env,
        grant_type: String,
        options: Option<CreateTokenOptions<'_>>,
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
            cancel_token(env, o.signal)?,
            async move { client.create_token(&request).await },
            Token::new,
        )
    }

    /// `POST /v1/device/code`: the codes to show the user.
    #[napi(ts_return_type = "Promise<DeviceAuthorization>")]
    pub fn create_device_code<'env>(
        &self,
        env: &'env Env,
        scopes: Either<Vec<String>, String>,
        options: Option<CreateDeviceCodeOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let o = options.unwrap_or_default();
        let scopes = list(scopes);
        let audiences = o.audiences.map(list).unwrap_or_default();
        let client = self.inner.clone();
        spawn(
            env,
            cancel_token(env, o.signal)?,
            async move { client.create_device_code(&scopes, &audiences).await },
            |inner| DeviceAuthorization { inner },
        )
    }

    /// `POST /v2/token`.
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn create_oauth2_token<'env>(
        &self,
        env: &'env Env,
        grant_type: String,
        options: Option<CreateOauth2TokenOptions<'_>>,
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
            cancel_token(env, o.signal)?,
            async move { client.create_oauth2_token(&request).await },
            Token::new,
        )
    }

    /// Same as `createOauth2Token`.
    #[napi(js_name = "createOAuth2Token", ts_return_type = "Promise<Token>")]
    pub fn create_oauth2_token_alias<'env>(
        &self,
        env: &'env Env,
        grant_type: String,
        options: Option<CreateOauth2TokenOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        self.create_oauth2_token(env, grant_type, options)
    }

    /// A client-credentials token (on behalf of `accountSid` when given).
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn client_credentials<'env>(
        &self,
        env: &'env Env,
        options: Option<ClientCredentialsOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let o = options.unwrap_or_default();
        let client = self.inner.clone();
        spawn(
            env,
            cancel_token(env, o.signal)?,
            async move {
                client
                    .client_credentials(
                        o.scope.as_deref(),
                        o.audience.as_deref(),
                        o.account_sid.as_deref(),
                    )
                    .await
            },
            Token::new,
        )
    }

    /// Exchanges an authorization code (with its PKCE verifier).
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn exchange_code<'env>(
        &self,
        env: &'env Env,
        code: String,
        options: Option<ExchangeCodeOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let o = options.unwrap_or_default();
        let client = self.inner.clone();
        spawn(
            env,
            cancel_token(env, o.signal)?,
            async move {
                client
                    .exchange_code(&code, o.redirect_uri.as_deref(), o.code_verifier.as_deref())
                    .await
            },
            Token::new,
        )
    }

    /// Trades a refresh token for a new token.
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn refresh<'env>(
        &self,
        env: &'env Env,
        refresh_token: String,
        options: Option<CallOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let cancel = cancel_token(env, options.and_then(|o| o.signal))?;
        let client = self.inner.clone();
        spawn(
            env,
            cancel,
            async move { client.refresh(&refresh_token).await },
            Token::new,
        )
    }

    /// Polls for the device flow's token until the user approves or denies (RFC 8628,
    /// honouring `slow_down`); `{ signal }` cancels.
    #[napi(ts_return_type = "Promise<Token>")]
    pub fn poll_device_token<'env>(
        &self,
        env: &'env Env,
        device: &DeviceAuthorization,
        options: Option<CallOptions<'_>>,
    ) -> napi::Result<Object<'env>> {
        let cancel = cancel_token(env, options.and_then(|o| o.signal))?;
        let client = self.inner.clone();
        let device = device.inner.clone();
        spawn(
            env,
            cancel,
            async move { client.poll_device_token(&device).await },
            Token::new,
        )
    }

    /// Builds the `/v2/authorize` URL with PKCE (S256); no request.
    #[napi]
    pub fn authorization_url(
        &self,
        env: &Env,
        redirect_uri: String,
        options: Option<AuthorizationUrlOptions>,
    ) -> napi::Result<AuthorizationRequest> {
        let o = options.unwrap_or_default();
        let r = guarded(env, || {
            self.inner
                .authorization_url(&redirect_uri, o.scope.as_deref(), o.state.as_deref())
        })?;
        Ok(AuthorizationRequest {
            url: r.url,
            state: r.state,
            code_verifier: r.code_verifier.secret().to_owned(),
        })
    }

    /// A cached token source for API calls. With `initialToken` or `account` it holds a
    /// person's token (`grant: 'user'`), renewed with its refresh token and never replaced by
    /// an app token; else the app's own (client credentials).
    #[napi]
    pub fn token_provider(
        &self,
        env: &Env,
        options: Option<TokenProviderOptions<'_>>,
    ) -> napi::Result<TokenProvider> {
        let o = options.unwrap_or_default();
        let store: Option<Arc<dyn TokenStore>> = match o.store {
            // The core's own stores, unwrapped: their locks reach the provider.
            Some(Either3::A(file)) => Some(file.inner.clone()),
            Some(Either3::B(redis)) => Some(redis.inner.clone()),
            Some(Either3::C(dispatcher)) => Some(Arc::new(JsStore::new(dispatcher))),
            None => None,
        };
        let duration = |name: &str, value: Option<f64>| value.map(|v| seconds(name, v)).transpose();
        let options = guarded(env, || {
            Ok(twilio_oauth::ProviderOptions {
                scope: o.scope,
                audience: o.audience,
                store,
                refresh_ahead: duration("refreshAhead", o.refresh_ahead)?,
                expiry_margin: duration("expiryMargin", o.expiry_margin)?,
                initial_token: o.initial_token.map(|t| t.inner.clone()),
                account_sid: o.account_sid,
                account: o.account,
                grant: o.grant.map(GrantKind::core),
            })
        })?;
        Ok(TokenProvider::new(self.inner.token_provider(options)))
    }

    /// `{ clientId, baseUrl }` (never a secret).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, string>")]
    pub fn summary(&self) -> std::collections::HashMap<String, String> {
        std::collections::HashMap::from([
            ("clientId".to_owned(), self.client_id()),
            ("baseUrl".to_owned(), self.base_url()),
        ])
    }
}

/// One string or several.
fn list(value: Either<Vec<String>, String>) -> Vec<String> {
    match value {
        Either::A(list) => list,
        Either::B(one) => vec![one],
    }
}
