//! `OAuthConfig`: the options of an `OAuthClient`, as a record (a Kotlin data class, a Swift
//! struct) whose string forms never show the secrets. It becomes the core's `ClientOptions`
//! field by field; the core checks every value.

use std::fmt;
use std::time::Duration;

/// The options of [`crate::OAuthClient`]. Only `clientId` is required; options left `null`/`nil`
/// take the defaults of API.md (`baseUrl` `https://oauth.twilio.com`, 30 s timeout, 2 retries),
/// or, with `fromEnv = true`, the environment's values first (`TWILIO_CLIENT_SECRET`,
/// `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_OAUTH_BASE_URL`).
///
/// `toString()` / `description` never show `clientSecret` or `authToken`.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct OAuthConfig {
    /// The OAuth app's id (`OQ…`, 34 characters).
    pub client_id: String,
    /// The app's secret; leave it unset for public (PKCE or device) clients.
    #[uniffi(default)]
    pub client_secret: Option<String>,
    /// Account SID for the v1 endpoints' HTTP Basic auth.
    #[uniffi(default)]
    pub account_sid: Option<String>,
    /// Auth token for the v1 endpoints' HTTP Basic auth.
    #[uniffi(default)]
    pub auth_token: Option<String>,
    /// The OAuth server; `http://` only for loopback hosts.
    #[uniffi(default)]
    pub base_url: Option<String>,
    /// Deprecated: use `timeout`. The whole-call timeout in seconds.
    #[uniffi(default)]
    pub timeout_seconds: Option<f64>,
    /// Retries on connect errors, 429 and 5xx.
    #[uniffi(default)]
    pub max_retries: Option<u32>,
    /// The whole-call timeout, retries included (default 30 s).
    #[uniffi(default)]
    pub timeout: Option<Duration>,
    /// The connect timeout of each attempt (default 10 s).
    #[uniffi(default)]
    pub connect_timeout: Option<Duration>,
    /// A PEM file of CA certificates to trust besides the platform's (a private or corporate
    /// CA); with `fromEnv`, `TWILIO_OAUTH_CA_FILE` when unset.
    #[uniffi(default)]
    pub ca_file: Option<String>,
    /// The same as PEM text (one or more certificates).
    #[uniffi(default)]
    pub ca_pem: Option<String>,
    /// The proxy of every request (`http://[user:password@]host:port`), instead of
    /// `HTTPS_PROXY`/`ALL_PROXY`; `NO_PROXY` still applies. Never shown in full.
    #[uniffi(default)]
    pub proxy: Option<String>,
    /// Fill the options left unset from the environment (`TWILIO_CLIENT_SECRET`,
    /// `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_OAUTH_BASE_URL`), as
    /// `OAuthClient.fromEnv()` does for every option.
    #[uniffi(default = false)]
    pub from_env: bool,
}

/// The name in the `User-Agent` header (`twilio-oauth/<version> (<language>)`).
pub(crate) const LANGUAGE: &str = if cfg!(target_os = "android") {
    "kotlin"
} else if cfg!(target_vendor = "apple") {
    "swift"
} else {
    "uniffi"
};

