//! The mock server's behaviour, checked over real HTTP with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, DeviceErrorStyle, DeviceStatus, Fault,
    MockServer, PUBLIC_CLIENT_ID,
};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

thread_local! {
    // libtest runs every test on a thread of its own, so this is one client per test (and
    // per runtime); building a client costs tens of milliseconds.
    static CLIENT: reqwest::Client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
}

fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

fn basic() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    )
}

/// POSTs a form, with v1's Basic auth when `auth` is given.
async fn post(url: String, pairs: &[(&str, &str)], auth: Option<String>) -> reqwest::Response {
    let mut request = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form(pairs));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    request.send().await.unwrap()
}

async fn v2_client_credentials(server: &MockServer) -> reqwest::Response {
    post(
        format!("{}/v2/token", server.url()),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        None,
    )
    .await
}

async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn assert_twilio_error(body: &Value, status: u16, code: u64) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
    assert!(body["message"].is_string());
}

/// Starts a device authorization on v1 and returns its JSON.
async fn device_authorization(server: &MockServer, client_id: &str) -> Value {
    let response = post(
        format!("{}/v1/device/code", server.url()),
        &[
            ("ClientSid", client_id),
            ("Scopes", "offline_access"),
            ("Scopes", "openid"),
        ],
        Some(basic()),
    )
    .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn poll(server: &MockServer, device_code: &str, device_id: Option<&str>) -> (u16, Value) {
    let mut pairs = vec![
        ("GrantType", DEVICE_GRANT),
        ("ClientSid", PUBLIC_CLIENT_ID),
        ("DeviceCode", device_code),
    ];
    if let Some(device_id) = device_id {
        pairs.push(("DeviceId", device_id));
    }
    status_and_json(post(format!("{}/v1/token", server.url()), &pairs, Some(basic())).await).await
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn v2_client_credentials_succeed_and_the_jwt_verifies_with_exp_minus_iat_equal_to_the_lifetime()
 {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.token_lifetime_secs = 2);
    let response = post(
        format!(
            "{}/v2/token?account_sid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            server.url()
        ),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("audience", "https://api.example.com"),
        ],
        None,
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("date"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 2);
    assert_eq!(body["refresh_token"], Value::Null);
    assert_eq!(body["id_token"], Value::Null);

    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["https://api.example.com"]);
    validation.set_issuer(&[server.url()]);
    let claims = jsonwebtoken::decode::<Value>(
        body["access_token"].as_str().unwrap(),
        &DecodingKey::from_secret(&server.jwt_secret()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        2
    );
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["account_sid"], "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(claims["grant_type"], "client_credentials");

    let again: Value = v2_client_credentials(&server).await.json().await.unwrap();
    assert_ne!(again["access_token"], body["access_token"]);
    assert_eq!(server.tokens_issued(), 2);
}

#[tokio::test]
async fn a_wrong_secret_gives_401_with_a_twilio_body() {
    let server = MockServer::start().await.unwrap();
    let response = post(
        format!("{}/v2/token", server.url()),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ],
        None,
    )
    .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 401);
    assert_twilio_error(&body, 401, 321401);
}

#[tokio::test]
async fn a_missing_client_id_or_grant_type_gives_the_documented_codes() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v2/token", server.url());
    let (status, body) =
        status_and_json(post(url.clone(), &[("grant_type", "client_credentials")], None).await)
            .await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 321402);
    let (status, body) =
        status_and_json(post(url.clone(), &[("client_id", CLIENT_ID)], None).await).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 321403);
    let pairs = [("client_id", CLIENT_ID), ("grant_type", "password")];
    let (_, body) = status_and_json(post(url.clone(), &pairs, None).await).await;
    assert_twilio_error(&body, 400, 321403);
    let pairs = [
        ("client_id", "OQnope"),
        ("grant_type", "client_credentials"),
    ];
    let (status, body) = status_and_json(post(url, &pairs, None).await).await;
    assert_eq!(status, 401);
    assert_twilio_error(&body, 401, 321401);
}

