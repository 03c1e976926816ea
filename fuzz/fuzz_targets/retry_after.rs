//! `Retry-After` values (delay-seconds or an HTTP-date) and Twilio's `throttled_until`
//! (RFC 3339 or HTTP-date): a wait or `None`, never a panic.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use twilio_oauth::fuzzing;

fuzz_target!(|data: &[u8]| {
    let value = twilio_oauth_fuzz::text(data);
    let now = SystemTime::now();
    if let Some(wait) = fuzzing::parse_retry_after(&value, now) {
        assert!(wait < Duration::MAX);
        if let Ok(secs) = value.trim().parse::<u64>() {
            assert_eq!(wait, Duration::from_secs(secs));
        }
    }
    let _ = fuzzing::retry_after_from_date(&value);
});