/// A duration from a foreign caller, as the seconds the core checks with its one rule.
pub(crate) fn secs(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// The one value of an option that has a current and a deprecated name.
pub(crate) fn one_of<T>(
    current: (&str, Option<T>),
    deprecated: (&str, Option<T>),
) -> twilio_oauth::Result<Option<T>> {
    match (current.1, deprecated.1) {
        (Some(_), Some(_)) => Err(twilio_oauth::Error::Config {
            message: format!(
                "give {} or {} (deprecated), not both",
                current.0, deprecated.0
            ),
        }),
        (c, d) => Ok(c.or(d)),
    }
}

impl OAuthConfig {
    /// The core's options: every field, named, so that an option added to the core does not
    /// compile here until it has a place.
    pub(crate) fn options(self) -> twilio_oauth::Result<twilio_oauth::ClientOptions> {
        let timeout = one_of(
            ("timeout", secs(self.timeout)),
            ("timeoutSeconds", self.timeout_seconds),
        )?;
        Ok(twilio_oauth::ClientOptions {
            client_id: Some(self.client_id),
            client_secret: self.client_secret,
            account_sid: self.account_sid,
            auth_token: self.auth_token,
            base_url: self.base_url,
            timeout,
            connect_timeout: secs(self.connect_timeout),
            max_retries: self.max_retries,
            ca_file: self.ca_file.map(Into::into),
            ca_pem: self.ca_pem,
            proxy: self.proxy,
            language: Some(LANGUAGE.into()),
            from_env: self.from_env,
        })
    }
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("account_sid", &self.account_sid)
            .field("auth_token", &redacted(&self.auth_token))
            .field("base_url", &self.base_url)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("ca_file", &self.ca_file)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[PEM]"))
            // A proxy URL may carry a password.
            .field("proxy", &redacted(&self.proxy))
            .field("from_env", &self.from_env)
            .finish()
    }
}

impl fmt::Display for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn or_null<T: fmt::Display>(v: Option<T>) -> String {
            v.map_or_else(|| "null".into(), |v| v.to_string())
        }
        let shown = |v: &Option<String>| if v.is_some() { "[redacted]" } else { "null" };
        write!(
            f,
            "OAuthConfig(clientId={}, clientSecret={}, accountSid={}, authToken={}, baseUrl={}, timeoutSeconds={}, maxRetries={}, timeout={}, connectTimeout={}, caFile={}, caPem={}, proxy={}, fromEnv={})",
            self.client_id,
            shown(&self.client_secret),
            or_null(self.account_sid.as_ref()),
            shown(&self.auth_token),
            or_null(self.base_url.as_ref()),
            or_null(self.timeout_seconds),
            or_null(self.max_retries),
            or_null(self.timeout.map(|d| format!("{d:?}"))),
            or_null(self.connect_timeout.map(|d| format!("{d:?}"))),
            or_null(self.ca_file.as_ref()),
            if self.ca_pem.is_some() {
                "[PEM]"
            } else {
                "null"
            },
            shown(&self.proxy),
            self.from_env,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig {
            client_id: "OQ0123456789abcdef0123456789abcdef".into(),
            client_secret: Some("s3cr3t-value".into()),
            account_sid: None,
            auth_token: Some("auth-t0ken-value".into()),
            base_url: None,
            timeout_seconds: None,
            max_retries: None,
            timeout: Some(Duration::from_secs(5)),
            connect_timeout: None,
            ca_file: None,
            ca_pem: None,
            proxy: Some("http://alice:pr0xy-pa55@proxy.corp:3128".into()),
            from_env: false,
        }
    }

    #[test]
    fn string_forms_hide_the_secrets() {
        let c = config();
        for shown in [format!("{c}"), format!("{c:?}")] {
            assert!(!shown.contains("s3cr3t-value"), "{shown}");
            assert!(!shown.contains("auth-t0ken-value"), "{shown}");
            assert!(!shown.contains("pr0xy-pa55"), "{shown}");
            assert!(shown.contains("OQ0123456789abcdef0123456789abcdef"));
        }
    }

    #[test]
    fn a_timeout_is_given_once_under_either_name() {
        let options = config().options().unwrap();
        assert_eq!(options.timeout, Some(5.0));
        let old = OAuthConfig {
            timeout: None,
            timeout_seconds: Some(2.5),
            ..config()
        };
        assert_eq!(old.options().unwrap().timeout, Some(2.5));
        let both = OAuthConfig {
            timeout_seconds: Some(2.5),
            ..config()
        };
        let e = both.options().unwrap_err();
        assert_eq!(e.kind(), "ConfigError");
        assert!(e.to_string().contains("timeoutSeconds"), "{e}");
    }
}
