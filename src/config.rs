//! Client options: the [`Config`] a [`crate::Client`] is built from, its defaults, and its
//! parsing from the JSON object the C ABI and the Python package pass in (`config_json`).
//! Every key is checked here, before any I/O: unknown keys are refused so that typos surface,
//! and each message names the key and the rule it broke.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::Duration;
use url::{Host, Url};

/// Default whole-call time budget, retries included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(30_000);
/// Default time budget of each connection attempt.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(5_000);
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default base of the exponential backoff.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_millis(200);
/// Default cap of one backoff wait.
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_millis(5_000);
/// Default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Longest request URI that can be sent: ureq builds an `http::Uri`, which refuses more than
/// 65534 bytes.
pub const MAX_URI_BYTES: usize = 65_534;
/// Room left after `base_url` for the paths the client appends (the longest, a list page
/// with the largest page number and no `sort`, is 55 bytes).
const PATH_ROOM: usize = 64;
/// Longest `base_url` accepted (without its trailing slash), so that every request URI fits
/// [`MAX_URI_BYTES`].
pub const MAX_BASE_URL_BYTES: usize = MAX_URI_BYTES - PATH_ROOM;

/// How the client authenticates.
///
/// # Example
///
/// ```
/// use ycm::{Auth, Config, Secret};
/// let token = Auth::AccessToken(Secret::new("eyJhbGciOi..."));
/// let credentials = Auth::ClientCredentials {
///     client_id: "ID".into(),
///     client_secret: Secret::new("SECRET"),
/// };
/// Config::new("https://ycm.yeastar.com", token)?;
/// Config::new("https://ycm.yeastar.com", credentials)?;
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum Auth {
    /// A ready access token (YCM tokens live 30 minutes; swap it with
    /// [`crate::Client::set_access_token`]).
    AccessToken(Secret),
    /// OAuth client credentials: the client fetches and refreshes its own tokens.
    ClientCredentials {
        /// The API client ID from the YCM web UI.
        client_id: String,
        /// The API client secret.
        client_secret: Secret,
    },
}

/// Everything a client needs, validated. Build it with [`Config::new`] and the `with_*`
/// methods, or parse it with [`Config::from_json`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use ycm::{Auth, Code, Config, Secret};
/// let config = Config::new("https://ycm.yeastar.com", Auth::AccessToken(Secret::new("eyJ...")))?
///     .timeout(Duration::from_secs(10))
///     .retries(3, Duration::from_millis(200), Duration::from_secs(5));
/// assert_eq!(config.base_url(), "https://ycm.yeastar.com");
/// let same = Config::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// # let _ = same;
/// // Plain HTTP is refused unless asked for (ycm-mock on loopback):
/// let refused = Config::new("http://ycm.example.com", Auth::AccessToken(Secret::new("t")));
/// assert_eq!(refused.unwrap_err().code(), Code::InvalidArgument);
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) base_url: Url,
    pub(crate) auth: Auth,
    pub(crate) user_agent: String,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) retry_base: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) check_reseller_limit: bool,
    pub(crate) rate_limit: Option<crate::gate::RateLimit>,
    pub(crate) shared_state: crate::shared_state::Scope,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) proxy: crate::proxy::Choice,
}

/// One key of `config_json` (and of a CLI profile, and a Python keyword option): its name,
/// the JSON type it takes, its default and what it does. The documentation site's
/// config-key page is generated from [`CONFIG_OPTIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key as written in JSON.
    pub name: &'static str,
    /// The JSON type of its value.
    pub kind: &'static str,
    /// Its default, in words ("required" when there is none).
    pub default: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// Every key `config_json` accepts, declared once with its documentation; [`CONFIG_KEYS`]
