//! The Redis scope (`shared_state = "redis://..."` or `"rediss://..."`): one client ID's
//! state on a Redis server that every host of the fleet reaches. The gate is one Lua script
//! (`redis_gate.lua`, [`crate::gate::GateState`] step for step) run on the server's clock, so
//! a request costs one round trip; the token (a hash that expires at its renewal time, read
//! back against the local clock), the grant lease (`SET NX PX`: one process of the fleet
//! grants, a holder that dies frees it when the lease expires, or at once on its own host),
//! the refusal latch (expiring after [`LATCH_LIFETIME`]) and the grant count sit beside it.
//! Keys are `ycm:{DIGEST}:...`: the entry's keyed hash ([`Key`]), never the client ID, the
//! base URL or the secret, which other users of the server could read; the braces keep them
//! in one cluster slot. Every round trip is bounded ([`CONNECT_TIMEOUT`], [`IO_TIMEOUT`]);
//! after a failure the store answers errors without trying for [`RETRY_AFTER`], so that
//! [`super::Shared`] goes on in process scope and rejoins soon after Redis is back. One
//! connection per store, reopened after `fork()`; the URL's password is a secret.

use super::LATCH_LIFETIME;
use super::{hostname, process_alive, Key, Latch, SharedToken, Status, Store, TokenTurn};
use crate::error::{Error, Result};
use crate::gate::{self, Decision, Priority, RateLimit};
use crate::secret::{Redactor, Secret};
use redis::{Commands, Connection, ErrorKind, Script};
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Longest wait for a connection (TCP, TLS and AUTH) to the Redis server.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest wait for one answer.
const IO_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, how long the store fails at once before trying the server again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Lifetime of the gate's state after its last use: what it learned survives a quiet night.
const GATE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A Redis server given as `shared_state`: `redis://[[user]:password@]host[:port][/db]` or
/// `rediss://...` (TLS). Printed without its password.
#[derive(Clone)]
pub struct RedisTarget {
    url: Secret,
    shown: String,
    password: Option<Secret>,
}

impl RedisTarget {
    /// Parses a `shared_state` value that starts with `redis://` or `rediss://`.
    pub(crate) fn parse(text: &str) -> Result<RedisTarget> {
        let password = url::Url::parse(text)
            .ok()
            .and_then(|u| u.password().map(decode))
            .map(Secret::new);
        let redactor_secret = password.clone().unwrap_or_else(|| Secret::new(""));
        let redact = |t: &str| Redactor::new([&redactor_secret]).text(t).into_owned();
        let invalid = |rule: &str| {
            Error::invalid_argument(format!(
                "config key \"shared_state\": \"{}\" {rule}",
                redact(&shown_without_password(text))
            ))
        };
        let url = url::Url::parse(text).map_err(|e| invalid(&format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(invalid("must start with redis:// or rediss://"));
        }
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host,
            _ => return Err(invalid("names no host")),
        };
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            return Err(invalid(
                "has a path that is not a database number (redis://host:6379/0)",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "has a query or fragment; only redis[s]://[user:password@]host[:port][/db] is read",
            ));
        }
        let auth = match (url.username(), password.is_some()) {
            ("", false) => String::new(),
            (user, true) => format!("{user}:***@"),
            (user, false) => format!("{user}@"),
        };
        let shown = format!(
            "{}://{auth}{host}:{}/{}",
            url.scheme(),
            url.port().unwrap_or(6379),
            if db.is_empty() { "0" } else { db }
        );
        Ok(RedisTarget {
            url: Secret::new(text),
            shown,
            password,
        })
    }

    /// The URL without its password: `redis://:***@cache.internal:6379/0`.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn is_tls(&self) -> bool {
        self.url.expose().starts_with("rediss://")
    }
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl PartialEq for RedisTarget {
    fn eq(&self, other: &RedisTarget) -> bool {
        self.url == other.url
    }
}

impl Eq for RedisTarget {}

/// A URL's percent-encoded password as the server expects it.
fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// `text` with anything between `//` and the last `@` of the authority cut to `***`, for
/// messages about a URL that may not parse.
fn shown_without_password(text: &str) -> String {
    let Some(start) = text.find("//").map(|i| i + 2) else {
        return text.to_string();
    };
    let end = text[start..].find('/').map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => format!("{}***@{}", &text[..start], &text[start + at + 1..]),
        None => text.to_string(),
    }
}

