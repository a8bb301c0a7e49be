//! HTTP transport: one ureq [`Agent`] per client (keep-alive pool, connect timeout, rustls
//! with the web PKI roots or the caller's `ca_file`, the proxy [`crate::proxy`] chose (ureq's
//! own proxy support is off), no redirects, error statuses returned as responses, names
//! resolved by [`crate::resolver`]) and the retry loop around it. A call has
//! one deadline (`timeout_ms`) that covers every attempt and every wait (kept by
//! [`crate::net`]'s sockets, not by a per-request ureq configuration); retries happen only
//! where they are safe (connect failures, timeouts and resets before a complete response,
//! 429, 502, 503, 504), with exponential backoff and full jitter, honouring `Retry-After`.
//! A pooled connection found closed before the request was written to it is dropped and
//! the attempt made on the next one (not counted: nothing was sent). A request that fails
//! on a reused pooled connection before any response byte arrived (the server closed it
//! while the request was on its way) is re-sent once at once on a fresh connection,
//! whatever `max_retries` says. A call made with a [`Cancel`] stops as soon as it is
//! triggered. Each attempt is logged (DEBUG), each retry too (WARN).

use crate::cancel::{self, Cancel};
use crate::config::Config;
use crate::errcodes::Reaction;
use crate::error::{CallInfo, Code, Error, Result};
use crate::gate::{self, Decision, Priority, RateLimit};
use crate::logging::{self, Level, Record, TARGET_HTTP};
use crate::net::{Attempt, AttemptReport, SocketConnector};
use crate::proxy::forward::ForwardConnector;
use crate::proxy::tunnel::{TunnelConnector, TunnelError};
use crate::proxy::Proxy;
use crate::resolver::CachingResolver;
use crate::secret::Secret;
use crate::shared_state::Shared;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use ureq::config::AutoHeaderValue;
use ureq::http::{self, Method};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::transport::{Connector, RustlsConnector};
use ureq::Agent;

/// The `Accept` of every request: YCM answers JSON.
const ACCEPT_JSON: http::HeaderValue = http::HeaderValue::from_static("application/json");
/// Idle keep-alive connections a client keeps, in all and to its one host: one for each
/// worker of a bulk apply at its highest concurrency, which under a rate cap all wait, their
/// connections idle, at the same moment (ureq's defaults, 10 and 3, made most of them
/// reconnect after every wait).
const MAX_IDLE_CONNECTIONS: usize = crate::sync::MAX_CONCURRENCY as usize;
/// The most a response's `Content-Length` reserves before its body arrives.
const MAX_BODY_RESERVATION: u64 = 64 * 1024;
/// Statuses after which a request is sent again.
const RETRY_STATUSES: [u16; 4] = [429, 502, 503, 504];
/// The most retries of one call a shared gate may take over ([`Pace::after_response`]): a
/// server that keeps throttling one request while others get through must not hold it for
/// ever.
const MAX_PACED_RETRIES: u32 = 20;

