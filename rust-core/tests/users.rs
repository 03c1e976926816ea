//! People's tokens: rotation, refused refreshes, keys that cannot mix, stores shared by
//! "processes" (separate `FileStore` instances on one file, whose OS locks conflict exactly as
//! those of two processes do), sleep, cancellation, transport by grant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use twilio_oauth::{
    CacheKey, DEVICE_CODE_GRANT, FileStore, GrantKind, MemoryStore, OAuthClient, ProviderOptions,
    Token, TokenProvider, TokenStore, V1TokenRequest,
};

const REDIRECT: &str = "http://127.0.0.1/callback";

/// A person's login through the PKCE flow (a token with a refresh token, from /v2/token).
async fn login(c: &OAuthClient) -> Token {
    let req = c
        .authorization_url(REDIRECT, Some("openid offline_access"), None)
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(&req.url).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let q: HashMap<_, _> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    c.exchange_code(&q["code"], Some(REDIRECT), Some(req.code_verifier.secret()))
        .await
        .unwrap()
}

fn person(c: &OAuthClient, login: &Token) -> TokenProvider {
    c.token_provider(ProviderOptions {
        initial_token: Some(login.clone()),
        ..ProviderOptions::default()
    })
}

fn grant_types(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter_map(|r| r.form.get("grant_type").and_then(|v| v.first().cloned()))
        .collect()
}

#[tokio::test]
async fn a_refused_refresh_is_login_required_and_never_an_app_token() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let t = login(&c).await;
    // Another party spends the refresh token first: the provider's refresh is a reuse.
    c.refresh(t.refresh_token().unwrap().secret())
        .await
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = c.token_provider(ProviderOptions {
        initial_token: Some(t.clone()),
        store: Some(store.clone()),
        ..ProviderOptions::default()
    });
    p.token().await.unwrap();
    assert!(store.load(p.key()).await.unwrap().is_some());
    clock.advance(t.lifetime());
    let err = p.token().await.unwrap_err();
    assert_eq!(err.kind(), "LoginRequiredError");
    assert_eq!(err.status(), Some(400));
    assert!(err.api().is_some());
    assert!(!grant_types(&server).contains(&"client_credentials".to_owned()));
    // The login is gone for every process sharing the store, and asking again sends nothing.
    assert!(store.load(p.key()).await.unwrap().is_none());
    let before = server.request_count("/v2/token");
    assert_eq!(p.token().await.unwrap_err().kind(), "LoginRequiredError");
    assert_eq!(server.request_count("/v2/token"), before);
}

#[tokio::test]
async fn a_user_provider_without_a_refresh_token_asks_for_a_login_without_a_request() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let p = c.token_provider(ProviderOptions {
        initial_token: Some(Token::new("person-access-token-1", Duration::from_secs(60))),
        ..ProviderOptions::default()
    });
    assert_eq!(p.grant(), GrantKind::User);
    clock.advance(Duration::from_secs(61));
    let err = p.token().await.unwrap_err();
    assert_eq!(err.kind(), "LoginRequiredError");
    assert_eq!(err.api().unwrap().error.as_deref(), Some("login_required"));
    assert_eq!(server.request_count("/v2/token"), 0);
}

#[tokio::test]
async fn every_refresh_installs_and_stores_the_rotated_refresh_token() {
    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let t = login(&c).await;
    let store = Arc::new(MemoryStore::new());
    let p = c.token_provider(ProviderOptions {
        initial_token: Some(t.clone()),
        store: Some(store.clone()),
        ..ProviderOptions::default()
    });
    let mut last = t.refresh_token().unwrap().clone();
    for _ in 0..5 {
        p.invalidate();
        let renewed = p.token().await.unwrap();
        let rt = renewed.refresh_token().unwrap().clone();
        assert_ne!(
            rt, last,
            "the server rotates: each refresh brings a new one"
        );
        let stored = store.load(p.key()).await.unwrap().unwrap();
        assert_eq!(stored.refresh_token(), Some(&rt));
        last = rt;
    }
    let stats = server.stats();
    assert_eq!((stats.refreshes, stats.refresh_reuses), (5, 0));
}

