//! `twilio-oauth device-login`, `status`, `refresh` and `logout` with plain (non-terminal)
//! output, against the local server; the tests play the person through its control API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn fast_polling(server: &MockServer) {
    server.update_config(|c| c.device_interval = Some(1));
}

#[test]
fn device_login_waits_for_approval_then_stores_the_tokens_privately() {
    let server = server();
    fast_polling(&server);
    let (_dir, store) = store();
    let (mut child, mut stdout, code) = start_device_login(&server, &store, &[]);

    // The person approves while the command polls.
    assert!(
        server.approve(&code),
        "the code {code:?} is pending on the server"
    );
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "exit {status:?}; stderr: {stderr}");
    assert!(rest.contains("Signed in."), "{rest}");
    assert!(rest.contains(&store.display().to_string()), "{rest}");

    let tokens = stored_tokens(&store);
    assert_eq!(tokens.len(), 1);
    let (key, token) = tokens.iter().next().unwrap();
    // Stored under the key of a user provider for this person, app, server and scope.
    let key = twilio_oauth::CacheKey::parse(key).expect("a key in the core's format");
    assert_eq!(key.grant(), twilio_oauth::GrantKind::User);
    assert_eq!(key.client_id(), PUBLIC_CLIENT_ID);
    assert_eq!(key.subject(), Some(twilio_oauth_mock::USER_SID));
    assert_eq!(key.base_url(), server.url());
    assert_eq!(key.scope(), Some("offline_access"));
    assert!(
        rest.contains(twilio_oauth_mock::USER_SID),
        "the account is shown: {rest}"
    );
    assert!(server.token_is_valid(token["access_token"].as_str().unwrap()));
    assert!(token["refresh_token"].is_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Nothing secret was shown: no token, no device code, no auth token.
    let mut secrets = stored_secrets(&store);
    secrets.extend(app_secrets());
    secrets.extend(server.devices().into_iter().map(|d| d.device_code));
    assert_no_secrets(&format!("{rest}{stderr}"), &secrets);
}

#[test]
fn plain_output_has_no_ansi_codes_and_no_qr_code() {
    let server = server();
    server.update_config(|c| {
        c.device_interval = Some(1);
        c.auto_approve_after_polls = Some(0);
    });
    let (_dir, store) = store();
    let out = cli()
        .arg("device-login")
        .envs(device_env(&server, &store))
        .env_remove("NO_COLOR")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let code = &server.devices()[0].user_code;
    assert!(text.contains(&format!("enter the code {code}")), "{text}");
    assert!(
        !text.contains('\x1b'),
        "ANSI escape in plain output: {text:?}"
    );
    assert!(!text.contains('▀') && !text.contains('▄'), "{text}");
    assert!(out.get_output().stderr.is_empty());
}

#[test]
fn the_qr_code_can_be_asked_for_in_plain_output() {
    let server = server();
    server.update_config(|c| {
        c.device_interval = Some(1);
        c.auto_approve_after_polls = Some(0);
    });
    let (_dir, store) = store();
    cli()
        .args([
            "device-login",
            "--qr",
            "always",
            "--scope",
            "offline_access",
            "--scope",
            "openid",
        ])
        .envs(device_env(&server, &store))
        .assert()
        .success()
        .stdout(predicate::str::contains("▀").and(predicate::str::contains("▄")));
    assert_eq!(server.devices()[0].scopes, ["offline_access", "openid"]);
}

#[test]
fn a_denied_login_exits_5_and_stores_nothing() {
    let server = server();
    fast_polling(&server);
    let (_dir, store) = store();
    let (mut child, _stdout, code) = start_device_login(&server, &store, &[]);
    assert!(server.deny(&code));
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("access denied"), "{stderr}");
    assert!(
        stderr.contains("device-login"),
        "the hint says what to do: {stderr}"
    );
    assert!(!store.exists());
}

