//! TLS end to end: ycm-mock serves HTTPS on loopback with certificates from a private CA
//! generated here with rcgen, and the client must trust that CA only through `ca_file`
//! (which replaces the web PKI roots), refuse a certificate for another name or an expired
//! one with `Code::Tls` after one attempt (a TLS failure is never retried), and refuse a
//! `ca_file` it cannot use with `Code::InvalidArgument` before sending anything.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use ycm::{Auth, Client, Code, Config, Error, Secret, UserUpdate};
use ycm_mock::{MockConfig, MockServer, TlsIdentity};

#[path = "../mock/tests/support/pki.rs"]
mod pki;
use pki::Ca;

/// The CA certificate written to a temporary PEM file.
fn pem_file(ca: &Ca) -> TempFile {
    TempFile::with(ca.issuer.pem().as_bytes())
}

/// A uniquely named file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with(contents: &[u8]) -> TempFile {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "ycm-tls-test-{}-{}-{}.pem",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn https_mock(identity: TlsIdentity) -> MockServer {
    mock_with(MockConfig {
        tls: Some(identity),
        ..MockConfig::default()
    })
}

fn localhost_url(server: &MockServer) -> String {
    format!("https://localhost:{}", server.addr().port())
}

fn token_config(url: &str) -> Config {
    fast(Config::new(url, Auth::AccessToken(Secret::new(TOKEN))).expect("config"))
}

/// A client for `url` (trusting `ca_file` when given; retries allowed, so that `attempts`
/// shows a TLS failure is not retried).
fn client(url: &str, ca_file: Option<&Path>) -> Client {
    let mut config = token_config(url);
    if let Some(path) = ca_file {
        config = config.ca_file(path);
    }
    Client::new(config).expect("client")
}

fn update() -> UserUpdate {
    UserUpdate::new().company("Over TLS Ltd")
}

/// Asserts a TLS failure after exactly one attempt, with no response and nothing processed
/// by the server; returns the message.
fn assert_tls_failure(err: Error, server: &MockServer, case: &str) -> String {
    eprintln!("{case}: {:?}: {}", err.code(), err.message());
    assert_eq!(err.code(), Code::Tls, "{case}: {err}");
    assert_eq!(
        err.info().attempts,
        1,
        "{case}: TLS failures are not retried"
    );
    assert_eq!(err.info().http_status, 0, "{case}");
    assert!(err.message().contains("TLS"), "{case}: {err}");
    assert_eq!(
        server.stats().requests,
        0,
        "{case}: no request reached the server"
    );
    assert_eq!(server.user(13329).unwrap()["company"], "Yeastar Demo Ltd");
    err.message().to_owned()
}

#[test]
fn without_ca_file_the_private_ca_is_unknown() {
    let ca = Ca::new("ycm test CA");
    let server = https_mock(ca.server(&["localhost", "127.0.0.1"]));
    assert!(server.url().starts_with("https://127.0.0.1:"));
    for url in [server.url(), localhost_url(&server)] {
        let err = client(&url, None)
            .update_user(13329, &update())
            .expect_err("untrusted");
        let message = assert_tls_failure(err, &server, "no ca_file");
        assert!(message.contains("UnknownIssuer"), "{message}");
        assert!(
            message.contains(&url),
            "the message names the server: {message}"
        );
    }
}

#[test]
fn ca_file_of_another_ca_does_not_help() {
    let ca = Ca::new("ycm test CA");
    let other = Ca::new("some other CA");
    let server = https_mock(ca.server(&["localhost", "127.0.0.1"]));
    let other_pem = pem_file(&other);
    let err = client(&server.url(), Some(other_pem.path()))
        .update_user(13329, &update())
        .expect_err("wrong CA");
    let message = assert_tls_failure(err, &server, "ca_file of another CA");
    assert!(message.contains("UnknownIssuer"), "{message}");
}

#[test]
fn with_ca_file_the_update_lands_over_https() {
    let ca = Ca::new("ycm test CA");
    let server = https_mock(ca.server(&["localhost", "127.0.0.1"]));
    let ca_pem = pem_file(&ca);
    for (url, company) in [
        (server.url(), "Over TLS Ltd"),
        (localhost_url(&server), "Over TLS by name Ltd"),
    ] {
        let client = client(&url, Some(ca_pem.path()));
        let done = client
            .update_user(13329, &UserUpdate::new().company(company))
            .expect("update over HTTPS");
        assert_eq!(done.info.http_status, 200);
        assert_eq!(done.info.attempts, 1);
        assert_eq!(done.info.request_id.len(), 32);
        assert_eq!(server.user(13329).unwrap()["company"], company);
        // The same client reads back over the kept-alive connection.
        let read = client.get_user(13329).expect("read over HTTPS");
        assert_eq!(read.info.http_status, 200);
    }
    assert_eq!(server.stats().update_user, 2);
    assert_eq!(server.stats().get_user, 2);

    // The C and Python path: config_json with "ca_file".
    let json = serde_json::json!({
        "base_url": server.url(),
        "access_token": TOKEN,
        "ca_file": ca_pem.path(),
    });
    let client = Client::from_json(&json.to_string()).expect("client from JSON");
    client
        .update_user(13329, &UserUpdate::new().company("From JSON Ltd"))
        .expect("update over HTTPS");
    assert_eq!(server.user(13329).unwrap()["company"], "From JSON Ltd");
}

