//! `ycm sync apply` stopped by SIGTERM or SIGHUP part way through a few hundred records
//! against a slow ycm-mock: the graceful path (no new update, the calls in flight end, the
//! report and failed rows written whole, the journal intact, one line on stderr, exit 143 or
//! 129), then the same command finishing exactly the rest (no record sent twice, none lost);
//! a second signal ends the process at once; an export stops between pages.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use ycm_mock::{Faults, MockConfig};

mod support;
use support::*;

const RECORDS: i64 = 300;

fn slow_setup(latency_ms: u64) -> Setup {
    let s = Setup::with(MockConfig {
        users: 500,
        ..MockConfig::default()
    });
    s.mock.set_faults(Faults {
        latency_ms: Some(latency_ms),
        ..Faults::default()
    });
    s
}

fn apply(s: &Setup, file: &Path) -> Command {
    let mut command = s.ycm();
    command
        .args([
            "sync",
            "apply",
            "--yes",
            "--concurrency",
            "4",
            "--output",
            "jsonl",
        ])
        .arg(file)
        .arg("--journal")
        .arg(s.path("journal.jsonl"))
        .arg("--report")
        .arg(s.path("report.csv"))
        .arg("--failed-out")
        .arg(s.path("failed.csv"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits until the journal holds `done` lines for at least `n` records.
fn wait_for_done(s: &Setup, child: &mut Child, n: usize) {
    let started = Instant::now();
    loop {
        let done = std::fs::read_to_string(s.path("journal.jsonl"))
            .map(|j| j.matches("\"event\":\"done\"").count())
            .unwrap_or(0);
        if done >= n {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ycm ended before any progress: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn graceful_stop_then_resume(signal: libc::c_int, name: &str, exit: i32) {
    let s = slow_setup(20);
    let file = records(&s, RECORDS, false);
    let mut child = apply(&s, &file).spawn().unwrap();
    wait_for_done(&s, &mut child, 20);
    send_signal(&child, signal);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(exit), "{name}: {stderr}");
    let summary: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(&format!("stopped by {name}")) && l.contains("resume"))
        .collect();
    assert_eq!(summary.len(), 1, "one line says so: {stderr}");

    // The report and the failed rows are whole: one row per record, and the failed rows are
    // exactly the records not attempted.
    let puts_first: usize = s.puts().values().sum();
    assert!(
        puts_first >= 20 && puts_first < RECORDS as usize,
        "stopped part way: {puts_first}"
    );
    let report = csv_rows(&std::fs::read_to_string(s.path("report.csv")).unwrap());
    assert_eq!(report.len(), RECORDS as usize);
    let updated = report.iter().filter(|r| r["outcome"] == "updated").count();
    let not_attempted: Vec<&String> = report
        .iter()
        .filter(|r| r["outcome"] == "not_attempted")
        .map(|r| &r["userId"])
        .collect();
    assert_eq!(updated, puts_first, "every PUT sent is reported updated");
    assert_eq!(updated + not_attempted.len(), RECORDS as usize);
    let failed = csv_rows(&std::fs::read_to_string(s.path("failed.csv")).unwrap());
    let failed_ids: Vec<&String> = failed.iter().map(|r| &r["userId"]).collect();
    assert_eq!(failed_ids, not_attempted);
    assert_eq!(
        jsonl(&String::from_utf8(output.stdout).unwrap()).len(),
        RECORDS as usize
    );
    let journal = std::fs::read_to_string(s.path("journal.jsonl")).unwrap();
    assert_eq!(
        journal.matches("\"event\":\"done\"").count(),
        puts_first,
        "every call in flight ended and was journalled"
    );

    // The same command finishes exactly the rest.
    let output = apply(&s, &file).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_each_synced_once(&s, 20001, RECORDS);
}

#[test]
fn sigterm_stops_sync_apply_gracefully_with_143_and_a_rerun_finishes_the_rest() {
    graceful_stop_then_resume(libc::SIGTERM, "SIGTERM", 143);
}

#[test]
fn sighup_stops_sync_apply_gracefully_with_129_and_a_rerun_finishes_the_rest() {
    graceful_stop_then_resume(libc::SIGHUP, "SIGHUP", 129);
}

#[test]
fn a_second_signal_ends_the_process_at_once() {
    // Each request takes 3 s: the graceful stop would wait for the calls in flight.
    let s = slow_setup(3000);
    let file = records(&s, 20, false);
    let plan = s.path("plan.json");
    s.mock.set_faults(Faults::default());
    ok(s.ycm()
        .args(["sync", "plan"])
        .arg(&file)
        .arg("--out")
        .arg(&plan));
    s.mock.set_faults(Faults {
        latency_ms: Some(3000),
        ..Faults::default()
    });
    let before = s.mock.stats().requests;
    let mut child = s
        .ycm()
        .args(["sync", "apply", "--yes", "--plan"])
        .arg(&plan)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the updates are in flight.
    let started = Instant::now();
    while s.mock.stats().requests == before {
        assert!(started.elapsed() < Duration::from_secs(60), "nothing sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    send_signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    if let Some(status) = child.try_wait().unwrap() {
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        panic!("the first waits for the calls in flight: {status}: {stderr}");
    }
    send_signal(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
}

#[test]
fn sigterm_stops_an_export_between_pages_with_143() {
    let s = slow_setup(400);
    let mut child = s
        .ycm()
        .args(["users", "export", "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first page is on stdout once its header and rows are.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    send_signal(&child, libc::SIGTERM);
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("stopped by SIGTERM after") && stderr.contains("incomplete"),
        "{stderr}"
    );
}

#[test]
fn stop_grace_bounds_the_wait_for_calls_in_flight_and_a_rerun_finishes() {
    let s = slow_setup(0);
    let file = records(&s, 8, false);
    let plan = s.path("plan.json");
    ok(s.ycm()
        .args(["sync", "plan"])
        .arg(&file)
        .arg("--out")
        .arg(&plan));
    // Every request now takes 20 s: only a cut-short call lets the run end before.
    s.mock.set_faults(Faults {
        latency_ms: Some(20_000),
        ..Faults::default()
    });
    let before = s.mock.stats().requests;
    let journal = s.path("journal.jsonl");
    let child = s
        .ycm()
        .args([
            "sync",
            "apply",
            "--yes",
            "--stop-grace",
            "0",
            "--output",
            "jsonl",
            "--plan",
        ])
        .arg(&plan)
        .arg("--journal")
        .arg(&journal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while s.mock.stats().requests < before + 4 {
        assert!(started.elapsed() < Duration::from_secs(60), "nothing sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    send_signal(&child, libc::SIGTERM);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    let rows = jsonl(&String::from_utf8(output.stdout).unwrap());
    let cut: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["code"] == "YCM_ERR_CANCELLED")
        .collect();
    assert_eq!(
        cut.len(),
        4,
        "the 4 calls in flight were cut short: {rows:?}"
    );
    assert!(cut
        .iter()
        .all(|r| r["outcome"] == "not_attempted"
            && r["message"].as_str().unwrap().contains("cut short")));
    assert!(rows.iter().all(|r| r["outcome"] == "not_attempted"));

    s.mock.set_faults(Faults::default());
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--plan"])
        .arg(&plan)
        .arg("--journal")
        .arg(&journal));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for id in 20001..20009 {
        assert_eq!(s.mock.user(id).unwrap()["company"], format!("Synced {id}"));
    }
}
