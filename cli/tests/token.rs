//! `twilio-oauth token`: a client-credentials token for scripts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn token_prints_the_access_token_alone_and_the_api_accepts_it() {
    let server = server();
    let mut cmd = cli();
    confidential(&mut cmd, &server);
    let out = cmd.arg("token").assert().success();
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
    let mut cmd = cli();
    confidential(&mut cmd, &server);
    let out = cmd
        .args([
            "token",
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
    let claims = server.decode_token(access).unwrap();
    assert_eq!(claims["aud"], "https://api.example");
}

#[test]
fn flags_override_the_environment() {
    let server = server();
    cli()
        .env("TWILIO_CLIENT_ID", "OQ-not-a-real-id")
        .args([
            "token",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ])
        .args(["--base-url", &server.url()])
        .assert()
        .success();
}

#[test]
fn a_missing_secret_says_which_variable_or_flag_to_set_and_exits_2() {
    cli()
        .env("TWILIO_CLIENT_ID", CLIENT_ID)
        .arg("token")
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
        .args(["token", "--client-id", "OQ123", "--client-secret", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("client_id must be 34"));
}

#[test]
fn a_wrong_secret_is_an_api_error_with_exit_3_and_the_secret_is_not_echoed() {
    let server = server();
    let out = cli()
        .env("TWILIO_OAUTH_BASE_URL", server.url())
        .args([
            "token",
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
    cli()
        .args([
            "token",
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
