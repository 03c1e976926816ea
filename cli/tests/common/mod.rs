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

/// A command with none of our variables set and colors off.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    for var in OUR_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The same, as a `std::process::Command` for commands that keep running.
pub fn std_cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    for var in OUR_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A local Twilio OAuth server on its own thread, reachable from the command's process.
pub fn server() -> MockServer {
    MockServer::start_in_thread().expect("the local server starts")
}

/// A temporary folder and the token file inside it (not created yet).
pub fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config").join("tokens.json");
    (dir, path)
}

/// Adds the confidential app's credentials for `server`.
pub fn confidential(cmd: &mut assert_cmd::Command, server: &MockServer) {
    cmd.env("TWILIO_OAUTH_BASE_URL", server.url())
        .env("TWILIO_CLIENT_ID", CLIENT_ID)
        .env("TWILIO_CLIENT_SECRET", CLIENT_SECRET);
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
