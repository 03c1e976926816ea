//! JWT decoding (unverified: the token's own claims, for expiry and display).

use base64::Engine;
use serde_json::{Map, Value};

/// Decodes a JWT's payload without verifying it. `None` when the token is not a JWT.
pub fn decode_claims(token: &str) -> Option<Map<String, Value>> {
    decode_segment(token, 1)
}

/// Decodes a JWT's header without verifying it. `None` when the token is not a JWT.
pub fn decode_header(token: &str) -> Option<Map<String, Value>> {
    decode_segment(token, 0)
}

fn decode_segment(token: &str, index: usize) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let segment = if index == 0 { header } else { payload };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
