//! End-to-end tests of ycm-mock over real loopback HTTP: every test starts its own server on
//! port 0 and talks to it with the tiny blocking HTTP/1.1 client below (std::net only), so
//! what is checked is exactly what a client library sees on the wire.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::http::{read_response, Resp};
use ycm_mock::{ErrorStyle, Faults, MockConfig, MockServer, Stats};

mod support {
    pub mod binary;
    pub mod http;
}
use support::binary::spawn_binary;

const UA: &str = "ycm-mock-tests/1.0";
const STATIC_TOKEN: &str = "ycm-mock-token";
const CLIENT_ID: &str = "ycm-mock-client";
const SECRET: &str = "ycm-mock-secret";
const CREDENTIALS: &str =
    "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=ycm-mock-secret";

// ---------------------------------------------------------------------------------------
// A tiny HTTP/1.1 client.

/// Writes one request on `stream`; `Connection: close` unless `keep_alive`.
fn write_request(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

fn request(
    srv: &MockServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    request_to(srv.addr(), method, path, headers, body)
}

fn request_to(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut stream = connect(addr);
    write_request(&mut stream, method, path, headers, body, false);
    read_response(&mut BufReader::new(stream))
}

fn get(srv: &MockServer, path: &str, token: &str) -> Resp {
    let auth = format!("Bearer {token}");
    request(
        srv,
        "GET",
        path,
        &[("User-Agent", UA), ("Authorization", &auth)],
        b"",
    )
}

fn put(srv: &MockServer, id: &str, body: &str) -> Resp {
    let auth = format!("Bearer {STATIC_TOKEN}");
    request(
        srv,
        "PUT",
        &format!("/dm/open_api/v1/users/{id}"),
        &[
            ("User-Agent", UA),
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn token_request(srv: &MockServer, method: &str, path: &str, form: &str) -> Resp {
    request(
        srv,
        method,
        path,
        &[
            ("User-Agent", UA),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    )
}

fn token(srv: &MockServer, form: &str) -> Resp {
    token_request(srv, "POST", "/dm/open_api/oauth/token", form)
}

fn start(config: MockConfig) -> MockServer {
    MockServer::start("127.0.0.1:0", config).expect("start mock")
}

fn start_default() -> MockServer {
    start(MockConfig::default())
}

/// Asserts a Failed envelope with the given HTTP status and errcode; returns errmsg.
fn assert_failed(resp: &Resp, http: u16, errcode: i64) -> String {
    assert_eq!(resp.status, http, "body: {}", resp.text());
    let v = resp.json();
    assert_eq!(v["status"], "Failed", "{v}");
    assert_eq!(v["errcode"], errcode, "{v}");
    assert_envelope(&v);
    v["errmsg"].as_str().expect("errmsg string").to_string()
}

fn assert_envelope(v: &Value) {
    let id = v["requestId"].as_str().expect("requestId");
    assert_eq!(id.len(), 32, "{id}");
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let time = v["time"].as_i64().expect("time");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!((now - time).abs() <= 5, "time {time} vs now {now}");
}

fn assert_success(resp: &Resp) -> Value {
    assert_eq!(resp.status, 200, "body: {}", resp.text());
    let v = resp.json();
    assert_eq!(v["status"], "Success", "{v}");
    assert_envelope(&v);
    v
}

// ---------------------------------------------------------------------------------------
// Tokens.

#[test]
fn client_credentials_grant_accepts_the_right_pair_only() {
    let srv = start_default();
    let resp = token(&srv, CREDENTIALS);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    let access = v["access_token"].as_str().expect("access_token");
    assert!(access.len() >= 40);
    assert!(v["refresh_token"].as_str().expect("refresh").len() >= 40);
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 1800);
    assert!(v["jti"].is_string());
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", access));
    let second = token(&srv, CREDENTIALS).json();
    assert_ne!(
        second["access_token"], v["access_token"],
        "tokens are unique"
    );

    let wrong = token(
        &srv,
        "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=nope",
    );
    assert_eq!(
        assert_failed(&wrong, 401, 1_000_002),
        "AUTHENTICATION_FAILED"
    );
    assert_eq!(wrong.json()["error"], "invalid_client");
    assert_eq!(wrong.json()["error_description"], "Bad client credentials");

    let grant = token(&srv, "grant_type=password&username=a&password=b");
    assert_failed(&grant, 400, 10002);
    assert_eq!(grant.json()["error"], "unsupported_grant_type");

    let dup = token(
        &srv,
        "grant_type=client_credentials&grant_type=refresh_token",
    );
    assert_failed(&dup, 400, 10001);
    assert_eq!(dup.json()["error"], "invalid_request");

    let no_ua = request(
        &srv,
        "POST",
        "/dm/open_api/oauth/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        CREDENTIALS.as_bytes(),
    );
    assert_failed(&no_ua, 400, 10001);
    let stats = srv.stats();
    assert_eq!(stats.token_requests, 6);
    assert_eq!(stats.unauthorized, 1);
    assert_eq!((stats.token_grants, stats.refused_grants), (2, 4));
}

#[test]
fn refresh_rotates_and_the_old_refresh_token_dies() {
    let srv = start_default();
    let first = token(&srv, CREDENTIALS).json();
    let r1 = first["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let resp = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={r1}"),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let second = resp.json();
    let r2 = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    assert_ne!(r1, r2);
    assert_eq!(second["token_type"], "bearer");
    let a2 = second["access_token"].as_str().expect("access");
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", a2));
    // The refresh replaced the first access token.
    let a1 = first["access_token"].as_str().expect("access");
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/13329", a1),
        401,
        1_000_036,
    );

    let again = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={r1}"),
    );
    assert_failed(&again, 400, 10002);
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(again.json()["error_description"], "Invalid refresh token");

    // Revoking refresh tokens through the API: wrong pair refused, right pair works.
    let path = "/dm/open_api/oauth/token/refresh_token";
    let bad = token_request(
        &srv,
        "DELETE",
        path,
        "client_id=ycm-mock-client&client_secret=x",
    );
    assert_eq!(assert_failed(&bad, 401, 1_000_002), "AUTHENTICATION_FAILED");
    assert_eq!(bad.json()["error"], "invalid_client");
    let ok = token_request(
        &srv,
        "DELETE",
        path,
        &format!("client_id={CLIENT_ID}&client_secret={SECRET}"),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["client_id"], CLIENT_ID);
    assert!(ok.json()["effect_time"].as_i64().expect("effect_time") > 1_600_000_000);
    let after = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={r2}"),
    );
    assert_failed(&after, 400, 10002);
    assert_eq!(after.json()["error"], "invalid_grant");
    // The access token issued before the revocation still works.
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", a2));
}

#[test]
fn access_tokens_expire_after_token_ttl_and_refresh_still_works() {
    let srv = start(MockConfig {
        access_token: None,
        token_ttl: Duration::from_secs(1),
        ..MockConfig::default()
    });
    let pair = token(&srv, CREDENTIALS).json();
    assert_eq!(pair["expires_in"], 1);
    let access = pair["access_token"].as_str().expect("access");
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", access));
    // With no static token configured, the default one is refused.
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN),
        401,
        1_000_036,
    );
    std::thread::sleep(Duration::from_millis(1100));
    let expired = get(&srv, "/dm/open_api/v1/users/13329", access);
    assert_eq!(assert_failed(&expired, 401, 1_000_035), "TOKEN_EXPIRED");
    let detail = expired.json()["detail"]
        .as_str()
        .expect("detail")
        .to_string();
    assert!(detail.contains("expired"), "{detail}");
    let refresh = pair["refresh_token"].as_str().expect("refresh");
    let renewed = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let fresh = renewed.json()["access_token"]
        .as_str()
        .expect("a")
        .to_string();
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", &fresh));
}