/// One HTTP request, ready to send (and to send again).
pub(crate) struct HttpRequest {
    pub method: Method,
    /// Path and query, appended to the base URL.
    pub path: String,
    /// The `Authorization` of the attempt under way (set per attempt by [`Transport::send`]).
    pub authorization: Option<String>,
    /// Content type and bytes of the body, if any.
    pub body: Option<(&'static str, Vec<u8>)>,
    /// Whether the request may be sent again after a throttling or 502/503/504 answer
    /// (PUT, GET, and a token grant, which a throttled server did not act on).
    pub resend_safe: bool,
}

/// Where each attempt's bearer token comes from: asked after every wait, so that no attempt
/// carries a token that went stale while it waited.
pub(crate) trait Authorize {
    /// The token for the attempt about to start.
    fn token(&self, transport: &Transport, call: &mut Call) -> Result<Secret>;
}

/// A complete HTTP response (body read within the size cap).
pub(crate) struct HttpResponse {
    pub status: u16,
    /// The server's `Retry-After`, when present and readable.
    pub retry_after: Option<Duration>,
    /// The server's `Content-Encoding`, when present and readable (ycm asks for none).
    pub content_encoding: Option<String>,
    pub body: Vec<u8>,
    /// What YCM's answer asks of the client (an errcode's or a 429's), read once.
    pub reaction: Option<Reaction>,
}

/// A bulk run's hold on its calls: its own optional cap and its stop, consulted before each
/// attempt; the run's calls pass the client's gate at [`Priority::Bulk`], leaving
/// [`Pace::reserve`] requests of the bucket to interactive calls.
pub(crate) trait Pace: Send + Sync {
    /// Waits until the run lets an attempt start; false when the run is stopping, which ends
    /// the call as cancelled.
    fn before_attempt(&self) -> bool;
    /// Sleeps `wait` (a wait of the client's gate), or less when the run stops; false then.
    fn sleep(&self, wait: Duration) -> bool;
    /// Requests of the client's bucket that the run leaves to interactive calls.
    fn reserve(&self) -> u32;
    /// One of the run's calls was throttled (for the run's count of 429s).
    fn throttled(&self);
}

/// The time budget and attempt count of one library call, shared by all its requests.
pub(crate) struct Call {
    pub deadline: Instant,
    pub attempts: u32,
    /// Status line of the last response received in this call; 0 before the first.
    pub last_status: u16,
    /// The caller's cancel flag, if the call can be cancelled.
    pub cancel: Option<Cancel>,
    /// The shared gate every attempt of the call passes, if any.
    pub pace: Option<std::sync::Arc<dyn Pace>>,
}

impl Call {
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Fails with [`Code::Cancelled`] once the call's cancel flag is triggered.
    pub fn check_cancelled(&self) -> Result<()> {
        if self.cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Error::with_info(
                Code::Cancelled,
                "the call was cancelled by the caller",
                self.info(),
            ));
        }
        Ok(())
    }

    /// The error of a call stopped by a signal handler (its flag stops on signals).
    fn interrupted(&self) -> Error {
        Error::with_info(
            Code::Cancelled,
            "the call was interrupted by a signal",
            self.info(),
        )
    }

    /// The call information known without a response.
    pub fn info(&self) -> CallInfo {
        CallInfo {
            attempts: self.attempts,
            http_status: self.last_status,
            ..CallInfo::default()
        }
    }

    /// The call information with the status of the response that ended it.
    pub fn info_with_status(&self, http_status: u16) -> CallInfo {
        CallInfo {
            http_status,
            ..self.info()
        }
    }
}

/// The base URL as given (for messages) and in the parts every request URI is made of.
struct BaseUri {
    text: String,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    /// The path prefix, without a trailing slash (often empty).
    path: String,
}

impl BaseUri {
    fn parse(base_url: &str) -> Result<BaseUri> {
        let bad = |why: String| Error::invalid_argument(format!("base_url {base_url} {why}"));
        let uri: http::Uri = base_url
            .parse()
            .map_err(|e| bad(format!("is not a valid request URI ({e})")))?;
        let parts = uri.into_parts();
        match (parts.scheme, parts.authority) {
            (Some(scheme), Some(authority)) => Ok(BaseUri {
                text: base_url.to_string(),
                scheme,
                authority,
                path: parts
                    .path_and_query
                    .map(|p| p.path().trim_end_matches('/').to_string())
                    .unwrap_or_default(),
            }),
            _ => Err(bad("has no scheme or host".into())),
        }
    }
}

/// How messages name what the client talks to.
struct Peers {
    /// What connections are opened to: the base URL, or the proxy and where it came from.
    connect: String,
    /// The server at the far end of TLS: the base URL, and the proxy it is reached through.
    server: String,
    /// `" through the proxy host:port"`, or nothing.
    via: String,
    /// The proxy as a refused tunnel names it (empty without one).
    proxy: String,
}

impl Peers {
    fn new(base_url: &str, proxy: Option<&Proxy>) -> Peers {
        match proxy {
            None => Peers {
                connect: base_url.to_owned(),
                server: base_url.to_owned(),
                via: String::new(),
                proxy: String::new(),
            },
            Some(proxy) => {
                let via = format!(" through the proxy {}", proxy.address());
                Peers {
                    connect: format!("the {}", proxy.describe()),
                    server: format!("{base_url}{via}"),
                    via,
                    proxy: proxy.describe(),
                }
            }
        }
    }
}

