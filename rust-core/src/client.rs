//! `OAuthClient`: configuration plus the raw endpoint calls.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::cache::{ProviderOptions, TokenProvider, TokenSource};
use crate::clock::{Clock, SystemClock};
use crate::device::{self, DeviceAuthorization};
use crate::error::{Error, Result};
use crate::pkce::{self, AuthorizationRequest};
use crate::secret::{AuthToken, ClientSecret};
use crate::token::{Issuer, Token};
use crate::transport::{Basic, Network, ProxyUrl, Response, Retry, Transport, certificates};
use crate::wire::form::{V1TokenRequest, V2TokenRequest};
use crate::wire::token::{Received, parse_token_response};

/// Twilio's OAuth server.
pub const DEFAULT_BASE_URL: &str = "https://oauth.twilio.com";
/// Whole-request timeout when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries on connect errors, 429 and 5xx when none is given.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// Reads an OAuth client's configuration and calls Twilio's OAuth endpoints.
///
/// Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// # async fn run() -> twilio_oauth::Result<()> {
/// use twilio_oauth::OAuthClient;
/// let client = OAuthClient::builder()
///     .client_id("OQ0123456789abcdef0123456789abcdef")
///     .client_secret("your-client-secret")
///     .build()?;
/// let token = client.client_credentials(None, None, None).await?;
/// println!("{token}"); // "Bearer eyJhbGci…(812 chars) (expires in 3599s)"
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuthClient(Arc<ClientInner>);

struct ClientInner {
    client_id: String,
    client_secret: Option<ClientSecret>,
    account_sid: Option<String>,
    auth_token: Option<AuthToken>,
    base_url: Url,
    /// The explicit proxy, credentials redacted (for `Debug`).
    proxy: Option<String>,
    transport: Transport,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.0.client_id)
            .field("client_secret", &self.0.client_secret)
            .field("account_sid", &self.0.account_sid)
            .field("auth_token", &self.0.auth_token)
            .field("base_url", &self.0.base_url.as_str())
            .field("proxy", &self.0.proxy)
            .finish()
    }
}

/// Every option of API.md's `OAuthClient`, as plain data: what each binding fills from its
/// language's keyword arguments, options object or config record, and hands to
/// [`OAuthClient::from_options`]. Durations are seconds, checked by one rule
/// ([`crate::runtime::seconds`]). Options left `None` fall back to the environment
/// (`TWILIO_CLIENT_ID`, …) when `from_env` is set, else to the defaults.
#[derive(Default, Clone)]
pub struct ClientOptions {
    /// The OAuth app's id (`OQ…`).
    pub client_id: Option<String>,
    /// The app's secret (confidential clients).
    pub client_secret: Option<String>,
    /// Account SID for the v1 endpoints' Basic auth.
    pub account_sid: Option<String>,
    /// Auth token for the v1 endpoints' Basic auth.
    pub auth_token: Option<String>,
    /// The OAuth server.
    pub base_url: Option<String>,
    /// Whole-call timeout in seconds, retries included.
    pub timeout: Option<f64>,
    /// Connect timeout in seconds.
    pub connect_timeout: Option<f64>,
    /// Retries on connect errors (and, for client credentials, 429 and 5xx).
    pub max_retries: Option<u32>,
    /// A PEM file of CA certificates (one or more) to trust besides the platform's roots: a
    /// private or corporate CA. With `from_env`, `TWILIO_OAUTH_CA_FILE` when not given.
    pub ca_file: Option<PathBuf>,
    /// The same as PEM text.
    pub ca_pem: Option<String>,
    /// `http://[user:password@]host:port` (or `https://`): the proxy of every request, in place
    /// of `HTTPS_PROXY`/`ALL_PROXY`; `NO_PROXY` still applies. Never shown in full.
    pub proxy: Option<String>,
    /// The language named in the `User-Agent`.
    pub language: Option<String>,
    /// Fill options not given from the environment.
    pub from_env: bool,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("account_sid", &self.account_sid)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "[redacted]"),
            )
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("ca_file", &self.ca_file)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[PEM]"))
            .field("proxy", &self.proxy.as_deref().map(redact_proxy_text))
            .finish_non_exhaustive()
    }
}

