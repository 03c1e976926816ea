//! Corporate networks: a private CA (`ca_pem`, `ca_file`), an explicit proxy, and the
//! environment's `HTTPS_PROXY`/`NO_PROXY`, against the mock server in TLS mode, which is also
//! a `CONNECT` proxy that counts its tunnels.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::*;
use twilio_oauth::{ClientOptions, OAuthClient};

/// Variables a developer's shell may hold; each child starts without them.
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn options(server: &MockServer) -> ClientOptions {
    ClientOptions {
        client_id: Some(CLIENT_ID.into()),
        client_secret: Some(CLIENT_SECRET.into()),
        base_url: Some(server.url()),
        max_retries: Some(0),
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn with_the_ca_as_pem_text_or_file_the_server_is_trusted() {
    let server = MockServer::start_tls().await.unwrap();
    assert!(server.url().starts_with("https://"));
    let pem = server.ca_pem().unwrap().to_owned();

    let by_text = OAuthClient::from_options(ClientOptions {
        ca_pem: Some(pem.clone()),
        ..options(&server)
    })
    .unwrap();
    let token = by_text.client_credentials(None, None, None).await.unwrap();
    assert!(server.token_is_valid(token.access_token().secret()));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corporate-ca.pem");
    // A bundle: the CA among other certificates is found too.
    std::fs::write(&file, format!("{pem}{pem}")).unwrap();
    let by_file = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .base_url(server.url())
        .ca_file(&file)
        .build()
        .unwrap();
    by_file.client_credentials(None, None, None).await.unwrap();
    assert_eq!(server.request_count("/v2/token"), 2);
    assert_eq!(server.tunnel_count(), 0, "no proxy was configured");
}

#[tokio::test]
async fn without_the_ca_the_error_names_certificate_verification() {
    let server = MockServer::start_tls().await.unwrap();
    let client = OAuthClient::from_options(options(&server)).unwrap();
    let err = client
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    println!("without the CA: {err}");
    assert_eq!(err.kind(), "TransportError", "{err}");
    let text = err.to_string();
    assert!(text.contains("certificate verification failed"), "{text}");
    assert!(text.contains("ca_file"), "{text}");
    assert_eq!(server.request_count("/v2/token"), 0);
}

#[tokio::test]
async fn an_unreadable_ca_file_or_bad_pem_is_a_config_error() {
    let server = MockServer::start_tls().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n").unwrap();
    for (opts, named) in [
        (
            ClientOptions {
                ca_file: Some(dir.path().join("missing.pem")),
                ..options(&server)
            },
            "ca_file",
        ),
        (
            ClientOptions {
                ca_file: Some(garbage.clone()),
                ..options(&server)
            },
            "ca_file",
        ),
        (
            ClientOptions {
                ca_pem: Some("hello".into()),
                ..options(&server)
            },
            "ca_pem",
        ),
    ] {
        let err = OAuthClient::from_options(opts).unwrap_err();
        assert_eq!(err.kind(), "ConfigError", "{err}");
        assert!(err.to_string().contains(named), "{err}");
    }
}

#[tokio::test]
async fn through_an_explicit_proxy_the_tunnel_count_goes_up() {
    let server = MockServer::start_tls().await.unwrap();
    let client = OAuthClient::from_options(ClientOptions {
        ca_pem: server.ca_pem().map(str::to_owned),
        // Credentials in the proxy URL are sent to the proxy, and never shown.
        proxy: Some(
            server
                .proxy_url()
                .replace("http://", "http://alice:pa55word@"),
        ),
        ..options(&server)
    })
    .unwrap();
    assert!(!format!("{client:?}").contains("pa55word"));
    assert_eq!(server.tunnel_count(), 0);
    for _ in 0..3 {
        client.client_credentials(None, None, None).await.unwrap();
    }
    // One tunnel carries the pooled connection's three requests.
    assert_eq!(server.tunnel_count(), 1);
    assert_eq!(server.request_count("/v2/token"), 3);
}

#[tokio::test]
async fn a_dead_proxy_is_a_transport_error_that_hides_its_password() {
    let server = MockServer::start_tls().await.unwrap();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let client = OAuthClient::from_options(ClientOptions {
        ca_pem: server.ca_pem().map(str::to_owned),
        proxy: Some(format!("http://alice:pa55word@127.0.0.1:{port}")),
        ..options(&server)
    })
    .unwrap();
    let err = client
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "TransportError", "{err}");
    assert!(!err.to_string().contains("pa55word"), "{err}");
}

/// What the child process of [`proxy_settings_from_the_environment`] does: one token request
/// with a client configured from the environment (`TWILIO_*`, proxy variables), plus an
/// explicit proxy when `CHILD_EXPLICIT_PROXY` is set.
async fn child() {
    let mut builder = OAuthClient::builder().from_env().max_retries(0);
    if let Ok(proxy) = std::env::var("CHILD_EXPLICIT_PROXY") {
        builder = builder.proxy(proxy);
    }
    let client = builder.build().unwrap();
    client.client_credentials(None, None, None).await.unwrap();
}

/// A case: its name, the child's extra environment, the tunnels it should open.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u64);

/// The environment is read when the client is built; setting it inside this multi-threaded
/// test process is not sound, so each case runs this same test in a child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_settings_from_the_environment() {
    if std::env::var_os("TWILIO_OAUTH_TEST_CHILD").is_some() {
        return child().await;
    }
    let server = MockServer::start_tls().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let proxy = server.proxy_url();
    let dead = "http://127.0.0.1:9";
    let cases: [Case; 7] = [
        ("HTTPS_PROXY", &[("HTTPS_PROXY", &proxy)], 1),
        ("https_proxy", &[("https_proxy", &proxy)], 1),
        ("ALL_PROXY", &[("ALL_PROXY", &proxy)], 1),
        (
            "NO_PROXY bypasses HTTPS_PROXY",
            &[("HTTPS_PROXY", &proxy), ("NO_PROXY", "127.0.0.1")],
            0,
        ),
        ("HTTP_PROXY is not for https://", &[("HTTP_PROXY", dead)], 0),
        (
            "the explicit proxy wins over HTTPS_PROXY",
            &[("HTTPS_PROXY", dead), ("CHILD_EXPLICIT_PROXY", &proxy)],
            1,
        ),
        (
            "NO_PROXY applies to the explicit proxy",
            &[
                ("CHILD_EXPLICIT_PROXY", dead),
                ("no_proxy", "localhost,127.0.0.1"),
            ],
            0,
        ),
    ];
    for (case, vars, tunnels) in cases {
        let before = server.tunnel_count();
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args([
            "--exact",
            "proxy_settings_from_the_environment",
            "--nocapture",
        ]);
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        command
            .env("TWILIO_OAUTH_TEST_CHILD", "1")
            .env("TWILIO_CLIENT_ID", CLIENT_ID)
            .env("TWILIO_CLIENT_SECRET", CLIENT_SECRET)
            .env("TWILIO_OAUTH_BASE_URL", server.url())
            .env("TWILIO_OAUTH_CA_FILE", &ca)
            .envs(vars.iter().copied());
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            out.status.success(),
            "{case}: the child failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(server.tunnel_count() - before, tunnels, "{case}");
    }
    assert_eq!(server.request_count("/v2/token"), cases.len() as u64);
}
