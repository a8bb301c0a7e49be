//! Fault injection for API requests: the public `Faults` settings (extra latency, failing
//! the next N requests with a chosen status and `Retry-After`, cutting the next N responses
//! short), the per-request decision taken from them, and the responses that carry the
//! faults out, including a body that announces a full `Content-Length`, sends part of it and
//! then drops the connection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::envelope::{now_secs, request_id};

/// Fault settings. Every field is optional in JSON (`{"fail_next": 2}` is valid).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Delay added to every API request; overrides `MockConfig::latency` when `Some`.
    pub latency_ms: Option<u64>,
    /// The next N API requests answer `fail_status` instead of being processed.
    pub fail_next: u32,
    /// Status of those failures; 0 means 503.
    pub fail_status: u16,
    /// `Retry-After` header value sent with those failures, e.g. `"1"`.
    pub retry_after: Option<String>,
    /// The next N API requests get 200 headers announcing a full body, part of the body,
    /// then a closed connection (they are not processed).
    pub close_next: u32,
}

impl Faults {
    /// Why these settings cannot be used, if they cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.fail_status != 0 && StatusCode::from_u16(self.fail_status).is_err() {
            return Err(format!(
                "fail_status {} is not an HTTP status",
                self.fail_status
            ));
        }
        if let Some(value) = &self.retry_after {
            if HeaderValue::from_str(value).is_err() {
                return Err("retry_after is not a valid header value".into());
            }
        }
        Ok(())
    }

    /// Takes the fault, if any, for the next API request (failures before truncations).
    pub(crate) fn take(&mut self) -> FaultAction {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            let status = if self.fail_status == 0 {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::from_u16(self.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            };
            FaultAction::Fail {
                status,
                retry_after: self.retry_after.clone(),
            }
        } else if self.close_next > 0 {
            self.close_next -= 1;
            FaultAction::Close
        } else {
            FaultAction::None
        }
    }
}

/// What to do with one API request.
#[derive(Debug)]
pub(crate) enum FaultAction {
    None,
    Fail {
        status: StatusCode,
        retry_after: Option<String>,
    },
    Close,
}

/// The injected failure: the status, an optional `Retry-After`, and a short plain-text
/// body (deliberately not a YCM envelope, like a gateway or load balancer would send).
pub(crate) fn fail_response(status: StatusCode, retry_after: Option<&str>) -> Response {
    let body = format!("ycm-mock: injected fault (HTTP {})\n", status.as_u16());
    let mut response = (status, body).into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// HTTP 200 announcing the full length of a Success envelope but sending only its first
/// half before the connection is dropped.
pub(crate) fn truncated_response() -> Response {
    let full = json!({
        "requestId": request_id(),
        "status": "Success",
        "time": now_secs(),
        "data": { "note": "ycm-mock close_next fault: this body is cut short on purpose" },
    })
    .to_string();
    let full_len = full.len();
    let mut bytes = full.into_bytes();
    bytes.truncate(full_len / 2);
    let body = TruncatedBody {
        part: Some(Bytes::from(bytes)),
        pause: None,
    };
    let mut response = Response::new(Body::new(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    response
}

/// A body that yields one chunk, waits briefly (so the chunk is flushed to the socket), then
/// fails, which makes hyper abort the connection mid-body.
struct TruncatedBody {
    part: Option<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The error that ends a truncated body.
#[derive(Debug)]
struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response truncated on purpose (close_next fault)")
    }
}

impl std::error::Error for Truncated {}

impl http_body::Body for TruncatedBody {
    type Data = Bytes;
    type Error = Truncated;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Truncated>>> {
        if let Some(part) = self.part.take() {
            return Poll::Ready(Some(Ok(Frame::data(part))));
        }
        let pause = self
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(50))));
        match pause.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Truncated))),
            Poll::Pending => Poll::Pending,
        }
    }
}
