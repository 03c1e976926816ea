//! The device authorization flow (RFC 8628) against the local server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use twilio_oauth::CancellationToken;
use twilio_oauth_mock::DeviceErrorStyle;

const S: fn(u64) -> Duration = Duration::from_secs;

#[tokio::test]
async fn pending_then_slow_down_then_approval_yields_a_token() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    server.push_fault("/v1/token", rfc_error("authorization_pending"));
    server.push_fault("/v1/token", rfc_error("slow_down"));
    server.push_fault("/v1/token", rfc_error("authorization_pending"));
    assert!(server.approve(device.user_code()));
    let token = c.poll_device_token(&device).await.unwrap();
    assert!(token.refresh_token().is_some());
    // slow_down adds five seconds to this and every later wait.
    assert_eq!(clock.sleeps(), vec![S(5), S(5), S(10), S(10)]);
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.form["GrantType"], [twilio_oauth::DEVICE_CODE_GRANT]);
    assert_eq!(sent.form["DeviceCode"], [device.device_code().secret()]);
}

#[tokio::test]
async fn a_client_keeping_to_the_interval_is_never_told_to_slow_down() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.enforce_interval = true;
        c.device_interval = Some(1);
        c.auto_approve_after_polls = Some(2);
    });
    let c = client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    // Real clock: the client waits one second between polls, so the server (which enforces
    // the interval) never says slow_down; after two pending polls it approves.
    let token = c.poll_device_token(&device).await.unwrap();
    assert!(!token.is_expired());
    let info = &server.devices()[0];
    assert_eq!(info.polls, 3);
    assert_eq!(info.interval, Some(1));
}

#[tokio::test]
async fn twilio_shaped_device_errors_are_understood() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.device_error_style = DeviceErrorStyle::Twilio;
        c.auto_approve_after_polls = Some(2);
    });
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    c.poll_device_token(&device).await.unwrap();
    // Two pending answers in Twilio's body shape, then the token.
    assert_eq!(clock.sleeps().len(), 3);
}

#[tokio::test]
async fn a_denied_request_is_access_denied() {
    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    assert!(server.deny(device.user_code()));
    let err = c.poll_device_token(&device).await.unwrap_err();
    assert_eq!(err.kind(), "AccessDeniedError");
}

#[tokio::test]
async fn the_server_saying_expired_token_ends_the_poll() {
    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    server.push_fault("/v1/token", rfc_error("expired_token"));
    let err = c.poll_device_token(&device).await.unwrap_err();
    assert_eq!(err.kind(), "ExpiredTokenError");
}

#[tokio::test]
async fn polling_stops_at_the_device_codes_expiry() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.device_expires_in = 12);
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    let err = c.poll_device_token(&device).await.unwrap_err();
    assert_eq!(err.kind(), "ExpiredTokenError");
    // Polls at 5 s and 10 s; a third wait would pass the 12 s expiry.
    assert_eq!(clock.sleeps(), vec![S(5), S(5)]);
    assert_eq!(server.request_count("/v1/token"), 2);
}

#[tokio::test]
async fn a_missing_interval_means_five_seconds() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.device_interval = None;
        c.auto_approve_after_polls = Some(0);
    });
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    assert_eq!(device.interval(), S(5));
    c.poll_device_token(&device).await.unwrap();
    assert_eq!(clock.sleeps(), vec![S(5)]);
}

#[tokio::test]
async fn a_cancellation_token_stops_the_poll() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.device_interval = Some(1));
    let c = client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let poll = tokio::spawn({
        let (c, device, cancel) = (c.clone(), device.clone(), cancel.clone());
        async move { c.poll_device_token_with_cancel(&device, cancel).await }
    });
    eventually("the first poll", || server.request_count("/v1/token") >= 1).await;
    cancel.cancel();
    let err = poll.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), "CancelledError");
}

#[tokio::test]
async fn dropping_the_poll_future_stops_polling() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.device_interval = Some(1));
    // On the injected clock the loop's waits are instant: a live poller would poll again at
    // once, so a quiet server after the drop is the drop's doing, not a slow clock's.
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    let poll = tokio::spawn({
        let (c, device) = (c.clone(), device.clone());
        async move { c.poll_device_token(&device).await }
    });
    eventually("a few polls", || server.request_count("/v1/token") >= 3).await;
    poll.abort();
    assert!(poll.await.unwrap_err().is_cancelled());
    let polls = server.request_count("/v1/token");
    let slept = clock.sleeps().len();
    // With the task gone no further poll can be sent: approving now changes nothing.
    server.approve(&server.devices()[0].user_code);
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let _ = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    assert_eq!(server.request_count("/v1/token"), polls);
    assert_eq!(clock.sleeps().len(), slept);
}

#[tokio::test]
async fn transport_errors_while_polling_back_off_and_recover() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    // The transport never resends a device code after a dropped connection (the server may
    // have redeemed it); the polling loop backs off and polls again, as RFC 8628 allows.
    server.push_fault("/v1/token", Fault::drop_connection().with_repeat(3));
    server.approve(device.user_code());
    c.poll_device_token(&device).await.unwrap();
    let polls: Vec<Duration> = clock.sleeps().into_iter().filter(|d| *d >= S(1)).collect();
    assert_eq!(polls, vec![S(5), S(10), S(20), S(40)]);
    assert_eq!(server.request_count("/v1/token"), 4);
}
