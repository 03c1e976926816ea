//! The token cache under load, in its refresh-ahead window, and when refreshes go wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use twilio_oauth::{
    ApiCall, Clock, FileStore, ManualClock, MemoryStore, ProviderOptions, Token, TokenProvider,
    TokenStore,
};

const S: fn(u64) -> Duration = Duration::from_secs;

fn provider(server: &MockServer) -> (TokenProvider, ManualClock) {
    let (c, clock) = manual_client(server);
    (c.token_provider(ProviderOptions::default()), clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_on_a_cold_cache_make_one_request() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.latency_ms = 100);
    let p = client(&server).token_provider(ProviderOptions::default());
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { p.access_token().await.unwrap() })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(server.request_count("/v2/token"), 1);
    let stats = p.stats();
    assert_eq!(stats.fetches, 1);
    assert_eq!(stats.hits, 999);
}

#[tokio::test]
async fn a_fresh_token_is_served_from_the_cache() {
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    let first = p.token().await.unwrap();
    clock.advance(S(3000));
    let second = p.token().await.unwrap();
    assert_eq!(first.access_token(), second.access_token());
    assert_eq!(server.request_count("/v2/token"), 1);
    assert_eq!(p.cached().unwrap().access_token(), first.access_token());
    assert_eq!(
        p.authorization_header().await.unwrap(),
        format!("Bearer {}", first.access_token().secret())
    );
}

#[tokio::test]
async fn inside_the_refresh_ahead_window_callers_get_the_valid_token_and_one_background_refresh_runs()
 {
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    let first = p.token().await.unwrap();
    // Lifetime 3599 s: refresh-ahead starts 270–300 s before expiry, the margin is 30 s.
    clock.advance(S(3400));
    for _ in 0..50 {
        let t = p.token().await.unwrap();
        assert_eq!(t.access_token(), first.access_token());
    }
    eventually("the background refresh", || {
        p.stats().background_refreshes == 1
    })
    .await;
    eventually("the new token", || {
        p.cached()
            .is_some_and(|t| t.access_token() != first.access_token())
    })
    .await;
    assert_eq!(server.request_count("/v2/token"), 2);
    assert_eq!(p.stats().background_refreshes, 1);
    assert_eq!(p.stats().fetches, 2);
}

#[tokio::test]
async fn a_failed_background_refresh_keeps_serving_the_valid_token_and_retries_later() {
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    let first = p.token().await.unwrap();
    server.push_fault("/v2/token", Fault::status(503).with_repeat(3));
    clock.advance(S(3400));
    assert_eq!(
        p.token().await.unwrap().access_token(),
        first.access_token()
    );
    eventually("the failed refresh", || p.stats().failures == 1).await;
    eventually("the refresh to finish", || {
        p.try_token().is_some() && server.request_count("/v2/token") == 4
    })
    .await;
    // During the backoff no new request is made, and the valid token is still served.
    for _ in 0..20 {
        assert_eq!(
            p.token().await.unwrap().access_token(),
            first.access_token()
        );
    }
    tokio::task::yield_now().await;
    assert_eq!(server.request_count("/v2/token"), 4);
    // After the backoff (1 s for the first failure), the next caller triggers a retry.
    clock.advance(S(2));
    assert_eq!(
        p.token().await.unwrap().access_token(),
        first.access_token()
    );
    eventually("the retried refresh", || {
        p.cached()
            .is_some_and(|t| t.access_token() != first.access_token())
    })
    .await;
    assert_eq!(p.stats().failures, 1);
    assert_eq!(p.stats().background_refreshes, 2);
}

#[tokio::test]
async fn a_refresh_that_does_not_extend_the_expiry_does_not_loop() {
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    let first = p.token().await.unwrap();
    // From now on the server issues tokens that expire sooner than the cached one.
    server.update_config(|c| c.token_lifetime_secs = 60);
    clock.advance(S(3400));
    p.token().await.unwrap();
    eventually("the background refresh", || {
        p.stats().background_refreshes == 1
    })
    .await;
    eventually("the refresh to finish", || {
        server.request_count("/v2/token") == 2
    })
    .await;
    for _ in 0..100 {
        p.token().await.unwrap();
        tokio::task::yield_now().await;
    }
    assert_eq!(server.request_count("/v2/token"), 2);
    assert_eq!(p.stats().background_refreshes, 1);
    // The longer-lived token stays in service.
    assert_eq!(p.cached().unwrap().access_token(), first.access_token());
}