#[test]
fn client_credentials_work_over_https() {
    let ca = Ca::new("ycm test CA");
    let server = https_mock(ca.server(&["localhost", "127.0.0.1"]));
    let ca_pem = pem_file(&ca);
    let config = Config::new(&server.url(), credentials(CLIENT_SECRET))
        .expect("config")
        .ca_file(ca_pem.path());
    let client = Client::new(fast(config)).expect("client");
    client.update_user(13329, &update()).expect("update");
    assert_eq!(server.stats().token_requests, 1);
    assert_eq!(server.user(13329).unwrap()["company"], "Over TLS Ltd");
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let ca = Ca::new("ycm test CA");
    let ca_pem = pem_file(&ca);

    let server = https_mock(ca.server(&["ycm.example.com"]));
    for url in [localhost_url(&server), server.url()] {
        let err = client(&url, Some(ca_pem.path()))
            .update_user(13329, &update())
            .expect_err("wrong name");
        let message = assert_tls_failure(err, &server, "certificate for ycm.example.com");
        assert!(message.contains("not valid for name"), "{message}");
        assert!(message.contains("ycm.example.com"), "{message}");
    }

    // A certificate for the name only does not cover the IP address.
    let server = https_mock(ca.server(&["localhost"]));
    let err = client(&server.url(), Some(ca_pem.path()))
        .update_user(13329, &update())
        .expect_err("no IP SAN");
    let message = assert_tls_failure(err, &server, "certificate for localhost, URL by IP");
    assert!(message.contains("not valid for name"), "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
}

#[test]
fn an_expired_certificate_is_refused() {
    let ca = Ca::new("ycm test CA");
    let ca_pem = pem_file(&ca);
    let server = https_mock(ca.server_with(&["localhost", "127.0.0.1"], |params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }));
    let err = client(&localhost_url(&server), Some(ca_pem.path()))
        .update_user(13329, &update())
        .expect_err("expired");
    let message = assert_tls_failure(err, &server, "expired certificate");
    assert!(message.contains("expired"), "{message}");
}

#[test]
fn https_to_a_plain_http_server_fails_with_tls() {
    let server = mock();
    let url = server.url().replacen("http://", "https://", 1);
    let err = client(&url, None)
        .update_user(13329, &update())
        .expect_err("not TLS");
    eprintln!("https to plain http: {:?}: {}", err.code(), err.message());
    assert_eq!(err.code(), Code::Tls, "{err}");
    assert_eq!(err.info().attempts, 1);
    assert_eq!(err.info().http_status, 0);
    assert_eq!(server.stats().update_user, 0);
}

/// Asserts `Client::new` refuses `config` for its `ca_file`; returns the message.
fn assert_ca_file_refused(config: Config, shown: &Path, case: &str) -> String {
    let err = Client::new(config).expect_err(case);
    eprintln!("{case}: {:?}: {}", err.code(), err.message());
    assert_eq!(err.code(), Code::InvalidArgument, "{case}: {err}");
    assert_eq!(err.info().attempts, 0, "{case}: nothing sent");
    assert_eq!(err.info().http_status, 0, "{case}");
    let message = err.message().to_owned();
    assert!(message.contains("ca_file"), "{case}: {message}");
    assert!(
        message.contains(&shown.display().to_string()),
        "{case}: the message names the file: {message}"
    );
    message
}

