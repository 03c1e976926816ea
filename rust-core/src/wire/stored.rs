//! The stored form of a token (`Token::to_json` / `Token::from_json`), versioned.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::token::{Issuer, MAX_LIFETIME, Token, TokenParts};
use crate::wire::epoch_secs;

const PERSISTED_SCHEMA_VERSION: u32 = 1;

impl Token {
    /// Serialises the whole token, secrets included, for a token store. Keep the result as
    /// secret as the token itself.
    pub fn to_json(&self) -> String {
        let expires_at = self
            .0
            .expires_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let persisted = PersistedToken {
            schema_version: PERSISTED_SCHEMA_VERSION,
            access_token: self.0.access_token.secret().to_owned(),
            token_type: self.0.token_type.clone(),
            refresh_token: self.0.refresh_token.as_ref().map(|t| t.secret().to_owned()),
            id_token: self.0.id_token.as_ref().map(|t| t.secret().to_owned()),
            scope: self.0.scope.clone(),
            expires_at,
            lifetime: Some(self.0.lifetime.as_secs_f64()),
            issued_at: self
                .0
                .issued_at
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs_f64()),
            issuer: Some(self.0.issuer.as_str().to_owned()),
            device_id: self.0.device_id.clone(),
        };
        serde_json::to_string(&persisted).unwrap_or_default()
    }

    /// Reads a token written by [`Token::to_json`]. The time left is re-derived from the wall
    /// clock, which is all a stored token can offer.
    pub fn from_json(json: &str) -> Result<Token> {
        Self::from_json_with_clock(json, &crate::clock::SystemClock)
    }

    pub(crate) fn from_json_with_clock(json: &str, clock: &dyn Clock) -> Result<Token> {
        let p: PersistedToken = serde_json::from_str(json).map_err(|e| Error::Store {
            message: format!("stored token is not valid JSON: {e}"),
        })?;
        if p.schema_version > PERSISTED_SCHEMA_VERSION {
            return Err(Error::Store {
                message: format!("stored token has schema_version {}", p.schema_version),
            });
        }
        if p.access_token.is_empty() || !p.expires_at.is_finite() || p.expires_at < 0.0 {
            return Err(Error::Store {
                message: "stored token has no access token or no expiry".into(),
            });
        }
        let wall = clock.system_time();
        // An expiry past what the clock can represent reads as already expired (`UNIX_EPOCH +
        // d` used to panic for 9.2e18 <= expires_at < 1.8e19; see the stored_token fuzz target).
        let expires_at = epoch_secs(p.expires_at).unwrap_or(UNIX_EPOCH);
        let left = expires_at
            .duration_since(wall)
            .unwrap_or(Duration::ZERO)
            .min(MAX_LIFETIME);
        let token = Self::assemble(
            TokenParts {
                access_token: p.access_token,
                token_type: Some(p.token_type),
                refresh_token: p.refresh_token,
                id_token: p.id_token,
                scope: p.scope,
            },
            left,
            clock.now(),
            wall,
        );
        // Keep the original lifetime so margins scale with it, not with what is left.
        let lifetime = p
            .lifetime
            .and_then(|l| Duration::try_from_secs_f64(l).ok())
            .unwrap_or(left)
            .max(left);
        let mut data = token.into_data();
        data.lifetime = lifetime;
        if let Some(at) = p.issued_at.and_then(epoch_secs) {
            data.issued_at = at;
        }
        data.issuer = match p.issuer.as_deref() {
            Some("v1") => Issuer::V1,
            _ => Issuer::V2,
        };
        data.device_id = p.device_id.filter(|d| !d.is_empty());
        Ok(Token(Arc::new(data)))
    }
}

#[derive(Serialize, Deserialize)]
struct PersistedToken {
    schema_version: u32,
    access_token: String,
    token_type: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    /// Unix seconds.
    expires_at: f64,
    #[serde(default)]
    lifetime: Option<f64>,
    /// Unix seconds.
    #[serde(default)]
    issued_at: Option<f64>,
    /// `"v1"` or `"v2"`: where the refresh token goes back to.
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    device_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (fuzz/corpus/stored_token/regression-expires-at-past-systemtime.json): a
    /// stored expiry that `Duration` holds but `SystemTime` does not once panicked on load.
    #[test]
    fn a_stored_expiry_past_the_clocks_range_reads_as_expired() {
        for expires_at in ["1e19", "9223372036854775807", "1.8e19", "1e300"] {
            let json = format!(
                r#"{{"schema_version":1,"access_token":"a","token_type":"Bearer","expires_at":{expires_at}}}"#
            );
            let t = Token::from_json(&json).unwrap();
            assert!(t.is_expired(), "{expires_at}");
        }
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let t = Token::new("abc", Duration::from_secs(600)).with_refresh_token("r");
        let back = Token::from_json(&t.to_json()).unwrap();
        assert_eq!(back.access_token().secret(), "abc");
        assert_eq!(back.refresh_token().unwrap().secret(), "r");
        assert!(back.expires_in() > Duration::from_secs(590));
        assert_eq!(back.lifetime(), Duration::from_secs(600));
    }
}
