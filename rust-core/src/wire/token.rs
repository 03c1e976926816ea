//! Token endpoint answers: the success body, and the expiry rule of PROTOCOL.md.

use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::token::{DEFAULT_LIFETIME, MAX_LIFETIME, Token, TokenParts};
use crate::wire::epoch_secs;
use crate::wire::jwt::decode_claims;

#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<Value>,
    access_token_expires_at: Option<String>,
    scope: Option<String>,
}

/// What the transport knows about a successful response.
pub(crate) struct Received<'a> {
    pub status: u16,
    pub body: &'a [u8],
    /// The response's `Date` header: the server's clock.
    pub date: Option<SystemTime>,
    /// Monotonic moment the response arrived.
    pub at: Instant,
    /// Wall clock at that moment.
    pub wall: SystemTime,
}

/// Parses a token endpoint's success body.
pub(crate) fn parse_token_response(r: &Received<'_>) -> Result<Token> {
    let raw: RawToken = serde_json::from_slice(r.body).map_err(|e| {
        Error::invalid_response(r.status, format!("token response is not JSON: {e}"), r.body)
    })?;
    let access_token = match raw.access_token {
        Some(t) if !t.trim().is_empty() => t,
        _ => {
            return Err(Error::invalid_response(
                r.status,
                "token response has no access_token",
                r.body,
            ));
        }
    };
    let claims = decode_claims(&access_token).unwrap_or_default();
    let lifetime = lifetime(
        &claims,
        raw.expires_in.as_ref(),
        raw.access_token_expires_at.as_deref(),
        r.date,
        r.wall,
    );
    Ok(Token::assemble(
        TokenParts {
            access_token,
            token_type: raw.token_type,
            refresh_token: raw.refresh_token.filter(|t| !t.is_empty()),
            id_token: raw.id_token.filter(|t| !t.is_empty()),
            scope: raw.scope,
        },
        lifetime,
        r.at,
        r.wall,
    ))
}

