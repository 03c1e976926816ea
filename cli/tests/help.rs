//! `--help` for every command, the exit-code table, and shell completions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use predicates::prelude::*;

const COMMANDS: [&str; 8] = [
    "demo",
    "serve-mock",
    "token",
    "device-login",
    "refresh",
    "decode",
    "status",
    "logout",
];

#[test]
fn every_command_has_help_with_the_exit_codes() {
    for command in COMMANDS {
        cli().args([command, "--help"]).assert().success().stdout(
            predicate::str::contains("Usage: twilio-oauth")
                .and(predicate::str::contains("Exit codes:"))
                .and(predicate::str::contains(
                    "7    the stored login can no longer be refreshed",
                ))
                .and(predicate::str::contains("130  cancelled")),
        );
    }
    cli().args(["completions", "--help"]).assert().success();
}

#[test]
fn the_top_level_help_lists_every_command() {
    let out = cli().arg("--help").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for command in COMMANDS {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
    assert!(text.contains("twilio-oauth demo"));
}

#[test]
fn help_never_shows_secret_values_from_the_environment() {
    let out = cli()
        .env("TWILIO_CLIENT_SECRET", "env-secret-value-77")
        .env("TWILIO_AUTH_TOKEN", "env-auth-token-77")
        .args(["device-login", "--help"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("TWILIO_CLIENT_SECRET"));
    assert!(!text.contains("env-secret-value-77") && !text.contains("env-auth-token-77"));
}

#[test]
fn a_bad_flag_is_a_usage_error_with_exit_2() {
    cli()
        .args(["token", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        cli()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("device-login"));
    }
}

#[test]
fn token_help_explains_whose_token_it_prints() {
    cli().args(["token", "--help"]).assert().success().stdout(
        predicate::str::contains("--app")
            .and(predicate::str::contains("--account <LABEL>"))
            .and(predicate::str::contains(
                "never falls back to the app's token",
            )),
    );
    for command in ["device-login", "logout", "refresh"] {
        cli()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("--account <LABEL>"));
    }
}
