//! The OAuth 2.0 token endpoints: `POST /dm/open_api/oauth/token` (client-credentials and
//! refresh-token grants, with refresh-token rotation) and
//! `DELETE /dm/open_api/oauth/token/refresh_token` (revoke every refresh token). Bodies are
//! form-encoded; answers are bare JSON objects (no YCM envelope), errors use the OAuth
//! `{"error", "error_description"}` shape.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::envelope::{json_response, now_secs, oauth_error};
use crate::state::Shared;
use crate::tokens::IssuedTokens;

/// The fields either token endpoint may receive.
#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// An OAuth error answer, as an error value so the handlers can use `?`.
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        oauth_error(self.status, self.error, &self.description)
    }
}

fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description: description.into(),
    }
}

fn invalid_client() -> OAuthError {
    OAuthError {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "Bad client credentials".into(),
    }
}

/// Parses a form body, insisting on the form content type.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, OAuthError> {
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

fn credentials_match(shared: &Shared, form: &TokenForm) -> bool {
    form.client_id.as_deref() == Some(shared.config.client_id.as_str())
        && form.client_secret.as_deref() == Some(shared.config.client_secret.as_str())
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
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = parse_form(&headers, &body)?;
    let (ttl, refresh_ttl) = (shared.config.token_ttl, shared.config.refresh_ttl);
    match form.grant_type.as_deref() {
        Some("client_credentials") => {
            if !credentials_match(&shared, &form) {
                return Err(invalid_client());
            }
            let tokens = shared.lock().tokens.issue(ttl, refresh_ttl);
            Ok(token_response(&shared, tokens, true))
        }
        Some("refresh_token") => {
            let refresh = form
                .refresh_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| invalid_request("missing refresh_token"))?;
            let rotated = shared.lock().tokens.rotate(refresh, ttl, refresh_ttl);
            let tokens = rotated.ok_or_else(|| OAuthError {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_grant",
                description: "Invalid refresh token".into(),
            })?;
            Ok(token_response(&shared, tokens, false))
        }
        None => Err(invalid_request("missing grant_type")),
        Some(_) => Err(OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: "Unsupported grant type".into(),
        }),
    }
}

/// `DELETE /dm/open_api/oauth/token/refresh_token`.
pub(crate) async fn revoke_refresh_tokens(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = parse_form(&headers, &body)?;
    if !credentials_match(&shared, &form) {
        return Err(invalid_client());
    }
    shared.lock().tokens.revoke_refresh();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "client_id": shared.config.client_id, "effect_time": now_secs() }),
    ))
}
