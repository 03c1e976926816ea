//! Small helpers: randomness, error bodies, form and header parsing, dates.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Letters for user codes: no vowels (no words) and no look-alikes.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// `n` random ASCII letters and digits.
pub(crate) fn random_alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// `bytes` random bytes, base64url without padding.
pub(crate) fn random_b64url(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// 32 random bytes.
pub(crate) fn random_key() -> [u8; 32] {
    rand::rng().random()
}

/// A user code like `BCDF-GHJK`.
pub(crate) fn random_user_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let index = rng.random_range(0..USER_CODE_ALPHABET.len());
        code.push(char::from(USER_CODE_ALPHABET[index]));
    }
    code
}

/// What a person may type for a user code, reduced to the letters (`bcdf ghjk` = `BCDF-GHJK`).
pub(crate) fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The PKCE S256 challenge of a verifier: BASE64URL-no-pad(SHA256(verifier)).
pub(crate) fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Seconds since the Unix epoch by the server's wall clock.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `secs` since the epoch as an RFC 3339 UTC date-time (`2015-07-31T04:00:00Z`).
pub(crate) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Twilio's error body.
pub(crate) fn twilio_body(status: u16, code: u32, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// A response with Twilio's error body.
pub(crate) fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(twilio_body(status.as_u16(), code, message))).into_response()
}

/// Twilio's 401 for missing or wrong credentials, with the challenge header it sends.
pub(crate) fn auth_error(message: &str) -> Response {
    let mut response = twilio_error(StatusCode::UNAUTHORIZED, 20003, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"Twilio API\""),
    );
    response
}

/// An RFC 6749 error response.
pub(crate) fn rfc6749_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// A parsed `application/x-www-form-urlencoded` body; repeated keys keep every value.
#[derive(Debug, Default, Clone)]
pub(crate) struct Form(pub(crate) BTreeMap<String, Vec<String>>);

impl Form {
    /// Parses `body` whatever the content type.
    pub(crate) fn parse(body: &[u8]) -> Form {
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            fields
                .entry(key.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Form(fields)
    }

    /// Parses `body` when the request says it is a form; anything else is an empty form, as
    /// a server that reads forms only would see it.
    pub(crate) fn from_request(headers: &HeaderMap, body: &[u8]) -> Form {
        if is_form(headers) {
            Form::parse(body)
        } else {
            Form::default()
        }
    }

    /// The first non-empty value of `key` (an empty value counts as missing).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)?
            .iter()
            .map(String::as_str)
            .find(|value| !value.is_empty())
    }

    /// Every non-empty value of `key`.
    pub(crate) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .get(key)
            .map(|values| values.iter().filter(|v| !v.is_empty()).cloned().collect())
            .unwrap_or_default()
    }
}

/// Whether the request's content type is `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    header_str(headers, header::CONTENT_TYPE.as_str()).is_some_and(|value| {
        value.split(';').next().is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    })
}

/// A header as text, if present and visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// Splits `Authorization` into its scheme and credentials.
fn authorization(headers: &HeaderMap) -> Option<(&str, &str)> {
    let value = header_str(headers, header::AUTHORIZATION.as_str())?.trim();
    Some(value.split_once(' ').unwrap_or((value, "")))
}

/// HTTP Basic credentials (username, password).
pub(crate) fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let (scheme, credentials) = authorization(headers)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(credentials.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The bearer token, if `Authorization: Bearer <token>` was sent.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let (scheme, token) = authorization(headers)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// How a recorded request authenticated: `basic <username>`, `bearer`, another scheme's name
/// in lower case, or `None`.
pub(crate) fn describe_authorization(headers: &HeaderMap) -> Option<String> {
    let (scheme, _) = authorization(headers)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "basic" {
        return Some(match basic_auth(headers) {
            Some((user, _)) => format!("basic {user}"),
            None => "basic".to_owned(),
        });
    }
    Some(scheme)
}

/// Escapes text for HTML.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether a space-separated scope list contains `openid`.
pub(crate) fn has_openid(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| s.split_whitespace().any(|item| item == "openid"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_438_315_200), "2015-07-31T04:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn user_codes_use_the_unambiguous_alphabet() {
        let code = random_user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(
            normalize_user_code(&code)
                .bytes()
                .all(|b| USER_CODE_ALPHABET.contains(&b))
        );
    }

    #[test]
    fn repeated_form_keys_keep_every_value() {
        let form = Form::parse(b"Scopes=a&Scopes=b+c&Empty=&X=1");
        assert_eq!(form.all("Scopes"), vec!["a", "b c"]);
        assert_eq!(form.get("Empty"), None);
        assert_eq!(form.get("X"), Some("1"));
    }
}