#[test]
fn an_expired_code_exits_6() {
    let server = server();
    server.update_config(|c| {
        c.device_interval = Some(1);
        c.device_expires_in = 1;
    });
    let (_dir, store) = store();
    cli()
        .arg("device-login")
        .envs(device_env(&server, &store))
        .assert()
        .code(6)
        .stderr(predicate::str::contains("expired"));
    assert!(!store.exists());
}

#[test]
fn device_login_without_an_auth_token_says_what_to_set() {
    let (_dir, store) = store();
    cli()
        .args([
            "device-login",
            "--client-id",
            PUBLIC_CLIENT_ID,
            "--account-sid",
            ACCOUNT_SID,
        ])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "set TWILIO_AUTH_TOKEN or pass --auth-token",
        ));
}

/// Signs in with the server approving on the first poll; returns the token file.
fn signed_in(server: &MockServer) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, store) = store();
    sign_in(server, &store, &[]);
    (dir, store)
}

#[test]
fn device_login_with_an_account_label_stores_the_login_under_that_label() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice@example.com"]);
    let tokens = stored_tokens(&store);
    let key = twilio_oauth::CacheKey::parse(tokens.keys().next().unwrap()).unwrap();
    assert_eq!(key.grant(), twilio_oauth::GrantKind::User);
    assert_eq!(key.subject(), Some("alice@example.com"));
}

#[test]
fn signing_in_again_as_the_same_person_replaces_the_login() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    let first = stored_secrets(&store);
    sign_in(&server, &store, &["--account", "alice"]);
    let tokens = stored_tokens(&store);
    assert_eq!(tokens.len(), 1, "one login per person: {:?}", tokens.keys());
    let access = tokens.values().next().unwrap()["access_token"]
        .as_str()
        .unwrap();
    assert!(
        !first.iter().any(|s| s == access),
        "the newer login is kept"
    );
}

#[test]
fn status_shows_the_login_and_its_expiry_but_never_a_token() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    let out = cli()
        .arg("status")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success()
        .stdout(
            predicate::str::contains(PUBLIC_CLIENT_ID)
                .and(predicate::str::contains("expires in 60 min"))
                .and(predicate::str::contains("refresh token")),
        );
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_no_secrets(&text, &stored_secrets(&store));
}

#[test]
fn status_json_is_parseable_and_secret_free() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    let out = cli()
        .args(["status", "--json"])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_no_secrets(&text, &stored_secrets(&store));
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["store"], store.display().to_string());
    let entry = &json["tokens"][0];
    assert_eq!(entry["client_id"], PUBLIC_CLIENT_ID);
    assert_eq!(entry["grant"], "user");
    assert_eq!(entry["account"], twilio_oauth_mock::USER_SID);
    assert_eq!(entry["base_url"], server.url());
    assert_eq!(entry["old_format"], false);
    assert_eq!(entry["scope"], "offline_access");
    assert_eq!(entry["expired"], false);
    assert_eq!(entry["has_refresh_token"], true);
    assert!(entry["expires_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn refresh_replaces_the_stored_token_with_a_new_one() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    let before = stored_secrets(&store);
    let old_access = stored_tokens(&store).values().next().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = cli()
        .arg("refresh")
        .envs(device_env(&server, &store))
        .env_remove("TWILIO_CLIENT_ID")
        .assert()
        .success()
        .stdout(predicate::str::contains("Refreshed the login of"));
    let new_access = stored_tokens(&store).values().next().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old_access, new_access);
    assert!(server.token_is_valid(&new_access));
    // A device login goes back to /v1/token, where it was issued.
    let refresh_grants = server
        .requests()
        .into_iter()
        .filter(|r| {
            r.path == "/v1/token"
                && r.form
                    .get("GrantType")
                    .is_some_and(|g| g == &["refresh_token"])
        })
        .count();
    assert_eq!(refresh_grants, 1);
    assert_eq!(server.stats().refreshes, 1);
    assert_eq!(server.stats().refresh_reuses, 0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let mut secrets = before;
    secrets.extend(stored_secrets(&store));
    assert_no_secrets(&text, &secrets);
}

#[test]
fn refresh_with_nothing_stored_says_to_sign_in_first() {
    let (_dir, store) = store();
    cli()
        .arg("refresh")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("twilio-oauth device-login"));
}

