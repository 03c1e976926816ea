//! Error answers: status line + `Retry-After` header + body, through `ApiError::from_body`
//! (Twilio, RFC 6749, RFC 9457 or anything else). It never panics, keeps the status and keeps
//! the message short.
#![no_main]

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use twilio_oauth::{ApiError, fuzzing};
use twilio_oauth_fuzz::Exchange;

fuzz_target!(|data: &[u8]| {
    let input = Exchange::parse(data, 400);
    let retry_after = input
        .header
        .and_then(|v| fuzzing::parse_retry_after(v, SystemTime::now()));
    let e = ApiError::from_body(input.status, input.body, retry_after);
    assert_eq!(e.status, input.status);
    assert!(
        e.message.chars().count() <= 520,
        "message of {} chars",
        e.message.chars().count()
    );
    let _ = (e.oauth_error(), e.to_string());
});
