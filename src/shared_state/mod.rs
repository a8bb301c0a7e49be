//! Where a client ID's token, rate budget and refusal latch live, so that everything using
//! the ID agrees on them: one small interface ([`Store`]) and its stores, one per
//! [`Scope`]: [`process`] (the client alone, the library's default), [`host`] (one
//! state file per client ID, shared by every process of the user on the machine) and
//! [`redis`] (one set of keys on a Redis server, shared by every host of a fleet). The
//! entry's key is (base URL, client ID, a keyed hash of the secret); a static access token
//! shares nothing but its budget. What is shared: the access token and its expiry (never
//! the secret, never a refresh token), the gate's state ([`crate::gate::GateState`]), a
//! grant lease (one process grants while the others wait for its token) and the refusal
//! latch. [`Shared`] puts the scope's store in front of a process store: when the scope's
//! store fails (an unwritable file, a full disk), the call goes on in process scope with
//! one warning record, and the store is tried again on the next call, so shared state can
//! make things cheaper but never makes a call fail that would have worked alone.

pub(crate) mod host;
pub(crate) mod process;
pub(crate) mod redis;

pub use self::redis::RedisTarget;

use crate::config::Auth;
use crate::error::{Error, Result};
use crate::gate::{Decision, GateState, Priority, RateLimit};
use crate::logging::{self, Level, TARGET_AUTH};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a refusal latch holds when nobody clears it.
pub(crate) const LATCH_LIFETIME: Duration = Duration::from_secs(600);

/// Where a client's shared state lives (config key `shared_state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// This client alone (the library's default).
    Process,
    /// Every process of this user on this host: one file per client ID under `state_dir`.
    Host,
    /// Every process of every host that reaches this Redis server (`redis://`, `rediss://`).
    Redis(RedisTarget),
}

impl Scope {
    /// Parses the `shared_state` value: `"process"`, `"host"`, or a Redis URL
    /// (`redis://[[user]:password@]host[:port][/db]`, `rediss://...` for TLS).
    pub fn parse(text: &str) -> Result<Scope> {
        match text {
            "process" => Ok(Scope::Process),
            "host" => Ok(Scope::Host),
            url if url.contains("://") => RedisTarget::parse(url).map(Scope::Redis),
            other => Err(Error::invalid_argument(format!(
                "config key \"shared_state\" is \"{other}\"; it must be \"process\", \"host\", or a redis:// or rediss:// URL"
            ))),
        }
    }

    /// The value as written in configuration, a Redis URL without its password.
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Process => "process",
            Scope::Host => "host",
            Scope::Redis(target) => target.shown(),
        }
    }
}

/// A token in shared state. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SharedToken {
    #[serde(with = "secret_text")]
    pub access: Secret,
    pub granted_at: f64,
    pub renew_at: f64,
    pub expires_at: f64,
}

/// A token as the text of a state entry (the entry's file is private to its user).
mod secret_text {
    use crate::secret::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secret: &Secret, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Secret, D::Error> {
        String::deserialize(from).map(Secret::new)
    }
}

/// A recorded refusal of the client credentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Latch {
    /// When (Unix milliseconds).
    pub at: f64,
    /// Where: "process 1234 on host h".
    pub by: String,
    /// What the token endpoint said.
    pub reason: String,
}

/// A grant lease: the process that is fetching the token for everyone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Lease {
    pub pid: u32,
    /// Which client of that process (several may share a file).
    pub holder: u64,
    pub until: f64,
}

/// One client ID's entry, as the process and host stores keep it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub token: Option<SharedToken>,
    #[serde(default)]
    pub lease: Option<Lease>,
    #[serde(default)]
    pub latch: Option<Latch>,
    #[serde(default)]
    pub gate: GateState,
    /// Grants made through this entry (for `ycm auth status`).
    #[serde(default)]
    pub grants: u64,
}

/// What a caller that needs a token should do.
#[derive(Debug)]
pub(crate) enum TokenTurn {
    /// Use this token (fresh at the time of asking).
    Token(SharedToken),
    /// The credentials were refused recently; do not send them.
    Latched(Latch),
    /// Grant one now and report it with [`Store::end_grant`].
    Mine,
    /// Another process is granting; ask again after this long.
    Wait(Duration),
}

