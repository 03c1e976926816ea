//! A local stand-in for `oauth.twilio.com` (and a sliver of `api.twilio.com`) that speaks
//! Twilio's OAuth protocol: v2 and v1 token endpoints, device authorization, the authorize
//! redirect with PKCE, and an API endpoint that accepts the bearer tokens it issued.
//!
//! It is a fake of Twilio's server, used in-process by Rust tests ([`MockServer::start`]) and
//! as the `twilio-oauth-mock` binary by the other languages' tests. Tests script misbehaviour
//! with [`MockConfig`] and [`Fault`]s, approve device codes, and read back exactly what went on
//! the wire ([`MockServer::requests`]). The same controls exist as a JSON admin API under
//! `/admin` (see the crate's README).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use twilio_oauth_mock::{Fault, MockServer};
//! let server = MockServer::start().await?;
//! server.push_fault("/v2/token", Fault::status(503).with_header("Retry-After", "1"));
//! let token_url = format!("{}/v2/token", server.url());
//! # let _ = token_url;
//! # Ok(())
//! # }
//! ```

mod config;
mod fault;
mod handlers;
pub mod redis_server;
mod serve;
mod state;
mod tls;
mod util;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use config::{DeviceErrorStyle, MockConfig};
pub use fault::Fault;
pub use state::{DeviceInfo, DeviceStatus, RecordedRequest, Stats};

use state::Shared;

/// Client id of the confidential OAuth app (has [`CLIENT_SECRET`]).
pub const CLIENT_ID: &str = "OQ0123456789abcdef0123456789abcdef";
/// Secret of the confidential app [`CLIENT_ID`].
pub const CLIENT_SECRET: &str = "mock-client-secret-0123456789";
/// Client id of the public app: no secret; allowed for the device flow and for
/// `authorization_code` with PKCE.
pub const PUBLIC_CLIENT_ID: &str = "OQfedcba9876543210fedcba9876543210";
/// Account SID: the username of v1's HTTP Basic auth and the default `account_sid` claim.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Auth token: the password of v1's HTTP Basic auth.
pub const AUTH_TOKEN: &str = "mock-auth-token-0123456789abcdef";
/// The default person ([`MockConfig::user_sid`]): the `sub` of the access and id tokens of
/// user grants (authorization code, device code, their refreshes).
pub const USER_SID: &str = "US0123456789abcdef0123456789abcdef";
/// The `aud` of access tokens when the request names no audience.
pub const DEFAULT_AUDIENCE: &str = "https://api.twilio.com";

enum Runner {
    /// Served by a task on the caller's runtime.
    Task(tokio::task::JoinHandle<()>),
    /// Served on a thread with its own runtime.
    Thread {
        shutdown: Option<oneshot::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    },
}

/// A running mock server. Dropping it shuts the server down and closes its connections.
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    ca_pem: Option<String>,
    runner: Runner,
}

/// How [`MockServer::bind_with`] serves.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    /// HTTPS with a CA made at start ([`MockServer::ca_pem`]); the base URL is `https://`.
    /// The port still answers plain HTTP (the admin API of test harnesses).
    pub tls: bool,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

/// The URL clients use for a bound address (an unspecified address becomes loopback).
fn base_url(addr: SocketAddr, scheme: &str) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

const LOOPBACK: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

impl MockServer {
    /// Starts a server on `127.0.0.1` (a free port), served on the current tokio runtime.
    pub async fn start() -> io::Result<MockServer> {
        Self::bind(LOOPBACK).await
    }

    /// Starts a server on `addr`, served on the current tokio runtime.
    pub async fn bind(addr: SocketAddr) -> io::Result<MockServer> {
        Self::bind_with(addr, ServeOptions::default()).await
    }

    /// Starts an HTTPS server on `127.0.0.1` (a free port) whose certificate is signed by a CA
    /// made for it ([`MockServer::ca_pem`]), served on the current tokio runtime.
    pub async fn start_tls() -> io::Result<MockServer> {
        Self::bind_with(LOOPBACK, ServeOptions { tls: true }).await
    }

