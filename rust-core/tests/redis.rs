//! `RedisStore` against a real `redis-server` (Debian's package; `.ci/run` installs it): the
//! fleet's lock, a holder that dies, Redis stopping and coming back, foreign and tampered
//! values, encryption. "Processes" are providers on their own `RedisStore` (their own
//! connection), as separate processes would be.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use redis::AsyncCommands;
use twilio_oauth::{ProviderOptions, RedisOptions, RedisStore, Token, TokenProvider, TokenStore};
use twilio_oauth_mock::redis_server::RedisServer;

type Redis = RedisServer;

/// A connection of the test's own, to look at what the store wrote.
async fn raw(redis: &Redis) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

const KEY: [u8; 32] = [7; 32];

fn store(redis: &Redis, options: RedisOptions) -> RedisStore {
    RedisStore::connect(&redis.url(), options).unwrap()
}

fn encrypted() -> RedisOptions {
    RedisOptions {
        encryption_key: Some(KEY.to_vec()),
        ..RedisOptions::default()
    }
}

fn provider_on(server: &MockServer, store: RedisStore, options: ProviderOptions) -> TokenProvider {
    client(server).token_provider(ProviderOptions {
        store: Some(Arc::new(store)),
        ..options
    })
}

#[tokio::test]
async fn a_token_round_trips_encrypted_with_a_ttl_and_nothing_readable_at_rest() {
    let redis = Redis::start().unwrap();
    let s = store(&redis, encrypted());
    let t = Token::new("access-secret-0123456789abcdef", Duration::from_secs(600));
    s.save("k", &t).await.unwrap();
    let back = s.load("k").await.unwrap().unwrap();
    assert_eq!(
        back.access_token().secret(),
        "access-secret-0123456789abcdef"
    );
    let mut raw = raw(&redis).await;
    let rkey = s.redis_key("k");
    let value: String = raw.get(&rkey).await.unwrap();
    assert!(!value.contains("access-secret"), "{value}");
    let ttl: i64 = raw.pttl(&rkey).await.unwrap();
    assert!(ttl > 590_000 && ttl <= 600_000, "ttl {ttl}");
    // Keys are listed from the values (key names are hashes: no one is named in Redis).
    s.save("k2", &t).await.unwrap();
    assert_eq!(
        s.keys().await.unwrap(),
        vec!["k".to_owned(), "k2".to_owned()]
    );
    s.delete("k").await.unwrap();
    assert!(s.load("k").await.unwrap().is_none());
    assert_eq!(s.keys().await.unwrap(), vec!["k2".to_owned()]);
}

#[tokio::test]
async fn tampered_moved_foreign_and_unencrypted_values_are_ignored() {
    let redis = Redis::start().unwrap();
    let s = store(&redis, encrypted());
    let mut raw = raw(&redis).await;
    let t = Token::new("access-secret-0123456789abcdef", Duration::from_secs(600));
    s.save("alice", &t).await.unwrap();
    let value: String = raw.get(s.redis_key("alice")).await.unwrap();
    // Moved to another cache key: the associated data no longer matches.
    let _: () = raw.set(s.redis_key("bob"), &value).await.unwrap();
    assert!(s.load("bob").await.unwrap().is_none());
    // One byte of the ciphertext changed.
    let mut envelope: serde_json::Value = serde_json::from_str(&value).unwrap();
    let data = envelope["data"].as_str().unwrap().to_owned();
    let flipped = if data.starts_with('A') { "B" } else { "A" };
    envelope["data"] = format!("{flipped}{}", &data[1..]).into();
    let _: () = raw
        .set(s.redis_key("alice"), envelope.to_string())
        .await
        .unwrap();
    assert!(s.load("alice").await.unwrap().is_none());
    // Foreign values and a plaintext value where only encrypted ones are read.
    for foreign in ["hello", "{\"v\": 9}", "{\"v\":1,\"token\":\"{}\"}"] {
        let _: () = raw.set(s.redis_key("carol"), foreign).await.unwrap();
        assert!(s.load("carol").await.unwrap().is_none(), "{foreign}");
    }
    let plain = store(&redis, RedisOptions::default());
    plain.save("dave", &t).await.unwrap();
    assert!(s.load("dave").await.unwrap().is_none());
    assert!(plain.load("dave").await.unwrap().is_some());
    // Another key does not open it either.
    let other = store(
        &redis,
        RedisOptions {
            encryption_key: Some(vec![9; 32]),
            ..RedisOptions::default()
        },
    );
    s.save("erin", &t).await.unwrap();
    assert!(other.load("erin").await.unwrap().is_none());
}