/// What `ycm auth status` shows of an entry.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The scope, with its file or server.
    pub scope: String,
    /// When the shared token was granted and expires (Unix milliseconds), if there is one.
    pub token: Option<(f64, f64)>,
    /// Requests the budget holds now (infinite: no rate known).
    pub level: f64,
    /// 429 answers seen by everyone sharing the budget.
    pub throttled: u64,
    /// The refusal latch: when, where and why, if set.
    pub latch: Option<(f64, String, String)>,
    /// Grants recorded.
    pub grants: u64,
}

/// The operations every store offers; each is one atomic step on the client ID's entry.
pub(crate) trait Store: Send + Sync {
    /// Takes a request from the gate, or says how long to wait, after counting `earlier`
    /// requests let through on the open gate without asking; also whether the gate is
    /// open (no rate known, no pause).
    fn take(
        &self,
        cap: Option<RateLimit>,
        priority: Priority,
        now: f64,
        earlier: u32,
    ) -> io::Result<(Decision, bool)>;
    /// Records a 429 (pause and decrease), after counting `earlier` requests let through
    /// on the open gate; true while the sharers wait throttling out.
    fn throttled(
        &self,
        cap: Option<RateLimit>,
        retry_after: Option<Duration>,
        now: f64,
        earlier: u32,
    ) -> io::Result<bool>;
    /// The token to use, a latch, or whose turn it is to grant.
    fn token_turn(&self, holder: u64, now: f64, lease: Duration) -> io::Result<TokenTurn>;
    /// Ends this holder's grant: the new token, or none when the grant failed.
    fn end_grant(&self, holder: u64, token: Option<&SharedToken>) -> io::Result<()>;
    /// Forgets `rejected` when it is still the shared token.
    fn drop_token(&self, rejected: &Secret) -> io::Result<()>;
    /// Records a refusal.
    fn set_latch(&self, latch: &Latch) -> io::Result<()>;
    /// Drops the token and the latch (`ycm auth reset`).
    fn reset(&self) -> io::Result<()>;
    /// What the entry holds now.
    fn status(&self, cap: Option<RateLimit>, now: f64) -> io::Result<Status>;
    /// The scope, with its file: "process" or "host (/run/user/1000/ycm/....json)".
    fn describe(&self) -> String;
}

/// How a step changed an entry: not at all, in a way that may be lost on a crash (the
/// gate's counters), or in a way that must reach the disk (a token, a latch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Change {
    None,
    Volatile,
    Durable,
}

/// A store that keeps whole [`Entry`] values and runs each step under its own lock; the
/// [`Store`] operations follow from the entry's steps.
pub(crate) trait Transact: Send + Sync {
    /// Runs `step` on the entry under the store's lock and keeps what it changed.
    fn transact<R>(&self, step: impl FnOnce(&mut Entry) -> (R, Change)) -> io::Result<R>;
    /// The scope, for `ycm auth status`.
    fn describe(&self) -> String;
}

impl<T: Transact> Store for T {
    fn take(
        &self,
        cap: Option<RateLimit>,
        priority: Priority,
        now: f64,
        earlier: u32,
    ) -> io::Result<(Decision, bool)> {
        self.transact(|entry| {
            let before = entry.gate.clone();
            if earlier > 0 {
                entry.gate.count_through(now, f64::from(earlier));
            }
            let decision = entry.gate.take(cap, priority, now);
            let open = entry.gate.is_open(cap, now);
            let change = if entry.gate == before {
                Change::None
            } else {
                Change::Volatile
            };
            ((decision, open), change)
        })
    }

    fn throttled(
        &self,
        cap: Option<RateLimit>,
        retry_after: Option<Duration>,
        now: f64,
        earlier: u32,
    ) -> io::Result<bool> {
        self.transact(|entry| {
            if earlier > 0 {
                entry.gate.count_through(now, f64::from(earlier));
            }
            (
                entry.gate.throttled(cap, retry_after, now),
                Change::Volatile,
            )
        })
    }