#[tokio::test]
async fn a_json_body_is_not_read_as_a_form() {
    let server = MockServer::start().await.unwrap();
    let response = client()
        .post(format!("{}/v2/token", server.url()))
        .json(&json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 321402);
}

#[tokio::test]
async fn v1_requires_basic_auth() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/token", server.url());
    let pairs = [
        ("GrantType", "client_credentials"),
        ("ClientSid", CLIENT_ID),
        ("ClientSecret", CLIENT_SECRET),
    ];
    let response = post(url.clone(), &pairs, None).await;
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 401);
    assert_twilio_error(&body, 401, 20003);
    assert_eq!(body["message"], "Authentication Error - invalid username");

    let wrong = format!("Basic {}", STANDARD.encode(format!("{ACCOUNT_SID}:nope")));
    let (status, _) = status_and_json(post(url.clone(), &pairs, Some(wrong)).await).await;
    assert_eq!(status, 401);

    let (status, body) = status_and_json(post(url.clone(), &pairs, Some(basic())).await).await;
    assert_eq!(status, 201);
    assert_eq!(body["token_type"], "bearer");
    let claims = server
        .decode_token(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims["account_sid"], ACCOUNT_SID);

    // The newest spec's variant: ClientId and no auth, once the server is told to allow it.
    server.update_config(|c| c.require_v1_auth = false);
    let newer = [
        ("GrantType", "client_credentials"),
        ("ClientId", CLIENT_ID),
        ("ClientSecret", CLIENT_SECRET),
    ];
    let (status, _) = status_and_json(post(url, &newer, None).await).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn v1_checks_the_client_sid() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/token", server.url());
    let (status, body) = status_and_json(
        post(
            url.clone(),
            &[("GrantType", "client_credentials")],
            Some(basic()),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 321402);
    let pairs = [
        ("GrantType", "client_credentials"),
        ("ClientSid", "OQshort"),
    ];
    let (status, body) = status_and_json(post(url, &pairs, Some(basic())).await).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 322403);
}

#[tokio::test]
async fn device_code_reads_repeated_scopes_and_audiences() {
    let server = MockServer::start().await.unwrap();
    let response = post(
        format!("{}/v1/device/code", server.url()),
        &[
            ("ClientSid", PUBLIC_CLIENT_ID),
            ("Scopes", "offline_access"),
            ("Scopes", "openid"),
            ("Audiences", "https://api.twilio.com"),
            ("Audiences", "https://other.example"),
        ],
        Some(basic()),
    )
    .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 201);
    let user_code = body["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert!(user_code.chars().enumerate().all(|(i, c)| if i == 4 {
        c == '-'
    } else {
        c.is_ascii_uppercase()
    }));
    assert!(body["device_code"].as_str().unwrap().len() >= 40);
    assert_eq!(body["verification_uri"], format!("{}/device", server.url()));
    assert_eq!(
        body["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", server.url())
    );
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["interval"], 5);

    let devices = server.devices();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].scopes, vec!["offline_access", "openid"]);
    assert_eq!(
        devices[0].audiences,
        vec!["https://api.twilio.com", "https://other.example"]
    );
    assert_eq!(devices[0].status, DeviceStatus::Pending);

    server.update_config(|c| c.device_interval = None);
    let body = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    assert!(body.get("interval").is_none(), "{body}");
}

#[tokio::test]
async fn device_code_without_scopes_is_refused() {
    let server = MockServer::start().await.unwrap();
    let response = post(
        format!("{}/v1/device/code", server.url()),
        &[("ClientSid", PUBLIC_CLIENT_ID)],
        Some(basic()),
    )
    .await;
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], 400);
    assert!(body["message"].as_str().unwrap().contains("Scopes"));
}