/// Builds an [`OAuthClient`]; every option of API.md has a setter.
#[derive(Default)]
pub struct OAuthClientBuilder {
    client_id: Option<String>,
    client_secret: Option<String>,
    account_sid: Option<String>,
    auth_token: Option<String>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_retries: Option<u32>,
    clock: Option<Arc<dyn Clock>>,
    ca_file: Option<PathBuf>,
    ca_pem: Option<String>,
    proxy: Option<String>,
    language: Option<String>,
    from_env: bool,
}

impl fmt::Debug for OAuthClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClientBuilder")
            .field("client_id", &self.client_id)
            .field("base_url", &self.base_url)
            .field("ca_file", &self.ca_file)
            .field("proxy", &self.proxy.as_deref().map(redact_proxy_text))
            .finish_non_exhaustive()
    }
}

/// A proxy URL for `Debug`, credentials redacted (and nothing of a value that is not a URL).
fn redact_proxy_text(raw: &str) -> String {
    Url::parse(raw.trim())
        .map(|u| crate::transport::redact_proxy(&u))
        .unwrap_or_else(|_| "[redacted]".to_owned())
}

impl OAuthClientBuilder {
    /// The OAuth app's id (`OQ…`, 34 characters).
    pub fn client_id(mut self, v: impl Into<String>) -> Self {
        self.client_id = Some(v.into());
        self
    }
    /// The app's secret; leave unset for public (PKCE or device) clients.
    pub fn client_secret(mut self, v: impl Into<String>) -> Self {
        self.client_secret = Some(v.into());
        self
    }
    /// Account SID for the v1 endpoints' HTTP Basic auth.
    pub fn account_sid(mut self, v: impl Into<String>) -> Self {
        self.account_sid = Some(v.into());
        self
    }
    /// Auth token for the v1 endpoints' HTTP Basic auth.
    pub fn auth_token(mut self, v: impl Into<String>) -> Self {
        self.auth_token = Some(v.into());
        self
    }
    /// The OAuth server (default `https://oauth.twilio.com`); `http://` only for loopback hosts.
    pub fn base_url(mut self, v: impl Into<String>) -> Self {
        self.base_url = Some(v.into());
        self
    }
    /// Whole-request timeout (default 30 s).
    pub fn timeout(mut self, v: Duration) -> Self {
        self.timeout = Some(v);
        self
    }
    /// Connect timeout (default 10 s, never more than the timeout).
    pub fn connect_timeout(mut self, v: Duration) -> Self {
        self.connect_timeout = Some(v);
        self
    }
    /// Retries on connect errors, 429 and 5xx (default 2).
    pub fn max_retries(mut self, v: u32) -> Self {
        self.max_retries = Some(v);
        self
    }
    /// The clock used for expiry, polling and backoff (tests use [`crate::ManualClock`]).
    pub fn clock(mut self, v: Arc<dyn Clock>) -> Self {
        self.clock = Some(v);
        self
    }
    /// A PEM file of CA certificates to trust besides the platform's roots (a private or
    /// corporate CA, or a TLS-inspecting proxy's). Read when the client is built.
    pub fn ca_file(mut self, v: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(v.into());
        self
    }
    /// PEM text of CA certificates (one or more) to trust besides the platform's roots.
    pub fn ca_pem(mut self, v: impl Into<String>) -> Self {
        self.ca_pem = Some(v.into());
        self
    }
    /// The proxy of every request (`http://[user:password@]host:port`, or `https://`),
    /// instead of the environment's `HTTPS_PROXY`/`ALL_PROXY`. `NO_PROXY` still applies.
    pub fn proxy(mut self, v: impl Into<String>) -> Self {
        self.proxy = Some(v.into());
        self
    }
    /// The language named in the `User-Agent` (`twilio-oauth/<version> (<language>)`).
    pub fn language(mut self, v: impl Into<String>) -> Self {
        self.language = Some(v.into());
        self
    }
    /// Fills options not given from `TWILIO_CLIENT_ID`, `TWILIO_CLIENT_SECRET`,
    /// `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_OAUTH_BASE_URL` and
    /// `TWILIO_OAUTH_CA_FILE`.
    pub fn from_env(mut self) -> Self {
        self.from_env = true;
        self
    }