/// The agent and the retry policy of a client.
pub(crate) struct Transport {
    agent: Agent,
    base: BaseUri,
    /// The proxy an http base URL is forwarded through (each request carries its
    /// credentials; [`ForwardConnector`] writes its target in absolute form); an https one's
    /// proxy lives in the [`TunnelConnector`].
    forward_proxy: Option<Arc<Proxy>>,
    peers: Peers,
    user_agent: http::HeaderValue,
    timeout: Duration,
    max_retries: u32,
    retry_base: Duration,
    retry_max: Duration,
    max_response_bytes: u64,
    connect_timeout: Duration,
    max_header_bytes: usize,
    /// The client ID's shared state: the gate's budget, the token, the latch.
    shared: Shared,
    /// The configured `rate_limit` (for messages), and what the gate keeps to.
    rate_limit: Option<RateLimit>,
    gate_limit: Option<RateLimit>,
}

impl Transport {
    pub fn new(config: &Config, shared: Shared) -> Result<Transport> {
        let roots = match &config.ca_file {
            Some(path) => load_ca_file(path)?,
            None => RootCerts::WebPki,
        };
        let proxy = crate::proxy::route(&config.proxy, &config.base_url, &|name| {
            std::env::var(name).ok()
        })?
        .map(Arc::new);
        let base = BaseUri::parse(config.base_url())?;
        let tunnelled = proxy
            .clone()
            .filter(|_| base.scheme == http::uri::Scheme::HTTPS);
        let forward_proxy = proxy.clone().filter(|_| tunnelled.is_none());
        let agent_config = Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .max_redirects_will_error(false)
            // Both are set on each request from values made once (ureq would make them
            // again for every request).
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
            .timeout_connect(Some(config.connect_timeout))
            .max_idle_connections(MAX_IDLE_CONNECTIONS)
            .max_idle_connections_per_host(MAX_IDLE_CONNECTIONS)
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        crate::fork::install();
        let max_header_bytes = agent_config.max_response_header_size();
        let connector = ()
            .chain(SocketConnector)
            .chain(TunnelConnector::new(tunnelled, &config.user_agent))
            .chain(ForwardConnector::new(
                forward_proxy
                    .as_ref()
                    .map(|_| format!("{}://{}", base.scheme, base.authority)),
            ))
            .chain(RustlsConnector::default());
        let resolver = CachingResolver::new(proxy.as_deref().map(Proxy::uri));
        let agent = Agent::with_parts(agent_config, connector, resolver);
        Ok(Transport {
            agent,
            peers: Peers::new(&base.text, proxy.as_deref()),
            base,
            forward_proxy,
            user_agent: http::HeaderValue::from_str(&config.user_agent)
                .map_err(|e| Error::invalid_argument(format!("user_agent: {e}")))?,
            timeout: config.timeout,
            max_retries: config.max_retries,
            retry_base: config.retry_base,
            retry_max: config.retry_max,
            max_response_bytes: config.max_response_bytes,
            connect_timeout: config.connect_timeout,
            max_header_bytes,
            rate_limit: config.rate_limit,
            gate_limit: config.rate_limit.map(RateLimit::with_headroom),
            shared,
        })
    }

    /// The proxy as messages name it, if the client goes through one.
    pub fn proxy_description(&self) -> Option<String> {
        Some(self.peers.proxy.clone()).filter(|p| !p.is_empty())
    }

    /// The client ID's shared state.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Starts the budget of one library call, cancellable with `cancel`, paced by `pace`.
    pub fn start_call(
        &self,
        cancel: Option<&Cancel>,
        pace: Option<&std::sync::Arc<dyn Pace>>,
    ) -> Call {
        Call {
            deadline: Instant::now() + self.timeout,
            attempts: 0,
            last_status: 0,
            cancel: cancel.cloned(),
            pace: pace.cloned(),
        }
    }