/// is derived from it.
pub const CONFIG_OPTIONS: [ConfigKey; 18] = [
    ConfigKey {
        name: "base_url",
        kind: "string",
        default: "required",
        doc: "YCM's API root, for example `https://ycm.yeastar.com`. Plain `http://` is refused except to loopback hosts (see `allow_insecure_http`).",
    },
    ConfigKey {
        name: "access_token",
        kind: "string",
        default: "none",
        doc: "A bearer token obtained elsewhere; the client never renews it. Give either this or `client_id` + `client_secret`.",
    },
    ConfigKey {
        name: "client_id",
        kind: "string",
        default: "none",
        doc: "The API client ID; with `client_secret`, the client gets, caches and renews its own tokens (one grant at a time, shared per `shared_state`).",
    },
    ConfigKey {
        name: "client_secret",
        kind: "string",
        default: "none",
        doc: "The API client secret (a secret: never logged, never in a message; the CLI reads it from the environment or a 0600 file, never from a flag).",
    },
    ConfigKey {
        name: "user_agent",
        kind: "string",
        default: "`ycm/<version>`",
        doc: "The `User-Agent` header sent with every request.",
    },
    ConfigKey {
        name: "timeout_ms",
        kind: "integer",
        default: "30000",
        doc: "The whole call's budget in milliseconds: every attempt, backoff, `Retry-After` and rate-gate wait included.",
    },
    ConfigKey {
        name: "connect_timeout_ms",
        kind: "integer",
        default: "5000",
        doc: "The budget of one TCP (and proxy) connect in milliseconds.",
    },
    ConfigKey {
        name: "max_retries",
        kind: "integer",
        default: "2",
        doc: "Retries after the first attempt, only where safe: connect errors, timeouts before a response, 429, 502, 503, 504. A 429 is waited out within `timeout_ms` even beyond this count.",
    },
    ConfigKey {
        name: "retry_base_ms",
        kind: "integer",
        default: "200",
        doc: "The base of the exponential backoff (full jitter) between retries.",
    },
    ConfigKey {
        name: "retry_max_ms",
        kind: "integer",
        default: "5000",
        doc: "The cap of one backoff wait, and of a `Retry-After` the server asks for.",
    },
    ConfigKey {
        name: "max_response_bytes",
        kind: "integer",
        default: "1048576",
        doc: "The largest response body read; a larger one fails with `YCM_ERR_BAD_RESPONSE`.",
    },
    ConfigKey {
        name: "ca_file",
        kind: "string (path)",
        default: "the built-in roots",
        doc: "A PEM bundle that replaces the built-in roots, for a YCM (or a TLS-inspecting proxy) behind a private CA; also verifies `rediss://` shared state.",
    },
    ConfigKey {
        name: "allow_insecure_http",
        kind: "boolean",
        default: "false",
        doc: "Accept plain `http://` base URLs to any host (loopback is always accepted, for ycm-mock).",
    },
    ConfigKey {
        name: "check_reseller_limit",
        kind: "boolean",
        default: "false",
        doc: "Before an update that sets `pbxCreationLimit`, read the user and refuse locally a limit its record rules out (`YCM_ERR_INVALID_BODY`).",
    },
    ConfigKey {
        name: "rate_limit",
        kind: "string",
        default: "unset: learned from 429s",
        doc: "The client ID's budget in YCM's terms, `\"BURST/RATE/INTERVAL_S\"` (for example `\"600/300/180\"`): every request passes one gate that keeps to it, so the client's own traffic never draws a 429.",
    },
    ConfigKey {
        name: "shared_state",
        kind: "string",
        default: "`\"process\"` (the CLI: `\"host\"`)",
        doc: "Where the token, the rate budget and the refusal latch live: `\"process\"`, `\"host\"` (every process of the user on this machine), or `\"redis://[[user]:password@]host[:port][/db]\"` / `\"rediss://...\"` (every host reaching that Redis server).",
    },
    ConfigKey {
        name: "state_dir",
        kind: "string (path)",
        default: "`$XDG_RUNTIME_DIR/ycm`, else `$XDG_CACHE_HOME/ycm`, else `~/.cache/ycm`",
        doc: "The host scope's directory, created 0700; refused when other users can open it.",
    },
    ConfigKey {
        name: "proxy",
        kind: "string",
        default: "unset: the environment, read as curl reads it",
        doc: "An HTTP proxy, `\"http://[user:password@]host[:port]\"` (port 1080 by default, as in curl); HTTPS is tunnelled with CONNECT, so TLS and `ca_file` stay end to end. `\"\"` turns proxies off; socks and `https://` proxies are refused.",
    },
];

