//! `make bench-sync`: the bulk-sync figures of issue 10, each against its own ycm-mock.
//!
//! 1. 2,000 users, 500 changed, `--latency-ms 20`: plan + apply at concurrency 8 against the
//!    ideal (pages x 20 ms + changed x 20 ms / 8), and PUTs sent = changed records.
//! 2. `--rate-limit 50/100/1` (burst 50, 100 per second), no client-side cap, 6,000 updates
//!    (about a minute: what a throttled nightly run settles to, not its first seconds): the
//!    achieved rate against the limit, and when the 429s came (the mock's counter, polled).
//! 3. 100,000 records planned and applied: this process's peak RSS.
//!
//! Usage: cargo run --release --example bench_sync -- PATH/TO/ycm-mock [SCENARIO...]
//! (scenarios: latency, rate, memory; all by default). Prints one line per figure.

use std::time::{Duration, Instant};
use ycm::sync::{apply, parse_records, ApplyOptions, Control, Format, Outcome, Plan};
use ycm::{Auth, Client, Config, Secret};

#[path = "support/mock_process.rs"]
mod mock_process;
use mock_process::Mock;

/// A client of `mock` with its static token, patient retries and a long budget.
fn client(mock: &Mock) -> Client {
    let config = Config::new(&mock.url, Auth::AccessToken(Secret::new("ycm-mock-token")))
        .expect("config")
        .retries(8, Duration::from_millis(100), Duration::from_secs(2))
        .timeout(Duration::from_secs(120));
    Client::new(config).expect("client")
}

/// Records for users 20001.. (`users` of them); every `every`-th gets a new remark.
fn records(users: usize, every: usize, client: &Client) -> String {
    let mut text = String::from("userId,remark\n");
    let page = client
        .get_user(20001)
        .map(|r| r.value.remark)
        .unwrap_or_default();
    for i in 0..users {
        let id = 20001 + i as i64;
        if i % every == 0 {
            text.push_str(&format!("{id},bench sync {id}\n"));
        } else {
            // The generated users all start with the same remark as 20001's.
            text.push_str(&format!("{id},{page}\n"));
        }
    }
    text
}

/// A kB figure of this process's `/proc/self/status` (`VmHWM:` the peak RSS, `VmRSS:` now).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

fn latency(bin: &str) {
    let mock = Mock::start(bin, &["--users", "2003", "--latency-ms", "20"]);
    let client = client(&mock);
    let input = records(2000, 4, &client);
    let records = parse_records(input.as_bytes(), Format::Csv).expect("records");
    let started = Instant::now();
    let lists_before = mock.stat("list_users");
    let plan = Plan::build(&client, &records, None).expect("plan");
    let planned = started.elapsed();
    let pages = mock.stat("list_users") - lists_before;
    let changed = plan.items.iter().filter(|i| !i.changes.is_empty()).count();
    let puts_before = mock.stat("update_user");
    let options = ApplyOptions {
        concurrency: 8,
        ..ApplyOptions::default()
    };
    let report = apply(&client, &plan, &options, |_| Control::Continue).expect("apply");
    let total = started.elapsed();
    let puts = mock.stat("update_user") - puts_before;
    let ideal = Duration::from_millis(pages * 20) + Duration::from_millis(changed as u64 * 20) / 8;
    println!(
        "latency: 2000 records, {changed} changed, {pages} pages: plan {:.2} s, plan+apply {:.2} s, ideal {:.2} s, ratio {:.2}; PUTs {puts} (changed {changed}); updated {}",
        planned.as_secs_f64(),
        total.as_secs_f64(),
        ideal.as_secs_f64(),
        total.as_secs_f64() / ideal.as_secs_f64(),
        report.counts().get(&Outcome::Updated).copied().unwrap_or(0),
    );
}

fn rate(bin: &str) {
    let mock = Mock::start(bin, &["--users", "12003", "--rate-limit", "50/100/1"]);
    let client = client(&mock);
    let input = records(12000, 2, &client);
    let records = parse_records(input.as_bytes(), Format::Csv).expect("records");
    let plan = Plan::build(&client, &records, None).expect("plan");
    // Wait for the bucket to fill again after the plan's reads.
    std::thread::sleep(Duration::from_secs(1));
    let changed = plan.items.iter().filter(|i| !i.changes.is_empty()).count();
    let throttled_before = mock.stat("rate_limited");
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (report, timeline) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut seen = throttled_before;
            let mut times = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let now = mock.stat("rate_limited");
                if now > seen {
                    times.push((started.elapsed().as_secs_f64(), now - seen));
                    seen = now;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            times
        });
        let options = ApplyOptions {
            concurrency: 8,
            ..ApplyOptions::default()
        };
        let report = apply(&client, &plan, &options, |_| Control::Continue).expect("apply");
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (report, watcher.join().expect("watcher"))
    });
    let elapsed = started.elapsed().as_secs_f64();
    let updated = report.counts().get(&Outcome::Updated).copied().unwrap_or(0);
    // The bucket's burst is free at the start: the sustained rate is (n - burst) / time.
    let sustained = (updated.saturating_sub(50)) as f64 / elapsed;
    let later: Vec<String> = timeline
        .iter()
        .map(|(t, n)| format!("{n} at {t:.1} s"))
        .collect();
    println!(
        "rate: {changed} updates in {elapsed:.1} s: {:.1}/s overall, {sustained:.1}/s sustained (limit 100/s, {:.0}% of it); 429s: {} [{}]",
        updated as f64 / elapsed,
        sustained,
        report.throttled,
        later.join(", ")
    );
}

fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn memory(bin: &str) {
    let mock = Mock::start(bin, &["--users", "100003"]);
    let client = client(&mock);
    let input = records(100_000, 1, &client);
    let records = parse_records(input.as_bytes(), Format::Csv).expect("records");
    drop(input);
    let after_records = rss_kib();
    let started = Instant::now();
    let plan = Plan::build(&client, &records, None).expect("plan");
    let after_plan = rss_kib();
    drop(records);
    eprintln!("memory: RSS after reading the records {after_records} KiB, after the plan {after_plan} KiB");
    let options = ApplyOptions {
        concurrency: 8,
        ..ApplyOptions::default()
    };
    let report = apply(&client, &plan, &options, |_| Control::Continue).expect("apply");
    println!(
        "memory: 100000 records planned and applied in {:.1} s ({} updated): peak RSS {} KiB ({:.1} MiB, limit 64 MiB)",
        started.elapsed().as_secs_f64(),
        report.counts().get(&Outcome::Updated).copied().unwrap_or(0),
        peak_rss_kib(),
        peak_rss_kib() as f64 / 1024.0
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .expect("usage: bench_sync PATH/TO/ycm-mock [latency|rate|memory...]");
    let mut scenarios: Vec<String> = args.collect();
    if scenarios.is_empty() {
        scenarios = vec!["latency".into(), "rate".into(), "memory".into()];
    }
    for scenario in scenarios {
        match scenario.as_str() {
            "latency" => latency(&bin),
            "rate" => rate(&bin),
            "memory" => memory(&bin),
            other => panic!("unknown scenario {other}"),
        }
    }
}