    fn token_turn(&self, holder: u64, now: f64, lease: Duration) -> io::Result<TokenTurn> {
        self.transact(|entry| {
            let (turn, changed) = entry.token_turn(holder, now, lease);
            (
                turn,
                if changed {
                    Change::Volatile
                } else {
                    Change::None
                },
            )
        })
    }

    fn end_grant(&self, holder: u64, token: Option<&SharedToken>) -> io::Result<()> {
        self.transact(|entry| (entry.end_grant(holder, token), Change::Durable))
    }

    fn drop_token(&self, rejected: &Secret) -> io::Result<()> {
        self.transact(|entry| {
            let changed = entry.drop_token(rejected);
            (
                (),
                if changed {
                    Change::Durable
                } else {
                    Change::None
                },
            )
        })
    }

    fn set_latch(&self, latch: &Latch) -> io::Result<()> {
        self.transact(|entry| {
            entry.latch = Some(latch.clone());
            entry.token = None;
            ((), Change::Durable)
        })
    }

    fn reset(&self) -> io::Result<()> {
        self.transact(|entry| {
            entry.latch = None;
            entry.token = None;
            entry.lease = None;
            ((), Change::Durable)
        })
    }

    fn describe(&self) -> String {
        Transact::describe(self)
    }

    fn status(&self, cap: Option<RateLimit>, now: f64) -> io::Result<Status> {
        let scope = Transact::describe(self);
        self.transact(|entry| (entry.status(scope, cap, now), Change::None))
    }
}

impl Entry {
    /// The step of [`Store::token_turn`] on this entry; true when it changed.
    pub fn token_turn(&mut self, holder: u64, now: f64, lease: Duration) -> (TokenTurn, bool) {
        if let Some(latch) = &self.latch {
            if now - latch.at < LATCH_LIFETIME.as_secs_f64() * 1000.0 && now >= latch.at - 1000.0 {
                return (TokenTurn::Latched(latch.clone()), false);
            }
        }
        if let Some(token) = &self.token {
            if now < token.renew_at {
                return (TokenTurn::Token(token.clone()), false);
            }
        }
        if let Some(held) = &self.lease {
            let ours = held.pid == std::process::id() && held.holder == holder;
            if !ours && held.until > now && process_alive(held.pid) {
                let wait = ((held.until - now) / 1000.0).clamp(0.001, 0.05);
                return (TokenTurn::Wait(Duration::from_secs_f64(wait)), false);
            }
        }
        self.lease = Some(Lease {
            pid: std::process::id(),
            holder,
            until: now + lease.as_secs_f64() * 1000.0,
        });
        (TokenTurn::Mine, true)
    }

    /// The step of [`Store::end_grant`].
    pub fn end_grant(&mut self, holder: u64, token: Option<&SharedToken>) {
        if self
            .lease
            .as_ref()
            .is_some_and(|l| l.pid == std::process::id() && l.holder == holder)
        {
            self.lease = None;
        }
        if let Some(token) = token {
            self.token = Some(token.clone());
            self.latch = None;
            self.grants += 1;
        }
    }

    /// The step of [`Store::drop_token`]; true when it changed.
    pub fn drop_token(&mut self, rejected: &Secret) -> bool {
        if self.token.as_ref().is_some_and(|t| &t.access == rejected) {
            self.token = None;
            return true;
        }
        false
    }

    /// The step of [`Store::status`].
    pub fn status(&self, scope: String, cap: Option<RateLimit>, now: f64) -> Status {
        Status {
            scope,
            token: self
                .token
                .as_ref()
                .filter(|t| t.expires_at > now)
                .map(|t| (t.granted_at, t.expires_at)),
            level: self.gate.level(cap, now),
            throttled: self.gate.throttled,
            latch: self
                .latch
                .as_ref()
                .filter(|l| now - l.at < LATCH_LIFETIME.as_secs_f64() * 1000.0)
                .map(|l| (l.at, l.by.clone(), l.reason.clone())),
            grants: self.grants,
        }
    }
}