/// The keys `config_json` accepts (the names of [`CONFIG_OPTIONS`]).
///
/// # Example
///
/// ```
/// assert!(ycm::CONFIG_KEYS.contains(&"base_url"));
/// assert!(ycm::CONFIG_KEYS.contains(&"access_token"));
/// ```
pub const CONFIG_KEYS: [&str; CONFIG_OPTIONS.len()] = {
    let mut keys = [""; CONFIG_OPTIONS.len()];
    let mut i = 0;
    while i < keys.len() {
        keys[i] = CONFIG_OPTIONS[i].name;
        i += 1;
    }
    keys
};

impl Config {
    /// A configuration with every default, for `base_url` and `auth`. Plain `http://` is
    /// accepted only for loopback hosts; see [`Config::with_insecure_http`].
    pub fn new(base_url: &str, auth: Auth) -> Result<Config> {
        Config::build(base_url, auth, false)
    }

    /// Like [`Config::new`], but accepts plain `http://` to any host when `allow` is true.
    pub fn with_insecure_http(base_url: &str, auth: Auth, allow: bool) -> Result<Config> {
        Config::build(base_url, auth, allow)
    }

    fn build(base_url: &str, auth: Auth, allow_insecure_http: bool) -> Result<Config> {
        check_auth(&auth)?;
        Ok(Config {
            base_url: parse_base_url(base_url, allow_insecure_http)?,
            auth,
            user_agent: default_user_agent(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_base: DEFAULT_RETRY_BASE,
            retry_max: DEFAULT_RETRY_MAX,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            ca_file: None,
            check_reseller_limit: false,
            rate_limit: None,
            shared_state: crate::shared_state::Scope::Process,
            state_dir: None,
            proxy: crate::proxy::Choice::Environment,
        })
    }

    /// Parses the JSON object of the C ABI (`config_json`); see [`CONFIG_KEYS`].
    pub fn from_json(json: &str) -> Result<Config> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("config is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid_argument("config must be a JSON object"));
        };
        if let Some(key) = map.keys().find(|k| !CONFIG_KEYS.contains(&k.as_str())) {
            return Err(Error::invalid_argument(format!(
                "config key \"{key}\" is unknown; known keys: {}",
                CONFIG_KEYS.join(", ")
            )));
        }
        let keys = Keys(&map);
        let base_url = keys
            .string("base_url")?
            .ok_or_else(|| Error::invalid_argument("config key \"base_url\" is required"))?;
        let auth = match (
            keys.string("access_token")?,
            keys.string("client_id")?,
            keys.string("client_secret")?,
        ) {
            (Some(token), None, None) => Auth::AccessToken(Secret::new(token)),
            (None, Some(client_id), Some(secret)) => Auth::ClientCredentials {
                client_id: client_id.to_owned(),
                client_secret: Secret::new(secret),
            },
            (None, None, None) => {
                return Err(Error::invalid_argument(
                    "config needs either \"access_token\" or \"client_id\" and \"client_secret\"",
                ))
            }
            (Some(_), _, _) => {
                return Err(Error::invalid_argument(
                    "config takes either \"access_token\" or \"client_id\" and \"client_secret\", not both",
                ))
            }
            (None, _, _) => {
                return Err(Error::invalid_argument(
                    "config keys \"client_id\" and \"client_secret\" must be given together",
                ))
            }
        };
        let allow_insecure = keys.boolean("allow_insecure_http")?.unwrap_or(false);
        let mut config = Config::build(base_url, auth, allow_insecure)?;
        if let Some(agent) = keys.string("user_agent")? {
            config = config.user_agent(agent)?;
        }
        if let Some(ms) = keys.integer("timeout_ms")? {
            config.timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = keys.integer("connect_timeout_ms")? {
            config.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = keys.integer("max_retries")? {
            config.max_retries = n as u32;
        }
        if let Some(ms) = keys.integer("retry_base_ms")? {
            config.retry_base = Duration::from_millis(ms);
        }
        if let Some(ms) = keys.integer("retry_max_ms")? {
            config.retry_max = Duration::from_millis(ms);
        }
        if let Some(n) = keys.integer("max_response_bytes")? {
            config.max_response_bytes = n;
        }
        if let Some(path) = keys.string("ca_file")? {
            if path.is_empty() {
                return Err(Error::invalid_argument(
                    "config key \"ca_file\" must not be empty",
                ));
            }
            config.ca_file = Some(PathBuf::from(path));
        }
        if let Some(check) = keys.boolean("check_reseller_limit")? {
            config.check_reseller_limit = check;
        }
        if let Some(limit) = keys.string("rate_limit")? {
            config.rate_limit = Some(limit.parse().map_err(|e: Error| {
                Error::invalid_argument(format!("config key {}", e.message()))
            })?);
        }
        if let Some(scope) = keys.string("shared_state")? {
            config.shared_state = crate::shared_state::Scope::parse(scope)?;
        }
        if let Some(dir) = keys.string("state_dir")? {
            if dir.is_empty() {
                return Err(Error::invalid_argument(
                    "config key \"state_dir\" must not be empty",
                ));
            }
            config.state_dir = Some(PathBuf::from(dir));
        }
        if let Some(proxy) = keys.string("proxy")? {
            config = config.proxy(proxy)?;
        }
        config.check()?;
        Ok(config)
    }

    /// Checks the numeric options against their ranges (the same rules for the builder
    /// methods and for `config_json`); [`crate::Client::new`] calls it.
    pub fn check(&self) -> Result<()> {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        check_range("timeout_ms", millis(self.timeout))?;
        check_range("connect_timeout_ms", millis(self.connect_timeout))?;
        check_range("max_retries", u64::from(self.max_retries))?;
        check_range("retry_base_ms", millis(self.retry_base))?;
        check_range("retry_max_ms", millis(self.retry_max))?;
        check_range("max_response_bytes", self.max_response_bytes)?;
        if self.retry_max < self.retry_base {
            return Err(Error::invalid_argument(
                "config key \"retry_max_ms\" must be >= \"retry_base_ms\"",
            ));
        }
        Ok(())
    }

    /// Sets the `User-Agent` sent on every request (default `ycm/<version>`).
    pub fn user_agent(mut self, user_agent: &str) -> Result<Config> {
        let valid = !user_agent.trim().is_empty()
            && user_agent
                .bytes()
                .all(|b| b == b' ' || b.is_ascii_graphic());
        if !valid {
            return Err(Error::invalid_argument(
                "user_agent must be non-empty printable ASCII (no control characters such as CR or LF)",
            ));
        }
        self.user_agent = user_agent.to_owned();
        Ok(self)
    }

    /// Sets the whole-call time budget, retries and waits included.
    pub fn timeout(mut self, timeout: Duration) -> Config {
        self.timeout = timeout;
        self
    }

    /// Sets the time budget of each connection attempt.
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the retry policy: at most `max_retries` retries, backoff from `base` up to `max`.
    pub fn retries(mut self, max_retries: u32, base: Duration, max: Duration) -> Config {
        self.max_retries = max_retries;
        self.retry_base = base;
        self.retry_max = max;
        self
    }

    /// Sets the cap on response bodies.
    pub fn max_response_bytes(mut self, bytes: u64) -> Config {
        self.max_response_bytes = bytes;
        self
    }

    /// Trusts the CA certificates of this PEM file instead of the built-in web PKI roots
    /// (like curl's `CURLOPT_CAINFO`), for self-hosted YCM behind a private CA.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Config {
        self.ca_file = Some(path.into());
        self
    }

    /// Makes updates that set an integer `pbxCreationLimit` read the user first and refuse
    /// locally when the user is not a reseller or the limit is below `createdCloudPbx`.
    pub fn check_reseller_limit(mut self, check: bool) -> Config {
        self.check_reseller_limit = check;
        self
    }

    /// Sets the client ID's rate budget in YCM's terms: every request of the client passes
    /// one gate that keeps to it (see [`crate::RateLimit`]).
    pub fn rate_limit(mut self, limit: Option<crate::gate::RateLimit>) -> Config {
        self.rate_limit = limit;
        self
    }

    /// Sets where the token, the rate budget and the refusal latch are shared, and the
    /// directory of the host scope's state files (`None`: the default).
    pub fn shared_state(
        mut self,
        scope: crate::shared_state::Scope,
        state_dir: Option<PathBuf>,
    ) -> Config {
        self.shared_state = scope;
        self.state_dir = state_dir;
        self
    }

    /// Sets the HTTP proxy, like curl's `CURLOPT_PROXY`: `http://[user:password@]host[:port]`
    /// (credentials percent-encoded; the port defaults to 1080, as in curl), used whatever
    /// the environment says; `""` turns proxies off, environment included. Without this
    /// setting the client reads the environment as curl does (`https_proxy`, `HTTPS_PROXY`,
    /// `http_proxy`, `all_proxy`, `ALL_PROXY`, `no_proxy`, `NO_PROXY`) when it is created.
    /// Only `http://` proxies are supported; an https base URL is tunnelled through one with
    /// CONNECT, so TLS (and [`Config::ca_file`]) stays end to end.
    ///
    /// ```
    /// use ycm::{Auth, Code, Config, Secret};
    /// let config = Config::new("https://ycm.yeastar.com", Auth::AccessToken(Secret::new("eyJ...")))?;
    /// let proxied = config.clone().proxy("http://billing:s3cret@proxy.corp:3128")?;
    /// assert!(!format!("{proxied:?}").contains("s3cret"));
    /// let refused = config.proxy("socks5://proxy.corp:1080").unwrap_err();
    /// assert_eq!(refused.code(), Code::InvalidArgument);
    /// assert!(refused.message().starts_with("config key \"proxy\""));
    /// # Ok::<(), ycm::Error>(())
    /// ```
    pub fn proxy(mut self, proxy: &str) -> Result<Config> {
        self.proxy = crate::proxy::Choice::parse(proxy)?;
        Ok(self)
    }

    /// The client ID's rate budget, if configured.
    pub fn rate_limit_setting(&self) -> Option<crate::gate::RateLimit> {
        self.rate_limit
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }
}

/// The default `User-Agent`: `ycm/<version>`.
pub fn default_user_agent() -> String {
    format!("ycm/{}", env!("CARGO_PKG_VERSION"))
}

/// Checks that an access token fits RFC 6750's `b64token` (so it cannot break the header).
pub fn check_access_token(token: &str) -> Result<()> {
    let body = token.trim_end_matches('=');
    let valid = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_argument(
            "access_token must be a non-empty bearer token of letters, digits and -._~+/ (optionally followed by =); it contains another character",
        ))
    }
}

