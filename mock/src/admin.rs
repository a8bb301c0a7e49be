//! The admin interface under `/__mock/` for tests that run the binary (C, Python): read the
//! counters, the request log and a stored user; set faults; revoke or expire tokens; reset
//! the server. No authentication, not counted in `Stats`, not logged, and faults never
//! apply to it.

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
use crate::state::Shared;

/// The `/__mock/...` routes.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__mock/stats", get(stats))
        .route("/__mock/log", get(log))
        .route("/__mock/users/{id}", get(user))
        .route("/__mock/faults", post(set_faults))
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
