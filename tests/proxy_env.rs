//! Proxies from the environment, read as curl reads them when a client is created:
//! `HTTPS_PROXY` for an https base URL (tunnelled through tinyproxy, the private CA verified
//! end to end), lowercase `http_proxy` for an http one (`HTTP_PROXY` is ignored, as in
//! curl), `NO_PROXY` bypassing the proxy, the `proxy` key winning over all of them (`""`
//! turning them off), and a malformed variable refused naming it. One test in a process of
//! its own, since it sets environment variables every client reads.

mod common;

use common::*;
use std::path::PathBuf;
use ycm::{Auth, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::MockConfig;

#[path = "../mock/tests/support/pki.rs"]
mod pki;
#[path = "../mock/tests/support/tinyproxy.rs"]
mod tinyproxy;
use pki::Ca;
use tinyproxy::{Options, Tinyproxy};

const VARIABLES: [&str; 8] = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Sets exactly `vars` among the proxy variables.
fn environment(vars: &[(&str, &str)]) {
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
}

fn config(url: &str, ca_file: Option<&PathBuf>) -> Config {
    let config = fast(Config::new(url, Auth::AccessToken(Secret::new(TOKEN))).unwrap());
    match ca_file {
        Some(path) => config.ca_file(path),
        None => config,
    }
}

fn update(client: &Client) -> ycm::Result<ycm::Updated> {
    client.update_user(13329, &UserUpdate::new().remark("via the environment"))
}

#[test]
fn the_environment_is_read_as_curl_reads_it() {
    let ca = Ca::new("ycm proxy env CA");
    let https = mock_with(MockConfig {
        tls: Some(ca.server(&["127.0.0.1"])),
        ..MockConfig::default()
    });
    let ca_file = std::env::temp_dir().join(format!("ycm-proxy-env-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.issuer.pem()).unwrap();
    let http = mock();
    let Some(proxy) = Tinyproxy::start(Options {
        connect_ports: vec![https.addr().port()],
        ..Options::default()
    }) else {
        return;
    };
    let closed = closed_port_url();
    let connects = |p: &Tinyproxy| p.log().matches("CONNECT 127.0.0.1").count();
    let forwards = |p: &Tinyproxy| p.log().matches(&format!("PUT {}/", http.url())).count();

    // HTTPS_PROXY: the https client goes through the proxy, the private CA still verified.
    environment(&[("HTTPS_PROXY", &proxy.url())]);
    update(&Client::new(config(&https.url(), Some(&ca_file))).unwrap()).expect("via HTTPS_PROXY");
    assert_eq!(connects(&proxy), 1, "{}", proxy.log());
    let err = update(&Client::new(config(&https.url(), None)).unwrap()).unwrap_err();
    assert_eq!(err.code(), Code::Tls, "{err}");
    assert_eq!(connects(&proxy), 2);

    // http_proxy (lowercase only) for an http base URL; HTTP_PROXY is not read.
    environment(&[("http_proxy", &proxy.url())]);
    update(&Client::new(config(&http.url(), None)).unwrap()).expect("via http_proxy");
    assert_eq!(forwards(&proxy), 1, "{}", proxy.log());
    environment(&[("HTTP_PROXY", &closed)]);
    update(&Client::new(config(&http.url(), None)).unwrap()).expect("HTTP_PROXY is ignored");
    assert_eq!(forwards(&proxy), 1);

    // NO_PROXY: a proxy that would fail is bypassed for a listed host.
    for no_proxy in ["127.0.0.1", "localhost,127.0.0.0/8", "*"] {
        environment(&[("https_proxy", &closed), ("NO_PROXY", no_proxy)]);
        update(&Client::new(config(&https.url(), Some(&ca_file))).unwrap())
            .unwrap_or_else(|e| panic!("NO_PROXY={no_proxy}: {e}"));
    }
    environment(&[("https_proxy", &closed), ("no_proxy", "example.com")]);
    let err = update(&Client::new(config(&https.url(), Some(&ca_file))).unwrap()).unwrap_err();
    assert_eq!(err.code(), Code::Connect, "{err}");
    let address = closed.trim_start_matches("http://");
    assert!(
        err.message().starts_with(&format!(
            "could not connect to the proxy {address} (from environment variable https_proxy)"
        )),
        "{err}"
    );

    // The proxy key wins over the environment; "" turns proxies off.
    update(
        &Client::new(
            config(&https.url(), Some(&ca_file))
                .proxy(&proxy.url())
                .unwrap(),
        )
        .unwrap(),
    )
    .expect("the key's proxy");
    assert_eq!(connects(&proxy), 3);
    update(&Client::new(config(&https.url(), Some(&ca_file)).proxy("").unwrap()).unwrap())
        .expect("no proxy");
    assert_eq!(connects(&proxy), 3);

    // A malformed or unsupported variable is refused when the client is created.
    environment(&[("ALL_PROXY", "socks5://user:hunter2@127.0.0.1:1080")]);
    let err = Client::new(config(&https.url(), None)).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(
        err.message().starts_with("environment variable ALL_PROXY"),
        "{err}"
    );
    assert!(!err.message().contains("hunter2"), "{err}");
    assert_eq!(https.stats().requests, 6);
    environment(&[]);
    let _ = std::fs::remove_file(&ca_file);
}
