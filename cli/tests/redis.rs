//! `--store redis://…`: the CLI on a store a fleet shares (a real redis-server, started per test
//! on a free port with its own folder).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;
use twilio_oauth_mock::redis_server::RedisServer;

const KEY_B64: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

#[test]
fn an_app_token_is_shared_through_redis_between_invocations() {
    let server = server();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let store = Path::new(&url);
    let run = || {
        let out = cli()
            .args(["token", "--app"])
            .envs(app_env(&server, store))
            .env("TWILIO_OAUTH_ENCRYPTION_KEY", KEY_B64)
            .assert()
            .success()
            .stderr("");
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let first = run();
    let second = run();
    assert_eq!(first, second);
    assert_eq!(server.request_count("/v2/token"), 1);
    let out = cli()
        .arg("status")
        .envs(app_env(&server, store))
        .env("TWILIO_OAUTH_ENCRYPTION_KEY", KEY_B64)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("app"), "{text}");
    assert!(text.contains(&url), "{text}");
}

#[test]
fn a_person_signed_in_through_redis_gets_their_token_from_it() {
    let server = server();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let store = Path::new(&url);
    sign_in(&server, store, &["--account", "alice"]);
    let token = person_token(&server, store, &[]);
    assert!(token.starts_with("eyJ"), "{token}");
    assert_eq!(server.stats().refreshes, 0);
}