fn check_auth(auth: &Auth) -> Result<()> {
    match auth {
        Auth::AccessToken(token) => check_access_token(token.expose()),
        Auth::ClientCredentials {
            client_id,
            client_secret,
        } => {
            if client_id.is_empty() || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::invalid_argument(
                    "client_id must be non-empty printable ASCII without spaces",
                ));
            }
            if client_secret.expose().is_empty()
                || client_secret.expose().chars().any(char::is_control)
            {
                return Err(Error::invalid_argument(
                    "client_secret must be non-empty and free of control characters",
                ));
            }
            Ok(())
        }
    }
}

/// Parses and checks a base URL: http(s), a host, no credentials, query or fragment, and
/// plain http only to loopback unless `allow_insecure_http`.
fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url> {
    let shown = shown_url(text);
    let bad = |rule: &str| Error::invalid_argument(format!("base_url {shown} {rule}"));
    let url = Url::parse(text).map_err(|e| bad(&format!("is not a valid URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "uses plain http to a non-loopback host; use https (or set allow_insecure_http)",
            ))
        }
        _ => {
            return Err(bad(
                "must start with https:// (or http:// for a loopback host)",
            ))
        }
    }
    if url.host().is_none() {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not contain a query or fragment"));
    }
    let length = url.as_str().trim_end_matches('/').len();
    if length > MAX_BASE_URL_BYTES {
        return Err(bad(&format!(
            "is {length} bytes long; the limit is {MAX_BASE_URL_BYTES} (a request URI has at most {MAX_URI_BYTES} bytes, and the paths ycm appends need up to {PATH_ROOM})"
        )));
    }
    Ok(url)
}