#[test]
fn expire_and_revoke_switches() {
    let srv = start_default();
    let pair = token(&srv, CREDENTIALS).json();
    let access = pair["access_token"].as_str().expect("a").to_string();
    let refresh = pair["refresh_token"].as_str().expect("r").to_string();
    srv.expire_access_tokens();
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/13329", &access),
        401,
        1_000_035,
    );
    let renewed = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    );
    assert_eq!(renewed.status, 200);
    let renewed = renewed.json();
    let access2 = renewed["access_token"].as_str().expect("a").to_string();
    let refresh2 = renewed["refresh_token"].as_str().expect("r").to_string();
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", &access2));
    srv.revoke_tokens();
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/13329", &access2),
        401,
        1_000_036,
    );
    let dead = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={refresh2}"),
    );
    assert_eq!(dead.json()["error"], "invalid_grant");
    // The static token survives both.
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
}

// ---------------------------------------------------------------------------------------
// Error styles, the token cap and the lock-out.

const TOKEN_PATH: &str = "/dm/open_api/oauth/token";
const REVOKE_PATH: &str = "/dm/open_api/oauth/token/refresh_token";
const USER_PATH: &str = "/dm/open_api/v1/users/13329";
const STYLES: [ErrorStyle; 2] = [ErrorStyle::Http, ErrorStyle::Ok];
const WRONG_SECRET: &str =
    "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=nope";

/// The HTTP status a Failed envelope whose status is `http` in the `http` style is sent
/// with in `style`.
fn sent_as(style: ErrorStyle, http: u16) -> u16 {
    if style == ErrorStyle::Ok {
        200
    } else {
        http
    }
}

fn styled(style: ErrorStyle, config: MockConfig) -> MockServer {
    start(MockConfig {
        error_style: style,
        ..config
    })
}

/// Asserts a token-endpoint refusal: a Failed envelope sent with `status`, with `errcode`,
/// the OAuth `error`, an `error_description`, and no token; for YCM's documented codes (and
/// the mock's own that stand in for one) `errmsg` is the code's name and `detail` explains.
fn assert_refused(resp: &Resp, status: u16, errcode: i64, error: &str) {
    let errmsg = assert_failed(resp, status, errcode);
    let v = resp.json();
    assert_eq!(v["error"], error, "{v}");
    assert!(v["error_description"].is_string(), "{v}");
    assert!(v.get("access_token").is_none(), "{v}");
    let code = ycm_mock::errcode::ALL
        .into_iter()
        .find(|c| c.code == errcode)
        .expect("a declared errcode");
    if errcode >= 1_000_000 {
        assert_eq!(errmsg, code.name, "{v}");
        assert!(v["detail"].is_string(), "{v}");
    }
}

fn pair(resp: &Resp) -> (String, String) {
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    let access = v["access_token"].as_str().expect("access_token");
    let refresh = v["refresh_token"].as_str().expect("refresh_token");
    (access.to_string(), refresh.to_string())
}