/// The connection and what its last failure said.
struct Link {
    connection: Option<(Connection, u64)>,
    /// No round trip is tried before this (after a failure).
    failed_until: Option<Instant>,
    last_error: String,
}

/// The state of one client ID on a Redis server.
pub(crate) struct RedisStore {
    client: redis::Client,
    target: RedisTarget,
    gate_key: String,
    token_key: String,
    latch_key: String,
    lease_key: String,
    grants_key: String,
    link: Mutex<Link>,
}

fn gate_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(&gate_script_text()))
}

/// `redis_gate.lua` with the constants of [`crate::gate`] filled in.
fn gate_script_text() -> String {
    let constants: [(&str, f64); 9] = [
        ("WINDOW_MS", gate::WINDOW_MS),
        ("MAX_PAUSE_MS", gate::MAX_PAUSE_MS),
        ("DEFAULT_PAUSE_MS", gate::DEFAULT_PAUSE_MS),
        (
            "MAX_FRUITLESS_PAUSES",
            f64::from(gate::MAX_FRUITLESS_PAUSES),
        ),
        ("DECREASE", gate::DECREASE),
        ("MIN_RATE", gate::MIN_RATE),
        ("RECOVERY_PER_SECOND", gate::RECOVERY_PER_SECOND),
        ("FIRST_RECOVERY_PER_SECOND", gate::FIRST_RECOVERY_PER_SECOND),
        ("REGAIN_SECONDS", gate::REGAIN_SECONDS),
    ];
    let mut text = include_str!("redis_gate.lua").to_string();
    for (name, value) in constants {
        text = text.replace(&format!("@{name}@"), &format!("{value:?}"));
    }
    debug_assert!(
        !text.contains('@'),
        "a constant of redis_gate.lua is not filled in"
    );
    text
}

/// What `status` reads beside the gate: the token's time to renewal, its lifetime after
/// renewal and age at renewal (ms), the latch, the grant count.
type TokenLatchGrants = (
    i64,
    (Option<String>, Option<String>),
    Option<String>,
    Option<u64>,
);

/// Whose turn it is to grant: {"latched", latch} | {"token", access, life, age, ttl} |
/// {"mine"} | {"wait", holder, ttl}; always five texts.
const TOKEN_TURN: &str = r#"
local latch = redis.call('GET', KEYS[1])
if latch then return {'latched', latch, '', '', ''} end
local token = redis.call('HMGET', KEYS[2], 'access', 'life', 'age')
local ttl = redis.call('PTTL', KEYS[2])
if token[1] and ttl > 0 then return {'token', token[1], token[2], token[3], tostring(ttl)} end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'mine', '', '', '', ''} end
local holder = redis.call('GET', KEYS[3]) or ''
return {'wait', holder, tostring(redis.call('PTTL', KEYS[3])), '', ''}
"#;

/// Ends a grant: frees the lease when it is still ours; stores a token (expiring at its
/// renewal), clears the latch and counts the grant.
const END_GRANT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if ARGV[2] ~= '' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'access', ARGV[2], 'life', ARGV[3], 'age', ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  redis.call('DEL', KEYS[3])
  redis.call('INCR', KEYS[4])
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
end
return 1
"#;

/// Deletes KEYS[1] when its field `ARGV[1]` (or, for a plain value, the value) is ARGV[2].
const DELETE_IF: &str = r#"
local held
if ARGV[1] == '' then held = redis.call('GET', KEYS[1]) else held = redis.call('HGET', KEYS[1], ARGV[1]) end
if held == ARGV[2] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

fn script(text: &'static str, cell: &'static OnceLock<Script>) -> &'static Script {
    cell.get_or_init(|| Script::new(text))
}

static TOKEN_TURN_SCRIPT: OnceLock<Script> = OnceLock::new();
static END_GRANT_SCRIPT: OnceLock<Script> = OnceLock::new();
static DELETE_IF_SCRIPT: OnceLock<Script> = OnceLock::new();

