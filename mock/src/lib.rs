//! `ycm-mock`: a stateful, faithful mock of the Yeastar Central Management (YCM) user API
//! for tests, demos and benchmarks. [`MockServer::start`] binds a port and serves the token,
//! get-user, list-users and update-user endpoints (plus a `/__mock/` admin interface) on a
//! tokio runtime of its own (plain HTTP, or HTTPS with a [`TlsIdentity`]), so synchronous
//! callers need no async runtime; the handle reads counters, the request log and stored
//! users, injects faults, sets the error style, unblocks locked-out addresses, and stops the
//! server when dropped. The `ycm-mock` binary wraps the same server in a CLI. Every
//! `errcode` it answers with is declared in [`errcode`].

mod admin;
mod api;
mod envelope;
pub mod errcode;
pub mod fault_matrix;
mod faults;
mod lockout;
mod oauth;
mod pipeline;
mod ratelimit;
mod redact;
pub mod scripted;
mod state;
mod style;
mod tls;
mod tokens;
mod users;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::routing::{delete, get, post};
use axum::Router;
use tokio::sync::oneshot;

pub use faults::Faults;
pub use ratelimit::RateLimit;
pub use state::{LoggedRequest, Stats, LOG_CAPACITY};
pub use style::ErrorStyle;
pub use tls::TlsIdentity;
pub use users::{DEFAULT_USERS, MAX_USERS};

use state::Shared;

/// How long a stopping server waits for in-flight requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Server settings.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// A static access token accepted alongside issued ones; `None` accepts issued tokens only.
    pub access_token: Option<String>,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
    /// Lifetime of issued access tokens (also the `expires_in` sent).
    pub token_ttl: Duration,
    /// Lifetime of issued refresh tokens.
    pub refresh_ttl: Duration,
    /// Delay added to every API request (see also [`Faults::latency_ms`]).
    pub latency: Duration,
    /// Write one line per API request to stderr.
    pub log_requests: bool,
    /// Serve HTTPS with this certificate and key instead of plain HTTP (default `None`).
    pub tls: Option<TlsIdentity>,
    /// How many users to seed, in all (default [`DEFAULT_USERS`], at most [`MAX_USERS`]):
    /// the fixed users 13329, 13330, 13331 first (the first `users` of them when fewer),
    /// then generated ids 20001 upward. The same on every start and after every reset.
    pub users: usize,
    /// YCM's rate limit, a token bucket per client (default `None`: unlimited). Can be
    /// changed at run time with [`MockServer::set_rate_limit`]; a reset restores this one.
    pub rate_limit: Option<RateLimit>,
    /// With which HTTP status `Failed` envelopes are sent (default [`ErrorStyle::Http`]).
    /// Can be changed at run time with [`MockServer::set_error_style`]; a reset restores
    /// this one.
    pub error_style: ErrorStyle,
    /// At most this many valid (unexpired, unrevoked, not replaced) issued access tokens at
    /// once; a grant beyond that is refused (HTTP 403, errcode 1000044). Default `None`:
    /// no cap. `Some(0)` is refused by [`MockServer::start`].
    pub max_tokens: Option<usize>,
    /// After this many failed authentications in a row from one source address (client
    /// credentials refused at a token endpoint), every authentication from it is refused
    /// (HTTP 403, errcode 1000042) until [`MockServer::unblock`]. Default `None`: never.
    /// `Some(0)` is refused by [`MockServer::start`].
    pub lockout_after: Option<u32>,
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            access_token: Some("ycm-mock-token".into()),
            client_id: "ycm-mock-client".into(),
            client_secret: "ycm-mock-secret".into(),
            token_ttl: Duration::from_secs(1800),
            refresh_ttl: Duration::from_secs(15 * 24 * 3600),
            latency: Duration::ZERO,
            log_requests: false,
            tls: None,
            users: DEFAULT_USERS,
            rate_limit: None,
            error_style: ErrorStyle::Http,
            max_tokens: None,
            lockout_after: None,
        }
    }
}

/// Why `config` cannot be served, if it cannot.
fn check_config(config: &MockConfig) -> std::io::Result<()> {
    let invalid = |msg: String| Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg));
    if config.users > MAX_USERS {
        return invalid(format!(
            "cannot seed {} users (at most {MAX_USERS})",
            config.users
        ));
    }
    if config.max_tokens == Some(0) {
        return invalid("max_tokens must be at least 1".into());
    }
    if config.lockout_after == Some(0) {
        return invalid("lockout_after must be at least 1".into());
    }
    Ok(())
}

/// A running mock server. Stops on [`MockServer::shutdown`] or when dropped.
pub struct MockServer {
    addr: SocketAddr,
    https: bool,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The whole application: API routes, admin routes, fallbacks, and the pipeline around all.
fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/dm/open_api/oauth/token", post(oauth::token))
        .route(
            "/dm/open_api/oauth/token/refresh_token",
            delete(oauth::revoke_refresh_tokens),
        )
        .route(
            "/dm/open_api/v1/users/{user_id}",
            get(api::get_user).put(api::update_user),
        )
        .route("/dm/open_api/v2/users", get(api::list_users))
        .merge(admin::routes())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            pipeline::api_pipeline,
        ))
        .with_state(shared)
}