#[tokio::test]
async fn the_device_flow_goes_from_pending_to_approved_to_a_device_bound_token() {
    let server = MockServer::start().await.unwrap();
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let device_code = device["device_code"].as_str().unwrap();

    let (status, body) = poll(&server, device_code, Some("device-1")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    assert!(body["error_description"].is_string());

    assert!(server.approve(&device["user_code"].as_str().unwrap().to_lowercase()));
    let (status, token) = poll(&server, device_code, Some("device-1")).await;
    assert_eq!(status, 201, "{token}");
    assert_eq!(token["token_type"], "bearer");
    assert!(token["id_token"].is_string());
    let refresh_token = token["refresh_token"].as_str().unwrap().to_owned();
    let claims = server
        .decode_token(token["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims["scope"], "offline_access openid");

    let (status, body) = poll(&server, device_code, Some("device-1")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(server.devices()[0].status, DeviceStatus::Redeemed);
    assert_eq!(server.devices()[0].polls, 3);

    let refresh = |device_id: &'static str| {
        let url = format!("{}/v1/token", server.url());
        let refresh_token = refresh_token.clone();
        async move {
            let pairs = [
                ("GrantType", "refresh_token"),
                ("ClientSid", PUBLIC_CLIENT_ID),
                ("RefreshToken", refresh_token.as_str()),
                ("DeviceId", device_id),
            ];
            status_and_json(post(url, &pairs, Some(basic())).await).await
        }
    };
    let (status, body) = refresh("device-2").await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 322403);
    let (status, body) = refresh("device-1").await;
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["refresh_token"].as_str().unwrap(), refresh_token);
    // Rotation: the used refresh token is refused now (and that reuse revokes the login).
    let (status, body) = refresh("device-1").await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 322403);
    assert_eq!((server.refresh_count(), server.reuse_count()), (1, 1));
}

#[tokio::test]
async fn a_denied_device_code_gives_access_denied() {
    let server = MockServer::start().await.unwrap();
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    assert!(server.deny(device["user_code"].as_str().unwrap()));
    let (status, body) = poll(&server, device["device_code"].as_str().unwrap(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
    assert!(!server.approve(device["user_code"].as_str().unwrap()));
}

#[tokio::test]
async fn an_expired_device_code_gives_expired_token() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.device_expires_in = 1);
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    assert_eq!(device["expires_in"], 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(server.devices()[0].status, DeviceStatus::Expired);
    assert!(!server.approve(device["user_code"].as_str().unwrap()));
    let (status, body) = poll(&server, device["device_code"].as_str().unwrap(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
}

#[tokio::test]
async fn enforce_interval_gives_slow_down_and_grows_the_interval() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.enforce_interval = true;
        c.device_interval = Some(1);
    });
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let device_code = device["device_code"].as_str().unwrap();
    let (_, body) = poll(&server, device_code, None).await;
    assert_eq!(body["error"], "authorization_pending");
    let (status, body) = poll(&server, device_code, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")));
    assert_eq!(server.devices()[0].interval, Some(6));
}

#[tokio::test]
async fn the_twilio_device_error_style_carries_the_rfc_error_in_message() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.device_error_style = DeviceErrorStyle::Twilio);
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let (status, body) = poll(&server, device["device_code"].as_str().unwrap(), None).await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "authorization_pending");
    assert_eq!(body["status"], 400);
    assert!(body["code"].is_u64());
}