    /// Sends `request`, retrying where safe, until a final response or error; each attempt
    /// first passes the client's gate, then takes its bearer token from `authorize` (when
    /// given). A response with a retryable status is returned as it is once retries are
    /// exhausted, with the token its last attempt carried.
    pub fn send(
        &self,
        request: &mut HttpRequest,
        call: &mut Call,
        authorize: Option<&dyn Authorize>,
    ) -> Result<(HttpResponse, Option<Secret>)> {
        let mut retries = 0;
        let mut paced_retries = 0;
        let mut stale_resent = false;
        let mut fresh_only = false;
        loop {
            call.check_cancelled()?;
            if call.remaining().is_zero() {
                return Err(self.timed_out(request, call));
            }
            let token = self.admit_with_token(request, call, authorize)?;
            let remaining = call.remaining();
            if remaining.is_zero() {
                return Err(self.timed_out(request, call));
            }
            call.attempts += 1;
            let started = Instant::now();
            let mut found_closed = 0;
            let (outcome, report) = loop {
                let fresh = fresh_only || found_closed > MAX_IDLE_CONNECTIONS;
                let scope = Attempt::begin(call.cancel.as_ref(), call.deadline, fresh);
                let outcome = self.attempt(request, call.remaining());
                let report = scope.finish();
                if report.found_closed && !fresh {
                    // The pooled connection taken was closed before anything was written
                    // to it (the pool has dropped it): not an attempt; make it on the next
                    // pooled connection (the others may well be alive), or a new one.
                    found_closed += 1;
                    continue;
                }
                break (outcome, report);
            };
            if outcome.is_err() {
                // A response that arrived is what happened, cancelled or not.
                call.check_cancelled()?;
            }
            if report.interrupted {
                return Err(call.interrupted());
            }
            self.log_attempt(request, call, &outcome, started.elapsed());
            match &outcome {
                Ok(response) => call.last_status = response.status,
                Err(failure) if failure.http_status != 0 => call.last_status = failure.http_status,
                Err(_) => {}
            }
            let throttled = match &outcome {
                Ok(response) => response.reaction == Some(Reaction::Throttle),
                Err(_) => false,
            };
            let mut paced_retry = false;
            if let (true, Ok(response)) = (throttled, &outcome) {
                // Everyone sharing the budget pauses; this call's retry waits in the gate.
                let retry_after = response.retry_after;
                if let Some(pace) = &call.pace {
                    pace.throttled();
                }
                let wait_out = self
                    .shared
                    .throttled(self.gate_limit, retry_after, gate::now_ms());
                paced_retry = wait_out && paced_retries < MAX_PACED_RETRIES;
            }
            if let Err(failure) = &outcome {
                if !stale_resent && is_stale(failure, report) {
                    // The pooled connection was closed by the server while idle: nothing
                    // reached it, so send again now on a new connection.
                    stale_resent = true;
                    fresh_only = true;
                    self.log_retry(request, call, &failure.message, Duration::ZERO);
                    continue;
                }
            }
            fresh_only = false;
            // A POST other than a token grant is sent again only when it never reached the
            // server.
            let retry_after = match &outcome {
                Ok(response)
                    if request.resend_safe
                        && (throttled || RETRY_STATUSES.contains(&response.status)) =>
                {
                    Some(response.retry_after)
                }
                Err(failure)
                    if failure.retryable
                        && (request.resend_safe || failure.code == Code::Connect) =>
                {
                    Some(None)
                }
                _ => None,
            };
            let wait = match retry_after {
                // The gate holds the next attempt until the pause ends; give up now if the
                // pause outlasts the call's budget (a bulk call's budget waits with the run).
                Some(server_wait) if paced_retry => {
                    let pause = server_wait.unwrap_or(Duration::from_secs(1));
                    if call.pace.is_none() && pause >= call.remaining() {
                        return self.finish(outcome, request, call, token);
                    }
                    Duration::ZERO
                }
                Some(server_wait) if retries < self.max_retries => {
                    server_wait.unwrap_or_else(|| self.backoff(retries))
                }
                _ => return self.finish(outcome, request, call, token),
            };
            if wait >= call.remaining() {
                return self.finish(outcome, request, call, token);
            }
            let why = match &outcome {
                Ok(response) => format!("HTTP {}", response.status),
                Err(failure) => failure.message.clone(),
            };
            self.log_retry(request, call, &why, wait);
            if !cancel::sleep(wait, call.cancel.as_ref()) {
                call.check_cancelled()?;
                return Err(call.interrupted());
            }
            if paced_retry {
                paced_retries += 1;
            } else {
                retries += 1;
            }
        }
    }

    /// Takes the next attempt's token (which may grant one, passing the gate itself), waits
    /// for the gate, then takes the token again (a cached one, unless the wait made it
    /// stale): when that made requests of its own, the attempt is admitted again, so that it
    /// neither carries a stale token nor follows a grant outside the budget.
    fn admit_with_token(
        &self,
        request: &mut HttpRequest,
        call: &mut Call,
        authorize: Option<&dyn Authorize>,
    ) -> Result<Option<Secret>> {
        let Some(source) = authorize else {
            self.admit(request, call)?;
            return Ok(None);
        };
        source.token(self, call)?;
        loop {
            self.admit(request, call)?;
            let before = call.attempts;
            let token = source.token(self, call)?;
            if call.attempts == before {
                request.authorization = Some(format!("Bearer {}", token.expose()));
                return Ok(Some(token));
            }
        }
    }

