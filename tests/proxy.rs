//! Proxies end to end, through Debian's tinyproxy on loopback (skipped loudly when it is not
//! installed, failed under `CI`): an http base URL forwarded, an https one tunnelled with
//! CONNECT and verified against a private CA (`ca_file`) end to end, Basic credentials
//! from the proxy URL, and the failures: 407 without or with wrong credentials, a CONNECT
//! the proxy refuses, a proxy port that refuses connections, and (from a scripted peer) a
//! proxy that answers 502, closes before answering, or drops the tunnel after opening it.
//! Each failure names the proxy and never its credentials. The environment's proxies are
//! in `tests/proxy_env.rs` (a process of their own: they set variables).

mod common;

use common::*;
use std::path::PathBuf;
use ycm::{Auth, Client, Code, Config, Error, Secret, UserUpdate};
use ycm_mock::scripted::{response, ScriptedServer, Step};
use ycm_mock::{MockConfig, MockServer};

#[path = "../mock/tests/support/pki.rs"]
mod pki;
#[path = "../mock/tests/support/tinyproxy.rs"]
mod tinyproxy;
use pki::Ca;
use tinyproxy::{Options, Tinyproxy, PROXY_PASSWORD, PROXY_PASSWORD_ENCODED, PROXY_USER};

fn update() -> UserUpdate {
    UserUpdate::new().company("Behind A Proxy Ltd")
}

/// A client of `url` through `proxy` (and trusting `ca_file`).
fn client(url: &str, proxy: &str, ca_file: Option<&PathBuf>) -> Client {
    let mut config = fast(Config::new(url, Auth::AccessToken(Secret::new(TOKEN))).unwrap())
        .proxy(proxy)
        .unwrap();
    if let Some(path) = ca_file {
        config = config.ca_file(path);
    }
    Client::new(config).expect("client")
}

/// An https mock with a certificate of a fresh private CA, and that CA's PEM file.
struct Https {
    server: MockServer,
    ca_file: PathBuf,
}

impl Https {
    fn start() -> Https {
        let ca = Ca::new("ycm proxy test CA");
        let server = mock_with(MockConfig {
            tls: Some(ca.server(&["127.0.0.1"])),
            ..MockConfig::default()
        });
        let ca_file = std::env::temp_dir().join(format!(
            "ycm-proxy-ca-{}-{}.pem",
            std::process::id(),
            server.addr().port()
        ));
        std::fs::write(&ca_file, ca.issuer.pem()).unwrap();
        Https { server, ca_file }
    }
}

