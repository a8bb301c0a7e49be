//! The YCM user endpoints: query one user (v1), list users with paging and sorting (v2),
//! update a user (v1), plus the envelope answers for unknown paths (404) and wrong methods
//! (405). Each handler checks the bearer token first (YCM's 1000035 / 1000036 when it is
//! refused), then its parameters, then the stored data, and answers with the envelopes of
//! `envelope.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use crate::envelope::{
    success, success_with_json_data, Failure, ERR_BAD_REQUEST, ERR_INVALID_PARAMETER,
    ERR_MALFORMED_JSON, ERR_USER_NOT_FOUND,
};
use crate::errcode::{INVALID_TOKEN, TOKEN_EXPIRED};
use crate::state::Shared;
use crate::tokens::AccessState;
use crate::users::{self, User};

const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 50;

/// What every handler here returns.
type ApiResult = Result<Response, Failure>;

/// The token of an `Authorization: Bearer <token>` header, or why there is none (the
/// `errmsg` of the 401).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err("missing Authorization header (expected: Bearer <access token>)");
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty() && !token.contains(char::is_whitespace))
        .ok_or("malformed Authorization header (expected: Bearer <access token>)")
}

/// Fails with 401 unless the request carries `Authorization: Bearer <accepted token>`:
/// 1000035 `TOKEN_EXPIRED` for an issued token past its lifetime, 1000036 `INVALID_TOKEN`
/// for anything else. Such a refusal is not a failed authentication for the lock-out.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Failure> {
    let refuse = |code, detail: &str| Failure::named(StatusCode::UNAUTHORIZED, code, detail);
    match bearer_token(headers) {
        Err(msg) => Err(refuse(INVALID_TOKEN, msg)),
        Ok(token) => match shared.access_state(token) {
            AccessState::Valid => Ok(()),
            AccessState::Expired => Err(refuse(TOKEN_EXPIRED, "the access token has expired")),
            AccessState::Unknown => Err(refuse(
                INVALID_TOKEN,
                "unknown, revoked or replaced access token",
            )),
        },
    }
}

fn invalid_parameter(msg: impl std::fmt::Display) -> Failure {
    Failure::business(ERR_INVALID_PARAMETER, format!("invalid parameter: {msg}"))
}

/// Parses a `userId` path segment: a positive integer.
fn parse_user_id(raw: &str) -> Result<i64, Failure> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(invalid_parameter(format_args!(
            "userId must be a positive integer, got {raw:?}"
        ))),
    }
}

fn user_not_found(id: i64) -> Failure {
    Failure::business(ERR_USER_NOT_FOUND, format!("user {id} not found"))
}

/// `GET /dm/open_api/v1/users/{userId}`.
pub(crate) async fn get_user(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
) -> ApiResult {
    authorize(&shared, &headers)?;
    let id = parse_user_id(&raw_id)?;
    let user = shared.lock().users.get(id).map(User::to_json);
    user.map(|u| success(Some(u)))
        .ok_or_else(|| user_not_found(id))
}

/// A page-size or page-number query value: empty or absent means `default`.
fn page_param(
    value: Option<&str>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, Failure> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(invalid_parameter(format_args!(
                "{name} must be an integer between 1 and {max}, got {raw:?}"
            ))),
        },
    }
}

/// `GET /dm/open_api/v2/users?pageSize=&pageNumber=&sort=`.
pub(crate) async fn list_users(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    authorize(&shared, &headers)?;
    let query: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| invalid_parameter(format_args!("malformed query string: {e}")))?;
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let page_size = page_param(
        get("pageSize"),
        "pageSize",
        DEFAULT_PAGE_SIZE,
        MAX_PAGE_SIZE,
    )?;
    let page_number = page_param(get("pageNumber"), "pageNumber", 1, usize::MAX)?;
    let sort = get("sort").filter(|s| !s.is_empty()).unwrap_or("userId");
    let (descending, field) = match sort.strip_prefix('-') {
        Some(field) => (true, field),
        None => (false, sort),
    };
    let Some(&field) = users::SORT_FIELDS.iter().find(|&&f| f == field) else {
        return Err(invalid_parameter(format_args!(
            "sort field {field:?} is unknown (use one of {}, optionally prefixed by '-')",
            users::SORT_FIELDS.join(", ")
        )));
    };

    let start = page_number.saturating_sub(1).saturating_mul(page_size);
    // Only the page itself is copied out (see `UserTable::page`).
    let (total, list) = {
        let mut inner = shared.lock();
        let list = inner.users.page(field, descending, start, page_size);
        (inner.users.len(), list)
    };
    Ok(success_with_json_data(&format!(
        r#"{{"pageSize":{page_size},"pageNumber":{page_number},"total":{total},"list":{list}}}"#
    )))
}

/// `PUT /dm/open_api/v1/users/{userId}`.
pub(crate) async fn update_user(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    authorize(&shared, &headers)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Failure::with_status(
            StatusCode::BAD_REQUEST,
            ERR_BAD_REQUEST,
            "Content-Type must be application/json",
        ));
    }
    let malformed =
        |msg: String| Failure::with_status(StatusCode::BAD_REQUEST, ERR_MALFORMED_JSON, msg);
    let fields = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(malformed("request body must be a JSON object".into())),
        Err(e) => return Err(malformed(format!("request body is not valid JSON: {e}"))),
    };
    let id = parse_user_id(&raw_id)?;
    let update = users::validate_update(&fields).map_err(invalid_parameter)?;
    let mut inner = shared.lock();
    let user = inner.users.get_mut(id).ok_or_else(|| user_not_found(id))?;
    users::apply_update(user, update).map_err(|(code, msg)| Failure::business(code, msg))?;
    *inner.updates_by_user.entry(id).or_default() += 1;
    drop(inner);
    Ok(success(None))
}

/// Any other path.
pub(crate) async fn not_found(uri: Uri) -> Failure {
    Failure::with_status(
        StatusCode::NOT_FOUND,
        ERR_BAD_REQUEST,
        format!("no such endpoint: {}", uri.path()),
    )
}

/// A known path with the wrong method.
pub(crate) async fn method_not_allowed(uri: Uri) -> Failure {
    Failure::with_status(
        StatusCode::METHOD_NOT_ALLOWED,
        ERR_BAD_REQUEST,
        format!("method not allowed on {}", uri.path()),
    )
}