    /// Waits until the run (if any) and the client's gate let the next attempt of `call`
    /// start. A bulk call's waits are the run's time, not its budget; a single call gives up
    /// at once with [`Code::RateLimited`] when the gate's wait outlasts its budget.
    fn admit(&self, request: &HttpRequest, call: &mut Call) -> Result<()> {
        let stopped = |call: &Call| {
            Error::with_info(
                Code::Cancelled,
                "the run was stopped before this call's next attempt",
                call.info(),
            )
        };
        if let Some(pace) = call.pace.clone() {
            let waiting = Instant::now();
            let admitted = pace.before_attempt();
            call.deadline += waiting.elapsed();
            if !admitted {
                return Err(stopped(call));
            }
        }
        let priority = match &call.pace {
            Some(pace) => Priority::Bulk {
                reserve: pace.reserve(),
            },
            None => Priority::Call,
        };
        loop {
            call.check_cancelled()?;
            let decision = self.shared.take(self.gate_limit, priority, gate::now_ms());
            let Decision::Wait(wait) = decision else {
                return Ok(());
            };
            match call.pace.clone() {
                Some(pace) => {
                    let waiting = Instant::now();
                    let slept = pace.sleep(wait);
                    call.deadline += waiting.elapsed();
                    if !slept {
                        return Err(stopped(call));
                    }
                }
                None => {
                    if wait >= call.remaining() {
                        return Err(Error::with_info(
                            Code::RateLimited,
                            format!(
                                "{} {} would have to wait {} ms for the client ID's rate budget ({}, shared in {} scope), more than the {} ms left of timeout_ms",
                                request.method,
                                path_only(&request.path),
                                wait.as_millis(),
                                self.rate_limit.map_or("learned from 429s".to_string(), |l| format!("rate_limit {l}")),
                                self.shared.describe(),
                                call.remaining().as_millis(),
                            ),
                            call.info(),
                        ));
                    }
                    if !cancel::sleep(wait, call.cancel.as_ref()) {
                        call.check_cancelled()?;
                        return Err(call.interrupted());
                    }
                }
            }
        }
    }

    /// The DEBUG record of one attempt.
    fn log_attempt(
        &self,
        request: &HttpRequest,
        call: &Call,
        outcome: &std::result::Result<HttpResponse, Failure>,
        elapsed: Duration,
    ) {
        if !logging::enabled(Level::Debug, TARGET_HTTP) {
            return;
        }
        let (http_status, request_id, message) = match outcome {
            Ok(response) => {
                let id = logging::sniff_request_id(&response.body);
                // A server echoing the bearer token as the id must not put it in a log.
                let echoed = request
                    .authorization
                    .as_deref()
                    .is_some_and(|auth| !id.is_empty() && auth.contains(id));
                (
                    response.status,
                    if echoed { "" } else { id },
                    "response received",
                )
            }
            Err(failure) => (failure.http_status, "", failure.message.as_str()),
        };
        logging::emit(&Record {
            level: Level::Debug,
            target: TARGET_HTTP,
            message,
            method: request.method.as_str(),
            path: path_only(&request.path),
            http_status,
            attempt: call.attempts,
            elapsed,
            request_id,
        });
    }

    /// The WARN record of a retry.
    fn log_retry(&self, request: &HttpRequest, call: &Call, why: &str, wait: Duration) {
        if !logging::enabled(Level::Warn, TARGET_HTTP) {
            return;
        }
        let message = format!(
            "retrying after attempt {} in {} ms: {why}",
            call.attempts,
            wait.as_millis()
        );
        logging::emit(&Record {
            level: Level::Warn,
            target: TARGET_HTTP,
            message: &message,
            method: request.method.as_str(),
            path: path_only(&request.path),
            http_status: call.last_status,
            attempt: call.attempts,
            elapsed: Duration::ZERO,
            request_id: "",
        });
    }

