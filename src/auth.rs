//! Access tokens: either the caller's static token (swappable at any time) or tokens the
//! client obtains itself from `POST /dm/open_api/oauth/token` with its client credentials.
//! Managed tokens are fetched on first use, refreshed with the refresh grant shortly before
//! `expires_in` runs out, replaced by a new client-credentials grant when the refresh token is
//! refused, and dropped when a resource call answers 401 (the caller then replays once).
//! One mutex makes concurrent callers share a single fetch. A refused client secret is never
//! retried: YCM blocks an IP after five failed authentications.

use crate::config::{check_access_token, Auth};
use crate::error::{Code, Error, Result};
use crate::response::{self, summarize};
use crate::secret::{redact, Secret};
use crate::transport::{Call, HttpRequest, Transport};
use serde_json::Value;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use ureq::http::Method;
use url::form_urlencoded;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/dm/open_api/oauth/token";
/// Lifetime assumed when a token response has no `expires_in` (YCM's documented 30 minutes).
const DEFAULT_EXPIRES_IN: u64 = 1800;

/// Where a client's access tokens come from.
pub(crate) enum Tokens {
    Static(RwLock<Secret>),
    Managed(Managed),
}

pub(crate) struct Managed {
    client_id: String,
    client_secret: Secret,
    state: Mutex<TokenState>,
}

#[derive(Default)]
struct TokenState {
    access: Option<Secret>,
    refresh: Option<Secret>,
    renew_at: Option<Instant>,
}

/// The outcome of one token request.
enum Grant {
    Issued {
        access: Secret,
        refresh: Option<Secret>,
        expires_in: u64,
    },
    Refused(String),
}

impl Tokens {
    pub fn new(auth: &Auth) -> Tokens {
        match auth {
            Auth::AccessToken(token) => Tokens::Static(RwLock::new(token.clone())),
            Auth::ClientCredentials {
                client_id,
                client_secret,
            } => Tokens::Managed(Managed {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                state: Mutex::new(TokenState::default()),
            }),
        }
    }

    /// Replaces the static token. Clients built from credentials manage their own tokens.
    pub fn set_static(&self, token: &str) -> Result<()> {
        check_access_token(token)?;
        match self {
            Tokens::Static(lock) => {
                *lock.write().unwrap_or_else(|p| p.into_inner()) = Secret::new(token);
                Ok(())
            }
            Tokens::Managed(_) => Err(Error::invalid_argument(
                "this client obtains its own tokens from client_id and client_secret; set_access_token applies only to clients built with an access_token",
            )),
        }
    }

    /// Whether a 401 can be answered by fetching a new token.
    pub fn can_renew(&self) -> bool {
        matches!(self, Tokens::Managed(_))
    }

    /// A token to send now, fetching or refreshing it first when needed.
    pub fn current(&self, transport: &Transport, call: &mut Call) -> Result<Secret> {
        match self {
            Tokens::Static(lock) => Ok(lock.read().unwrap_or_else(|p| p.into_inner()).clone()),
            Tokens::Managed(managed) => managed.current(transport, call),
        }
    }

    /// Forgets `rejected` (the server answered 401 to it) so that the next
    /// [`Tokens::current`] fetches another. A token already replaced by another caller is
    /// left alone.
    pub fn reject(&self, rejected: &Secret) {
        if let Tokens::Managed(managed) = self {
            let mut state = managed.lock();
            if state.access.as_ref() == Some(rejected) {
                state.access = None;
            }
        }
    }

    /// Every secret this client knows, for scrubbing text that came from a server.
    pub fn secrets(&self) -> Vec<Secret> {
        match self {
            Tokens::Static(lock) => vec![lock.read().unwrap_or_else(|p| p.into_inner()).clone()],
            Tokens::Managed(managed) => {
                let state = managed.lock();
                let mut all = vec![managed.client_secret.clone()];
                all.extend(state.access.clone());
                all.extend(state.refresh.clone());
                all
            }
        }
    }
}

