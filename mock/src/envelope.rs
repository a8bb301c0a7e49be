//! The YCM response envelope. Every resource response is `{"requestId", "status", "time"}`
//! plus `data` for reads and `errcode` + `errmsg` when `status` is `"Failed"`; this module
//! builds those bodies, hands out unique 32-hex-digit request ids, and builds every `Failed`
//! answer from a [`Failure`]: YCM's documented codes with their name as `errmsg` and the
//! mock's explanation in `detail`, the OAuth members `error` + `error_description` the token
//! endpoints add, and `Retry-After` for throttling. Each `Failed` response is marked with
//! [`FailedEnvelope`] so the error style (`crate::style`) can find it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::errcode::{self, ErrCode};

/// Bad request: a required header is missing or wrong, unknown path, wrong method.
pub(crate) const ERR_BAD_REQUEST: i64 = errcode::BAD_REQUEST.code;
/// A parameter (path, query or body field) breaks a rule; the message names it.
pub(crate) const ERR_INVALID_PARAMETER: i64 = errcode::INVALID_PARAMETER.code;
/// The request body is not valid JSON or not a JSON object.
pub(crate) const ERR_MALFORMED_JSON: i64 = errcode::MALFORMED_JSON.code;
/// No user has the requested id.
pub(crate) const ERR_USER_NOT_FOUND: i64 = errcode::USER_NOT_FOUND.code;
/// `pbxCreationLimit` is below the number of Cloud PBXs the reseller already created.
pub(crate) const ERR_LIMIT_BELOW_CREATED: i64 = errcode::LIMIT_BELOW_CREATED.code;
/// `pbxCreationLimit` was set on a user who is not a reseller.
pub(crate) const ERR_LIMIT_NOT_RESELLER: i64 = errcode::LIMIT_NOT_RESELLER.code;

/// Marks a response whose body is a `Failed` envelope (a response extension).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FailedEnvelope;

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);
static SALT: OnceLock<u64> = OnceLock::new();

/// A fresh request id: 32 lowercase hex digits, unique for the life of the process (the low
/// half is a bijective scramble of a counter, salted per process; the high half is random).
pub(crate) fn request_id() -> String {
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt = *SALT.get_or_init(|| fastrand::u64(..));
    let scrambled = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    format!("{:016x}{:016x}", fastrand::u64(..), scrambled)
}

/// The current time in Unix seconds.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn base(status: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("requestId".into(), Value::String(request_id()));
    map.insert("status".into(), Value::String(status.into()));
    map.insert("time".into(), Value::from(now_secs()));
    map
}

/// A JSON response with the given status and body.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// HTTP 200 with a Success envelope, with `data` when given.
pub(crate) fn success(data: Option<Value>) -> Response {
    let mut map = base("Success");
    if let Some(data) = data {
        map.insert("data".into(), data);
    }
    json_response(StatusCode::OK, &Value::Object(map))
}

/// HTTP 200 with a Success envelope whose `data` is `data_json`, JSON text the caller
/// serialised itself (same key order as [`success`]).
pub(crate) fn success_with_json_data(data_json: &str) -> Response {
    let body = format!(
        r#"{{"requestId":"{}","status":"Success","time":{},"data":{data_json}}}"#,
        request_id(),
        now_secs()
    );
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A Failed envelope with `errcode` and `errmsg`, sent with the given HTTP status.
pub(crate) fn failed(status: StatusCode, errcode: i64, errmsg: impl Into<String>) -> Response {
    Failure::with_status(status, errcode, errmsg).into_response()
}

/// The OAuth members a token endpoint adds to its `Failed` envelope.
#[derive(Debug)]
pub(crate) struct OAuthMembers {
    /// `error`, e.g. `invalid_client`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

/// A Failed envelope as an error value, so handlers can use `?`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub http: StatusCode,
    pub errcode: i64,
    pub errmsg: String,
    /// The mock's explanation, sent as `detail` (YCM's codes carry their bare name in
    /// `errmsg`).
    pub detail: Option<String>,
    /// `error` + `error_description`, for the token endpoints.
    pub oauth: Option<OAuthMembers>,
    /// `Retry-After` in seconds, for throttling.
    pub retry_after: Option<u64>,
}

impl Failure {
    /// A business or parameter error: HTTP 200 with a Failed envelope.
    pub(crate) fn business(errcode: i64, errmsg: impl Into<String>) -> Failure {
        Failure::with_status(StatusCode::OK, errcode, errmsg)
    }

    /// A Failed envelope sent with a non-200 HTTP status.
    pub(crate) fn with_status(
        http: StatusCode,
        errcode: i64,
        errmsg: impl Into<String>,
    ) -> Failure {
        Failure {
            http,
            errcode,
            errmsg: errmsg.into(),
            detail: None,
            oauth: None,
            retry_after: None,
        }
    }

    /// A code whose `errmsg` is its name (YCM's documented codes, and the mock's own that
    /// stand in for one): `detail` carries the explanation.
    pub(crate) fn named(http: StatusCode, code: ErrCode, detail: impl Into<String>) -> Failure {
        Failure {
            detail: Some(detail.into()),
            ..Failure::with_status(http, code.code, code.name)
        }
    }

    /// Adds the OAuth members `error` and `error_description`.
    pub(crate) fn with_oauth(self, error: &'static str, description: impl Into<String>) -> Failure {
        Failure {
            oauth: Some(OAuthMembers {
                error,
                description: description.into(),
            }),
            ..self
        }
    }

    /// Adds a `Retry-After` header of `secs` seconds.
    pub(crate) fn with_retry_after(self, secs: u64) -> Failure {
        Failure {
            retry_after: Some(secs),
            ..self
        }
    }

    fn body(&self) -> Value {
        let mut map = base("Failed");
        map.insert("errcode".into(), Value::from(self.errcode));
        map.insert("errmsg".into(), Value::String(self.errmsg.clone()));
        if let Some(detail) = &self.detail {
            map.insert("detail".into(), Value::String(detail.clone()));
        }
        if let Some(oauth) = &self.oauth {
            map.insert("error".into(), Value::String(oauth.error.into()));
            map.insert(
                "error_description".into(),
                Value::String(oauth.description.clone()),
            );
        }
        Value::Object(map)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = json_response(self.http, &self.body());
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(FailedEnvelope);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_32_lowercase_hex_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = request_id();
            assert_eq!(id.len(), 32);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            assert!(seen.insert(id));
        }
    }
}
