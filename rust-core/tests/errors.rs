//! Error bodies and faults: every shape becomes a typed error that keeps what was parsed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use twilio_oauth::{Error, OAuthClient};

#[tokio::test]
async fn a_wrong_secret_gives_an_api_error_with_twilios_fields() {
    let server = MockServer::start().await.unwrap();
    let c = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret("not-the-secret")
        .base_url(server.url())
        .build()
        .unwrap();
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    let Error::Api(api) = &err else {
        panic!("expected ApiError, got {err:?}")
    };
    assert_eq!(api.status, 401);
    assert_eq!(api.code, Some(321401));
    assert_eq!(
        api.more_info.as_deref(),
        Some("https://www.twilio.com/docs/errors/321401")
    );
    assert!(!api.message.is_empty());
    // 4xx is not retried.
    assert_eq!(server.request_count("/v2/token"), 1);
}

#[tokio::test]
async fn rfc6749_and_rfc9457_bodies_are_parsed() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", rfc_error("invalid_scope"));
    server.push_fault(
        "/v2/token",
        Fault::status(400).with_body(json!({
            "type": "https://www.twilio.com/docs/errors/322403",
            "title": "Malformed request",
            "status": 400,
            "code": 322403,
            "detail": "grant_type is malformed",
        })),
    );
    let c = client(&server);
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.error.as_deref(), Some("invalid_scope"));
    assert_eq!(api.message, "invalid_scope (scripted)");
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.code, Some(322403));
    assert_eq!(api.message, "grant_type is malformed");
}

#[tokio::test]
async fn a_burst_of_5xx_is_retried_with_backoff_then_succeeds() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", Fault::status(503).with_repeat(2));
    let (c, clock) = manual_client(&server);
    let token = c.client_credentials(None, None, None).await.unwrap();
    assert!(!token.is_expired());
    assert_eq!(server.request_count("/v2/token"), 3);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    // 250 ms then 500 ms, each scaled by a jitter factor in [0.5, 1).
    assert!(sleeps[0] >= Duration::from_millis(125) && sleeps[0] < Duration::from_millis(250));
    assert!(sleeps[1] >= Duration::from_millis(250) && sleeps[1] < Duration::from_millis(500));
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(429).with_header("Retry-After", "3"),
    );
    let (c, clock) = manual_client(&server);
    c.client_credentials(None, None, None).await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(3)]);
}

#[tokio::test]
async fn persistent_429_becomes_rate_limited_with_retry_after() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(429)
            .with_header("Retry-After", "2")
            .with_repeat(3),
    );
    let (c, _clock) = manual_client(&server);
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    let Error::RateLimited(api) = &err else {
        panic!("expected RateLimitedError, got {err:?}")
    };
    assert_eq!(api.status, 429);
    assert_eq!(api.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(err.kind(), "RateLimitedError");
    assert_eq!(server.request_count("/v2/token"), 3);
}

#[tokio::test]
async fn a_retry_after_beyond_a_minute_is_not_waited_for() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(429).with_header("Retry-After", "3600"),
    );
    let (c, clock) = manual_client(&server);
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    assert_eq!(err.kind(), "RateLimitedError");
    assert!(clock.sleeps().is_empty());
    assert_eq!(server.request_count("/v2/token"), 1);
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", Fault::drop_connection());
    let (c, _clock) = manual_client(&server);
    c.client_credentials(None, None, None).await.unwrap();
    assert_eq!(server.request_count("/v2/token"), 2);
}

#[tokio::test]
async fn dropped_connections_beyond_the_retries_are_transport_errors() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", Fault::drop_connection().with_repeat(3));
    let (c, _clock) = manual_client(&server);
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    assert_eq!(err.kind(), "TransportError", "{err:?}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", Fault::slow(Duration::from_secs(5)));
    let c = builder(&server)
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    assert_eq!(err.kind(), "TimeoutError", "{err:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    assert_eq!(err.kind(), "TransportError");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_malformed_200_is_an_invalid_response() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", Fault::status(200).with_body("{\"access_tok"));
    let err = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    let Error::InvalidResponse {
        status, excerpt, ..
    } = &err
    else {
        panic!("expected InvalidResponseError, got {err:?}")
    };
    assert_eq!(*status, 200);
    assert!(excerpt.contains("access_tok"));
}

#[tokio::test]
async fn a_200_without_an_access_token_is_an_invalid_response() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(200).with_body(json!({"token_type": "Bearer", "expires_in": 3600})),
    );
    let err = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "InvalidResponseError");
    assert!(err.to_string().contains("no access_token"));
}

#[tokio::test]
async fn an_html_502_from_a_proxy_keeps_its_status_and_an_excerpt() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(502)
            .with_body("<html><body><h1>502 Bad Gateway</h1></body></html>")
            .with_repeat(3),
    );
    let (c, _clock) = manual_client(&server);
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 502);
    assert_eq!(api.code, None);
    assert!(api.message.contains("502 Bad Gateway"));
    assert_eq!(server.request_count("/v2/token"), 3);
}

#[tokio::test]
async fn an_oversized_body_is_cut_off_and_rejected() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(200).with_oversized_body(10 * 1024 * 1024),
    );
    let err = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "InvalidResponseError");
    assert!(err.to_string().contains("larger than"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(307).with_header("Location", format!("{}/v1/token", server.url())),
    );
    let err = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert_eq!(server.request_count("/v1/token"), 0);
}

#[test]
fn the_record_names_the_oauth_error_a_twilio_body_puts_in_its_message() {
    let body = br#"{"code": 322403, "message": "invalid_grant: refresh token already used", "more_info": "https://www.twilio.com/docs/errors/322403", "status": 400}"#;
    let api = twilio_oauth::ApiError::from_body(400, body, None);
    assert_eq!(api.error, None, "the body has no `error` field");
    let record = Error::LoginRequired(api).record();
    assert_eq!(record.kind, "LoginRequiredError");
    assert_eq!(record.error.as_deref(), Some("invalid_grant"));
    assert_eq!(
        record.server_message.as_deref(),
        Some("invalid_grant: refresh token already used")
    );
}