impl RedisStore {
    /// Builds the client for `target` (with `ca_file` for `rediss://`) and tries one
    /// connection: a refused password, a TLS failure or a server that does not speak Redis is
    /// a configuration error, reported here; a server that does not answer is not (the
    /// client goes on in process scope until it does).
    pub fn open(target: &RedisTarget, ca_file: Option<&Path>, key: &Key) -> Result<RedisStore> {
        let invalid = |cause: String| {
            Error::invalid_argument(format!(
                "config key \"shared_state\" ({}): {}",
                target.shown,
                redact(target, &cause)
            ))
        };
        let client = if target.is_tls() {
            let root_cert = match ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    invalid(format!(
                        "ca_file \"{}\" cannot be read: {e}",
                        path.display()
                    ))
                })?),
                None => None,
            };
            redis::Client::build_with_tls(
                target.url.expose(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert,
                },
            )
        } else {
            redis::Client::open(target.url.expose())
        }
        .map_err(|e| invalid(e.to_string()))?;
        let prefix = format!("ycm:{{{}}}", key.digest);
        let store = RedisStore {
            client,
            target: target.clone(),
            gate_key: format!("{prefix}:gate"),
            token_key: format!("{prefix}:token"),
            latch_key: format!("{prefix}:latch"),
            lease_key: format!("{prefix}:lease"),
            grants_key: format!("{prefix}:grants"),
            link: Mutex::new(Link {
                connection: None,
                failed_until: None,
                last_error: String::new(),
            }),
        };
        match store.connect() {
            Ok(connection) => {
                store.lock().connection = Some((connection, crate::fork::generation()));
            }
            Err(e) if is_misconfiguration(&e) => return Err(invalid(describe_error(&e))),
            Err(e) => store.failed(&mut store.lock(), &e),
        }
        Ok(store)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Link> {
        self.link.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a connection and checks it with a PING: a TLS handshake and a missing
    /// password only show at the first command.
    fn connect(&self) -> redis::RedisResult<Connection> {
        let mut connection = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        connection.set_read_timeout(Some(IO_TIMEOUT))?;
        connection.set_write_timeout(Some(IO_TIMEOUT))?;
        redis::cmd("PING").query::<()>(&mut connection)?;
        Ok(connection)
    }

    fn failed(&self, link: &mut Link, error: &redis::RedisError) {
        link.connection = None;
        link.failed_until = Some(Instant::now() + RETRY_AFTER);
        link.last_error = redact(&self.target, &describe_error(error));
    }

    /// Runs `op` on the connection (opened when missing or inherited across `fork()`).
    fn run<R>(&self, op: impl FnOnce(&mut Connection) -> redis::RedisResult<R>) -> io::Result<R> {
        let mut link = self.lock();
        if let Some(until) = link.failed_until {
            if Instant::now() < until {
                return Err(io::Error::other(format!(
                    "{}; next try within {} s",
                    link.last_error,
                    RETRY_AFTER.as_secs()
                )));
            }
        }
        let generation = crate::fork::generation();
        if link
            .connection
            .as_ref()
            .is_some_and(|(_, born)| *born != generation)
        {
            // Opened before fork(): the parent's. Dropping it closes this process's copy of
            // the descriptor and writes nothing (the crate's connection has no Drop that
            // speaks), so the parent's connection goes on.
            link.connection = None;
        }
        let mut connection = match link.connection.take() {
            Some((connection, _)) => connection,
            None => match self.connect() {
                Ok(connection) => connection,
                Err(e) => {
                    self.failed(&mut link, &e);
                    return Err(io::Error::other(link.last_error.clone()));
                }
            },
        };
        match op(&mut connection) {
            Ok(value) => {
                link.connection = Some((connection, generation));
                link.failed_until = None;
                Ok(value)
            }
            Err(e) => {
                self.failed(&mut link, &e);
                Err(io::Error::other(link.last_error.clone()))
            }
        }
    }

    /// One step of the gate script.
    fn gate<T: redis::FromRedisValue>(
        &self,
        op: &str,
        cap: Option<RateLimit>,
        reserve: Option<u32>,
        earlier: u32,
        retry_after: Option<Duration>,
    ) -> io::Result<T> {
        self.run(|c| {
            gate_invocation(op, None, cap, reserve, earlier, retry_after, &self.gate_key).invoke(c)
        })
    }

    /// The value that names this holder in the lease: pid, holder and host.
    fn lease_value(holder: u64) -> String {
        format!("{} {holder} {}", std::process::id(), hostname())
    }
}

