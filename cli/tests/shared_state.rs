//! The `ycm` binary's host scope, the CLI's default: separate invocations share one token
//! grant, a refused secret is latched so a run of cron calls makes one failed grant, `auth
//! status` and `auth reset` show and clear the shared entry, and a granting process killed
//! with SIGKILL does not hold the others back.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use ycm_mock::{MockConfig, MockServer};

const CLIENT_ID: &str = "ycm-mock-client";
const CLIENT_SECRET: &str = "ycm-mock-secret";

struct Setup {
    mock: MockServer,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(config: MockConfig) -> Setup {
        Setup {
            mock: MockServer::start(
                "127.0.0.1:0",
                MockConfig {
                    access_token: None,
                    ..config
                },
            )
            .expect("mock starts"),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// `ycm` with the mock's URL and client credentials (`secret`) in the environment, a
    /// HOME of its own (so the state directory is `HOME/.cache/ycm`), stdin not a terminal.
    fn ycm(&self, secret: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ycm"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("YCM_BASE_URL", self.mock.url())
            .env("YCM_CLIENT_ID", CLIENT_ID)
            .env("YCM_CLIENT_SECRET", secret)
            .stdin(Stdio::null());
        command
    }
}

fn run(command: &mut Command) -> (i32, String, String) {
    let out = command.output().expect("ycm runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn update(s: &Setup, secret: &str, company: &str) -> (i32, String, String) {
    run(s
        .ycm(secret)
        .args(["users", "update", "13329", "--company", company]))
}

#[test]
fn thirty_cli_calls_make_one_grant() {
    let s = Setup::new(MockConfig::default());
    for i in 0..30 {
        let (code, _, err) = update(&s, CLIENT_SECRET, &format!("c{i}"));
        assert_eq!(code, 0, "{err}");
    }
    assert_eq!(s.mock.stats().token_grants, 1, "{:?}", s.mock.stats());
    // In process scope each invocation grants its own.
    let (code, _, err) =
        run(s
            .ycm(CLIENT_SECRET)
            .args(["--shared-state", "process", "users", "get", "13329"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.mock.stats().token_grants, 2);
}

#[test]
fn the_scope_comes_from_the_flag_then_ycm_shared_state_then_the_host_default() {
    let s = Setup::new(MockConfig::default());
    let get = |scope_env: Option<&str>, flag: Option<&str>| {
        let mut command = s.ycm(CLIENT_SECRET);
        if let Some(scope) = scope_env {
            command.env("YCM_SHARED_STATE", scope);
        }
        if let Some(scope) = flag {
            command.args(["--shared-state", scope]);
        }
        let (code, _, err) = run(command.args(["users", "get", "13329"]));
        assert_eq!(code, 0, "{err}");
        s.mock.stats().token_grants
    };
    assert_eq!(get(None, None), 1, "host by default: the first call grants");
    assert_eq!(get(None, None), 1, "and the next one shares it");
    assert_eq!(
        get(Some("process"), None),
        2,
        "YCM_SHARED_STATE=process grants its own"
    );
    assert_eq!(
        get(Some("process"), Some("host")),
        2,
        "the flag wins over the environment"
    );
    let (code, _, err) = run(s
        .ycm(CLIENT_SECRET)
        .env("YCM_SHARED_STATE", "cluster")
        .args(["users", "get", "13329"]));
    assert_eq!(code, 2, "a bad scope is bad input: {err}");
    assert!(err.contains("shared_state"), "{err}");
}

#[test]
fn a_wrong_secret_across_ten_calls_makes_one_failed_grant_and_the_right_one_works_at_once() {
    let s = Setup::new(MockConfig::default());
    for i in 0..10 {
        let (code, _, err) = update(&s, "rotated-away", "x");
        assert_eq!(code, 4, "call {i}: {err}");
        if i > 0 {
            assert!(err.contains("were refused at"), "call {i}: {err}");
            assert!(err.contains("ycm auth reset"), "call {i}: {err}");
        }
        assert!(
            !err.contains("rotated-away"),
            "the secret is never shown: {err}"
        );
    }
    assert_eq!(s.mock.stats().refused_grants, 1);
    let (code, _, err) = update(&s, CLIENT_SECRET, "fixed");
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.mock.user(13329).unwrap()["company"], "fixed");
}

#[test]
fn auth_status_shows_the_shared_entry_and_auth_reset_clears_it() {
    let s = Setup::new(MockConfig::default());
    assert_eq!(update(&s, CLIENT_SECRET, "a").0, 0);
    let (code, out, err) = run(s
        .ycm(CLIENT_SECRET)
        .args(["auth", "status", "--output", "json"]));
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert!(
        status["sharedState"]
            .as_str()
            .unwrap()
            .starts_with("host ("),
        "{status}"
    );
    assert!(
        status["tokenExpiresInS"].as_i64().unwrap() > 1000,
        "{status}"
    );
    assert_eq!(status["grants"], 1);
    assert!(!out.contains(CLIENT_SECRET));
    assert_eq!(run(s.ycm(CLIENT_SECRET).args(["auth", "reset"])).0, 0);
    let (_, out, _) = run(s
        .ycm(CLIENT_SECRET)
        .args(["auth", "status", "--output", "json"]));
    let status: Value = serde_json::from_str(&out).unwrap();
    assert!(status["tokenExpiresInS"].is_null(), "{status}");
    assert_eq!(update(&s, CLIENT_SECRET, "b").0, 0);
    assert_eq!(
        s.mock.stats().token_grants,
        2,
        "a reset makes the next call grant"
    );
    assert_eq!(
        s.mock.stats().token_requests,
        2,
        "status and reset send nothing"
    );
}

#[test]
fn a_granting_process_killed_with_sigkill_does_not_hold_the_others_back() {
    // Every request takes a second: the first process takes the grant lease and is killed
    // while its grant is on its way.
    let s = Setup::new(MockConfig {
        latency: Duration::from_millis(1000),
        ..MockConfig::default()
    });
    let mut holder = s
        .ycm(CLIENT_SECRET)
        .args(["users", "get", "13329"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let state_dir = s.dir.path().join(".cache/ycm");
    let leased = Instant::now();
    while !std::fs::read_dir(&state_dir).is_ok_and(|mut d| d.next().is_some()) {
        assert!(leased.elapsed() < Duration::from_secs(10), "no state file");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    holder.kill().unwrap();
    holder.wait().unwrap();
    let started = Instant::now();
    let (code, _, err) = run(s.ycm(CLIENT_SECRET).args(["users", "get", "13329"]));
    assert_eq!(code, 0, "{err}");
    // Its own grant and read take about 2 s; the dead holder's lease (up to 30 s) does not
    // count.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[path = "../../tests/common/redis.rs"]
mod redis_server;

/// `ycm` on "host" `n`: a HOME (so a host-scope state directory) of its own, the Redis scope
/// from YCM_SHARED_STATE.
fn on_host(s: &Setup, n: usize, secret: &str, redis_url: &str) -> Command {
    let home = s.dir.path().join(format!("host{n}"));
    std::fs::create_dir_all(&home).unwrap();
    let mut command = s.ycm(secret);
    command.env("HOME", home).env("YCM_SHARED_STATE", redis_url);
    command
}

#[test]
fn a_fleet_on_redis_makes_one_grant_and_one_failed_grant_and_outlives_redis() {
    let Some(mut redis) = redis_server::RedisServer::start(Default::default()) else {
        return;
    };
    let s = Setup::new(MockConfig::default());
    let url = redis.url();
    // Two hosts x 4 processes at once.
    let children: Vec<_> = (0..8)
        .map(|i| {
            on_host(&s, i % 2, CLIENT_SECRET, &url)
                .args(["users", "update", "13329", "--company", &format!("c{i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(s.mock.stats().token_grants, 1, "{:?}", s.mock.stats());

    let (code, out, err) =
        run(on_host(&s, 1, CLIENT_SECRET, &url).args(["auth", "status", "--output", "json"]));
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["sharedState"], format!("redis ({url})"), "{status}");
    assert_eq!(status["grants"], 1);

    for i in 0..6 {
        let (code, _, err) = run(on_host(&s, i % 2, "rotated-away", &url).args([
            "users",
            "update",
            "13329",
            "--company",
            "x",
        ]));
        assert_eq!(code, 4, "call {i}: {err}");
        if i > 0 {
            assert!(err.contains("redis (redis://127.0.0.1:"), "call {i}: {err}");
        }
    }
    assert_eq!(s.mock.stats().refused_grants, 1, "{:?}", s.mock.stats());
    assert_eq!(
        run(on_host(&s, 0, "rotated-away", &url).args(["auth", "reset"])).0,
        0
    );

    // Redis gone: calls go on in process scope, with one warning each; back: rejoined.
    redis.kill();
    let (code, _, err) = run(on_host(&s, 0, CLIENT_SECRET, &url).args([
        "users",
        "update",
        "13329",
        "--company",
        "no redis",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("going on in process scope"), "{err}");
    redis.restart();
    let (code, _, err) = run(on_host(&s, 1, CLIENT_SECRET, &url).args([
        "users",
        "update",
        "13329",
        "--company",
        "back",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("process scope"), "{err}");
    let (_, out, _) =
        run(on_host(&s, 1, CLIENT_SECRET, &url).args(["auth", "status", "--output", "json"]));
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        status["grants"], 1,
        "the restarted server holds the new grant: {status}"
    );
}
