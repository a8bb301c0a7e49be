//! End-to-end tests of the ycm-mock additions for bulk work, over real loopback HTTP with
//! keep-alive connections: `--users N` seeding (deterministic, contiguous generated ids, the
//! same after a reset, fast list paging at 100,000 users with the figures printed),
//! `--rate-limit` (YCM's token bucket per client: burst, 429 with `Retry-After` and a Failed
//! envelope, refill, separate buckets, admin requests exempt, runtime setting and reset) and
//! the per-user PUT counters, through the library and through the binary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::http::{read_response, Resp};
use ycm_mock::{MockConfig, MockServer};

mod support {
    pub mod http;
}

const UA: &str = "ycm-mock-bulk-tests/1.0";
const STATIC_TOKEN: &str = "ycm-mock-token";
#[allow(dead_code)] // the rate-limit tests use it
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

    #[allow(dead_code)] // the rate-limit tests use it
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

/// Starts the binary with `args`, returns it and its address.
fn spawn_binary(args: &[&str]) -> (std::process::Child, SocketAddr) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0", "--quiet"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    (child, ([127, 0, 0, 1], port).into())
}

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

#[allow(dead_code)]
fn counts(map: &Value) -> BTreeMap<String, u64> {
    map.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect()
}