    /// Starts a server on `addr` as `options` say, served on the current tokio runtime.
    pub async fn bind_with(addr: SocketAddr, options: ServeOptions) -> io::Result<MockServer> {
        let tls = options.tls.then(tls::Tls::generate).transpose()?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared::new(base_url(addr, scheme)));
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let task = tokio::spawn(serve::accept_loop(listener, shared.clone(), tls));
        Ok(MockServer {
            shared,
            addr,
            ca_pem,
            runner: Runner::Task(task),
        })
    }

    /// Starts a server on `127.0.0.1` (a free port) on its own thread and runtime, for
    /// blocking callers and programs without a runtime.
    pub fn start_in_thread() -> io::Result<MockServer> {
        Self::bind_in_thread(LOOPBACK)
    }

    /// Starts a server on `addr` on its own thread and runtime.
    pub fn bind_in_thread(addr: SocketAddr) -> io::Result<MockServer> {
        Self::bind_in_thread_with(addr, ServeOptions::default())
    }

    /// [`MockServer::start_tls`] on its own thread and runtime.
    pub fn start_tls_in_thread() -> io::Result<MockServer> {
        Self::bind_in_thread_with(LOOPBACK, ServeOptions { tls: true })
    }

    /// Starts a server on `addr` as `options` say, on its own thread and runtime.
    pub fn bind_in_thread_with(addr: SocketAddr, options: ServeOptions) -> io::Result<MockServer> {
        let tls = options.tls.then(tls::Tls::generate).transpose()?;
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(base_url(addr, scheme)));
        let (shutdown, stop) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("twilio-oauth-mock".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::select! {
                        () = serve::accept_loop(listener, thread_shared, tls) => {}
                        _ = stop => {}
                    }
                });
            })?;
        ready_rx
            .recv()
            .map_err(|_| io::Error::other("the mock server thread exited early"))??;
        Ok(MockServer {
            shared,
            addr,
            ca_pem,
            runner: Runner::Thread {
                shutdown: Some(shutdown),
                thread: Some(thread),
            },
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (`https://` in TLS mode; no trailing slash).
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// In TLS mode, the PEM of the CA that signed the server's certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The server as a forward proxy (`http://127.0.0.1:PORT`, the same port): it answers
    /// `CONNECT` to loopback targets and counts the tunnels ([`MockServer::tunnel_count`]).
    pub fn proxy_url(&self) -> String {
        base_url(self.addr, "http")
    }

    /// How many `CONNECT` tunnels were opened.
    pub fn tunnel_count(&self) -> u64 {
        self.shared.stats().tunnels
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address the server is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The current configuration.
    pub fn config(&self) -> MockConfig {
        self.shared.config()
    }

    /// Replaces the configuration.
    pub fn set_config(&self, config: MockConfig) {
        self.shared.set_config(config);
    }

    /// Changes the configuration in place.
    pub fn update_config(&self, f: impl FnOnce(&mut MockConfig)) {
        self.shared.update_config(f);
    }

    /// Queues `fault` (`fault.repeat` times) for the next requests to `endpoint`, a path such
    /// as `/v2/token`.
    pub fn push_fault(&self, endpoint: &str, fault: Fault) {
        self.shared.push_fault(endpoint, fault);
    }

    /// The faults still queued, per endpoint.
    pub fn pending_faults(&self) -> std::collections::BTreeMap<String, Vec<Fault>> {
        self.shared.faults()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Approves the pending device code with this user code (case and dashes do not matter);
    /// `false` if there is no such pending, unexpired code.
    pub fn approve(&self, user_code: &str) -> bool {
        self.shared.decide(user_code, true).is_some()
    }

    /// Denies the pending device code with this user code; `false` if there is none.
    pub fn deny(&self, user_code: &str) -> bool {
        self.shared.decide(user_code, false).is_some()
    }

    /// Every device code issued since the start (or the last reset), oldest first.
    pub fn devices(&self) -> Vec<DeviceInfo> {
        self.shared.devices()
    }

    /// How many requests reached `path` (faulted ones included).
    pub fn request_count(&self, path: &str) -> u64 {
        self.shared.request_count(path)
    }

    /// Request counters, the number of access tokens issued and the refresh-token counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// How many access tokens were issued.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.stats().tokens_issued
    }

    /// How many `refresh_token` grants succeeded (grace-period reuses included).
    pub fn refresh_count(&self) -> u64 {
        self.shared.stats().refreshes
    }

    /// How many requests presented a refresh token that rotation had already consumed.
    pub fn reuse_count(&self) -> u64 {
        self.shared.stats().refresh_reuses
    }

    /// How many grant families (logins) were revoked by a refresh token reuse.
    pub fn grants_revoked(&self) -> u64 {
        self.shared.stats().grants_revoked
    }

    /// The last 200 non-admin requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Forgets the recorded requests (counters stay).
    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// Resets configuration, faults, counters, recorded requests and device codes. Tokens
    /// issued before stay as they were (valid, or consumed, or of a revoked grant).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The claims of a JWT (access or id token) this server signed, whatever its `exp`;
    /// `None` if the signature does not verify.
    pub fn decode_token(&self, token: &str) -> Option<serde_json::Value> {
        self.shared.decode(token)
    }

    /// Whether `token` is an unexpired access token this server issued, of no revoked grant
    /// (what the API stand-in checks).
    pub fn token_is_valid(&self, token: &str) -> bool {
        self.shared.access_token_valid(token)
    }

    /// The HS256 key of the tokens, for tests that verify them with their own JWT library.
    pub fn jwt_secret(&self) -> Vec<u8> {
        self.shared.key().to_vec()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        match &mut self.runner {
            Runner::Task(task) => task.abort(),
            Runner::Thread { shutdown, thread } => {
                if let Some(shutdown) = shutdown.take() {
                    let _ = shutdown.send(());
                }
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}