/// The gate script's invocation; `now` is the server's clock when `None` (tests fix it).
fn gate_invocation<'a>(
    op: &str,
    now: Option<f64>,
    cap: Option<RateLimit>,
    reserve: Option<u32>,
    earlier: u32,
    retry_after: Option<Duration>,
    key: &str,
) -> redis::ScriptInvocation<'a> {
    let text = |v: Option<String>| v.unwrap_or_default();
    let mut invocation = gate_script().prepare_invoke();
    invocation
        .key(key)
        .arg(op)
        .arg(text(now.map(|n| format!("{n:?}"))))
        .arg(text(cap.map(|c| c.burst.to_string())))
        .arg(text(cap.map(|c| format!("{:?}", c.per_second()))))
        .arg(text(reserve.map(|r| r.to_string())))
        .arg(earlier)
        .arg(text(
            retry_after.map(|d| format!("{:?}", d.as_secs_f64() * 1000.0)),
        ))
        .arg(GATE_LIFETIME.as_millis() as u64);
    invocation
}

fn redact(target: &RedisTarget, text: &str) -> String {
    match &target.password {
        Some(password) => Redactor::new([password]).text(text).into_owned(),
        None => text.to_string(),
    }
}

fn describe_error(error: &redis::RedisError) -> String {
    if error.is_timeout() {
        return format!("no answer within {} ms", IO_TIMEOUT.as_millis());
    }
    if error.is_connection_refusal() {
        return format!("connection refused ({error})");
    }
    error.to_string()
}

/// Whether a failed connection says the configuration is wrong (a refused password, a
/// database that does not exist, a TLS certificate or protocol failure, a peer that does not
/// speak Redis) rather than that the server is away or busy for a moment.
fn is_misconfiguration(error: &redis::RedisError) -> bool {
    const TRANSIENT: [&str; 5] = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"];
    match error.kind() {
        ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig | ErrorKind::Parse => {
            return true
        }
        ErrorKind::Server(_) => return !error.code().is_some_and(|c| TRANSIENT.contains(&c)),
        _ => {}
    }
    // redis keeps an I/O error as an Arc<dyn Error>; rustls reports a refused certificate
    // or a broken handshake as InvalidData.
    let io_kind = std::error::Error::source(error)
        .and_then(|s| s.downcast_ref::<std::sync::Arc<dyn std::error::Error + Send + Sync>>())
        .and_then(|inner| inner.downcast_ref::<io::Error>())
        .map(io::Error::kind);
    // NOAUTH (a password required but not given) comes back as a reply the crate does not
    // classify.
    let code = error.code().unwrap_or_default();
    io_kind == Some(io::ErrorKind::InvalidData) || code == "NOAUTH" || code == "WRONGPASS"
}

fn text_ms(text: &str) -> f64 {
    text.parse().unwrap_or(0.0)
}

impl Store for RedisStore {
    fn take(
        &self,
        cap: Option<RateLimit>,
        priority: Priority,
        _now: f64,
        earlier: u32,
    ) -> io::Result<(Decision, bool)> {
        let reserve = match priority {
            Priority::Call => None,
            Priority::Bulk { reserve } => Some(reserve),
        };
        let (admitted, wait, open): (u8, String, u8) =
            self.gate("take", cap, reserve, earlier, None)?;
        let decision = if admitted == 1 {
            Decision::Admitted
        } else {
            Decision::Wait(Duration::from_secs_f64((text_ms(&wait) / 1000.0).max(0.0)))
        };
        Ok((decision, open == 1))
    }

    fn throttled(
        &self,
        cap: Option<RateLimit>,
        retry_after: Option<Duration>,
        _now: f64,
        earlier: u32,
    ) -> io::Result<bool> {
        let (waiting,): (u8,) = self.gate("throttled", cap, None, earlier, retry_after)?;
        Ok(waiting == 1)
    }

    fn token_turn(&self, holder: u64, now: f64, lease: Duration) -> io::Result<TokenTurn> {
        let mine = Self::lease_value(holder);
        let (kind, a, b, c, d): (String, String, String, String, String) = self.run(|conn| {
            script(TOKEN_TURN, &TOKEN_TURN_SCRIPT)
                .key(&self.latch_key)
                .key(&self.token_key)
                .key(&self.lease_key)
                .arg(&mine)
                .arg(lease.as_millis().max(1) as u64)
                .invoke(conn)
        })?;
        Ok(match kind.as_str() {
            "latched" => match serde_json::from_str::<Latch>(&a) {
                Ok(latch) => TokenTurn::Latched(latch),
                // A latch this version cannot read still says: do not send the secret.
                Err(_) => TokenTurn::Latched(Latch {
                    at: now,
                    by: "another ycm version".into(),
                    reason: "an unreadable latch entry".into(),
                }),
            },
            "token" => {
                let renew_at = now + text_ms(&d);
                TokenTurn::Token(SharedToken {
                    access: Secret::new(a),
                    granted_at: renew_at - text_ms(&c),
                    renew_at,
                    expires_at: renew_at + text_ms(&b),
                })
            }
            "mine" => TokenTurn::Mine,
            _ => {
                // A holder that died on this host frees the lease at once.
                let mut parts = a.splitn(3, ' ');
                let (pid, host) = (parts.next(), parts.nth(1));
                let dead_here = host == Some(hostname().as_str())
                    && pid
                        .and_then(|p| p.parse::<u32>().ok())
                        .is_some_and(|p| !process_alive(p));
                if dead_here {
                    self.run(|conn| {
                        script(DELETE_IF, &DELETE_IF_SCRIPT)
                            .key(&self.lease_key)
                            .arg("")
                            .arg(&a)
                            .invoke::<i64>(conn)
                    })?;
                    TokenTurn::Wait(Duration::from_millis(1))
                } else {
                    let ttl = text_ms(&b).max(1.0);
                    TokenTurn::Wait(Duration::from_secs_f64((ttl / 1000.0).min(0.05)))
                }
            }
        })
    }

