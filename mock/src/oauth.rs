//! The OAuth 2.0 token endpoints: `POST /dm/open_api/oauth/token` (client-credentials and
//! refresh-token grants, with refresh-token rotation and the cap on valid access tokens)
//! and `DELETE /dm/open_api/oauth/token/refresh_token` (revoke every refresh token). Bodies
//! are form-encoded; answers are bare JSON objects (no YCM envelope). A refusal is a YCM
//! `Failed` envelope that also carries the OAuth members `error` and `error_description`.
//! Both endpoints are authentications for the lock-out (`crate::lockout`): a blocked source
//! address is refused first (1000042), and refused client credentials (1000002 / 1000033)
//! count as a failure while accepted ones reset the count.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::envelope::{json_response, now_secs, Failure, ERR_BAD_REQUEST, ERR_INVALID_PARAMETER};
use crate::errcode::{ACCESS_DENIED, AUTHENTICATION_FAILED, INVALID_CLIENT, TOO_MANY_TOKENS};
use crate::state::Shared;
use crate::tokens::{GrantRefusal, IssuedTokens, TokenStore};

/// What both token handlers return.
type TokenResult = Result<Response, Failure>;

/// The fields either token endpoint may receive.
#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// `invalid_request` (HTTP 400, the mock's 10001): the form itself is wrong.
fn invalid_request(description: impl Into<String>) -> Failure {
    let description = description.into();
    Failure::with_status(
        StatusCode::BAD_REQUEST,
        ERR_BAD_REQUEST,
        description.clone(),
    )
    .with_oauth("invalid_request", description)
}

/// `invalid_grant` (HTTP 400, the mock's 10002): the refresh token is not a live one.
fn invalid_grant() -> Failure {
    Failure::with_status(
        StatusCode::BAD_REQUEST,
        ERR_INVALID_PARAMETER,
        "invalid parameter: refresh_token is unknown, used, revoked or expired",
    )
    .with_oauth("invalid_grant", "Invalid refresh token")
}

/// `unsupported_grant_type` (HTTP 400, the mock's 10002).
fn unsupported_grant_type() -> Failure {
    Failure::with_status(
        StatusCode::BAD_REQUEST,
        ERR_INVALID_PARAMETER,
        "invalid parameter: grant_type must be client_credentials or refresh_token",
    )
    .with_oauth("unsupported_grant_type", "Unsupported grant type")
}

/// The cap on valid access tokens is reached (HTTP 403, the mock's 1000044).
fn too_many_tokens(cap: usize) -> Failure {
    Failure::named(
        StatusCode::FORBIDDEN,
        TOO_MANY_TOKENS,
        format!("the client already holds {cap} valid access tokens (max_tokens {cap})"),
    )
    .with_oauth(
        "access_denied",
        "Too many valid access tokens for this client",
    )
}

/// Parses a form body, insisting on the form content type.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, Failure> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| invalid_request(format!("malformed form body: {e}")))
}

/// Why the form's client credentials are refused, if they are: an unknown (or missing)
/// client id is 1000033, a known one with the wrong (or no) secret 1000002; HTTP 401.
fn credentials_refusal(shared: &Shared, form: &TokenForm) -> Option<Failure> {
    let refused = |code, detail: &str| {
        Failure::named(StatusCode::UNAUTHORIZED, code, detail)
            .with_oauth("invalid_client", "Bad client credentials")
    };
    if form.client_id.as_deref() != Some(shared.config.client_id.as_str()) {
        Some(refused(INVALID_CLIENT, "unknown or missing client_id"))
    } else if form.client_secret.as_deref() != Some(shared.config.client_secret.as_str()) {
        Some(refused(
            AUTHENTICATION_FAILED,
            "wrong or missing client_secret for this client_id",
        ))
    } else {
        None
    }
}

/// Refuses every authentication from a blocked address (HTTP 403, 1000042).
fn refuse_if_blocked(shared: &Shared, ip: IpAddr) -> Result<(), Failure> {
    let mut inner = shared.lock();
    if !inner.lockout.is_blocked(ip) {
        return Ok(());
    }
    inner.stats.locked_out_requests += 1;
    Err(Failure::named(
        StatusCode::FORBIDDEN,
        ACCESS_DENIED,
        format!("authentication from {ip} is blocked after too many failed attempts in a row until an admin unblocks it"),
    )
    .with_oauth("access_denied", "This address is locked out"))
}

/// Checks the form's client credentials and tells the lock-out how it went.
fn authenticate(shared: &Shared, ip: IpAddr, form: &TokenForm) -> Result<(), Failure> {
    let refusal = credentials_refusal(shared, form);
    let mut inner = shared.lock();
    match refusal {
        None => {
            inner.lockout.succeeded(ip);
            Ok(())
        }
        Some(failure) => {
            if inner.lockout.failed(ip) {
                inner.stats.lockouts += 1;
            }
            Err(failure)
        }
    }
}

/// Runs a grant on the token store and counts what it issued.
fn grant(
    shared: &Shared,
    issue: impl FnOnce(&mut TokenStore) -> Result<IssuedTokens, GrantRefusal>,
) -> Result<IssuedTokens, Failure> {
    let mut inner = shared.lock();
    let issued = issue(&mut inner.tokens).map_err(|refusal| match refusal {
        GrantRefusal::InvalidRefreshToken => invalid_grant(),
        GrantRefusal::TooManyTokens => too_many_tokens(shared.config.max_tokens.unwrap_or(0)),
    })?;
    inner.stats.token_grants += 1;
    Ok(issued)
}

fn token_response(shared: &Shared, tokens: IssuedTokens, with_jti: bool) -> Response {
    let mut body = json!({
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "bearer",
        "expires_in": shared.config.token_ttl.as_secs(),
    });
    if with_jti {
        body["jti"] = json!(crate::envelope::request_id());
    }
    json_response(StatusCode::OK, &body)
}

/// `POST /dm/open_api/oauth/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> TokenResult {
    refuse_if_blocked(&shared, peer.ip())?;
    let form = parse_form(&headers, &body)?;
    let config = &shared.config;
    let (ttl, refresh_ttl, cap) = (config.token_ttl, config.refresh_ttl, config.max_tokens);
    match form.grant_type.as_deref() {
        Some("client_credentials") => {
            authenticate(&shared, peer.ip(), &form)?;
            let tokens = grant(&shared, |store| store.issue(ttl, refresh_ttl, cap))?;
            Ok(token_response(&shared, tokens, true))
        }
        Some("refresh_token") => {
            let refresh = form
                .refresh_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| invalid_request("missing refresh_token"))?;
            let tokens = grant(&shared, |store| {
                store.rotate(refresh, ttl, refresh_ttl, cap)
            })?;
            Ok(token_response(&shared, tokens, false))
        }
        None => Err(invalid_request("missing grant_type")),
        Some(_) => Err(unsupported_grant_type()),
    }
}

/// `DELETE /dm/open_api/oauth/token/refresh_token`.
pub(crate) async fn revoke_refresh_tokens(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> TokenResult {
    refuse_if_blocked(&shared, peer.ip())?;
    let form = parse_form(&headers, &body)?;
    authenticate(&shared, peer.ip(), &form)?;
    shared.lock().tokens.revoke_refresh();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "client_id": shared.config.client_id, "effect_time": now_secs() }),
    ))
}
