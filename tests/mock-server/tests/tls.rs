//! TLS mode and the CONNECT proxy: HTTPS with the CA made at start, plain HTTP on the same
//! port, tunnels counted, and no tunnel to anything but loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use twilio_oauth_mock::MockServer;

fn trusting(server: &MockServer) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(server.ca_pem().unwrap().as_bytes()).unwrap();
    reqwest::Client::builder().no_proxy().tls_certs_merge([ca])
}

async fn stats(server: &MockServer) -> Value {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/admin/stats", server.proxy_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn https_with_the_ca_and_plain_http_share_the_port() {
    let server = MockServer::start_tls().await.unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let health = trusting(&server)
        .build()
        .unwrap()
        .get(format!("{}/admin/health", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let untrusted = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/admin/health", server.url()))
        .send()
        .await;
    assert!(
        untrusted.is_err(),
        "a client without the CA must not connect"
    );
    assert_eq!(stats(&server).await["tunnels"], 0);
}

#[tokio::test]
async fn connect_opens_a_counted_tunnel() {
    let server = MockServer::start_tls().await.unwrap();
    let proxied = trusting(&server)
        .proxy(reqwest::Proxy::all(server.proxy_url()).unwrap())
        .build()
        .unwrap();
    for _ in 0..2 {
        let r = proxied
            .get(format!("{}/admin/health", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        server.tunnel_count(),
        1,
        "one pooled connection, one tunnel"
    );
    assert_eq!(stats(&server).await["tunnels"], 1);
}

#[tokio::test]
async fn connect_to_anything_but_loopback_is_refused() {
    let server = MockServer::start().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 64];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(server.tunnel_count(), 0);
}
