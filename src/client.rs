//! The [`Client`]: one configuration, one transport and one token source, shared by every
//! call (it is `Send + Sync`; share one across threads). Each call validates its arguments
//! before any I/O, gets a token, sends its request within one time budget, replays once after
//! a 401 when the client can renew its token, scrubs the token it sent out of the response
//! body, and turns the response into a value or an [`Error`].

use crate::account::{ListQuery, User, UserPage, UserType};
use crate::auth::Tokens;
use crate::cancel::Cancel;
use crate::config::Config;
use crate::errcodes::Reaction;
use crate::error::{CallInfo, Code, Error, Result};
use crate::response::{interpret, Reply};
use crate::secret::Redactor;
use crate::shared_state::{Key, Shared, Status};
use crate::transport::{Call, HttpRequest, Pace, Transport};
use crate::user::{PbxCreationLimit, UserUpdate};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use ureq::http::Method;

/// A YCM API client. Thread-safe: share one across threads.
///
/// # Example
///
/// ```no_run
/// use ycm::{Auth, Client, Config, Secret, UserUpdate};
/// let config = Config::new(
///     "https://ycm.yeastar.com",
///     Auth::ClientCredentials { client_id: "ID".into(), client_secret: Secret::new("SECRET") },
/// )?;
/// let client = Client::new(config)?;
/// let done = client.update_user(13329, &UserUpdate::new().company("New Company Name"))?;
/// println!("requestId {}", done.info.request_id);
/// # Ok::<(), ycm::Error>(())
/// ```
pub struct Client {
    config: Config,
    transport: Transport,
    tokens: Tokens,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The result of a successful update.
///
/// # Example
///
/// ```no_run
/// # let client = ycm::Client::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// let done = client.update_user_json(13329, r#"{"remark": "moved to EU"}"#)?;
/// println!("{} at {} after {} attempt(s)", done.info.request_id, done.info.time, done.info.attempts);
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Updated {
    /// What is known about the exchange: HTTP status, attempts, `requestId`, `time`.
    pub info: CallInfo,
}

/// A read's typed value and its call information.
///
/// # Example
///
/// ```no_run
/// # let client = ycm::Client::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// let read = client.get_user(13329)?;
/// println!("{} (requestId {}, HTTP {})", read.value.company, read.info.request_id, read.info.http_status);
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Read<T> {
    /// The value read.
    pub value: T,
    /// What is known about the exchange.
    pub info: CallInfo,
}

impl Client {
    /// Builds a client; checks the configuration and loads `ca_file`, but sends nothing.
    pub fn new(config: Config) -> Result<Client> {
        config.check()?;
        let key = Key::new(config.base_url(), &config.auth);
        let shared = Shared::open(
            &config.shared_state,
            config.state_dir.as_ref(),
            config.ca_file.as_deref(),
            &key,
        )?;
        let transport = Transport::new(&config, shared)?;
        let tokens = Tokens::new(&config.auth);
        Ok(Client {
            config,
            transport,
            tokens,
        })
    }

