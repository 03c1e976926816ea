//! `OAuthConfig`: the options of an `OAuthClient`, as a record (a Kotlin data class, a Swift
//! struct) whose string forms never show the secrets.

use std::fmt;

/// The options of [`crate::OAuthClient`]. Only `clientId` is required; options left `null`/`nil`
/// take the defaults of API.md (`baseUrl` `https://oauth.twilio.com`, 30 s timeout, 2 retries).
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
    /// Whole-request timeout in seconds.
    #[uniffi(default)]
    pub timeout_seconds: Option<f64>,
    /// Retries on connect errors, 429 and 5xx.
    #[uniffi(default)]
    pub max_retries: Option<u32>,
}

/// The name in the `User-Agent` header (`twilio-oauth/<version> (<language>)`).
pub(crate) const LANGUAGE: &str = if cfg!(target_os = "android") {
    "kotlin"
} else if cfg!(target_vendor = "apple") {
    "swift"
} else {
    "uniffi"
};

impl OAuthConfig {
    pub(crate) fn builder(&self) -> crate::Result<twilio_oauth::OAuthClientBuilder> {
        let mut b = twilio_oauth::OAuthClient::builder()
            .client_id(&self.client_id)
            .language(LANGUAGE);
        if let Some(v) = &self.client_secret {
            b = b.client_secret(v);
        }
        if let Some(v) = &self.account_sid {
            b = b.account_sid(v);
        }
        if let Some(v) = &self.auth_token {
            b = b.auth_token(v);
        }
        if let Some(v) = &self.base_url {
            b = b.base_url(v);
        }
        if let Some(v) = self.timeout_seconds {
            b = b.timeout(crate::seconds("timeoutSeconds", v)?);
        }
        if let Some(v) = self.max_retries {
            b = b.max_retries(v);
        }
        Ok(b)
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
            .finish()
    }
}

impl fmt::Display for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "[redacted]" } else { "null" };
        let or_null = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
        write!(
            f,
            "OAuthConfig(clientId={}, clientSecret={}, accountSid={}, authToken={}, baseUrl={}, timeoutSeconds={}, maxRetries={})",
            self.client_id,
            shown(&self.client_secret),
            or_null(&self.account_sid),
            shown(&self.auth_token),
            or_null(&self.base_url),
            self.timeout_seconds
                .map_or_else(|| "null".into(), |v| v.to_string()),
            self.max_retries
                .map_or_else(|| "null".into(), |v| v.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms_hide_the_secrets() {
        let c = OAuthConfig {
            client_id: "OQ0123456789abcdef0123456789abcdef".into(),
            client_secret: Some("s3cr3t-value".into()),
            account_sid: None,
            auth_token: Some("auth-t0ken-value".into()),
            base_url: None,
            timeout_seconds: Some(5.0),
            max_retries: None,
        };
        for shown in [format!("{c}"), format!("{c:?}")] {
            assert!(!shown.contains("s3cr3t-value"), "{shown}");
            assert!(!shown.contains("auth-t0ken-value"), "{shown}");
            assert!(shown.contains("OQ0123456789abcdef0123456789abcdef"));
        }
    }
}