    fn end_grant(&self, holder: u64, token: Option<&SharedToken>) -> io::Result<()> {
        let now = gate::now_ms();
        let (access, life, age, ttl) = match token {
            Some(t) if t.renew_at > now + 1.0 => (
                t.access.expose().to_string(),
                (t.expires_at - t.renew_at).max(0.0),
                (t.renew_at - t.granted_at).max(0.0),
                (t.renew_at - now) as u64,
            ),
            _ => (String::new(), 0.0, 0.0, 0),
        };
        let access = zeroize::Zeroizing::new(access);
        self.run(|conn| {
            script(END_GRANT, &END_GRANT_SCRIPT)
                .key(&self.lease_key)
                .key(&self.token_key)
                .key(&self.latch_key)
                .key(&self.grants_key)
                .arg(Self::lease_value(holder))
                .arg(access.as_str())
                .arg(format!("{life:?}"))
                .arg(format!("{age:?}"))
                .arg(ttl)
                .arg(GATE_LIFETIME.as_millis() as u64)
                .invoke::<i64>(conn)
        })
        .map(drop)
    }

    fn drop_token(&self, rejected: &Secret) -> io::Result<()> {
        self.run(|conn| {
            script(DELETE_IF, &DELETE_IF_SCRIPT)
                .key(&self.token_key)
                .arg("access")
                .arg(rejected.expose())
                .invoke::<i64>(conn)
        })
        .map(drop)
    }

    fn set_latch(&self, latch: &Latch) -> io::Result<()> {
        let text = serde_json::to_string(latch).map_err(io::Error::other)?;
        self.run(|conn| {
            redis::pipe()
                .atomic()
                .set_options(
                    &self.latch_key,
                    &text,
                    redis::SetOptions::default()
                        .with_expiration(redis::SetExpiry::PX(LATCH_LIFETIME.as_millis() as u64)),
                )
                .ignore()
                .del(&self.token_key)
                .ignore()
                .query::<()>(conn)
        })
    }

    fn reset(&self) -> io::Result<()> {
        self.run(|conn| {
            conn.del::<_, i64>(&[&self.token_key, &self.latch_key, &self.lease_key])
                .map(drop)
        })
    }

    fn status(&self, cap: Option<RateLimit>, now: f64) -> io::Result<Status> {
        self.run(|conn| {
            let (level, throttled): (String, u64) =
                gate_invocation("status", None, cap, None, 0, None, &self.gate_key).invoke(conn)?;
            let (ttl, (life, age), latch, grants): TokenLatchGrants = redis::pipe()
                .pttl(&self.token_key)
                .hmget(&self.token_key, &["life", "age"])
                .get(&self.latch_key)
                .get(&self.grants_key)
                .query(conn)?;
            let token = match (life, age) {
                (Some(life), Some(age)) if ttl > 0 => {
                    let renew_at = now + ttl as f64;
                    Some((renew_at - text_ms(&age), renew_at + text_ms(&life)))
                }
                _ => None,
            };
            Ok(Status {
                scope: self.describe(),
                token,
                level: level.parse().unwrap_or(f64::INFINITY),
                throttled,
                latch: latch
                    .and_then(|l| serde_json::from_str::<Latch>(&l).ok())
                    .map(|l| (l.at, l.by, l.reason)),
                grants: grants.unwrap_or(0),
            })
        })
    }

