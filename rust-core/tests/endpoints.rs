//! Every endpoint and grant, checked on the wire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use twilio_oauth::{DEFAULT_LIFETIME, OAuthClient, V1TokenRequest, V2TokenRequest};

#[tokio::test]
async fn client_credentials_posts_a_snake_case_form_without_auth_header() {
    let server = MockServer::start().await.unwrap();
    let token = client(&server)
        .client_credentials(Some("a b"), Some("https://api.twilio.com"), None)
        .await
        .unwrap();
    assert!(server.token_is_valid(token.access_token().secret()));
    assert_eq!(token.token_type(), "Bearer");
    assert_eq!(token.claims()["scope"], "a b");
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/v2/token");
    assert_eq!(req.form["grant_type"], ["client_credentials"]);
    assert_eq!(req.form["client_id"], [CLIENT_ID]);
    assert_eq!(req.form["client_secret"], [CLIENT_SECRET]);
    assert_eq!(req.form["audience"], ["https://api.twilio.com"]);
    assert_eq!(req.authorization, None);
    assert_eq!(
        req.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.accept.as_deref(), Some("application/json"));
    assert_eq!(
        req.user_agent.as_deref(),
        Some(concat!(
            "twilio-oauth/",
            env!("CARGO_PKG_VERSION"),
            " (rust)"
        ))
    );
}

#[tokio::test]
async fn token_lifetime_comes_from_the_jwt() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| c.token_lifetime_secs = 600);
    let token = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap();
    // exp - iat = 600, less one second for the claims' whole-second granularity.
    assert_eq!(token.lifetime(), Duration::from_secs(599));
    assert!(token.expires_in() <= Duration::from_secs(599));
    assert!(!token.is_expired());
}

#[tokio::test]
async fn create_oauth2_token_sends_account_sid_as_a_query_parameter() {
    let server = MockServer::start().await.unwrap();
    client(&server)
        .create_oauth2_token(&V2TokenRequest {
            grant_type: "client_credentials".into(),
            scope: Some("x".into()),
            account_sid: Some(ACCOUNT_SID.into()),
            ..V2TokenRequest::default()
        })
        .await
        .unwrap();
    let req = server.requests().pop().unwrap();
    assert_eq!(
        req.query.as_deref(),
        Some(format!("account_sid={ACCOUNT_SID}").as_str())
    );
    assert_eq!(req.form["scope"], ["x"]);
}

#[tokio::test]
async fn v1_create_token_uses_pascal_case_and_basic_auth() {
    let server = MockServer::start().await.unwrap();
    let token = client(&server)
        .create_token(&V1TokenRequest {
            grant_type: "client_credentials".into(),
            ..V1TokenRequest::default()
        })
        .await
        .unwrap();
    // v1 answers "bearer": normalised.
    assert_eq!(token.token_type(), "Bearer");
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/v1/token");
    assert_eq!(req.form["ClientSid"], [CLIENT_ID]);
    assert_eq!(req.form["GrantType"], ["client_credentials"]);
    assert_eq!(req.form["ClientSecret"], [CLIENT_SECRET]);
    assert_eq!(
        req.authorization.as_deref(),
        Some(format!("basic {ACCOUNT_SID}").as_str())
    );
}

#[tokio::test]
async fn v1_calls_without_account_credentials_are_config_errors_and_send_nothing() {
    let server = MockServer::start().await.unwrap();
    let c = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .base_url(server.url())
        .build()
        .unwrap();
    let err = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "ConfigError");
    assert!(err.to_string().contains("account_sid"));
    assert_eq!(server.requests().len(), 0);
}

#[tokio::test]
async fn device_code_repeats_scopes_and_audiences() {
    let server = MockServer::start().await.unwrap();
    let device = client(&server)
        .create_device_code(&["offline_access", "profile"], &["aud1", "aud2"])
        .await
        .unwrap();
    assert_eq!(device.user_code().len(), 9);
    assert!(device.verification_uri().ends_with("/device"));
    assert!(
        device
            .verification_uri_complete()
            .unwrap()
            .contains(device.user_code())
    );
    assert_eq!(device.interval(), Duration::from_secs(5));
    assert!(device.expires_in() > Duration::from_secs(590));
    let req = server.requests().pop().unwrap();
    assert_eq!(req.form["Scopes"], ["offline_access", "profile"]);
    assert_eq!(req.form["Audiences"], ["aud1", "aud2"]);
    assert!(req.body.contains("Scopes=offline_access&Scopes=profile"));
}

#[tokio::test]
async fn device_code_needs_a_scope() {
    let server = MockServer::start().await.unwrap();
    let err = client(&server)
        .create_device_code::<&str>(&[], &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "ConfigError");
}

/// Follows the browser part of the code flow by hand: GET the authorize URL, read the redirect.
async fn authorize(url: &str) -> (String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let location = url::Url::parse(&location).unwrap();
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    (q["code"].clone(), q["state"].clone())
}

