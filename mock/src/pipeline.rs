//! The path every API request takes before and after its handler: count it, take its
//! fault (if any), wait the configured latency (without holding the state lock), reject a
//! missing `User-Agent`, take a token from the client's rate-limit bucket (HTTP 429 with
//! `Retry-After` and a Failed envelope, errcode 1000040, when it is empty), run the
//! handler, send a `Failed` envelope with the status of the error style in force
//! ([`crate::style`]), count refused grants, then log the request with its secrets redacted
//! by [`crate::redact`] (in memory, and on stderr when `log_requests` is set). Admin
//! requests (`/__mock/...`) pass straight through, uncounted and unlogged.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::envelope::{failed, FailedEnvelope, Failure, ERR_BAD_REQUEST};
use crate::errcode::RATE_LIMIT_EXCEEDED;
use crate::faults::{fail_response, truncated_response, FaultAction};
use crate::ratelimit::{retry_after_secs, BucketKey};
use crate::redact;
use crate::state::{Inner, LoggedRequest, RequestKind, Shared};

/// Largest request body accepted.
const MAX_BODY: usize = 1024 * 1024;

/// Whether a path belongs to the admin interface.
pub(crate) fn is_admin_path(path: &str) -> bool {
    path == "/__mock" || path.starts_with("/__mock/")
}

fn is_token_path(path: &str) -> bool {
    path.starts_with("/dm/open_api/oauth/")
}

/// Whether a request asks for a grant (`POST .../oauth/token`).
fn is_grant(method: &Method, path: &str) -> bool {
    method == Method::POST && path == "/dm/open_api/oauth/token"
}

