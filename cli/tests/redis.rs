//! `--store redis://…`: the CLI on a store a fleet shares (a real redis-server, started per test
//! on a free port with its own folder).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Redis {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Redis {
            child,
            url: format!("redis://127.0.0.1:{port}/0"),
            _dir: dir,
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const KEY_B64: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

#[test]
fn an_app_token_is_shared_through_redis_between_invocations() {
    let server = server();
    let redis = Redis::start();
    let store = Path::new(&redis.url);
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
    assert!(text.contains(&redis.url), "{text}");
}

#[test]
fn a_person_signed_in_through_redis_gets_their_token_from_it() {
    let server = server();
    let redis = Redis::start();
    let store = Path::new(&redis.url);
    sign_in(&server, store, &["--account", "alice"]);
    let token = person_token(&server, store, &[]);
    assert!(token.starts_with("eyJ"), "{token}");
    assert_eq!(server.stats().refreshes, 0);
}
