//! The server's shared state: configuration, stored users, issued tokens, fault settings,
//! the rate limiter's buckets, counters and the request log, all behind one `std::sync::Mutex` that is only ever held
//! for short, non-async sections (never across a sleep or an await). Also defines the
//! public `Stats` and `LoggedRequest` records.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::ratelimit::Limiter;
use crate::tokens::TokenStore;
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
    /// Responses with HTTP status 401 (rejected token or client credentials).
    pub unauthorized: u64,
    /// HTTP 429 answers of the rate limiter (an empty token bucket; injected faults with
    /// status 429 are not counted here).
    #[serde(default)]
    pub rate_limited: u64,
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
    pub stats: Stats,
    /// Every PUT request per path id (any outcome), kept apart from `Stats` so reading the
    /// scalar counters stays cheap after a 100,000-user run.
    pub puts_by_user: BTreeMap<i64, u64>,
    /// Successful (applied) updates per user.
    pub updates_by_user: BTreeMap<i64, u64>,
    pub log: VecDeque<LoggedRequest>,
}

impl Inner {
    fn new(users: UserTable, limiter: Limiter) -> Inner {
        Inner {
            users,
            tokens: TokenStore::default(),
            faults: Faults::default(),
            limiter,
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

    /// Records the end of an API request.
    pub(crate) fn record(&mut self, entry: LoggedRequest) {
        if entry.status == 401 {
            self.stats.unauthorized += 1;
        }
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(entry);
    }

    /// Clears counters, log and faults, stores `users` (a fresh seed) and puts back the
    /// configured rate limit with full buckets; issued tokens survive.
    pub(crate) fn reset(&mut self, users: UserTable, limiter: Limiter) {
        self.users = users;
        self.limiter = limiter;
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
        let limiter = Limiter::new(config.rate_limit);
        Shared {
            config,
            inner: Mutex::new(Inner::new(users, limiter)),
        }
    }

    /// Reseeds the configured users and clears counters, log and faults. The seed is built
    /// before the lock is taken, so a large one does not stall requests meanwhile.
    pub(crate) fn reset(&self) {
        let users = crate::users::seed(self.config.users);
        self.lock()
            .reset(users, Limiter::new(self.config.rate_limit));
    }

    /// Locks the state. A panic while holding the lock cannot leave it half-updated in a
    /// way that matters to a mock, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `token` is accepted as an access token (the static one or a live issued one).
    pub(crate) fn access_token_ok(&self, token: &str) -> bool {
        if self.config.access_token.as_deref() == Some(token) {
            return true;
        }
        self.lock().tokens.access_is_valid(token)
    }
}
