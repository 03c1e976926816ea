//! Runs the language-independent scenarios of `tests/scenarios/*.json` through the Rust API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use twilio_oauth::{
    DeviceAuthorization, Error, FileStore, OAuthClient, ProviderOptions, Token, TokenStore,
    V1TokenRequest, V2TokenRequest,
};
use twilio_oauth_mock::MockConfig;

enum Outcome {
    Tokens(Vec<Token>),
    Device(DeviceAuthorization),
    Built,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn build_client(server: &MockServer, spec: &Value) -> twilio_oauth::Result<OAuthClient> {
    let kind = s(spec, "client").unwrap_or_else(|| "confidential".into());
    let mut b = OAuthClient::builder();
    b = match kind.as_str() {
        "public" => b.client_id(PUBLIC_CLIENT_ID),
        "wrong_secret" => b.client_id(CLIENT_ID).client_secret("wrong-secret"),
        _ => b.client_id(CLIENT_ID).client_secret(CLIENT_SECRET),
    };
    if spec.get("v1_credentials").and_then(Value::as_bool) != Some(false) {
        b = b.account_sid(ACCOUNT_SID).auth_token(AUTH_TOKEN);
    }
    if let Some(id) = s(spec, "client_id") {
        b = b.client_id(id);
    }
    if let Some(secret) = s(spec, "client_secret") {
        b = b.client_secret(secret);
    }
    let base = s(spec, "base_url").unwrap_or_else(|| "{server}".into());
    b = b.base_url(
        base.replace("{server}", &server.url())
            .replace("{closed_port}", "http://127.0.0.1:1"),
    );
    if let Some(t) = spec.get("timeout").and_then(Value::as_f64) {
        b = b.timeout(Duration::from_secs_f64(t));
    }
    if let Some(r) = spec.get("max_retries").and_then(Value::as_u64) {
        b = b.max_retries(r as u32);
    }
    b.build()
}

/// GETs the authorize URL without following the redirect; returns (code, state).
async fn authorize(url: &str) -> (String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(url).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let q: HashMap<_, _> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    (q["code"].clone(), q["state"].clone())
}

async fn pkce(c: &OAuthClient, call: &Value, right: bool) -> twilio_oauth::Result<Token> {
    let redirect = s(call, "redirect_uri").unwrap();
    let req = c.authorization_url(&redirect, s(call, "scope").as_deref(), None)?;
    let (code, state) = authorize(&req.url).await;
    assert_eq!(state, req.state, "the redirect must carry our state back");
    let verifier = if right {
        req.code_verifier
    } else {
        twilio_oauth::new_code_verifier()
    };
    c.exchange_code(&code, Some(&redirect), Some(verifier.secret()))
        .await
}

/// A person's login for the `user_*` ops: the PKCE flow with the right verifier.
async fn login(c: &OAuthClient, call: &Value) -> twilio_oauth::Result<Token> {
    let mut spec = call.clone();
    spec["redirect_uri"] = json!("http://127.0.0.1/callback");
    if spec.get("scope").is_none() {
        spec["scope"] = json!("openid offline_access");
    }
    pkce(c, &spec, true).await
}

fn user_provider(c: &OAuthClient, login: &Token) -> twilio_oauth::TokenProvider {
    c.token_provider(ProviderOptions {
        initial_token: Some(login.clone()),
        ..ProviderOptions::default()
    })
}

async fn run_call(
    server: &MockServer,
    c: &OAuthClient,
    call: &Value,
    problems: &mut Vec<String>,
) -> twilio_oauth::Result<Outcome> {
    let op = s(call, "op").unwrap();
    let strs = |key: &str| -> Vec<String> {
        call.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let one = |t: Token| Outcome::Tokens(vec![t]);
    let provider = || {
        c.token_provider(ProviderOptions {
            scope: s(call, "scope"),
            ..ProviderOptions::default()
        })
    };
    Ok(match op.as_str() {
        "construct" => Outcome::Built,
        "client_credentials" => one(c
            .client_credentials(
                s(call, "scope").as_deref(),
                s(call, "audience").as_deref(),
                s(call, "account_sid").as_deref(),
            )
            .await?),
        "create_oauth2_token" => one(c
            .create_oauth2_token(&V2TokenRequest {
                grant_type: s(call, "grant_type").unwrap(),
                scope: s(call, "scope"),
                audience: s(call, "audience"),
                account_sid: s(call, "account_sid"),
                refresh_token: s(call, "refresh_token"),
                code: s(call, "code"),
                ..V2TokenRequest::default()
            })
            .await?),
        "create_token" => one(c
            .create_token(&V1TokenRequest {
                grant_type: s(call, "grant_type").unwrap(),
                ..V1TokenRequest::default()
            })
            .await?),
        "create_device_code" => Outcome::Device(
            c.create_device_code(&strs("scopes"), &strs("audiences"))
                .await?,
        ),
        "device_flow" => {
            let device = c.create_device_code(&strs("scopes"), &[]).await?;
            match s(call, "then").as_deref() {
                Some("approve") => assert!(server.approve(device.user_code())),
                Some("deny") => assert!(server.deny(device.user_code())),
                _ => {}
            }
            one(c.poll_device_token(&device).await?)
        }
        "pkce_flow" => one(pkce(c, call, s(call, "verifier").as_deref() != Some("wrong")).await?),
        "refresh_flow" => {
            let t = pkce(c, call, true).await?;
            one(c.refresh(t.refresh_token().unwrap().secret()).await?)
        }
        "provider_concurrent" => {
            let p = provider();
            let n = call["callers"].as_u64().unwrap();
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let p = p.clone();
                    tokio::spawn(async move { p.token().await })
                })
                .collect();
            let mut tokens = Vec::new();
            for t in tasks {
                tokens.push(t.await.unwrap()?);
            }
            Outcome::Tokens(tokens)
        }
        "provider_repeat" => {
            let p = provider();
            let mut tokens = Vec::new();
            for _ in 0..call["calls"].as_u64().unwrap() {
                tokens.push(p.token().await?);
            }
            Outcome::Tokens(tokens)
        }
        "provider_invalidate" => {
            let p = provider();
            let a = p.token().await?;
            p.invalidate();
            Outcome::Tokens(vec![a, p.token().await?])
        }
        "user_refresh_refused" => {
            let t = login(c, call).await?;
            c.refresh(t.refresh_token().unwrap().secret()).await?;
            let p = user_provider(c, &t);
            p.invalidate();
            one(p.token().await?)
        }
        "user_refresh_cycles" => {
            let t = login(c, call).await?;
            let p = user_provider(c, &t);
            let mut tokens = vec![t];
            for _ in 0..call["cycles"].as_u64().unwrap() {
                p.invalidate();
                tokens.push(p.token().await?);
            }
            Outcome::Tokens(tokens)
        }
        "user_over_lifetimes" => {
            let t = login(c, call).await?;
            let p = user_provider(c, &t);
            let until = Instant::now() + Duration::from_secs_f64(call["seconds"].as_f64().unwrap());
            let every = Duration::from_millis(call["interval_ms"].as_u64().unwrap());
            let mut tokens = vec![t];
            while Instant::now() < until {
                let t = p.token().await?;
                if t.is_expired() {
                    problems.push("expired token handed out".into());
                }
                tokens.push(t);
                tokio::time::sleep(every).await;
            }
            Outcome::Tokens(tokens)
        }
        "user_no_later_expiry" => {
            let t = login(c, call).await?;
            let p = c.token_provider(ProviderOptions {
                initial_token: Some(t.clone()),
                refresh_ahead: Some(Duration::from_secs_f64(
                    call["refresh_ahead"].as_f64().unwrap(),
                )),
                ..ProviderOptions::default()
            });
            tokio::time::sleep(Duration::from_millis(call["wait_ms"].as_u64().unwrap())).await;
            let config = server.config().merged(&call["then_config"]).unwrap();
            server.set_config(config);
            let t1 = p.token().await?;
            if t1.access_token() != t.access_token() {
                problems.push("the first call did not return the login's access token".into());
            }
            let old = t.refresh_token().unwrap().clone();
            let deadline = Instant::now() + Duration::from_secs(5);
            let kept = loop {
                let cached = p.cached();
                let rt = cached.as_ref().and_then(|c| c.refresh_token().cloned());
                if rt.is_some_and(|rt| rt != old) {
                    break cached;
                }
                if Instant::now() > deadline {
                    break None;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            match kept {
                None => problems.push("new refresh token not kept".into()),
                Some(k) if k.access_token() != t.access_token() => {
                    problems.push("the longer-lived access token was not kept".into())
                }
                Some(_) => {}
            }
            p.invalidate();
            Outcome::Tokens(vec![t1, p.token().await?])
        }
        "two_users_one_file_store" => {
            let dir = tempfile::tempdir().unwrap();
            let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path().join("t.json")));
            let users: Vec<String> = strs("users");
            for user in &users {
                server.update_config(|cfg| cfg.user_sid = user.clone());
                let t = login(c, call).await?;
                c.token_provider(ProviderOptions {
                    store: Some(store.clone()),
                    initial_token: Some(t),
                    account: Some(user.clone()),
                    ..ProviderOptions::default()
                })
                .token()
                .await?;
            }
            let mut last = None;
            for user in &users {
                let t = c
                    .token_provider(ProviderOptions {
                        store: Some(store.clone()),
                        account: Some(user.clone()),
                        ..ProviderOptions::default()
                    })
                    .token()
                    .await?;
                if t.claims().get("sub").and_then(Value::as_str) != Some(user.as_str()) {
                    problems.push(format!(
                        "{user} got the token of {:?}",
                        t.claims().get("sub")
                    ));
                }
                last = Some(t);
            }
            one(last.unwrap())
        }
        other => panic!("unknown op {other}"),
    })
}