impl MockServer {
    /// Binds `addr` (`"127.0.0.1:0"` picks a free port) and starts serving on a runtime of
    /// its own, over HTTPS when [`MockConfig::tls`] is set. Fails only when the address
    /// cannot be bound, the runtime cannot start, or the TLS certificate or key is unusable
    /// (`ErrorKind::InvalidData`), or the configuration is impossible
    /// (`ErrorKind::InvalidInput`: [`MockConfig::users`] above [`MAX_USERS`], a
    /// [`MockConfig::max_tokens`] or [`MockConfig::lockout_after`] of zero).
    pub fn start(addr: &str, config: MockConfig) -> std::io::Result<MockServer> {
        check_config(&config)?;
        let acceptor = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let https = acceptor.is_some();
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ycm-mock")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared::new(config));
        let router = app(shared.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        // Converting the listener needs the runtime's reactor; do it here so errors surface.
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let thread = std::thread::Builder::new()
            .name("ycm-mock-server".into())
            .spawn(move || {
                runtime.block_on(serve(listener, router, acceptor, stop_rx));
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(MockServer {
            addr,
            https,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`, or `https://127.0.0.1:40123` with TLS
    /// (no trailing slash). The host is the bound address; with TLS, clients may also use a
    /// name the certificate covers, such as `https://localhost:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Every API request received so far, oldest first (at most [`LOG_CAPACITY`]).
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// The stored user `id`, in the shape of the GET endpoint's `data`.
    pub fn user(&self, id: i64) -> Option<serde_json::Value> {
        self.shared.lock().users.get(id).map(users::User::to_json)
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// How many PUT requests named each user id (any outcome: applied, refused, faulted or
    /// rate limited); ids never PUT are absent.
    pub fn puts_by_user(&self) -> BTreeMap<i64, u64> {
        self.shared.lock().puts_by_user.clone()
    }

    /// How many updates were applied (Success answers) to each user; ids never updated are
    /// absent.
    pub fn updates_by_user(&self) -> BTreeMap<i64, u64> {
        self.shared.lock().updates_by_user.clone()
    }

    /// PUT requests that named user `id` (any outcome), 0 when none.
    pub fn puts_of(&self, id: i64) -> u64 {
        self.shared
            .lock()
            .puts_by_user
            .get(&id)
            .copied()
            .unwrap_or(0)
    }

    /// Updates applied to user `id`, 0 when none.
    pub fn updates_of(&self, id: i64) -> u64 {
        self.shared
            .lock()
            .updates_by_user
            .get(&id)
            .copied()
            .unwrap_or(0)
    }

    /// Replaces the rate limit (`None`: unlimited); every bucket starts full again.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.shared.lock().limiter.set(limit);
    }

    /// The rate limit in force.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.shared.lock().limiter.limit()
    }

    /// Replaces the error style (with which HTTP status `Failed` envelopes are sent).
    pub fn set_error_style(&self, style: ErrorStyle) {
        self.shared.lock().error_style = style;
    }

    /// The error style in force.
    pub fn error_style(&self) -> ErrorStyle {
        self.shared.lock().error_style
    }

    /// Unblocks every locked-out source address and forgets every count of failures.
    pub fn unblock(&self) {
        self.shared.lock().lockout.unblock_all();
    }

    /// The source addresses locked out now, in ascending order.
    pub fn blocked(&self) -> Vec<IpAddr> {
        self.shared.lock().lockout.blocked()
    }

    /// Every issued access and refresh token stops working (the static token still works).
    pub fn revoke_tokens(&self) {
        self.shared.lock().tokens.revoke_all();
    }

    /// Every issued access token expires now (it is answered with 1000035 `TOKEN_EXPIRED`
    /// from then on); refresh tokens still work.
    pub fn expire_access_tokens(&self) {
        self.shared.lock().tokens.expire_access();
    }

    /// Clears counters (per-user ones too), log and faults, reseeds the same
    /// [`MockConfig::users`] users, restores [`MockConfig::rate_limit`] with full buckets and
    /// [`MockConfig::error_style`], and unblocks every address (issued tokens survive).
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Stops the server: in-flight requests get up to two seconds, then everything is
    /// dropped. Also happens on drop.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Serves (HTTP, or HTTPS with `acceptor`) until `stop` fires (or its sender is dropped),
/// then shuts down gracefully for at most [`SHUTDOWN_GRACE`].
async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    stop: oneshot::Receiver<()>,
) {
    let (grace_tx, grace_rx) = oneshot::channel::<()>();
    let signal = async move {
        let _ = grace_rx.await;
    };
    let server = tokio::spawn(async move {
        match acceptor {
            None => {
                let service = router.into_make_service_with_connect_info::<SocketAddr>();
                let _ = axum::serve(listener, service)
                    .with_graceful_shutdown(signal)
                    .await;
            }
            Some(acceptor) => tls::serve(listener, acceptor, router, signal).await,
        }
    });
    let _ = stop.await;
    let _ = grace_tx.send(());
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
}