impl Managed {
    fn lock(&self) -> MutexGuard<'_, TokenState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holding the lock through the fetch is what makes concurrent callers share it.
    fn current(&self, transport: &Transport, call: &mut Call) -> Result<Secret> {
        let mut state = self.lock();
        if let (Some(token), Some(renew_at)) = (&state.access, state.renew_at) {
            if Instant::now() < renew_at {
                return Ok(token.clone());
            }
        }
        let grant = match state.refresh.clone() {
            Some(refresh) => match self.request(transport, call, refresh_form(&refresh))? {
                Grant::Refused(_) => {
                    state.refresh = None;
                    self.request(transport, call, self.credentials_form())?
                }
                issued => issued,
            },
            None => self.request(transport, call, self.credentials_form())?,
        };
        match grant {
            Grant::Issued { access, refresh, expires_in } => {
                state.renew_at = Some(Instant::now() + renew_after(expires_in));
                state.access = Some(access.clone());
                if refresh.is_some() {
                    state.refresh = refresh;
                }
                Ok(access)
            }
            Grant::Refused(detail) => Err(Error::with_info(
                Code::Unauthorized, format!(
                    "the token endpoint refused the client credentials of client_id \"{}\" ({detail}); check client_id and client_secret. Not retried: YCM blocks an IP after 5 failed authentications",
                    self.client_id
                ),
                call.info(),
            )),
        }
    }

    fn credentials_form(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.client_secret.expose())
            .finish()
    }

    fn request(&self, transport: &Transport, call: &mut Call, form: String) -> Result<Grant> {
        let form = Secret::new(form);
        let request = HttpRequest {
            method: Method::POST,
            path: TOKEN_PATH.to_string(),
            authorization: None,
            body: Some((
                "application/x-www-form-urlencoded",
                form.expose().as_bytes().to_vec(),
            )),
        };
        let response = transport.send(&request, call)?;
        let scrub = |text: String| redact(&text, [&self.client_secret]);
        match response.status {
            200..=299 => parse_grant(&response.body).map_err(|why| {
                Error::with_info(
                    Code::BadResponse,
                    format!("the token endpoint's answer is unusable: {why}"),
                    call.info_with_status(response.status),
                )
            }),
            400 | 401 | 403 => Ok(Grant::Refused(scrub(format!(
                "HTTP {}: {}",
                response.status,
                oauth_error(&response.body)
            )))),
            429 => Err(Error::with_info(
                Code::RateLimited,
                scrub(format!(
                    "the token endpoint is rate limiting this client (HTTP 429): {}",
                    summarize(&response.body)
                )),
                call.info_with_status(response.status),
            )),
            status => Err(Error::with_info(
                Code::Http,
                scrub(format!(
                    "the token endpoint answered HTTP {status}: {}",
                    summarize(&response.body)
                )),
                call.info_with_status(status),
            )),
        }
    }
}

fn refresh_form(refresh: &Secret) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh.expose())
        .finish()
}

/// When to renew a token that lives `expires_in` seconds: a fifth of its life early, at most
/// a minute early.
fn renew_after(expires_in: u64) -> Duration {
    let life = Duration::from_secs(expires_in);
    life - (life / 5).min(Duration::from_secs(60))
}

fn parse_grant(body: &[u8]) -> std::result::Result<Grant, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| format!("not JSON: {}", summarize(body)))?;
    let access = value
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or("no access_token")?;
    check_access_token(access)
        .map_err(|_| "the access_token has characters a bearer token cannot have".to_string())?;
    let refresh = value
        .get("refresh_token")
        .and_then(Value::as_str)
        .map(Secret::new);
    let expires_in = match value.get("expires_in") {
        None => DEFAULT_EXPIRES_IN,
        Some(v) => v
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or("expires_in is not a positive integer")?,
    };
    Ok(Grant::Issued {
        access: Secret::new(access),
        refresh,
        expires_in,
    })
}

/// The OAuth error of a refusal body (`error` and `error_description`), or a summary.
fn oauth_error(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (
        value.get("error").and_then(Value::as_str),
        value.get("error_description").and_then(Value::as_str),
    ) {
        (Some(error), Some(description)) => format!("{error}: {}", response::cut(description, 200)),
        (Some(error), None) => response::cut(error, 200).to_string(),
        _ => summarize(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_early_but_not_too_early() {
        assert_eq!(renew_after(1800), Duration::from_secs(1740));
        assert_eq!(renew_after(2), Duration::from_millis(1600));
    }

    #[test]
    fn grants_are_checked() {
        let ok = parse_grant(br#"{"access_token":"a.b","refresh_token":"r","expires_in":60}"#);
        assert!(matches!(ok, Ok(Grant::Issued { expires_in: 60, .. })));
        assert!(parse_grant(b"{}").is_err());
        assert!(parse_grant(br#"{"access_token":"a b"}"#).is_err());
        assert!(parse_grant(br#"{"access_token":"a","expires_in":-1}"#).is_err());
        assert_eq!(
            oauth_error(br#"{"error":"invalid_client","error_description":"Bad"}"#),
            "invalid_client: Bad"
        );
    }
}
