//! ycm-mock over HTTPS: a private CA and server certificates are generated per test with
//! rcgen, and a blocking rustls client (ring provider, the client library's stack) talks to
//! the server, so what is checked is what a TLS client sees: the same API as over HTTP, a
//! failed or stalled handshake that harms only its own connection, unusable identities
//! refused at start, graceful shutdown, the client's address seen by the lock-out, and the
//! binary's `--tls-cert` / `--tls-key`.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{crypto, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ycm_mock::{MockConfig, MockServer, TlsIdentity};

const UA: &str = "ycm-mock-tls-tests/1.0";

mod support {
    pub mod http;
    pub mod pki;
}
use support::http::read_response;
use support::pki::Ca;

/// A rustls client configuration trusting only `ca`.
trait TrustingClient {
    fn client(&self) -> Arc<ClientConfig>;
}

impl TrustingClient for Ca {
    fn client(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.issuer.der().clone()).expect("add root");
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

fn https_mock(identity: TlsIdentity) -> MockServer {
    MockServer::start(
        "127.0.0.1:0",
        MockConfig {
            tls: Some(identity),
            ..MockConfig::default()
        },
    )
    .expect("HTTPS mock starts")
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// Connects and completes the handshake for `name`, or returns the handshake error.
fn connect(server: &MockServer, client: &Arc<ClientConfig>, name: &str) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(server.addr())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    let conn = ClientConnection::new(client.clone(), name).expect("client connection");
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// One `GET path` on `tls`; returns the status and the body. `close` asks the server to
/// close the connection afterwards.
fn get(tls: &mut Tls, path: &str, close: bool) -> (u16, Vec<u8>) {
    let connection = if close { "close" } else { "keep-alive" };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {UA}\r\n\
         Authorization: Bearer ycm-mock-token\r\nConnection: {connection}\r\n\r\n"
    );
    tls.write_all(request.as_bytes()).expect("write request");
    tls.flush().expect("flush");
    let response = read_response(&mut BufReader::new(tls));
    assert!(!response.truncated, "a complete body");
    (response.status, response.body)
}

fn user_13329(tls: &mut Tls) -> Value {
    let (status, body) = get(tls, "/dm/open_api/v1/users/13329", false);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let envelope: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(envelope["status"], "Success", "{envelope}");
    envelope["data"].clone()
}

#[test]
fn https_serves_the_same_api_with_keep_alive() {
    let ca = Ca::new("ycm-mock test CA");
    let server = https_mock(ca.server(&["localhost", "127.0.0.1"]));
    let port = server.addr().port();
    assert_eq!(server.url(), format!("https://127.0.0.1:{port}"));
    let client = ca.client();
    for name in ["localhost", "127.0.0.1"] {
        let mut tls = connect(&server, &client, name).expect("handshake");
        assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        // Two requests on one connection: keep-alive works through TLS.
        assert_eq!(user_13329(&mut tls)["company"], "Yeastar Demo Ltd");
        assert_eq!(user_13329(&mut tls)["userId"], 13329);
    }
    assert_eq!(server.stats().get_user, 4);
    // Admin routes and the pipeline (User-Agent check) are the same router.
    let mut tls = connect(&server, &client, "localhost").expect("handshake");
    let (status, body) = get(&mut tls, "/__mock/stats", true);
    assert_eq!(status, 200);
    let stats: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(stats["get_user"], 4);
}

/// One form-encoded `POST path` on `tls` (keep-alive); returns the status and the JSON body.
fn post_form(tls: &mut Tls, path: &str, form: &str) -> (u16, Value) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {UA}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    tls.write_all(request.as_bytes()).expect("write request");
    tls.flush().expect("flush");
    let response = read_response(&mut BufReader::new(tls));
    (response.status, response.json())
}

#[test]
fn the_lockout_sees_the_client_address_over_https() {
    let ca = Ca::new("ycm-mock test CA");
    let server = MockServer::start(
        "127.0.0.1:0",
        MockConfig {
            tls: Some(ca.server(&["localhost"])),
            lockout_after: Some(1),
            ..MockConfig::default()
        },
    )
    .expect("HTTPS mock starts");
    let mut tls = connect(&server, &ca.client(), "localhost").expect("handshake");
    let path = "/dm/open_api/oauth/token";
    let grant = "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=";
    let (status, refused) = post_form(&mut tls, path, &format!("{grant}nope"));
    assert_eq!((status, &refused["errcode"]), (401, &1_000_002.into()));
    let (status, denied) = post_form(&mut tls, path, &format!("{grant}ycm-mock-secret"));
    assert_eq!((status, &denied["errcode"]), (403, &1_000_042.into()));
    assert_eq!(server.blocked(), [std::net::IpAddr::from([127, 0, 0, 1])]);
    server.unblock();
    let (status, issued) = post_form(&mut tls, path, &format!("{grant}ycm-mock-secret"));
    assert_eq!(status, 200, "{issued}");
    assert!(issued["access_token"].is_string());
}

