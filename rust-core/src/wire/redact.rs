//! Keeping secrets out of messages: excerpts of bodies with token-like text masked.

use serde_json::Value;

use crate::error::Error;

impl Error {
    /// A 2xx body we cannot use. Such a body may well carry a token or a device code, so both
    /// the message (serde errors quote values) and the excerpt go through [`redact`].
    pub(crate) fn invalid_response(status: u16, message: impl Into<String>, body: &[u8]) -> Self {
        Error::InvalidResponse {
            status,
            message: mask_token_like(&message.into()),
            excerpt: excerpt(body),
        }
    }
}

/// The first bytes of a body, made printable and with anything that may be a secret masked.
pub(crate) fn excerpt(body: &[u8]) -> String {
    sanitize(&redact(body), 120)
}

/// Keys whose string values describe an answer rather than grant anything; every other string
/// value of a JSON body is masked, since a server may put a token under any name.
const DESCRIPTIVE_KEYS: &[&str] = &[
    "error",
    "error_description",
    "message",
    "detail",
    "title",
    "type",
    "more_info",
    "token_type",
    "scope",
    "status",
];

/// A body as safe text: JSON with every non-descriptive string value replaced by its length,
/// anything else with its token-like runs masked (which also covers truncated JSON).
pub(crate) fn redact(body: &[u8]) -> String {
    fn mask(v: &mut Value, key: Option<&str>) {
        match v {
            Value::String(s) if !key.is_some_and(|k| DESCRIPTIVE_KEYS.contains(&k)) => {
                *s = format!("…({} chars)", s.chars().count());
            }
            Value::String(s) => *s = mask_token_like(s),
            Value::Array(items) => items.iter_mut().for_each(|i| mask(i, key)),
            Value::Object(map) => map.iter_mut().for_each(|(k, i)| mask(i, Some(k))),
            _ => {}
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            mask(&mut v, None);
            v.to_string()
        }
        Err(_) => mask_token_like(&String::from_utf8_lossy(&body[..body.len().min(4096)])),
    }
}

/// Masks every run of at least 16 token characters (base64url, JWT dots, `~+/=%`) that holds
/// a digit: access tokens, refresh tokens, device codes and JWTs all do, prose does not.
pub(crate) fn mask_token_like(text: &str) -> String {
    fn is_token_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || "-_.~+/=%".contains(c)
    }
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 16 && run.bytes().any(|b| b.is_ascii_digit()) {
            out.push_str(&format!("…({} chars)", run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

pub(crate) fn sanitize(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_never_carry_a_token() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJlMTIz";
        let bodies = [
            format!(r#"{{"access_token": "{jwt}", "token_type": 5}}"#),
            format!(r#"{{"access_token": "{jwt}"#),
            format!("access_token={jwt}&expires_in=3600"),
        ];
        for body in &bodies {
            // serde's messages quote values, so the message is masked too.
            let e = Error::invalid_response(200, format!("bad: {body}"), body.as_bytes());
            let text = e.to_string();
            assert!(!text.contains(jwt), "{text}");
            assert!(!text.contains("c2lnbmF0dXJlMTIz"), "{text}");
        }
        // In JSON every value under a key that may hold a secret goes, however short.
        let body = br#"{"nested": {"device_code": "dc-short"}, "list": ["abc"]}"#;
        let e = Error::invalid_response(200, "bad", body);
        assert!(!e.to_string().contains("dc-short"), "{e}");
        let e = Error::invalid_response(200, "x", br#"{"token_type": "Bearer", "error": "odd"}"#);
        assert!(e.to_string().contains("Bearer"), "{e}");
    }
}
