//! `demo`: every flow against the local Twilio OAuth server, in about ten seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use twilio_oauth::{OAuthClient, ProviderOptions, Token, preview};
use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, DeviceStatus, MockServer, PUBLIC_CLIENT_ID,
};

use crate::exit::{self, Failure};
use crate::timefmt;
use crate::ui::{bold, check, cyan, dim, yellow};

const STEPS: usize = 5;
const CALLERS: usize = 100;
const SHORT_LIFETIME_SECS: u64 = 3;
const REFRESH_DEMO: Duration = Duration::from_secs(6);
const CALL_EVERY: Duration = Duration::from_millis(50);
const REDIRECT_URI: &str = "http://127.0.0.1:8400/callback";

/// Runs the demo.
pub async fn run() -> Result<(), Failure> {
    let started = Instant::now();
    let server = MockServer::start()
        .await
        .map_err(|e| Failure::new(exit::OTHER, format!("cannot start the local server: {e}")))?;
    let url = server.url();
    println!();
    println!(
        "{}  {}",
        bold("twilio-oauth demo"),
        dim("every flow against a local Twilio OAuth server")
    );
    println!();
    println!("  {}  {}", dim("server"), cyan(&url));
    println!(
        "  {}  {CLIENT_ID} (confidential), {PUBLIC_CLIENT_ID} (public)",
        dim("apps  ")
    );
    println!(
        "  {}",
        dim("Tokens are shown shortened: first characters and length.")
    );

    let client = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(&url)
        .build()?;

    let first = client_credentials(&client).await?;
    concurrent_callers(&server, &client).await?;
    refresh_ahead(&server, &client).await?;
    let user_token = device_login(&server, &url).await?;
    api_call(&url, &first, &user_token).await?;

    println!();
    println!(
        "{} {}",
        check(),
        bold(format!(
            "All {STEPS} steps passed in {:.1} s.",
            started.elapsed().as_secs_f64()
        ))
    );
    println!(
        "  {}",
        dim("Next: `twilio-oauth serve-mock` keeps this server up for the other commands.")
    );
    Ok(())
}

fn heading(n: usize, title: &str) {
    println!();
    println!("{} {}", cyan(bold(format!("[{n}/{STEPS}]"))), bold(title));
}

fn mismatch(what: String) -> Failure {
    Failure::new(exit::OTHER, format!("demo check failed: {what}"))
}

/// "19:20:03" (UTC).
fn clock_time(at: std::time::SystemTime) -> String {
    let date = timefmt::date(at);
    date.get(11..19).unwrap_or(&date).to_owned()
}

fn claim<'a>(token: &'a Token, name: &str) -> &'a str {
    token
        .claims()
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or("-")
}

/// Step 1: one client-credentials request.
async fn client_credentials(client: &OAuthClient) -> Result<Token, Failure> {
    heading(1, "Client credentials");
    println!("  {}", dim("POST /v2/token  grant_type=client_credentials"));
    let t0 = Instant::now();
    let token = client.client_credentials(None, None, None).await?;
    println!(
        "  {} {} {}  {}",
        check(),
        token.token_type(),
        preview(token.access_token().secret()),
        dim(format!("in {}", timefmt::millis(t0.elapsed())))
    );
    println!(
        "    {}",
        dim(format!(
            "{} · sub {} · aud {}",
            timefmt::expiry(token.expires_at()),
            claim(&token, "sub"),
            claim(&token, "aud")
        ))
    );
    Ok(token)
}

/// Step 2: a hundred concurrent callers share one fetch.
async fn concurrent_callers(server: &MockServer, client: &OAuthClient) -> Result<(), Failure> {
    heading(2, "One cached token for 100 concurrent callers");
    // A slow server, so every caller really arrives while the first request is in flight.
    server.update_config(|c| c.latency_ms = 150);
    let provider = client.token_provider(ProviderOptions::default());
    let before = server.request_count("/v2/token");
    let gate = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let provider = provider.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.wait().await;
                provider.access_token().await
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(CALLERS);
    for task in tasks {
        let token = task
            .await
            .map_err(|e| Failure::new(exit::OTHER, format!("a caller task failed: {e}")))??;
        tokens.push(token);
    }
    let elapsed = t0.elapsed();
    server.update_config(|c| c.latency_ms = 0);
    let requests = server.request_count("/v2/token") - before;
    let distinct = {
        let mut t = tokens.clone();
        t.sort();
        t.dedup();
        t.len()
    };
    let stats = provider.stats();
    println!(
        "  {}",
        dim(format!(
            "{CALLERS} tokio tasks call provider.token() at once; the server takes 150 ms to answer"
        ))
    );
    let plural = if requests == 1 { "" } else { "s" };
    println!(
        "  {} {}",
        check(),
        bold(format!(
            "{CALLERS} callers, {requests} token request{plural}"
        ))
    );
    println!(
        "    {}",
        dim(format!(
            "{distinct} distinct token · provider stats: {} fetch, {} hits · all answered in {}",
            stats.fetches,
            stats.hits,
            timefmt::millis(elapsed)
        ))
    );
    if requests != 1 || distinct != 1 {
        return Err(mismatch(format!(
            "expected 1 token request and 1 token, saw {requests} and {distinct}"
        )));
    }
    Ok(())
}

