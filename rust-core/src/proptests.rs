//! Property tests of every parser that reads what a server (or a file) sends: whatever the
//! input, they return a value or a typed error, never panic, and keep their bounds.

use std::time::{Duration, Instant, SystemTime};

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::token::{MAX_LIFETIME, Token};
use crate::transport::Response;
use crate::wire::error::parse_retry_after;
use crate::wire::jwt::decode_claims;
use crate::wire::token::{Received, parse_token_response};

fn received(body: &[u8]) -> Received<'_> {
    Received {
        status: 200,
        body,
        date: None,
        at: Instant::now(),
        wall: SystemTime::now(),
    }
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn token_body() -> impl Strategy<Value = Value> {
    (json_value(), json_value(), json_value(), json_value()).prop_map(|(a, e, t, x)| {
        json!({"access_token": a, "expires_in": e, "token_type": t, "access_token_expires_at": x})
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn token_parsing_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_token_response(&received(&body));
    }

    #[test]
    fn every_parsed_token_has_a_bounded_positive_lifetime(body in token_body()) {
        let bytes = body.to_string().into_bytes();
        if let Ok(token) = parse_token_response(&received(&bytes)) {
            prop_assert!(token.lifetime() > Duration::ZERO);
            prop_assert!(token.lifetime() <= MAX_LIFETIME);
        }
    }

    #[test]
    fn jwt_claims_decoding_never_panics(token in "[A-Za-z0-9_=.-]{0,200}") {
        let _ = decode_claims(&token);
    }

    #[test]
    fn a_jwt_with_any_claims_gets_a_bounded_lifetime(claims in json_value(), expires_in in json_value()) {
        use base64::Engine;
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwt = format!("{}.{}.sig", enc.encode(b"{}"), enc.encode(claims.to_string()));
        let body = json!({"access_token": jwt, "expires_in": expires_in}).to_string();
        let token = parse_token_response(&received(body.as_bytes()));
        prop_assert!(token.is_ok());
        if let Ok(token) = token {
            prop_assert!(token.lifetime() > Duration::ZERO && token.lifetime() <= MAX_LIFETIME);
        }
    }

    #[test]
    fn error_bodies_never_panic_and_stay_short(
        status in 100u16..600,
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2048),
            json_value().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        let e = ApiError::from_body(status, &body, None);
        prop_assert_eq!(e.status, status);
        prop_assert!(e.message.chars().count() <= 520);
        let _ = e.oauth_error();
    }

    #[test]
    fn retry_after_parsing_never_panics(value in ".{0,64}") {
        if let Some(d) = parse_retry_after(&value, SystemTime::now()) {
            prop_assert!(d < Duration::MAX);
        }
    }

    #[test]
    fn stored_token_loading_never_panics(text in prop_oneof![
        ".{0,200}",
        json_value().prop_map(|v| v.to_string()),
        (json_value(), json_value()).prop_map(|(a, e)| json!({"schema_version": 1, "access_token": a, "token_type": "Bearer", "expires_at": e}).to_string()),
    ]) {
        let _ = Token::from_json(&text);
    }

    #[test]
    fn device_authorization_parsing_never_panics(body in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (json_value(), json_value(), json_value()).prop_map(|(d, e, i)| json!({
            "device_code": d, "user_code": "ABCD-EFGH", "verification_uri": "https://x/device",
            "expires_in": e, "interval": i,
        }).to_string().into_bytes()),
    ]) {
        let r = Response { status: 201, body, date: None, at: Instant::now(), wall: SystemTime::now() };
        if let Ok(d) = crate::device::DeviceAuthorization::parse(&r) {
            prop_assert!(d.interval() >= Duration::from_secs(1));
            prop_assert!(d.lifetime() >= Duration::from_secs(1));
        }
    }
}