/// The base URL as an error message may quote it: cut short, and never with credentials
/// (a password in the URL, or a token pasted into the wrong argument).
pub(crate) fn shown_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) if url.password().is_some() || !url.username().is_empty() => {
            format!(
                "\"{}://...@{}\"",
                url.scheme(),
                url.host_str().unwrap_or("")
            )
        }
        Ok(_) if text.len() <= 80 => format!("\"{text}\""),
        Ok(_) => format!("\"{}...\"", crate::response::cut(text, 80)),
        Err(_) if text.contains('@') || text.len() > 80 || !text.contains("://") => {
            format!("({} characters, not shown)", text.chars().count())
        }
        Err(_) => format!("\"{text}\""),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The range of each numeric option, by config key.
const RANGES: [(&str, u64, u64); 6] = [
    ("timeout_ms", 1, 3_600_000),
    ("connect_timeout_ms", 1, 600_000),
    ("max_retries", 0, 10),
    ("retry_base_ms", 0, 60_000),
    ("retry_max_ms", 0, 300_000),
    ("max_response_bytes", 1024, 64 * 1024 * 1024),
];

fn check_range(key: &str, value: u64) -> Result<()> {
    let (_, min, max) = RANGES
        .iter()
        .find(|(name, _, _)| *name == key)
        .copied()
        .unwrap_or((key, 0, u64::MAX));
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "config key \"{key}\" must be an integer from {min} to {max}"
        )))
    }
}