fn classify(method: &Method, path: &str) -> RequestKind {
    let is_user_path = path
        .strip_prefix("/dm/open_api/v1/users/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
    if is_token_path(path) {
        RequestKind::Token
    } else if is_user_path && method == Method::GET {
        RequestKind::GetUser
    } else if is_user_path && method == Method::PUT {
        RequestKind::UpdateUser
    } else if path == "/dm/open_api/v2/users" && method == Method::GET {
        RequestKind::ListUsers
    } else {
        RequestKind::Other
    }
}

/// The id a `PUT /dm/open_api/v1/users/{id}` names, when it is an integer.
fn put_user_id(path: &str) -> Option<i64> {
    path.strip_prefix("/dm/open_api/v1/users/")?.parse().ok()
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The middleware wrapped around the whole router.
pub(crate) async fn api_pipeline(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if is_admin_path(request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let path_and_query = redact::path_and_query(
        parts
            .uri
            .path_and_query()
            .map_or(path.as_str(), |pq| pq.as_str()),
    );
    let user_agent = header_text(&parts.headers, header::USER_AGENT);
    let authorization =
        header_text(&parts.headers, header::AUTHORIZATION).map(|v| redact::authorization(&v));
    let content_type = header_text(&parts.headers, header::CONTENT_TYPE);
    let method = parts.method.clone();
    let kind = classify(&method, &path);

    let (action, latency) = {
        let mut inner = shared.lock();
        inner.count(kind);
        if kind == RequestKind::UpdateUser {
            if let Some(id) = put_user_id(&path) {
                *inner.puts_by_user.entry(id).or_default() += 1;
            }
        }
        let latency = inner
            .faults
            .latency_ms
            .map_or(shared.config.latency, Duration::from_millis);
        (inner.faults.take(), latency)
    };
    // Read the body even for faulted requests, so it is logged and the connection stays usable.
    let body_bytes = to_bytes(body, MAX_BODY).await;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let logged = body_bytes
        .as_ref()
        .map(|b| redact::body(b))
        .unwrap_or_default();
    let response = match action {
        FaultAction::Fail {
            status,
            retry_after,
        } => fail_response(status, retry_after.as_deref()),
        FaultAction::Close => truncated_response(),
        FaultAction::None => match body_bytes {
            Err(_) => failed(
                StatusCode::PAYLOAD_TOO_LARGE,
                ERR_BAD_REQUEST,
                format!("request body could not be read or exceeds {MAX_BODY} bytes"),
            ),
            Ok(_) if user_agent.as_deref().is_none_or(|ua| ua.trim().is_empty()) => failed(
                StatusCode::BAD_REQUEST,
                ERR_BAD_REQUEST,
                "missing required header: User-Agent",
            ),
            Ok(bytes) => match rate_limited(&shared, &path, &parts.headers, &bytes) {
                Some(response) => response,
                None => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
            },
        },
    };

    let mut response = response;
    let grant = is_grant(&method, &path);
    let line = {
        let mut inner = shared.lock();
        let http_status = finish(&mut inner, &mut response, grant);
        let status = response.status().as_u16();
        let line = shared.config.log_requests.then(|| {
            format!(
                "{method} {path_and_query} {status} ua={:?} auth={}\n",
                user_agent.as_deref().unwrap_or("-"),
                authorization.as_deref().unwrap_or("-"),
            )
        });
        let entry = LoggedRequest {
            method: method.to_string(),
            path: path_and_query,
            user_agent,
            authorization,
            content_type,
            body: logged,
            status,
        };
        inner.record(entry, http_status);
        line
    };
    if let Some(line) = line {
        // A closed stderr must not take the server down.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    response
}

/// Applies the error style in force to a handled response and counts a refused grant;
/// returns the response's status in the `http` style.
fn finish(inner: &mut Inner, response: &mut Response, grant: bool) -> u16 {
    let http_status = response.status().as_u16();
    if grant && response.extensions().get::<FailedEnvelope>().is_some() {
        inner.stats.refused_grants += 1;
    }
    inner.error_style.apply(response);
    http_status
}

/// The client id a token-endpoint form names (the first `client_id` field), if any.
fn form_client_id(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(name, value)| name == "client_id" && !value.is_empty())
        .map(|(_, value)| value)
}

/// Takes a token from the bucket of the request's client, or answers 429 when it is empty.
/// A token-endpoint request uses the bucket of the `client_id` its form names (YCM meters
/// the client ID), or the mock's one client's when it names none (a refresh grant);
/// requests with an issued access token use that client's bucket too; the static token has
/// a bucket of its own. A request with no accepted credential takes nothing: its handler
/// answers 401.
fn rate_limited(shared: &Shared, path: &str, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let client = || BucketKey::Client(shared.config.client_id.clone());
    let mut inner = shared.lock();
    let limit = inner.limiter.limit()?;
    let key = if is_token_path(path) {
        form_client_id(body).map_or_else(client, BucketKey::Client)
    } else {
        match crate::api::bearer_token(headers) {
            Ok(token) if shared.config.access_token.as_deref() == Some(token) => {
                BucketKey::StaticToken
            }
            Ok(token) if inner.tokens.access_is_valid(token) => client(),
            _ => return None,
        }
    };
    let wait = inner
        .limiter
        .take(key.clone(), std::time::Instant::now())
        .err()?;
    inner.stats.rate_limited += 1;
    drop(inner);
    let detail = format!(
        "rate limited: the token bucket of {key} is empty (burst {}, {} requests per {} s); \
         next token in {} ms",
        limit.burst,
        limit.rate,
        limit.interval.as_secs_f64(),
        wait.as_millis().max(1)
    );
    let failure = Failure::named(StatusCode::TOO_MANY_REQUESTS, RATE_LIMIT_EXCEEDED, detail)
        .with_retry_after(retry_after_secs(wait));
    Some(failure.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(
            classify(&Method::GET, "/dm/open_api/v1/users/1"),
            RequestKind::GetUser
        );
        assert_eq!(
            classify(&Method::PUT, "/dm/open_api/v1/users/1"),
            RequestKind::UpdateUser
        );
        assert_eq!(
            classify(&Method::GET, "/dm/open_api/v2/users"),
            RequestKind::ListUsers
        );
        assert_eq!(
            classify(&Method::POST, "/dm/open_api/oauth/token"),
            RequestKind::Token
        );
        assert_eq!(
            classify(&Method::GET, "/dm/open_api/v1/users/1/x"),
            RequestKind::Other
        );
    }
}
