//! `twilio-oauth serve-mock`: the local server on a port, until Ctrl-C.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufReader, Read};
use std::process::Stdio;

use common::*;

#[test]
fn serve_mock_prints_its_url_and_credentials_serves_tokens_and_stops_on_ctrl_c() {
    let mut child = std_cli()
        .args(["serve-mock", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = read_until(&mut stdout, "Press Ctrl-C to stop.");
    let first = &lines[0];
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .trim()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let text = lines.concat();
    assert!(text.contains(&format!("export TWILIO_OAUTH_BASE_URL={url}")));
    assert!(text.contains(&format!("export TWILIO_CLIENT_ID={CLIENT_ID}")));
    assert!(text.contains(&format!("export TWILIO_CLIENT_SECRET={CLIENT_SECRET}")));

    // The printed credentials work against the printed URL.
    let (_dir, store) = store();
    cli()
        .args([
            "token",
            "--app",
            "--base-url",
            &url,
            "--client-id",
            CLIENT_ID,
        ])
        .args(["--client-secret", CLIENT_SECRET])
        .env("TWILIO_OAUTH_STORE", &store)
        .assert()
        .success();

    // Ctrl-C (SIGINT) stops it cleanly.
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("stopped"), "{rest}");
}

#[test]
fn a_port_in_use_is_reported_with_a_way_out() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    cli()
        .args(["serve-mock", "--port", &port])
        .assert()
        .code(4)
        .stderr(predicates::str::contains("--port"));
}