    /// Validates the options and builds the client.
    pub fn build(self) -> Result<OAuthClient> {
        let env = |name: &str| {
            if self.from_env {
                std::env::var(name).ok().filter(|v| !v.is_empty())
            } else {
                None
            }
        };
        let client_id = self
            .client_id
            .clone()
            .or_else(|| env("TWILIO_CLIENT_ID"))
            .ok_or_else(|| Error::config("client_id is required (or set TWILIO_CLIENT_ID)"))?;
        validate_sid("client_id", &client_id, "OQ")?;
        let client_secret = self
            .client_secret
            .clone()
            .or_else(|| env("TWILIO_CLIENT_SECRET"));
        if client_secret
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(Error::config(
                "client_secret is empty; leave it unset for a public client",
            ));
        }
        let account_sid = self
            .account_sid
            .clone()
            .or_else(|| env("TWILIO_ACCOUNT_SID"));
        if let Some(sid) = &account_sid {
            validate_sid("account_sid", sid, "AC")?;
        }
        let auth_token = self.auth_token.clone().or_else(|| env("TWILIO_AUTH_TOKEN"));
        if auth_token.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(Error::config("auth_token is empty"));
        }
        let base_url = self
            .base_url
            .clone()
            .or_else(|| env("TWILIO_OAUTH_BASE_URL"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base_url = parse_base_url(&base_url)?;
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::config("timeout must be greater than zero"));
        }
        let user_agent = format!(
            "twilio-oauth/{} ({})",
            env!("CARGO_PKG_VERSION"),
            self.language.as_deref().unwrap_or("rust")
        );
        let ca_file = self
            .ca_file
            .clone()
            .or_else(|| env("TWILIO_OAUTH_CA_FILE").map(PathBuf::from));
        let mut extra_roots = Vec::new();
        if let Some(path) = &ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Error::config(format!("ca_file {} cannot be read: {e}", path.display()))
            })?;
            extra_roots.extend(certificates(&format!("ca_file {}", path.display()), &pem)?);
        }
        if let Some(pem) = &self.ca_pem {
            extra_roots.extend(certificates("ca_pem", pem.as_bytes())?);
        }
        let proxy = self.proxy.as_deref().map(ProxyUrl::parse).transpose()?;
        let shown_proxy = proxy.as_ref().map(ProxyUrl::redacted);
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let transport = Transport::new(
            timeout,
            self.connect_timeout.unwrap_or(Duration::from_secs(10)),
            self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            &user_agent,
            Network { extra_roots, proxy },
            clock,
        )?;
        Ok(OAuthClient(Arc::new(ClientInner {
            client_id,
            client_secret: client_secret.map(ClientSecret::new),
            account_sid,
            auth_token: auth_token.map(AuthToken::new),
            base_url,
            proxy: shown_proxy,
            transport,
        })))
    }
}

fn validate_sid(name: &str, value: &str, prefix: &str) -> Result<()> {
    let ok = value.len() == 34
        && value.starts_with(prefix)
        && value.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{name} must be 34 letters and digits starting with {prefix:?} (got {} characters{})",
            value.chars().count(),
            if value.starts_with(prefix) {
                String::new()
            } else {
                format!(
                    ", starting with {:?}",
                    value.chars().take(2).collect::<String>()
                )
            }
        )))
    }
}

