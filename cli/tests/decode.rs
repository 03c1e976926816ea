//! `twilio-oauth decode`: a JWT's header and claims for people and for scripts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn a_token(server: &MockServer) -> String {
    let (_dir, store) = store();
    let out = cli()
        .args(["token", "--app"])
        .envs(app_env(server, &store))
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

fn signature(token: &str) -> &str {
    token.rsplit('.').next().unwrap()
}

#[test]
fn decode_shows_header_claims_and_readable_times_but_not_the_signature() {
    let server = server();
    let token = a_token(&server);
    let out = cli().args(["decode", &token]).assert().success().stdout(
        predicate::str::contains("Header")
            .and(predicate::str::contains("HS256"))
            .and(predicate::str::contains("Claims"))
            .and(predicate::str::contains(CLIENT_ID))
            .and(predicate::str::contains(" UTC"))
            .and(predicate::str::contains("valid, expires in 60 min")),
    );
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!text.contains(signature(&token)));
    assert!(!text.contains(&token));
}

#[test]
fn decode_reads_the_token_from_stdin_with_a_dash_or_no_argument() {
    let server = server();
    let token = a_token(&server);
    for args in [vec!["decode", "-"], vec!["decode"]] {
        cli()
            .args(&args)
            .write_stdin(format!("{token}\n"))
            .assert()
            .success()
            .stdout(predicate::str::contains(CLIENT_ID));
    }
}

#[test]
fn decode_accepts_an_authorization_header_value() {
    let server = server();
    let token = a_token(&server);
    cli()
        .arg("decode")
        .write_stdin(format!("Bearer {token}"))
        .assert()
        .success()
        .stdout(predicate::str::contains("Claims"));
}

#[test]
fn decode_json_has_header_claims_and_rfc3339_times() {
    let server = server();
    let token = a_token(&server);
    let out = cli().args(["decode", "--json", &token]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains(signature(&token)));
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["header"]["alg"], "HS256");
    assert_eq!(json["claims"]["sub"], CLIENT_ID);
    assert_eq!(json["expired"], false);
    let expires_in = json["expires_in"].as_u64().unwrap();
    assert!((3500..=3600).contains(&expires_in), "{expires_in}");
    let exp = json["times"]["exp"].as_str().unwrap();
    assert!(exp.ends_with('Z') && exp.contains('T'), "{exp}");
    assert!(json["times"]["iat"].is_string());
}

#[test]
fn an_expired_token_says_how_long_ago_it_expired() {
    let server = server();
    // Issued with a server clock ten minutes behind: expired five minutes ago.
    server.update_config(|c| {
        c.token_lifetime_secs = 300;
        c.iat_offset_secs = -600;
    });
    // `token` still works: the core trusts `exp - iat`, not the server's clock.
    let token = a_token(&server);
    cli()
        .args(["decode", &token])
        .assert()
        .success()
        .stdout(predicate::str::contains("expired 5 min ago"));
    let out = cli().args(["decode", "--json", &token]).assert().success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["expired"], true);
    assert_eq!(json["expires_in"], 0);
}

#[test]
fn something_that_is_not_a_jwt_is_a_usage_error() {
    cli()
        .args(["decode", "opaque-token-value"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("not a JWT"));
}

#[test]
fn an_empty_stdin_is_a_usage_error() {
    cli()
        .args(["decode", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no token given"));
}