#[test]
fn an_unusable_ca_file_is_refused_before_sending() {
    let ca = Ca::new("ycm test CA");
    let identity = ca.server(&["localhost", "127.0.0.1"]);
    let server = https_mock(identity.clone());

    let missing =
        std::env::temp_dir().join(format!("ycm-tls-test-{}-missing.pem", std::process::id()));
    let empty = TempFile::with(b"");
    let text = TempFile::with(b"this is not a certificate bundle\n");
    let key_only = TempFile::with(&identity.private_key_pem);
    let garbage = TempFile::with(
        b"-----BEGIN CERTIFICATE-----\n%%% not base64 %%%\n-----END CERTIFICATE-----\n",
    );
    let cases: [(&str, &Path, &str); 5] = [
        ("missing file", &missing, "cannot be read"),
        ("empty file", empty.path(), "no PEM certificate"),
        ("text without PEM", text.path(), "no PEM certificate"),
        ("private key only", key_only.path(), "no PEM certificate"),
        ("garbage PEM", garbage.path(), "not valid PEM"),
    ];
    for (case, path, expected) in cases {
        let message = assert_ca_file_refused(token_config(&server.url()).ca_file(path), path, case);
        assert!(message.contains(expected), "{case}: {message}");

        // The same through config_json.
        let json = serde_json::json!({
            "base_url": server.url(),
            "access_token": TOKEN,
            "ca_file": path,
        });
        let err = Client::from_json(&json.to_string()).expect_err(case);
        assert_eq!(err.code(), Code::InvalidArgument, "{case} (JSON): {err}");
        assert_eq!(err.info().attempts, 0);
        assert!(err.message().contains(expected), "{case} (JSON): {err}");
    }
    assert_eq!(server.stats().requests, 0, "nothing was sent");
}

#[test]
fn plain_http_to_a_non_loopback_host_needs_allow_insecure_http() {
    let auth = || Auth::AccessToken(Secret::new(TOKEN));
    let err = Config::new("http://ycm.example.com", auth()).expect_err("plain http");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(err.info().attempts, 0);
    assert_eq!(err.info().http_status, 0);
    assert!(err.message().contains("allow_insecure_http"), "{err}");
    let err = Client::from_json(&format!(
        r#"{{"base_url":"http://ycm.example.com","access_token":"{TOKEN}"}}"#
    ))
    .expect_err("plain http (JSON)");
    assert_eq!(err.code(), Code::InvalidArgument);
    // Opting in builds a client (no I/O happens at construction).
    let config =
        Config::with_insecure_http("http://ycm.example.com", auth(), true).expect("opt-in");
    Client::new(config).expect("client with allow_insecure_http");
    // Loopback needs no opt-in: the plain-HTTP mock works as in every other test.
    let server = mock();
    token_client(&server)
        .update_user(13329, &update())
        .expect("loopback http");
}

#[test]
fn a_certificate_block_that_is_not_a_certificate_is_refused_at_construction() {
    let path = std::env::temp_dir().join(format!("ycm-bad-ca-{}.pem", std::process::id()));
    std::fs::write(
        &path,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let config = ycm::Config::new(
        "https://127.0.0.1:9",
        ycm::Auth::AccessToken(ycm::Secret::new("t")),
    )
    .unwrap()
    .ca_file(&path);
    let err = ycm::Client::new(config).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert_eq!(err.code(), ycm::Code::InvalidArgument, "{err}");
    assert!(
        err.to_string()
            .contains("certificate 1 is not a usable X.509 CA certificate"),
        "{err}"
    );
}

/// An HTTPS server on a thread, with `identity`: answers each request with a Success
/// envelope and, 20 ms later, sends one more TLS record nobody asked for (as a server
/// sending a late session ticket or an alert might), keeping the connection open. Counts
/// the connections and the requests it received.
fn https_server_with_stray_records(
    identity: &TlsIdentity,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::Write;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    let certs = CertificateDer::pem_slice_iter(&identity.cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&identity.private_key_pem).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let (connections, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counted_connections, counted_requests) = (connections.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            // At once (Nagle would hold the answer's last segment for the client's ACK).
            stream.set_nodelay(true).unwrap();
            counted_connections.fetch_add(1, Ordering::SeqCst);
            let (config, requests) = (config.clone(), counted_requests.clone());
            std::thread::spawn(move || {
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                while ycm_mock::scripted::read_request(&mut tls, || true).is_some() {
                    requests.fetch_add(1, Ordering::SeqCst);
                    let body = r#"{"requestId":"r1","status":"Success","time":1664437503}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tls
                        .write_all(answer.as_bytes())
                        .and_then(|()| tls.flush())
                        .is_err()
                    {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    if tls.write_all(b"stray").and_then(|()| tls.flush()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, connections, requests)
}

#[test]
fn a_pooled_tls_connection_with_stray_bytes_is_not_written_to() {
    let ca = Ca::new("ycm test CA");
    let (url, connections, requests) = https_server_with_stray_records(&ca.server(&["localhost"]));
    let ca_pem = pem_file(&ca);
    let client = client(&url, Some(ca_pem.path()));
    for call in 1..=3 {
        let done = client.update_user(13329, &update()).expect("update");
        assert_eq!(done.info.attempts, 1, "call {call}");
        // The stray record has arrived before the next call takes the connection.
        std::thread::sleep(std::time::Duration::from_millis(60));
    }
    // Calls 2 and 3 found their pooled connection unusable before writing (the peek saw
    // the stray record) and sent their one request on a new connection: had the request's
    // records gone out on the old one too (the TLS layer swallows the first write error),
    // the server would count 5.
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}