fn parse_base_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::config(format!("base_url {raw:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "base_url {raw:?} uses http:// on a non-loopback host; use https://"
            )));
        }
        other => {
            return Err(Error::config(format!(
                "base_url scheme {other:?} is not supported; use https://"
            )));
        }
    }
    if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "base_url {raw:?} must have a host and no credentials"
        )));
    }
    Ok(url)
}

impl OAuthClient {
    /// Starts a builder.
    pub fn builder() -> OAuthClientBuilder {
        OAuthClientBuilder::default()
    }

    /// A client from plain options (what the bindings use): seconds are checked, the
    /// environment fills what is missing when `from_env` is set.
    pub fn from_options(options: ClientOptions) -> Result<Self> {
        let mut b = OAuthClient::builder();
        if let Some(v) = options.client_id {
            b = b.client_id(v);
        }
        if let Some(v) = options.client_secret {
            b = b.client_secret(v);
        }
        if let Some(v) = options.account_sid {
            b = b.account_sid(v);
        }
        if let Some(v) = options.auth_token {
            b = b.auth_token(v);
        }
        if let Some(v) = options.base_url {
            b = b.base_url(v);
        }
        if let Some(v) = options.timeout {
            b = b.timeout(crate::runtime::seconds("timeout", v)?);
        }
        if let Some(v) = options.connect_timeout {
            b = b.connect_timeout(crate::runtime::seconds("connect_timeout", v)?);
        }
        if let Some(v) = options.max_retries {
            b = b.max_retries(v);
        }
        if let Some(v) = options.ca_file {
            b = b.ca_file(v);
        }
        if let Some(v) = options.ca_pem {
            b = b.ca_pem(v);
        }
        if let Some(v) = options.proxy {
            b = b.proxy(v);
        }
        if let Some(v) = options.language {
            b = b.language(v);
        }
        if options.from_env {
            b = b.from_env();
        }
        b.build()
    }

    /// A client configured from `TWILIO_CLIENT_ID`, `TWILIO_CLIENT_SECRET`,
    /// `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_OAUTH_BASE_URL` and
    /// `TWILIO_OAUTH_CA_FILE`.
    pub fn from_env() -> Result<Self> {
        Self::builder().from_env().build()
    }

    /// The app's client id.
    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// True when the client has a secret (a confidential client).
    pub fn has_client_secret(&self) -> bool {
        self.0.client_secret.is_some()
    }

    /// The OAuth server's base URL.
    pub fn base_url(&self) -> &str {
        self.0.base_url.as_str()
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        self.0.transport.clock()
    }

    /// The account SID the client was configured with (v1 Basic auth).
    pub fn account_sid(&self) -> Option<&str> {
        self.0.account_sid.as_deref()
    }

    /// The whole-call timeout (retries included).
    pub fn timeout(&self) -> Duration {
        self.0.transport.timeout()
    }

