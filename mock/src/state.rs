//! The server's shared state: configuration, stored users, issued tokens, fault settings,
//! the rate limiter's buckets, the error style, the lock-out of source addresses, counters
//! and the request log, all behind one `std::sync::Mutex` that is only ever held for short,
//! non-async sections (never across a sleep or an await). Also defines the public `Stats`
//! and `LoggedRequest` records.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::lockout::Lockout;
use crate::ratelimit::Limiter;
use crate::style::ErrorStyle;
use crate::tokens::{AccessState, TokenStore};
use crate::users::UserTable;
use crate::MockConfig;

/// The request log keeps at most this many entries (the oldest are dropped first), so a
/// long benchmark run cannot grow memory without bound.
pub const LOG_CAPACITY: usize = 200_000;

/// Counters of API requests (admin requests are not counted).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Every API request, whatever its outcome (faulted ones included).
    pub requests: u64,
    /// Requests to the token endpoints (`POST .../oauth/token`, `DELETE .../oauth/token/refresh_token`).
    pub token_requests: u64,
    /// `GET /dm/open_api/v1/users/{id}` requests.
    pub get_user: u64,
    /// `GET /dm/open_api/v2/users` requests.
    pub list_users: u64,
    /// `PUT /dm/open_api/v1/users/{id}` requests.
    pub update_user: u64,
    /// Refusals of a token or of client credentials: the answers sent with HTTP 401 in the
    /// `http` error style (counted in the `ok` style too, where they are sent with 200).
    pub unauthorized: u64,
    /// Answers of the rate limiter (an empty token bucket, errcode 1000040: HTTP 429 in the
    /// `http` style, 200 in the `ok` style; injected faults with status 429 are not counted
    /// here).
    #[serde(default)]
    pub rate_limited: u64,
    /// Token pairs issued (`client_credentials` and `refresh_token` grants).
    #[serde(default)]
    pub token_grants: u64,
    /// `POST .../oauth/token` requests refused with a `Failed` envelope, for any reason
    /// (bad form, grant type or credentials, invalid refresh token, token cap, lock-out,
    /// rate limit, missing `User-Agent`); injected faults are not counted.
    #[serde(default)]
    pub refused_grants: u64,
    /// Times a source address got blocked (`lockout_after` failures in a row).
    #[serde(default)]
    pub lockouts: u64,
    /// Authentications (token endpoint requests) refused because their address is blocked.
    #[serde(default)]
    pub locked_out_requests: u64,
}

/// One API request as the server saw it, with every secret redacted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// HTTP method, e.g. `PUT`.
    pub method: String,
    /// Path including the query string, e.g. `/dm/open_api/v2/users?pageSize=50`, with the
    /// value of any secret-named pair (`access_token=...`) replaced by `[REDACTED]`.
    pub path: String,
    /// The `User-Agent` header, when sent.
    pub user_agent: Option<String>,
    /// The `Authorization` header with its credential replaced: `Bearer [REDACTED]`.
    pub authorization: Option<String>,
    /// The `Content-Type` header, when sent.
    pub content_type: Option<String>,
    /// The body as (lossy) UTF-8, cut to 64 KiB; the value of every secret-named key (form
    /// or JSON, at any depth: `client_secret`, `refresh_token`, `password`, ...) is replaced
    /// by `[REDACTED]`.
    pub body: String,
    /// The HTTP status answered.
    pub status: u16,
}

/// Which endpoint an API request targets, for the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Token,
    GetUser,
    ListUsers,
    UpdateUser,
    Other,
}

/// Everything mutable.
pub(crate) struct Inner {
    pub users: UserTable,
    pub tokens: TokenStore,
    pub faults: Faults,
    pub limiter: Limiter,
    pub error_style: ErrorStyle,
    pub lockout: Lockout,
    pub stats: Stats,
    /// Every PUT request per path id (any outcome), kept apart from `Stats` so reading the
    /// scalar counters stays cheap after a 100,000-user run.
    pub puts_by_user: BTreeMap<i64, u64>,
    /// Successful (applied) updates per user.
    pub updates_by_user: BTreeMap<i64, u64>,
    pub log: VecDeque<LoggedRequest>,
}

impl Inner {
    fn new(config: &MockConfig, users: UserTable) -> Inner {
        Inner {
            users,
            tokens: TokenStore::default(),
            faults: Faults::default(),
            limiter: Limiter::new(config.rate_limit),
            error_style: config.error_style,
            lockout: Lockout::new(config.lockout_after),
            stats: Stats::default(),
            puts_by_user: BTreeMap::new(),
            updates_by_user: BTreeMap::new(),
            log: VecDeque::new(),
        }
    }

    /// Counts the start of an API request.
    pub(crate) fn count(&mut self, kind: RequestKind) {
        self.stats.requests += 1;
        match kind {
            RequestKind::Token => self.stats.token_requests += 1,
            RequestKind::GetUser => self.stats.get_user += 1,
            RequestKind::ListUsers => self.stats.list_users += 1,
            RequestKind::UpdateUser => self.stats.update_user += 1,
            RequestKind::Other => {}
        }
    }

    /// Records the end of an API request; `http_status` is its status in the `http` error
    /// style (the entry's is the one sent).
    pub(crate) fn record(&mut self, entry: LoggedRequest, http_status: u16) {
        if http_status == 401 {
            self.stats.unauthorized += 1;
        }
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(entry);
    }

    /// Clears counters, log and faults, stores `users` (a fresh seed), puts back the
    /// configured rate limit with full buckets and the configured error style, and unblocks
    /// every address; issued tokens survive.
    pub(crate) fn reset(&mut self, config: &MockConfig, users: UserTable) {
        self.users = users;
        self.limiter = Limiter::new(config.rate_limit);
        self.error_style = config.error_style;
        self.lockout = Lockout::new(config.lockout_after);
        self.faults = Faults::default();
        self.stats = Stats::default();
        self.puts_by_user.clear();
        self.updates_by_user.clear();
        self.log.clear();
    }
}

/// The state shared by every handler and by `MockServer`.
pub(crate) struct Shared {
    pub config: MockConfig,
    inner: Mutex<Inner>,
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Shared {
        let users = crate::users::seed(config.users);
        let inner = Inner::new(&config, users);
        Shared {
            config,
            inner: Mutex::new(inner),
        }
    }

    /// Reseeds the configured users and clears counters, log and faults. The seed is built
    /// before the lock is taken, so a large one does not stall requests meanwhile.
    pub(crate) fn reset(&self) {
        let users = crate::users::seed(self.config.users);
        self.lock().reset(&self.config, users);
    }

    /// Locks the state. A panic while holding the lock cannot leave it half-updated in a
    /// way that matters to a mock, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What `token` is as an access token (the static one is always valid).
    pub(crate) fn access_state(&self, token: &str) -> AccessState {
        if self.config.access_token.as_deref() == Some(token) {
            return AccessState::Valid;
        }
        self.lock().tokens.access_state(token)
    }
}