/// Typed access to the keys of a config object, each error naming its key.
struct Keys<'a>(&'a Map<String, Value>);

impl<'a> Keys<'a> {
    fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::invalid_argument(format!(
                "config key \"{key}\" must be a string"
            ))),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::invalid_argument(format!(
                "config key \"{key}\" must be true or false"
            ))),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<u64>> {
        let Some(value) = self.0.get(key) else {
            return Ok(None);
        };
        // Negative, fractional or non-numbers map to u64::MAX, which no range admits.
        let number = value.as_u64().unwrap_or(u64::MAX);
        check_range(key, number)?;
        Ok(Some(number))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn documented_defaults_are_the_real_ones() {
        let default_of = |key: &str| {
            super::CONFIG_OPTIONS
                .iter()
                .find(|k| k.name == key)
                .map(|k| k.default)
                .unwrap()
        };
        let ms = |d: std::time::Duration| d.as_millis().to_string();
        assert_eq!(default_of("timeout_ms"), ms(super::DEFAULT_TIMEOUT));
        assert_eq!(
            default_of("connect_timeout_ms"),
            ms(super::DEFAULT_CONNECT_TIMEOUT)
        );
        assert_eq!(
            default_of("max_retries"),
            super::DEFAULT_MAX_RETRIES.to_string()
        );
        assert_eq!(default_of("retry_base_ms"), ms(super::DEFAULT_RETRY_BASE));
        assert_eq!(default_of("retry_max_ms"), ms(super::DEFAULT_RETRY_MAX));
        assert_eq!(
            default_of("max_response_bytes"),
            super::DEFAULT_MAX_RESPONSE_BYTES.to_string()
        );
        for key in super::CONFIG_OPTIONS {
            assert!(
                !key.doc.is_empty() && !key.kind.is_empty(),
                "{} is undocumented",
                key.name
            );
        }
    }

    use super::*;
    use crate::error::Code;

    fn refused(json: &str) -> String {
        let err = Config::from_json(json).expect_err(json);
        assert_eq!(err.code(), Code::InvalidArgument, "{json}");
        err.to_string()
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_json(r#"{"base_url":"http://127.0.0.1:1/","access_token":"abc"}"#)
            .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.user_agent, format!("ycm/{}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn every_key_is_read() {
        let c = Config::from_json(
            r#"{"base_url":"https://ycm.example.com","client_id":"id","client_secret":"s",
                "user_agent":"billing/2","timeout_ms":1000,"connect_timeout_ms":100,
                "max_retries":0,"retry_base_ms":1,"retry_max_ms":2,"max_response_bytes":4096,
                "ca_file":"/tmp/ca.pem","allow_insecure_http":false,"check_reseller_limit":true,
                "proxy":"http://proxy.corp:3128"}"#,
        )
        .unwrap();
        assert!(matches!(c.auth, Auth::ClientCredentials { .. }));
        assert_eq!(c.user_agent, "billing/2");
        assert_eq!(c.timeout, Duration::from_millis(1000));
        assert_eq!(c.connect_timeout, Duration::from_millis(100));
        assert_eq!(c.max_retries, 0);
        assert_eq!(c.retry_max, Duration::from_millis(2));
        assert_eq!(c.max_response_bytes, 4096);
        assert_eq!(
            c.ca_file.as_deref(),
            Some(std::path::Path::new("/tmp/ca.pem"))
        );
        assert!(c.check_reseller_limit);
        assert!(matches!(c.proxy, crate::proxy::Choice::Use(_)));
    }

    #[test]
    fn bad_configs_name_the_key() {
        assert!(refused("[]").contains("object"));
        assert!(refused("{").contains("JSON"));
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","timeout":1}"#)
                .contains("\"timeout\" is unknown")
        );
        assert!(refused(r#"{"access_token":"t"}"#).contains("base_url"));
        assert!(refused(r#"{"base_url":"https://a"}"#).contains("access_token"));
        assert!(refused(r#"{"base_url":"https://a","client_id":"x"}"#).contains("together"));
        assert!(refused(
            r#"{"base_url":"https://a","access_token":"t","client_id":"x","client_secret":"y"}"#
        )
        .contains("not both"));
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","timeout_ms":0}"#)
                .contains("timeout_ms")
        );
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","max_retries":"2"}"#)
                .contains("max_retries")
        );
        assert!(refused(
            r#"{"base_url":"https://a","access_token":"t","retry_base_ms":10,"retry_max_ms":5}"#
        )
        .contains("retry_max_ms"));
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","user_agent":"a\r\nX: y"}"#)
                .contains("user_agent")
        );
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","allow_insecure_http":1}"#)
                .contains("allow_insecure_http")
        );
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","proxy":"socks5://p:1"}"#)
                .starts_with("config key \"proxy\" \"socks5://p:1\" uses the unsupported")
        );
        assert!(
            refused(r#"{"base_url":"https://a","access_token":"t","proxy":3128}"#)
                .contains("\"proxy\" must be a string")
        );
    }

    #[test]
    fn tokens_with_header_breaking_characters_are_refused() {
        for token in ["", "a b", "a\r\nX-Evil: 1", "tök", "a=b"] {
            let json = serde_json::json!({"base_url": "https://a", "access_token": token});
            let message = refused(&json.to_string());
            assert!(message.contains("access_token"), "{message}");
            assert!(token.is_empty() || !message.contains(token), "{message}");
        }
        assert!(check_access_token("eyJ.abc-_~+/==").is_ok());
    }

    #[test]
    fn builder_values_obey_the_same_ranges() {
        let config = || Config::new("https://a", Auth::AccessToken(Secret::new("t"))).unwrap();
        assert!(config().check().is_ok());
        let err = config().timeout(Duration::ZERO).check().unwrap_err();
        assert!(
            err.to_string()
                .contains("\"timeout_ms\" must be an integer from 1"),
            "{err}"
        );
        assert!(config().max_response_bytes(10).check().is_err());
        let retries = config().retries(11, Duration::ZERO, Duration::ZERO);
        assert!(retries
            .check()
            .unwrap_err()
            .to_string()
            .contains("max_retries"));
        let inverted = config().retries(1, Duration::from_secs(2), Duration::from_secs(1));
        assert!(inverted
            .check()
            .unwrap_err()
            .to_string()
            .contains("retry_max_ms"));
        assert!(crate::Client::new(config().timeout(Duration::ZERO)).is_err());
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let auth = || Auth::AccessToken(Secret::new("t"));
        assert!(Config::new("http://127.0.0.1:8080", auth()).is_ok());
        assert!(Config::new("http://[::1]:8080", auth()).is_ok());
        assert!(Config::new("http://localhost", auth()).is_ok());
        let err = Config::new("http://ycm.example.com", auth()).unwrap_err();
        assert!(err.to_string().contains("allow_insecure_http"));
        assert!(Config::with_insecure_http("http://ycm.example.com", auth(), true).is_ok());
        for bad in [
            "ftp://a",
            "not a url",
            "https://u:p@a",
            "https://a/?q=1",
            "https://a/#f",
        ] {
            assert!(Config::new(bad, auth()).is_err(), "{bad}");
        }
        let err = Config::new("https://user:Passw0rd@ycm.example.com", auth()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "base_url \"https://...@ycm.example.com\" must not contain credentials"
        );
        let err = Config::new("eyJhbGciOiJIUzI1NiJ9.secret-token", auth()).unwrap_err();
        assert!(!err.to_string().contains("secret-token"), "{err}");
    }

    #[test]
    fn a_base_url_leaves_room_for_every_path_within_the_uri_limit() {
        let auth = || Auth::AccessToken(Secret::new("t"));
        let longest_list = crate::account::ListQuery::new(50, u32::MAX, None).unwrap();
        let longest_user = format!("/dm/open_api/v1/users/{}", i64::MAX);
        for path in [
            longest_list.path(),
            longest_user,
            crate::auth::TOKEN_PATH.into(),
        ] {
            assert!(path.len() <= PATH_ROOM, "{path}");
        }
        let url = |len: usize| {
            let base = "https://ycm.example.com/";
            format!("{base}{}", "p".repeat(len - base.len()))
        };
        let at_limit = Config::new(&url(MAX_BASE_URL_BYTES), auth()).unwrap();
        assert_eq!(at_limit.base_url().len(), MAX_BASE_URL_BYTES);
        // A trailing slash is not counted: it is not sent twice.
        assert!(Config::new(&format!("{}/", url(MAX_BASE_URL_BYTES)), auth()).is_ok());
        for len in [MAX_BASE_URL_BYTES + 1, MAX_URI_BYTES, 1 << 20] {
            let err = Config::new(&url(len), auth()).unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
            assert!(
                err.to_string().contains(&format!(
                    "is {len} bytes long; the limit is {MAX_BASE_URL_BYTES}"
                )),
                "{err}"
            );
            assert!(err.to_string().len() < 300, "{err}");
            let json = serde_json::json!({"base_url": url(len), "access_token": "t"});
            assert!(refused(&json.to_string()).contains("the limit is 65470"));
        }
        // Percent-encoding happens before the count: it is what is sent.
        let accents = format!("https://a/{}", "\u{e9}".repeat(MAX_BASE_URL_BYTES / 4));
        assert!(accents.len() < MAX_BASE_URL_BYTES);
        assert!(Config::new(&accents, auth()).is_err());
    }
}
