//! `twilio-oauth token` for people: the signed-in person's access token, renewed through the
//! shared token file (real CLI processes, an in-test app on the same file, and the local
//! server, which rotates refresh tokens and revokes a login whose refresh token is replayed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Stdio;

use common::*;
use predicates::prelude::*;
use serde_json::Value;
use twilio_oauth::{CacheKey, FileStore, GrantKind, OAuthClient, ProviderOptions};
use twilio_oauth_mock::USER_SID;

const BOB_SID: &str = "US00000000000000000000000000000b0b";

/// The access token stored for the only login in `store`.
fn stored_access_token(store: &Path) -> String {
    let tokens = stored_tokens(store);
    assert_eq!(tokens.len(), 1, "{:?}", tokens.keys());
    tokens.values().next().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn token_prints_the_signed_in_persons_token_after_device_login() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &[]);
    let requests = server.stats().requests;
    let token = person_token(&server, &store, &[]);
    assert_eq!(token, stored_access_token(&store));
    assert!(server.token_is_valid(&token));
    let claims = server.decode_token(&token).unwrap();
    assert_eq!(claims["sub"], USER_SID, "the person's token, not the app's");
    assert_eq!(
        server.stats().requests,
        requests,
        "a fresh login is printed without any request"
    );
}

#[test]
fn an_expired_login_is_renewed_once_and_the_next_token_reuses_the_renewal() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &[]);
    let before = person_token(&server, &store, &[]);
    expire_stored_tokens(&store);

    let renewed = person_token(&server, &store, &[]);
    assert_ne!(renewed, before);
    assert!(server.token_is_valid(&renewed));
    assert_eq!(renewed, stored_access_token(&store), "the renewal is saved");
    let again = person_token(&server, &store, &[]);
    assert_eq!(again, renewed, "the third call reuses the renewed token");

    let stats = server.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.refresh_reuses, 0);
    assert_eq!(stats.grants_revoked, 0);
}

#[test]
fn four_token_processes_at_once_on_an_expired_login_renew_it_once() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &[]);
    expire_stored_tokens(&store);
    let children: Vec<_> = (0..4)
        .map(|_| {
            std_cli()
                .arg("token")
                .envs(device_env(&server, &store))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let printed: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
        })
        .collect();
    assert!(
        printed.iter().all(|t| t == &printed[0]),
        "every process prints the one renewed token"
    );
    let stats = server.stats();
    assert_eq!(stats.refreshes, 1, "one refresh for four processes");
    assert_eq!(stats.refresh_reuses, 0, "no refresh token was sent twice");
}

#[test]
fn an_app_and_the_cli_sharing_the_token_file_renew_the_login_once() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &[]);
    expire_stored_tokens(&store);
    // An app of the same person, on the same token file.
    let client = OAuthClient::builder()
        .client_id(PUBLIC_CLIENT_ID)
        .account_sid(ACCOUNT_SID)
        .auth_token(AUTH_TOKEN)
        .base_url(server.url())
        .build()
        .unwrap();
    let app = client.token_provider(ProviderOptions {
        grant: Some(GrantKind::User),
        account: Some(USER_SID.to_owned()),
        scope: Some("offline_access".to_owned()),
        store: Some(std::sync::Arc::new(FileStore::new(&store))),
        ..ProviderOptions::default()
    });
    assert_eq!(
        stored_tokens(&store).keys().next().unwrap(),
        app.key(),
        "device-login stored the login under the key a user provider looks for"
    );
    let apps = app.token_blocking().unwrap();
    let clis = person_token(&server, &store, &[]);
    assert_eq!(clis, apps.access_token().secret());
    let stats = server.stats();
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.refresh_reuses, 0);
}

#[test]
fn a_revoked_login_exits_7_with_a_hint_to_sign_in_again() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    let backup = std::fs::read(&store).unwrap();
    expire_stored_tokens(&store);
    person_token(&server, &store, &[]);
    // The file is restored from a backup, expired: its refresh token has been used, and
    // presenting it again makes the server revoke the whole login.
    std::fs::write(&store, backup).unwrap();
    expire_stored_tokens(&store);
    let out = cli()
        .arg("token")
        .envs(device_env(&server, &store))
        .assert()
        .code(7)
        .stdout("")
        .stderr(
            predicate::str::contains("the login of alice can no longer be renewed").and(
                predicate::str::contains("twilio-oauth device-login --account alice"),
            ),
        );
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(server.stats().grants_revoked, 1);
    assert_no_secrets(&stderr, &app_secrets());
    // Never an app token instead: no client-credentials request was made.
    assert_eq!(server.request_count("/v2/token"), 0);
}

#[test]
fn two_people_in_one_token_file_need_account_to_pick_one() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    server.update_config(|c| c.user_sid = BOB_SID.to_owned());
    sign_in(&server, &store, &["--account", "bob"]);

    cli()
        .arg("token")
        .envs(device_env(&server, &store))
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("2 logins are stored")
                .and(predicate::str::contains("alice"))
                .and(predicate::str::contains("bob"))
                .and(predicate::str::contains("--account")),
        );
    let bobs = person_token(&server, &store, &["--account", "bob"]);
    assert_eq!(server.decode_token(&bobs).unwrap()["sub"], BOB_SID);
    let alices = person_token(&server, &store, &["--account", "alice"]);
    assert_eq!(server.decode_token(&alices).unwrap()["sub"], USER_SID);
}

