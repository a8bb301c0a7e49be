//! The YCM response envelope and the error codes the mock answers with. Every resource
//! response is `{"requestId", "status", "time"}` plus `data` for reads and `errcode` +
//! `errmsg` when `status` is `"Failed"`; this module builds those bodies, hands out unique
//! 32-hex-digit request ids, and owns the OAuth-style `{"error", "error_description"}` bodies
//! of the token endpoint.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Bad request: a required header is missing or wrong, unknown path, wrong method.
pub(crate) const ERR_BAD_REQUEST: i64 = 10001;
/// A parameter (path, query or body field) breaks a rule; the message names it.
pub(crate) const ERR_INVALID_PARAMETER: i64 = 10002;
/// The request body is not valid JSON or not a JSON object.
pub(crate) const ERR_MALFORMED_JSON: i64 = 10003;
/// The access token is missing, malformed, unknown, revoked or expired.
pub(crate) const ERR_INVALID_TOKEN: i64 = 10004;
/// The client's token bucket is empty (HTTP 429, with `Retry-After`).
pub(crate) const ERR_RATE_LIMITED: i64 = 10007;
/// No user has the requested id.
pub(crate) const ERR_USER_NOT_FOUND: i64 = 20001;
/// `pbxCreationLimit` is below the number of Cloud PBXs the reseller already created.
pub(crate) const ERR_LIMIT_BELOW_CREATED: i64 = 20002;
/// `pbxCreationLimit` was set on a user who is not a reseller.
pub(crate) const ERR_LIMIT_NOT_RESELLER: i64 = 20003;

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
    let mut map = base("Failed");
    map.insert("errcode".into(), Value::from(errcode));
    map.insert("errmsg".into(), Value::String(errmsg.into()));
    json_response(status, &Value::Object(map))
}

/// A Failed envelope as an error value, so handlers can use `?`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub http: StatusCode,
    pub errcode: i64,
    pub errmsg: String,
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
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        failed(self.http, self.errcode, self.errmsg)
    }
}

/// An OAuth error body (`{"error", "error_description"}`), as the token endpoint sends.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    )
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
