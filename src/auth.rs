//! Access tokens: either the caller's static token (swappable at any time) or tokens the
//! client obtains itself from `POST /dm/open_api/oauth/token` with its client credentials.
//! Managed tokens are fetched on first use, refreshed with the refresh grant shortly before
//! `expires_in` runs out, replaced by a new client-credentials grant when the refresh token is
//! refused, and dropped when a resource call answers 401 (the caller then replays once); the
//! caching and the single shared fetch live in [`crate::token_cache`]. A refused client
//! secret is never sent again by the same client (YCM blocks an IP after five failed
//! authentications): later calls fail at once with the first refusal's reason.

use crate::config::{check_access_token, Auth};
use crate::error::{CallInfo, Code, Error, Result};
use crate::logging::{self, Level, TARGET_AUTH};
use crate::response::{cut, summarize, unrequested_compression};
use crate::secret::{Redactor, Secret};
use crate::token_cache::{Issued, TokenCache};
use crate::transport::{Call, HttpRequest, Transport};
use serde_json::Value;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;
use ureq::http::Method;
use url::form_urlencoded;
use zeroize::Zeroize;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/dm/open_api/oauth/token";
/// Lifetime assumed when a token response has no `expires_in` (YCM's documented 30 minutes).
const DEFAULT_EXPIRES_IN: u64 = 1800;
/// Longest lifetime believed: a larger `expires_in` is capped (renewing early is harmless;
/// scheduling a renewal centuries ahead would overflow the clock).
const MAX_EXPIRES_IN: u64 = 24 * 3600;

/// Where a client's access tokens come from.
pub(crate) enum Tokens {
    Static(RwLock<Secret>),
    Managed(Managed),
}

pub(crate) struct Managed {
    client_id: String,
    client_secret: Secret,
    cache: TokenCache,
    /// Why the token endpoint refused the client credentials, once it has.
    refused: OnceLock<String>,
}

/// The answer of the token endpoint to one grant request.
enum Grant {
    Issued(Issued),
    /// HTTP 400/401/403 (the status, and the reason given): the grant (credentials or
    /// refresh token) was refused.
    Refused(u16, String),
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
                cache: TokenCache::new(),
                refused: OnceLock::new(),
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
            Tokens::Managed(managed) => managed.cache.get_or_renew(Instant::now(), |refresh| {
                managed.renew(refresh, transport, call)
            }),
        }
    }

    /// Forgets `rejected` (the server answered 401 to it) so that the next
    /// [`Tokens::current`] fetches another.
    pub fn reject(&self, rejected: &Secret) {
        if let Tokens::Managed(managed) = self {
            managed.cache.reject(rejected);
        }
    }
}

