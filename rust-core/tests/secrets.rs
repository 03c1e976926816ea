//! Secrets never appear in Debug, Display, error messages or logs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use twilio_oauth::{OAuthClient, ProviderOptions};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_appears_in_any_repr_error_or_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await.unwrap();
    let (c, _clock) = manual_client(&server);
    let mut shown = Vec::new();
    let mut secrets = vec![CLIENT_SECRET.to_owned(), AUTH_TOKEN.to_owned()];

    shown.push(format!("{c:?}"));
    let token = c.client_credentials(None, None, None).await.unwrap();
    secrets.push(token.access_token().secret().to_owned());
    shown.push(format!("{token:?} {token}"));

    let device = c
        .create_device_code(&["offline_access"], &[])
        .await
        .unwrap();
    secrets.push(device.device_code().secret().to_owned());
    shown.push(format!("{device:?}"));
    server.push_fault("/v1/token", rfc_error("authorization_pending"));
    server.approve(device.user_code());
    let login = c.poll_device_token(&device).await.unwrap();
    secrets.push(login.access_token().secret().to_owned());
    secrets.push(login.refresh_token().unwrap().secret().to_owned());
    secrets.push(login.id_token().unwrap().secret().to_owned());
    shown.push(format!("{login:?} {login}"));

    let request = c
        .authorization_url("https://app.example/cb", None, None)
        .unwrap();
    secrets.push(request.code_verifier.secret().to_owned());
    shown.push(format!("{:?}", request.code_verifier));

    let p = c.token_provider(ProviderOptions {
        initial_token: Some(login.clone()),
        ..ProviderOptions::default()
    });
    shown.push(format!("{p:?}"));
    let renewed = c
        .refresh(login.refresh_token().unwrap().secret())
        .await
        .unwrap();
    secrets.push(renewed.access_token().secret().to_owned());
    shown.push(format!("{renewed:?}"));

    // Errors: wrong secret, failed refresh, faults with retries (which log).
    let wrong = OAuthClient::builder()
        .client_id(CLIENT_ID)
        .client_secret("WRONG-secret-value-123")
        .base_url(server.url())
        .build()
        .unwrap();
    secrets.push("WRONG-secret-value-123".into());
    let err = wrong
        .client_credentials(None, None, None)
        .await
        .unwrap_err();
    shown.push(format!("{err:?} {err}"));
    let err = c.refresh("REFRESH-not-valid-456").await.unwrap_err();
    secrets.push("REFRESH-not-valid-456".into());
    shown.push(format!("{err:?} {err}"));
    server.push_fault("/v2/token", Fault::status(503).with_repeat(3));
    let err = c.client_credentials(None, None, None).await.unwrap_err();
    shown.push(format!("{err:?} {err}"));

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!log_text.is_empty(), "the retries should have logged");
    shown.push(log_text);
    for text in &shown {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into: {text}"
            );
        }
    }
}
