//! `make bench-fleet`: one client ID shared by many processes, each figure against its own
//! ycm-mock (issue 16). The program is its own worker: `bench_fleet worker ...` runs one
//! process of a fleet and prints what it saw as one JSON line.
//!
//! 1. fleet: 8 processes x 200 updates with client credentials, host scope, against
//!    `--rate-limit 50/25/1`, `rate_limit` not set (learned) and set to the server's: failed
//!    calls, token grants, 429s, total time against the ideal ((requests - burst) / rate).
//! 2. sync: plan + apply of 300 changed users against `--rate-limit 20/50/1`, one run, then
//!    4 concurrent runs (processes) of 75 each sharing the client ID: time against the ideal.
//! 3. token: a 4 s token at `--rate-limit 1/1/1`, 20 updates: responses 401.
//! 4. cost: CPU per call of host scope against process scope (no rate limit), paired rounds.
//! 5. redis: 2 simulated hosts (each its own `state_dir` and `HOME`) x 4 processes x 200
//!    updates on one redis-server against `--rate-limit 50/25/1`, `rate_limit` learned and
//!    set: failed calls, grants, 429s, total time against the ideal.
//! 6. redis-outage: the same fleet with Redis killed 3 s in and started again (empty) 10 s
//!    later: failed calls and the 429s the outage causes.
//! 7. redis-cost: CPU and wall time per call of the Redis scope against the host scope,
//!    paired rounds, open and configured gate.
//!
//! Usage: cargo run --release --example bench_fleet -- PATH/TO/ycm-mock [SCENARIO...]
//! (scenarios: fleet, sync, token, cost, redis, redis-outage, redis-cost; all by default;
//! the Redis ones need `redis-server`). FLEET_ROUNDS (default 3) runs
//! each figure that many times and prints the median. Prints one line per figure.

use std::process::{Child, Command, Stdio};
use std::time::Instant;
use ycm::sync::{apply, parse_records, ApplyOptions, Control, Format, Outcome, Plan};
use ycm::{Client, Code, UserUpdate};

const CLIENT_ID: &str = "ycm-mock-client";
const CLIENT_SECRET: &str = "ycm-mock-secret";

#[path = "support/mock_process.rs"]
mod mock_process;
use mock_process::Mock;

#[path = "../tests/common/redis.rs"]
mod redis_server;
use redis_server::{RedisOptions, RedisServer};

/// A client of the mock with client credentials; `scope` is `process`, `host` (in
/// `state_dir`) or a Redis URL, `rate_limit` the client ID's budget if set.
fn client(url: &str, scope: &str, state_dir: &str, rate_limit: Option<&str>) -> Client {
    let mut config = serde_json::json!({
        "base_url": url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "shared_state": scope,
        "timeout_ms": 120_000,
    });
    if scope == "host" {
        config["state_dir"] = state_dir.into();
    }
    if let Some(limit) = rate_limit {
        config["rate_limit"] = limit.into();
    }
    Client::from_json(&config.to_string()).expect("client")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn rounds() -> usize {
    std::env::var("FLEET_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1)
}

fn state_dir() -> tempfile_dir::Dir {
    tempfile_dir::Dir::new()
}

/// A private temporary directory, removed on drop (no dependency for one directory).
mod tempfile_dir {
    use std::os::unix::fs::DirBuilderExt;

    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("ycm-fleet-{}", fastrand::u64(..)));
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&path)
                .expect("state dir");
            Dir(path)
        }

        pub fn text(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// With FLEET_TRACE set, a worker prints every request's record on stderr (seconds since it
/// started, method, path, status, ms, attempt, message).
fn trace_if_asked() {
    if std::env::var_os("FLEET_TRACE").is_none() {
        return;
    }
    let started = Instant::now();
    ycm::logging::set_sink(Some(ycm::logging::Sink {
        min_level: ycm::logging::Level::Debug,
        receive: Box::new(move |r| {
            eprintln!(
                "{:8.3} {} {} {} {} #{} {}",
                started.elapsed().as_secs_f64(),
                r.method,
                r.path,
                r.http_status,
                r.elapsed.as_millis(),
                r.attempt,
                r.message
            )
        }),
    }));
}

/// `worker URL SCOPE STATE_DIR RATE_LIMIT|- COUNT`: COUNT updates, then one JSON line.
fn worker(args: &[String]) {
    let [url, scope, dir, limit, count] = args else {
        panic!("worker URL SCOPE STATE_DIR RATE_LIMIT|- COUNT");
    };
    let limit = (limit != "-").then_some(limit.as_str());
    trace_if_asked();
    let client = client(url, scope, dir, limit);
    let count: usize = count.parse().expect("count");
    let (mut ok, mut failed) = (0, 0);
    let mut codes = std::collections::BTreeMap::<String, u64>::new();
    let started = Instant::now();
    for i in 0..count {
        let update = UserUpdate::new().remark(format!("fleet {} {i}", std::process::id()));
        match client.update_user(13329, &update) {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                *codes.entry(e.code().name().to_string()).or_default() += 1;
            }
        }
    }
    println!(
        "{}",
        serde_json::json!({"ok": ok, "failed": failed, "codes": codes, "seconds": started.elapsed().as_secs_f64()})
    );
}

