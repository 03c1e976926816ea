//! Refresh-ahead under a continuous caller: tokens of 3 s, one call every 10 ms across five
//! lifetimes, each token request slowed to 200 ms by the local server. Prints (and with `--json`
//! emits) the worst wait of any caller after the first fetch: refreshes happen in the
//! background, so no caller should wait for one.
//!
//! `cargo run --release -p twilio-oauth --example refresh_ahead [-- --json]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use twilio_oauth::{OAuthClient, ProviderOptions};
use twilio_oauth_mock::{CLIENT_ID, CLIENT_SECRET, MockServer};

#[tokio::main]
async fn main() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.token_lifetime_secs = 3;
        c.latency_ms = 200;
    });
    let provider = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(server.url())
        .build()
        .unwrap()
        .token_provider(ProviderOptions::default());
    let t0 = Instant::now();
    let first = provider.token().await.unwrap();
    let first_wait = t0.elapsed();
    let span = first.lifetime() * 5;
    let start = Instant::now();
    let mut waits = Vec::new();
    while start.elapsed() < span {
        let t = Instant::now();
        let token = provider.token().await.unwrap();
        waits.push(t.elapsed());
        assert!(server.token_is_valid(token.access_token().secret()));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    waits.sort();
    let worst = *waits.last().unwrap();
    let median = waits[waits.len() / 2];
    let requests = server.request_count("/v2/token");
    let stats = provider.stats();
    if std::env::args().any(|a| a == "--json") {
        println!(
            "{}",
            serde_json::json!({
                "lifetimes": 5,
                "calls": waits.len(),
                "first_fetch_ms": first_wait.as_secs_f64() * 1e3,
                "worst_wait_ms": worst.as_secs_f64() * 1e3,
                "median_wait_us": median.as_secs_f64() * 1e6,
                "token_requests": requests,
                "background_refreshes": stats.background_refreshes,
            })
        );
    } else {
        println!(
            "{} calls across 5 lifetimes of {:?}: first fetch {first_wait:?}, then worst wait {worst:?}, median {median:?}; {requests} token requests ({} in the background)",
            waits.len(),
            first.lifetime(),
            stats.background_refreshes
        );
    }
}