#[tokio::test]
async fn auto_approval_issues_a_token_after_the_configured_polls() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.auto_approve_after_polls = Some(2));
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let device_code = device["device_code"].as_str().unwrap();
    for _ in 0..2 {
        let (_, body) = poll(&server, device_code, None).await;
        assert_eq!(body["error"], "authorization_pending");
    }
    let (status, body) = poll(&server, device_code, None).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn pkce_authorize_then_exchange_succeeds_once() {
    let server = MockServer::start().await.unwrap();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect_uri = "http://127.0.0.1:9/callback";
    let mut authorize = url::Url::parse(&format!("{}/v2/authorize", server.url())).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", PUBLIC_CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("scope", "openid offline_access"),
        ("state", "s t&8"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    let response = client().get(authorize).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(redirect_uri));
    assert_eq!(query_param(&location, "state").as_deref(), Some("s t&8"));
    let code = query_param(&location, "code").unwrap();

    let exchange = |verifier: &'static str| {
        let url = format!("{}/v2/token", server.url());
        let code = code.clone();
        async move {
            let pairs = [
                ("grant_type", "authorization_code"),
                ("client_id", PUBLIC_CLIENT_ID),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ];
            status_and_json(post(url, &pairs, None).await).await
        }
    };
    let (status, body) = exchange(verifier).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
    let id_token = server
        .decode_token(body["id_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(id_token["aud"], PUBLIC_CLIENT_ID);

    let (status, body) = exchange(verifier).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 322403);
    assert!(body["message"].as_str().unwrap().contains("invalid_grant"));
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused() {
    let server = MockServer::start().await.unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(b"the-real-verifier"));
    let url = format!(
        "{}/v2/authorize?response_type=code&client_id={PUBLIC_CLIENT_ID}&redirect_uri=http://localhost/cb&code_challenge={challenge}&code_challenge_method=S256",
        server.url()
    );
    let response = client().get(url).send().await.unwrap();
    let code = query_param(response.headers()["location"].to_str().unwrap(), "code").unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("client_id", PUBLIC_CLIENT_ID),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost/cb"),
        ("code_verifier", "another-verifier"),
    ];
    let (status, body) =
        status_and_json(post(format!("{}/v2/token", server.url()), &pairs, None).await).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("invalid_grant"));
}

#[tokio::test]
async fn authorize_refuses_plain_pkce_and_unknown_clients() {
    let server = MockServer::start().await.unwrap();
    let base = format!(
        "{}/v2/authorize?response_type=code&redirect_uri=http://localhost/cb",
        server.url()
    );
    let challenge = "a".repeat(43);
    for query in [
        format!(
            "&client_id={PUBLIC_CLIENT_ID}&code_challenge={challenge}&code_challenge_method=plain"
        ),
        format!("&client_id={PUBLIC_CLIENT_ID}&code_challenge={challenge}"),
        "&client_id=OQunknown".to_owned(),
    ] {
        let response = client().get(format!("{base}{query}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
    }
}

#[tokio::test]
async fn a_public_client_without_pkce_cannot_exchange_its_code() {
    let server = MockServer::start().await.unwrap();
    let url = format!(
        "{}/v1/authorize?response_type=code&client_id={PUBLIC_CLIENT_ID}&redirect_uri=http://localhost/cb",
        server.url()
    );
    let response = client().get(url).send().await.unwrap();
    let code = query_param(response.headers()["location"].to_str().unwrap(), "code").unwrap();
    let pairs = [
        ("GrantType", "authorization_code"),
        ("ClientSid", PUBLIC_CLIENT_ID),
        ("Code", code.as_str()),
    ];
    let (status, body) =
        status_and_json(post(format!("{}/v1/token", server.url()), &pairs, Some(basic())).await)
            .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("PKCE"));
}

#[tokio::test]
async fn a_confidential_client_refreshes_and_its_used_refresh_token_is_then_refused() {
    let server = MockServer::start().await.unwrap();
    let url = format!(
        "{}/v2/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri=http://localhost/cb&scope=openid",
        server.url()
    );
    let response = client().get(url).send().await.unwrap();
    let code = query_param(response.headers()["location"].to_str().unwrap(), "code").unwrap();
    let token_url = format!("{}/v2/token", server.url());
    let pairs = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost/cb"),
    ];
    let (status, first) = status_and_json(post(token_url.clone(), &pairs, None).await).await;
    assert_eq!(status, 200, "{first}");
    assert!(first["id_token"].is_string());
    let refresh_token = first["refresh_token"].as_str().unwrap();

    let pairs = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", refresh_token),
    ];
    let (status, second) = status_and_json(post(token_url.clone(), &pairs, None).await).await;
    assert_eq!(status, 200, "{second}");
    assert!(second["id_token"].is_string());
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let (status, body) = status_and_json(post(token_url.clone(), &pairs, None).await).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 322403);

    let pairs = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", "rt_never_issued"),
    ];
    let (status, body) = status_and_json(post(token_url, &pairs, None).await).await;
    assert_eq!(status, 400);
    assert_twilio_error(&body, 400, 322403);
}