    fn describe(&self) -> String {
        format!("redis ({})", self.target.shown)
    }
}

/// The tests' real redis-server.
#[cfg(test)]
#[path = "../../tests/common/redis.rs"]
mod redis_server;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::GateState;

    use super::redis_server;

    /// The gate's fields as the script stores them.
    fn fields(state: &GateState) -> Vec<(&'static str, Option<f64>)> {
        vec![
            ("tat", Some(state.tat)),
            ("paused_until", Some(state.paused_until)),
            ("lowered_rate", state.lowered_rate),
            ("lowered_at", Some(state.lowered_at)),
            ("recovery_step", Some(state.recovery_step)),
            ("lowered_burst", state.lowered_burst),
            ("episodes", Some(f64::from(state.episodes))),
            ("window_start", Some(state.window_start)),
            ("window_count", Some(state.window_count)),
            ("previous_count", Some(state.previous_count)),
            ("first", Some(state.first)),
            ("throttled", Some(state.throttled as f64)),
            ("through_total", Some(state.through_total)),
            ("through_at_pause", Some(state.through_at_pause)),
            ("fruitless", Some(f64::from(state.fruitless))),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * a.abs().max(1.0)
    }

    #[test]
    fn the_gate_script_decides_as_gate_state_does_step_for_step() {
        let Some(server) = redis_server::RedisServer::start(Default::default()) else {
            return;
        };
        let client = redis::Client::open(server.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        let caps: [Option<RateLimit>; 3] = [
            None,
            Some("50/25/1".parse::<RateLimit>().unwrap().with_headroom()),
            Some("5/1/3".parse().unwrap()),
        ];
        for (round, cap) in caps.into_iter().enumerate() {
            let key = format!("ycm:{{test}}:gate{round}");
            let mut state = GateState::default();
            let mut rng = fastrand::Rng::with_seed(round as u64 + 7);
            let mut now = 1_765_000_000_000.0 + round as f64;
            for step in 0..3000 {
                now += match rng.u8(..10) {
                    0 => rng.f64() * 3000.0,
                    1 => -rng.f64() * 50.0, // a clock stepped back
                    _ => rng.f64() * 30.0,
                };
                let earlier = if rng.u8(..8) == 0 { rng.u32(1..5) } else { 0 };
                if rng.u8(..25) == 0 {
                    let retry = match rng.u8(..3) {
                        0 => None,
                        1 => Some(Duration::from_millis(rng.u64(0..3000))),
                        _ => Some(Duration::from_secs(500)),
                    };
                    if earlier > 0 {
                        state.count_through(now, f64::from(earlier));
                    }
                    let expected = state.throttled(cap, retry, now);
                    let (got,): (u8,) =
                        gate_invocation("throttled", Some(now), cap, None, earlier, retry, &key)
                            .invoke(&mut conn)
                            .unwrap();
                    assert_eq!(got == 1, expected, "round {round} step {step}");
                } else {
                    let reserve = if rng.bool() {
                        Some(rng.u32(0..8))
                    } else {
                        None
                    };
                    let priority =
                        reserve.map_or(Priority::Call, |reserve| Priority::Bulk { reserve });
                    if earlier > 0 {
                        state.count_through(now, f64::from(earlier));
                    }
                    let expected = state.take(cap, priority, now);
                    let expected_open = state.is_open(cap, now);
                    let (admitted, wait, open): (u8, String, u8) =
                        gate_invocation("take", Some(now), cap, reserve, earlier, None, &key)
                            .invoke(&mut conn)
                            .unwrap();
                    match expected {
                        Decision::Admitted => assert_eq!(admitted, 1, "round {round} step {step}"),
                        Decision::Wait(d) => {
                            assert_eq!(admitted, 0, "round {round} step {step}");
                            let wait: f64 = wait.parse().unwrap();
                            assert!(close(wait, d.as_secs_f64() * 1000.0), "{wait} vs {d:?}");
                        }
                    }
                    assert_eq!(open == 1, expected_open, "round {round} step {step}");
                }
                let stored: std::collections::HashMap<String, String> =
                    redis::Commands::hgetall(&mut conn, &key).unwrap();
                for (name, value) in fields(&state) {
                    let got = stored.get(name).map(|v| v.parse::<f64>().unwrap());
                    match (value, got) {
                        (Some(a), Some(b)) if close(a, b) => {}
                        (None, None) => {}
                        other => panic!("round {round} step {step}: {name} {other:?}"),
                    }
                }
            }
        }
    }
}
