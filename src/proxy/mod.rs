//! Proxies: which HTTP proxy, if any, a client goes through, decided once at client creation
//! for its one base URL. The `proxy` config key wins; without it the environment is read as
//! curl reads it (`https_proxy`/`HTTPS_PROXY` for https, lowercase `http_proxy` only for
//! http, then `all_proxy`/`ALL_PROXY`, and `no_proxy`/`NO_PROXY` through [`no_proxy`]);
//! `proxy: ""` turns proxies off, environment included. Only `http://` proxies are spoken
//! to (an https base URL is tunnelled through one with CONNECT by [`tunnel`], so TLS and
//! `ca_file` stay end to end; an http one is forwarded in absolute form). The proxy's
//! credentials (the URL's userinfo, percent-decoded) are a [`Secret`]: the [`Proxy`] shows
//! itself as `host:port` and where it came from, never with them.

pub(crate) mod forward;
pub(crate) mod no_proxy;
pub(crate) mod tunnel;

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use std::fmt;
use url::Url;

/// The port of a proxy URL that names none (curl's default).
pub const DEFAULT_PROXY_PORT: u16 = 1080;

/// What the `proxy` key says.
#[derive(Clone, Debug, Default)]
pub(crate) enum Choice {
    /// No `proxy` key: the environment decides.
    #[default]
    Environment,
    /// `proxy: ""`: never a proxy, whatever the environment says.
    Off,
    /// This proxy (checked when the key was read).
    Use(Proxy),
}

impl Choice {
    /// Reads the value of the `proxy` key: `""` turns proxies off, anything else must be a
    /// proxy URL.
    pub fn parse(value: &str) -> Result<Choice> {
        if value.is_empty() {
            return Ok(Choice::Off);
        }
        Proxy::parse(value, Source::Key).map(Choice::Use)
    }
}

/// Where a proxy setting came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The `proxy` config key.
    Key,
    /// This environment variable.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Key => f.write_str("config key \"proxy\""),
            Source::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

/// An HTTP proxy: where it listens, its credentials, and where the setting came from.
#[derive(Clone)]
pub(crate) struct Proxy {
    /// The host as a URL writes it (an IPv6 address in brackets).
    host: String,
    port: u16,
    /// `http://host:port/`, which the resolver resolves for every connection.
    uri: ureq::http::Uri,
    /// `Basic base64(user:password)`, when the URL had a userinfo.
    authorization: Option<Secret>,
    source: Source,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("address", &self.address())
            .field(
                "credentials",
                &self.authorization.as_ref().map(|_| "[REDACTED]"),
            )
            .field("source", &self.source)
            .finish()
    }
}

impl Proxy {
    /// Parses a proxy URL: `http://[user[:password]@]host[:port][/]`, or `host[:port]`
    /// (http is assumed, as curl does); the port defaults to [`DEFAULT_PROXY_PORT`].
    pub fn parse(text: &str, source: Source) -> Result<Proxy> {
        let shown = crate::config::shown_url(text);
        let bad = |rule: &str| Error::invalid_argument(format!("{source} {shown} {rule}"));
        let with_scheme;
        let full = if text.contains("://") {
            text
        } else {
            with_scheme = format!("http://{text}");
            &with_scheme
        };
        let url = Url::parse(full).map_err(|e| bad(&format!("is not a valid proxy URL ({e})")))?;
        match url.scheme() {
            "http" => {}
            scheme => {
                return Err(bad(&format!(
                    "uses the unsupported proxy scheme \"{scheme}\"; ycm speaks to http:// proxies only (an https base URL is tunnelled through them with CONNECT)"
                )))
            }
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(bad("has no host"));
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                "must be http://[user:password@]host[:port], without a path, query or fragment",
            ));
        }
        let authorization = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |part: &str, what: &str| {
                percent_encoding::percent_decode_str(part)
                    .decode_utf8()
                    .ok()
                    .filter(|s| !s.chars().any(char::is_control))
                    .map(|s| s.into_owned())
                    .ok_or_else(|| {
                        bad(&format!(
                            "has a {what} that is not UTF-8 text once percent-decoded"
                        ))
                    })
            };
            let user = decode(url.username(), "user name")?;
            let password = decode(url.password().unwrap_or(""), "password")?;
            let pair = zeroize::Zeroizing::new(format!("{user}:{password}"));
            Some(Secret::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
            )))
        };
        // `Url` drops an explicit `:80` (http's default), which is not the default here.
        let port = url
            .port()
            .or_else(|| full.parse::<ureq::http::Uri>().ok()?.port_u16())
            .unwrap_or(DEFAULT_PROXY_PORT);
        let uri = format!("http://{host}:{port}/")
            .parse()
            .map_err(|e| bad(&format!("is not a valid proxy URL ({e})")))?;
        Ok(Proxy {
            host: host.to_owned(),
            port,
            uri,
            authorization,
            source,
        })
    }

    /// `host:port`, for messages and logs (never the credentials).
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The proxy as messages name it: `proxy host:port (from SOURCE)`.
    pub fn describe(&self) -> String {
        format!("proxy {} (from {})", self.address(), self.source)
    }

    /// The URI ureq's resolver is asked to resolve for every connection.
    pub fn uri(&self) -> ureq::http::Uri {
        self.uri.clone()
    }

    /// What to do about an answer of `status` that refused the request: put credentials in
    /// the URL, or check them (tinyproxy answers wrong ones with 401, not 407).
    pub fn credentials_hint(&self, status: u16) -> &'static str {
        match (status, self.has_credentials()) {
            (407, false) => "; it wants credentials: put them in the proxy URL (http://user:password@host:port, percent-encoded)",
            (401 | 407, true) => "; it refused the credentials of the proxy URL",
            _ => "",
        }
    }

    /// The `Proxy-Authorization` value, when the URL had credentials.
    pub fn authorization(&self) -> Option<&Secret> {
        self.authorization.as_ref()
    }

    /// Whether credentials were given.
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some()
    }
}

