//! The `twilio-oauth-mock` binary, as the other languages' tests start it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_binary_prints_its_url_serves_and_exits_when_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twilio-oauth-mock"))
        .args([
            "--port",
            "0",
            "--exit-on-stdin-eof",
            "--config",
            r#"{"token_lifetime_secs": 5}"#,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config: serde_json::Value = runtime.block_on(async {
        reqwest::get(format!("{url}/admin/config"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(config["token_lifetime_secs"], 5);

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the binary did not exit after stdin closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut rest = String::new();
    stdout.read_line(&mut rest).unwrap();
    assert_eq!(rest, "", "stdout must hold exactly one line");
}

#[test]
fn the_binary_rejects_unknown_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_twilio-oauth-mock"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}