    fn endpoint(&self, path: &str) -> Result<Url> {
        let base = self.0.base_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}"))
            .map_err(|e| Error::config(format!("cannot build the {path} URL: {e}")))
    }

    fn basic(&self) -> Result<Basic<'_>> {
        match (&self.0.account_sid, &self.0.auth_token) {
            (Some(user), Some(token)) => Ok(Basic {
                user,
                password: token.secret(),
            }),
            _ => Err(Error::config(
                "the v1 endpoints need account_sid and auth_token (or TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)",
            )),
        }
    }

    async fn post_token(
        &self,
        url: &Url,
        grant_type: &str,
        form: &[(&str, &str)],
        basic: Option<Basic<'_>>,
    ) -> Result<Token> {
        let r = self
            .0
            .transport
            .post_form(url, form, basic, Retry::for_grant(grant_type))
            .await?;
        parse_token_response(&received(&r))
    }

    /// `POST /v1/token`, exactly as seed `000`: PascalCase form, HTTP Basic auth.
    pub async fn create_token(&self, request: &V1TokenRequest) -> Result<Token> {
        if request.grant_type.trim().is_empty() {
            return Err(Error::config("grant_type is required"));
        }
        let basic = self.basic()?;
        let secret = self.0.client_secret.as_ref().map(|s| s.secret());
        let form = request.form(&self.0.client_id, secret);
        let token = self
            .post_token(
                &self.endpoint("/v1/token")?,
                &request.grant_type,
                &form,
                Some(basic),
            )
            .await?
            .issued_by(Issuer::V1, request.device_id.as_deref());
        // A server that does not rotate refresh tokens sends none back: the old one lives on.
        Ok(match (&request.refresh_token, token.refresh_token()) {
            (Some(old), None) => token.with_refresh_token(old.clone()),
            _ => token,
        })
    }

    /// `POST /v1/device/code`, exactly as seed `001`: `Scopes` (required) and `Audiences` as
    /// repeated keys.
    pub async fn create_device_code<S: AsRef<str>>(
        &self,
        scopes: &[S],
        audiences: &[S],
    ) -> Result<DeviceAuthorization> {
        if scopes.iter().all(|s| s.as_ref().trim().is_empty()) {
            return Err(Error::config("create_device_code needs at least one scope"));
        }
        let basic = self.basic()?;
        let mut form: Vec<(&str, &str)> = vec![("ClientSid", &self.0.client_id)];
        form.extend(scopes.iter().map(|s| ("Scopes", s.as_ref())));
        form.extend(audiences.iter().map(|a| ("Audiences", a.as_ref())));
        let url = self.endpoint("/v1/device/code")?;
        // A device code is not a grant: asking twice only shows the person the second code.
        let r = self
            .0
            .transport
            .post_form(&url, &form, Some(basic), Retry::Full)
            .await?;
        DeviceAuthorization::parse(&r)
    }

    /// `POST /v2/token` (seeds `002`/`003`): snake_case form, no auth header, optional
    /// `account_sid` query parameter.
    pub async fn create_oauth2_token(&self, request: &V2TokenRequest) -> Result<Token> {
        if request.grant_type.trim().is_empty() {
            return Err(Error::config("grant_type is required"));
        }
        let mut url = self.endpoint("/v2/token")?;
        if let Some(sid) = &request.account_sid {
            validate_sid("account_sid", sid, "AC")?;
            url.query_pairs_mut().append_pair("account_sid", sid);
        }
        let secret = self.0.client_secret.as_ref().map(|s| s.secret());
        let form = request.form(&self.0.client_id, secret);
        self.post_token(&url, &request.grant_type, &form, None)
            .await
    }

    /// A client-credentials token from `/v2/token`; `account_sid` asks for a token that acts
    /// on behalf of that account.
    pub async fn client_credentials(
        &self,
        scope: Option<&str>,
        audience: Option<&str>,
        account_sid: Option<&str>,
    ) -> Result<Token> {
        if self.0.client_secret.is_none() {
            return Err(Error::config(
                "client_credentials needs client_secret (or TWILIO_CLIENT_SECRET)",
            ));
        }
        self.create_oauth2_token(&V2TokenRequest {
            grant_type: "client_credentials".into(),
            scope: scope.map(str::to_owned),
            audience: audience.map(str::to_owned),
            account_sid: account_sid.map(str::to_owned),
            ..V2TokenRequest::default()
        })
        .await
    }

    /// Exchanges an authorization code (with its PKCE verifier) at `/v2/token`.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<Token> {
        if code.trim().is_empty() {
            return Err(Error::config("exchange_code needs a code"));
        }
        self.create_oauth2_token(&V2TokenRequest {
            grant_type: "authorization_code".into(),
            code: Some(code.to_owned()),
            redirect_uri: redirect_uri.map(str::to_owned),
            code_verifier: code_verifier.map(str::to_owned),
            ..V2TokenRequest::default()
        })
        .await
    }

    /// Trades a refresh token for a new token at `/v2/token`. When the server does not rotate
    /// the refresh token, the old one is kept on the new token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Token> {
        if refresh_token.trim().is_empty() {
            return Err(Error::config("refresh needs a refresh token"));
        }
        let token = self
            .create_oauth2_token(&V2TokenRequest {
                grant_type: "refresh_token".into(),
                refresh_token: Some(refresh_token.to_owned()),
                ..V2TokenRequest::default()
            })
            .await?;
        Ok(if token.refresh_token().is_none() {
            token.with_refresh_token(refresh_token)
        } else {
            token
        })
    }

    /// Builds the `/v2/authorize` URL for the authorization-code flow with PKCE (S256). No
    /// request is made. `state` is random unless given.
    pub fn authorization_url(
        &self,
        redirect_uri: &str,
        scope: Option<&str>,
        state: Option<&str>,
    ) -> Result<AuthorizationRequest> {
        Url::parse(redirect_uri).map_err(|e| {
            Error::config(format!("redirect_uri {redirect_uri:?} is not a URL: {e}"))
        })?;
        let state = state
            .map(str::to_owned)
            .unwrap_or_else(|| pkce::random_urlsafe(16));
        let code_verifier = pkce::new_code_verifier();
        let mut url = self.endpoint("/v2/authorize")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.0.client_id)
                .append_pair("redirect_uri", redirect_uri);
            if let Some(scope) = scope {
                q.append_pair("scope", scope);
            }
            q.append_pair("state", &state)
                .append_pair("code_challenge", &pkce::code_challenge(&code_verifier))
                .append_pair("code_challenge_method", "S256");
        }
        Ok(AuthorizationRequest {
            url: url.into(),
            state,
            code_verifier,
        })
    }

    /// Polls `/v1/token` with the device-code grant until the user approves (RFC 8628 §3.5).
    /// Cancel by dropping the future, or use [`OAuthClient::poll_device_token_with_cancel`].
    pub async fn poll_device_token(&self, device: &DeviceAuthorization) -> Result<Token> {
        self.poll_device(device, None).await
    }

    /// [`OAuthClient::poll_device_token`], ending with [`Error::Cancelled`] when `cancel` fires.
    pub async fn poll_device_token_with_cancel(
        &self,
        device: &DeviceAuthorization,
        cancel: CancellationToken,
    ) -> Result<Token> {
        self.poll_device(device, Some(&cancel)).await
    }

    async fn poll_device(
        &self,
        device: &DeviceAuthorization,
        cancel: Option<&CancellationToken>,
    ) -> Result<Token> {
        let clock = self.clock().clone();
        device::poll(clock.as_ref(), device, cancel, |device_code| async move {
            self.create_token(&V1TokenRequest {
                grant_type: device::DEVICE_CODE_GRANT.into(),
                device_code: Some(device_code),
                ..V1TokenRequest::default()
            })
            .await
        })
        .await
    }

    /// A cached token source for API calls (see [`TokenProvider`]).
    pub fn token_provider(&self, options: ProviderOptions) -> TokenProvider {
        TokenProvider::new(Arc::new(self.clone()), options)
    }
}

