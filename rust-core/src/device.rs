//! Device authorization (RFC 8628): the authorization itself and the polling loop.

use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::client::{OAuthClient, V1TokenRequest};
use crate::error::{Error, Result};
use crate::secret::DeviceCode;
use crate::transport::Response;

/// The grant type of the device-code token request.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: the interval when the server sends none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: what `slow_down` adds to the interval, for this and every later poll.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(600);
const MAX_TRANSPORT_BACKOFF: Duration = Duration::from_secs(60);

/// The answer of `/v1/device/code`: what to show the user, and the device code to poll with.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    device_code: DeviceCode,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    interval: Duration,
    lifetime: Duration,
    expires_at: SystemTime,
    valid_until: Instant,
}

impl DeviceAuthorization {
    /// The device code (secret: never show it).
    pub fn device_code(&self) -> &DeviceCode {
        &self.device_code
    }

    /// The code the user types on the verification page.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the user goes to approve.
    pub fn verification_uri(&self) -> &str {
        &self.verification_uri
    }

    /// The verification URL with the user code filled in (for a QR code), when sent.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.verification_uri_complete.as_deref()
    }

    /// The minimum time between polls the server asked for.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long the device and user codes were valid for when issued.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When the codes expire, on the wall clock.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Time left before the codes expire.
    pub fn expires_in(&self) -> Duration {
        self.valid_until.saturating_duration_since(Instant::now())
    }

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

/// Races `fut` against an optional cancellation token.
pub(crate) async fn cancellable<T>(
    cancel: Option<&CancellationToken>,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match cancel {
        None => fut.await,
        Some(c) => tokio::select! {
            biased;
            _ = c.cancelled() => Err(Error::Cancelled),
            r = fut => r,
        },
    }
}

/// RFC 8628 §3.5 polling: wait `interval`, poll, and act on the answer.
pub(crate) async fn poll(
    client: &OAuthClient,
    device: &DeviceAuthorization,
    cancel: Option<&CancellationToken>,
) -> Result<crate::Token> {
    let clock = client.clock().clone();
    let mut interval = device.interval;
    let mut wait = interval;
    let mut transport_failures = 0u32;
    let mut polls = 0u32;
    loop {
        if clock.now() + wait >= device.valid_until {
            return Err(Error::ExpiredToken {
                message: format!(
                    "the user did not approve code {} before it expired ({polls} polls)",
                    device.user_code
                ),
            });
        }
        cancellable(cancel, async {
            clock.sleep(wait).await;
            Ok(())
        })
        .await?;
        polls += 1;
        let request = V1TokenRequest {
            grant_type: DEVICE_CODE_GRANT.into(),
            device_code: Some(device.device_code.secret().to_owned()),
            ..V1TokenRequest::default()
        };
        let outcome = cancellable(cancel, client.create_token(&request)).await;
        let api = match outcome {
            Ok(token) => return Ok(token),
            Err(Error::Transport { .. } | Error::Timeout { .. }) => {
                // The server may be briefly unreachable: back off, but keep to the deadline.
                transport_failures += 1;
                wait = interval
                    .saturating_mul(1 << transport_failures.min(6))
                    .min(MAX_TRANSPORT_BACKOFF);
                continue;
            }
            Err(Error::Api(api)) => api,
            Err(e) => return Err(e),
        };
        transport_failures = 0;
        match api.oauth_error() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += SLOW_DOWN_STEP,
            Some("access_denied") => {
                return Err(Error::AccessDenied {
                    message: api.message,
                });
            }
            Some("expired_token") => {
                return Err(Error::ExpiredToken {
                    message: api.message,
                });
            }
            _ => return Err(Error::Api(api)),
        }
        tracing::debug!(
            polls,
            interval_s = interval.as_secs(),
            "device authorization pending"
        );
        wait = interval;
    }
}
