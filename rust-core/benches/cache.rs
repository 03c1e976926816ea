//! Benchmarks of the token cache: the cached hit (target ≤ 100 ns) and a cold single-flight
//! with 1000 concurrent tasks against the local Twilio OAuth server.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use twilio_oauth::{OAuthClient, ProviderOptions, TokenProvider};
use twilio_oauth_mock::{CLIENT_ID, CLIENT_SECRET, MockServer};

fn client(server: &MockServer) -> OAuthClient {
    OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(server.url())
        .build()
        .unwrap()
}

fn cached_hit(c: &mut Criterion) {
    let server = MockServer::start_in_thread().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let provider: TokenProvider = client(&server).token_provider(ProviderOptions::default());
    rt.block_on(provider.token()).unwrap();
    let mut group = c.benchmark_group("cached");
    group.bench_function("try_token", |b| b.iter(|| black_box(provider.try_token())));
    group.bench_function("token_blocking", |b| {
        b.iter(|| black_box(provider.token_blocking().unwrap()))
    });
    group.bench_function("token_await", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(provider.token().await.unwrap()) })
    });
    group.finish();
}

fn cold_single_flight(c: &mut Criterion) {
    let server = MockServer::start_in_thread().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = client(&server);
    let mut group = c.benchmark_group("cold");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("single_flight_1000_tasks", |b| {
        b.to_async(&rt).iter(|| async {
            let provider = client.token_provider(ProviderOptions::default());
            let tasks: Vec<_> = (0..1000)
                .map(|_| {
                    let p = provider.clone();
                    tokio::spawn(async move { p.token().await.map(|_| ()) })
                })
                .collect();
            for t in tasks {
                t.await.unwrap().unwrap();
            }
            assert_eq!(provider.stats().fetches, 1);
        })
    });
    group.finish();
}

criterion_group!(benches, cached_hit, cold_single_flight);
criterion_main!(benches);
