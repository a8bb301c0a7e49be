//! Access tokens: either the caller's static token (swappable at any time) or tokens the
//! client obtains itself from `POST /dm/open_api/oauth/token` with its client credentials.
//! Managed tokens come from the client ID's shared state when another client or process
//! already holds a fresh one; otherwise one process of the scope takes the grant lease and
//! fetches it (the refresh grant when it holds a refresh token, else the client-credentials
//! grant) while the others wait for its token. Tokens are renewed shortly before
//! `expires_in` runs out and dropped when a resource call answers 401 or YCM's errcode
//! 1000035/1000036 (the caller then replays once); the process-local caching and the single
//! shared fetch of a process live in [`crate::token_cache`]. The token endpoint is a call
//! like the others: it passes the gate, and a throttled or 502/503/504 answer is retried
//! within the call's budget. A refused client secret is never sent again while the scope's
//! refusal latch holds (YCM blocks an IP after five failed authentications): later calls of
//! every process sharing the scope fail at once, saying when and where it was refused.

use crate::config::{check_access_token, Auth};
use crate::errcodes::{self, Reaction};
use crate::error::{CallInfo, Code, Error, Result};
use crate::gate::now_ms;
use crate::logging::{self, Level, TARGET_AUTH};
use crate::response::{cut, failed_error, summarize, unrequested_compression};
use crate::secret::{Redactor, Secret};
use crate::shared_state::{this_process, Latch, SharedToken, TokenTurn, LATCH_LIFETIME};
use crate::token_cache::{Issued, TokenCache};
use crate::transport::{Authorize, Call, HttpRequest, Transport};
use serde_json::Value;
use std::sync::RwLock;
use std::time::{Duration, Instant, UNIX_EPOCH};
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
/// Longest grant lease: how long others wait for a granting process that hangs (one that
/// dies frees it at once).
const MAX_LEASE: Duration = Duration::from_secs(30);

/// Where a client's access tokens come from.
pub(crate) enum Tokens {
    Static(RwLock<Secret>),
    Managed(Managed),
}

pub(crate) struct Managed {
    client_id: String,
    client_secret: Secret,
    cache: TokenCache,
}

/// The answer of the token endpoint to one grant request.
enum Grant {
    Issued(Issued),
    /// The grant (credentials or refresh token) was refused: the HTTP status, the YCM
    /// errcode (0 when none), and the reason given.
    Refused(u16, i64, String),
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

    /// Whether a stale token can be answered by fetching a new one.
    pub fn can_renew(&self) -> bool {
        matches!(self, Tokens::Managed(_))
    }

    /// Forgets `rejected` (the server answered that it is stale), here and in the shared
    /// state, so that the next attempt fetches another.
    pub fn reject(&self, rejected: &Secret, transport: &Transport) {
        if let Tokens::Managed(managed) = self {
            managed.cache.reject(rejected);
            transport.shared().with(|s| s.drop_token(rejected));
        }
    }
}

impl Authorize for Tokens {
    /// A token to send now, fetching or refreshing it first when needed.
    fn token(&self, transport: &Transport, call: &mut Call) -> Result<Secret> {
        match self {
            Tokens::Static(lock) => Ok(lock.read().unwrap_or_else(|p| p.into_inner()).clone()),
            Tokens::Managed(managed) => managed.cache.get_or_renew(Instant::now(), |refresh| {
                managed.obtain(refresh, transport, call)
            }),
        }
    }
}

impl Managed {
    /// The scope's token when another client or process holds a fresh one; otherwise the
    /// one this client grants while it holds the scope's lease.
    fn obtain(
        &self,
        refresh: Option<&Secret>,
        transport: &Transport,
        call: &mut Call,
    ) -> Result<Issued> {
        let shared = transport.shared();
        loop {
            call.check_cancelled()?;
            let left = call.remaining();
            if left.is_zero() {
                return Err(Error::with_info(
                    Code::Timeout,
                    format!(
                        "no access token within timeout_ms: another process of the {} scope was fetching one",
                        shared.describe()
                    ),
                    call.info(),
                ));
            }
            let lease = left.min(MAX_LEASE);
            match shared.with(|s| s.token_turn(shared.holder, now_ms(), lease)) {
                TokenTurn::Token(token) => return Ok(issued_from_shared(&token, refresh)),
                TokenTurn::Latched(latch) => {
                    return Err(self.latched(&latch, shared.describe(), call.info()))
                }
                TokenTurn::Wait(wait) => {
                    if !crate::cancel::sleep(wait.min(left), call.cancel.as_ref()) {
                        call.check_cancelled()?;
                    }
                }
                TokenTurn::Mine => {
                    let granted = self.renew(refresh, transport, call);
                    let shared_token = granted.as_ref().ok().map(shared_from_issued);
                    if let Err(Refusal::Refused(latch, _)) = &granted {
                        shared.with(|s| s.set_latch(latch));
                    }
                    shared.with(|s| s.end_grant(shared.holder, shared_token.as_ref()));
                    return granted.map_err(Refusal::into_error);
                }
            }
        }
    }

