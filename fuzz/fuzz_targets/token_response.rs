//! Token endpoint answers: status line + `Date` header + body, through the same parser the
//! client runs on every 2xx answer. Whatever the body, the result is a token with a bounded,
//! positive lifetime that survives a store round trip, or a typed error.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use twilio_oauth::{MAX_LIFETIME, Token, fuzzing};
use twilio_oauth_fuzz::Exchange;

fuzz_target!(|data: &[u8]| {
    let input = Exchange::parse(data, 200);
    let date = input.header.and_then(fuzzing::parse_date_header);
    match fuzzing::parse_token_response(input.status, input.body, date) {
        Ok(token) => {
            let lifetime = token.lifetime();
            assert!(
                lifetime > Duration::ZERO && lifetime <= MAX_LIFETIME,
                "lifetime out of bounds: {lifetime:?}"
            );
            assert!(!token.access_token().secret().trim().is_empty());
            let _ = (token.to_string(), format!("{token:?}"), token.scope());
            let _ = (token.authorization_header(), token.claims().len());
            let back = Token::from_json(&token.to_json());
            assert!(back.is_ok(), "a parsed token does not reload: {back:?}");
        }
        Err(e) => {
            assert_eq!(e.status(), Some(input.status));
            let _ = (e.to_string(), e.kind());
        }
    }
});
