//! The connection loop and the layer that counts, records and faults requests.
//!
//! Every connection speaks plain HTTP, or TLS when the server is in TLS mode and the client's
//! first byte starts a TLS handshake (0x16), so test harnesses keep using `http://` for the
//! admin API while the client under test uses `https://`. A `CONNECT` request to a loopback
//! address opens a tunnel (counted as `tunnels` in the stats): the port is also a forward
//! proxy, as a corporate network's would be.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::state::{RecordedRequest, Shared};
use crate::tls::Tls;
use crate::util;

/// Largest request body read (larger ones get 413).
const MAX_BODY: usize = 1024 * 1024;

/// Paths whose responses get `latency_ms`.
const SLOW_PATHS: [&str; 3] = ["/v1/token", "/v2/token", "/v1/device/code"];

/// Put in each request's extensions: notifying it closes the request's connection at once.
#[derive(Clone)]
pub(crate) struct ConnectionKiller(Arc<Notify>);

/// Accepts connections until the future is dropped; dropping it also closes every connection.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tls: Option<Tls>) {
    let router = crate::handlers::router(shared.clone());
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(
            stream,
            router.clone(),
            shared.clone(),
            tls.clone(),
        ));
    }
}

/// The first byte of a TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    shared: Arc<Shared>,
    tls: Option<Tls>,
) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        return serve_http(stream, router, shared).await;
    };
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await {
        Ok(1) if first[0] == TLS_HANDSHAKE => match tls.acceptor.accept(stream).await {
            Ok(stream) => serve_http(stream, router, shared).await,
            // A client that does not trust the CA ends the handshake: nothing to serve.
            Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
        },
        Ok(1) => serve_http(stream, router, shared).await,
        _ => {}
    }
}

async fn serve_http<S>(stream: S, router: Router, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let killer = ConnectionKiller(kill.clone());
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(killer.clone());
        let mut router = router.clone();
        let shared = shared.clone();
        async move {
            if request.method() == Method::CONNECT {
                return Ok(open_tunnel(request, &shared));
            }
            tower_service::Service::call(&mut router, request).await
        }
    });
    // No header-read timeout: idle keep-alive connections stay open however long a test
    // waits (also under tokio's paused clock), as a client's pool expects.
    let connection = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = kill.notified() => {
            // Dropping the connection closes the socket without a response.
        }
    }
}

/// `CONNECT host:port`: answers 200, then relays bytes both ways between the client and a
/// new connection to the target. Only loopback targets: the mock is no open proxy.
fn open_tunnel(request: Request<Incoming>, shared: &Shared) -> Response {
    let Some(authority) = request.uri().authority().cloned() else {
        return util::twilio_error(StatusCode::BAD_REQUEST, 20400, "CONNECT needs host:port");
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let Some(port) = authority.port_u16().filter(|_| loopback) else {
        return util::twilio_error(
            StatusCode::FORBIDDEN,
            20403,
            "this proxy only tunnels to loopback host:port targets",
        );
    };
    shared.count_tunnel();
    let target = (host.to_owned(), port);
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(request).await {
            Ok(upgraded) => upgraded,
            Err(e) => return tracing::debug!(error = %e, "CONNECT upgrade failed"),
        };
        let mut upstream = match TcpStream::connect((target.0.as_str(), target.1)).await {
            Ok(upstream) => upstream,
            Err(e) => return tracing::debug!(error = %e, "CONNECT target unreachable"),
        };
        let _ = upstream.set_nodelay(true);
        let mut client = TokioIo::new(upgraded);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    });
    Response::new(Body::empty())
}

/// Counts and records every non-admin request, adds latency and answers with queued faults.
pub(crate) async fn intercept(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/admin" || path.starts_with("/admin/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return util::twilio_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                20413,
                "The request body is too large",
            );
        }
    };
    let recorded = RecordedRequest::new(&parts.method, &parts.uri, &parts.headers, &bytes);
    let (fault, latency_ms) = shared.begin_request(recorded);
    if latency_ms > 0 && SLOW_PATHS.contains(&path.as_str()) {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if fault.drop {
        if let Some(killer) = request.extensions().get::<ConnectionKiller>() {
            killer.0.notify_one();
            // The connection task drops this future together with the connection.
            return std::future::pending().await;
        }
        return util::twilio_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "drop fault outside a mock connection",
        );
    }
    if fault.passthrough {
        return next.run(request).await;
    }
    fault.to_response()
}