#[test]
fn token_for_an_account_nobody_signed_in_as_says_who_is() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    cli()
        .args(["token", "--account", "carol"])
        .envs(device_env(&server, &store))
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("not signed in as carol")
                .and(predicate::str::contains("stored: alice"))
                .and(predicate::str::contains("device-login --account carol")),
        );
}

#[test]
fn token_json_for_a_person_names_the_account_and_leaves_out_the_refresh_token() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    let out = cli()
        .args(["token", "--json"])
        .envs(device_env(&server, &store))
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["grant"], "user");
    assert_eq!(json["account"], "alice");
    assert_eq!(
        json["access_token"].as_str().unwrap(),
        stored_access_token(&store)
    );
    assert!(json.get("refresh_token").is_none());
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let refresh = stored_tokens(&store).values().next().unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_no_secrets(&text, &[refresh]);
}

#[test]
fn renewing_a_device_login_without_the_account_credentials_says_what_to_set() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &[]);
    expire_stored_tokens(&store);
    cli()
        .arg("token")
        .envs(device_env(&server, &store))
        .env_remove("TWILIO_AUTH_TOKEN")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("TWILIO_AUTH_TOKEN"));
    assert_eq!(server.stats().refreshes, 0);
}

#[test]
fn status_shows_whose_token_each_entry_is_without_any_secret() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice@example.com"]);
    cli()
        .args(["token", "--app"])
        .envs(app_env(&server, &store))
        .assert()
        .success();

    let out = cli()
        .arg("status")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for needle in [
        "user alice@example.com",
        "person id",
        USER_SID,
        &format!("app {CLIENT_ID}"),
        PUBLIC_CLIENT_ID,
        &server.url(),
        "offline_access",
        "expires in",
        "refresh token  present",
        "refresh token  none",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let mut secrets = stored_secrets(&store);
    secrets.extend(app_secrets());
    assert_no_secrets(&text, &secrets);

    let out = cli()
        .args(["status", "--json"])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_no_secrets(&text, &secrets);
    let json: Value = serde_json::from_str(&text).unwrap();
    let entries = json["tokens"].as_array().unwrap();
    let app = entries.iter().find(|e| e["grant"] == "app").unwrap();
    let user = entries.iter().find(|e| e["grant"] == "user").unwrap();
    assert_eq!(app["client_id"], CLIENT_ID);
    assert_eq!(app["account"], Value::Null);
    assert_eq!(app["has_refresh_token"], false);
    assert_eq!(user["client_id"], PUBLIC_CLIENT_ID);
    assert_eq!(user["account"], "alice@example.com");
    assert_eq!(user["subject"], USER_SID);
    assert_eq!(user["base_url"], server.url());
    assert_eq!(user["has_refresh_token"], true);
    assert!(user["expires_in"].as_u64().unwrap() > 3000);
}

#[test]
fn old_format_keys_show_as_unknown_and_logout_removes_them() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    // An entry as an earlier version keyed it, beside the login.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&store).unwrap()).unwrap();
    let token = doc["tokens"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let old_key = format!("twilio-oauth:{PUBLIC_CLIENT_ID}:user:offline_access:");
    doc["tokens"][old_key.as_str()] = token;
    std::fs::write(&store, serde_json::to_vec(&doc).unwrap()).unwrap();

    let out = cli()
        .arg("status")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("unknown (old format)"), "{text}");
    assert!(text.contains("user alice"), "{text}");
    let out = cli()
        .args(["status", "--json"])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let old = json["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == old_key.as_str())
        .unwrap();
    assert_eq!(old["old_format"], true);
    assert_eq!(old["grant"], Value::Null);

    // `token` never uses it, and a logout of alice alone removes it too.
    person_token(&server, &store, &[]);
    cli()
        .args(["logout", "--account", "alice"])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Deleted 2 stored tokens")
                .and(predicate::str::contains("unknown (old format)")),
        );
    assert!(stored_tokens(&store).is_empty());
}

#[test]
fn the_cli_reads_keys_only_with_cache_key_parse() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut parses = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        // The old hand-written parser and the key format's pieces never reappear.
        assert!(!text.contains("KeyInfo"), "{name} parses keys by hand");
        assert!(!text.contains("\"twilio-oauth:"), "{name} spells out a key");
        assert!(!text.contains("v2?"), "{name} spells out a key");
        for line in text.lines().filter(|l| l.contains("key")) {
            assert!(
                !line.contains(".split") && !line.contains("strip_prefix"),
                "{name} cuts a key apart: {line}"
            );
        }
        parses += text.matches("CacheKey::parse(").count();
    }
    assert!(parses >= 1, "the CLI reads keys with CacheKey::parse");
    // And every key the CLI writes parses.
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &[]);
    cli()
        .args(["token", "--app"])
        .envs(app_env(&server, &store))
        .assert()
        .success();
    let keys: Vec<String> = stored_tokens(&store).keys().cloned().collect();
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert!(CacheKey::parse(&key).is_some(), "{key}");
    }
}
