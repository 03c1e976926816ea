//! `--ca-file` / `TWILIO_OAUTH_CA_FILE`, `--proxy` and `HTTPS_PROXY`/`NO_PROXY` against the
//! local server in TLS mode (also a `CONNECT` proxy that counts its tunnels).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use predicates::prelude::*;

const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn tls_server() -> (MockServer, tempfile::TempDir, std::path::PathBuf) {
    let server = MockServer::start_tls_in_thread().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    (server, dir, ca)
}

fn token_app(server: &MockServer, store: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = cli();
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("TWILIO_OAUTH_CA_FILE")
        .envs(app_env(server, store))
        .args(["token", "--app"]);
    cmd
}

#[test]
fn ca_file_flag_and_variable_trust_the_private_ca() {
    let (server, _dir, ca) = tls_server();
    let (_store_dir, store) = store();
    let out = token_app(&server, &store)
        .arg("--ca-file")
        .arg(&ca)
        .assert()
        .success();
    let token = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(server.token_is_valid(token.trim_end()));
    let (_store_dir, store) = common::store();
    token_app(&server, &store)
        .env("TWILIO_OAUTH_CA_FILE", &ca)
        .assert()
        .success();
    assert_eq!(server.request_count("/v2/token"), 2);
}

#[test]
fn without_the_ca_the_failure_names_certificate_verification() {
    let (server, _dir, _ca) = tls_server();
    let (_store_dir, store) = store();
    token_app(&server, &store)
        .assert()
        .failure()
        .stderr(predicate::str::contains("certificate verification failed"));
}

#[test]
fn proxy_flag_and_https_proxy_go_through_the_proxy_and_no_proxy_bypasses_it() {
    let (server, _dir, ca) = tls_server();
    let ca = ca.display().to_string();
    let secret = server
        .proxy_url()
        .replace("http://", "http://alice:pa55word@");
    let (_store_dir, store) = store();
    let out = token_app(&server, &store)
        .args(["--ca-file", &ca, "--proxy", &secret])
        .assert()
        .success();
    assert!(!String::from_utf8_lossy(&out.get_output().stderr).contains("pa55word"));
    assert_eq!(server.tunnel_count(), 1);

    let (_store_dir, store) = common::store();
    token_app(&server, &store)
        .args(["--ca-file", &ca])
        .env("HTTPS_PROXY", server.proxy_url())
        .assert()
        .success();
    assert_eq!(server.tunnel_count(), 2);

    let (_store_dir, store) = common::store();
    token_app(&server, &store)
        .args(["--ca-file", &ca])
        .env("HTTPS_PROXY", server.proxy_url())
        .env("NO_PROXY", "127.0.0.1")
        .assert()
        .success();
    assert_eq!(server.tunnel_count(), 2, "NO_PROXY bypasses the proxy");
    assert_eq!(server.request_count("/v2/token"), 3);
}