    /// Builds a client from the JSON configuration of the C ABI.
    pub fn from_json(config_json: &str) -> Result<Client> {
        Client::new(Config::from_json(config_json)?)
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replaces the static access token (for example with a fresh one from your own token
    /// store). Safe to call while other threads are making calls.
    pub fn set_access_token(&self, token: &str) -> Result<()> {
        self.tokens.set_static(token)
    }

    /// What the client ID's shared state holds now: the scope, the shared token's age and
    /// expiry, the budget's level, the refusal latch (never a secret).
    pub fn shared_status(&self) -> Status {
        let shared = self.transport.shared();
        let limit = self
            .config
            .rate_limit
            .map(crate::gate::RateLimit::with_headroom);
        shared.with(|s| s.status(limit, crate::gate::now_ms()))
    }

    /// The HTTP proxy the client goes through, as messages name it (`proxy host:port (from
    /// SOURCE)`, never its credentials); `None` when it connects directly.
    pub fn proxy_description(&self) -> Option<String> {
        self.transport.proxy_description()
    }

    /// Drops the client ID's shared token and refusal latch (`ycm auth reset`); the next
    /// call grants a new token.
    pub fn reset_shared_state(&self) {
        self.transport.shared().with(|s| s.reset());
    }

    /// Updates user `user_id` (`PUT /dm/open_api/v1/users/{userId}`).
    pub fn update_user(&self, user_id: i64, update: &UserUpdate) -> Result<Updated> {
        self.calls(None).update_user(user_id, update)
    }

    /// Updates user `user_id` from a JSON body with the wire names of the YCM page.
    pub fn update_user_json(&self, user_id: i64, body_json: &str) -> Result<Updated> {
        self.calls(None).update_user_json(user_id, body_json)
    }

    /// Reads user `user_id` (`GET /dm/open_api/v1/users/{userId}`).
    pub fn get_user(&self, user_id: i64) -> Result<Read<User>> {
        self.calls(None).get_user(user_id)
    }

    /// Reads one page of users (`GET /dm/open_api/v2/users`).
    pub fn list_users(&self, query: &ListQuery) -> Result<Read<UserPage>> {
        self.calls(None).list_users(query)
    }

    /// Like [`Client::get_user`], but returns the `data` object as the server sent it.
    pub fn get_user_data(&self, user_id: i64) -> Result<(Value, CallInfo)> {
        self.calls(None).get_user_data(user_id)
    }

    /// Like [`Client::list_users`], but returns the `data` object as the server sent it.
    pub fn list_users_data(&self, query: &ListQuery) -> Result<(Value, CallInfo)> {
        self.calls(None).list_users_data(query)
    }

    /// The same calls, stopped by `cancel`: once it is triggered (from any thread) a call
    /// under way returns [`Code::Cancelled`] within milliseconds, sends nothing further and
    /// closes its connection; the client stays usable.
    ///
    /// ```no_run
    /// # let client = ycm::Client::from_json(r#"{"base_url":"http://127.0.0.1:1","access_token":"t"}"#)?;
    /// let cancel = ycm::Cancel::new();
    /// let stopper = cancel.clone();
    /// std::thread::spawn(move || { std::thread::sleep(std::time::Duration::from_secs(1)); stopper.cancel() });
    /// match client.with_cancel(&cancel).get_user(13329) {
    ///     Err(e) if e.code() == ycm::Code::Cancelled => println!("stopped"),
    ///     other => println!("{other:?}"),
    /// }
    /// # Ok::<(), ycm::Error>(())
    /// ```
    pub fn with_cancel<'a>(&'a self, cancel: &'a Cancel) -> Cancellable<'a> {
        self.calls(Some(cancel))
    }

    /// The same calls, not cancellable (what the plain methods use).
    pub fn without_cancel(&self) -> Cancellable<'_> {
        self.calls(None)
    }

    fn calls<'a>(&'a self, cancel: Option<&'a Cancel>) -> Cancellable<'a> {
        Cancellable {
            client: self,
            cancel,
            pace: None,
        }
    }

    /// The calls, each attempt passing `pace` (the bulk engine's shared rate limiter), and
    /// stopped by `cancel` when one is given.
    pub(crate) fn paced<'a>(
        &'a self,
        pace: &'a Arc<dyn Pace>,
        cancel: Option<&'a Cancel>,
    ) -> Cancellable<'a> {
        Cancellable {
            client: self,
            cancel,
            pace: Some(pace),
        }
    }

    /// Reads the user first and refuses a limit the server would refuse.
    fn check_limit(&self, user_id: i64, limit: u32, call: &mut Call) -> Result<()> {
        let reply = self.exchange(Method::GET, user_path(user_id), None, call)?;
        let (data, info) = data_object(reply)?;
        let user: User = typed(data, &info)?;
        let refuse = |text: String| Err(Error::with_info(Code::InvalidBody, text, info.clone()));
        if user.user_type != UserType::Reseller {
            return refuse(format!(
                "field \"pbxCreationLimit\" applies to resellers only; user {user_id} is a \"{}\" (checked by check_reseller_limit; nothing was updated)",
                user.user_type.as_str()
            ));
        }
        if i64::from(limit) < user.created_cloud_pbx {
            return refuse(format!(
                "field \"pbxCreationLimit\" ({limit}) is below the {} Cloud PBXs user {user_id} already owns (checked by check_reseller_limit; nothing was updated)",
                user.created_cloud_pbx
            ));
        }
        Ok(())
    }

    /// Sends one resource request with a bearer token on each attempt, renewing the token
    /// and replaying once after a 401 or YCM's errcode 1000035/1000036 (in any HTTP status)
    /// when the client manages its tokens.
    fn exchange(
        &self,
        method: Method,
        path: String,
        body: Option<Vec<u8>>,
        call: &mut Call,
    ) -> Result<Reply> {
        let mut request = HttpRequest {
            method,
            path,
            authorization: None,
            body: body.map(|bytes| ("application/json", bytes)),
            resend_safe: true,
        };
        let mut renewed = false;
        loop {
            let (response, token) = self
                .transport
                .send(&mut request, call, Some(&self.tokens))?;
            let Some(token) = token else {
                return Err(Error::new(
                    Code::Internal,
                    "a resource request went without a token",
                ));
            };
            let stale = response.status == 401 || response.reaction == Some(Reaction::RenewToken);
            if stale && !renewed && self.tokens.can_renew() {
                self.tokens.reject(&token, &self.transport);
                renewed = true;
                continue;
            }
            let (status, encoding) = (response.status, response.content_encoding.as_deref());
            return interpret(
                status,
                encoding,
                &response.body,
                call.attempts,
                &Redactor::new([&token]),
            )
            .map_err(|e| e.with_retry_after(response.retry_after));
        }
    }
}

