//! The admin interface under `/__mock/` for tests that run the binary (C, Python): read the
//! counters (per user too), the request log and a stored user; set faults, the rate limit
//! and the error style; revoke or expire tokens; list and unblock locked-out addresses;
//! reset the server. No authentication, not counted in `Stats`, not logged, faults and the
//! error style never apply to it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::envelope::json_response;
use crate::faults::Faults;
use crate::ratelimit::RateLimit;
use crate::state::Shared;
use crate::style::ErrorStyle;

/// The `/__mock/...` routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__mock/stats", get(stats))
        .route("/__mock/log", get(log))
        .route("/__mock/users/{id}", get(user))
        .route("/__mock/faults", post(set_faults))
        .route("/__mock/updates", get(updates))
        .route("/__mock/updates/{id}", get(updates_of))
        .route("/__mock/rate-limit", get(rate_limit).post(set_rate_limit))
        .route(
            "/__mock/error-style",
            get(error_style).post(set_error_style),
        )
        .route("/__mock/blocked", get(blocked))
        .route("/__mock/unblock", post(unblock))
        .route("/__mock/revoke", post(revoke))
        .route("/__mock/expire", post(expire))
        .route("/__mock/reset", post(reset))
}

fn ok() -> Response {
    json_response(StatusCode::OK, &json!({ "ok": true }))
}

fn error(status: StatusCode, msg: &str) -> Response {
    json_response(status, &json!({ "error": msg }))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let stats = shared.lock().stats.clone();
    json_response(StatusCode::OK, &json!(stats))
}

async fn log(State(shared): State<Arc<Shared>>) -> Response {
    let entries: Vec<Value> = shared.lock().log.iter().map(|e| json!(e)).collect();
    json_response(StatusCode::OK, &Value::Array(entries))
}

async fn user(State(shared): State<Arc<Shared>>, Path(raw_id): Path<String>) -> Response {
    let Ok(id) = raw_id.parse::<i64>() else {
        return error(StatusCode::NOT_FOUND, "no such user");
    };
    let found = shared.lock().users.get(id).map(crate::users::User::to_json);
    match found {
        Some(user) => json_response(StatusCode::OK, &user),
        None => error(StatusCode::NOT_FOUND, "no such user"),
    }
}

async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(faults) => faults,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("bad Faults JSON: {e}")),
    };
    if let Err(msg) = faults.check() {
        return error(StatusCode::BAD_REQUEST, &msg);
    }
    shared.lock().faults = faults;
    ok()
}

async fn updates(State(shared): State<Arc<Shared>>) -> Response {
    let body = {
        let inner = shared.lock();
        json!({
            "puts_by_user": inner.puts_by_user,
            "updates_by_user": inner.updates_by_user,
        })
    };
    json_response(StatusCode::OK, &body)
}

async fn updates_of(State(shared): State<Arc<Shared>>, Path(raw_id): Path<String>) -> Response {
    let Ok(id) = raw_id.parse::<i64>() else {
        return error(StatusCode::NOT_FOUND, "not a user id");
    };
    let inner = shared.lock();
    let count = |map: &std::collections::BTreeMap<i64, u64>| map.get(&id).copied().unwrap_or(0);
    let body = json!({
        "userId": id,
        "puts": count(&inner.puts_by_user),
        "updates": count(&inner.updates_by_user),
    });
    drop(inner);
    json_response(StatusCode::OK, &body)
}

async fn rate_limit(State(shared): State<Arc<Shared>>) -> Response {
    let limit = shared.lock().limiter.limit();
    json_response(StatusCode::OK, &json!(limit))
}

/// Body: a `RateLimit` (`{"burst", "rate", "interval_s"}` or `"BURST/RATE/INTERVAL_S"`), or
/// `null` / nothing to switch the limit off. Every bucket starts full again.
async fn set_rate_limit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let limit: Option<RateLimit> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(limit) => limit,
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("bad rate limit: {e}")),
        }
    };
    shared.lock().limiter.set(limit);
    ok()
}

async fn error_style(State(shared): State<Arc<Shared>>) -> Response {
    let style = shared.lock().error_style;
    json_response(StatusCode::OK, &json!(style))
}

/// Body: `http` or `ok`, bare or as a JSON string (`"ok"`).
async fn set_error_style(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let trimmed = text.trim();
    let bare = trimmed
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(trimmed);
    match bare.parse::<ErrorStyle>() {
        Ok(style) => {
            shared.lock().error_style = style;
            ok()
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn blocked(State(shared): State<Arc<Shared>>) -> Response {
    let blocked = shared.lock().lockout.blocked();
    json_response(StatusCode::OK, &json!(blocked))
}

async fn unblock(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().lockout.unblock_all();
    ok()
}

async fn revoke(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().tokens.revoke_all();
    ok()
}

async fn expire(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().tokens.expire_access();
    ok()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset();
    ok()
}
