//! Scripted misbehaviour: answers that replace the normal handling of one request.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use serde::{Deserialize, Serialize};

use crate::util;

/// One scripted answer for one request to an endpoint (see [`crate::MockServer::push_fault`]
/// and `POST /admin/faults`). Each request to the endpoint pops the next queued fault.
///
/// As JSON every field is optional: `{"status": 503, "body": "...", "headers": {"Retry-After":
/// "1"}, "content_type": null, "delay_ms": 0, "drop": false, "passthrough": false, "repeat": 1,
/// "oversized": null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// HTTP status to answer with (default 500).
    pub status: u16,
    /// Body: a JSON string is sent verbatim (HTML pages, malformed JSON), any other JSON value
    /// is serialized. `None`: a Twilio error body for statuses >= 400, else an empty body.
    pub body: Option<serde_json::Value>,
    /// Extra response headers (they win over `content_type`).
    pub headers: BTreeMap<String, String>,
    /// Content type; by default `application/json` for JSON values and generated bodies,
    /// `text/html; charset=utf-8` for strings starting with `<`, else `text/plain; charset=utf-8`.
    pub content_type: Option<String>,
    /// Milliseconds to wait before answering (or before dropping the connection).
    pub delay_ms: u64,
    /// Close the connection without sending any response.
    pub drop: bool,
    /// After `delay_ms`, handle the request normally instead of answering with this fault.
    pub passthrough: bool,
    /// How many times to queue this fault (default 1).
    pub repeat: u32,
    /// Send a body of exactly this many bytes (`{"access_token":"xxxx...."}`, streamed).
    pub oversized: Option<u64>,
}

impl Default for Fault {
    fn default() -> Self {
        Self {
            status: 500,
            body: None,
            headers: BTreeMap::new(),
            content_type: None,
            delay_ms: 0,
            drop: false,
            passthrough: false,
            repeat: 1,
            oversized: None,
        }
    }
}

impl Fault {
    /// A fault answering with `status` and, for statuses >= 400, a Twilio error body.
    pub fn status(status: u16) -> Fault {
        Fault {
            status,
            ..Fault::default()
        }
    }

    /// A fault that closes the connection without any response.
    pub fn drop_connection() -> Fault {
        Fault {
            drop: true,
            ..Fault::default()
        }
    }

    /// A fault that waits `delay` and then lets the request be handled normally.
    pub fn slow(delay: Duration) -> Fault {
        Fault {
            passthrough: true,
            ..Fault::default()
        }
        .with_delay(delay)
    }

    /// Sets the body: a string is sent verbatim, any other JSON value serialized.
    pub fn with_body(mut self, body: impl Into<serde_json::Value>) -> Fault {
        self.body = Some(body.into());
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Fault {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the content type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Fault {
        self.content_type = Some(content_type.into());
        self
    }

    /// Waits `delay` before answering.
    pub fn with_delay(mut self, delay: Duration) -> Fault {
        self.delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Queues this fault `times` times.
    pub fn with_repeat(mut self, times: u32) -> Fault {
        self.repeat = times;
        self
    }

    /// Sends a body of exactly `bytes` bytes.
    pub fn with_oversized_body(mut self, bytes: u64) -> Fault {
        self.oversized = Some(bytes);
        self
    }

    /// The response this fault answers with (not used for `drop` or `passthrough`).
    pub(crate) fn to_response(&self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (body, default_type) = if let Some(size) = self.oversized {
            (Body::new(Padding::new(size)), Some("application/json"))
        } else {
            match &self.body {
                Some(serde_json::Value::String(text)) => {
                    let kind = if text.trim_start().starts_with('<') {
                        "text/html; charset=utf-8"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    (Body::from(text.clone()), Some(kind))
                }
                Some(value) => (Body::from(value.to_string()), Some("application/json")),
                None if self.status >= 400 => {
                    let reason = status.canonical_reason().unwrap_or("Error");
                    let code = 20000 + u32::from(self.status);
                    let value = util::twilio_body(self.status, code, reason);
                    (Body::from(value.to_string()), Some("application/json"))
                }
                None => (Body::empty(), None),
            }
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        let content_type = self.content_type.as_deref().or(default_type);
        if let Some(value) = content_type.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        response
    }

    /// Checks that the headers can be sent.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, value) in &self.headers {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            HeaderValue::from_str(value).map_err(|_| format!("invalid header value {value:?}"))?;
        }
        if let Some(content_type) = &self.content_type {
            HeaderValue::from_str(content_type)
                .map_err(|_| format!("invalid content type {content_type:?}"))?;
        }
        if StatusCode::from_u16(self.status).is_err() {
            return Err(format!("invalid status {}", self.status));
        }
        Ok(())
    }
}

const PAD_CHUNK: usize = 64 * 1024;
static PAD: [u8; PAD_CHUNK] = [b'x'; PAD_CHUNK];
const PAD_PREFIX: &[u8] = b"{\"access_token\":\"";
const PAD_SUFFIX: &[u8] = b"\"}";

/// A streamed body of an exact size, so that huge bodies cost no memory.
struct Padding {
    total: u64,
    sent: u64,
}

impl Padding {
    fn new(total: u64) -> Self {
        Self { total, sent: 0 }
    }

    fn framed(&self) -> bool {
        self.total >= (PAD_PREFIX.len() + PAD_SUFFIX.len()) as u64
    }
}

impl http_body::Body for Padding {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let remaining = this.total - this.sent;
        if remaining == 0 {
            return Poll::Ready(None);
        }
        let chunk = if this.framed() && this.sent == 0 {
            Bytes::from_static(PAD_PREFIX)
        } else if this.framed() && remaining == PAD_SUFFIX.len() as u64 {
            Bytes::from_static(PAD_SUFFIX)
        } else {
            let reserve = if this.framed() {
                PAD_SUFFIX.len() as u64
            } else {
                0
            };
            let len = (remaining - reserve).min(PAD_CHUNK as u64);
            Bytes::from_static(&PAD[..len as usize])
        };
        this.sent += chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.total
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total - self.sent)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::task::Waker;

    fn collect(size: u64) -> Vec<u8> {
        let mut body = Padding::new(size);
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(Ok(frame))) =
            http_body::Body::poll_frame(Pin::new(&mut body), &mut cx)
        {
            out.extend_from_slice(&frame.into_data().unwrap());
        }
        out
    }

    #[test]
    fn padding_has_the_exact_size() {
        for size in [0, 1, 18, 19, 20, 65_536, 200_000] {
            let bytes = collect(size);
            assert_eq!(bytes.len() as u64, size);
            if size >= 19 {
                assert!(bytes.starts_with(PAD_PREFIX));
                assert!(bytes.ends_with(PAD_SUFFIX));
            }
        }
    }

    #[test]
    fn fault_json_fields_are_optional() {
        let fault: Fault = serde_json::from_str(r#"{"status": 503}"#).unwrap();
        assert_eq!(fault, Fault::status(503));
        assert_eq!(fault.repeat, 1);
    }
}
