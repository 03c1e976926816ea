//! Run-time behaviour switches of the mock server.

use serde::{Deserialize, Deserializer, Serialize};

/// How device-flow polling errors (`authorization_pending`, `slow_down`, ...) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceErrorStyle {
    /// RFC 6749 body: `{"error": "authorization_pending", "error_description": "..."}`.
    #[default]
    Rfc6749,
    /// Twilio error body whose `message` is the RFC error string:
    /// `{"code": 20001, "message": "authorization_pending", "more_info": "...", "status": 400}`.
    Twilio,
}

/// Behaviour of the mock server; change it with [`crate::MockServer::update_config`] or
/// `POST /admin/config` (a partial JSON object: only the keys sent change).
///
/// As JSON every field is optional (missing fields take their defaults) and unknown keys are
/// rejected, so that a typo in a test fails loudly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// Lifetime of access tokens in seconds: `exp - iat` of the JWT and the default `expires_in`.
    pub token_lifetime_secs: u64,
    /// When set, this JSON value is sent as `expires_in` instead of the lifetime (for example
    /// `1438315200000`, `"3600"` or `null`). `None` (absent from the JSON) means no override.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_value"
    )]
    pub expires_in: Option<serde_json::Value>,
    /// Leave `expires_in` out of token responses.
    pub omit_expires_in: bool,
    /// Issue random opaque access tokens instead of JWTs.
    pub opaque_tokens: bool,
    /// Override for `token_type` (default `Bearer` on v2, `bearer` on v1).
    pub token_type: Option<String>,
    /// Seconds added to the JWT's `iat` and `exp` (simulates a server with a wrong clock).
    pub iat_offset_secs: i64,
    /// Send v1's older `access_token_expires_at` / `refresh_token_expires_at` RFC 3339 strings
    /// instead of `expires_in`.
    pub legacy_expires_at: bool,
    /// `interval` of device authorization responses; `None` leaves the field out (clients then
    /// use 5 s).
    pub device_interval: Option<u64>,
    /// `expires_in` of device authorization responses: how long a device code lives, in seconds.
    pub device_expires_in: u64,
    /// Answer `slow_down` (and add 5 s to the code's interval) when a device code is polled
    /// sooner than its interval after the previous poll.
    pub enforce_interval: bool,
    /// Body style of device-flow polling errors.
    pub device_error_style: DeviceErrorStyle,
    /// Milliseconds of latency added to every `/v1/token`, `/v2/token` and `/v1/device/code`
    /// request (faulted ones included).
    pub latency_ms: u64,
    /// Approve a pending device code automatically once it has been polled this many times
    /// (`Some(0)`: the first poll already gets a token).
    pub auto_approve_after_polls: Option<u32>,
    /// Whether `/v1/token` and `/v1/device/code` require HTTP Basic auth (the seed spec's
    /// shape). The newest v1 spec dropped auth; set `false` to accept requests without it.
    /// Wrong credentials are refused either way.
    pub require_v1_auth: bool,
    /// Refresh-token rotation (RFC 9700 section 4.14): a refresh token is single-use. Using
    /// it issues a new one and consumes it; presenting a consumed token again revokes its
    /// whole grant family (every refresh token of that login). `false`: refresh tokens stay
    /// valid after use and nothing is consumed or revoked.
    pub rotate_refresh_tokens: bool,
    /// Seconds after its rotation during which a consumed refresh token may still be used
    /// (Okta's grace period): such a reuse succeeds and is counted, but revokes nothing.
    pub refresh_reuse_grace_secs: u64,
    /// Session cap in seconds: a login's access tokens never outlive `auth_time + this`
    /// (`exp` and `expires_in` are cut short), and its refresh tokens are refused once the
    /// session is over. `None`: no cap.
    pub session_max_secs: Option<u64>,
    /// The person who approves the next device code or authorizes the next authorization
    /// code: the `sub` of that login's access and id tokens, and of their refreshes.
    pub user_sid: String,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            token_lifetime_secs: 3600,
            expires_in: None,
            omit_expires_in: false,
            opaque_tokens: false,
            token_type: None,
            iat_offset_secs: 0,
            legacy_expires_at: false,
            device_interval: Some(5),
            device_expires_in: 600,
            enforce_interval: false,
            device_error_style: DeviceErrorStyle::Rfc6749,
            latency_ms: 0,
            auto_approve_after_polls: None,
            require_v1_auth: true,
            rotate_refresh_tokens: true,
            refresh_reuse_grace_secs: 0,
            session_max_secs: None,
            user_sid: crate::USER_SID.to_owned(),
        }
    }
}

impl MockConfig {
    /// Returns this configuration with the keys of `patch` (a JSON object) applied on top.
    ///
    /// A key set to `null` sets an `Option` field to `None`, except `expires_in`, where
    /// `null` is a value to send (clear that override with [`MockConfig::default`] or
    /// `PUT /admin/config`).
    pub fn merged(&self, patch: &serde_json::Value) -> Result<MockConfig, String> {
        let serde_json::Value::Object(patch) = patch else {
            return Err("the configuration must be a JSON object".to_owned());
        };
        let mut current = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(fields) = &mut current {
            for (key, value) in patch {
                fields.insert(key.clone(), value.clone());
            }
        }
        serde_json::from_value(current).map_err(|e| e.to_string())
    }
}

/// Deserializes a present field (even `null`) as `Some(value)`.
fn present_value<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_changes_only_the_given_keys() {
        let merged = MockConfig::default()
            .merged(&json!({"token_lifetime_secs": 2, "device_interval": null}))
            .unwrap();
        assert_eq!(merged.token_lifetime_secs, 2);
        assert_eq!(merged.device_interval, None);
        assert_eq!(merged.device_expires_in, 600);
    }

    #[test]
    fn a_null_expires_in_is_an_override_and_survives_a_round_trip() {
        let merged = MockConfig::default()
            .merged(&json!({"expires_in": null}))
            .unwrap();
        assert_eq!(merged.expires_in, Some(serde_json::Value::Null));
        let again = merged.merged(&json!({})).unwrap();
        assert_eq!(again.expires_in, Some(serde_json::Value::Null));
        assert_eq!(
            MockConfig::default().merged(&json!({})).unwrap().expires_in,
            None
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(MockConfig::default().merged(&json!({"tokn": 1})).is_err());
    }
}