/// Runs `processes` workers at once in `scope`, worker `i` on host `dirs[i % dirs.len()]`
/// (its `state_dir` and `HOME`); their JSON lines.
fn fleet_of(
    processes: usize,
    url: &str,
    scope: &str,
    dirs: &[&str],
    limit: Option<&str>,
    count: usize,
) -> Vec<serde_json::Value> {
    let me = std::env::current_exe().expect("own path");
    let children: Vec<Child> = (0..processes)
        .map(|i| {
            let dir = dirs[i % dirs.len()];
            Command::new(&me)
                .args(["worker", url, scope, dir, limit.unwrap_or("-")])
                .arg(count.to_string())
                .env("HOME", dir)
                .stdout(Stdio::piped())
                .spawn()
                .expect("worker starts")
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("worker ends");
            serde_json::from_slice(&out.stdout).expect("worker JSON")
        })
        .collect()
}

/// One fleet of 8 processes x 200 updates against a fresh `--rate-limit 50/25/1` mock, with
/// `during` run on the side while it works; its ratio to the ideal and a line of figures.
fn fleet_run(
    bin: &str,
    scope: &str,
    dirs: &[&str],
    limit: Option<&str>,
    during: impl FnOnce() + Send,
) -> (f64, String) {
    let mock = Mock::start(bin, &["--no-static-token", "--rate-limit", "50/25/1"]);
    let started = Instant::now();
    let results = std::thread::scope(|s| {
        s.spawn(during);
        fleet_of(8, &mock.url, scope, dirs, limit, 200)
    });
    let took = started.elapsed().as_secs_f64();
    let failed: u64 = results
        .iter()
        .map(|r| r["failed"].as_u64().unwrap_or(0))
        .sum();
    let requests = mock.stat("requests");
    let throttled = mock.stat("rate_limited");
    let grants = mock.stat("token_grants");
    let ideal = (requests.saturating_sub(throttled) as f64 - 50.0) / 25.0;
    let line = format!(
        "{took:.1} s (ideal {ideal:.1} s, {:.3}x), failed {failed}, grants {grants}, 429s {throttled} of {requests} requests ({:.1}%)",
        took / ideal,
        100.0 * throttled as f64 / requests as f64
    );
    (took / ideal, line)
}

fn fleet(bin: &str) {
    for limit in [None, Some("50/25/1")] {
        let (mut ratios, mut lines) = (Vec::new(), Vec::new());
        for _ in 0..rounds() {
            let dir = state_dir();
            let (ratio, line) = fleet_run(bin, "host", &[&dir.text()], limit, || {});
            ratios.push(ratio);
            lines.push(line);
        }
        println!(
            "fleet: 8 processes x 200 updates, host scope, server 50/25/1, rate_limit {}: median ratio {:.3}x; runs: {}",
            limit.unwrap_or("not set"),
            median(ratios),
            lines.join("; ")
        );
    }
}

fn redis_or_skip() -> Option<RedisServer> {
    let server = RedisServer::start(RedisOptions::default());
    if server.is_none() {
        println!("redis: skipped, no redis-server");
    }
    server
}

fn redis(bin: &str) {
    let Some(redis) = redis_or_skip() else { return };
    for limit in [None, Some("50/25/1")] {
        let (mut ratios, mut lines) = (Vec::new(), Vec::new());
        for _ in 0..rounds() {
            redis.cli(&["FLUSHALL"]);
            let hosts = [state_dir(), state_dir()];
            let dirs = [hosts[0].text(), hosts[1].text()];
            let dirs = [dirs[0].as_str(), dirs[1].as_str()];
            let (ratio, line) = fleet_run(bin, &redis.url(), &dirs, limit, || {});
            ratios.push(ratio);
            lines.push(line);
        }
        println!(
            "redis: 2 hosts x 4 processes x 200 updates, one Redis, server 50/25/1, rate_limit {}: median ratio {:.3}x; runs: {}",
            limit.unwrap_or("not set"),
            median(ratios),
            lines.join("; ")
        );
    }
}

