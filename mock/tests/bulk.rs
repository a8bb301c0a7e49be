//! End-to-end tests of the ycm-mock additions for bulk work, over real loopback HTTP with
//! keep-alive connections: `--users N` seeding (deterministic, contiguous generated ids, the
//! same after a reset, fast list paging at 100,000 users with the figures printed),
//! `--rate-limit` (YCM's token bucket per client: burst, 429 with `Retry-After` and a Failed
//! envelope with errcode 1000040, HTTP 200 in the `ok` error style, refill, separate buckets,
//! grants metered by the client id of their form, admin requests exempt, runtime setting and
//! reset) and the per-user PUT counters, through the library and through the binary.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::http::{read_response, Resp};
use ycm_mock::{MockConfig, MockServer, RateLimit};

mod support {
    pub mod binary;
    pub mod http;
}
use support::binary::spawn_binary;

const UA: &str = "ycm-mock-bulk-tests/1.0";
const STATIC_TOKEN: &str = "ycm-mock-token";
const CREDENTIALS: &str =
    "grant_type=client_credentials&client_id=ycm-mock-client&client_secret=ycm-mock-secret";

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let writer = stream.try_clone().expect("clone");
        Conn {
            writer,
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        self.writer.write_all(head.as_bytes()).expect("write head");
        self.writer.write_all(body.as_bytes()).expect("write body");
        read_response(&mut self.reader)
    }

    fn get(&mut self, path: &str, token: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.send(
            "GET",
            path,
            &[("User-Agent", UA), ("Authorization", &auth)],
            "",
        )
    }

    fn put(&mut self, id: i64, token: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.send(
            "PUT",
            &format!("/dm/open_api/v1/users/{id}"),
            &[
                ("User-Agent", UA),
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }

    fn token(&mut self) -> Resp {
        self.send(
            "POST",
            "/dm/open_api/oauth/token",
            &[
                ("User-Agent", UA),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            CREDENTIALS,
        )
    }

    fn admin(&mut self, method: &str, path: &str, body: &str) -> Resp {
        self.send(method, path, &[], body)
    }
}

fn start(config: MockConfig) -> MockServer {
    MockServer::start("127.0.0.1:0", config).expect("start mock")
}

/// The access and refresh tokens of a successful grant.
fn success_token(resp: &Resp) -> (String, String) {
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    let token = |name: &str| v[name].as_str().expect("token").to_string();
    (token("access_token"), token("refresh_token"))
}

fn with_users(users: usize) -> MockConfig {
    MockConfig {
        users,
        ..MockConfig::default()
    }
}

fn success(resp: &Resp) -> Value {
    assert_eq!(resp.status, 200, "body: {}", resp.text());
    let v = resp.json();
    assert_eq!(v["status"], "Success", "{v}");
    v
}

/// Every user, by walking the list in pages of 50 sorted by `userId` (as the bulk planner
/// does); also checks `total` on every page and that the page after the last is empty.
fn walk(conn: &mut Conn, sort: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut total = None;
    for page in 1.. {
        let path = format!("/dm/open_api/v2/users?pageSize=50&pageNumber={page}&sort={sort}");
        let v = success(&conn.get(&path, STATIC_TOKEN));
        let page_total = v["data"]["total"].as_u64().expect("total");
        assert_eq!(*total.get_or_insert(page_total), page_total);
        let list = v["data"]["list"].as_array().expect("list").clone();
        if list.is_empty() {
            break;
        }
        assert!(list.len() <= 50);
        all.extend(list);
    }
    assert_eq!(Some(all.len() as u64), total, "pages cover the total");
    all
}

fn ids(users: &[Value]) -> Vec<i64> {
    users
        .iter()
        .map(|u| u["userId"].as_i64().expect("userId"))
        .collect()
}

/// The ids `--users n` must produce.
fn expected_ids(n: usize) -> Vec<i64> {
    let fixed = [13329, 13330, 13331];
    let mut ids: Vec<i64> = fixed.into_iter().take(n).collect();
    ids.extend((1..=n.saturating_sub(3) as i64).map(|k| 20000 + k));
    ids
}

// ---------------------------------------------------------------------------------------
// --users N

#[test]
fn seeding_is_deterministic_with_fixed_users_first_and_contiguous_generated_ids() {
    let first = start(with_users(1000));
    let second = start(with_users(1000));
    let a = walk(&mut Conn::open(first.addr()), "userId");
    let b = walk(&mut Conn::open(second.addr()), "userId");
    assert_eq!(a, b, "two starts seed identical users");
    assert_eq!(ids(&a), expected_ids(1000));

    // The formula of the README, for a few generated users.
    let user = |id: i64| {
        a.iter()
            .find(|u| u["userId"] == id)
            .expect("listed")
            .clone()
    };
    let u = user(20001);
    assert_eq!(
        (&u["firstName"], &u["lastName"], &u["company"], &u["email"]),
        (
            &Value::from("Ben"),
            &Value::from("Garcia"),
            &Value::from("Blue Harbor Networks"),
            &Value::from("ben.20001@example.com")
        )
    );
    assert_eq!(u["userType"], "Reseller");
    assert_eq!(u["createdCloudPbx"], 7);
    assert_eq!(u["pbxCreationLimit"], 9);
    let u = user(20997); // n = 997: 997 % 12 = 1, % 9 = 7, % 7 = 3, % 3 = 1 (reseller)
    assert_eq!(u["firstName"], "Ben");
    assert_eq!(u["lastName"], "Silva");
    assert_eq!(u["company"], "Delta Cloud PBX");
    assert_eq!(u["userType"], "Reseller");
    assert_eq!(u["createdCloudPbx"], (997 * 7) % 13);
    assert_eq!(u["pbxCreationLimit"], (997 * 7) % 13 + 997 % 5 + 1);
    assert_eq!(u["phone"], "+1 555 01997");
    assert_eq!(u["twoFactorAuthenticationEnable"], "disable");
    assert_eq!(user(20996)["userType"], "My Colleague");
    assert_eq!(user(20996)["pbxCreationLimit"], "");

    let resellers = a.iter().filter(|u| u["userType"] == "Reseller").count();
    let colleagues = a.iter().filter(|u| u["userType"] == "My Colleague").count();
    assert!(
        resellers > 600 && colleagues > 300,
        "{resellers} / {colleagues}"
    );
    assert!(a
        .iter()
        .any(|u| u["userType"] == "Reseller" && u["createdCloudPbx"].as_i64().expect("n") > 0));

    // The default seed is a prefix of any larger one: the same generated users.
    let default = start(MockConfig::default());
    let d = walk(&mut Conn::open(default.addr()), "userId");
    assert_eq!(d.len(), 120);
    assert_eq!(d[..], a[..120]);
}

#[test]
fn fewer_users_than_the_fixed_set_keeps_the_first_ones() {
    for (n, expected) in [
        (0, vec![]),
        (1, vec![13329]),
        (2, vec![13329, 13330]),
        (3, vec![13329, 13330, 13331]),
        (4, vec![13329, 13330, 13331, 20001]),
    ] {
        let srv = start(with_users(n));
        let mut conn = Conn::open(srv.addr());
        assert_eq!(ids(&walk(&mut conn, "userId")), expected, "--users {n}");
        let absent = if n < 3 { 13331 } else { 20000 + n as i64 - 2 };
        let v = conn.get(&format!("/dm/open_api/v1/users/{absent}"), STATIC_TOKEN);
        assert_eq!(
            v.json()["errcode"],
            20001,
            "{absent} is not seeded with {n}"
        );
    }
    let too_many = MockServer::start("127.0.0.1:0", with_users(ycm_mock::MAX_USERS + 1));
    assert_eq!(
        too_many.map(|_| ()).expect_err("refused").kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[test]
fn reset_reseeds_the_same_number_of_users() {
    let srv = start(with_users(500));
    let mut conn = Conn::open(srv.addr());
    let before = walk(&mut conn, "userId");
    success(&conn.put(20400, STATIC_TOKEN, r#"{"company": "Changed"}"#));
    assert_eq!(srv.user(20400).expect("user")["company"], "Changed");
    assert_eq!(conn.admin("POST", "/__mock/reset", "").status, 200);
    assert_eq!(walk(&mut conn, "userId"), before, "admin reset");
    success(&conn.put(20400, STATIC_TOKEN, r#"{"company": "Changed"}"#));
    srv.reset();
    assert_eq!(walk(&mut conn, "userId"), before, "MockServer::reset");
}

#[test]
fn other_sort_orders_stay_correct_across_updates_with_many_users() {
    let srv = start(with_users(2000));
    let mut conn = Conn::open(srv.addr());
    let by_id = walk(&mut conn, "userId");
    let descending = walk(&mut conn, "-userId");
    let mut reversed = by_id.clone();
    reversed.reverse();
    assert_eq!(descending, reversed);

    let by_company = walk(&mut conn, "company");
    let mut expected = by_id.clone();
    expected.sort_by(|a, b| {
        a["company"]
            .as_str()
            .cmp(&b["company"].as_str())
            .then(a["userId"].as_i64().cmp(&b["userId"].as_i64()))
    });
    assert_eq!(by_company, expected);
    // A change moves the user in the cached order.
    success(&conn.put(21500, STATIC_TOKEN, r#"{"company": "AAA first"}"#));
    let v = success(&conn.get(
        "/dm/open_api/v2/users?pageSize=1&sort=company",
        STATIC_TOKEN,
    ));
    assert_eq!(v["data"]["list"][0]["userId"], 21500);
    let v = success(&conn.get(
        "/dm/open_api/v2/users?pageSize=1&sort=-company",
        STATIC_TOKEN,
    ));
    assert_ne!(v["data"]["list"][0]["userId"], 21500);
}

#[test]
fn one_hundred_thousand_users_start_and_page_quickly() {
    const N: usize = 100_000;
    let started = Instant::now();
    let srv = start(with_users(N));
    let start_time = started.elapsed();
    let mut conn = Conn::open(srv.addr());

    let walked = Instant::now();
    let all = walk(&mut conn, "userId");
    let walk_time = walked.elapsed();
    let pages = N.div_ceil(50) + 1;
    assert_eq!(ids(&all), expected_ids(N));

    let sorted = Instant::now();
    for page in [1, 1000, 2000] {
        let path = format!("/dm/open_api/v2/users?pageSize=50&pageNumber={page}&sort=-email");
        assert_eq!(
            success(&conn.get(&path, STATIC_TOKEN))["data"]["list"]
                .as_array()
                .map(Vec::len),
            Some(50)
        );
    }
    let sorted_time = sorted.elapsed();

    let reset = Instant::now();
    srv.reset();
    let reset_time = reset.elapsed();
    println!(
        "figures (debug build unless --release): {N} users: start {start_time:?}; \
         full walk of {pages} pages of 50 by userId over one keep-alive connection \
         {walk_time:?} ({:?} per page); 3 pages sorted by -email (first one sorts) \
         {sorted_time:?}; reset {reset_time:?}",
        walk_time / pages as u32
    );
}

// ---------------------------------------------------------------------------------------
// The binary.

#[test]
fn the_binary_seeds_users_n_and_refuses_bad_values() {
    let (mut child, addr) = spawn_binary(&["--users", "7"]);
    let mut conn = Conn::open(addr);
    assert_eq!(ids(&walk(&mut conn, "userId")), expected_ids(7));
    child.kill().expect("kill");
    child.wait().expect("wait");

    for bad in ["1000001", "-1", "many"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
            .args(["--addr", "127.0.0.1:0", "--users", bad])
            .output()
            .expect("run ycm-mock");
        assert_eq!(out.status.code(), Some(2), "--users {bad}: {out:?}");
        assert!(out.stdout.is_empty());
    }
}

fn counts(map: &Value) -> BTreeMap<i64, u64> {
    map.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.parse().expect("id key"), v.as_u64().expect("count")))
        .collect()
}

// ---------------------------------------------------------------------------------------
// --rate-limit

fn limited(spec: &str) -> MockConfig {
    MockConfig {
        rate_limit: Some(spec.parse().expect("rate limit")),
        ..MockConfig::default()
    }
}

const USER: &str = "/dm/open_api/v1/users/13329";

/// Asserts the rate limiter's answer; returns the `Retry-After` seconds.
fn assert_429(resp: &Resp) -> u64 {
    assert_throttled(resp, 429)
}

/// Asserts the rate limiter's answer sent with HTTP `status` (429, or 200 in the `ok` error
/// style): errcode 1000040, `Retry-After`; returns its seconds.
fn assert_throttled(resp: &Resp, status: u16) -> u64 {
    assert_eq!(resp.status, status, "body: {}", resp.text());
    let v = resp.json();
    assert_eq!(v["status"], "Failed", "{v}");
    assert_eq!(v["errcode"], 1_000_040, "{v}");
    assert_eq!(v["errmsg"], "RATE_LIMIT_EXCEEDED", "{v}");
    assert_eq!(v["requestId"].as_str().map(str::len), Some(32), "{v}");
    assert!(v["time"].is_i64(), "{v}");
    let detail = v["detail"].as_str().expect("detail");
    assert!(detail.starts_with("rate limited"), "{detail}");
    assert!(
        !detail.contains(STATIC_TOKEN),
        "no secret in the message: {detail}"
    );
    resp.header("Retry-After")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds")
}

#[test]
fn a_burst_then_429_with_retry_after_and_a_failed_envelope() {
    let srv = start(limited("5/1/3")); // 5 at once, then one every 3 s
    let mut conn = Conn::open(srv.addr());
    for i in 0..5 {
        success(&conn.get(USER, STATIC_TOKEN));
        assert_eq!(srv.stats().rate_limited, 0, "request {i}");
    }
    let retry_after = assert_429(&conn.get(USER, STATIC_TOKEN));
    assert!((2..=3).contains(&retry_after), "rounded up: {retry_after}");
    assert_429(&conn.put(13329, STATIC_TOKEN, r#"{"remark": "x"}"#));
    assert_ne!(srv.user(13329).expect("user")["remark"], "x", "not applied");
    let stats = srv.stats();
    assert_eq!((stats.rate_limited, stats.requests), (2, 7));
    assert_eq!(stats.unauthorized, 0);

    // Admin requests never take a token and are never refused.
    for _ in 0..20 {
        assert_eq!(conn.admin("GET", "/__mock/stats", "").status, 200);
        assert_eq!(conn.admin("GET", "/__mock/users/13329", "").status, 200);
    }
    assert_eq!(srv.stats().requests, 7);
    // A bad token takes nothing: 401, not 429.
    assert_eq!(conn.get(USER, "not-a-token").status, 401);
    // The log has the 429s.
    let statuses: Vec<u16> = srv.log().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 401]);
}

#[test]
fn the_bucket_refills_at_rate_per_interval_and_never_above_burst() {
    let srv = start(limited("2/4/1")); // one token every 250 ms
    let mut conn = Conn::open(srv.addr());
    success(&conn.get(USER, STATIC_TOKEN));
    success(&conn.get(USER, STATIC_TOKEN));
    assert_eq!(
        assert_429(&conn.get(USER, STATIC_TOKEN)),
        1,
        "250 ms, rounded up to 1 s"
    );
    std::thread::sleep(Duration::from_millis(300));
    success(&conn.get(USER, STATIC_TOKEN));
    assert_429(&conn.get(USER, STATIC_TOKEN));
    // Long idle: the bucket holds `burst`, not more.
    std::thread::sleep(Duration::from_millis(1200));
    success(&conn.get(USER, STATIC_TOKEN));
    success(&conn.get(USER, STATIC_TOKEN));
    assert_429(&conn.get(USER, STATIC_TOKEN));
    assert_eq!(srv.stats().rate_limited, 3);
}

#[test]
fn buckets_are_per_client_and_the_token_endpoint_is_limited_too() {
    let srv = start(limited("3/1/60"));
    let mut conn = Conn::open(srv.addr());
    // The static token's bucket.
    for _ in 0..3 {
        success(&conn.get(USER, STATIC_TOKEN));
    }
    assert_429(&conn.get(USER, STATIC_TOKEN));
    // The OAuth client's bucket is untouched: the token request takes one of its 3 ...
    let pair = conn.token();
    assert_eq!(pair.status, 200, "{}", pair.text());
    let access = pair.json()["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    // ... and requests with the issued token share it with the token endpoint.
    success(&conn.get(USER, &access));
    success(&conn.get(USER, &access));
    assert_429(&conn.get(USER, &access));
    assert_429(&conn.token());
    assert_429(&conn.get(USER, STATIC_TOKEN));
    assert_eq!(srv.stats().rate_limited, 4);
}

#[test]
fn a_grant_counts_against_the_bucket_of_the_client_id_in_its_form() {
    let srv = start(limited("2/1/60"));
    let mut conn = Conn::open(srv.addr());
    let form = [
        ("User-Agent", UA),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let grant =
        |conn: &mut Conn, body: &str| conn.send("POST", "/dm/open_api/oauth/token", &form, body);
    let pair = success_token(&conn.token());
    success_token(&conn.token());
    // The client's bucket is empty: its grants, refresh grants (which name no client) and
    // calls with its tokens are throttled.
    assert_429(&conn.token());
    let refresh = format!("grant_type=refresh_token&refresh_token={}", pair.1);
    assert_429(&grant(&mut conn, &refresh));
    assert_429(&conn.get(USER, &pair.0));
    // A grant naming another client id draws from that id's bucket (and is refused as an
    // unknown client), until that bucket is empty too.
    let other = "grant_type=client_credentials&client_id=other&client_secret=x";
    for _ in 0..2 {
        assert_eq!(grant(&mut conn, other).json()["errcode"], 1_000_033);
    }
    assert_429(&grant(&mut conn, other));
    // The static token keeps a bucket of its own.
    success(&conn.get(USER, STATIC_TOKEN));
    let stats = srv.stats();
    assert_eq!((stats.rate_limited, stats.refused_grants), (4, 5));
    assert_eq!(stats.token_grants, 2);
}

#[test]
fn in_the_ok_error_style_a_throttled_answer_is_http_200_with_retry_after() {
    let srv = start(MockConfig {
        error_style: ycm_mock::ErrorStyle::Ok,
        ..limited("1/1/60")
    });
    let mut conn = Conn::open(srv.addr());
    success(&conn.get(USER, STATIC_TOKEN));
    assert_eq!(assert_throttled(&conn.get(USER, STATIC_TOKEN), 200), 60);
    success_token(&conn.token());
    assert_eq!(assert_throttled(&conn.token(), 200), 60);
    // Switched at run time: 429 again.
    srv.set_error_style(ycm_mock::ErrorStyle::Http);
    assert_429(&conn.get(USER, STATIC_TOKEN));
    let stats = srv.stats();
    assert_eq!((stats.rate_limited, stats.refused_grants), (3, 1));
    let statuses: Vec<u16> = srv.log().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 429]);
}

#[test]
fn the_limit_is_set_read_switched_off_and_reset_at_run_time() {
    let srv = start(limited("2/1/60"));
    let mut conn = Conn::open(srv.addr());
    let current = conn.admin("GET", "/__mock/rate-limit", "").json();
    assert_eq!(
        current,
        serde_json::json!({"burst": 2, "rate": 1, "interval_s": 1.0 * 60.0})
    );
    success(&conn.get(USER, STATIC_TOKEN));
    success(&conn.get(USER, STATIC_TOKEN));
    assert_429(&conn.get(USER, STATIC_TOKEN));

    // Off: everything passes.
    assert_eq!(conn.admin("POST", "/__mock/rate-limit", "null").status, 200);
    assert_eq!(
        conn.admin("GET", "/__mock/rate-limit", "").json(),
        Value::Null
    );
    assert_eq!(srv.rate_limit(), None);
    for _ in 0..10 {
        success(&conn.get(USER, STATIC_TOKEN));
    }
    // A new limit through the admin interface, object or string form; buckets start full.
    let set = conn.admin(
        "POST",
        "/__mock/rate-limit",
        r#"{"burst": 1, "rate": 1, "interval_s": 60}"#,
    );
    assert_eq!(set.status, 200, "{}", set.text());
    success(&conn.get(USER, STATIC_TOKEN));
    assert_eq!(assert_429(&conn.get(USER, STATIC_TOKEN)), 60);
    assert_eq!(
        conn.admin("POST", "/__mock/rate-limit", r#""3/1/60""#)
            .status,
        200
    );
    assert_eq!(srv.rate_limit(), Some("3/1/60".parse().expect("spec")));
    for bad in [
        "{nope",
        r#"{"burst": 0, "rate": 1, "interval_s": 1}"#,
        r#""1/1""#,
        "5",
    ] {
        let resp = conn.admin("POST", "/__mock/rate-limit", bad);
        assert_eq!(resp.status, 400, "{bad}: {}", resp.text());
    }
    assert_eq!(
        srv.rate_limit(),
        Some("3/1/60".parse().expect("spec")),
        "unchanged"
    );
    // The Rust API.
    srv.set_rate_limit(Some(
        RateLimit::new(1, 1, Duration::from_secs(60)).expect("limit"),
    ));
    success(&conn.get(USER, STATIC_TOKEN));
    assert_429(&conn.get(USER, STATIC_TOKEN));
    // A reset restores the configured limit with full buckets and clears the counter.
    assert_eq!(conn.admin("POST", "/__mock/reset", "").status, 200);
    assert_eq!(srv.rate_limit(), Some("2/1/60".parse().expect("spec")));
    assert_eq!(srv.stats().rate_limited, 0);
    success(&conn.get(USER, STATIC_TOKEN));
    success(&conn.get(USER, STATIC_TOKEN));
    assert_429(&conn.get(USER, STATIC_TOKEN));
    // And with no configured limit, a reset switches a run-time one off.
    let unlimited = start(MockConfig::default());
    unlimited.set_rate_limit(Some("1/1/60".parse().expect("spec")));
    unlimited.reset();
    assert_eq!(unlimited.rate_limit(), None);
}

// ---------------------------------------------------------------------------------------
// Per-user PUT counters

#[test]
fn puts_and_applied_updates_are_counted_per_user() {
    let srv = start(with_users(1000));
    let mut conn = Conn::open(srv.addr());
    success(&conn.put(13329, STATIC_TOKEN, r#"{"remark": "one"}"#));
    success(&conn.put(13329, STATIC_TOKEN, r#"{"remark": "two"}"#));
    success(&conn.put(20999 - 3, STATIC_TOKEN, r#"{"company": "Big"}"#));
    // Refused PUTs are sent but not applied.
    assert_eq!(
        conn.put(13330, STATIC_TOKEN, r#"{"nickname": "x"}"#).json()["errcode"],
        10002
    );
    assert_eq!(
        conn.put(13330, STATIC_TOKEN, r#"{"pbxCreationLimit": 5}"#)
            .json()["errcode"],
        20003
    );
    assert_eq!(
        conn.put(99999, STATIC_TOKEN, r#"{"remark": "x"}"#).json()["errcode"],
        20001
    );
    assert_eq!(
        conn.put(13331, "bad-token", r#"{"remark": "x"}"#).status,
        401
    );
    // Reads and other paths are not PUTs.
    success(&conn.get(USER, STATIC_TOKEN));
    assert_eq!(
        conn.send(
            "PUT",
            "/dm/open_api/v1/users/abc",
            &[("User-Agent", UA)],
            ""
        )
        .status,
        401
    );

    let expected_puts =
        BTreeMap::from([(13329, 2), (13330, 2), (13331, 1), (20996, 1), (99999, 1)]);
    let expected_updates = BTreeMap::from([(13329, 2), (20996, 1)]);
    assert_eq!(srv.puts_by_user(), expected_puts);
    assert_eq!(srv.updates_by_user(), expected_updates);
    assert_eq!((srv.puts_of(13329), srv.updates_of(13329)), (2, 2));
    assert_eq!((srv.puts_of(13330), srv.updates_of(13330)), (2, 0));
    assert_eq!((srv.puts_of(20001), srv.updates_of(20001)), (0, 0));

    let all = conn.admin("GET", "/__mock/updates", "").json();
    assert_eq!(counts(&all["puts_by_user"]), expected_puts);
    assert_eq!(counts(&all["updates_by_user"]), expected_updates);
    assert_eq!(
        conn.admin("GET", "/__mock/updates/13330", "").json(),
        serde_json::json!({"userId": 13330, "puts": 2, "updates": 0})
    );
    assert_eq!(
        conn.admin("GET", "/__mock/updates/20001", "").json(),
        serde_json::json!({"userId": 20001, "puts": 0, "updates": 0})
    );
    assert_eq!(conn.admin("GET", "/__mock/updates/x", "").status, 404);
    let stats = srv.stats();
    assert_eq!(
        stats.update_user, 8,
        "every PUT request, the bad path included"
    );

    srv.reset();
    assert!(srv.puts_by_user().is_empty() && srv.updates_by_user().is_empty());
    assert_eq!(
        conn.admin("GET", "/__mock/updates", "").json(),
        serde_json::json!({"puts_by_user": {}, "updates_by_user": {}})
    );
}

#[test]
fn rate_limited_and_faulted_puts_count_as_sent_not_applied() {
    let srv = start(limited("2/1/60"));
    let mut conn = Conn::open(srv.addr());
    success(&conn.put(13329, STATIC_TOKEN, r#"{"remark": "a"}"#));
    srv.set_faults(ycm_mock::Faults {
        fail_next: 1,
        fail_status: 503,
        ..ycm_mock::Faults::default()
    });
    assert_eq!(
        conn.put(13329, STATIC_TOKEN, r#"{"remark": "b"}"#).status,
        503
    );
    success(&conn.put(13329, STATIC_TOKEN, r#"{"remark": "c"}"#));
    assert_429(&conn.put(13329, STATIC_TOKEN, r#"{"remark": "d"}"#));
    assert_eq!((srv.puts_of(13329), srv.updates_of(13329)), (4, 2));
    assert_eq!(srv.user(13329).expect("user")["remark"], "c");
}

#[test]
fn the_binary_applies_its_rate_limit_and_refuses_a_bad_one() {
    let (mut child, addr) = spawn_binary(&["--users", "5", "--rate-limit", "2/1/60"]);
    let mut conn = Conn::open(addr);
    let v = success(&conn.get("/dm/open_api/v2/users?pageSize=50", STATIC_TOKEN));
    assert_eq!(v["data"]["total"], 5);
    success(&conn.put(20002, STATIC_TOKEN, r#"{"remark": "x"}"#));
    assert_429(&conn.get(USER, STATIC_TOKEN));
    let all = conn.admin("GET", "/__mock/updates", "").json();
    assert_eq!(
        counts(&all["updates_by_user"]),
        BTreeMap::from([(20002, 1)])
    );
    assert_eq!(
        conn.admin("GET", "/__mock/stats", "").json()["rate_limited"],
        1
    );
    child.kill().expect("kill");
    child.wait().expect("wait");

    for bad in ["50/100", "0/1/1", "1/1/0", "a/b/c"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
            .args(["--addr", "127.0.0.1:0", "--rate-limit", bad])
            .output()
            .expect("run ycm-mock");
        assert_eq!(out.status.code(), Some(2), "--rate-limit {bad}: {out:?}");
    }
}