#[tokio::test]
async fn a_refresh_that_expires_no_later_keeps_the_new_refresh_token() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let t = login(&c).await;
    let p = person(&c, &t);
    // Into the refresh-ahead window; the server now issues tokens that expire sooner.
    clock.advance(t.lifetime() - Duration::from_secs(60));
    server.update_config(|cfg| cfg.token_lifetime_secs = 10);
    assert_eq!(p.token().await.unwrap().access_token(), t.access_token());
    eventually("the background refresh", || server.stats().refreshes == 1).await;
    eventually("the new refresh token installed", || {
        p.cached()
            .and_then(|c| c.refresh_token().cloned())
            .is_some_and(|rt| Some(&rt) != t.refresh_token())
    })
    .await;
    // The longer-lived access token stays in service…
    assert_eq!(p.cached().unwrap().access_token(), t.access_token());
    // …and the next refresh sends the new refresh token, not the spent one.
    p.invalidate();
    p.token().await.unwrap();
    assert_eq!(server.stats().refresh_reuses, 0);
    assert_eq!(server.stats().refreshes, 2);
}

#[tokio::test]
async fn a_refresh_is_not_resent_after_the_request_may_have_reached_the_server() {
    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let t = login(&c).await;
    let rt = t.refresh_token().unwrap().secret().to_owned();
    for fault in [
        Fault::status(503),
        Fault::drop_connection(),
        Fault::status(429).with_header("Retry-After", "1"),
    ] {
        server.push_fault("/v2/token", fault.clone());
        let before = server.request_count("/v2/token");
        let err = c.refresh(&rt).await.unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        assert_eq!(server.request_count("/v2/token"), before + 1, "{fault:?}");
    }
    // Client credentials may be sent twice: those are retried.
    server.push_fault("/v2/token", Fault::status(503));
    let before = server.request_count("/v2/token");
    c.client_credentials(None, None, None).await.unwrap();
    assert_eq!(server.request_count("/v2/token"), before + 2);
}

#[tokio::test]
async fn a_refresh_is_retried_when_the_connection_was_never_made() {
    let (c, clock) = {
        let clock = twilio_oauth::ManualClock::new();
        let c = OAuthClient::builder()
            .client_id(CLIENT_ID)
            .client_secret(CLIENT_SECRET)
            .base_url("http://127.0.0.1:1")
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        (c, clock)
    };
    let err = c.refresh("rt_never_sent").await.unwrap_err();
    assert_eq!(err.kind(), "TransportError");
    assert_eq!(clock.sleeps().len(), 2, "two retries of a connect error");
}

#[tokio::test]
async fn the_timeout_bounds_the_whole_call_retries_included() {
    let server = MockServer::start().await.unwrap();
    let clock = twilio_oauth::ManualClock::new();
    let c = builder(&server)
        .clock(Arc::new(clock.clone()))
        .timeout(Duration::from_secs(3))
        .max_retries(10)
        .build()
        .unwrap();
    server.push_fault("/v2/token", Fault::status(503).with_repeat(11));
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    let waited: Duration = clock.sleeps().iter().sum();
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert!(server.request_count("/v2/token") < 11);
}

#[tokio::test]
async fn a_device_login_refreshes_at_v1_with_its_device_id() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    server.approve(device.user_code());
    let t = c
        .create_token(&V1TokenRequest {
            grant_type: DEVICE_CODE_GRANT.into(),
            device_code: Some(device.device_code().secret().to_owned()),
            device_id: Some("tv-livingroom".into()),
            ..V1TokenRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(t.device_id(), Some("tv-livingroom"));
    let p = person(&c, &t);
    clock.advance(t.lifetime());
    p.token().await.unwrap();
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.path, "/v1/token");
    assert_eq!(sent.form["GrantType"], ["refresh_token"]);
    assert_eq!(sent.form["DeviceId"], ["tv-livingroom"]);
    assert_eq!(server.request_count("/v2/token"), 0);
}

#[tokio::test]
async fn a_code_login_refreshes_at_v2() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let t = login(&c).await;
    let p = person(&c, &t);
    clock.advance(t.lifetime());
    p.token().await.unwrap();
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.path, "/v2/token");
    assert_eq!(sent.form["grant_type"], ["refresh_token"]);
}

#[tokio::test]
async fn keys_hold_server_app_account_grant_person_scope_and_audience() {
    let server = MockServer::start().await.unwrap();
    let c = client(&server);
    let app = c.token_provider(ProviderOptions::default());
    let acting = c.token_provider(ProviderOptions {
        account_sid: Some("AC00000000000000000000000000000001".into()),
        ..ProviderOptions::default()
    });
    let alice = c.token_provider(ProviderOptions {
        account: Some("alice".into()),
        ..ProviderOptions::default()
    });
    let bob = c.token_provider(ProviderOptions {
        account: Some("bob".into()),
        ..ProviderOptions::default()
    });
    let keys = [app.key(), acting.key(), alice.key(), bob.key()];
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let parsed = CacheKey::parse(alice.key()).unwrap();
    assert_eq!(parsed.grant(), GrantKind::User);
    assert_eq!(parsed.subject(), Some("alice"));
    assert_eq!(parsed.client_id(), CLIENT_ID);
    assert_eq!(parsed.base_url(), server.url().trim_end_matches('/'));
    assert_eq!(CacheKey::parse(app.key()).unwrap().grant(), GrantKind::App);
    // The person's key comes from the token's `sub` when no label is given.
    let t = login(&c).await;
    let p = person(&c, &t);
    assert_eq!(
        p.cache_key().subject(),
        t.claims().get("sub").and_then(Value::as_str)
    );
}