/// Whether process `pid` still runs (on this host). A lease of a killed process is free at
/// once, not when it expires.
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// What identifies a client ID's entry: the base URL, the client ID and a keyed hash of the
/// secret (HMAC-SHA-256 keyed by the base URL and client ID; a static token is keyed by
/// the base URL alone).
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub base_url: String,
    pub client_id: Option<String>,
    /// Hex digest naming the entry.
    pub digest: String,
}

impl Key {
    pub fn new(base_url: &str, auth: &Auth) -> Key {
        let (client_id, secret_hash) = match auth {
            Auth::AccessToken(_) => (None, String::new()),
            Auth::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let key = format!("ycm shared state v1\0{base_url}\0{client_id}");
                let mac = hmac_sha256(key.as_bytes(), client_secret.expose().as_bytes());
                (Some(client_id.clone()), hex(&mac))
            }
        };
        let mut digest = Sha256::new();
        for part in [base_url, client_id.as_deref().unwrap_or(""), &secret_hash] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
        Key {
            base_url: base_url.to_string(),
            client_id,
            digest: hex(&digest.finalize()[..16]),
        }
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// "process 1234 on host h", for latch messages.
pub(crate) fn this_process() -> String {
    format!("process {} on host {}", std::process::id(), hostname())
}

/// This machine's host name.
pub(crate) fn hostname() -> String {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it
    // (or truncates, which the zero-filled last byte covers).
    let ok = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len() - 1) } == 0;
    if ok {
        let end = name.iter().position(|b| *b == 0).unwrap_or(0);
        String::from_utf8_lossy(&name[..end]).into_owned()
    } else {
        "an unknown host".into()
    }
}

/// How long a process lets requests through an open gate (no rate known, no pause) without
/// asking the scope's store again: a pause that another process records is seen within
/// this, and the requests let through meanwhile are counted at the next step.
const OPEN_GATE_TRUST_MS: f64 = 10.0;

/// What a process remembers of an open gate between steps of the store.
#[derive(Default)]
struct OpenGate {
    /// Until when (Unix milliseconds) the gate is taken to be open.
    until: f64,
    /// Requests let through since the last step, not yet counted in the store.
    uncounted: u32,
}

/// A client's shared state: its scope's store, with the process store behind it.
pub(crate) struct Shared {
    open_gate: std::sync::Mutex<OpenGate>,
    scope: Box<dyn Store>,
    fallback: process::ProcessStore,
    description: String,
    /// Whether the scope's store failed on its last use (one warning per failure streak).
    failing: AtomicBool,
    /// This client among others of the process that share the same store.
    pub holder: u64,
}

impl Shared {
    /// Opens the state of `key` in `scope` (`state_dir` for the host scope, else the
    /// default directory; `ca_file` for `rediss://`); a state directory that is not private,
    /// a refused Redis password or a TLS failure is refused here.
    pub fn open(
        scope: &Scope,
        state_dir: Option<&PathBuf>,
        ca_file: Option<&std::path::Path>,
        key: &Key,
    ) -> Result<Shared> {
        let fallback = process::ProcessStore::new(key);
        let store: Box<dyn Store> = match scope {
            Scope::Process => Box::new(process::ProcessStore::new(key)),
            Scope::Host => Box::new(host::HostStore::open(state_dir, key)?),
            Scope::Redis(target) => Box::new(redis::RedisStore::open(target, ca_file, key)?),
        };
        let description = store.describe();
        Ok(Shared {
            open_gate: std::sync::Mutex::new(OpenGate::default()),
            scope: store,
            fallback,
            description,
            failing: AtomicBool::new(false),
            holder: fastrand::u64(..),
        })
    }