/// Step 3: short-lived tokens renewed in the background while callers keep going.
async fn refresh_ahead(server: &MockServer, client: &OAuthClient) -> Result<(), Failure> {
    heading(
        3,
        &format!("Refresh-ahead with {SHORT_LIFETIME_SECS}-second tokens"),
    );
    // Every token request takes 200 ms, so a caller that waited for one would show it.
    server.update_config(|c| {
        c.token_lifetime_secs = SHORT_LIFETIME_SECS;
        c.latency_ms = 200;
    });
    let provider = client.token_provider(ProviderOptions::default());
    println!(
        "  {}",
        dim(format!(
            "a caller asks for a token every {} ms for {} s; each token request takes 200 ms",
            CALL_EVERY.as_millis(),
            REFRESH_DEMO.as_secs()
        ))
    );
    let start = Instant::now();
    let mut last = String::new();
    let mut calls = 0u32;
    let mut first_wait = Duration::ZERO;
    let mut worst_later_wait = Duration::ZERO;
    let mut seen_background = 0;
    let mut changes = 0u32;
    while start.elapsed() < REFRESH_DEMO {
        let t0 = Instant::now();
        let token = provider.token().await?;
        let waited = t0.elapsed();
        calls += 1;
        if calls == 1 {
            first_wait = waited;
        } else {
            worst_later_wait = worst_later_wait.max(waited);
        }
        let access = token.access_token().secret();
        if access != last {
            changes += 1;
            let stats = provider.stats();
            let how = if calls == 1 {
                format!("fetched, the caller waited {}", timefmt::millis(waited))
            } else if stats.background_refreshes > seen_background {
                format!(
                    "refreshed in the background, the caller waited {}",
                    timefmt::millis(waited)
                )
            } else {
                format!("fetched, the caller waited {}", timefmt::millis(waited))
            };
            seen_background = stats.background_refreshes;
            println!(
                "  {}  token #{changes} {}, valid until {}  {}",
                dim(format!("{:>4.1} s", start.elapsed().as_secs_f64())),
                preview(access),
                clock_time(token.expires_at()),
                dim(how)
            );
            last = access.to_owned();
        }
        tokio::time::sleep(CALL_EVERY).await;
    }
    server.update_config(|c| {
        c.token_lifetime_secs = 3600;
        c.latency_ms = 0;
    });
    let stats = provider.stats();
    println!(
        "  {} {}",
        check(),
        bold(format!(
            "{calls} calls, {} token requests, {} of them in the background",
            stats.fetches, stats.background_refreshes,
        ))
    );
    println!(
        "    {}",
        dim(format!(
            "no caller waited for a refresh: worst wait {} after the first fetch ({})",
            timefmt::millis(worst_later_wait),
            timefmt::millis(first_wait)
        ))
    );
    if stats.background_refreshes == 0 {
        return Err(mismatch("no background refresh happened".into()));
    }
    Ok(())
}