#[tokio::test]
async fn an_app_token_asked_for_an_account_carries_that_account() {
    let server = MockServer::start().await.unwrap();
    let c = client(&server);
    let sid = "AC00000000000000000000000000000001";
    let p = c.token_provider(ProviderOptions {
        account_sid: Some(sid.into()),
        ..ProviderOptions::default()
    });
    let t = p.token().await.unwrap();
    assert_eq!(t.claims()["account_sid"], sid);
}

#[tokio::test]
async fn between_an_initial_token_and_a_stored_one_the_later_wins() {
    let server = MockServer::start().await.unwrap();
    let c = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let older =
        Token::new("older-access-token-1", Duration::from_secs(600)).with_refresh_token("r1");
    std::thread::sleep(Duration::from_millis(5));
    let newer =
        Token::new("newer-access-token-2", Duration::from_secs(600)).with_refresh_token("r2");
    let provider = |path: &str, initial: &Token| {
        c.token_provider(ProviderOptions {
            store: Some(Arc::new(FileStore::new(dir.path().join(path)))),
            initial_token: Some(initial.clone()),
            account: Some("alice".into()),
            ..ProviderOptions::default()
        })
    };
    // A newer token in the store beats an older initial token…
    provider("a.json", &newer).token().await.unwrap();
    let p = provider("a.json", &older);
    assert_eq!(
        p.token().await.unwrap().access_token().secret(),
        "newer-access-token-2"
    );
    assert_eq!(p.stats().store_hits, 1);
    // …and a newer initial token replaces an older stored one.
    provider("b.json", &older).token().await.unwrap();
    let p = provider("b.json", &newer);
    assert_eq!(
        p.token().await.unwrap().access_token().secret(),
        "newer-access-token-2"
    );
    let stored = FileStore::new(dir.path().join("b.json"));
    let back = stored.load(p.key()).await.unwrap().unwrap();
    assert_eq!(back.access_token().secret(), "newer-access-token-2");
    assert_eq!(server.request_count("/v2/token"), 0);
}

#[tokio::test]
async fn invalidate_removes_the_token_from_the_store_too() {
    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let store = Arc::new(MemoryStore::new());
    let app = c.token_provider(ProviderOptions {
        store: Some(store.clone()),
        ..ProviderOptions::default()
    });
    app.token().await.unwrap();
    app.invalidate();
    eventually("the app token deleted", || {
        futures_lite_load(&*store, app.key()).is_none()
    })
    .await;

    // A person keeps the refresh token: the stored access token is expired, not gone.
    let t = login(&c).await;
    let p = c.token_provider(ProviderOptions {
        store: Some(store.clone()),
        initial_token: Some(t.clone()),
        ..ProviderOptions::default()
    });
    p.token().await.unwrap();
    p.invalidate();
    eventually("the person's access token expired in the store", || {
        futures_lite_load(&*store, p.key()).is_some_and(|s| s.is_expired())
    })
    .await;
    let stored = futures_lite_load(&*store, p.key()).unwrap();
    assert_eq!(stored.refresh_token(), t.refresh_token());
    // A new provider on that store renews with the kept refresh token.
    let again = c.token_provider(ProviderOptions {
        store: Some(store.clone()),
        grant: Some(GrantKind::User),
        account: p.cache_key().subject().map(str::to_owned),
        ..ProviderOptions::default()
    });
    assert_ne!(
        again.token().await.unwrap().access_token(),
        t.access_token()
    );
    assert_eq!(server.stats().refresh_reuses, 0);
}

/// A synchronous look into a memory store (its futures never wait).
fn futures_lite_load(store: &dyn TokenStore, key: &str) -> Option<Token> {
    futures::executor::block_on(store.load(key)).unwrap()
}

