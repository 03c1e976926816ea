//! HTTP: one form POST with a capped body. Client-credentials requests are retried on connect
//! errors, 429 and 5xx; one-time grants (codes, device codes, refresh tokens) only when the
//! request cannot have reached the server. The timeout bounds the whole call, retries included.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use rand::Rng;
use reqwest::header::{ACCEPT, CONTENT_TYPE, DATE, RETRY_AFTER};
use url::Url;

use crate::clock::Clock;
use crate::error::{ApiError, Error, Result};
use crate::wire::error::parse_retry_after;

/// Bodies larger than this are cut off: a hostile or broken server cannot exhaust memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A `Retry-After` longer than this is not waited for: the caller gets the 429 at once.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// A response with a 2xx status, read in full.
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub date: Option<SystemTime>,
    pub at: Instant,
    pub wall: SystemTime,
}

/// Basic-auth credentials of the v1 endpoints.
pub(crate) struct Basic<'a> {
    pub user: &'a str,
    pub password: &'a str,
}

/// Which failures a request may be retried on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Connect errors, 429 and 5xx: for requests that may safely run twice (client
    /// credentials, device codes).
    Full,
    /// Only failures where the request cannot have reached the server (connect errors and
    /// connect timeouts): for one-time grants, which a second send would replay.
    ConnectOnly,
}

impl Retry {
    /// The policy of a token request's grant type.
    pub fn for_grant(grant_type: &str) -> Self {
        if grant_type == "client_credentials" {
            Retry::Full
        } else {
            Retry::ConnectOnly
        }
    }
}

/// The HTTP client of one process. After `fork()` the child builds its own: the parent's
/// pooled connections are driven by tasks of a runtime that does not exist in the child.
#[derive(Debug)]
struct Http {
    pid: u32,
    client: reqwest::Client,
}

#[derive(Debug)]
pub(crate) struct Transport {
    http: ArcSwap<Http>,
    settings: Settings,
    clock: Arc<dyn Clock>,
    max_retries: u32,
}

/// The network options of a client: extra trusted CAs and an explicit proxy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Network {
    /// Certificates trusted in addition to the platform's roots (a private or corporate CA).
    pub extra_roots: Vec<reqwest::Certificate>,
    /// An explicit proxy for every request; `None` uses the environment (`HTTPS_PROXY`, …).
    pub proxy: Option<ProxyUrl>,
}

/// A proxy URL whose `Debug` never shows the credentials it may carry.
#[derive(Clone)]
pub(crate) struct ProxyUrl(Url);

impl ProxyUrl {
    /// Checks a proxy URL: `http://` or `https://`, with a host. Credentials in it
    /// (`http://user:password@proxy:3128`) are sent to the proxy and never shown.
    pub fn parse(raw: &str) -> Result<Self> {
        // The value may carry a password: no message repeats it.
        let url = Url::parse(raw.trim()).map_err(|e| {
            Error::config(format!(
                "proxy is not a URL ({e}); expected http://host:port"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "proxy scheme {:?} is not supported; use http:// or https://",
                url.scheme()
            )));
        }
        if url.host().is_none() {
            return Err(Error::config(
                "proxy has no host; expected http://host:port",
            ));
        }
        Ok(Self(url))
    }

    /// The URL with any user name and password replaced by `[redacted]`.
    pub fn redacted(&self) -> String {
        redact_proxy(&self.0)
    }