/// Step 4: device login approved by the demo, then refresh, then PKCE.
async fn device_login(server: &MockServer, url: &str) -> Result<Token, Failure> {
    heading(4, "Device login (RFC 8628), refresh, and PKCE");
    server.update_config(|c| c.device_interval = Some(1));
    let public = OAuthClient::builder()
        .client_id(PUBLIC_CLIENT_ID)
        .account_sid(ACCOUNT_SID)
        .auth_token(AUTH_TOKEN)
        .base_url(url)
        .build()?;
    let device = public
        .create_device_code(&["offline_access", "openid"], &[])
        .await?;
    println!(
        "  {} open {} and enter {}",
        cyan("→"),
        cyan(device.verification_uri()),
        bold(device.user_code())
    );
    println!(
        "    {}",
        dim(
            "(the demo plays the person: it approves the code through the server after the first poll)"
        )
    );
    let t0 = Instant::now();
    let user_code = device.user_code().to_owned();
    let approve = async {
        let mut every = tokio::time::interval(Duration::from_millis(50));
        loop {
            every.tick().await;
            let polled = server
                .devices()
                .iter()
                .find(|d| d.user_code == user_code)
                .map(|d| (d.polls, d.status));
            match polled {
                Some((polls, DeviceStatus::Pending)) if polls >= 1 => {
                    println!(
                        "  {}  {}",
                        dim(format!("{:>4.1} s", t0.elapsed().as_secs_f64())),
                        dim("poll 1: authorization_pending → the person approves")
                    );
                    server.approve(&user_code);
                    return;
                }
                Some((_, DeviceStatus::Pending)) => {}
                _ => return,
            }
        }
    };
    let (token, ()) = tokio::join!(public.poll_device_token(&device), approve);
    let token = token?;
    let polls = server
        .devices()
        .iter()
        .find(|d| d.user_code == user_code)
        .map_or(0, |d| d.polls);
    println!(
        "  {} approved after {polls} polls ({:.1} s): access token {}",
        check(),
        t0.elapsed().as_secs_f64(),
        preview(token.access_token().secret())
    );
    println!(
        "    {}",
        dim(format!(
            "scope {} · refresh token {} · id token {}",
            token.scope().unwrap_or("-"),
            token
                .refresh_token()
                .map_or("none".into(), |t| preview(t.secret())),
            token
                .id_token()
                .map_or("none".into(), |t| preview(t.secret())),
        ))
    );

    let Some(refresh_token) = token.refresh_token() else {
        return Err(mismatch(
            "the device login returned no refresh token".into(),
        ));
    };
    let renewed = public.refresh(refresh_token.secret()).await?;
    println!(
        "  {} refresh_token grant: new access token {}, {}",
        check(),
        preview(renewed.access_token().secret()),
        timefmt::expiry(renewed.expires_at())
    );

    // Authorization code with PKCE: the browser's part is one redirect from /v2/authorize.
    let request = public.authorization_url(REDIRECT_URI, Some("openid offline_access"), None)?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Failure::new(exit::OTHER, format!("cannot build an HTTP client: {e}")))?;
    let response = http
        .get(&request.url)
        .send()
        .await
        .map_err(|e| Failure::new(exit::NETWORK, format!("GET /v2/authorize failed: {e}")))?;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| reqwest::Url::parse(v).ok())
        .ok_or_else(|| {
            mismatch(format!(
                "/v2/authorize answered {} without a redirect",
                response.status()
            ))
        })?;
    let query = |k: &str| {
        location
            .query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    let (Some(code), Some(state)) = (query("code"), query("state")) else {
        return Err(mismatch("the redirect carried no code or state".into()));
    };
    if state != request.state {
        return Err(mismatch("the redirect's state does not match".into()));
    }
    let exchanged = public
        .exchange_code(
            &code,
            Some(REDIRECT_URI),
            Some(request.code_verifier.secret()),
        )
        .await?;
    println!(
        "  {} authorization code + PKCE (S256): redirect with the same state, code exchanged for {}",
        check(),
        preview(exchanged.access_token().secret())
    );
    Ok(renewed)
}

/// Step 5: the tokens at work against the API stand-in.
async fn api_call(url: &str, app_token: &Token, user_token: &Token) -> Result<(), Failure> {
    heading(5, "Calling the API with the tokens");
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}.json");
    let http = reqwest::Client::new();
    let target = format!("{url}{path}");
    let get = |auth: String| get_json(&http, &target, auth);
    println!("  {}", dim(format!("GET {path}")));
    for (who, token) in [("app token ", app_token), ("user token", user_token)] {
        let (status, body) = get(token.authorization_header()).await?;
        if !status.is_success() {
            return Err(mismatch(format!("the API answered {status} to the {who}")));
        }
        println!(
            "  {} {who} Bearer {} → {}  {}",
            check(),
            preview(token.access_token().secret()),
            bold(status.to_string()),
            dim(format!(
                "friendly_name {:?}, status {:?}",
                body.get("friendly_name")
                    .and_then(Value::as_str)
                    .unwrap_or("-"),
                body.get("status").and_then(Value::as_str).unwrap_or("-"),
            ))
        );
    }
    let (status, body) = get("Bearer not-a-real-token".into()).await?;
    if status.as_u16() != 401 {
        return Err(mismatch(format!(
            "the API accepted a made-up token ({status})"
        )));
    }
    println!(
        "  {} made-up token → {}  {}",
        yellow("✗"),
        bold(status.to_string()),
        dim(format!(
            "{:?}",
            body.get("message").and_then(Value::as_str).unwrap_or("-")
        ))
    );
    Ok(())
}

async fn get_json(
    http: &reqwest::Client,
    target: &str,
    authorization: String,
) -> Result<(reqwest::StatusCode, Value), Failure> {
    let response = http
        .get(target)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .send()
        .await
        .map_err(|e| Failure::new(exit::NETWORK, format!("GET {target} failed: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}