    /// The scope, with its file: "process" or "host (/run/user/1000/ycm/....json)".
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Takes a request from the client ID's gate (see [`Store::take`]); while the gate is
    /// open, from this process's memory for [`OPEN_GATE_TRUST_MS`] at a time.
    pub fn take(&self, cap: Option<RateLimit>, priority: Priority, now: f64) -> Decision {
        let earlier = {
            let mut open = self.open_gate.lock().unwrap_or_else(|p| p.into_inner());
            if now < open.until {
                open.uncounted += 1;
                return Decision::Admitted;
            }
            std::mem::take(&mut open.uncounted)
        };
        let (decision, is_open) = self.with(|s| s.take(cap, priority, now, earlier));
        let mut open = self.open_gate.lock().unwrap_or_else(|p| p.into_inner());
        open.until = if is_open {
            now + OPEN_GATE_TRUST_MS
        } else {
            0.0
        };
        decision
    }

    /// Records a 429 (see [`Store::throttled`]); the gate is no longer taken to be open.
    pub fn throttled(
        &self,
        cap: Option<RateLimit>,
        retry_after: Option<Duration>,
        now: f64,
    ) -> bool {
        let earlier = {
            let mut open = self.open_gate.lock().unwrap_or_else(|p| p.into_inner());
            open.until = 0.0;
            std::mem::take(&mut open.uncounted)
        };
        self.with(|s| s.throttled(cap, retry_after, now, earlier))
    }

    /// Runs `op` on the scope's store, or on the process store when it fails.
    pub fn with<R>(&self, op: impl Fn(&dyn Store) -> io::Result<R>) -> R {
        match op(self.scope.as_ref()) {
            Ok(value) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    logging::note(
                        Level::Warn,
                        TARGET_AUTH,
                        &format!("shared state {} is usable again", self.description),
                    );
                }
                value
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    logging::note(
                        Level::Warn,
                        TARGET_AUTH,
                        &format!(
                            "shared state {} failed ({error}); going on in process scope until it works again",
                            self.description
                        ),
                    );
                }
                op(&self.fallback).unwrap_or_else(|e| unreachable_store(e))
            }
        }
    }
}

/// The process store never fails; this keeps the signature honest if it ever does.
fn unreachable_store<R>(error: io::Error) -> R {
    panic!("the process store failed: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keys_differ_by_url_client_and_secret_and_never_hold_the_secret() {
        let creds = |id: &str, secret: &str| Auth::ClientCredentials {
            client_id: id.into(),
            client_secret: Secret::new(secret),
        };
        let a = Key::new("https://a", &creds("id", "s3cret-value"));
        assert_eq!(
            a.digest,
            Key::new("https://a", &creds("id", "s3cret-value")).digest
        );
        for other in [
            Key::new("https://b", &creds("id", "s3cret-value")),
            Key::new("https://a", &creds("id2", "s3cret-value")),
            Key::new("https://a", &creds("id", "other")),
            Key::new("https://a", &Auth::AccessToken(Secret::new("t"))),
        ] {
            assert_ne!(a.digest, other.digest);
        }
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn one_holder_grants_while_others_wait_and_a_latch_answers_everyone() {
        let mut entry = Entry::default();
        let now = 1_000_000.0;
        let lease = Duration::from_secs(5);
        assert!(matches!(entry.token_turn(1, now, lease).0, TokenTurn::Mine));
        assert!(matches!(
            entry.token_turn(2, now, lease).0,
            TokenTurn::Wait(_)
        ));
        let token = SharedToken {
            access: Secret::new("tok"),
            granted_at: now,
            renew_at: now + 1000.0,
            expires_at: now + 2000.0,
        };
        entry.end_grant(1, Some(&token));
        assert!(matches!(entry.token_turn(2, now, lease).0, TokenTurn::Token(t) if t == token));
        assert!(matches!(
            entry.token_turn(2, now + 1000.0, lease).0,
            TokenTurn::Mine
        ));
        entry.end_grant(2, None);
        entry.latch = Some(Latch {
            at: now,
            by: this_process(),
            reason: "refused".into(),
        });
        assert!(matches!(
            entry.token_turn(3, now + 5000.0, lease).0,
            TokenTurn::Latched(_)
        ));
        let later = now + LATCH_LIFETIME.as_secs_f64() * 1000.0;
        assert!(matches!(
            entry.token_turn(3, later, lease).0,
            TokenTurn::Mine
        ));
    }
}
