//! Error answers (Twilio's body, RFC 6749, RFC 9457, anything else) and `Retry-After`.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::error::ApiError;
use crate::wire::redact::{excerpt, mask_token_like, sanitize};

impl ApiError {
    /// Parses an error answer: Twilio's body, RFC 6749, RFC 9457 problem details, or anything
    /// else (kept as a short excerpt).
    pub fn from_body(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        Self::from_body_at(status, body, retry_after, SystemClock.system_time())
    }

    /// [`ApiError::from_body`] with the wall clock of the moment the answer arrived.
    pub(crate) fn from_body_at(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        now: SystemTime,
    ) -> Self {
        let mut err = ApiError {
            status,
            retry_after,
            ..ApiError::default()
        };
        let parsed: Option<serde_json::Map<String, Value>> = serde_json::from_slice(body).ok();
        let Some(map) = parsed else {
            err.message = if body.is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                format!("HTTP {status}: {}", excerpt(body))
            };
            return err;
        };
        let text = |k: &str| match map.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(sanitize(s, 500)),
            _ => None,
        };
        // A server may echo the grant it refused ("refresh token rt_… is invalid"): prose
        // fields are masked like any other token-like text.
        let prose = |k: &str| text(k).map(|s| mask_token_like(&s));
        err.code = map.get("code").and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        err.error = text("error");
        err.more_info = text("more_info").or_else(|| text("type"));
        err.message = prose("message")
            .or_else(|| prose("error_description"))
            .or_else(|| prose("detail"))
            .or_else(|| prose("title"))
            .or_else(|| err.error.clone())
            .unwrap_or_else(|| format!("HTTP {status}"));
        if err.retry_after.is_none() {
            err.retry_after = map
                .get("throttled_until")
                .and_then(|v| v.as_str())
                .and_then(|v| retry_after_from_date(v, now));
        }
        err
    }

    /// The RFC 6749 / RFC 8628 error string, also when a Twilio body carries it in `message`.
    pub fn oauth_error(&self) -> Option<&str> {
        const KNOWN: [&str; 6] = [
            "authorization_pending",
            "slow_down",
            "access_denied",
            "expired_token",
            "invalid_grant",
            "invalid_client",
        ];
        if let Some(e) = self.error.as_deref() {
            return Some(e);
        }
        let message = self.message.to_ascii_lowercase();
        KNOWN
            .into_iter()
            .find(|k| message.contains(k) || message.contains(&k.replace('_', " ")))
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    httpdate::parse_http_date(value)
        .ok()
        .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses Twilio's `throttled_until` (an RFC 3339 or HTTP date) into a wait from now.
pub(crate) fn retry_after_from_date(value: &str, now: SystemTime) -> Option<Duration> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
        .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
        .or_else(|| parse_retry_after(value, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_body_is_parsed() {
        let body = br#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#;
        let e = ApiError::from_body(401, body, None);
        assert_eq!(e.code, Some(20003));
        assert_eq!(e.message, "Authenticate");
        assert_eq!(
            e.more_info.as_deref(),
            Some("https://www.twilio.com/docs/errors/20003")
        );
    }

    #[test]
    fn rfc6749_body_is_parsed() {
        let body = br#"{"error": "invalid_grant", "error_description": "bad code"}"#;
        let e = ApiError::from_body(400, body, None);
        assert_eq!(e.error.as_deref(), Some("invalid_grant"));
        assert_eq!(e.message, "bad code");
    }

    #[test]
    fn rfc9457_body_is_parsed() {
        let body = br#"{"type": "https://example.com/probs/x", "title": "Bad", "status": 400, "code": 322403, "detail": "malformed"}"#;
        let e = ApiError::from_body(400, body, None);
        assert_eq!(e.code, Some(322403));
        assert_eq!(e.message, "malformed");
        assert_eq!(e.more_info.as_deref(), Some("https://example.com/probs/x"));
    }

    #[test]
    fn html_body_keeps_a_short_excerpt() {
        let body = format!("<html>{}</html>", "x".repeat(1000));
        let e = ApiError::from_body(502, body.as_bytes(), None);
        assert!(e.message.starts_with("HTTP 502: <html>"));
        assert!(e.message.len() < 200);
    }

    #[test]
    fn a_server_message_that_echoes_a_grant_is_masked() {
        let body = br#"{"error": "invalid_grant", "error_description": "refresh token rt_0123456789abcdefXYZ was already used"}"#;
        let e = ApiError::from_body(400, body, None);
        assert!(
            !e.message.contains("rt_0123456789abcdefXYZ"),
            "{}",
            e.message
        );
        assert!(e.message.contains("was already used"));
    }

    #[test]
    fn twilio_message_carries_the_oauth_error() {
        let e = ApiError::from_body(
            400,
            br#"{"code": 20001, "message": "authorization_pending", "status": 400}"#,
            None,
        );
        assert_eq!(e.oauth_error(), Some("authorization_pending"));
    }
}

#[cfg(test)]
mod retry_after_tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        let d = parse_retry_after(&later, now).unwrap();
        assert!(d <= Duration::from_secs(120) && d >= Duration::from_secs(119));
        assert_eq!(parse_retry_after("soon", now), None);
        let past = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
    }
}