fn refresh_grant(srv: &MockServer, refresh: &str) -> Resp {
    token(
        srv,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
}

#[test]
fn token_endpoint_refusals_are_failed_envelopes_with_oauth_members_in_both_styles() {
    // (what, method, path, form, status in the http style, errcode, OAuth error)
    #[rustfmt::skip]
    let cases: [(&str, &str, &str, &str, u16, i64, &str); 11] = [
        ("wrong secret", "POST", TOKEN_PATH, WRONG_SECRET, 401, 1_000_002, "invalid_client"),
        ("no secret", "POST", TOKEN_PATH, "grant_type=client_credentials&client_id=ycm-mock-client", 401, 1_000_002, "invalid_client"),
        ("unknown client", "POST", TOKEN_PATH, "grant_type=client_credentials&client_id=other&client_secret=ycm-mock-secret", 401, 1_000_033, "invalid_client"),
        ("no client", "POST", TOKEN_PATH, "grant_type=client_credentials&client_secret=ycm-mock-secret", 401, 1_000_033, "invalid_client"),
        ("bad refresh token", "POST", TOKEN_PATH, "grant_type=refresh_token&refresh_token=nope", 400, 10002, "invalid_grant"),
        ("no refresh token", "POST", TOKEN_PATH, "grant_type=refresh_token", 400, 10001, "invalid_request"),
        ("other grant", "POST", TOKEN_PATH, "grant_type=password&username=a&password=b", 400, 10002, "unsupported_grant_type"),
        ("no grant type", "POST", TOKEN_PATH, "client_id=ycm-mock-client", 400, 10001, "invalid_request"),
        ("duplicate field", "POST", TOKEN_PATH, "grant_type=a&grant_type=b", 400, 10001, "invalid_request"),
        ("revoke, wrong secret", "DELETE", REVOKE_PATH, "client_id=ycm-mock-client&client_secret=nope", 401, 1_000_002, "invalid_client"),
        ("revoke, unknown client", "DELETE", REVOKE_PATH, "client_id=other&client_secret=ycm-mock-secret", 401, 1_000_033, "invalid_client"),
    ];
    for style in STYLES {
        let srv = styled(style, MockConfig::default());
        for (what, method, path, form, http, errcode, error) in cases {
            let resp = token_request(&srv, method, path, form);
            assert_eq!(resp.status, sent_as(style, http), "{style} {what}");
            assert_refused(&resp, sent_as(style, http), errcode, error);
        }
        // A body that is not a form: invalid_request too.
        let json_body = request(
            &srv,
            "POST",
            TOKEN_PATH,
            &[("User-Agent", UA), ("Content-Type", "application/json")],
            b"{}",
        );
        assert_refused(&json_body, sent_as(style, 400), 10001, "invalid_request");
        let stats = srv.stats();
        assert_eq!(stats.unauthorized, 6, "{style}: counted in both styles");
        assert_eq!(
            (stats.refused_grants, stats.token_grants),
            (10, 0),
            "{style}"
        );
        let statuses: Vec<u16> = srv.log().iter().map(|e| e.status).collect();
        assert!(
            statuses.iter().all(|s| *s == sent_as(style, *s)),
            "the log has the status sent: {statuses:?}"
        );
        // The right pair still works in either style.
        assert_eq!(token(&srv, CREDENTIALS).status, 200);
        assert_eq!(srv.stats().token_grants, 1);
    }
}

#[test]
fn resource_refusals_in_both_styles() {
    for style in STYLES {
        let srv = styled(style, MockConfig::default());
        let (access, _) = pair(&token(&srv, CREDENTIALS));
        assert_success(&get(&srv, USER_PATH, &access));
        srv.expire_access_tokens();
        let expired = get(&srv, USER_PATH, &access);
        assert_eq!(
            assert_failed(&expired, sent_as(style, 401), 1_000_035),
            "TOKEN_EXPIRED"
        );
        let unknown = get(&srv, USER_PATH, "not-a-token");
        assert_eq!(
            assert_failed(&unknown, sent_as(style, 401), 1_000_036),
            "INVALID_TOKEN"
        );
        let missing = request(&srv, "GET", USER_PATH, &[("User-Agent", UA)], b"");
        assert_failed(&missing, sent_as(style, 401), 1_000_036);
        let no_ua = request(&srv, "GET", USER_PATH, &[], b"");
        assert_failed(&no_ua, sent_as(style, 400), 10001);
        let nowhere = get(&srv, "/dm/open_api/v1/nothing", STATIC_TOKEN);
        assert_failed(&nowhere, sent_as(style, 404), 10001);
        assert_failed(&put(&srv, "13329", "{nope"), sent_as(style, 400), 10003);
        // Business errors are HTTP 200 in either style.
        assert_failed(&put(&srv, "13329", r#"{"nickname":"x"}"#), 200, 10002);
        assert_failed(
            &get(&srv, "/dm/open_api/v1/users/99999", STATIC_TOKEN),
            200,
            20001,
        );
        assert_eq!(srv.stats().unauthorized, 3, "{style}");
        // Injected faults are no envelope: their status stays.
        srv.set_faults(Faults {
            fail_next: 1,
            fail_status: 503,
            ..Faults::default()
        });
        assert_eq!(get(&srv, USER_PATH, STATIC_TOKEN).status, 503);
    }
}

#[test]
fn the_error_style_is_set_and_read_at_run_time_and_reset_restores_the_configured_one() {
    let srv = start_default();
    assert_eq!(srv.error_style(), ErrorStyle::Http);
    assert_eq!(admin(&srv, "GET", "/__mock/error-style", "").json(), "http");
    assert_failed(&get(&srv, USER_PATH, "bad"), 401, 1_000_036);
    let set = admin(&srv, "POST", "/__mock/error-style", "ok");
    assert_eq!((set.status, set.json()), (200, json!({"ok": true})));
    assert_eq!(srv.error_style(), ErrorStyle::Ok);
    assert_failed(&get(&srv, USER_PATH, "bad"), 200, 1_000_036);
    assert_eq!(
        admin(&srv, "POST", "/__mock/error-style", "\"http\"\n").status,
        200
    );
    assert_eq!(admin(&srv, "GET", "/__mock/error-style", "").json(), "http");
    for bad in ["", "teapot", "200", "{}"] {
        let resp = admin(&srv, "POST", "/__mock/error-style", bad);
        assert_eq!(resp.status, 400, "{bad:?}: {}", resp.text());
    }
    assert_eq!(srv.error_style(), ErrorStyle::Http, "unchanged");
    srv.set_error_style(ErrorStyle::Ok);
    assert_eq!(admin(&srv, "GET", "/__mock/error-style", "").json(), "ok");
    srv.reset();
    assert_eq!(srv.error_style(), ErrorStyle::Http, "the configured style");
    let ok_by_default = styled(ErrorStyle::Ok, MockConfig::default());
    ok_by_default.set_error_style(ErrorStyle::Http);
    assert_eq!(
        admin(&ok_by_default, "POST", "/__mock/reset", "").status,
        200
    );
    assert_eq!(ok_by_default.error_style(), ErrorStyle::Ok);
    assert_failed(&get(&ok_by_default, USER_PATH, "bad"), 200, 1_000_036);
}

#[test]
fn max_tokens_caps_the_valid_access_tokens_of_the_client() {
    for style in STYLES {
        let srv = styled(
            style,
            MockConfig {
                max_tokens: Some(2),
                ..MockConfig::default()
            },
        );
        let (a1, r1) = pair(&token(&srv, CREDENTIALS));
        let (a2, _) = pair(&token(&srv, CREDENTIALS));
        let capped = token(&srv, CREDENTIALS);
        assert_refused(&capped, sent_as(style, 403), 1_000_044, "access_denied");
        // A refresh replaces its access token, so it is allowed at the cap.
        let (a3, r3) = pair(&refresh_grant(&srv, &r1));
        assert_failed(&get(&srv, USER_PATH, &a1), sent_as(style, 401), 1_000_036);
        assert_success(&get(&srv, USER_PATH, &a2));
        assert_success(&get(&srv, USER_PATH, &a3));
        assert_refused(
            &token(&srv, CREDENTIALS),
            sent_as(style, 403),
            1_000_044,
            "access_denied",
        );
        // The static token is not an issued token and never counts.
        assert_success(&get(&srv, USER_PATH, STATIC_TOKEN));
        // Expired tokens do not count.
        srv.expire_access_tokens();
        let (a4, _) = pair(&token(&srv, CREDENTIALS));
        // A refresh whose access token had expired adds one: the cap again.
        let (a5, _) = pair(&refresh_grant(&srv, &r3));
        assert_refused(
            &token(&srv, CREDENTIALS),
            sent_as(style, 403),
            1_000_044,
            "access_denied",
        );
        assert_success(&get(&srv, USER_PATH, &a4));
        assert_success(&get(&srv, USER_PATH, &a5));
        // Revoked tokens do not count.
        srv.revoke_tokens();
        pair(&token(&srv, CREDENTIALS));
        let stats = srv.stats();
        assert_eq!(
            (stats.token_grants, stats.refused_grants),
            (6, 3),
            "{style}"
        );
    }
}

#[test]
fn lockout_after_n_failures_in_a_row_until_an_admin_unblocks() {
    let localhost: std::net::IpAddr = [127, 0, 0, 1].into();
    for style in STYLES {
        let srv = styled(
            style,
            MockConfig {
                lockout_after: Some(3),
                ..MockConfig::default()
            },
        );
        // Bad bearer tokens on resource endpoints are no failed authentication.
        for _ in 0..5 {
            assert_failed(&get(&srv, USER_PATH, "bad"), sent_as(style, 401), 1_000_036);
        }
        // Two failures, then a success resets the count.
        let refused = |srv: &MockServer| {
            assert_refused(
                &token(srv, WRONG_SECRET),
                sent_as(style, 401),
                1_000_002,
                "invalid_client",
            );
        };
        refused(&srv);
        refused(&srv);
        let (access, refresh) = pair(&token(&srv, CREDENTIALS));
        refused(&srv);
        refused(&srv);
        assert!(srv.blocked().is_empty(), "{style}: two in a row");
        // The third in a row (an unknown client counts too) is refused as such, and blocks.
        let unknown = token(
            &srv,
            "grant_type=client_credentials&client_id=other&client_secret=ycm-mock-secret",
        );
        assert_refused(&unknown, sent_as(style, 401), 1_000_033, "invalid_client");
        assert_eq!(srv.blocked(), [localhost]);
        assert_eq!(
            admin(&srv, "GET", "/__mock/blocked", "").json(),
            json!(["127.0.0.1"])
        );
        // Now every authentication is refused: grants of both kinds and the revocation.
        let denied = sent_as(style, 403);
        assert_refused(
            &token(&srv, CREDENTIALS),
            denied,
            1_000_042,
            "access_denied",
        );
        assert_refused(
            &refresh_grant(&srv, &refresh),
            denied,
            1_000_042,
            "access_denied",
        );
        let revoke = token_request(
            &srv,
            "DELETE",
            REVOKE_PATH,
            &format!("client_id={CLIENT_ID}&client_secret={SECRET}"),
        );
        assert_refused(&revoke, denied, 1_000_042, "access_denied");
        // Calls with a token already issued are no authentication: they still work.
        assert_success(&get(&srv, USER_PATH, &access));
        let stats = srv.stats();
        assert_eq!(
            (stats.lockouts, stats.locked_out_requests),
            (1, 3),
            "{style}"
        );
        assert_eq!(
            (stats.refused_grants, stats.token_grants),
            (7, 1),
            "{style}"
        );
        assert_eq!(stats.unauthorized, 10, "{style}: 5 tokens, 5 credentials");

        // The admin route unblocks every address; the refresh token was not consumed.
        let unblocked = admin(&srv, "POST", "/__mock/unblock", "");
        assert_eq!(
            (unblocked.status, unblocked.json()),
            (200, json!({"ok": true}))
        );
        assert!(srv.blocked().is_empty());
        pair(&refresh_grant(&srv, &refresh));
        // So does the library, and so does a reset.
        for _ in 0..3 {
            refused(&srv);
        }
        assert_eq!(srv.blocked(), [localhost]);
        srv.unblock();
        pair(&token(&srv, CREDENTIALS));
        for _ in 0..3 {
            refused(&srv);
        }
        assert_eq!(srv.stats().lockouts, 3);
        srv.reset();
        assert!(srv.blocked().is_empty());
        pair(&token(&srv, CREDENTIALS));
    }
}

#[test]
fn a_zero_token_cap_or_lockout_is_refused_at_start() {
    for config in [
        MockConfig {
            max_tokens: Some(0),
            ..MockConfig::default()
        },
        MockConfig {
            lockout_after: Some(0),
            ..MockConfig::default()
        },
    ] {
        let err = MockServer::start("127.0.0.1:0", config).expect_err("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    }
}

// ---------------------------------------------------------------------------------------
// Common request rules.

#[test]
fn missing_or_bad_credentials_get_401() {
    let srv = start_default();
    let path = "/dm/open_api/v1/users/13329";
    let none = request(&srv, "GET", path, &[("User-Agent", UA)], b"");
    assert_eq!(assert_failed(&none, 401, 1_000_036), "INVALID_TOKEN");
    let detail = none.json()["detail"].as_str().expect("detail").to_string();
    assert!(detail.contains("missing Authorization header"), "{detail}");
    assert_failed(&get(&srv, path, "not-a-token"), 401, 1_000_036);
    for authorization in ["Basic eWNtOnljbQ==", "Bearer "] {
        let headers = [("User-Agent", UA), ("Authorization", authorization)];
        assert_failed(&request(&srv, "GET", path, &headers, b""), 401, 1_000_036);
    }
    let put_no_auth = request(
        &srv,
        "PUT",
        path,
        &[("User-Agent", UA), ("Content-Type", "application/json")],
        br#"{"company":"x"}"#,
    );
    assert_failed(&put_no_auth, 401, 1_000_036);
    assert_eq!(
        srv.user(13329).expect("user")["company"],
        "Yeastar Demo Ltd"
    );
    assert_eq!(srv.stats().unauthorized, 5);
}

#[test]
fn missing_or_empty_user_agent_gets_400() {
    let srv = start_default();
    let auth = format!("Bearer {STATIC_TOKEN}");
    let path = "/dm/open_api/v1/users/13329";
    let none = request(&srv, "GET", path, &[("Authorization", &auth)], b"");
    let msg = assert_failed(&none, 400, 10001);
    assert!(msg.contains("User-Agent"), "{msg}");
    let empty = request(
        &srv,
        "GET",
        path,
        &[("Authorization", &auth), ("User-Agent", "")],
        b"",
    );
    assert_failed(&empty, 400, 10001);
    // Checked before auth: no token and no User-Agent is a 400, not a 401.
    assert_failed(&request(&srv, "GET", path, &[], b""), 400, 10001);
}

#[test]
fn unknown_paths_and_wrong_methods() {
    let srv = start_default();
    let resp = get(&srv, "/dm/open_api/v1/nothing", STATIC_TOKEN);
    assert_failed(&resp, 404, 10001);
    let resp = request(
        &srv,
        "POST",
        "/dm/open_api/v1/users/13329",
        &[("User-Agent", UA)],
        b"",
    );
    assert_eq!(resp.status, 405);
    let resp = request(
        &srv,
        "GET",
        "/dm/open_api/oauth/token",
        &[("User-Agent", UA)],
        b"",
    );
    assert_eq!(resp.status, 405);
}

// ---------------------------------------------------------------------------------------
// Reads.

#[test]
fn get_user_13329() {
    let srv = start_default();
    let v = assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    let user = &v["data"];
    assert_eq!(user["userId"], 13329);
    assert_eq!(user["company"], "Yeastar Demo Ltd");
    assert_eq!(user["firstName"], "Leo");
    assert_eq!(user["lastName"], "Zhang");
    assert_eq!(user["email"], "leo@example.com");
    assert_eq!(user["createdCloudPbx"], 3);
    assert_eq!(user["userType"], "Reseller");
    assert_eq!(user["pbxCreationLimit"], 10);
    assert_eq!(user["twoFactorAuthenticationEnable"], "enable");
    for field in ["phone", "mobile", "address", "remark"] {
        assert!(user[field].is_string(), "{field}");
    }
    assert_eq!(Some(user.clone()), srv.user(13329));

    let colleague = assert_success(&get(&srv, "/dm/open_api/v1/users/13330", STATIC_TOKEN));
    assert_eq!(colleague["data"]["userType"], "My Colleague");
    assert_eq!(colleague["data"]["createdCloudPbx"], 0);
    let reseller = assert_success(&get(&srv, "/dm/open_api/v1/users/13331", STATIC_TOKEN));
    assert_eq!(reseller["data"]["pbxCreationLimit"], "");

    for bad in ["abc", "0", "-5", "1.5"] {
        let resp = get(&srv, &format!("/dm/open_api/v1/users/{bad}"), STATIC_TOKEN);
        let msg = assert_failed(&resp, 200, 10002);
        assert!(msg.contains("userId"), "{msg}");
    }
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/99999", STATIC_TOKEN),
        200,
        20001,
    );
    assert_eq!(srv.stats().get_user, 8);
}

fn list(srv: &MockServer, query: &str) -> Resp {
    get(srv, &format!("/dm/open_api/v2/users{query}"), STATIC_TOKEN)
}

fn ids(v: &Value) -> Vec<i64> {
    v["data"]["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|u| u["userId"].as_i64().expect("userId"))
        .collect()
}

#[test]
fn list_pages_cover_every_user_exactly_once() {
    let srv = start_default();
    let mut seen = HashSet::new();
    let mut sizes = Vec::new();
    for page in 1..=4 {
        let v = assert_success(&list(&srv, &format!("?pageSize=50&pageNumber={page}")));
        assert_eq!(v["data"]["total"], 120);
        assert_eq!(v["data"]["pageSize"], 50);
        assert_eq!(v["data"]["pageNumber"], page);
        let page_ids = ids(&v);
        sizes.push(page_ids.len());
        for id in page_ids {
            assert!(seen.insert(id), "user {id} listed twice");
        }
    }
    assert_eq!(sizes, [50, 50, 20, 0]);
    assert_eq!(seen.len(), 120);
    assert!(seen.contains(&13329) && seen.contains(&20001) && seen.contains(&20117));

    let default = assert_success(&list(&srv, ""));
    assert_eq!(default["data"]["pageSize"], 10);
    assert_eq!(default["data"]["pageNumber"], 1);
    assert_eq!(ids(&default)[..3], [13329, 13330, 13331]);

    for bad in [
        "?pageSize=0",
        "?pageSize=51",
        "?pageSize=x",
        "?pageNumber=0",
        "?pageNumber=-1",
        "?sort=nickname",
        "?sort=-",
    ] {
        assert_failed(&list(&srv, bad), 200, 10002);
    }
    assert_eq!(srv.stats().list_users, 12);
}

#[test]
fn list_sorts_descending_and_stably() {
    let srv = start_default();
    let v = assert_success(&list(&srv, "?sort=-userId&pageSize=3"));
    assert_eq!(ids(&v), [20117, 20116, 20115]);

    let mut all = Vec::new();
    for page in 1..=3 {
        let v = assert_success(&list(
            &srv,
            &format!("?sort=-createdCloudPbx&pageSize=50&pageNumber={page}"),
        ));
        all.extend(v["data"]["list"].as_array().expect("list").clone());
    }
    assert_eq!(all.len(), 120);
    for pair in all.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (ca, cb) = (a["createdCloudPbx"].as_i64(), b["createdCloudPbx"].as_i64());
        assert!(ca >= cb, "not descending: {ca:?} then {cb:?}");
        if ca == cb {
            assert!(
                a["userId"].as_i64() < b["userId"].as_i64(),
                "ties keep userId order"
            );
        }
    }
    let by_company = assert_success(&list(&srv, "?sort=company&pageSize=50"));
    let companies: Vec<&str> = by_company["data"]["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|u| u["company"].as_str().expect("company"))
        .collect();
    assert!(companies.windows(2).all(|w| w[0] <= w[1]));
}

// ---------------------------------------------------------------------------------------
// Updates.

#[test]
fn update_applies_and_later_reads_see_it() {
    let srv = start_default();
    let body = json!({
        "company": "Renamed Ltd",
        "firstName": "Leonard",
        "lastName": "Zhang-Li",
        "email": "leonard@example.com",
        "phone": "1",
        "mobile": "2",
        "address": "3",
        "remark": "updated by test",
        "twoFactorAuthenticationEnable": "disable",
        "pbxCreationLimit": 3,
    });
    let v = assert_success(&put(&srv, "13329", &body.to_string()));
    assert!(v.get("data").is_none(), "no data on update: {v}");
    let after = assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    let user = &after["data"];
    for (key, value) in body.as_object().expect("object") {
        assert_eq!(&user[key], value, "{key}");
    }
    assert_eq!(user["createdCloudPbx"], 3);
    assert_eq!(srv.user(13329).as_ref(), Some(user));

    // "" lifts the limit; a charset parameter on the content type is fine.
    let auth = format!("Bearer {STATIC_TOKEN}");
    let resp = request(
        &srv,
        "PUT",
        "/dm/open_api/v1/users/13331",
        &[
            ("User-Agent", UA),
            ("Authorization", &auth),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        br#"{"pbxCreationLimit": ""}"#,
    );
    assert_success(&resp);
    assert_eq!(srv.user(13331).expect("user")["pbxCreationLimit"], "");
    assert_success(&put(&srv, "13331", r#"{"pbxCreationLimit": 2147483647}"#));
    assert_eq!(
        srv.user(13331).expect("user")["pbxCreationLimit"],
        2_147_483_647_i64
    );
    assert_eq!(srv.stats().update_user, 3);
}

#[test]
fn update_validation_rules() {
    let srv = start_default();
    let before = srv.user(13329);
    let cases: &[(&str, &str)] = &[
        ("{}", "at least one"),
        (r#"{"company": 5}"#, "company"),
        (r#"{"firstName": null}"#, "firstName"),
        (r#"{"lastName": ["x"]}"#, "lastName"),
        (r#"{"email": {}}"#, "email"),
        (r#"{"phone": 123}"#, "phone"),
        (r#"{"mobile": true}"#, "mobile"),
        (r#"{"address": 1.5}"#, "address"),
        (r#"{"remark": false}"#, "remark"),
        (
            r#"{"twoFactorAuthenticationEnable": "enable"}"#,
            "twoFactorAuthenticationEnable",
        ),
        (
            r#"{"twoFactorAuthenticationEnable": "Disable"}"#,
            "twoFactorAuthenticationEnable",
        ),
        (
            r#"{"twoFactorAuthenticationEnable": false}"#,
            "twoFactorAuthenticationEnable",
        ),
        (r#"{"pbxCreationLimit": 0}"#, "pbxCreationLimit"),
        (r#"{"pbxCreationLimit": -1}"#, "pbxCreationLimit"),
        (r#"{"pbxCreationLimit": 2147483648}"#, "pbxCreationLimit"),
        (r#"{"pbxCreationLimit": 5.5}"#, "pbxCreationLimit"),
        (r#"{"pbxCreationLimit": "5"}"#, "pbxCreationLimit"),
        (r#"{"pbxCreationLimit": null}"#, "pbxCreationLimit"),
        (r#"{"company": "ok", "nickName": "x"}"#, "nickName"),
    ];
    for (body, field) in cases {
        let msg = assert_failed(&put(&srv, "13329", body), 200, 10002);
        assert!(msg.contains(field), "{body}: {msg}");
    }
    assert_eq!(srv.user(13329), before, "nothing applied");

    let msg = assert_failed(&put(&srv, "abc", r#"{"company":"x"}"#), 200, 10002);
    assert!(msg.contains("userId"), "{msg}");
    assert_failed(&put(&srv, "0", r#"{"company":"x"}"#), 200, 10002);

    assert_failed(&put(&srv, "13329", "{not json"), 400, 10003);
    assert_failed(&put(&srv, "13329", r#"["company"]"#), 400, 10003);
    assert_failed(&put(&srv, "13329", r#""x""#), 400, 10003);
    assert_failed(&put(&srv, "13329", ""), 400, 10003);

    let auth = format!("Bearer {STATIC_TOKEN}");
    let plain = request(
        &srv,
        "PUT",
        "/dm/open_api/v1/users/13329",
        &[
            ("User-Agent", UA),
            ("Authorization", &auth),
            ("Content-Type", "text/plain"),
        ],
        br#"{"company":"x"}"#,
    );
    let msg = assert_failed(&plain, 400, 10001);
    assert!(msg.contains("Content-Type"), "{msg}");
    let missing = request(
        &srv,
        "PUT",
        "/dm/open_api/v1/users/13329",
        &[("User-Agent", UA), ("Authorization", &auth)],
        br#"{"company":"x"}"#,
    );
    assert_failed(&missing, 400, 10001);
    assert_eq!(srv.user(13329), before, "nothing applied");
}

#[test]
fn update_business_errors() {
    let srv = start_default();
    assert_failed(&put(&srv, "99999", r#"{"company":"x"}"#), 200, 20001);
    // A colleague cannot get a limit; "" (no limit) is harmless.
    let msg = assert_failed(
        &put(&srv, "13330", r#"{"pbxCreationLimit": 5}"#),
        200,
        20003,
    );
    assert!(msg.contains("pbxCreationLimit"), "{msg}");
    assert_success(&put(&srv, "13330", r#"{"pbxCreationLimit": ""}"#));
    // 13329 already has 3 Cloud PBXs.
    let before = srv.user(13329);
    let msg = assert_failed(
        &put(
            &srv,
            "13329",
            r#"{"company": "Changed", "pbxCreationLimit": 2}"#,
        ),
        200,
        20002,
    );
    assert!(msg.contains("pbxCreationLimit"), "{msg}");
    assert_eq!(srv.user(13329), before, "a refused update changes nothing");
    assert_success(&put(&srv, "13329", r#"{"pbxCreationLimit": 3}"#));
    assert_eq!(srv.user(13329).expect("user")["pbxCreationLimit"], 3);
    // 13331 is a reseller with no PBX: 1 is the smallest valid limit.
    assert_success(&put(&srv, "13331", r#"{"pbxCreationLimit": 1}"#));
}

// ---------------------------------------------------------------------------------------
// Faults.

#[test]
fn fail_next_answers_the_status_with_retry_after_then_recovers() {
    let srv = start_default();
    srv.set_faults(Faults {
        fail_next: 2,
        fail_status: 429,
        retry_after: Some("1".into()),
        ..Faults::default()
    });
    // Faults come before every other check: even a request without UA or token gets it.
    let r1 = request(&srv, "GET", "/dm/open_api/v1/users/13329", &[], b"");
    assert_eq!(r1.status, 429);
    assert_eq!(r1.header("Retry-After"), Some("1"));
    let r2 = token(&srv, CREDENTIALS);
    assert_eq!(r2.status, 429);
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));

    srv.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let r3 = get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN);
    assert_eq!(r3.status, 503, "fail_status 0 means 503");
    assert_eq!(r3.header("Retry-After"), None);

    let stats = srv.stats();
    assert_eq!(stats.requests, 4);
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.get_user, 3);
    let statuses: Vec<u16> = srv.log().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [429, 429, 200, 503]);
}

#[test]
fn close_next_truncates_the_body_then_recovers() {
    let srv = start_default();
    srv.set_faults(Faults {
        close_next: 1,
        ..Faults::default()
    });
    let cut = get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN);
    assert_eq!(cut.status, 200);
    assert!(cut.truncated, "body should be cut short: {cut:?}");
    assert!(!cut.body.is_empty(), "part of the body arrives");
    assert!(serde_json::from_slice::<Value>(&cut.body).is_err());
    let ok = get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN);
    assert!(!ok.truncated);
    assert_success(&ok);
    assert_eq!(srv.stats().get_user, 2);
}

#[test]
fn latency_is_added_to_api_requests() {
    let srv = start(MockConfig {
        latency: Duration::from_millis(200),
        ..MockConfig::default()
    });
    let t = Instant::now();
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );

    srv.set_faults(Faults {
        latency_ms: Some(400),
        ..Faults::default()
    });
    let t = Instant::now();
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// Admin endpoints, stats, log.

fn admin(srv: &MockServer, method: &str, path: &str, body: &str) -> Resp {
    request(srv, method, path, &[], body.as_bytes())
}

#[test]
fn admin_endpoints_mirror_the_library_api() {
    let srv = start_default();
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/13329", "bad"),
        401,
        1_000_036,
    );
    assert_success(&put(&srv, "13330", r#"{"remark":"seen by admin"}"#));

    let stats: Stats =
        serde_json::from_slice(&admin(&srv, "GET", "/__mock/stats", "").body).expect("stats JSON");
    assert_eq!(stats, srv.stats());
    assert_eq!(
        stats,
        Stats {
            requests: 3,
            token_requests: 0,
            get_user: 2,
            list_users: 0,
            update_user: 1,
            unauthorized: 1,
            rate_limited: 0,
            token_grants: 0,
            refused_grants: 0,
            lockouts: 0,
            locked_out_requests: 0,
        }
    );
    let log = admin(&srv, "GET", "/__mock/log", "").json();
    assert_eq!(log.as_array().map(Vec::len), Some(3));
    assert_eq!(log[2]["method"], "PUT");
    assert_eq!(log[2]["path"], "/dm/open_api/v1/users/13330");
    assert_eq!(log[2]["body"], r#"{"remark":"seen by admin"}"#);
    assert_eq!(log[2]["content_type"], "application/json");
    assert_eq!(log[2]["user_agent"], UA);
    assert_eq!(log[1]["status"], 401);

    let user = admin(&srv, "GET", "/__mock/users/13330", "");
    assert_eq!(user.status, 200);
    assert_eq!(user.json()["remark"], "seen by admin");
    assert_eq!(admin(&srv, "GET", "/__mock/users/4", "").status, 404);

    assert_eq!(admin(&srv, "POST", "/__mock/faults", "{nope").status, 400);
    assert_eq!(
        admin(&srv, "POST", "/__mock/faults", r#"{"fail_status": 42}"#).status,
        400
    );
    let set = admin(
        &srv,
        "POST",
        "/__mock/faults",
        r#"{"fail_next": 1, "fail_status": 502}"#,
    );
    assert_eq!(set.status, 200);
    assert_eq!(
        get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN).status,
        502
    );
    assert_eq!(
        admin(&srv, "GET", "/__mock/stats", "").status,
        200,
        "admin is never faulted"
    );

    let pair = token(&srv, CREDENTIALS).json();
    let access = pair["access_token"].as_str().expect("a").to_string();
    let refresh = pair["refresh_token"].as_str().expect("r").to_string();
    assert_eq!(admin(&srv, "POST", "/__mock/expire", "").status, 200);
    assert_failed(
        &get(&srv, "/dm/open_api/v1/users/13329", &access),
        401,
        1_000_035,
    );
    let renewed = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    );
    assert_eq!(renewed.status, 200);
    let refresh2 = renewed.json()["refresh_token"]
        .as_str()
        .expect("r")
        .to_string();
    assert_eq!(admin(&srv, "POST", "/__mock/revoke", "").status, 200);
    let dead = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={refresh2}"),
    );
    assert_eq!(dead.status, 400);

    assert_eq!(admin(&srv, "POST", "/__mock/reset", "").status, 200);
    assert_eq!(srv.stats(), Stats::default());
    assert!(srv.log().is_empty());
    assert_eq!(
        srv.user(13330).expect("user")["remark"],
        "",
        "users reseeded"
    );
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    assert_eq!(srv.stats().requests, 1, "admin requests are not counted");
}

#[test]
fn log_redacts_every_secret() {
    let srv = start_default();
    let pair = token(&srv, CREDENTIALS).json();
    let access = pair["access_token"].as_str().expect("a").to_string();
    let refresh = pair["refresh_token"].as_str().expect("r").to_string();
    let renewed = token(
        &srv,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    );
    let access2 = renewed.json()["access_token"]
        .as_str()
        .expect("a")
        .to_string();
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", &access2));
    assert_success(&get(&srv, "/dm/open_api/v1/users/13329", STATIC_TOKEN));
    token_request(
        &srv,
        "DELETE",
        "/dm/open_api/oauth/token/refresh_token",
        &format!("client_id={CLIENT_ID}&client_secret={SECRET}"),
    );

    let log = srv.log();
    assert_eq!(log.len(), 5);
    assert_eq!(
        log[0].body,
        "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=[REDACTED]"
    );
    assert_eq!(
        log[1].body,
        "grant_type=refresh_token&refresh_token=[REDACTED]"
    );
    assert_eq!(log[2].authorization.as_deref(), Some("Bearer [REDACTED]"));
    assert_eq!(log[3].authorization.as_deref(), Some("Bearer [REDACTED]"));
    let everything =
        serde_json::to_string(&log).expect("json") + &admin(&srv, "GET", "/__mock/log", "").text();
    for secret in [SECRET, STATIC_TOKEN, &access, &refresh, &access2] {
        assert!(!everything.contains(secret), "log leaks a secret");
    }
}

/// One request carrying a secret in one of the forms a client may send it in.
struct SecretForm {
    what: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// The secret as it travels on the wire, and decoded when that differs.
    secrets: Vec<String>,
}

/// Every form in which ycm-mock may receive a secret: a query `access_token` (also with a
/// percent-encoded key, and on the token path), JSON-bodied token requests (plain, with an
/// escaped key, nested, camelCase, and one longer than the logged part of a body), any
/// grant's password, secret or refresh token in a form, and every kind of Authorization.
fn secret_forms() -> Vec<SecretForm> {
    let json = ("Content-Type", "application/json".to_string());
    let form = (
        "Content-Type",
        "application/x-www-form-urlencoded".to_string(),
    );
    let bearer = ("Authorization", format!("Bearer {STATIC_TOKEN}"));
    let one = |what,
               method,
               path: &str,
               headers: Vec<(&'static str, String)>,
               body: &str,
               secret: &str| SecretForm {
        what,
        method,
        path: path.to_string(),
        headers,
        body: body.to_string(),
        secrets: vec![secret.to_string()],
    };
    let long_json = format!(
        r#"{{"grant_type":"client_credentials","client_secret":"JsonLongSecret-5c6d","pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let mut forms = vec![
        one("query access_token", "GET", "/dm/open_api/v1/users/13329?access_token=QueryToken-1a2b", vec![], "", "QueryToken-1a2b"),
        one("query access_token, encoded key", "GET", "/dm/open_api/v2/users?pageSize=5&access%5Ftoken=QueryTokenEnc-3c4d", vec![], "", "QueryTokenEnc-3c4d"),
        one("query access_token, authorised call", "GET", "/dm/open_api/v1/users/13329?access_token=QueryTokenOk-4d5e", vec![bearer.clone()], "", "QueryTokenOk-4d5e"),
        one("query client_secret on the token path", "POST", "/dm/open_api/oauth/token?grant_type=client_credentials&client_id=ycm-mock-client&client_secret=QuerySecret-5e6f", vec![form.clone()], "", "QuerySecret-5e6f"),
        one("JSON client_secret", "POST", "/dm/open_api/oauth/token", vec![json.clone()], r#"{"grant_type":"client_credentials","client_id":"ycm-mock-client","client_secret":"JsonSecret-7a8b"}"#, "JsonSecret-7a8b"),
        one("JSON client_secret, escaped key", "POST", "/dm/open_api/oauth/token", vec![json.clone()], r#"{"grant_type":"client_credentials","client\u005fsecret":"JsonSecretEsc-9c0d"}"#, "JsonSecretEsc-9c0d"),
        one("JSON refresh_token", "POST", "/dm/open_api/oauth/token", vec![json.clone()], r#"{"grant_type":"refresh_token","refresh_token":"JsonRefresh-1e2f"}"#, "JsonRefresh-1e2f"),
        one("JSON password grant, nested", "POST", "/dm/open_api/oauth/token", vec![json.clone()], r#"{"grant_type":"password","user":{"username":"alice","password":"JsonPassword-2f3a"}}"#, "JsonPassword-2f3a"),
        one("JSON camelCase clientSecret", "POST", "/dm/open_api/oauth/token", vec![json.clone()], r#"{"clientId":"ycm-mock-client","clientSecret":"JsonCamel-3a4b"}"#, "JsonCamel-3a4b"),
        one("JSON longer than the logged part", "POST", "/dm/open_api/oauth/token", vec![json.clone()], &long_json, "JsonLongSecret-5c6d"),
        one("JSON body sent as a form", "POST", "/dm/open_api/oauth/token", vec![form.clone()], r#"{"client_secret":"JsonAsForm-6d7e"}"#, "JsonAsForm-6d7e"),
        one("form password grant", "POST", "/dm/open_api/oauth/token", vec![form.clone()], "grant_type=password&username=alice&password=FormPassword-7e8f", "FormPassword-7e8f"),
        one("form refresh grant", "POST", "/dm/open_api/oauth/token", vec![form.clone()], "grant_type=refresh_token&refresh_token=FormRefresh-8f9a", "FormRefresh-8f9a"),
        one("form with a capitalised key", "POST", "/dm/open_api/oauth/token", vec![form.clone()], "grant_type=client_credentials&Client_Secret=FormCapital-9a0b", "FormCapital-9a0b"),
        one("form secret on an API path", "PUT", "/dm/open_api/v1/users/13329", vec![bearer.clone(), form.clone()], "client_secret=FormOnApi-0b1c", "FormOnApi-0b1c"),
        one("Authorization: Bearer", "GET", "/dm/open_api/v1/users/13329", vec![("Authorization", "Bearer HeaderBearer-1c2d".into())], "", "HeaderBearer-1c2d"),
        one("Authorization: Basic", "POST", "/dm/open_api/oauth/token", vec![form.clone(), ("Authorization", "Basic eWNtLW1vY2stY2xpZW50OkJhc2ljU2VjcmV0LTJkM2U=".into())], "grant_type=client_credentials", "eWNtLW1vY2stY2xpZW50OkJhc2ljU2VjcmV0LTJkM2U="),
        one("Authorization without a scheme", "GET", "/dm/open_api/v1/users/13329", vec![("Authorization", "HeaderBare-3e4f".into())], "", "HeaderBare-3e4f"),
        one("Authorization with extra blanks", "GET", "/dm/open_api/v1/users/13329", vec![("Authorization", "  bearer   HeaderBlanks-4f5a ".into())], "", "HeaderBlanks-4f5a"),
    ];
    // A secret made of characters a form must percent-encode: it must show in neither form.
    let mut encoded = one(
        "form secret that needs encoding",
        "POST",
        "/dm/open_api/oauth/token",
        vec![form],
        "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=p%40ss%2Fw%3Ard%2B-5a6b",
        "p%40ss%2Fw%3Ard%2B-5a6b",
    );
    encoded.secrets.push("p@ss/w:rd+-5a6b".into());
    forms.push(encoded);
    forms
}

/// Sends every secret form to `addr` (each with a User-Agent), one connection each.
fn send_secret_forms(addr: SocketAddr, forms: &[SecretForm]) {
    for form in forms {
        let mut headers: Vec<(&str, &str)> = vec![("User-Agent", UA)];
        headers.extend(form.headers.iter().map(|(k, v)| (*k, v.as_str())));
        let mut stream = connect(addr);
        write_request(
            &mut stream,
            form.method,
            &form.path,
            &headers,
            form.body.as_bytes(),
            false,
        );
        let resp = read_response(&mut BufReader::new(stream));
        assert!(resp.status >= 200, "{}: no answer", form.what);
    }
}

/// Fails naming every form whose secret shows in `text` (`where_` says what `text` is).
fn assert_no_secret(forms: &[SecretForm], text: &str, where_: &str) {
    let leaks: Vec<&str> = forms
        .iter()
        .filter(|f| f.secrets.iter().any(|s| text.contains(s.as_str())))
        .map(|f| f.what)
        .collect();
    assert!(leaks.is_empty(), "{where_} leaks the secret of: {leaks:?}");
}

#[test]
fn the_log_holds_no_secret_in_any_form_it_was_received_in() {
    let srv = start_default();
    let forms = secret_forms();
    send_secret_forms(srv.addr(), &forms);
    let log = srv.log();
    assert_eq!(log.len(), forms.len(), "every request is logged");
    assert_no_secret(
        &forms,
        &serde_json::to_string(&log).expect("json"),
        "srv.log()",
    );
    assert_no_secret(
        &forms,
        &admin(&srv, "GET", "/__mock/log", "").text(),
        "/__mock/log",
    );

    // What is not secret stays readable: the query's other pairs, the grant, the client id.
    assert_eq!(
        log[0].path,
        "/dm/open_api/v1/users/13329?access_token=[REDACTED]"
    );
    assert_eq!(
        log[1].path,
        "/dm/open_api/v2/users?pageSize=5&access%5Ftoken=[REDACTED]"
    );
    assert_eq!(log[2].status, 200, "{:?}", log[2]);
    let body: Value = serde_json::from_str(&log[4].body).expect("the JSON body stays JSON");
    assert_eq!(
        body,
        json!({"grant_type": "client_credentials", "client_id": "ycm-mock-client", "client_secret": "[REDACTED]"})
    );
    assert_eq!(
        log[11].body,
        "grant_type=password&username=alice&password=[REDACTED]"
    );
    // A body without a secret is logged exactly as received.
    let update = r#"{"company": "not a secret"}"#;
    put(&srv, "13329", update);
    assert_eq!(srv.log().last().expect("logged").body, update);
}

#[test]
fn the_binary_prints_no_secret_in_any_form_it_was_received_in() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ycm-mock");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let port: u16 = first
        .trim_end()
        .strip_prefix("ycm-mock listening on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let forms = secret_forms();
    send_secret_forms(([127, 0, 0, 1], port).into(), &forms);
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.expect("kill").success());
    let status = child.wait().expect("wait");
    let (mut out, mut err) = (String::new(), String::new());
    stdout.read_to_string(&mut out).expect("read stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    stderr.read_to_string(&mut err).expect("read stderr");
    assert!(status.success(), "exit status {status:?}: {err}");
    assert_eq!(
        err.lines().count(),
        forms.len(),
        "one line per request: {err}"
    );
    assert!(
        err.contains("GET /dm/open_api/v1/users/13329?access_token=[REDACTED] 401"),
        "{err}"
    );
    assert_no_secret(&forms, &(first + &out), "stdout");
    assert_no_secret(&forms, &err, "stderr");
}

// ---------------------------------------------------------------------------------------
// Load and keep-alive.

#[test]
fn sixteen_keep_alive_clients_and_5000_requests() {
    let srv = start_default();
    let addr = srv.addr();
    const CLIENTS: usize = 16;
    const PER_CLIENT: usize = 320;
    let auth = format!("Bearer {STATIC_TOKEN}");
    std::thread::scope(|scope| {
        for c in 0..CLIENTS {
            let auth = auth.clone();
            scope.spawn(move || {
                let stream = connect(addr);
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                for i in 0..PER_CLIENT {
                    let id = if (c + i) % 2 == 0 { "13329" } else { "20042" };
                    let path = format!("/dm/open_api/v1/users/{id}");
                    let headers = [("User-Agent", UA), ("Authorization", auth.as_str())];
                    write_request(&mut writer, "GET", &path, &headers, b"", true);
                    let resp = read_response(&mut reader);
                    assert_eq!(resp.status, 200);
                    assert!(!resp.truncated);
                }
            });
        }
    });
    let stats = srv.stats();
    assert_eq!(stats.get_user, (CLIENTS * PER_CLIENT) as u64);
    assert_eq!(srv.log().len(), CLIENTS * PER_CLIENT);
}

// ---------------------------------------------------------------------------------------
// The binary.

#[test]
fn binary_prints_its_url_logs_redacted_lines_and_exits_on_sigterm() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0", "--client-secret", "s3cret-value"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ycm-mock");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let url = first
        .trim_end()
        .strip_prefix("ycm-mock listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let port: u16 = url.parse().expect("port");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();

    let send = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| {
        let mut stream = connect(addr);
        write_request(&mut stream, method, path, headers, body.as_bytes(), false);
        read_response(&mut BufReader::new(stream))
    };
    let form = [
        ("User-Agent", UA),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let pair = send(
        "POST",
        "/dm/open_api/oauth/token",
        &form,
        "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=s3cret-value",
    )
    .json();
    let access = pair["access_token"].as_str().expect("access").to_string();
    let auth = format!("Bearer {access}");
    let user = send(
        "GET",
        "/dm/open_api/v1/users/13329",
        &[("User-Agent", UA), ("Authorization", &auth)],
        "",
    );
    assert_eq!(user.status, 200);

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(
        stderr.contains(&format!(
            "GET /dm/open_api/v1/users/13329 200 ua=\"{UA}\" auth=Bearer [REDACTED]"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("POST /dm/open_api/oauth/token 200"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret-value") && !stderr.contains(&access));
}

#[test]
fn the_binary_takes_error_style_max_tokens_and_lockout_after() {
    use std::process::Command;
    let (mut child, addr) = spawn_binary(&[
        "--error-style",
        "ok",
        "--max-tokens",
        "1",
        "--lockout-after",
        "2",
    ]);
    let form = [
        ("User-Agent", UA),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let grant = |body: &str| request_to(addr, "POST", TOKEN_PATH, &form, body.as_bytes());

    pair(&grant(CREDENTIALS));
    assert_refused(&grant(CREDENTIALS), 200, 1_000_044, "access_denied");
    assert_refused(&grant(WRONG_SECRET), 200, 1_000_002, "invalid_client");
    assert_refused(&grant(WRONG_SECRET), 200, 1_000_002, "invalid_client");
    assert_refused(&grant(CREDENTIALS), 200, 1_000_042, "access_denied");
    let admin_to =
        |method: &str, path: &str, body: &str| request_to(addr, method, path, &[], body.as_bytes());
    assert_eq!(admin_to("GET", "/__mock/error-style", "").json(), "ok");
    assert_eq!(
        admin_to("GET", "/__mock/blocked", "").json(),
        json!(["127.0.0.1"])
    );
    let stats = admin_to("GET", "/__mock/stats", "").json();
    assert_eq!(
        [
            &stats["token_grants"],
            &stats["refused_grants"],
            &stats["lockouts"],
            &stats["locked_out_requests"],
        ],
        [1, 4, 1, 1]
    );
    assert_eq!(admin_to("POST", "/__mock/unblock", "").status, 200);
    assert_refused(&grant(CREDENTIALS), 200, 1_000_044, "access_denied");
    assert_eq!(admin_to("POST", "/__mock/error-style", "http").status, 200);
    assert_refused(&grant(CREDENTIALS), 403, 1_000_044, "access_denied");
    child.kill().expect("kill");
    child.wait().expect("wait");

    for bad in [
        ["--error-style", "teapot"],
        ["--max-tokens", "0"],
        ["--max-tokens", "-1"],
        ["--lockout-after", "0"],
        ["--lockout-after", "many"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
            .args(["--addr", "127.0.0.1:0"])
            .args(bad)
            .output()
            .expect("run ycm-mock");
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
    }
}

#[test]
fn the_fault_server_prints_the_fault_matrix_it_is_built_with() {
    use std::process::Command;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ycm-fault-server"))
            .args(args)
            .output()
            .expect("run ycm-fault-server")
    };
    let json = run(&["--cases-json"]);
    assert!(json.status.success(), "{json:?}");
    let printed: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(printed, ycm_mock::fault_matrix::table_json());
    let tsv = run(&["--cases-tsv"]);
    assert!(tsv.status.success(), "{tsv:?}");
    assert_eq!(
        String::from_utf8_lossy(&tsv.stdout),
        ycm_mock::fault_matrix::table_tsv()
    );
    assert!(!run(&["--case", "reset", "--cases-json"]).status.success());
    assert!(!run(&[]).status.success(), "a case or a table is required");
}
