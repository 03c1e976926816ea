//! Redacting newtypes for every secret the crate handles.
//!
//! Secrets are typed so that forgetting to redact one does not compile: none of these types
//! implements `Display` with the value, and `Debug` prints `[redacted]`. The memory is zeroed on
//! drop. Reading the value takes an explicit `.secret()` call, which is easy to find in review.

use std::fmt;

use zeroize::Zeroizing;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The secret itself. Never log or display it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }
    };
}

secret_type!(
    /// An OAuth app's client secret.
    ClientSecret
);
secret_type!(
    /// A Twilio account's auth token (HTTP Basic password of the v1 endpoints).
    AuthToken
);
secret_type!(
    /// A bearer access token.
    AccessToken
);
secret_type!(
    /// A refresh token.
    RefreshToken
);
secret_type!(
    /// An OpenID Connect id token.
    IdToken
);
secret_type!(
    /// The device code of the device authorization flow (the user code is not secret).
    DeviceCode
);
secret_type!(
    /// A PKCE code verifier.
    PkceCodeVerifier
);

/// A short, safe preview of a token for people: its first characters and its length.
///
/// JWTs start with their base64 header (`eyJhbGci…`), which is not secret; the signature and
/// claims stay hidden. At most a quarter of the value shows (none of a value under 4 chars),
/// so a short opaque token is never printed nearly whole.
pub fn preview(secret: &str) -> String {
    let len = secret.chars().count();
    let head: String = secret.chars().take((len / 4).min(8)).collect();
    format!("{head}…({} chars)", secret.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = ClientSecret::new("super-secret-value");
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(s.secret(), "super-secret-value");
    }

    #[test]
    fn preview_keeps_only_the_head() {
        let p = preview("eyJhbGciOiJIUzI1NiJ9.payload.signature");
        assert_eq!(p, "eyJhbGci…(38 chars)");
        assert_eq!(preview("abcdefgh"), "ab…(8 chars)");
        assert_eq!(preview("abc"), "…(3 chars)");
    }
}