fn redis_outage(bin: &str) {
    let Some(redis) = redis_or_skip() else { return };
    let redis = std::sync::Mutex::new(redis);
    for limit in [Some("50/25/1"), None] {
        let hosts = [state_dir(), state_dir()];
        let dirs = [hosts[0].text(), hosts[1].text()];
        let dirs = [dirs[0].as_str(), dirs[1].as_str()];
        let url = redis.lock().unwrap().url();
        let (_, line) = fleet_run(bin, &url, &dirs, limit, || {
            std::thread::sleep(std::time::Duration::from_secs(3));
            redis.lock().unwrap().kill();
            std::thread::sleep(std::time::Duration::from_secs(10));
            redis.lock().unwrap().restart();
        });
        println!(
            "redis-outage: the same fleet, Redis killed at 3 s and back (empty) at 13 s, rate_limit {}: {line}",
            limit.unwrap_or("not set"),
        );
    }
}

fn redis_cost(bin: &str) {
    let Some(redis) = redis_or_skip() else { return };
    let mock = Mock::start(bin, &["--no-static-token"]);
    let dir = state_dir();
    let calls = 2000;
    for limit in [None, Some("1000000/1000000/1")] {
        let (mut cpu, mut wall, mut lines) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds().max(5) {
            let mut per_call = [(0.0, 0.0); 2];
            for (i, scope) in ["host".to_string(), redis.url()].iter().enumerate() {
                let client = client(&mock.url, scope, &dir.text(), limit);
                client.get_user(13329).expect("warm up");
                let (before, started) = (cpu_us(), Instant::now());
                for _ in 0..calls {
                    client
                        .update_user(13329, &UserUpdate::new().remark("cost"))
                        .expect("update");
                }
                per_call[i] = (
                    (cpu_us() - before) / calls as f64,
                    started.elapsed().as_secs_f64() * 1e6 / calls as f64,
                );
            }
            cpu.push(per_call[1].0 / per_call[0].0);
            wall.push(per_call[1].1 / per_call[0].1);
            lines.push(format!(
                "CPU {:.0}/{:.0} us, wall {:.0}/{:.0} us",
                per_call[0].0, per_call[1].0, per_call[0].1, per_call[1].1
            ));
        }
        println!(
            "redis-cost: per update (client side), host/redis scope, rate_limit {}: median redis/host CPU {:.2}x, wall {:.2}x; rounds: {}",
            limit.unwrap_or("not set"),
            median(cpu),
            median(wall),
            lines.join("; ")
        );
    }
}

/// Records for users 20001..: `changed` of them get a new remark.
fn records(first: usize, changed: usize, tag: &str) -> String {
    let mut text = String::from("userId,remark\n");
    for i in first..first + changed {
        text.push_str(&format!("{},bench fleet {tag} {i}\n", 20001 + i));
    }
    text
}

/// `sync URL STATE_DIR FIRST COUNT TAG RATE_LIMIT|-`: plan + apply of COUNT changed users;
/// prints seconds.
fn sync_worker(args: &[String]) {
    let [url, dir, first, count, tag, limit] = args else {
        panic!("sync URL STATE_DIR FIRST COUNT TAG RATE_LIMIT|-");
    };
    let limit = (limit != "-").then_some(limit.as_str());
    trace_if_asked();
    let client = client(url, "host", dir, limit);
    let input = records(first.parse().unwrap(), count.parse().unwrap(), tag);
    let records = parse_records(input.as_bytes(), Format::Csv).expect("records");
    let started = Instant::now();
    let plan = Plan::build(&client, &records, None).expect("plan");
    let report = apply(&client, &plan, &ApplyOptions::default(), |_| {
        Control::Continue
    })
    .expect("apply");
    let updated = report.counts().get(&Outcome::Updated).copied().unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({"seconds": started.elapsed().as_secs_f64(), "updated": updated})
    );
}

fn sync(bin: &str) {
    for limit in [Some("20/50/1"), None] {
        sync_with(bin, limit);
    }
}