fn received(r: &Response) -> Received<'_> {
    Received {
        status: r.status,
        body: &r.body,
        date: r.date,
        at: r.at,
        wall: r.wall,
    }
}

#[async_trait::async_trait]
impl TokenSource for OAuthClient {
    fn base_url(&self) -> &str {
        OAuthClient::base_url(self)
    }

    fn client_id(&self) -> &str {
        OAuthClient::client_id(self)
    }

    fn clock(&self) -> Arc<dyn Clock> {
        OAuthClient::clock(self).clone()
    }

    async fn app_token(
        &self,
        scope: Option<&str>,
        audience: Option<&str>,
        account_sid: Option<&str>,
    ) -> Result<Token> {
        self.client_credentials(scope, audience, account_sid).await
    }

    async fn renew(&self, login: &Token) -> Result<Token> {
        let refresh_token = login
            .refresh_token()
            .map(|t| t.secret().to_owned())
            .ok_or_else(|| Error::login_required("no refresh token for this login"))?;
        match login.issuer() {
            // A device login: `/v1/token` with Basic auth and the login's `DeviceId`.
            Issuer::V1 => {
                self.create_token(&V1TokenRequest {
                    grant_type: "refresh_token".into(),
                    refresh_token: Some(refresh_token),
                    device_id: login.device_id().map(str::to_owned),
                    ..V1TokenRequest::default()
                })
                .await
            }
            Issuer::V2 => self.refresh(&refresh_token).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "OQ0123456789abcdef0123456789abcdef";

    #[test]
    fn malformed_client_id_is_a_config_error() {
        let err = OAuthClient::builder()
            .client_id("OQ123")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), "ConfigError");
        assert!(err.to_string().contains("34"));
    }