#[tokio::test]
async fn a_bad_key_or_url_is_a_config_error_and_debug_hides_the_password() {
    let err = RedisStore::connect(
        "redis://127.0.0.1:1",
        RedisOptions {
            encryption_key: Some(vec![1; 16]),
            ..RedisOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), "ConfigError");
    assert_eq!(
        RedisStore::connect("http://nope", RedisOptions::default())
            .unwrap_err()
            .kind(),
        "ConfigError"
    );
    let s = RedisStore::connect("redis://user:hunter2-secret@127.0.0.1:1/0", encrypted()).unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_tasks_in_four_processes_make_one_token_request() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.latency_ms = 200);
    let redis = Redis::start().unwrap();
    let providers: Vec<_> = (0..4)
        .map(|_| {
            provider_on(
                &server,
                store(&redis, encrypted()),
                ProviderOptions::default(),
            )
        })
        .collect();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let p = providers[i % 4].clone();
            tokio::spawn(async move { p.access_token().await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every process got the one token");
    assert_eq!(server.request_count("/v2/token"), 1);
    let from_fleet: u64 = providers.iter().map(|p| p.stats().store_hits).sum();
    assert_eq!(from_fleet, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_died_mid_fetch_only_delays_the_fleet_until_its_lock_expires() {
    let server = MockServer::start().await.unwrap();
    let redis = Redis::start().unwrap();
    let options = RedisOptions {
        lock_ttl: Duration::from_millis(800),
        lock_wait: Duration::from_secs(10),
        ..encrypted()
    };
    let p = provider_on(
        &server,
        store(&redis, options.clone()),
        ProviderOptions::default(),
    );
    // A process took the fleet's lock for this key and died: nobody releases it.
    let dead = store(&redis, options.clone());
    let lock = dead.lock(p.key()).await.unwrap().unwrap();
    std::mem::forget(lock);
    let started = Instant::now();
    p.token().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "waited for the expiry"
    );
    assert_eq!(server.request_count("/v2/token"), 1);
    assert_eq!(p.stats().store_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_and_coming_back_never_costs_a_caller_an_error_or_an_expired_token() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.token_lifetime_secs = 3);
    let mut redis = Redis::start().unwrap();
    let providers: Vec<_> = (0..3)
        .map(|_| {
            provider_on(
                &server,
                store(&redis, encrypted()),
                ProviderOptions::default(),
            )
        })
        .collect();
    let run = |providers: Vec<TokenProvider>, for_: Duration| async move {
        let until = Instant::now() + for_;
        while Instant::now() < until {
            for p in &providers {
                let t = p.token().await.expect("no caller error because of Redis");
                assert!(!t.is_expired());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    run(providers.clone(), Duration::from_secs(2)).await;
    redis.stop();
    run(providers.clone(), Duration::from_secs(4)).await;
    let errors: u64 = providers.iter().map(|p| p.stats().store_errors).sum();
    assert!(errors > 0, "the outage was counted");
    redis.restart().unwrap();
    let before = server.request_count("/v2/token");
    run(providers.clone(), Duration::from_secs(4)).await;
    // Sharing resumed: about one request per lifetime for all three, not three.
    let after = server.request_count("/v2/token") - before;
    assert!(after <= 4, "{after} requests after Redis came back");
    let probe = store(&redis, encrypted());
    assert!(probe.load(providers[0].key()).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_refresh_token_is_used_once_for_the_whole_fleet() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.token_lifetime_secs = 3);
    let redis = Redis::start().unwrap();
    let c = client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    server.approve(device.user_code());
    let login = c.poll_device_token(&device).await.unwrap();
    provider_on(
        &server,
        store(&redis, encrypted()),
        ProviderOptions {
            initial_token: Some(login),
            account: Some("alice".into()),
            ..ProviderOptions::default()
        },
    )
    .token()
    .await
    .unwrap();
    let providers: Vec<_> = (0..4)
        .map(|_| {
            provider_on(
                &server,
                store(&redis, encrypted()),
                ProviderOptions {
                    account: Some("alice".into()),
                    ..ProviderOptions::default()
                },
            )
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        for p in &providers {
            assert!(!p.token().await.unwrap().is_expired());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = server.stats();
    assert_eq!(stats.refresh_reuses, 0);
    assert_eq!(stats.grants_revoked, 0);
    assert!(stats.refreshes <= 8, "{} refreshes", stats.refreshes);
}
