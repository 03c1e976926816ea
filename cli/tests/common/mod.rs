//! Helpers shared by the command-line tests: the binary, a clean environment, the local
//! server, and reading what a running command prints.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};

use serde_json::Value;
pub use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockServer, PUBLIC_CLIENT_ID,
};

/// The `twilio-oauth` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_twilio-oauth");

/// Variables the command reads; tests set the ones they mean and never inherit the others.
pub const OUR_VARS: [&str; 8] = [
    "TWILIO_CLIENT_ID",
    "TWILIO_CLIENT_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_OAUTH_BASE_URL",
    "TWILIO_OAUTH_STORE",
    "RUST_LOG",
    "CLICOLOR_FORCE",
];

/// The token file of a command that was given none: a path that can never be created, so that
/// no test reads or writes the real `~/.config/twilio-oauth/tokens.json`.
pub const NO_STORE: &str = "/proc/twilio-oauth-cli-tests/tokens.json";

/// A command with none of our variables set and colors off.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    for var in OUR_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1").env("TWILIO_OAUTH_STORE", NO_STORE);
    cmd
}

/// The same, as a `std::process::Command` for commands that keep running.
pub fn std_cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    for var in OUR_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1").env("TWILIO_OAUTH_STORE", NO_STORE);
    cmd
}

/// A local Twilio OAuth server on its own thread, reachable from the command's process.
pub fn server() -> MockServer {
    MockServer::start_in_thread().expect("the local server starts")
}

/// A private (0700) temporary folder and the token file inside it (not created yet): the
/// token file refuses folders that other users can write.
pub fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config").join("tokens.json");
    (dir, path)
}

/// Environment for the confidential app against `server`, with its token file `store`.
pub fn app_env(server: &MockServer, store: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("TWILIO_OAUTH_BASE_URL", server.url()),
        ("TWILIO_CLIENT_ID", CLIENT_ID.to_owned()),
        ("TWILIO_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("TWILIO_OAUTH_STORE", store.display().to_string()),
    ]
}

/// Environment for a device login with the public app against `server`, storing in `store`.
pub fn device_env(server: &MockServer, store: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("TWILIO_OAUTH_BASE_URL", server.url()),
        ("TWILIO_CLIENT_ID", PUBLIC_CLIENT_ID.to_owned()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("TWILIO_OAUTH_STORE", store.display().to_string()),
    ]
}

/// Reads `child`'s stdout line by line until a line contains `needle`; returns the lines read.
pub fn read_until(stdout: &mut BufReader<ChildStdout>, needle: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "the command ended before printing {needle:?}; it printed {lines:#?}"
        );
        let found = line.contains(needle);
        lines.push(line);
        if found {
            return lines;
        }
    }
}

/// Starts a device login with plain (non-terminal) output and returns the child, its stdout
/// reader, and the user code it showed.
pub fn start_device_login(
    server: &MockServer,
    store: &Path,
    extra_args: &[&str],
) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = std_cli()
        .arg("device-login")
        .args(extra_args)
        .envs(device_env(server, store))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = read_until(&mut stdout, "enter the code");
    let line = lines.last().unwrap();
    let code = line.split_whitespace().last().unwrap().to_owned();
    (child, stdout, code)
}

/// The tokens in a token file, by key.
pub fn stored_tokens(path: &Path) -> serde_json::Map<String, Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["tokens"].as_object().unwrap().clone()
}

/// Every secret string of the stored tokens (access, refresh and id tokens).
pub fn stored_secrets(path: &Path) -> Vec<String> {
    stored_tokens(path)
        .values()
        .flat_map(|t| {
            ["access_token", "refresh_token", "id_token"]
                .into_iter()
                .filter_map(|k| t[k].as_str().map(str::to_owned))
        })
        .collect()
}

/// Asserts that none of `secrets` appears in `text`.
pub fn assert_no_secrets(text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret ({}…) appears in the output:\n{text}",
            &secret[..secret.len().min(6)]
        );
    }
}

/// The fixed secrets of the local server's apps.
pub fn app_secrets() -> Vec<String> {
    vec![CLIENT_SECRET.to_owned(), AUTH_TOKEN.to_owned()]
}

/// Signs a person in with `device-login` (the server approves on the first poll), with
/// `extra_args` such as `--account alice`.
pub fn sign_in(server: &MockServer, store: &Path, extra_args: &[&str]) {
    server.update_config(|c| {
        c.device_interval = Some(1);
        c.auto_approve_after_polls = Some(0);
    });
    cli()
        .arg("device-login")
        .args(extra_args)
        .envs(device_env(server, store))
        .assert()
        .success();
}

/// Runs `twilio-oauth token ARGS` with the public app's environment and returns what it
/// printed, asserting that it succeeded.
pub fn person_token(server: &MockServer, store: &Path, args: &[&str]) -> String {
    let out = cli()
        .arg("token")
        .args(args)
        .envs(device_env(server, store))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "token failed: {stderr}");
    assert!(stderr.is_empty(), "unexpected stderr: {stderr}");
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// Makes every stored token look expired (as if its expiry had passed while nobody ran
/// anything), keeping refresh tokens: the file is rewritten in place, mode unchanged.
pub fn expire_stored_tokens(path: &Path) {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for token in doc["tokens"].as_object_mut().unwrap().values_mut() {
        token["expires_at"] = (now - 60.0).into();
    }
    std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}