    fn proxy(&self) -> Result<reqwest::Proxy> {
        reqwest::Proxy::all(self.0.as_str())
            .map(|p| p.no_proxy(reqwest::NoProxy::from_env()))
            .map_err(|_| Error::config(format!("proxy {} is not usable", self.redacted())))
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `scheme://[redacted]@host:port` when the URL has credentials, else `scheme://host:port`.
pub(crate) fn redact_proxy(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let creds = if url.username().is_empty() && url.password().is_none() {
        ""
    } else {
        "[redacted]@"
    };
    format!("{}://{creds}{host}{port}", url.scheme())
}

/// Reads PEM certificates (one or more) to trust besides the platform's roots. `option` names
/// the option the text came from, for the error.
pub(crate) fn certificates(option: &str, pem: &[u8]) -> Result<Vec<reqwest::Certificate>> {
    let text = String::from_utf8_lossy(pem);
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(Error::config(format!(
            "{option} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"
        )));
    }
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| Error::config(format!("{option} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::config(format!("{option} holds no PEM certificate")));
    }
    Ok(certs)
}

#[derive(Debug, Clone)]
struct Settings {
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    network: Network,
}

impl Settings {
    /// Builds the HTTP client; also run in a forked child, so it reads the environment's
    /// proxy variables again there, as the parent did.
    fn build(&self) -> Result<Http> {
        let builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout.min(self.timeout))
            // A token endpoint never redirects; following one could leak the form elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(&self.user_agent);
        // Android: reqwest's default verifier (rustls-platform-verifier) must be initialised
        // through JNI with an application Context before the first handshake. Trust Mozilla's
        // roots, compiled in, instead.
        #[cfg(target_os = "android")]
        let builder = builder.tls_certs_only(android_roots()?);
        // Added to the platform's roots (or Android's bundled ones), never replacing them.
        let builder = builder.tls_certs_merge(self.network.extra_roots.iter().cloned());
        // Without an explicit proxy reqwest reads HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and
        // NO_PROXY (and their lower-case forms) itself; an explicit one replaces them.
        let builder = match &self.network.proxy {
            Some(proxy) => builder.proxy(proxy.proxy()?),
            None => builder,
        };
        let client = builder
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            pid: std::process::id(),
            client,
        })
    }
}

impl Transport {
    pub fn new(
        timeout: Duration,
        connect_timeout: Duration,
        max_retries: u32,
        user_agent: &str,
        network: Network,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let settings = Settings {
            timeout,
            connect_timeout,
            user_agent: user_agent.to_owned(),
            network,
        };
        Ok(Self {
            http: ArcSwap::from_pointee(settings.build()?),
            settings,
            clock,
            max_retries,
        })
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    /// This process's HTTP client (a new one in a forked child).
    fn http(&self) -> Result<reqwest::Client> {
        let current = self.http.load();
        if current.pid == std::process::id() {
            return Ok(current.client.clone());
        }
        let fresh = Arc::new(self.settings.build()?);
        let client = fresh.client.clone();
        self.http.store(fresh);
        Ok(client)
    }

    /// POSTs a form, retrying what `retry` allows, all within the timeout. Non-2xx answers
    /// become errors.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<Basic<'_>>,
        retry: Retry,
    ) -> Result<Response> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let http = self.http()?;
        let deadline = self.clock.now() + self.settings.timeout;
        let mut attempt = 0u32;
        loop {
            let left = deadline.saturating_duration_since(self.clock.now());
            if left.is_zero() {
                return Err(Error::Timeout {
                    message: format!(
                        "no answer within {:?}, retries included",
                        self.settings.timeout
                    ),
                });
            }
            let outcome = self
                .send_once(&http, url, &body, basic.as_ref(), left)
                .await;
            let wait = match (&outcome, retry) {
                (Ok(Attempt::Success(_)), _) => None,
                (Ok(Attempt::Failure(e)), Retry::Full) => e
                    .retry_after
                    .or(Some(self.backoff(attempt)))
                    .filter(|_| e.status == 429 || e.status >= 500),
                (
                    Err(Failed {
                        error: Error::Transport { .. },
                        ..
                    }),
                    Retry::Full,
                ) => Some(self.backoff(attempt)),
                (Err(Failed { connect: true, .. }), _) => Some(self.backoff(attempt)),
                _ => None,
            };
            // A wait that would end past the deadline is not worth starting.
            let wait = wait.filter(|w| *w < deadline.saturating_duration_since(self.clock.now()));
            let outcome = outcome.map_err(|f| f.error);
            match (outcome, wait) {
                (Ok(Attempt::Success(r)), _) => return Ok(r),
                (outcome, Some(wait)) if attempt < self.max_retries && wait <= MAX_RETRY_AFTER => {
                    tracing::debug!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        outcome = %describe(&outcome),
                        "retrying token request"
                    );
                    self.clock.sleep(wait).await;
                    attempt += 1;
                }
                (Ok(Attempt::Failure(e)), _) if e.status == 429 => {
                    return Err(Error::RateLimited(e));
                }
                (Ok(Attempt::Failure(e)), _) => return Err(Error::Api(e)),
                (Err(e), _) => return Err(e),
            }
        }
    }

    async fn send_once(
        &self,
        http: &reqwest::Client,
        url: &Url,
        body: &str,
        basic: Option<&Basic<'_>>,
        timeout: Duration,
    ) -> Result<Attempt, Failed> {
        let mut request = http
            .post(url.clone())
            .timeout(timeout)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(b) = basic {
            request = request.basic_auth(b.user, Some(b.password));
        }
        let mut response = request.send().await.map_err(|e| Failed {
            connect: e.is_connect(),
            error: map_reqwest(e),
        })?;
        let at = self.clock.now();
        let wall = self.clock.system_time();
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let date = header(DATE).and_then(|d| httpdate::parse_http_date(&d).ok());
        let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v, wall));
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(|e| Failed {
            connect: false,
            error: map_reqwest(e),
        })? {
            let room = MAX_BODY_BYTES - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        if (200..300).contains(&status) {
            if truncated {
                return Err(Failed {
                    connect: false,
                    error: Error::invalid_response(
                        status,
                        format!("body is larger than {MAX_BODY_BYTES} bytes"),
                        &body,
                    ),
                });
            }
            return Ok(Attempt::Success(Response {
                status,
                body,
                date,
                at,
                wall,
            }));
        }
        Ok(Attempt::Failure(ApiError::from_body_at(
            status,
            &body,
            retry_after,
            wall,
        )))
    }

    /// Exponential backoff with jitter: 250 ms, 500 ms, 1 s, … capped at 8 s, each scaled by a
    /// random factor in [0.5, 1) so that many clients do not retry in step.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.min(16));
        let capped = exp.min(BACKOFF_CAP);
        capped.mul_f64(rand::rng().random_range(0.5..1.0))
    }
}