    #[test]
    fn empty_secret_is_a_config_error() {
        let err = OAuthClient::builder()
            .client_id(ID)
            .client_secret("")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), "ConfigError");
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            OAuthClient::builder()
                .client_id(ID)
                .base_url(ok)
                .build()
                .unwrap();
        }
        for bad in [
            "http://oauth.twilio.com",
            "ftp://x",
            "not a url",
            "http://10.0.0.1",
        ] {
            let err = OAuthClient::builder()
                .client_id(ID)
                .base_url(bad)
                .build()
                .unwrap_err();
            assert_eq!(err.kind(), "ConfigError", "{bad}");
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let c = OAuthClient::builder()
            .client_id(ID)
            .client_secret("s3cr3t-value")
            .account_sid("AC0123456789abcdef0123456789abcdef")
            .auth_token("auth-t0ken-value")
            .build()
            .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-value") && !shown.contains("auth-t0ken-value"));
        let req = V2TokenRequest {
            grant_type: "refresh_token".into(),
            refresh_token: Some("refresh-value".into()),
            ..V2TokenRequest::default()
        };
        assert!(!format!("{req:?}").contains("refresh-value"));
    }

    #[test]
    fn network_options_are_checked_and_never_show_a_proxy_password() {
        let options = ClientOptions {
            client_id: Some(ID.into()),
            proxy: Some("http://alice:pa55word@proxy.corp:3128".into()),
            ..ClientOptions::default()
        };
        assert!(!format!("{options:?}").contains("pa55word"));
        let c = OAuthClient::from_options(options).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("pa55word"), "{shown}");
        assert!(
            shown.contains("http://[redacted]@proxy.corp:3128"),
            "{shown}"
        );

        let missing = OAuthClient::from_options(ClientOptions {
            client_id: Some(ID.into()),
            ca_file: Some("/nonexistent/corporate-ca.pem".into()),
            ..ClientOptions::default()
        })
        .unwrap_err();
        assert_eq!(missing.kind(), "ConfigError");
        assert!(missing.to_string().contains("ca_file"), "{missing}");
        let bad = OAuthClient::from_options(ClientOptions {
            client_id: Some(ID.into()),
            ca_pem: Some("not a certificate".into()),
            ..ClientOptions::default()
        })
        .unwrap_err();
        assert_eq!(bad.kind(), "ConfigError");
        assert!(bad.to_string().contains("ca_pem"), "{bad}");
    }

    #[test]
    fn authorization_url_carries_pkce_s256() {
        let c = OAuthClient::builder().client_id(ID).build().unwrap();
        let req = c
            .authorization_url("https://app.example/cb", Some("openid profile"), None)
            .unwrap();
        let url = Url::parse(&req.url).unwrap();
        assert_eq!(url.path(), "/v2/authorize");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            q["code_challenge"],
            pkce::code_challenge(&req.code_verifier)
        );
        assert_eq!(q["state"], req.state);
        assert_eq!(q["scope"], "openid profile");
        assert!(req.state.len() >= 16);
    }
}