impl Managed {
    /// The refresh grant when there is a refresh token, and the client-credentials grant when
    /// there is none or it was refused.
    fn renew(
        &self,
        refresh: Option<&Secret>,
        transport: &Transport,
        call: &mut Call,
    ) -> Result<Issued> {
        // Checked here, under the cache's lock, so that callers queued behind a refused
        // fetch do not send the secret again.
        if let Some(reason) = self.refused.get() {
            return Err(self.refusal(reason, call.info()));
        }
        if let Some(refresh) = refresh {
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", refresh.expose())
                .finish();
            if let Grant::Issued(issued) = self.request(transport, call, form, refresh)? {
                logging::note(
                    Level::Info,
                    TARGET_AUTH,
                    "access token renewed with the refresh grant",
                );
                return Ok(issued);
            }
        }
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.client_secret.expose())
            .finish();
        match self.request(transport, call, form, &self.client_secret)? {
            Grant::Issued(issued) => {
                if logging::enabled(Level::Info, TARGET_AUTH) {
                    logging::note(
                        Level::Info,
                        TARGET_AUTH,
                        &format!(
                            "access token obtained with the client_credentials grant of client_id \"{}\"",
                            self.client_id
                        ),
                    );
                }
                Ok(issued)
            }
            Grant::Refused(status, detail) => {
                let reason = self.refused.get_or_init(|| detail);
                Err(self.refusal(reason, call.info_with_status(status)))
            }
        }
    }

    fn refusal(&self, reason: &str, info: CallInfo) -> Error {
        let again = if info.attempts == 0 {
            " earlier; not sent again by this client, build a new one with corrected credentials"
        } else {
            ""
        };
        Error::with_info(
            Code::Unauthorized,
            format!(
                "the token endpoint refused the client credentials of client_id \"{}\"{again} ({reason}); check client_id and client_secret. Never retried: YCM blocks an IP after 5 failed authentications",
                self.client_id
            ),
            info,
        )
    }

    /// Sends one grant request whose form carries `sent`; the answer's text is scrubbed of
    /// it and of the client secret before it can reach a message.
    fn request(
        &self,
        transport: &Transport,
        call: &mut Call,
        form: String,
        sent: &Secret,
    ) -> Result<Grant> {
        let mut request = HttpRequest {
            method: Method::POST,
            path: TOKEN_PATH.to_string(),
            authorization: None,
            body: Some(("application/x-www-form-urlencoded", form.into_bytes())),
        };
        let response = transport.send(&request, call);
        if let Some((_, form)) = request.body.as_mut() {
            form.zeroize();
        }
        let response = response?;
        let redactor = Redactor::new([sent, &self.client_secret]);
        let body = redactor.bytes(&response.body);
        let compressed =
            unrequested_compression(response.content_encoding.as_deref(), &body, &redactor);
        // What the answer says, for a message: never its 2xx body (it may hold new tokens).
        let said = |of_refusal: bool| match &compressed {
            Some(compressed) => compressed.clone(),
            None if of_refusal => oauth_error(&body, &redactor),
            None => summarize(&body, &redactor),
        };
        let info = call.info_with_status(response.status);
        match response.status {
            200..=299 => match &compressed {
                Some(compressed) => Err(compressed.clone()),
                None => parse_grant(&body),
            }
            .map(Grant::Issued)
            .map_err(|why| {
                Error::with_info(
                    Code::BadResponse,
                    format!("the token endpoint's answer is unusable: {why}"),
                    info,
                )
            }),
            status @ (400 | 401 | 403) => Ok(Grant::Refused(
                status,
                format!("HTTP {status}: {}", said(true)),
            )),
            429 => Err(Error::with_info(
                Code::RateLimited,
                format!(
                    "the token endpoint is rate limiting this client (HTTP 429): {}",
                    said(false)
                ),
                info,
            )),
            status => Err(Error::with_info(
                Code::Http,
                format!("the token endpoint answered HTTP {status}: {}", said(false)),
                info,
            )),
        }
    }
}

pub(crate) fn parse_grant(body: &[u8]) -> std::result::Result<Issued, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        // Not quoted: a 2xx body from the token endpoint may hold a fresh token.
        format!("the {}-byte body is not JSON", body.len())
    })?;
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
            .ok_or("expires_in is not a positive integer")?
            .min(MAX_EXPIRES_IN),
    };
    Ok(Issued {
        access: Secret::new(access),
        refresh,
        expires_in,
    })
}

/// The OAuth error of a refusal body (`error` and `error_description`), or a summary; each
/// decoded string is redacted before it is cut.
pub(crate) fn oauth_error(body: &[u8], redactor: &Redactor) -> String {
    let mut value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    redactor.value(&mut value);
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    match (field("error"), field("error_description")) {
        (Some(error), Some(description)) => {
            format!("{}: {}", cut(error, 100), cut(description, 200))
        }
        (Some(error), None) => cut(error, 200).to_string(),
        _ => summarize(body, redactor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_checked() {
        let ok = parse_grant(br#"{"access_token":"a.b","refresh_token":"r","expires_in":60}"#);
        assert!(matches!(ok, Ok(Issued { expires_in: 60, .. })));
        assert!(parse_grant(b"{}").is_err());
        let leaky = parse_grant(br#"{"access_token":"FreshToken"} trailing"#);
        assert!(matches!(leaky, Err(why) if !why.contains("FreshToken")));
        assert!(parse_grant(br#"{"access_token":"a b"}"#).is_err());
        assert!(parse_grant(br#"{"access_token":"a","expires_in":-1}"#).is_err());
        let huge = parse_grant(br#"{"access_token":"a","expires_in":18446744073709551615}"#);
        assert!(matches!(
            huge,
            Ok(Issued {
                expires_in: MAX_EXPIRES_IN,
                ..
            })
        ));
        assert_eq!(
            oauth_error(
                br#"{"error":"invalid_client","error_description":"Bad"}"#,
                &Redactor::default()
            ),
            "invalid_client: Bad"
        );
    }
}
