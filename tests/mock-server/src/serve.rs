//! The connection loop and the layer that counts, records and faults requests.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::state::{RecordedRequest, Shared};
use crate::util;

/// Largest request body read (larger ones get 413).
const MAX_BODY: usize = 1024 * 1024;

/// Paths whose responses get `latency_ms`.
const SLOW_PATHS: [&str; 3] = ["/v1/token", "/v2/token", "/v1/device/code"];

/// Put in each request's extensions: notifying it closes the request's connection at once.
#[derive(Clone)]
pub(crate) struct ConnectionKiller(Arc<Notify>);

/// Accepts connections until the future is dropped; dropping it also closes every connection.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let router = crate::handlers::router(shared);
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
        connections.spawn(serve_connection(stream, router.clone()));
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let killer = ConnectionKiller(kill.clone());
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(killer.clone());
        let mut router = router.clone();
        tower_service::Service::call(&mut router, request)
    });
    // No header-read timeout: idle keep-alive connections stay open however long a test
    // waits (also under tokio's paused clock), as a client's pool expects.
    let connection = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service);
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
