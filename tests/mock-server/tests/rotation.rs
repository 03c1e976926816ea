//! Refresh-token rotation, reuse detection, the grace period, the session cap and the person
//! behind user grants, checked over real HTTP with reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockServer, PUBLIC_CLIENT_ID, USER_SID,
};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REDIRECT_URI: &str = "http://localhost/cb";
const ALICE: &str = "USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BOB: &str = "USbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

thread_local! {
    // One client per test thread (and runtime); building one costs tens of milliseconds.
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

/// POSTs a form (with v1's Basic auth when `v1`) and returns the status and the JSON body.
async fn post(url: String, pairs: &[(&str, &str)], v1: bool) -> (u16, Value) {
    let mut request = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    if v1 {
        request = request.header("authorization", basic());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn admin_config(server: &MockServer, patch: Value) {
    let response = client()
        .post(format!("{}/admin/config", server.url()))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{patch}");
}

async fn admin_stats(server: &MockServer) -> Value {
    client()
        .get(format!("{}/admin/stats", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A person signs in: `/v2/authorize` for the confidential client (the person is the
/// configured `user_sid` at this moment), then the code exchange. Returns the token response.
async fn login(server: &MockServer) -> Value {
    let code = authorize(server).await;
    exchange(server, &code).await
}

async fn authorize(server: &MockServer) -> String {
    let url = format!(
        "{}/v2/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT_URI}&scope=openid%20offline_access",
        server.url()
    );
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(key, _)| key == "code")
        .map(|(_, value)| value.into_owned())
        .unwrap()
}

async fn exchange(server: &MockServer, code: &str) -> Value {
    let pairs = [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    let (status, body) = post(format!("{}/v2/token", server.url()), &pairs, false).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh(server: &MockServer, refresh_token: &str) -> (u16, Value) {
    let pairs = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", refresh_token),
    ];
    post(format!("{}/v2/token", server.url()), &pairs, false).await
}

/// Refreshes and expects success; returns the new token response.
async fn refreshed(server: &MockServer, refresh_token: &str) -> Value {
    let (status, body) = refresh(server, refresh_token).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn client_credentials(server: &MockServer) -> Value {
    let pairs = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let (status, body) = post(format!("{}/v2/token", server.url()), &pairs, false).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A device login on v1 with the public client, approved by whoever `user_sid` names now.
async fn device_login(server: &MockServer, device_id: &str) -> Value {
    let (status, device) = post(
        format!("{}/v1/device/code", server.url()),
        &[
            ("ClientSid", PUBLIC_CLIENT_ID),
            ("Scopes", "offline_access"),
            ("Scopes", "openid"),
        ],
        true,
    )
    .await;
    assert_eq!(status, 201, "{device}");
    assert!(server.approve(device["user_code"].as_str().unwrap()));
    let (status, token) = post(
        format!("{}/v1/token", server.url()),
        &[
            ("GrantType", DEVICE_GRANT),
            ("ClientSid", PUBLIC_CLIENT_ID),
            ("DeviceCode", device["device_code"].as_str().unwrap()),
            ("DeviceId", device_id),
        ],
        true,
    )
    .await;
    assert_eq!(status, 201, "{token}");
    token
}

async fn v1_refresh(server: &MockServer, refresh_token: &str, device_id: &str) -> (u16, Value) {
    let pairs = [
        ("GrantType", "refresh_token"),
        ("ClientSid", PUBLIC_CLIENT_ID),
        ("RefreshToken", refresh_token),
        ("DeviceId", device_id),
    ];
    post(format!("{}/v1/token", server.url()), &pairs, true).await
}

fn refresh_token(body: &Value) -> String {
    body["refresh_token"].as_str().unwrap().to_owned()
}

fn claims(server: &MockServer, body: &Value, field: &str) -> Value {
    server.decode_token(body[field].as_str().unwrap()).unwrap()
}

/// The 400 invalid_grant answer of both token endpoints: Twilio's body with code 322403 and a
/// message that starts with `invalid_grant:` and contains `says`.
fn assert_invalid_grant(status: u16, body: &Value, says: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 322403, "{body}");
    assert_eq!(body["status"], 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("invalid_grant: "), "{message}");
    assert!(message.contains(says), "{message:?} should say {says:?}");
}

/// What `GET /2010-04-01/Accounts/{sid}.json` answers to this access token.
async fn api_status(server: &MockServer, access_token: &str) -> u16 {
    client()
        .get(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}.json",
            server.url()
        ))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn now_unix() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_refresh_issues_a_new_refresh_token_and_the_used_one_is_then_refused() {
    let server = MockServer::start().await.unwrap();
    let first = login(&server).await;
    let rt1 = refresh_token(&first);

    let second = refreshed(&server, &rt1).await;
    let rt2 = refresh_token(&second);
    assert_ne!(rt2, rt1);
    assert_ne!(second["access_token"], first["access_token"]);
    assert!(second["id_token"].is_string());

    let (status, body) = refresh(&server, &rt1).await;
    assert_invalid_grant(status, &body, "already used");

    // Unknown tokens are still just unknown, not reuses.
    let (status, body) = refresh(&server, "rt_never_issued").await;
    assert_invalid_grant(status, &body, "unknown refresh token");
    assert_eq!(
        (server.refresh_count(), server.reuse_count()),
        (1, 1),
        "{:?}",
        server.stats()
    );
}

#[tokio::test]
async fn reusing_a_used_refresh_token_revokes_the_whole_grant_and_its_access_tokens() {
    let server = MockServer::start().await.unwrap();
    let first = login(&server).await;
    let rt1 = refresh_token(&first);
    let second = refreshed(&server, &rt1).await;
    let third = refreshed(&server, &refresh_token(&second)).await;
    let newest = refresh_token(&third);
    let other_login = login(&server).await;
    let app_token = client_credentials(&server).await;
    assert_eq!(
        api_status(&server, third["access_token"].as_str().unwrap()).await,
        200
    );

    // rt1 was consumed by the first refresh: presenting it again revokes the family.
    let (status, body) = refresh(&server, &rt1).await;
    assert_invalid_grant(status, &body, "already used");
    assert_eq!(server.grants_revoked(), 1);

    // The newest refresh token of the family, never used, is refused too.
    let (status, body) = refresh(&server, &newest).await;
    assert_invalid_grant(status, &body, "revoked");
    // So are the family's access tokens, at the API stand-in and in introspection.
    for token in [&first, &second, &third] {
        let access = token["access_token"].as_str().unwrap();
        assert_eq!(api_status(&server, access).await, 401);
        assert!(!server.token_is_valid(access));
    }
    let response = client()
        .get(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            server.url()
        ))
        .bearer_auth(third["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 20003);
    let introspected: Value = client()
        .post(format!("{}/admin/introspect", server.url()))
        .json(&json!({"token": third["access_token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], false);
    assert!(introspected["claims"]["grant_id"].is_string());

    // Another login and the app's own token are not affected.
    assert_eq!(
        api_status(&server, other_login["access_token"].as_str().unwrap()).await,
        200
    );
    assert_eq!(
        api_status(&server, app_token["access_token"].as_str().unwrap()).await,
        200
    );
    refreshed(&server, &refresh_token(&other_login)).await;

    // Only consumed tokens presented again count as reuses: rt1 once; the newest was unused.
    assert_eq!(
        (
            server.refresh_count(),
            server.reuse_count(),
            server.grants_revoked()
        ),
        (3, 1, 1)
    );
}

#[tokio::test]
async fn opaque_access_tokens_of_a_revoked_grant_are_refused_by_the_api() {
    let server = MockServer::start().await.unwrap();
    admin_config(&server, json!({"opaque_tokens": true})).await;
    let first = login(&server).await;
    let rt1 = refresh_token(&first);
    let second = refreshed(&server, &rt1).await;
    let access = second["access_token"].as_str().unwrap();
    assert!(access.starts_with("at_"));
    assert_eq!(api_status(&server, access).await, 200);
    let (status, body) = refresh(&server, &rt1).await;
    assert_invalid_grant(status, &body, "already used");
    assert_eq!(api_status(&server, access).await, 401);
}

#[tokio::test]
async fn within_the_grace_period_a_reused_refresh_token_still_works_and_is_counted() {
    let server = MockServer::start().await.unwrap();
    admin_config(&server, json!({"refresh_reuse_grace_secs": 1})).await;
    let first = login(&server).await;
    let rt1 = refresh_token(&first);
    let second = refreshed(&server, &rt1).await;

    // Reused right away (a client that lost the response and retried): fresh tokens.
    let retried = refreshed(&server, &rt1).await;
    assert_ne!(refresh_token(&retried), refresh_token(&second));
    assert_ne!(refresh_token(&retried), rt1);
    assert_eq!(
        (
            server.refresh_count(),
            server.reuse_count(),
            server.grants_revoked()
        ),
        (2, 1, 0)
    );
    // Nothing was revoked: the token of the first rotation still works.
    refreshed(&server, &refresh_token(&second)).await;

    // After the grace period the same reuse revokes the grant.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = refresh(&server, &rt1).await;
    assert_invalid_grant(status, &body, "already used");
    assert_eq!((server.reuse_count(), server.grants_revoked()), (2, 1));
    let (status, body) = refresh(&server, &refresh_token(&retried)).await;
    assert_invalid_grant(status, &body, "revoked");
}

#[tokio::test]
async fn the_session_cap_bounds_exp_and_refuses_refreshes_after_the_session() {
    let server = MockServer::start().await.unwrap();
    admin_config(&server, json!({"session_max_secs": 3})).await;
    let app_token = client_credentials(&server).await;
    assert_eq!(
        app_token["expires_in"], 3600,
        "the app's own token is not capped"
    );

    let first = login(&server).await;
    let access = claims(&server, &first, "access_token");
    let login_time = access["iat"].as_i64().unwrap();
    assert_eq!(access["exp"].as_i64().unwrap(), login_time + 3);
    assert_eq!(first["expires_in"], 3);
    let id = claims(&server, &first, "id_token");
    assert_eq!(id["auth_time"], login_time);
    assert_eq!(id["exp"], access["exp"]);

    let second = refreshed(&server, &refresh_token(&first)).await;
    let access = claims(&server, &second, "access_token");
    let (iat, exp) = (
        access["iat"].as_i64().unwrap(),
        access["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp, login_time + 3, "a refresh does not extend the session");
    assert_eq!(second["expires_in"].as_i64().unwrap(), exp - iat);
    assert_eq!(
        claims(&server, &second, "id_token")["auth_time"],
        login_time
    );

    while now_unix() < login_time + 3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = refresh(&server, &refresh_token(&second)).await;
    assert_invalid_grant(status, &body, "session expired");
    // An ended session is no reuse, and revokes nothing.
    assert_eq!(
        (
            server.refresh_count(),
            server.reuse_count(),
            server.grants_revoked()
        ),
        (1, 0, 0)
    );

    // Without the cap the same login refreshes again, with full-length tokens.
    admin_config(&server, json!({"session_max_secs": null})).await;
    let third = refreshed(&server, &refresh_token(&second)).await;
    assert_eq!(third["expires_in"], 3600);
}

#[tokio::test]
async fn user_sid_is_the_sub_of_user_grants_and_refreshes_but_not_of_client_credentials() {
    let server = MockServer::start().await.unwrap();
    let default_login = login(&server).await;
    assert_eq!(
        claims(&server, &default_login, "access_token")["sub"],
        USER_SID
    );

    // Alice authorizes a code; Bob is configured before she exchanges it: it stays hers.
    admin_config(&server, json!({"user_sid": ALICE})).await;
    let code = authorize(&server).await;
    admin_config(&server, json!({"user_sid": BOB})).await;
    let alice = exchange(&server, &code).await;
    assert_eq!(claims(&server, &alice, "access_token")["sub"], ALICE);
    assert_eq!(claims(&server, &alice, "id_token")["sub"], ALICE);
    assert_eq!(
        claims(&server, &alice, "access_token")["grant_type"],
        "authorization_code"
    );

    // Bob approves a device code.
    let bob = device_login(&server, "bobs-laptop").await;
    assert_eq!(claims(&server, &bob, "access_token")["sub"], BOB);
    assert_eq!(claims(&server, &bob, "id_token")["sub"], BOB);
    assert_ne!(
        claims(&server, &bob, "access_token")["grant_id"],
        claims(&server, &alice, "access_token")["grant_id"]
    );

    // Alice's refresh keeps her as the subject although the configuration names Bob.
    let renewed = refreshed(&server, &refresh_token(&alice)).await;
    assert_eq!(claims(&server, &renewed, "access_token")["sub"], ALICE);
    assert_eq!(claims(&server, &renewed, "id_token")["sub"], ALICE);
    assert_eq!(
        claims(&server, &renewed, "access_token")["grant_id"],
        claims(&server, &alice, "access_token")["grant_id"]
    );
    let (status, body) = v1_refresh(&server, &refresh_token(&bob), "bobs-laptop").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(claims(&server, &body, "access_token")["sub"], BOB);

    // The app's own token is the app's.
    let app_token = client_credentials(&server).await;
    let app = claims(&server, &app_token, "access_token");
    assert_eq!(app["sub"], CLIENT_ID);
    assert!(app.get("grant_id").is_none());

    client()
        .post(format!("{}/admin/reset", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(server.config().user_sid, USER_SID);
}

#[tokio::test]
async fn admin_stats_count_refreshes_reuses_and_revoked_grants_until_a_reset() {
    let server = MockServer::start().await.unwrap();
    let stats = admin_stats(&server).await;
    assert_eq!(
        (
            &stats["refreshes"],
            &stats["refresh_reuses"],
            &stats["grants_revoked"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );

    let kept = login(&server).await;
    let kept = refreshed(&server, &refresh_token(&kept)).await;
    let revoked = login(&server).await;
    let rt1 = refresh_token(&revoked);
    refreshed(&server, &rt1).await;
    refresh(&server, &rt1).await;
    refresh(&server, &rt1).await; // A consumed token of a revoked grant: a reuse again.

    let stats = admin_stats(&server).await;
    assert_eq!(stats["refreshes"], 2, "{stats}");
    assert_eq!(stats["refresh_reuses"], 2, "{stats}");
    assert_eq!(stats["grants_revoked"], 1, "{stats}");
    assert_eq!(stats["tokens_issued"], 4, "{stats}");
    let typed = server.stats();
    assert_eq!(
        (typed.refreshes, typed.refresh_reuses, typed.grants_revoked),
        (2, 2, 1)
    );

    let reset = client()
        .post(format!("{}/admin/reset", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    let stats = admin_stats(&server).await;
    assert_eq!(
        (
            &stats["refreshes"],
            &stats["refresh_reuses"],
            &stats["grants_revoked"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );
    // Issued tokens stay as they were: the kept login refreshes, the revoked one does not.
    refreshed(&server, &refresh_token(&kept)).await;
    let (status, body) = refresh(&server, &rt1).await;
    assert_invalid_grant(status, &body, "revoked");
    assert_eq!((server.refresh_count(), server.reuse_count()), (1, 1));
}

#[tokio::test]
async fn without_rotation_used_refresh_tokens_stay_valid() {
    let server = MockServer::start().await.unwrap();
    admin_config(&server, json!({"rotate_refresh_tokens": false})).await;
    assert!(!server.config().rotate_refresh_tokens);
    let first = login(&server).await;
    let rt1 = refresh_token(&first);
    let mut issued = vec![rt1.clone()];
    for _ in 0..3 {
        let again = refreshed(&server, &rt1).await;
        issued.push(refresh_token(&again));
    }
    issued.sort();
    issued.dedup();
    assert_eq!(
        issued.len(),
        4,
        "each refresh still issues a new refresh token"
    );
    refreshed(&server, &issued[3]).await;
    assert_eq!(
        (
            server.refresh_count(),
            server.reuse_count(),
            server.grants_revoked()
        ),
        (4, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_simultaneous_refreshes_with_one_token_give_one_success_and_one_invalid_grant() {
    let server = MockServer::start().await.unwrap();
    for round in 1..=5 {
        let rt = refresh_token(&login(&server).await);
        let (a, b) = tokio::join!(refresh(&server, &rt), refresh(&server, &rt));
        let (winner, loser) = match (a.0, b.0) {
            (200, 400) => (a.1, b),
            (400, 200) => (b.1, a),
            other => panic!("round {round}: statuses {other:?}, expected one 200 and one 400"),
        };
        assert_invalid_grant(loser.0, &loser.1, "already used");
        // The loser's reuse revoked the login, the winner's new refresh token included.
        let (status, body) = refresh(&server, &refresh_token(&winner)).await;
        assert_invalid_grant(status, &body, "revoked");
        assert_eq!(
            (
                server.refresh_count(),
                server.reuse_count(),
                server.grants_revoked()
            ),
            (round, round, round)
        );
    }
}

#[tokio::test]
async fn v1_refresh_tokens_rotate_and_stay_bound_to_their_device_id() {
    let server = MockServer::start().await.unwrap();
    let login = device_login(&server, "device-1").await;
    let rt1 = refresh_token(&login);

    // Another DeviceId is refused without consuming the token or counting a reuse.
    let (status, body) = v1_refresh(&server, &rt1, "device-2").await;
    assert_invalid_grant(status, &body, "DeviceId");
    let (status, second) = v1_refresh(&server, &rt1, "device-1").await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["token_type"], "bearer");
    let rt2 = refresh_token(&second);
    let (status, body) = v1_refresh(&server, &rt2, "device-2").await;
    assert_invalid_grant(status, &body, "DeviceId");
    let (status, third) = v1_refresh(&server, &rt2, "device-1").await;
    assert_eq!(status, 201, "{third}");
    assert_eq!(server.reuse_count(), 0);

    let (status, body) = v1_refresh(&server, &rt1, "device-1").await;
    assert_invalid_grant(status, &body, "already used");
    let (status, body) = v1_refresh(&server, &refresh_token(&third), "device-1").await;
    assert_invalid_grant(status, &body, "revoked");
    assert_eq!(
        (
            server.refresh_count(),
            server.reuse_count(),
            server.grants_revoked()
        ),
        (2, 1, 1)
    );
}