fn sync_with(bin: &str, limit: Option<&str>) {
    let me = std::env::current_exe().expect("own path");
    let (mut one_time, mut one_ratio, mut four_time) = (Vec::new(), Vec::new(), Vec::new());
    let mut lines = Vec::new();
    for round in 0..rounds() {
        for runs in [1usize, 4] {
            let mock = Mock::start(
                bin,
                &[
                    "--no-static-token",
                    "--users",
                    "400",
                    "--rate-limit",
                    "20/50/1",
                ],
            );
            let dir = state_dir();
            let started = Instant::now();
            let children: Vec<Child> = (0..runs)
                .map(|run| {
                    let each = 300 / runs;
                    Command::new(&me)
                        .args(["sync", &mock.url, &dir.text()])
                        .arg((run * each).to_string())
                        .arg(each.to_string())
                        .arg(format!("r{round}"))
                        .arg(limit.unwrap_or("-"))
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("sync starts")
                })
                .collect();
            let updated: u64 = children
                .into_iter()
                .map(|c| {
                    let out = c.wait_with_output().expect("sync ends");
                    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
                    v["updated"].as_u64().unwrap_or(0)
                })
                .sum();
            let took = started.elapsed().as_secs_f64();
            let requests = mock.stat("requests") - mock.stat("rate_limited");
            let ideal = (requests as f64 - 20.0) / 50.0;
            lines.push(format!(
                "{runs} run(s): {took:.2} s, ideal {ideal:.2} s ({:.3}x), updated {updated}, 429s {}",
                took / ideal,
                mock.stat("rate_limited")
            ));
            if runs == 1 {
                one_time.push(took);
                one_ratio.push(took / ideal);
            } else {
                four_time.push(took);
            }
        }
    }
    println!(
        "sync: 300 changed users, server 20/50/1, rate_limit {}, plan included: one run median {:.3}x of ideal; 4 concurrent runs of 75 take {:.3}x the time of one run; {}",
        limit.unwrap_or("not set"),
        median(one_ratio),
        median(four_time) / median(one_time),
        lines.join("; ")
    );
}

fn token(bin: &str) {
    let mock = Mock::start(
        bin,
        &[
            "--no-static-token",
            "--token-ttl",
            "4",
            "--rate-limit",
            "1/1/1",
        ],
    );
    let dir = state_dir();
    let client = client(&mock.url, "host", &dir.text(), None);
    let started = Instant::now();
    let mut failed = 0;
    for i in 0..20 {
        if let Err(e) = client.update_user(13329, &UserUpdate::new().remark(format!("t{i}"))) {
            failed += 1;
            eprintln!("token: {e}");
        }
    }
    println!(
        "token: 4 s tokens at 1/1/1, 20 updates in {:.1} s: failed {failed}, responses 401 {}, grants {}",
        started.elapsed().as_secs_f64(),
        mock.stat("unauthorized"),
        mock.stat("token_grants")
    );
}

/// CPU time of this process so far, in microseconds.
fn cpu_us() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a struct rusage into the buffer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    // SAFETY: initialised by getrusage (zeroed otherwise).
    let usage = unsafe { usage.assume_init() };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

fn cost(bin: &str) {
    let mock = Mock::start(bin, &["--no-static-token"]);
    let dir = state_dir();
    let calls = 2000;
    // The open gate (no rate known) and a configured gate that never waits (one step of the
    // state file per request).
    for limit in [None, Some("1000000/1000000/1")] {
        let mut ratios = Vec::new();
        let mut lines = Vec::new();
        for _ in 0..rounds().max(5) {
            let mut per_call = [0.0; 2];
            for (i, scope) in ["process", "host"].iter().enumerate() {
                let client = client(&mock.url, scope, &dir.text(), limit);
                client.get_user(13329).expect("warm up");
                let before = cpu_us();
                for _ in 0..calls {
                    let done = client.update_user(13329, &UserUpdate::new().remark("cost"));
                    assert!(done.is_ok() || done.unwrap_err().code() == Code::RateLimited);
                }
                per_call[i] = (cpu_us() - before) / calls as f64;
            }
            ratios.push(per_call[1] / per_call[0]);
            lines.push(format!("{:.0}/{:.0} us", per_call[0], per_call[1]));
        }
        println!(
            "cost: CPU per update (client side), process/host scope, rate_limit {}: median host/process {:.2}x; rounds: {}",
            limit.unwrap_or("not set"),
            median(ratios),
            lines.join(", ")
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("worker") => return worker(&args[1..]),
        Some("sync") => return sync_worker(&args[1..]),
        _ => {}
    }
    let bin = args
        .first()
        .expect("usage: bench_fleet PATH/TO/ycm-mock [SCENARIO...]");
    let chosen: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let wants = |name: &str| chosen.is_empty() || chosen.contains(&name);
    if wants("token") {
        token(bin);
    }
    if wants("cost") {
        cost(bin);
    }
    if wants("sync") {
        sync(bin);
    }
    if wants("fleet") {
        fleet(bin);
    }
    if wants("redis") {
        redis(bin);
    }
    if wants("redis-outage") {
        redis_outage(bin);
    }
    if wants("redis-cost") {
        redis_cost(bin);
    }
}