/// The environment variables read for a base URL of `scheme`, in curl's order.
fn env_names(scheme: &str) -> &'static [&'static str] {
    match scheme {
        // curl reads only the lowercase http_proxy: HTTP_PROXY may be set by a CGI server
        // from a request's `Proxy:` header (httpoxy).
        "http" => &["http_proxy", "all_proxy", "ALL_PROXY"],
        _ => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
    }
}

/// The proxy a client for `base_url` goes through, or `None` to connect directly: the
/// `proxy` key's choice, else the environment read through `env` (an empty value counts as
/// unset). A malformed or unsupported proxy URL is refused naming where it came from.
pub(crate) fn route(
    choice: &Choice,
    base_url: &Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>> {
    match choice {
        Choice::Off => Ok(None),
        Choice::Use(proxy) => Ok(Some(proxy.clone())),
        Choice::Environment => {
            let read = |name: &str| env(name).filter(|v| !v.is_empty());
            let Some((name, value)) = env_names(base_url.scheme())
                .iter()
                .find_map(|name| read(name).map(|value| (*name, value)))
            else {
                return Ok(None);
            };
            let no_proxy = read("no_proxy").or_else(|| read("NO_PROXY"));
            let host = base_url.host_str().unwrap_or("");
            if no_proxy.is_some_and(|list| no_proxy::matches(&list, host)) {
                return Ok(None);
            }
            Proxy::parse(&value, Source::Env(name)).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use std::collections::HashMap;

    fn routed(choice: &Choice, base: &str, vars: &[(&str, &str)]) -> Result<Option<Proxy>> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        route(choice, &Url::parse(base).unwrap(), &|name| {
            vars.get(name).cloned()
        })
    }

    fn described(base: &str, vars: &[(&str, &str)]) -> Option<String> {
        routed(&Choice::Environment, base, vars)
            .unwrap()
            .map(|p| p.describe())
    }

    #[test]
    fn the_environment_is_read_as_curl_reads_it() {
        let https = "https://ycm.example.com";
        let http = "http://127.0.0.1:8080";
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case] = &[
            (https, &[], None),
            (
                https,
                &[("https_proxy", "http://a:1")],
                Some("a:1 (from environment variable https_proxy)"),
            ),
            (
                https,
                &[("HTTPS_PROXY", "a:2")],
                Some("a:2 (from environment variable HTTPS_PROXY)"),
            ),
            (
                https,
                &[("https_proxy", "a:1"), ("HTTPS_PROXY", "b:2")],
                Some("a:1 (from environment variable https_proxy)"),
            ),
            (https, &[("http_proxy", "a:1")], None),
            (
                https,
                &[("ALL_PROXY", "a:3")],
                Some("a:3 (from environment variable ALL_PROXY)"),
            ),
            (
                https,
                &[("all_proxy", "a:4"), ("ALL_PROXY", "b:3")],
                Some("a:4 (from environment variable all_proxy)"),
            ),
            (
                https,
                &[("https_proxy", ""), ("ALL_PROXY", "a:3")],
                Some("a:3 (from environment variable ALL_PROXY)"),
            ),
            (
                http,
                &[("http_proxy", "a:5")],
                Some("a:5 (from environment variable http_proxy)"),
            ),
            // curl never reads HTTP_PROXY (httpoxy), nor an https proxy for http.
            (http, &[("HTTP_PROXY", "a:5"), ("https_proxy", "a:1")], None),
            (
                http,
                &[("HTTP_PROXY", "a:5"), ("all_proxy", "a:6")],
                Some("a:6 (from environment variable all_proxy)"),
            ),
            (
                https,
                &[("https_proxy", "a")],
                Some("a:1080 (from environment variable https_proxy)"),
            ),
            (
                https,
                &[("https_proxy", "a:1"), ("NO_PROXY", "example.com")],
                None,
            ),
            (
                https,
                &[
                    ("https_proxy", "a:1"),
                    ("no_proxy", "other.com"),
                    ("NO_PROXY", "example.com"),
                ],
                Some("a:1 (from environment variable https_proxy)"),
            ),
            (https, &[("https_proxy", "a:1"), ("no_proxy", "*")], None),
            (
                http,
                &[
                    ("http_proxy", "a:1"),
                    ("no_proxy", "localhost, 127.0.0.0/8"),
                ],
                None,
            ),
        ];
        for (base, vars, expected) in cases {
            let got = described(base, vars);
            assert_eq!(
                got.as_deref(),
                expected.map(|e| format!("proxy {e}")).as_deref(),
                "{base} {vars:?}"
            );
        }
    }

    #[test]
    fn the_key_wins_over_the_environment_and_empty_turns_proxies_off() {
        let vars = [("https_proxy", "http://env:1"), ("no_proxy", "*")];
        let key = Choice::parse("http://key:2").unwrap();
        let proxy = routed(&key, "https://ycm.example.com", &vars)
            .unwrap()
            .unwrap();
        assert_eq!(proxy.describe(), "proxy key:2 (from config key \"proxy\")");
        let off = Choice::parse("").unwrap();
        assert!(routed(&off, "https://ycm.example.com", &vars[..1])
            .unwrap()
            .is_none());
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_shown() {
        let proxy =
            Proxy::parse("http://us%65r:p%40ss%3Aw0rd@proxy.corp:3128/", Source::Key).unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("user:p@ss:w0rd");
        assert_eq!(
            proxy.authorization().unwrap().expose(),
            format!("Basic {expected}")
        );
        assert_eq!(proxy.address(), "proxy.corp:3128");
        let debug = format!("{proxy:?}");
        assert!(
            !debug.contains("p@ss") && !debug.contains("ss%3A") && !debug.contains(&expected),
            "{debug}"
        );
        assert!(debug.contains("[REDACTED]"), "{debug}");
        let user_only = Proxy::parse("http://user@p:1", Source::Key).unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("user:");
        assert_eq!(
            user_only.authorization().unwrap().expose(),
            format!("Basic {expected}")
        );
        assert_eq!(
            Proxy::parse("http://p:80", Source::Key).unwrap().address(),
            "p:80"
        );
        let v6 = Proxy::parse("http://[::1]:3128", Source::Key).unwrap();
        assert_eq!(v6.address(), "[::1]:3128");
        assert_eq!(v6.uri().port_u16(), Some(3128));
    }

    #[test]
    fn bad_proxy_urls_are_refused_naming_their_source_without_credentials() {
        let cases: &[(&str, &str)] = &[
            ("socks5://proxy:1080", "unsupported proxy scheme \"socks5\""),
            ("https://proxy:443", "unsupported proxy scheme \"https\""),
            ("http://", "not a valid proxy URL"),
            ("http://proxy:99999", "not a valid proxy URL"),
            ("http://proxy:1/path", "without a path"),
            ("http://proxy:1/?q", "without a path"),
            ("http://user:secret-pw@proxy:1/path", "without a path"),
            ("http://user:%FF@proxy:1", "not UTF-8"),
        ];
        for (text, rule) in cases {
            let err = Choice::parse(text).unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument, "{text}");
            let message = err.to_string();
            assert!(message.starts_with("config key \"proxy\""), "{message}");
            assert!(message.contains(rule), "{text}: {message}");
            assert!(
                !message.contains("secret-pw") && !message.contains("%FF"),
                "{message}"
            );
        }
        let err = routed(
            &Choice::Environment,
            "https://ycm.example.com",
            &[("HTTPS_PROXY", "socks5h://user:secret-pw@proxy:1080")],
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("environment variable HTTPS_PROXY \"socks5h://...@proxy\" uses the unsupported proxy scheme"),
            "{err}"
        );
    }
}