#[tokio::test]
async fn after_a_suspend_the_token_is_refetched_although_the_monotonic_clock_stood_still() {
    let server = MockServer::start().await.unwrap();
    let (c, clock) = manual_client(&server);
    let p = c.token_provider(ProviderOptions::default());
    let first = p.token().await.unwrap();
    assert_eq!(
        p.token().await.unwrap().access_token(),
        first.access_token()
    );
    clock.suspend(Duration::from_secs(2 * 3600));
    assert!(
        p.cached().is_none(),
        "an hour-long token is not fresh after two hours asleep"
    );
    let after = p.token().await.unwrap();
    assert_ne!(after.access_token(), first.access_token());
    assert_eq!(server.request_count("/v2/token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_first_caller_leaves_the_fetch_running_for_the_others() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|cfg| cfg.latency_ms = 300);
    let p = client(&server).token_provider(ProviderOptions::default());
    let first = {
        let p = p.clone();
        tokio::spawn(async move { p.token().await })
    };
    eventually("the request on the wire", || {
        server.request_count("/v2/token") == 1
    })
    .await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    // The fetch finishes and is installed: the next caller makes no request of its own.
    p.token().await.unwrap();
    assert_eq!(server.request_count("/v2/token"), 1);
    assert_eq!(p.stats().fetches, 1);
}

#[tokio::test]
async fn no_tunable_makes_every_call_fetch() {
    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let year = Duration::from_secs(365 * 24 * 3600);
    let p = c.token_provider(ProviderOptions {
        refresh_ahead: Some(year),
        expiry_margin: Some(year),
        ..ProviderOptions::default()
    });
    for _ in 0..10 {
        p.token().await.unwrap();
    }
    assert_eq!(server.request_count("/v2/token"), 1);
}

#[tokio::test]
async fn a_corrupted_store_is_counted_and_left_untouched_while_tokens_still_flow() {
    let server = MockServer::start().await.unwrap();
    let c = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, "{garbage").unwrap();
    let p = c.token_provider(ProviderOptions {
        store: Some(Arc::new(FileStore::new(&path))),
        ..ProviderOptions::default()
    });
    p.token().await.unwrap();
    assert!(p.stats().store_errors >= 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{garbage");
}

/// `n` "processes": providers on their own `FileStore` instance of one file (the OS locks of
/// separate opens conflict as those of separate processes do), calling `token()` for `run`.
async fn share_one_file(
    server: &MockServer,
    path: &std::path::Path,
    n: usize,
    options: ProviderOptions,
    run: Duration,
) -> Vec<TokenProvider> {
    let providers: Vec<_> = (0..n)
        .map(|_| {
            client(server).token_provider(ProviderOptions {
                store: Some(Arc::new(FileStore::new(path))),
                ..options.clone()
            })
        })
        .collect();
    let until = Instant::now() + run;
    let tasks: Vec<_> = providers
        .iter()
        .cloned()
        .map(|p| {
            tokio::spawn(async move {
                while Instant::now() < until {
                    let t = p.token().await.unwrap();
                    assert!(!t.is_expired(), "an expired token was handed out");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    providers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_sharing_one_login_refresh_about_once_per_lifetime_and_never_replay() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|cfg| cfg.token_lifetime_secs = 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let t = login(&client(&server)).await;
    // The login is saved once, as `device-login` or an app's sign-in screen would.
    client(&server)
        .token_provider(ProviderOptions {
            store: Some(Arc::new(FileStore::new(&path))),
            initial_token: Some(t),
            account: Some("alice".into()),
            ..ProviderOptions::default()
        })
        .token()
        .await
        .unwrap();
    let options = ProviderOptions {
        account: Some("alice".into()),
        ..ProviderOptions::default()
    };
    share_one_file(&server, &path, 8, options, Duration::from_secs(6)).await;
    let stats = server.stats();
    assert_eq!(stats.refresh_reuses, 0);
    assert_eq!(stats.grants_revoked, 0);
    // Tokens of 3 s are believed for 2 s (JWT seconds) and refreshed ahead after 1 s: about
    // 6 refreshes in 6 s for all eight. Alone, each would refresh 6 times (and replay).
    assert!(stats.refreshes <= 9, "{} refreshes", stats.refreshes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_sharing_an_app_token_fetch_about_once_per_lifetime() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|cfg| cfg.token_lifetime_secs = 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let providers = share_one_file(
        &server,
        &path,
        8,
        ProviderOptions::default(),
        Duration::from_secs(6),
    )
    .await;
    let requests = server.request_count("/v2/token");
    let fetched: u64 = providers.iter().map(|p| p.stats().fetches).sum();
    let taken: u64 = providers.iter().map(|p| p.stats().store_hits).sum();
    assert_eq!(requests, fetched);
    // Alone, each would fetch about once per second: 8 × 6. Shared, about 6 in all.
    assert!(requests <= 9, "{requests} token requests");
    assert!(
        taken >= 8,
        "the others took the token from the store ({taken})"
    );
}
