//! JWT decoding, two ways. The input as a whole token: `decode_claims`/`decode_header` return a
//! map or `None`. The input as the claims segment of a JWT access token: the expiry rules that
//! read `exp`/`iat` still give a positive lifetime no longer than `MAX_LIFETIME`.
#![no_main]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use twilio_oauth::{MAX_LIFETIME, Token, decode_claims, decode_header, fuzzing};

fuzz_target!(|data: &[u8]| {
    let text = twilio_oauth_fuzz::text(data);
    let claims = decode_claims(&text);
    let _ = decode_header(&text);
    if !text.trim().is_empty() {
        let token = Token::new(text.as_ref(), Duration::from_mins(1));
        assert_eq!(token.claims(), &claims.unwrap_or_default());
        let _ = token.scope();
    }

    let jwt = format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.c2ln",
        URL_SAFE_NO_PAD.encode(data)
    );
    let Some(claims) = decode_claims(&jwt) else {
        return;
    };
    // Both with and without a `expires_in` and a `Date`, as Twilio may send either.
    let body = format!(r#"{{"access_token":"{jwt}","token_type":"Bearer","expires_in":3600}}"#);
    let date = fuzzing::parse_date_header("Tue, 15 Nov 2022 08:12:31 GMT");
    for (body, date) in [
        (body.as_str(), None),
        (&format!(r#"{{"access_token":"{jwt}"}}"#), date),
    ] {
        let token = fuzzing::parse_token_response(200, body.as_bytes(), date);
        let token = match token {
            Ok(t) => t,
            Err(e) => panic!("a JWT with object claims was rejected: {e}"),
        };
        assert_eq!(token.claims(), &claims);
        let lifetime = token.lifetime();
        assert!(
            lifetime > Duration::ZERO && lifetime <= MAX_LIFETIME,
            "lifetime out of bounds: {lifetime:?}"
        );
    }
});
