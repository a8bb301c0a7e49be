//! The `ycm` binary through an HTTP proxy (Debian's tinyproxy on loopback; skipped loudly
//! when it is not installed, failed under `CI`): `--proxy` for an http base URL,
//! `YCM_PROXY` with Basic credentials and `HTTPS_PROXY` for an https one (tunnelled, the
//! private CA of the profile's `ca_file` verified end to end), the profile's `proxy` key,
//! `NO_PROXY`, a 407 and a refused proxy port as one readable error line naming the proxy
//! (exit 1, no password), `--proxy` refusing credentials (exit 2), and `auth status`
//! showing the proxy in use without them.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use ycm_mock::{MockConfig, MockServer};

#[path = "../../mock/tests/support/pki.rs"]
mod pki;
#[path = "../../mock/tests/support/tinyproxy.rs"]
mod tinyproxy;
use pki::Ca;
use tinyproxy::{Options, Tinyproxy, PROXY_PASSWORD, PROXY_PASSWORD_ENCODED, PROXY_USER};

const TOKEN: &str = "ycm-mock-token";

struct Setup {
    http: MockServer,
    https: MockServer,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let ca = Ca::new("ycm CLI proxy CA");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.issuer.pem()).unwrap();
        let https = MockServer::start(
            "127.0.0.1:0",
            MockConfig {
                tls: Some(ca.server(&["127.0.0.1"])),
                ..MockConfig::default()
            },
        )
        .unwrap();
        let http = MockServer::start("127.0.0.1:0", MockConfig::default()).unwrap();
        Setup { http, https, dir }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// `ycm` with a clean environment (no proxy variable but those given), the token, and
    /// a default profile holding `profile` (TOML lines).
    fn ycm(&self, base_url: &str, profile: &str) -> Command {
        let config = self.dir.path().join("config/ycm");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            format!("[profiles.default]\nshared_state = \"process\"\n{profile}\n"),
        )
        .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_ycm"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("YCM_BASE_URL", base_url)
            .env("YCM_ACCESS_TOKEN", TOKEN)
            .stdin(Stdio::null());
        command
    }

    fn with_ca(&self) -> String {
        format!("ca_file = \"{}\"", self.ca_file().display())
    }
}

fn update(command: &mut Command) -> Output {
    command
        .args(["users", "update", "13329", "--company", "Via Proxy"])
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(output: &Output, case: &str) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{case}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Exit 1 with one error line naming `address` and holding no credential.
fn assert_fails_naming(output: &Output, address: &str, fragment: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(address) && stderr.contains(fragment),
        "{stderr}"
    );
    for secret in [PROXY_PASSWORD, PROXY_PASSWORD_ENCODED] {
        assert!(
            !stderr.contains(secret) && !text(&output.stdout).contains(secret),
            "{stderr}"
        );
    }
}

#[test]
fn the_cli_goes_through_the_proxy_it_is_given() {
    let s = Setup::new();
    let https_port = s.https.addr().port();
    let Some(proxy) = Tinyproxy::start(Options {
        basic_auth: Some((PROXY_USER, PROXY_PASSWORD)),
        connect_ports: vec![https_port],
    }) else {
        return;
    };
    let with_credentials = proxy.url_with(PROXY_USER, PROXY_PASSWORD_ENCODED);

    // --proxy never takes credentials; YCM_PROXY and the profile do.
    let refused = update(
        s.ycm(&s.http.url(), "")
            .args(["--proxy", &with_credentials]),
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("--proxy must not carry credentials"));
    assert!(!text(&refused.stderr).contains(PROXY_PASSWORD_ENCODED));

    // An http base URL, forwarded: YCM_PROXY with credentials.
    let out = update(s.ycm(&s.http.url(), "").env("YCM_PROXY", &with_credentials));
    assert_ok(&out, "YCM_PROXY");
    assert!(proxy
        .log()
        .contains(&format!("PUT {}/dm/open_api/v1/users/13329", s.http.url())));

    // An https base URL, tunnelled: HTTPS_PROXY, and the profile's proxy key.
    let out = update(
        s.ycm(&s.https.url(), &s.with_ca())
            .env("HTTPS_PROXY", &with_credentials),
    );
    assert_ok(&out, "HTTPS_PROXY");
    let profile = format!("{}\nproxy = \"{with_credentials}\"", s.with_ca());
    assert_ok(
        &update(&mut s.ycm(&s.https.url(), &profile)),
        "profile proxy",
    );
    assert_eq!(
        proxy
            .log()
            .matches(&format!("CONNECT 127.0.0.1:{https_port}"))
            .count(),
        2
    );
    assert_eq!(s.https.stats().requests, 2);

    // --proxy "" wins over the profile and the environment.
    let out = update(
        s.ycm(&s.https.url(), &profile)
            .env("HTTPS_PROXY", "http://127.0.0.1:1")
            .args(["--proxy", ""]),
    );
    assert_ok(&out, "--proxy \"\"");
    assert_eq!(s.https.stats().requests, 3);

    // auth status names the proxy and where it was set, never its credentials.
    let out = s
        .ycm(&s.https.url(), &s.with_ca())
        .env("HTTPS_PROXY", &with_credentials)
        .args(["--output", "json", "auth", "status"])
        .output()
        .unwrap();
    assert_ok(&out, "auth status");
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status["proxy"],
        format!(
            "proxy {} (from environment variable HTTPS_PROXY)",
            proxy.address()
        )
    );
    assert!(!text(&out.stdout).contains(PROXY_PASSWORD_ENCODED));

    // Without credentials: 407, one line naming the proxy.
    let out = update(
        s.ycm(&s.https.url(), &s.with_ca())
            .args(["--proxy", &proxy.url()]),
    );
    assert_fails_naming(&out, &proxy.address(), "407 Proxy Authentication Required");
}

#[test]
fn a_refused_proxy_fails_naming_it_and_no_proxy_bypasses_it() {
    let s = Setup::new();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let proxy_url = format!("http://{PROXY_USER}:{PROXY_PASSWORD_ENCODED}@{closed}");
    let out = update(
        s.ycm(&s.https.url(), &s.with_ca())
            .env("https_proxy", &proxy_url),
    );
    assert_fails_naming(&out, &closed.to_string(), "could not connect to the proxy");
    assert!(text(&out.stderr).contains("(from environment variable https_proxy)"));
    let out = update(
        s.ycm(&s.https.url(), &s.with_ca())
            .env("https_proxy", &proxy_url)
            .env("NO_PROXY", "localhost,127.0.0.1"),
    );
    assert_ok(&out, "NO_PROXY");
    let out = update(
        s.ycm(&s.https.url(), &s.with_ca())
            .env("https_proxy", "socks5://127.0.0.1:1080"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("environment variable https_proxy"));
}
