//! Shared helpers for the integration tests: every test talks HTTP to the local Twilio OAuth
//! server from `tests/mock-server`.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use twilio_oauth::{Clock, ManualClock, OAuthClient, OAuthClientBuilder};
pub use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, Fault, MockServer, PUBLIC_CLIENT_ID,
};

/// A confidential client with v1 credentials, pointed at `server`.
pub fn builder(server: &MockServer) -> OAuthClientBuilder {
    OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .account_sid(ACCOUNT_SID)
        .auth_token(AUTH_TOKEN)
        .base_url(server.url())
}

pub fn client(server: &MockServer) -> OAuthClient {
    builder(server).build().unwrap()
}

/// A client whose waits (retries, polling) are instant and recorded.
pub fn manual_client(server: &MockServer) -> (OAuthClient, ManualClock) {
    let clock = ManualClock::new();
    let client = builder(server)
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap();
    (client, clock)
}

/// Waits for an asynchronous effect (a background refresh) to become visible, up to 10 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn rfc_error(error: &str) -> Fault {
    Fault::status(400).with_body(serde_json::json!({
        "error": error,
        "error_description": format!("{error} (scripted)"),
    }))
}
