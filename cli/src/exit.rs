//! Exit codes, one per kind of failure, and the messages that say what to do next.

use std::fmt;

use twilio_oauth::Error;

/// Success.
pub const OK: u8 = 0;
/// Anything not covered below (a token file that cannot be written, a bug).
pub const OTHER: u8 = 1;
/// Bad usage or configuration: a missing or malformed option, nothing stored yet.
pub const USAGE: u8 = 2;
/// The server refused the request or answered with something unusable.
pub const API: u8 = 3;
/// The server could not be reached, or did not answer in time.
pub const NETWORK: u8 = 4;
/// Device login: the person denied the request.
pub const DENIED: u8 = 5;
/// Device login: the code expired before it was approved.
pub const EXPIRED: u8 = 6;
/// A person's login can no longer be refreshed (refused or replayed refresh token, revoked
/// grant, ended session): sign in again with `device-login`.
pub const LOGIN_REQUIRED: u8 = 7;
/// Cancelled with Ctrl-C.
pub const CANCELLED: u8 = 130;

/// The exit-code table shown at the end of every `--help`.
pub const HELP: &str = "\
Exit codes:
  0    success
  1    other error (token file not writable, internal error)
  2    usage or configuration error (missing or malformed option, nothing stored)
  3    the server refused the request (API error, rate limited, unusable answer)
  4    network error or timeout
  5    device login denied
  6    device code expired before approval
  7    the stored login can no longer be refreshed: sign in again with `device-login`
  130  cancelled (Ctrl-C)

Environment:
  TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
  TWILIO_OAUTH_BASE_URL, TWILIO_OAUTH_STORE, NO_COLOR, RUST_LOG";

/// A failed command: its exit code, what went wrong, and what to do about it.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// What went wrong (never contains a secret).
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// A usage or configuration failure.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    /// Replaces the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Replaces the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A core error, with a hint that mentions `base_url` for network failures.
    pub fn from_core(e: &Error, base_url: &str) -> Self {
        let failure = Failure::from(e.clone());
        match e {
            Error::Transport { .. } | Error::Timeout { .. } => failure.hint(format!(
                "check that {base_url} is reachable (another server: --base-url or TWILIO_OAUTH_BASE_URL; longer wait: --timeout)"
            )),
            _ => failure,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match &e {
            Error::Config { .. } => Failure::usage(message),
            Error::Api(api) => {
                let hint = match (api.status, api.oauth_error()) {
                    (_, Some("invalid_client")) | (401, _) => {
                        "check the client id and secret (--client-id/--client-secret or TWILIO_CLIENT_ID/TWILIO_CLIENT_SECRET)"
                    }
                    (_, Some("invalid_grant")) => {
                        "the grant is no longer valid: sign in again with `twilio-oauth device-login`"
                    }
                    (s, _) if s >= 500 => "the server had a problem; try again in a moment",
                    _ => "check the options against the server's message above",
                };
                Failure::new(API, message).hint(hint)
            }
            Error::RateLimited(api) => {
                let wait = api
                    .retry_after
                    .map(|d| format!("wait {} s and try again", d.as_secs().max(1)))
                    .unwrap_or_else(|| "wait a little and try again".into());
                Failure::new(API, message).hint(wait)
            }
            Error::InvalidResponse { .. } => Failure::new(API, message)
                .hint("is --base-url pointing at a Twilio OAuth server?"),
            Error::LoginRequired(_) => Failure::new(LOGIN_REQUIRED, message)
                .hint("run `twilio-oauth device-login` again to sign in"),
            Error::AccessDenied { .. } => Failure::new(DENIED, message)
                .hint("the request was refused on the verification page; run `twilio-oauth device-login` to try again"),
            Error::ExpiredToken { .. } => Failure::new(EXPIRED, message)
                .hint("run `twilio-oauth device-login` again and approve before the code expires"),
            Error::Transport { .. } | Error::Timeout { .. } => Failure::new(NETWORK, message)
                .hint("check your network connection, --base-url and --timeout"),
            Error::Cancelled => Failure::new(CANCELLED, "cancelled"),
            Error::Store { .. } => Failure::new(OTHER, message)
                .hint("check the token file's folder and permissions, or choose another file with --store"),
            _ => Failure::new(OTHER, message),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::new(OTHER, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twilio_oauth::ApiError;

    #[test]
    fn a_login_that_cannot_be_renewed_has_its_own_exit_code_and_says_to_sign_in_again() {
        let body = br#"{"code": 322403, "message": "invalid_grant: revoked", "status": 400}"#;
        let e = Error::LoginRequired(ApiError::from_body(400, body, None));
        let failure = Failure::from(e);
        assert_eq!(failure.code, LOGIN_REQUIRED);
        assert!(failure.hint.unwrap_or_default().contains("device-login"));
        assert!(HELP.contains("\n  7  "), "the exit code table lists it");
    }
}