#[tokio::test]
async fn faults_pop_in_order_then_normal_handling_resumes() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(503).with_header("Retry-After", "1"),
    );
    server.push_fault(
        "/v2/token",
        Fault::status(502).with_body("<html><body>Bad Gateway</body></html>"),
    );
    server.push_fault(
        "/v2/token",
        Fault::status(200)
            .with_body("{\"access_token\": ")
            .with_content_type("application/json")
            .with_repeat(2),
    );

    let first = v2_client_credentials(&server).await;
    assert_eq!(first.status().as_u16(), 503);
    assert_eq!(first.headers()["retry-after"], "1");
    let body: Value = first.json().await.unwrap();
    assert_twilio_error(&body, 503, 20503);

    let second = v2_client_credentials(&server).await;
    assert_eq!(second.status().as_u16(), 502);
    assert!(
        second.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        second.text().await.unwrap(),
        "<html><body>Bad Gateway</body></html>"
    );

    for _ in 0..2 {
        let malformed = v2_client_credentials(&server).await;
        assert_eq!(malformed.status().as_u16(), 200);
        assert_eq!(malformed.headers()["content-type"], "application/json");
        assert_eq!(malformed.text().await.unwrap(), "{\"access_token\": ");
    }

    assert_eq!(v2_client_credentials(&server).await.status().as_u16(), 200);
    assert_eq!(server.request_count("/v2/token"), 5);
    assert_eq!(server.tokens_issued(), 1);
}

#[tokio::test]
async fn drop_connection_makes_reqwest_report_an_error() {
    let server = MockServer::start().await.unwrap();
    server.push_fault("/v2/token", Fault::drop_connection());
    let http = client();
    let result = http
        .post(format!("{}/v2/token", server.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("grant_type", "client_credentials")]))
        .send()
        .await;
    let error = result.expect_err("a dropped connection must be an error");
    assert!(!error.is_status());
    // The same client recovers on the next request.
    let response = http
        .post(format!("{}/v2/token", server.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_delayed_fault_makes_a_client_time_out() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(200).with_delay(Duration::from_secs(5)),
    );
    let error = client()
        .post(format!("{}/v2/token", server.url()))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("the request must time out");
    assert!(error.is_timeout());

    server.push_fault("/v2/token", Fault::slow(Duration::from_millis(100)));
    let started = std::time::Instant::now();
    let response = v2_client_credentials(&server).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn an_oversized_fault_sends_exactly_that_many_bytes() {
    let server = MockServer::start().await.unwrap();
    server.push_fault(
        "/v2/token",
        Fault::status(200).with_oversized_body(3 * 1024 * 1024 + 7),
    );
    let response = v2_client_credentials(&server).await;
    assert_eq!(response.content_length(), Some(3 * 1024 * 1024 + 7));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len(), 3 * 1024 * 1024 + 7);
    assert!(bytes.starts_with(b"{\"access_token\":\""));
}

