//! Device authorization (RFC 8628): the authorization itself and the polling loop.

use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::secret::DeviceCode;
use crate::token::Token;

/// The grant type of the device-code token request.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: the interval when the server sends none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: what `slow_down` adds to the interval, for this and every later poll.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
pub(crate) const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(600);
const MAX_TRANSPORT_BACKOFF: Duration = Duration::from_secs(60);

/// The answer of `/v1/device/code`: what to show the user, and the device code to poll with.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    pub(crate) device_code: DeviceCode,
    pub(crate) user_code: String,
    pub(crate) verification_uri: String,
    pub(crate) verification_uri_complete: Option<String>,
    pub(crate) interval: Duration,
    pub(crate) lifetime: Duration,
    pub(crate) expires_at: SystemTime,
    pub(crate) valid_until: Instant,
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
        self.valid_until
            .saturating_duration_since(crate::clock::SystemClock.now())
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

/// RFC 8628 §3.5 polling: wait `interval`, poll with `send(device_code)` (one token request
/// with the device-code grant), and act on the answer.
pub(crate) async fn poll<F, Fut>(
    clock: &dyn Clock,
    device: &DeviceAuthorization,
    cancel: Option<&CancellationToken>,
    send: F,
) -> Result<Token>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Token>>,
{
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
        let outcome = cancellable(cancel, send(device.device_code.secret().to_owned())).await;
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