fn check_ok(outcome: &Outcome, want: &Value, problems: &mut Vec<String>) {
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    match outcome {
        Outcome::Built => {}
        Outcome::Device(d) => {
            if let Some(n) = want.get("user_code_length").and_then(Value::as_u64) {
                check(
                    d.user_code().len() as u64 == n,
                    format!("user_code {:?}", d.user_code()),
                );
            }
            if let Some(n) = want.get("interval").and_then(Value::as_u64) {
                check(
                    d.interval().as_secs() == n,
                    format!("interval {:?}", d.interval()),
                );
            }
        }
        Outcome::Tokens(tokens) => {
            let t = tokens.last().unwrap();
            let secret = |t: &Token| t.access_token().secret().to_owned();
            for (key, v) in want.as_object().unwrap() {
                match key.as_str() {
                    "token_type" => check(
                        Some(t.token_type()) == v.as_str(),
                        format!("token_type {}", t.token_type()),
                    ),
                    "is_jwt" => check(
                        t.claims().is_empty() != v.as_bool().unwrap(),
                        "is_jwt".into(),
                    ),
                    "expires_in_min" => check(
                        t.expires_in().as_secs_f64() >= v.as_f64().unwrap(),
                        format!("expires_in {:?}", t.expires_in()),
                    ),
                    "expires_in_max" => check(
                        t.expires_in().as_secs_f64() <= v.as_f64().unwrap(),
                        format!("expires_in {:?}", t.expires_in()),
                    ),
                    "has_refresh_token" => check(
                        t.refresh_token().is_some() == v.as_bool().unwrap(),
                        "has_refresh_token".into(),
                    ),
                    "has_id_token" => check(
                        t.id_token().is_some() == v.as_bool().unwrap(),
                        "has_id_token".into(),
                    ),
                    "claims" => {
                        for (ck, cv) in v.as_object().unwrap() {
                            check(
                                t.claims().get(ck) == Some(cv),
                                format!("claim {ck} = {:?}", t.claims().get(ck)),
                            );
                        }
                    }
                    "same_token_for_all" => check(
                        tokens.iter().all(|x| secret(x) == secret(t)),
                        "same_token_for_all".into(),
                    ),
                    "tokens_differ" => {
                        check(secret(&tokens[0]) != secret(t), "tokens_differ".into())
                    }
                    other => panic!("unknown expectation {other}"),
                }
            }
        }
    }
}