    fn finish(
        &self,
        outcome: std::result::Result<HttpResponse, Failure>,
        request: &HttpRequest,
        call: &Call,
        token: Option<Secret>,
    ) -> Result<(HttpResponse, Option<Secret>)> {
        outcome
            .map(|response| (response, token))
            .map_err(|failure| {
                let (code, message) = if failure.budget_spent {
                    (Code::Timeout, self.timeout_text(request))
                } else {
                    (failure.code, failure.message)
                };
                Error::with_info(code, message, call.info())
            })
    }

    fn timed_out(&self, request: &HttpRequest, call: &Call) -> Error {
        Error::with_info(Code::Timeout, self.timeout_text(request), call.info())
    }

    fn timeout_text(&self, request: &HttpRequest) -> String {
        format!(
            "{} {} did not complete within timeout_ms ({} ms)",
            request.method,
            path_only(&request.path),
            self.timeout.as_millis()
        )
    }

    /// Full-jitter exponential backoff before retry number `retry` (0-based).
    fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .retry_base
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.retry_max);
        let millis = ceiling.as_millis() as u64;
        Duration::from_millis(fastrand::u64(0..=millis))
    }

    /// The URI of `path` (path and query) under the base URL, from the base URL's parts
    /// parsed once.
    fn uri(&self, path: &str) -> std::result::Result<http::Uri, Failure> {
        let bad = |e: &dyn std::fmt::Display| {
            Failure::fatal(Code::InvalidArgument, format!("bad request URL: {e}"))
        };
        let target = if self.base.path.is_empty() {
            http::uri::PathAndQuery::try_from(path)
        } else {
            http::uri::PathAndQuery::try_from(format!("{}{path}", self.base.path))
        }
        .map_err(|e| bad(&e))?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.base.scheme.clone());
        parts.authority = Some(self.base.authority.clone());
        parts.path_and_query = Some(target);
        http::Uri::from_parts(parts).map_err(|e| bad(&e))
    }

    /// Runs one built request (the attempt's budget is enforced by [`crate::net`]).
    fn run<S: ureq::AsSendBody>(
        &self,
        request: ureq::http::Result<http::Request<S>>,
    ) -> std::result::Result<std::result::Result<http::Response<ureq::Body>, ureq::Error>, Failure>
    {
        let request = request.map_err(|e| Failure::fatal(Code::InvalidArgument, e.to_string()))?;
        Ok(self.agent.run(request))
    }

    /// One HTTP exchange within `budget`, body included.
    fn attempt(
        &self,
        request: &HttpRequest,
        budget: Duration,
    ) -> std::result::Result<HttpResponse, Failure> {
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(self.uri(&request.path)?)
            .header(http::header::USER_AGENT, self.user_agent.clone())
            .header(http::header::ACCEPT, ACCEPT_JSON);
        if let Some(value) = &request.authorization {
            builder = builder.header(http::header::AUTHORIZATION, value.as_str());
        }
        if let Some(value) = self.forward_proxy.as_ref().and_then(|p| p.authorization()) {
            builder = builder.header(http::header::PROXY_AUTHORIZATION, value.expose());
        }
        let started = Instant::now();
        let sent = match &request.body {
            Some((content_type, bytes)) => self.run(
                builder
                    .header(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static(content_type),
                    )
                    .body(bytes.as_slice()),
            )?,
            None => self.run(builder.body(()))?,
        };
        let classify = |e: ureq::Error| {
            let mut failure = self.classify(e, request);
            failure.budget_spent = started.elapsed() >= budget;
            failure
        };
        let mut response = sent.map_err(classify)?;
        let status = response.status().as_u16();
        if let (Some(proxy), 407) = (&self.forward_proxy, status) {
            // Only a proxy answers 407; nothing reached YCM.
            return Err(Failure {
                http_status: status,
                ..Failure::fatal(
                    Code::Http,
                    format!(
                        "the {} refused to forward {} {}: it answered HTTP 407 Proxy Authentication Required{}",
                        proxy.describe(),
                        request.method,
                        path_only(&request.path),
                        proxy.credentials_hint(status),
                    ),
                )
            });
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let content_encoding = response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Sized from Content-Length, so a usual body is read into one allocation (but a
        // server's word reserves no more than MAX_BODY_RESERVATION).
        let expected = response
            .body()
            .content_length()
            .unwrap_or(0)
            .min(self.max_response_bytes)
            .min(MAX_BODY_RESERVATION);
        let mut body = Vec::with_capacity(expected as usize);
        std::io::Read::read_to_end(
            &mut response
                .body_mut()
                .with_config()
                .limit(self.max_response_bytes)
                .reader(),
            &mut body,
        )
        .map_err(|e| Failure {
            http_status: status,
            ..classify(ureq::Error::from(e))
        })?;
        let reaction = crate::response::reaction(status, &body);
        Ok(HttpResponse {
            status,
            retry_after,
            content_encoding,
            body,
            reaction,
        })
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A failed attempt: what it becomes if final, and whether it may be retried.
struct Failure {
    code: Code,
    message: String,
    retryable: bool,
    budget_spent: bool,
    /// The status line's code when the failure came while reading the body; 0 before.
    http_status: u16,
}

impl Failure {
    fn fatal(code: Code, message: String) -> Failure {
        Failure {
            code,
            message,
            retryable: false,
            budget_spent: false,
            http_status: 0,
        }
    }
    fn retryable(code: Code, message: String) -> Failure {
        Failure {
            code,
            message,
            retryable: true,
            budget_spent: false,
            http_status: 0,
        }
    }
}

/// Whether a failed attempt met a pooled connection that the server had closed: it was
/// sent on a reused connection and not one byte came back (no timeout, no TLS verdict).
fn is_stale(failure: &Failure, report: AttemptReport) -> bool {
    report.sent
        && !report.opened
        && !report.received
        && failure.http_status == 0
        && matches!(failure.code, Code::Io | Code::BadResponse)
}

/// The path of a request without its query, for messages.
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

impl Transport {
    /// Maps a ureq error to a code and a message naming the request. A timeout names the
    /// budget that ran out: `connect_timeout_ms` for a connect, `timeout_ms` otherwise.
    fn classify(&self, error: ureq::Error, request: &HttpRequest) -> Failure {
        let what = format!("{} {}", request.method, path_only(&request.path));
        let peers = &self.peers;
        let (connect_to, server) = (peers.connect.as_str(), peers.server.as_str());
        let limit = self.max_response_bytes;
        match error {
            ureq::Error::Timeout(ureq::Timeout::Connect) => Failure::retryable(
                Code::Timeout,
                format!(
                    "could not connect to {connect_to} within connect_timeout_ms ({} ms)",
                    self.connect_timeout.as_millis()
                ),
            ),
            ureq::Error::Timeout(_) => {
                Failure::retryable(Code::Timeout, self.timeout_text(request))
            }
            ureq::Error::HostNotFound => Failure::retryable(
                Code::Connect,
                format!("could not resolve the host of {connect_to}"),
            ),
            ureq::Error::ConnectionFailed => {
                Failure::retryable(Code::Connect, format!("could not connect to {connect_to}"))
            }
            ureq::Error::Io(e) => {
                classify_io(e, &what, peers, limit, || self.timeout_text(request))
            }
            ureq::Error::BodyExceedsLimit(_) => too_large(&what, limit),
            ureq::Error::LargeResponseHeader(..) => Failure::fatal(
                Code::BadResponse,
                format!(
                "the response headers of {what} are larger than the {} bytes the client accepts",
                self.max_header_bytes
            ),
            ),
            ureq::Error::Tls(text) => {
                Failure::fatal(Code::Tls, format!("TLS failure with {server}: {text}"))
            }
            ureq::Error::Rustls(e) => {
                Failure::fatal(Code::Tls, format!("TLS failure with {server}: {e}"))
            }
            ureq::Error::Pem(e) => Failure::fatal(Code::Tls, format!("bad PEM data: {e:?}")),
            ureq::Error::Protocol(e) => Failure::fatal(
                Code::BadResponse,
                format!("the response to {what} is not valid HTTP/1.1 ({e})"),
            ),
            ureq::Error::BodyStalled => {
                Failure::retryable(Code::Io, format!("the response body of {what} stalled"))
            }
            ureq::Error::BadUri(text) => {
                Failure::fatal(Code::InvalidArgument, format!("bad request URL: {text}"))
            }
            other => Failure::fatal(Code::Io, format!("{what} failed: {other}")),
        }
    }
}

fn too_large(what: &str, limit: u64) -> Failure {
    Failure::fatal(
        Code::BadResponse,
        format!("the response to {what} is larger than max_response_bytes ({limit} bytes)"),
    )
}

fn classify_io(
    error: io::Error,
    what: &str,
    peers: &Peers,
    limit: u64,
    timeout_text: impl FnOnce() -> String,
) -> Failure {
    use io::ErrorKind as K;
    let (connect_to, server, via) = (&peers.connect, &peers.server, &peers.via);
    if let Some(inner) = error.get_ref() {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Failure::fatal(Code::Tls, format!("TLS failure with {server}: {tls}"));
        }
        if let Some(tunnel) = inner.downcast_ref::<TunnelError>() {
            let refusal = tunnel.refusal(&peers.proxy);
            return Failure {
                code: refusal.code,
                message: refusal.message,
                retryable: refusal.retryable,
                budget_spent: false,
                http_status: refusal.http_status,
            };
        }
        if let Some(ureq::Error::BodyExceedsLimit(_)) = inner.downcast_ref::<ureq::Error>() {
            return too_large(what, limit);
        }
    }
    match error.kind() {
        K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            Failure::retryable(
                Code::Connect,
                format!("could not connect to {connect_to}: {error}"),
            )
        }
        K::TimedOut | K::WouldBlock => Failure::retryable(Code::Timeout, timeout_text()),
        K::InvalidData => Failure::fatal(Code::Tls, format!("TLS failure with {server}: {error}")),
        _ => Failure::retryable(
            Code::Io,
            format!("the connection{via} failed during {what}: {error}"),
        ),
    }
}

fn load_ca_file(path: &std::path::Path) -> Result<RootCerts> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| Error::invalid_argument(format!("ca_file \"{shown}\" cannot be read: {e}")))?;
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => {
                // ureq builds its root store at the first connection and silently skips
                // certificates it cannot parse; check each one now so a bad file fails here.
                let der = rustls::pki_types::CertificateDer::from(cert.der().to_vec());
                rustls::RootCertStore::empty().add(der).map_err(|e| {
                    Error::invalid_argument(format!(
                        "ca_file \"{shown}\" certificate {} is not a usable X.509 CA certificate: {e}",
                        certs.len() + 1
                    ))
                })?;
                certs.push(cert)
            }
            Ok(_) => {}
            Err(e) => {
                return Err(Error::invalid_argument(format!(
                    "ca_file \"{shown}\" is not valid PEM: {e}"
                )))
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::invalid_argument(format!(
            "ca_file \"{shown}\" holds no PEM certificate"
        )));
    }
    Ok(RootCerts::from(certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let wait = parse_retry_after(&future).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        assert_eq!(parse_retry_after("soon"), None);
    }

    /// A run's hold that waits for nothing and stops nothing.
    struct Unlimited;

    impl Pace for Unlimited {
        fn before_attempt(&self) -> bool {
            true
        }
        fn sleep(&self, wait: Duration) -> bool {
            std::thread::sleep(wait);
            true
        }
        fn reserve(&self) -> u32 {
            0
        }
        fn throttled(&self) {}
    }

    #[test]
    fn the_gate_waits_out_at_most_max_fruitless_pauses_of_one_bulk_call() {
        use ycm_mock::scripted::{response, ScriptedServer, Step};
        let body = br#"{"errcode":1000040,"errmsg":"RATE_LIMIT_EXCEEDED","requestId":"r","status":"Failed","time":1}"#;
        let token = crate::Secret::new("a-long-bearer-token");
        let throttling = ScriptedServer::start(vec![Step::Send(response(
            429,
            &[("Retry-After", "0")],
            body,
        ))])
        .unwrap();
        let url = throttling.url();
        let client =
            crate::Client::new(Config::new(&url, crate::Auth::AccessToken(token)).unwrap())
                .unwrap();
        let pace: std::sync::Arc<dyn Pace> = std::sync::Arc::new(Unlimited);
        let err = client
            .paced(&pace, None)
            .update_user(1, &crate::UserUpdate::new().company("x"))
            .unwrap_err();
        assert_eq!(err.code(), Code::RateLimited, "{err}");
        assert_eq!(err.info().api_errcode, 1000040, "{err}");
        // The pauses the gate waits out with nothing let through, then the call's own try
        // and its 2 retries.
        assert_eq!(err.info().attempts, gate::MAX_FRUITLESS_PAUSES + 3);
    }
}
