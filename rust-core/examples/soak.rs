//! Soak: one million cached `token()` calls from 8 threads over several short token lifetimes,
//! against the local Twilio OAuth server. Prints the numbers and fails (exit 1) if resident
//! memory grows by more than 2 MiB after warm-up, if a caller ever gets a token the server
//! considers expired, or if the request count strays from one per refresh period.
//!
//! `cargo run --release -p twilio-oauth --example soak`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use twilio_oauth::{OAuthClient, ProviderOptions};
use twilio_oauth_mock::{CLIENT_ID, CLIENT_SECRET, MockServer};

const THREADS: u64 = 8;
const CALLS: u64 = 1_000_000;
const LIFETIME_SECS: u64 = 3;

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn main() {
    let server = MockServer::start_in_thread().unwrap();
    server.update_config(|c| c.token_lifetime_secs = LIFETIME_SECS);
    let provider = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(server.url())
        .build()
        .unwrap()
        .token_provider(ProviderOptions::default());
    provider.token_blocking().unwrap();
    let period = {
        // The refresh period: half the believed lifetime (JWT whole seconds, less one).
        let t = provider.cached().unwrap();
        t.lifetime() / 2
    };
    let start = Instant::now();
    let expired = Arc::new(AtomicU64::new(0));
    let worst_ns = Arc::new(AtomicU64::new(0));
    let mut rss = Vec::new();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (p, expired, worst) = (provider.clone(), expired.clone(), worst_ns.clone());
            std::thread::spawn(move || {
                for i in 0..CALLS / THREADS {
                    let t0 = Instant::now();
                    let token = p.token_blocking().unwrap();
                    worst.fetch_max(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    if token.is_expired() {
                        expired.fetch_add(1, Ordering::Relaxed);
                    }
                    // Spread the calls over several lifetimes.
                    if i % 16 == 0 {
                        std::thread::sleep(Duration::from_micros(1000));
                    }
                }
            })
        })
        .collect();
    while threads.iter().any(|t| !t.is_finished()) {
        std::thread::sleep(Duration::from_millis(250));
        rss.push((start.elapsed(), rss_kib()));
    }
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = start.elapsed();
    let after_warmup: Vec<u64> = rss
        .iter()
        .filter(|(at, _)| *at >= Duration::from_secs(1))
        .map(|(_, kib)| *kib)
        .collect();
    let (lo, hi) = (
        after_warmup.iter().min().copied().unwrap_or(0),
        after_warmup.iter().max().copied().unwrap_or(0),
    );
    let requests = server.request_count("/v2/token");
    let periods = elapsed.as_secs_f64() / period.as_secs_f64();
    let stats = provider.stats();
    println!("soak: {CALLS} token() calls from {THREADS} threads in {elapsed:.1?}");
    println!(
        "  tokens of {LIFETIME_SECS} s: refresh period {period:?}, {periods:.1} periods elapsed, {requests} token requests"
    );
    println!("  stats: {stats:?}");
    println!(
        "  RSS after warm-up: {lo} KiB .. {hi} KiB (growth {} KiB)",
        hi - lo
    );
    println!(
        "  worst caller wait {:?}; expired tokens handed out: {}",
        Duration::from_nanos(worst_ns.load(Ordering::Relaxed)),
        expired.load(Ordering::Relaxed)
    );
    let mut ok = true;
    if hi - lo > 2048 {
        println!("FAIL: RSS grew by more than 2 MiB");
        ok = false;
    }
    if expired.load(Ordering::Relaxed) > 0 {
        println!("FAIL: an expired token was handed out");
        ok = false;
    }
    // One request per refresh period, plus the first; ±1 for where the run starts and ends.
    if (requests as f64 - (periods.floor() + 1.0)).abs() > 1.0 + f64::EPSILON {
        println!("FAIL: {requests} requests for {periods:.1} refresh periods");
        ok = false;
    }
    std::process::exit(if ok { 0 } else { 1 });
}
