//! `twilio-oauth demo`: every flow against the in-process local server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn the_demo_runs_every_step_and_one_request_serves_a_hundred_callers() {
    let out = cli().arg("demo").assert().success().stdout(
        predicate::str::contains("100 callers, 1 token request")
            .and(predicate::str::contains("[1/5] Client credentials"))
            .and(predicate::str::contains("refreshed in the background"))
            .and(predicate::str::contains("approved"))
            .and(predicate::str::contains("PKCE"))
            .and(predicate::str::contains("200 OK"))
            .and(predicate::str::contains("401 Unauthorized"))
            .and(predicate::str::contains("All 5 steps passed")),
    );
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains('\x1b'), "plain text when not a terminal");
    assert_no_secrets(&text, &app_secrets());
    // Tokens appear only shortened: a JWT's dots never show up in full.
    assert!(
        text.split_whitespace()
            .all(|w| !(w.starts_with("eyJ") && w.matches('.').count() >= 2)),
        "{text}"
    );
    assert!(out.get_output().stderr.is_empty());
}