impl Drop for Https {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

/// Asserts that `err` names the proxy and holds none of its credentials.
fn names_proxy_without_credentials(err: &Error, address: &str) {
    let message = err.message();
    assert!(message.contains(address), "names the proxy: {message}");
    for secret in [PROXY_PASSWORD, PROXY_PASSWORD_ENCODED, "cHJveHl1c2Vy"] {
        assert!(!message.contains(secret), "a credential in: {message}");
    }
    assert!(!format!("{err:?}").contains(PROXY_PASSWORD), "{err:?}");
}

#[test]
fn an_http_base_url_is_forwarded_in_absolute_form() {
    let Some(proxy) = Tinyproxy::start(Options::default()) else {
        return;
    };
    let server = mock();
    let done = client(&server.url(), &proxy.url(), None)
        .update_user(13329, &update())
        .expect("update through the proxy");
    assert_eq!(done.info.attempts, 1);
    assert_eq!(server.user(13329).unwrap()["company"], "Behind A Proxy Ltd");
    let log = proxy.log();
    let absolute = format!("PUT {}/dm/open_api/v1/users/13329", server.url());
    assert!(log.contains(&absolute), "the proxy forwarded it: {log}");
}

#[test]
fn an_https_base_url_is_tunnelled_and_the_private_ca_verified_end_to_end() {
    let https = Https::start();
    let port = https.server.addr().port();
    let Some(proxy) = Tinyproxy::start(Options {
        connect_ports: vec![port],
        ..Options::default()
    }) else {
        return;
    };
    let url = https.server.url();
    let done = client(&url, &proxy.url(), Some(&https.ca_file))
        .update_user(13329, &update())
        .expect("update through the tunnel");
    assert_eq!(done.info.http_status, 200);
    assert_eq!(
        https.server.user(13329).unwrap()["company"],
        "Behind A Proxy Ltd"
    );
    assert!(
        proxy.log().contains(&format!("CONNECT 127.0.0.1:{port}")),
        "{}",
        proxy.log()
    );
    // The proxy only relays bytes: without the private CA the server is not trusted.
    let err = client(&url, &proxy.url(), None)
        .update_user(13329, &update())
        .expect_err("unknown issuer");
    assert_eq!(err.code(), Code::Tls, "{err}");
    assert_eq!(err.info().attempts, 1, "{err}");
    assert!(err.message().contains("UnknownIssuer"), "{err}");
    assert!(
        err.message()
            .contains(&format!("{url} through the proxy {}", proxy.address())),
        "{err}"
    );
}

#[test]
fn basic_credentials_from_the_proxy_url_and_407_without_them() {
    let https = Https::start();
    let Some(proxy) = Tinyproxy::start(Options {
        basic_auth: Some((PROXY_USER, PROXY_PASSWORD)),
        connect_ports: vec![https.server.addr().port()],
    }) else {
        return;
    };
    let http = mock();
    let good = proxy.url_with(PROXY_USER, PROXY_PASSWORD_ENCODED);
    let wrong = proxy.url_with(PROXY_USER, "not-the-password");
    for (url, ca_file) in [
        (https.server.url(), Some(&https.ca_file)),
        (http.url(), None),
    ] {
        client(&url, &good, ca_file)
            .update_user(13329, &update())
            .unwrap_or_else(|e| panic!("{url} with credentials: {e}"));
        let mut refusals = vec![(proxy.url(), 407, "it wants credentials")];
        if ca_file.is_some() {
            // tinyproxy answers wrong credentials with 401 (not 407): to CONNECT that is
            // the proxy's answer, but a forwarded request's 401 may be YCM's own.
            refusals.push((wrong.clone(), 401, "it refused the credentials"));
        }
        for (proxy_url, status, hint) in refusals {
            let err = client(&url, &proxy_url, ca_file)
                .update_user(13329, &update())
                .expect_err("refused");
            eprintln!("{url}: {err}");
            assert_eq!(err.code(), Code::Http, "{err}");
            assert_eq!(err.info().http_status, status, "{err}");
            assert_eq!(err.info().attempts, 1, "a refusal is not retried: {err}");
            assert!(err.message().contains(&format!("HTTP {status}")), "{err}");
            assert!(err.message().contains(hint), "{err}");
            names_proxy_without_credentials(&err, &proxy.address());
            assert!(!err.message().contains("not-the-password"), "{err}");
        }
    }
    assert_eq!(https.server.stats().requests, 1);
    assert_eq!(http.stats().requests, 1);
}

#[test]
fn a_connect_the_proxy_refuses_is_an_http_error_naming_it() {
    let https = Https::start();
    let Some(proxy) = Tinyproxy::start(Options {
        // Not the server's port: tinyproxy answers 403.
        connect_ports: vec![https.server.addr().port().wrapping_add(1)],
        ..Options::default()
    }) else {
        return;
    };
    let err = client(&https.server.url(), &proxy.url(), Some(&https.ca_file))
        .update_user(13329, &update())
        .expect_err("403");
    assert_eq!(err.code(), Code::Http, "{err}");
    assert_eq!(err.info().http_status, 403, "{err}");
    assert_eq!(err.info().attempts, 1, "{err}");
    assert!(err.message().contains("refused to open a tunnel"), "{err}");
    names_proxy_without_credentials(&err, &proxy.address());
    assert_eq!(https.server.stats().requests, 0);
}

#[test]
fn a_proxy_port_that_refuses_connections_is_a_connect_error_naming_it() {
    let server = mock();
    let closed = closed_port_url();
    let address = closed.trim_start_matches("http://");
    let with_credentials = format!("http://{PROXY_USER}:{PROXY_PASSWORD_ENCODED}@{address}");
    let err = client(&server.url(), &with_credentials, None)
        .update_user(13329, &update())
        .expect_err("refused");
    assert_eq!(err.code(), Code::Connect, "{err}");
    assert_eq!(
        err.info().attempts,
        3,
        "connect failures are retried: {err}"
    );
    assert!(
        err.message().starts_with(&format!(
            "could not connect to the proxy {address} (from config key \"proxy\")"
        )),
        "{err}"
    );
    names_proxy_without_credentials(&err, address);
    assert_eq!(server.stats().requests, 0);
}

/// A scripted peer posing as a proxy: it answers each CONNECT with `step`.
fn fake_proxy(step: Step) -> ScriptedServer {
    ScriptedServer::start(vec![step]).unwrap()
}

#[test]
fn a_proxy_that_answers_502_closes_or_drops_the_tunnel_yields_a_clear_error() {
    let https = Https::start();
    let established = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
    let cases: Vec<(&str, Step, Code, u16, u32, &str)> = vec![
        (
            "502",
            Step::Send(response(502, &[("Content-Length", "0")], b"")),
            Code::Connect,
            502,
            3,
            "could not open a tunnel to 127.0.0.1",
        ),
        (
            "503",
            Step::Send(response(503, &[("Content-Length", "0")], b"")),
            Code::Connect,
            503,
            3,
            "it answered CONNECT with HTTP 503 Service Unavailable",
        ),
        (
            "closed before answering",
            Step::SendAndClose(Vec::new()),
            Code::Connect,
            0,
            3,
            "closed the connection before answering CONNECT 127.0.0.1",
        ),
        (
            "not HTTP",
            Step::SendAndClose(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()),
            Code::Connect,
            0,
            1,
            "with something that is not HTTP",
        ),
        // The tunnel opens, then the proxy hangs up before the TLS handshake ends.
        (
            "tunnel dropped",
            Step::SendAndClose(established),
            Code::Io,
            0,
            3,
            "the connection through the proxy 127.0.0.1",
        ),
    ];
    for (case, step, code, status, attempts, fragment) in cases {
        let peer = fake_proxy(step);
        let proxy_url = peer.url().replace(
            "http://",
            &format!("http://{PROXY_USER}:{PROXY_PASSWORD_ENCODED}@"),
        );
        let err = client(&https.server.url(), &proxy_url, Some(&https.ca_file))
            .update_user(13329, &update())
            .expect_err("proxy failure");
        eprintln!("{case}: {:?} {err}", err.code());
        assert_eq!(err.code(), code, "{case}: {err}");
        assert_eq!(err.info().http_status, status, "{case}: {err}");
        assert_eq!(err.info().attempts, attempts, "{case}: {err}");
        assert!(err.message().contains(fragment), "{case}: {err}");
        names_proxy_without_credentials(&err, peer.url().trim_start_matches("http://"));
    }
    assert_eq!(https.server.stats().requests, 0);
}

#[test]
fn proxy_off_goes_direct_and_bad_proxy_urls_are_refused_at_creation() {
    let server = mock();
    let config =
        || fast(Config::new(&server.url(), Auth::AccessToken(Secret::new(TOKEN))).unwrap());
    Client::new(config().proxy("").unwrap())
        .unwrap()
        .update_user(13329, &update())
        .expect("direct");
    let json = format!(
        r#"{{"base_url": "{}", "access_token": "{TOKEN}", "proxy": "socks5://u:{PROXY_PASSWORD}@127.0.0.1:1080"}}"#,
        server.url()
    );
    let err = Client::from_json(&json).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("config key \"proxy\""), "{err}");
    assert!(
        err.message()
            .contains("unsupported proxy scheme \"socks5\""),
        "{err}"
    );
    assert!(!err.message().contains(PROXY_PASSWORD), "{err}");
}