#[test]
fn a_refresh_of_a_revoked_login_exits_7_and_says_to_sign_in_again() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    let backup = std::fs::read(&store).unwrap();
    cli()
        .arg("refresh")
        .envs(device_env(&server, &store))
        .assert()
        .success();
    // The file comes back from a backup: its refresh token was used by the refresh above, and
    // presenting it again makes the server revoke the whole login.
    std::fs::write(&store, backup).unwrap();
    cli()
        .arg("refresh")
        .envs(device_env(&server, &store))
        .assert()
        .code(7)
        .stdout("")
        .stderr(
            predicate::str::contains("can no longer be renewed")
                .and(predicate::str::contains("twilio-oauth device-login`"))
                // Signed in without a label: signing in again needs none either.
                .and(predicate::str::contains("--account").not()),
        );
    assert_eq!(server.stats().grants_revoked, 1);
}

#[test]
fn refresh_only_considers_logins_of_the_server_it_talks_to() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    let other = common::server();
    cli()
        .arg("refresh")
        .envs(device_env(&server, &store))
        .env("TWILIO_OAUTH_BASE_URL", other.url())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "no stored login at {}",
            other.url()
        )));
    assert_eq!(other.request_count("/v1/token"), 0);
}

#[test]
fn refresh_with_two_people_signed_in_names_both_and_account_picks_one() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    sign_in(&server, &store, &["--account", "bob"]);
    cli()
        .arg("refresh")
        .envs(device_env(&server, &store))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("alice")
                .and(predicate::str::contains("bob"))
                .and(predicate::str::contains("--account")),
        );
    cli()
        .args(["refresh", "--account", "bob"])
        .envs(device_env(&server, &store))
        .assert()
        .success()
        .stdout(predicate::str::contains("Refreshed the login of bob"));
    assert_eq!(server.stats().refreshes, 1);
}

#[test]
fn logout_deletes_the_stored_tokens_and_status_then_exits_2() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    cli()
        .arg("logout")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success()
        .stdout(predicate::str::contains("Deleted 1 stored token"));
    assert!(stored_tokens(&store).is_empty());
    cli()
        .arg("status")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not signed in"));
    cli()
        .arg("logout")
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing to delete"));
}

#[test]
fn logout_for_one_app_keeps_the_others() {
    let server = server();
    let (_dir, store) = signed_in(&server);
    cli()
        .args(["logout", "--client-id", CLIENT_ID])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing to delete"));
    assert_eq!(stored_tokens(&store).len(), 1);
}

#[test]
fn logout_for_one_account_keeps_the_other_persons_login() {
    let server = server();
    let (_dir, store) = store();
    sign_in(&server, &store, &["--account", "alice"]);
    sign_in(&server, &store, &["--account", "bob"]);
    cli()
        .args(["logout", "--account", "alice"])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Deleted 1 stored token")
                .and(predicate::str::contains("user alice")),
        );
    let left: Vec<String> = stored_tokens(&store).keys().cloned().collect();
    assert_eq!(left.len(), 1);
    let key = twilio_oauth::CacheKey::parse(&left[0]).unwrap();
    assert_eq!(key.subject(), Some("bob"));
}

#[cfg(unix)]
#[test]
fn a_token_file_in_a_folder_others_can_write_fails_the_login_instead_of_losing_it() {
    use std::os::unix::fs::PermissionsExt;
    let server = server();
    server.update_config(|c| {
        c.device_interval = Some(1);
        c.auto_approve_after_polls = Some(0);
    });
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("shared");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let store = open.join("tokens.json");
    cli()
        .arg("device-login")
        .envs(device_env(&server, &store))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Signed in").not())
        .stderr(predicate::str::contains("writable by other users"));
    assert!(!store.exists());
}