#[tokio::test]
async fn the_admin_api_counts_requests_and_controls_the_server() {
    let server = MockServer::start().await.unwrap();
    let http = client();
    let admin = |path: &str| format!("{}/admin/{path}", server.url());

    v2_client_credentials(&server).await;
    v2_client_credentials(&server).await;
    post(format!("{}/v1/token", server.url()), &[], None).await;
    let stats: Value = http
        .get(admin("stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"]["/v2/token"], 2);
    assert_eq!(stats["requests"]["/v1/token"], 1);
    assert_eq!(stats["tokens_issued"], 2);
    assert!(stats["requests"].get("/admin/stats").is_none());

    let config: Value = http
        .post(admin("config"))
        .json(&json!({"token_lifetime_secs": 7, "expires_in": "7"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["token_lifetime_secs"], 7);
    assert_eq!(config["device_expires_in"], 600);
    assert_eq!(server.config().expires_in, Some(json!("7")));
    let typo = http
        .post(admin("config"))
        .json(&json!({"tokn_lifetime": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(typo.status().as_u16(), 400);

    let queued: Value = http
        .post(admin("faults"))
        .json(&json!({"endpoint": "/v2/token", "responses": [{"status": 429, "body": {"code": 20429, "message": "Too Many Requests", "status": 429}, "repeat": 2}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["queued"], 2);
    assert_eq!(v2_client_credentials(&server).await.status().as_u16(), 429);

    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let listed: Value = http
        .get(admin("device"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["user_code"], device["user_code"]);
    assert_eq!(listed[0]["status"], "pending");
    let approved = http
        .post(admin("device/approve"))
        .json(&json!({"user_code": device["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status().as_u16(), 200);
    let unknown = http
        .post(admin("device/deny"))
        .json(&json!({"user_code": "ZZZZ-ZZZZ"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);

    let reset = http.post(admin("reset")).send().await.unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    assert_eq!(server.config(), twilio_oauth_mock::MockConfig::default());
    assert!(server.devices().is_empty());
    assert!(server.pending_faults().is_empty());
    assert_eq!(server.request_count("/v2/token"), 0);
    assert_eq!(v2_client_credentials(&server).await.status().as_u16(), 200);
}

#[tokio::test]
async fn recorded_requests_show_what_went_on_the_wire() {
    let server = MockServer::start().await.unwrap();
    client()
        .post(format!("{}/v1/device/code?x=1", server.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("user-agent", "probe/1.0")
        .header("authorization", basic())
        .body("ClientSid=OQfedcba9876543210fedcba9876543210&Scopes=a&Scopes=b")
        .send()
        .await
        .unwrap();
    let requests: Value = client()
        .get(format!("{}/admin/requests", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let request = &requests[0];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["path"], "/v1/device/code");
    assert_eq!(request["query"], "x=1");
    assert_eq!(request["form"]["Scopes"], json!(["a", "b"]));
    assert_eq!(request["authorization"], format!("basic {ACCOUNT_SID}"));
    assert_eq!(request["user_agent"], "probe/1.0");
    assert_eq!(request["accept"], "application/json");
    assert_eq!(request["content_type"], "application/x-www-form-urlencoded");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn the_api_stand_in_accepts_issued_tokens_and_refuses_others() {
    let server = MockServer::start().await.unwrap();
    let token: Value = v2_client_credentials(&server).await.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let account = format!("{}/2010-04-01/Accounts/{ACCOUNT_SID}.json", server.url());
    let messages = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        server.url()
    );

    let response = client()
        .get(&account)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["sid"], ACCOUNT_SID);
    assert_eq!(body["status"], "active");
    let response = client()
        .get(&messages)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"], json!([]));

    for bad in [
        None,
        Some("not-a-token".to_owned()),
        Some(format!("{token}x")),
    ] {
        let mut request = client().get(&messages);
        if let Some(bad) = bad {
            request = request.bearer_auth(bad);
        }
        let (status, body) = status_and_json(request.send().await.unwrap()).await;
        assert_eq!(status, 401);
        assert_twilio_error(&body, 401, 20003);
    }

    // A token whose exp is already past by the server's clock.
    server.update_config(|c| c.iat_offset_secs = -7200);
    let stale: Value = v2_client_credentials(&server).await.json().await.unwrap();
    let response = client()
        .get(&account)
        .bearer_auth(stale["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn odd_token_responses_can_be_configured() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.expires_in = Some(json!(1_438_315_200_000_u64));
        c.token_type = Some("BEARER".to_owned());
    });
    let body: Value = v2_client_credentials(&server).await.json().await.unwrap();
    assert_eq!(body["expires_in"], 1_438_315_200_000_u64);
    assert_eq!(body["token_type"], "BEARER");

    server.update_config(|c| c.expires_in = Some(Value::Null));
    let body: Value = v2_client_credentials(&server).await.json().await.unwrap();
    assert!(body.as_object().unwrap().contains_key("expires_in"));
    assert_eq!(body["expires_in"], Value::Null);

    server.update_config(|c| c.omit_expires_in = true);
    let body: Value = v2_client_credentials(&server).await.json().await.unwrap();
    assert!(!body.as_object().unwrap().contains_key("expires_in"));

    server.update_config(|c| {
        c.legacy_expires_at = true;
        c.opaque_tokens = true;
    });
    let body: Value = v2_client_credentials(&server).await.json().await.unwrap();
    let expires_at = body["access_token_expires_at"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && expires_at.contains('T'),
        "{expires_at}"
    );
    assert_eq!(body["refresh_token_expires_at"], Value::Null);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.matches('.').count(), 0);
    assert!(server.token_is_valid(token));
    let response = client()
        .get(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}.json",
            server.url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn openid_configuration_and_device_page_are_served() {
    let server = MockServer::start().await.unwrap();
    let config: Value = client()
        .get(format!(
            "{}/v1/.well-known/openid-configuration",
            server.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuer"], server.url());
    assert_eq!(
        config["token_endpoint"],
        format!("{}/v1/token", server.url())
    );
    assert_eq!(
        config["device_authorization_endpoint"],
        format!("{}/v1/device/code", server.url())
    );

    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let page = client()
        .get(device["verification_uri_complete"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .contains(device["user_code"].as_str().unwrap())
    );

    let approved = client()
        .post(format!("{}/device", server.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("user_code", device["user_code"].as_str().unwrap()),
            ("action", "approve"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status().as_u16(), 200);
    assert_eq!(server.devices()[0].status, DeviceStatus::Approved);
}

#[tokio::test]
async fn latency_slows_token_responses() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.latency_ms = 150);
    let started = std::time::Instant::now();
    assert_eq!(v2_client_credentials(&server).await.status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn a_server_in_its_own_thread_serves_and_stops_on_drop() {
    let server = MockServer::start_in_thread().unwrap();
    assert!(server.url().ends_with(&format!(":{}", server.port())));
    assert_eq!(v2_client_credentials(&server).await.status().as_u16(), 200);
    let url = format!("{}/admin/health", server.url());
    drop(server);
    assert!(client().get(url).send().await.is_err());
}

#[tokio::test]
async fn an_in_process_server_stops_on_drop() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/admin/health", server.url());
    assert!(
        client()
            .get(&url)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    drop(server);
    tokio::task::yield_now().await;
    assert!(client().get(url).send().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn device_expiry_follows_a_paused_tokio_clock_and_idle_connections_survive() {
    let server = MockServer::start().await.unwrap();
    let device = device_authorization(&server, PUBLIC_CLIENT_ID).await;
    let (_, body) = poll(&server, device["device_code"].as_str().unwrap(), None).await;
    assert_eq!(body["error"], "authorization_pending");
    tokio::time::sleep(Duration::from_secs(3600)).await;
    // Same client, same pooled connection, an hour of virtual time later.
    let (status, body) = poll(&server, device["device_code"].as_str().unwrap(), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
}
