//! `twilio-oauth token --app`: the app's own (client-credentials) token for scripts, cached in
//! the token file between invocations; and what `token` does when nobody is signed in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn token_app_prints_the_access_token_alone_and_the_api_accepts_it() {
    let server = server();
    let (_dir, store) = store();
    let out = cli()
        .args(["token", "--app"])
        .envs(app_env(&server, &store))
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.ends_with('\n'));
    let token = stdout.trim_end();
    assert!(
        !token.contains(char::is_whitespace),
        "only the token: {stdout:?}"
    );
    assert!(server.token_is_valid(token));
    assert!(out.get_output().stderr.is_empty());
    assert_no_secrets(&stdout, &app_secrets());
    assert_eq!(server.request_count("/v2/token"), 1);
}

#[test]
fn token_json_carries_the_token_and_its_expiry_in_rfc3339() {
    let server = server();
    let (_dir, store) = store();
    let out = cli()
        .envs(app_env(&server, &store))
        .args([
            "token",
            "--app",
            "--json",
            "--scope",
            "read write",
            "--audience",
            "https://api.example",
        ])
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let access = json["access_token"].as_str().unwrap();
    assert!(server.token_is_valid(access));
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["scope"], "read write");
    let expires_in = json["expires_in"].as_u64().unwrap();
    assert!((3500..=3600).contains(&expires_in), "{expires_in}");
    let expires_at = json["expires_at"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && expires_at.contains('T'),
        "{expires_at}"
    );
    assert_eq!(json["grant"], "app");
    assert!(json.get("refresh_token").is_none());
    let claims = server.decode_token(access).unwrap();
    assert_eq!(claims["aud"], "https://api.example");
}

#[test]
fn flags_override_the_environment() {
    let server = server();
    let (_dir, store) = store();
    cli()
        .env("TWILIO_CLIENT_ID", "OQ-not-a-real-id")
        .env("TWILIO_OAUTH_STORE", NO_STORE)
        .args([
            "token",
            "--app",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ])
        .args(["--base-url", &server.url()])
        .arg("--store")
        .arg(&store)
        .assert()
        .success()
        .stderr("");
    assert_eq!(stored_tokens(&store).len(), 1);
}

#[test]
fn a_missing_secret_with_app_says_which_variable_or_flag_to_set_and_exits_2() {
    cli()
        .env("TWILIO_CLIENT_ID", CLIENT_ID)
        .args(["token", "--app"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "set TWILIO_CLIENT_SECRET or pass --client-secret",
        ));
}

#[test]
fn a_missing_client_id_exits_2() {
    cli()
        .arg("token")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "set TWILIO_CLIENT_ID or pass --client-id",
        ));
}

#[test]
fn a_malformed_client_id_is_a_configuration_error() {
    cli()
        .args([
            "token",
            "--app",
            "--client-id",
            "OQ123",
            "--client-secret",
            "x",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("client_id must be 34"));
}

#[test]
fn a_wrong_secret_is_an_api_error_with_exit_3_and_the_secret_is_not_echoed() {
    let server = server();
    let (_dir, store) = store();
    let out = cli()
        .env("TWILIO_OAUTH_BASE_URL", server.url())
        .env("TWILIO_OAUTH_STORE", &store)
        .args([
            "token",
            "--app",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            "wrong-secret-4242",
        ])
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicate::str::contains("check the client id and secret"));
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(!stderr.contains("wrong-secret-4242"));
}

#[test]
fn an_unreachable_server_is_a_network_error_with_exit_4() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (_dir, store) = store();
    cli()
        .env("TWILIO_OAUTH_STORE", &store)
        .args([
            "token",
            "--app",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ])
        .args(["--base-url", &url, "--timeout", "5"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "check that {url} is reachable"
        )));
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_request() {
    cli()
        .args([
            "token",
            "--app",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ])
        .args(["--base-url", "http://oauth.example.com"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("https://"));
}

#[test]
fn a_second_token_app_reuses_the_cached_token_without_a_request() {
    let server = server();
    let (_dir, store) = store();
    let run = || {
        let out = cli()
            .args(["token", "--app"])
            .envs(app_env(&server, &store))
            .assert()
            .success()
            .stderr("");
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let first = run();
    assert_eq!(server.request_count("/v2/token"), 1);
    let second = run();
    assert_eq!(first, second, "the second call prints the cached token");
    assert_eq!(
        server.request_count("/v2/token"),
        1,
        "the second call made no token request"
    );
    let keys: Vec<String> = stored_tokens(&store).keys().cloned().collect();
    assert_eq!(keys.len(), 1);
    let key = twilio_oauth::CacheKey::parse(&keys[0]).unwrap();
    assert_eq!(key.grant(), twilio_oauth::GrantKind::App);
    assert_eq!(key.client_id(), CLIENT_ID);
}

#[test]
fn an_app_token_for_another_scope_is_fetched_and_cached_separately() {
    let server = server();
    let (_dir, store) = store();
    for scope in ["read", "write", "read"] {
        cli()
            .args(["token", "--app", "--scope", scope])
            .envs(app_env(&server, &store))
            .assert()
            .success();
    }
    assert_eq!(server.request_count("/v2/token"), 2);
    assert_eq!(stored_tokens(&store).len(), 2);
}

#[test]
fn an_expired_app_token_is_fetched_again_and_replaced_in_the_file() {
    let server = server();
    let (_dir, store) = store();
    let run = || {
        let out = cli()
            .args(["token", "--app"])
            .envs(app_env(&server, &store))
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let first = run();
    expire_stored_tokens(&store);
    let second = run();
    assert_ne!(first, second);
    assert_eq!(server.request_count("/v2/token"), 2);
    let stored = stored_tokens(&store);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored.values().next().unwrap()["access_token"],
        second.trim_end()
    );
}

#[cfg(unix)]
#[test]
fn an_unusable_token_file_costs_the_cache_not_the_app_token() {
    use std::os::unix::fs::PermissionsExt;
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("shared");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let store = open.join("tokens.json");
    let out = cli()
        .args(["token", "--app"])
        .envs(app_env(&server, &store))
        .assert()
        .success()
        .stderr(
            predicate::str::contains("warning:")
                .and(predicate::str::contains("writable by other users")),
        );
    let token = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(server.token_is_valid(token.trim_end()));
    assert!(
        !store.exists(),
        "nothing is written to a folder others can write"
    );
}

#[test]
fn token_without_a_login_says_to_sign_in_or_pass_app_and_never_prints_an_app_token() {
    let server = server();
    let (_dir, store) = store();
    // The app has a secret, so an app token could be had: still no token for "token" alone.
    cli()
        .arg("token")
        .envs(app_env(&server, &store))
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("not signed in")
                .and(predicate::str::contains("twilio-oauth device-login"))
                .and(predicate::str::contains("--app")),
        );
    assert_eq!(server.request_count("/v2/token"), 0);
    assert_eq!(server.request_count("/v1/token"), 0);
}

#[test]
fn an_app_token_in_the_file_does_not_count_as_a_login() {
    let server = server();
    let (_dir, store) = store();
    cli()
        .args(["token", "--app"])
        .envs(app_env(&server, &store))
        .assert()
        .success();
    cli()
        .arg("token")
        .envs(app_env(&server, &store))
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("not signed in"));
}