#[test]
fn failed_handshakes_do_not_stop_the_server() {
    let ca = Ca::new("ycm-mock test CA");
    let server = https_mock(ca.server(&["localhost"]));
    let good = ca.client();

    // A client that does not trust the server's CA.
    let stranger = Ca::new("another CA").client();
    let err = connect(&server, &stranger, "localhost").expect_err("untrusted");
    assert!(
        err.to_string().contains("UnknownIssuer"),
        "unexpected error: {err}"
    );
    // A client that expects another name.
    let err = connect(&server, &good, "ycm.example.com").expect_err("wrong name");
    assert!(
        err.to_string().contains("not valid for name"),
        "unexpected error: {err}"
    );
    // Plain HTTP to the TLS port: the server answers with an alert or closes, never HTTP.
    let mut plain = TcpStream::connect(server.addr()).expect("connect");
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    plain
        .write_all(b"GET /__mock/stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "plain HTTP was answered");
    // Garbage, then a hang-up mid-handshake.
    let mut garbage = TcpStream::connect(server.addr()).expect("connect");
    garbage.write_all(&[0x16, 0x03, 0x01, 0xff]).expect("write");
    drop(garbage);
    // A client that connects and says nothing does not hold up the others.
    let silent = TcpStream::connect(server.addr()).expect("connect");

    let mut tls = connect(&server, &good, "localhost").expect("handshake after failures");
    assert_eq!(user_13329(&mut tls)["firstName"], "Leo");
    drop(silent);
}

#[test]
fn unusable_identities_are_refused_at_start() {
    let ca = Ca::new("ycm-mock test CA");
    let good = ca.server(&["localhost"]);
    let other = ca.server(&["localhost"]);
    let cases = [
        (
            "no certificate",
            TlsIdentity::from_pem("", good.private_key_pem.clone()),
            "no PEM CERTIFICATE",
        ),
        (
            "garbage certificate",
            TlsIdentity::from_pem(
                "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
                good.private_key_pem.clone(),
            ),
            "not valid PEM",
        ),
        (
            "no key",
            TlsIdentity::from_pem(good.cert_chain_pem.clone(), "nothing here"),
            "private key",
        ),
        (
            "key of another certificate",
            TlsIdentity::from_pem(good.cert_chain_pem.clone(), other.private_key_pem.clone()),
            "refused",
        ),
    ];
    for (case, identity, expected) in cases {
        let err = MockServer::start(
            "127.0.0.1:0",
            MockConfig {
                tls: Some(identity),
                ..MockConfig::default()
            },
        )
        .expect_err(case);
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{case}: {err}");
        assert!(err.to_string().contains(expected), "{case}: {err}");
    }
    // The private key never shows in Debug output.
    let debug = format!(
        "{:?}",
        MockConfig {
            tls: Some(good.clone()),
            ..MockConfig::default()
        }
    );
    let key_text = String::from_utf8(good.private_key_pem).expect("PEM is text");
    let key_body = key_text.lines().nth(1).expect("key line");
    assert!(!debug.contains(key_body), "{debug}");
    assert!(debug.contains("[REDACTED]"), "{debug}");
}

#[test]
fn shutdown_closes_idle_tls_connections() {
    let ca = Ca::new("ycm-mock test CA");
    let server = https_mock(ca.server(&["localhost"]));
    let client = ca.client();
    let mut idle = connect(&server, &client, "localhost").expect("handshake");
    user_13329(&mut idle);
    let _handshaking = TcpStream::connect(server.addr()).expect("connect");
    let started = Instant::now();
    server.shutdown();
    // Bounded by the 2 s grace plus the runtime's own shutdown; generous against slow CI.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        started.elapsed()
    );
    // The idle keep-alive connection was closed by the server.
    let mut rest = Vec::new();
    let read = idle.read_to_end(&mut rest);
    assert!(
        matches!(read, Ok(0)) || read.is_err(),
        "connection still open: {read:?}"
    );
}

#[test]
fn shutdown_lets_an_in_flight_tls_request_finish() {
    let ca = Ca::new("ycm-mock test CA");
    let server = MockServer::start(
        "127.0.0.1:0",
        MockConfig {
            tls: Some(ca.server(&["localhost"])),
            latency: Duration::from_millis(500),
            ..MockConfig::default()
        },
    )
    .expect("HTTPS mock starts");
    let mut tls = connect(&server, &ca.client(), "localhost").expect("handshake");
    let request = std::thread::spawn(move || user_13329(&mut tls));
    // The request is counted before its latency sleep: wait until it is in flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.stats().requests == 0 {
        assert!(Instant::now() < deadline, "the request never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.shutdown();
    let data = request.join().expect("the in-flight request was answered");
    assert_eq!(data["userId"], 13329);
}

#[test]
fn binary_serves_https_with_tls_cert_and_key() {
    let ca = Ca::new("ycm-mock test CA");
    let identity = ca.server(&["localhost", "127.0.0.1"]);
    let dir = std::env::temp_dir();
    let unique = format!("ycm-mock-tls-{}-{:?}", std::process::id(), Instant::now());
    let unique: String = unique
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let cert_path = dir.join(format!("{unique}-cert.pem"));
    let key_path = dir.join(format!("{unique}-key.pem"));
    std::fs::write(&cert_path, &identity.cert_chain_pem).expect("write cert");
    std::fs::write(&key_path, &identity.private_key_pem).expect("write key");

    let mut child = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0", "--quiet", "--tls-cert"])
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ycm-mock");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let _ = std::fs::remove_file(&cert_path);
    let _ = std::fs::remove_file(&key_path);
    let port: u16 = first
        .trim_end()
        .strip_prefix("ycm-mock listening on https://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected first line {first:?}")
        });

    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let conn = ClientConnection::new(ca.client(), ServerName::try_from("localhost").unwrap())
        .expect("client connection");
    let mut tls = StreamOwned::new(conn, tcp);
    let data = user_13329(&mut tls);
    assert_eq!(data["lastName"], "Zhang");
    drop(tls);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn binary_reports_unusable_tls_files() {
    let missing = std::env::temp_dir().join(format!(
        "ycm-mock-tls-missing-{}-cert.pem",
        std::process::id()
    ));
    let output = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(&missing)
        .arg("--tls-key")
        .arg(&missing)
        .output()
        .expect("run ycm-mock");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read the TLS certificate or key") && stderr.contains("cert.pem"),
        "{stderr}"
    );
    // --tls-cert without --tls-key is a usage error.
    let output = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(&missing)
        .output()
        .expect("run ycm-mock");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
}