fn check_error(err: &Error, want: &Value, problems: &mut Vec<String>) {
    let api = err.api();
    for (key, v) in want.as_object().unwrap() {
        let ok = match key.as_str() {
            "kind" => Some(err.kind()) == v.as_str(),
            "status" => err.status().map(u64::from) == v.as_u64(),
            "code" => api.and_then(|a| a.code) == v.as_i64(),
            "error" => api.and_then(|a| a.error.as_deref()) == v.as_str(),
            "message" => api.map(|a| a.message.as_str()) == v.as_str(),
            "message_contains" => err.to_string().contains(v.as_str().unwrap()),
            "more_info" => api.and_then(|a| a.more_info.as_deref()) == v.as_str(),
            "retry_after" => api.and_then(|a| a.retry_after).map(|d| d.as_secs()) == v.as_u64(),
            other => panic!("unknown expectation {other}"),
        };
        if !ok {
            problems.push(format!("error.{key}: want {v}, got {err:?}"));
        }
    }
}

async fn run_scenario(sc: Value) -> Result<(), String> {
    let server = MockServer::start().await.unwrap();
    let url = server.url();
    if let Some(config) = sc.pointer("/server/config") {
        server.set_config(MockConfig::default().merged(config).unwrap());
    }
    if let Some(faults) = sc.pointer("/server/faults").and_then(Value::as_object) {
        for (endpoint, list) in faults {
            for f in list.as_array().unwrap() {
                let f = serde_json::from_str(&f.to_string().replace("{server}", &url)).unwrap();
                server.push_fault(endpoint, f);
            }
        }
    }
    let expect = &sc["expect"];
    let started = Instant::now();
    let mut problems = Vec::new();
    let outcome = match build_client(&server, sc.get("client").unwrap_or(&json!({}))) {
        Ok(c) => run_call(&server, &c, &sc["call"], &mut problems).await,
        Err(e) => Err(e),
    };
    let took = started.elapsed();
    match (&outcome, expect.get("ok"), expect.get("error")) {
        (Ok(o), Some(want), None) => check_ok(o, want, &mut problems),
        (Err(e), None, Some(want)) => check_error(e, want, &mut problems),
        (Ok(_), _, _) => problems.push("succeeded, but an error was expected".into()),
        (Err(e), _, _) => problems.push(format!("failed with {e:?}")),
    }
    if let Some(reqs) = expect.get("requests").and_then(Value::as_object) {
        for (path, n) in reqs {
            let got = server.request_count(path);
            if Some(got) != n.as_u64() {
                problems.push(format!("requests {path}: want {n}, got {got}"));
            }
        }
    }
    let stats = serde_json::to_value(server.stats()).unwrap();
    for (field, at_least) in [("server_stats", false), ("server_stats_min", true)] {
        for (name, want) in expect
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let got = stats.get(name).and_then(Value::as_u64);
            let want = want.as_u64();
            let ok = match (got, want) {
                (Some(g), Some(w)) => (at_least && g >= w) || g == w,
                _ => false,
            };
            if !ok {
                problems.push(format!("{field}.{name}: want {want:?}, got {got:?}"));
            }
        }
    }
    if let Some(min) = expect.get("min_seconds").and_then(Value::as_f64)
        && took.as_secs_f64() < min
    {
        problems.push(format!("took {took:?}, less than {min} s"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_through_the_rust_api() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut scenarios = Vec::new();
    for f in files {
        let list: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        scenarios.extend(list);
    }
    assert!(scenarios.len() >= 40, "only {} scenarios", scenarios.len());
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let tasks: Vec<_> = scenarios
        .into_iter()
        .map(|sc| {
            let limit = limit.clone();
            tokio::spawn(async move {
                let _permit = limit.acquire().await.unwrap();
                let name = sc["name"].as_str().unwrap().to_owned();
                (name, run_scenario(sc).await)
            })
        })
        .collect();
    let (mut passed, mut failed) = (0, Vec::new());
    for t in tasks {
        let (name, result) = t.await.unwrap();
        match result {
            Ok(()) => {
                passed += 1;
                println!("ok   {name}");
            }
            Err(why) => {
                println!("FAIL {name}: {why}");
                failed.push(name);
            }
        }
    }
    println!("scenarios: {passed} passed, {} failed", failed.len());
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/scenario-results");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("rust.json"),
        json!({"language": "Rust", "passed": passed, "failed": failed.len()}).to_string(),
    )
    .unwrap();
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}