/// The calls of a [`Client`] made with a [`Cancel`] (see [`Client::with_cancel`]).
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use ycm::{Cancel, Client, UserUpdate};
/// # let client = Client::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// let cancel = Cancel::new();
/// let stopper = cancel.clone();
/// std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_secs(2));
///     stopper.cancel(); // the call below returns Code::Cancelled at once
/// });
/// let result = client.with_cancel(&cancel).update_user(13329, &UserUpdate::new().remark("x"));
/// # let _ = result;
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Cancellable<'a> {
    client: &'a Client,
    cancel: Option<&'a Cancel>,
    pace: Option<&'a Arc<dyn Pace>>,
}

impl std::fmt::Debug for Cancellable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancellable")
            .field("cancel", &self.cancel)
            .field("paced", &self.pace.is_some())
            .finish_non_exhaustive()
    }
}

impl Cancellable<'_> {
    /// Updates user `user_id` (`PUT /dm/open_api/v1/users/{userId}`).
    pub fn update_user(&self, user_id: i64, update: &UserUpdate) -> Result<Updated> {
        check_user_id(user_id)?;
        let body = update.checked_json()?.into_bytes();
        let mut call = self.client.transport.start_call(self.cancel, self.pace);
        if self.client.config.check_reseller_limit {
            if let Some(PbxCreationLimit::AtMost(limit)) = update.pbx_limit() {
                self.client.check_limit(user_id, limit, &mut call)?;
            }
        }
        let reply = self
            .client
            .exchange(Method::PUT, user_path(user_id), Some(body), &mut call)?;
        Ok(Updated { info: reply.info })
    }

    /// Updates user `user_id` from a JSON body with the wire names of the YCM page.
    pub fn update_user_json(&self, user_id: i64, body_json: &str) -> Result<Updated> {
        check_user_id(user_id)?;
        self.update_user(user_id, &UserUpdate::from_json(body_json)?)
    }

    /// Reads user `user_id` (`GET /dm/open_api/v1/users/{userId}`).
    pub fn get_user(&self, user_id: i64) -> Result<Read<User>> {
        let (data, info) = self.get_user_data(user_id)?;
        Ok(Read {
            value: typed(data, &info)?,
            info,
        })
    }

    /// Reads one page of users (`GET /dm/open_api/v2/users`).
    pub fn list_users(&self, query: &ListQuery) -> Result<Read<UserPage>> {
        let (data, info) = self.list_users_data(query)?;
        Ok(Read {
            value: typed(data, &info)?,
            info,
        })
    }

    /// Like [`Cancellable::get_user`], but returns the `data` object as the server sent it.
    pub fn get_user_data(&self, user_id: i64) -> Result<(Value, CallInfo)> {
        check_user_id(user_id)?;
        let mut call = self.client.transport.start_call(self.cancel, self.pace);
        let reply = self
            .client
            .exchange(Method::GET, user_path(user_id), None, &mut call)?;
        data_object(reply)
    }

    /// Like [`Cancellable::list_users`], but returns the `data` object as the server sent it.
    pub fn list_users_data(&self, query: &ListQuery) -> Result<(Value, CallInfo)> {
        let mut call = self.client.transport.start_call(self.cancel, self.pace);
        let reply = self
            .client
            .exchange(Method::GET, query.path(), None, &mut call)?;
        data_object(reply)
    }
}

/// Checks a user id: a positive integer.
pub(crate) fn check_user_id(user_id: i64) -> Result<()> {
    if user_id <= 0 {
        return Err(Error::invalid_argument(format!(
            "user_id must be a positive integer, got {user_id}"
        )));
    }
    Ok(())
}

fn user_path(user_id: i64) -> String {
    format!("/dm/open_api/v1/users/{user_id}")
}

/// The `data` object of a read reply; a missing or non-object `data` is a bad response.
fn data_object(reply: Reply) -> Result<(Value, CallInfo)> {
    match reply.data {
        Value::Object(_) => Ok((reply.data, reply.info)),
        _ => Err(Error::with_info(
            Code::BadResponse,
            "the Success envelope has no \"data\" object",
            reply.info,
        )),
    }
}

fn typed<T: DeserializeOwned>(data: Value, info: &CallInfo) -> Result<T> {
    serde_json::from_value(data).map_err(|e| {
        Error::with_info(
            Code::BadResponse,
            format!("the \"data\" object does not describe users: {e}"),
            info.clone(),
        )
    })
}