#[tokio::test]
async fn pkce_code_exchange_and_refresh_work_for_a_public_client() {
    let server = MockServer::start().await.unwrap();
    let c = OAuthClient::builder()
        .client_id(PUBLIC_CLIENT_ID)
        .base_url(server.url())
        .build()
        .unwrap();
    let redirect = "https://app.example/callback";
    let req = c
        .authorization_url(redirect, Some("openid offline_access"), None)
        .unwrap();
    let (code, state) = authorize(&req.url).await;
    assert_eq!(state, req.state);
    let token = c
        .exchange_code(&code, Some(redirect), Some(req.code_verifier.secret()))
        .await
        .unwrap();
    assert!(token.id_token().is_some());
    let refresh = token.refresh_token().unwrap().secret().to_owned();
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.form["grant_type"], ["authorization_code"]);
    assert_eq!(sent.form["code_verifier"], [req.code_verifier.secret()]);

    let renewed = c.refresh(&refresh).await.unwrap();
    assert_ne!(
        renewed.access_token().secret(),
        token.access_token().secret()
    );
    assert!(renewed.refresh_token().is_some());
    assert_eq!(
        server.requests().pop().unwrap().form["grant_type"],
        ["refresh_token"]
    );
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused() {
    let server = MockServer::start().await.unwrap();
    let c = OAuthClient::builder()
        .client_id(PUBLIC_CLIENT_ID)
        .base_url(server.url())
        .build()
        .unwrap();
    let req = c
        .authorization_url("https://app.example/cb", None, None)
        .unwrap();
    let (code, _) = authorize(&req.url).await;
    let wrong = twilio_oauth::new_code_verifier();
    let err = c
        .exchange_code(&code, Some("https://app.example/cb"), Some(wrong.secret()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "ApiError");
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn v1_authorization_code_sends_code_verifier_and_v1_refresh_sends_device_id() {
    let server = MockServer::start().await.unwrap();
    let c = client(&server);
    let req = c
        .authorization_url("https://app.example/cb", None, None)
        .unwrap();
    let v1_url = req.url.replace("/v2/authorize", "/v1/authorize");
    let (code, _) = authorize(&v1_url).await;
    let token = c
        .create_token(&V1TokenRequest {
            grant_type: "authorization_code".into(),
            code: Some(code),
            code_verifier: Some(req.code_verifier.secret().to_owned()),
            ..V1TokenRequest::default()
        })
        .await
        .unwrap();
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.form["CodeVerifier"], [req.code_verifier.secret()]);
    let refreshed = c
        .create_token(&V1TokenRequest {
            grant_type: "refresh_token".into(),
            refresh_token: Some(token.refresh_token().unwrap().secret().to_owned()),
            device_id: Some("device-1".into()),
            ..V1TokenRequest::default()
        })
        .await
        .unwrap();
    assert!(!refreshed.is_expired());
    let sent = server.requests().pop().unwrap();
    assert_eq!(sent.form["DeviceId"], ["device-1"]);
    assert_eq!(sent.form["GrantType"], ["refresh_token"]);
}

#[tokio::test]
async fn the_specs_epoch_millisecond_expires_in_gives_a_conservative_lifetime() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.opaque_tokens = true;
        c.expires_in = Some(serde_json::json!(1_438_315_200_000_i64));
    });
    let token = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap();
    assert!(token.claims().is_empty());
    assert_eq!(token.lifetime(), DEFAULT_LIFETIME);
}

#[tokio::test]
async fn opaque_tokens_use_expires_in_and_legacy_expires_at_is_understood() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.opaque_tokens = true;
        c.token_lifetime_secs = 900;
    });
    let token = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap();
    assert_eq!(token.lifetime(), Duration::from_secs(900));

    server.update_config(|c| c.legacy_expires_at = true);
    let token = client(&server)
        .create_token(&V1TokenRequest {
            grant_type: "client_credentials".into(),
            ..V1TokenRequest::default()
        })
        .await
        .unwrap();
    assert!(token.lifetime() <= Duration::from_secs(900));
    assert!(token.lifetime() >= Duration::from_secs(890));
}

#[tokio::test]
async fn a_skewed_server_clock_does_not_change_the_lifetime() {
    let server = MockServer::start().await.unwrap();
    server.update_config(|c| {
        c.iat_offset_secs = -86_400;
        c.token_lifetime_secs = 120;
    });
    let token = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap();
    assert_eq!(token.lifetime(), Duration::from_secs(119));
}

#[tokio::test]
async fn the_token_authorizes_a_call_to_the_api_stand_in() {
    let server = MockServer::start().await.unwrap();
    let token = client(&server)
        .client_credentials(None, None, None)
        .await
        .unwrap();
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}.json",
            server.url()
        ))
        .header("Authorization", token.authorization_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}
