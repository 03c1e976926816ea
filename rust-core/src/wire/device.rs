//! The device authorization answer of `/v1/device/code` (RFC 8628 §3.2).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::device::{DEFAULT_EXPIRES_IN, DEFAULT_INTERVAL, DeviceAuthorization};
use crate::error::{Error, Result};
use crate::secret::DeviceCode;
use crate::transport::Response;

impl DeviceAuthorization {
    pub(crate) fn parse(r: &Response) -> Result<Self> {
        #[derive(Deserialize)]
        struct Raw {
            device_code: Option<String>,
            user_code: Option<String>,
            verification_uri: Option<String>,
            verification_uri_complete: Option<String>,
            expires_in: Option<Value>,
            interval: Option<Value>,
        }
        let raw: Raw = serde_json::from_slice(&r.body).map_err(|e| {
            Error::invalid_response(
                r.status,
                format!("device authorization is not JSON: {e}"),
                &r.body,
            )
        })?;
        let missing = |field| {
            Error::invalid_response(
                r.status,
                format!("device authorization has no {field}"),
                &r.body,
            )
        };
        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let device_code = non_empty(raw.device_code).ok_or_else(|| missing("device_code"))?;
        let user_code = non_empty(raw.user_code).ok_or_else(|| missing("user_code"))?;
        let verification_uri =
            non_empty(raw.verification_uri).ok_or_else(|| missing("verification_uri"))?;
        let secs = |v: Option<Value>| {
            v.and_then(|v| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .filter(|n| n.is_finite() && *n >= 1.0 && *n <= 86_400.0)
            .map(Duration::from_secs_f64)
        };
        let lifetime = secs(raw.expires_in).unwrap_or(DEFAULT_EXPIRES_IN);
        Ok(Self {
            device_code: DeviceCode::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete: non_empty(raw.verification_uri_complete),
            interval: secs(raw.interval).unwrap_or(DEFAULT_INTERVAL),
            lifetime,
            expires_at: r.wall + lifetime,
            valid_until: r.at + lifetime,
        })
    }
}