/// The expiry rule: the JWT `exp` when there is one, else a plausible `expires_in`, else an
/// absolute expiry the server sent, else [`DEFAULT_LIFETIME`].
fn lifetime(
    claims: &Map<String, Value>,
    expires_in: Option<&Value>,
    legacy_expires_at: Option<&str>,
    date: Option<SystemTime>,
    wall: SystemTime,
) -> Duration {
    let server_now = date.unwrap_or(wall);
    let expires_in = expires_in.and_then(number);
    let plausible = expires_in
        .filter(|s| (1.0..=MAX_LIFETIME.as_secs_f64()).contains(s))
        .map(Duration::from_secs_f64);
    let until = |t: SystemTime| {
        t.duration_since(server_now)
            .ok()
            .filter(|d| !d.is_zero() && *d <= MAX_LIFETIME)
    };
    if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
        let iat = claims.get("iat").and_then(Value::as_f64);
        let from_claims = match iat {
            // The server's own clock on both ends: immune to a wrong clock here or there.
            Some(iat) if exp > iat => {
                // Saturating: `exp - iat` may be past `Duration::MAX` (or infinite); it is
                // capped at MAX_LIFETIME below. Found by fuzzing, as `from_secs_f64` panicked.
                let issued_for = Duration::try_from_secs_f64(exp - iat).unwrap_or(Duration::MAX);
                // A token issued earlier and handed out again has less left than it was
                // issued for: the response's Date (the same server clock) tells how much.
                let left = date.and_then(|_| epoch_secs(exp)).and_then(until);
                // Less than a nanosecond rounds to zero: no believable lifetime, fall through.
                Some(left.map_or(issued_for, |l| l.min(issued_for))).filter(|l| !l.is_zero())
            }
            _ => epoch_secs(exp).and_then(until),
        };
        if let Some(l) = from_claims {
            // JWT times are whole seconds: give one back so we never overshoot the real expiry.
            let l = if l >= Duration::from_secs(2) {
                l - Duration::from_secs(1)
            } else {
                l
            };
            let l = plausible.map_or(l, |p| p.min(l));
            return l.min(MAX_LIFETIME);
        }
    }
    if let Some(p) = plausible {
        return p;
    }
    // A huge `expires_in` is an absolute time (the spec's own example sends epoch milliseconds).
    if let Some(n) = expires_in {
        let absolute = if n > 1e12 { n / 1000.0 } else { n };
        if let Some(l) = epoch_secs(absolute).and_then(until) {
            return l;
        }
    }
    if let Some(l) = legacy_expires_at
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(SystemTime::from)
        .and_then(until)
    {
        return l;
    }
    DEFAULT_LIFETIME
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}
#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::time::UNIX_EPOCH;

    fn jwt(claims: Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn received(body: &Value, date: Option<SystemTime>) -> Token {
        let bytes = body.to_string().into_bytes();
        parse_token_response(&Received {
            status: 200,
            body: &bytes,
            date,
            at: Instant::now(),
            wall: SystemTime::now(),
        })
        .unwrap()
    }

    fn now_secs() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .floor()
    }

    #[test]
    fn jwt_exp_minus_iat_wins_over_expires_in() {
        let now = now_secs();
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"iat": now, "exp": now + 600.0})), "expires_in": 3600}),
            None,
        );
        assert_eq!(t.lifetime(), Duration::from_secs(599));
    }

    #[test]
    fn a_wrong_server_clock_does_not_shorten_the_lifetime() {
        // Server clock a day behind: exp is "in the past" for us, but exp - iat is still 1 h.
        let skewed = now_secs() - 86_400.0;
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"iat": skewed, "exp": skewed + 3600.0}))}),
            None,
        );
        assert_eq!(t.lifetime(), Duration::from_secs(3599));
    }

    #[test]
    fn jwt_exp_without_iat_is_measured_against_the_server_date() {
        let date = SystemTime::now() - Duration::from_secs(7200);
        let exp = date
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            .floor()
            + 120.0;
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"exp": exp}))}),
            Some(UNIX_EPOCH + Duration::from_secs_f64(exp - 120.0)),
        );
        assert_eq!(t.lifetime(), Duration::from_secs(119));
    }

    #[test]
    fn a_token_handed_out_again_counts_only_what_it_has_left() {
        let now = now_secs();
        let t = received(
            &serde_json::json!({"access_token": jwt(serde_json::json!({"iat": now - 3000.0, "exp": now + 600.0}))}),
            Some(UNIX_EPOCH + Duration::from_secs_f64(now)),
        );
        assert_eq!(t.lifetime(), Duration::from_secs(599));
    }

    #[test]
    fn plausible_expires_in_is_used_for_opaque_tokens() {
        let t = received(
            &serde_json::json!({"access_token": "opaque", "expires_in": "1800"}),
            None,
        );
        assert_eq!(t.lifetime(), Duration::from_secs(1800));
    }

    #[test]
    fn the_specs_epoch_millisecond_example_falls_back_to_the_default() {
        let t = received(
            &serde_json::json!({"access_token": "opaque", "expires_in": 1_438_315_200_000_i64}),
            None,
        );
        assert_eq!(t.lifetime(), DEFAULT_LIFETIME);
    }

    #[test]
    fn a_future_epoch_in_expires_in_is_read_as_an_absolute_time() {
        let t = received(
            &serde_json::json!({"access_token": "opaque", "expires_in": (now_secs() + 900.0) * 1000.0}),
            None,
        );
        assert!(t.lifetime() <= Duration::from_secs(900));
        assert!(t.lifetime() >= Duration::from_secs(895));
    }

    #[test]
    fn legacy_expires_at_is_accepted() {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(600);
        let s = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let t = received(
            &serde_json::json!({"access_token": "opaque", "access_token_expires_at": s}),
            None,
        );
        assert!(t.lifetime() > Duration::from_secs(590));
        assert!(t.lifetime() <= Duration::from_secs(600));
    }

    #[test]
    fn zero_or_negative_expires_in_never_means_forever_or_never() {
        for v in [serde_json::json!(0), serde_json::json!(-5), Value::Null] {
            let t = received(
                &serde_json::json!({"access_token": "opaque", "expires_in": v}),
                None,
            );
            assert_eq!(t.lifetime(), DEFAULT_LIFETIME);
        }
    }

    #[test]
    fn lowercase_bearer_is_normalised() {
        let t = received(
            &serde_json::json!({"access_token": "abc", "token_type": "bearer", "expires_in": 60}),
            None,
        );
        assert_eq!(t.authorization_header(), "Bearer abc");
    }

    #[test]
    fn missing_access_token_is_an_invalid_response() {
        let body = br#"{"token_type": "Bearer"}"#;
        let err = parse_token_response(&Received {
            status: 200,
            body,
            date: None,
            at: Instant::now(),
            wall: SystemTime::now(),
        })
        .unwrap_err();
        assert_eq!(err.kind(), "InvalidResponseError");
    }

    #[test]
    fn claims_are_decoded_and_reprs_hide_the_token() {
        let token = jwt(serde_json::json!({"sub": "OQx", "exp": 1}));
        let t =
            Token::new(token.clone(), Duration::from_secs(60)).with_refresh_token("refresh-secret");
        assert_eq!(t.claims()["sub"], "OQx");
        let shown = format!("{t} {t:?}");
        assert!(!shown.contains(&token));
        assert!(!shown.contains("refresh-secret"));
    }

    /// Regression (fuzz/corpus/jwt_claims/regression-exp-minus-iat-*): `exp - iat` past
    /// `Duration::MAX`, infinite, or under a nanosecond once panicked or gave a zero lifetime.
    #[test]
    fn absurd_exp_minus_iat_neither_panics_nor_gives_a_zero_lifetime() {
        for (claims, expires_in) in [
            (
                r#"{"iat":11111111111111111111111111, "exp": 1731658111111111444444444444444444444444444444444444444444444444444444444444444444444444444444444411}"#,
                None,
            ),
            (r#"{"iat":-1e308,"exp":1e308}"#, Some(3600)),
            (r#"{"iat":0,"exp":1e-10}"#, None),
        ] {
            let token = format!(
                "{}.{}.sig",
                URL_SAFE_NO_PAD.encode(b"{}"),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let t = received(
                &serde_json::json!({"access_token": token, "expires_in": expires_in}),
                None,
            );
            assert!(t.lifetime() > Duration::ZERO, "{claims}");
            assert!(t.lifetime() <= MAX_LIFETIME, "{claims}");
        }
    }
}