/// Mozilla's root certificates (webpki-root-certs), for Android.
#[cfg(target_os = "android")]
fn android_roots() -> Result<Vec<reqwest::Certificate>> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| reqwest::Certificate::from_der(der.as_ref()))
        .collect::<reqwest::Result<Vec<_>>>()
        .map_err(|e| Error::config(format!("cannot load the bundled TLS roots: {e}")))
}

enum Attempt {
    Success(Response),
    Failure(ApiError),
}

/// A request that got no usable answer; `connect` when it never reached the server.
struct Failed {
    connect: bool,
    error: Error,
}

fn describe(outcome: &Result<Attempt>) -> String {
    match outcome {
        Ok(Attempt::Success(r)) => format!("HTTP {}", r.status),
        Ok(Attempt::Failure(e)) => format!("HTTP {}", e.status),
        Err(e) => e.kind().to_owned(),
    }
}

/// Maps a reqwest error, with its cause chain, to our error tree.
fn map_reqwest(e: reqwest::Error) -> Error {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    if timeout {
        Error::Timeout { message }
    } else if message.contains("invalid peer certificate") {
        // rustls' own words ("invalid peer certificate: UnknownIssuer") do not tell a user
        // what went wrong or what to do.
        Error::Transport {
            message: format!(
                "TLS certificate verification failed: the server's certificate is not trusted \
                 (a private or corporate CA? give it with the ca_file or ca_pem option): {message}"
            ),
        }
    } else {
        Error::Transport { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_url_never_shows_its_password() {
        let p = ProxyUrl::parse("http://alice:pa55word@proxy.corp:3128").unwrap();
        assert_eq!(p.redacted(), "http://[redacted]@proxy.corp:3128");
        assert_eq!(format!("{p:?}"), "http://[redacted]@proxy.corp:3128");
        let plain = ProxyUrl::parse("https://proxy.corp").unwrap();
        assert_eq!(plain.redacted(), "https://proxy.corp");
    }

    #[test]
    fn bad_proxies_are_config_errors_without_the_password() {
        for bad in [
            "socks5://alice:pa55word@proxy:1080",
            "alice:pa55word@proxy:3128",
            "http://",
            "",
        ] {
            let e = ProxyUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind(), "ConfigError", "{bad}");
            assert!(e.to_string().contains("proxy"), "{e}");
            assert!(!e.to_string().contains("pa55word"), "{e}");
        }
    }

    #[test]
    fn pem_without_a_certificate_is_a_config_error_naming_the_option() {
        for bad in [
            &b"not pem"[..],
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        ] {
            let e = certificates("ca_pem", bad).unwrap_err();
            assert_eq!(e.kind(), "ConfigError");
            assert!(e.to_string().contains("ca_pem"), "{e}");
        }
    }
}