    fn latched(&self, latch: &Latch, scope: &str, info: CallInfo) -> Error {
        let when = UNIX_EPOCH + Duration::from_secs_f64(latch.at.max(0.0) / 1000.0);
        Error::with_info(
            Code::Unauthorized,
            format!(
                "the client credentials of client_id \"{}\" were refused at {} by {} ({}); not sent again until the secret changes, `ycm auth reset` clears the latch of the {scope} scope, or {} minutes pass (YCM blocks an IP after 5 failed authentications)",
                self.client_id,
                httpdate::fmt_http_date(when),
                latch.by,
                latch.reason,
                LATCH_LIFETIME.as_secs() / 60,
            ),
            info,
        )
    }

    /// The refresh grant when there is a refresh token, and the client-credentials grant when
    /// there is none or it was refused.
    fn renew(
        &self,
        refresh: Option<&Secret>,
        transport: &Transport,
        call: &mut Call,
    ) -> std::result::Result<Issued, Refusal> {
        if let Some(refresh) = refresh {
            let form = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", refresh.expose())
                .finish();
            // A refused refresh token (in whatever form) falls back to the credentials.
            match self.request(transport, call, form, refresh) {
                Ok(Grant::Issued(issued)) => {
                    logging::note(
                        Level::Info,
                        TARGET_AUTH,
                        "access token renewed with the refresh grant",
                    );
                    return Ok(issued);
                }
                Ok(Grant::Refused(..)) => {}
                Err(Refusal::Error(e)) if e.code() == Code::Api => {}
                Err(other) => return Err(other),
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
            Grant::Refused(status, errcode, detail) => {
                let error = Error::with_info(
                    Code::Unauthorized,
                    format!(
                        "the token endpoint refused the client credentials of client_id \"{}\" ({detail}); check client_id and client_secret. Never retried: YCM blocks an IP after 5 failed authentications",
                        self.client_id
                    ),
                    CallInfo {
                        api_errcode: errcode,
                        ..call.info_with_status(status)
                    },
                );
                let latch = Latch {
                    at: now_ms(),
                    by: this_process(),
                    reason: detail,
                };
                Err(Refusal::Refused(Box::new(latch), error))
            }
        }
    }

    /// Sends one grant request whose form carries `sent`; the answer's text is scrubbed of
    /// it and of the client secret before it can reach a message. A `Failed` envelope
    /// speaks by its errcode and errmsg, whatever the HTTP status.
    fn request(
        &self,
        transport: &Transport,
        call: &mut Call,
        form: String,
        sent: &Secret,
    ) -> std::result::Result<Grant, Refusal> {
        let mut request = HttpRequest {
            method: Method::POST,
            path: TOKEN_PATH.to_string(),
            authorization: None,
            body: Some(("application/x-www-form-urlencoded", form.into_bytes())),
            resend_safe: true,
        };
        let response = transport.send(&mut request, call, None);
        if let Some((_, form)) = request.body.as_mut() {
            form.zeroize();
        }
        let (response, _) = response?;
        let redactor = Redactor::new([sent, &self.client_secret]);
        let body = redactor.bytes(&response.body);
        let compressed =
            unrequested_compression(response.content_encoding.as_deref(), &body, &redactor);
        let status = response.status;
        let info = call.info_with_status(status);
        // A known YCM code acts whatever the status; a 403 with another code (a cap on
        // tokens, say) is not a verdict on the credentials, and a 2xx `Failed` is no grant.
        if let (None, Some((errcode, errmsg))) = (&compressed, failed_error(&body)) {
            let said = envelope_text(errcode, errmsg.as_deref(), &body, &redactor);
            let error = |code: Code, what: &str| {
                let info = CallInfo {
                    api_errcode: errcode,
                    ..info.clone()
                };
                Refusal::Error(Error::with_info(
                    code,
                    format!("the token endpoint {what} (HTTP {status}): {said}"),
                    info,
                ))
            };
            match errcodes::lookup(errcode).map(|c| c.reaction) {
                Some(Reaction::RefuseCredentials) => {
                    return Ok(Grant::Refused(
                        status,
                        errcode,
                        format!("HTTP {status}: {said}"),
                    ))
                }
                Some(Reaction::Throttle) => {
                    return Err(error(Code::RateLimited, "is rate limiting this client"))
                }
                Some(_) => return Err(error(Code::Api, "refused the grant")),
                None if (200..=299).contains(&status) || (status == 403 && errcode != 0) => {
                    return Err(error(Code::Api, "refused the grant"))
                }
                None => {}
            }
        }
        // What the answer says, for a message: never its 2xx body (it may hold new tokens).
        let said = |of_refusal: bool| match &compressed {
            Some(compressed) => compressed.clone(),
            None if of_refusal => oauth_error(&body, &redactor),
            None => summarize(&body, &redactor),
        };
        match status {
            200..=299 => match &compressed {
                Some(compressed) => Err(compressed.clone()),
                None => parse_grant(&body),
            }
            .map(Grant::Issued)
            .map_err(|why| {
                Refusal::Error(Error::with_info(
                    Code::BadResponse,
                    format!("the token endpoint's answer is unusable: {why}"),
                    info,
                ))
            }),
            400 | 401 | 403 => Ok(Grant::Refused(
                status,
                0,
                format!("HTTP {status}: {}", said(true)),
            )),
            429 => Err(Refusal::Error(Error::with_info(
                Code::RateLimited,
                format!(
                    "the token endpoint is rate limiting this client (HTTP 429): {}",
                    said(false)
                ),
                info,
            ))),
            status => Err(Refusal::Error(Error::with_info(
                Code::Http,
                format!("the token endpoint answered HTTP {status}: {}", said(false)),
                info,
            ))),
        }
    }
}

/// Why a grant failed: a refusal of the credentials (which the scope latches), or any other
/// error.
enum Refusal {
    Refused(Box<Latch>, Error),
    Error(Error),
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Refusal {
        Refusal::Error(error)
    }
}

impl Refusal {
    fn into_error(self) -> Error {
        match self {
            Refusal::Refused(_, error) | Refusal::Error(error) => error,
        }
    }
}

/// The errmsg of a token endpoint's `Failed` envelope, redacted and cut, with its errcode
/// and any OAuth `error` member beside it.
fn envelope_text(errcode: i64, errmsg: Option<&str>, body: &[u8], redactor: &Redactor) -> String {
    let text = errmsg.map(|m| redactor.text(m).into_owned());
    let mut said = match (text, errcode) {
        (Some(text), 0) => cut(&text, 200).to_string(),
        (Some(text), code) => format!("{} (errcode {code})", cut(&text, 200)),
        (None, 0) => "no error code or message given".to_string(),
        (None, code) => format!("errcode {code}"),
    };
    let oauth: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if oauth.get("error").and_then(Value::as_str).is_some() {
        said = format!("{said}; {}", oauth_error(body, redactor));
    }
    said
}

/// A token read from the shared state, as the process cache keeps it (with this process's
/// own refresh token, which is never shared).
fn issued_from_shared(token: &SharedToken, refresh: Option<&Secret>) -> Issued {
    let now = now_ms();
    let from_now = |at: f64| Duration::from_secs_f64(((at - now) / 1000.0).max(0.0));
    Issued {
        access: token.access.clone(),
        refresh: refresh.cloned(),
        renew_in: from_now(token.renew_at),
        expires_in: from_now(token.expires_at),
    }
}

/// A token this process was issued, as the shared state keeps it.
fn shared_from_issued(issued: &Issued) -> SharedToken {
    let now = now_ms();
    SharedToken {
        access: issued.access.clone(),
        granted_at: now,
        renew_at: now + issued.renew_in.as_secs_f64() * 1000.0,
        expires_at: now + issued.expires_in.as_secs_f64() * 1000.0,
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
    Ok(Issued::fresh(Secret::new(access), refresh, expires_in))
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
        assert!(
            matches!(ok, Ok(Issued { expires_in, .. }) if expires_in == Duration::from_secs(60))
        );
        assert!(parse_grant(b"{}").is_err());
        let leaky = parse_grant(br#"{"access_token":"FreshToken"} trailing"#);
        assert!(matches!(leaky, Err(why) if !why.contains("FreshToken")));
        assert!(parse_grant(br#"{"access_token":"a b"}"#).is_err());
        assert!(parse_grant(br#"{"access_token":"a","expires_in":-1}"#).is_err());
        let huge = parse_grant(br#"{"access_token":"a","expires_in":18446744073709551615}"#);
        assert!(matches!(
            huge,
            Ok(Issued { expires_in, .. }) if expires_in == Duration::from_secs(MAX_EXPIRES_IN)
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