#[tokio::test]
async fn after_a_failed_refresh_a_token_inside_the_margin_is_still_not_handed_out() {
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    let first = p.token().await.unwrap();
    server.push_fault("/v2/token", Fault::status(503).with_repeat(3));
    clock.advance(S(3400));
    p.token().await.unwrap();
    eventually("the failed refresh", || p.stats().failures == 1).await;
    clock.advance(S(175)); // 24 s left: inside the 30 s margin, during the failure backoff.
    let next = p.token().await.unwrap();
    assert_ne!(next.access_token(), first.access_token());
}

#[tokio::test]
async fn a_token_inside_the_expiry_margin_is_never_handed_out() {
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    let first = p.token().await.unwrap();
    clock.advance(S(3575)); // 24 s left: inside the 30 s margin.
    assert!(p.cached().is_none());
    let second = p.token().await.unwrap();
    assert_ne!(first.access_token(), second.access_token());
    assert_eq!(p.stats().background_refreshes, 0);
    assert_eq!(server.request_count("/v2/token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_failure_instead_of_retrying_one_by_one() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.latency_ms = 100);
    server.push_fault(
        "/v2/token",
        Fault::status(401).with_delay(Duration::from_millis(100)),
    );
    let p = client(&server).token_provider(ProviderOptions::default());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let p = p.clone();
            tokio::spawn(async move { p.token().await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.status(), Some(401));
    }
    assert_eq!(server.request_count("/v2/token"), 1);
    assert_eq!(p.stats().failures, 1);
}

#[tokio::test]
async fn invalidate_forces_a_new_fetch() {
    let server = MockServer::start().await.unwrap();
    let (p, _clock) = provider(&server);
    let first = p.token().await.unwrap();
    p.invalidate();
    assert!(p.cached().is_none());
    let second = p.token().await.unwrap();
    assert_ne!(first.access_token(), second.access_token());
}

#[tokio::test]
async fn after_a_401_a_token_already_replaced_by_another_caller_is_reused() {
    let server = MockServer::start().await.unwrap();
    let (p, _clock) = provider(&server);
    let rejected = p.token().await.unwrap();
    let replacement = p
        .token_after_unauthorized(rejected.access_token().secret())
        .await
        .unwrap();
    assert_ne!(replacement.access_token(), rejected.access_token());
    // A second caller that also saw the old token get a 401 reuses the replacement.
    let again = p
        .token_after_unauthorized(rejected.access_token().secret())
        .await
        .unwrap();
    assert_eq!(again.access_token(), replacement.access_token());
    assert_eq!(server.request_count("/v2/token"), 2);
}

#[tokio::test]
async fn retry_unauthorized_runs_the_call_again_with_a_new_token() {
    let server = MockServer::start().await.unwrap();
    let (p, _clock) = provider(&server);
    let mut seen = Vec::new();
    let outcome = p
        .retry_unauthorized(|token| {
            seen.push(token.access_token().secret().to_owned());
            let first = seen.len() == 1;
            async move {
                if first {
                    ApiCall::Unauthorized(401)
                } else {
                    ApiCall::Done(200)
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(outcome, 200);
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn scopes_in_any_order_share_a_cache_key() {
    let server = MockServer::start().await.unwrap();
    let c = client(&server);
    let a = c.token_provider(ProviderOptions {
        scope: Some("b a".into()),
        ..ProviderOptions::default()
    });
    let b = c.token_provider(ProviderOptions {
        scope: Some("a  b a".into()),
        ..ProviderOptions::default()
    });
    assert_eq!(a.key(), b.key());
    a.token().await.unwrap();
    assert_eq!(server.requests().pop().unwrap().form["scope"], ["a b"]);
}

#[tokio::test]
async fn a_stored_token_is_reused_by_the_next_process() {
    let server = MockServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let options = || ProviderOptions {
        store: Some(Arc::new(FileStore::new(&path)) as Arc<dyn TokenStore>),
        ..ProviderOptions::default()
    };
    let first = client(&server)
        .token_provider(options())
        .token()
        .await
        .unwrap();
    let second = client(&server)
        .token_provider(options())
        .token()
        .await
        .unwrap();
    assert_eq!(first.access_token(), second.access_token());
    assert_eq!(server.request_count("/v2/token"), 1);
}

#[tokio::test]
async fn a_failing_store_never_breaks_token_acquisition() {
    #[derive(Debug)]
    struct Broken;
    #[twilio_oauth::async_trait]
    impl TokenStore for Broken {
        async fn load(&self, _: &str) -> twilio_oauth::Result<Option<Token>> {
            Err(twilio_oauth::Error::Store {
                message: "disk on fire".into(),
            })
        }
        async fn save(&self, _: &str, _: &Token) -> twilio_oauth::Result<()> {
            Err(twilio_oauth::Error::Store {
                message: "disk on fire".into(),
            })
        }
        async fn delete(&self, _: &str) -> twilio_oauth::Result<()> {
            Ok(())
        }
    }
    let server = MockServer::start().await.unwrap();
    let p = client(&server).token_provider(ProviderOptions {
        store: Some(Arc::new(Broken)),
        ..ProviderOptions::default()
    });
    assert!(!p.token().await.unwrap().is_expired());
}

#[tokio::test]
async fn a_user_token_is_renewed_with_its_refresh_token() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    server.approve(device.user_code());
    let login = c.poll_device_token(&device).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = c.token_provider(ProviderOptions {
        initial_token: Some(login.clone()),
        store: Some(store.clone()),
        ..ProviderOptions::default()
    });
    assert_eq!(
        p.token().await.unwrap().access_token(),
        login.access_token()
    );
    clock.advance(login.lifetime());
    let renewed = p.token().await.unwrap();
    assert_ne!(renewed.access_token(), login.access_token());
    // A device login came from /v1/token: its refresh token goes back there.
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/token");
    assert_eq!(sent.form["GrantType"], ["refresh_token"]);
    assert_eq!(
        sent.form["RefreshToken"],
        [login.refresh_token().unwrap().secret()]
    );
    assert!(store.load(p.key()).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lifetimes_in_real_time_never_hand_out_an_expired_token() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.token_lifetime_secs = 2);
    let p = client(&server).token_provider(ProviderOptions::default());
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut calls = 0u64;
    while start.elapsed() < Duration::from_secs(5) {
        let t0 = Instant::now();
        let token = p.token().await.unwrap();
        worst = worst.max(t0.elapsed());
        calls += 1;
        assert!(
            server.token_is_valid(token.access_token().secret()),
            "an expired token was handed out"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let requests = server.request_count("/v2/token");
    println!(
        "{calls} calls over 5 s of 2 s tokens: {requests} token requests, worst caller wait {worst:?}, {:?}",
        p.stats()
    );
    // Lifetime 2 s counts as 1 s (whole-second claims), refreshed at about half of that.
    assert!((4..=12).contains(&requests), "{requests} requests");
}

#[tokio::test]
async fn a_manual_clock_drives_expiry_without_waiting() {
    let clock = ManualClock::new();
    let server = MockServer::start().await.unwrap();
    let c = builder(&server)
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap();
    let p = c.token_provider(ProviderOptions {
        refresh_ahead: Some(S(10)),
        expiry_margin: Some(S(5)),
        ..ProviderOptions::default()
    });
    let first = p.token().await.unwrap();
    clock.advance(first.lifetime() - S(6)); // 6 s left: refresh-ahead, not yet stale.
    assert!(p.cached().is_some());
    clock.advance(S(2)); // 4 s left: inside the 5 s margin.
    assert!(p.cached().is_none());
}

#[tokio::test]
async fn a_caller_holding_the_last_token_is_told_unchanged_until_another_replaces_it() {
    use twilio_oauth::Lookup;
    let server = MockServer::start().await.unwrap();
    let (p, clock) = provider(&server);
    assert!(matches!(p.try_token_since(None), Lookup::Miss));
    let first = p.token().await.unwrap();
    let Lookup::Changed(held) = p.try_token_since(None) else {
        panic!("a fresh token is in the cache")
    };
    assert!(held.is_same(&first));
    assert!(matches!(p.try_token_since(Some(&held)), Lookup::Unchanged));
    assert!(matches!(p.cached_since(Some(&held)), Lookup::Unchanged));
    // An equal token is not the same one: only a clone of the cached token counts.
    let copy = Token::from_json(&first.to_json()).unwrap();
    assert!(!copy.is_same(&first));
    assert!(matches!(p.cached_since(Some(&copy)), Lookup::Changed(_)));
    // Past the expiry margin the cached token may not be handed out, held or not.
    clock.advance(S(3600));
    assert!(matches!(p.cached_since(Some(&held)), Lookup::Miss));
    let second = p.token().await.unwrap();
    let Lookup::Changed(now) = p.try_token_since(Some(&held)) else {
        panic!("the refetched token replaces the held one")
    };
    assert!(now.is_same(&second) && !now.is_same(&held));
}
