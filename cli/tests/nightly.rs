//! A nightly schedule, as cron or a systemd timer runs it: the same `ycm sync apply` command
//! with one `--journal-dir`, a `--summary` and a `--metrics` file, on one day's file (stopped
//! by SIGTERM part way, then rerun to finish exactly the rest) and on the next day's file
//! (which starts its own journal). The summary and metrics say how each run ended, exit code
//! included, and are replaced whole; journals untouched for 30 days are pruned.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use ycm_mock::{Faults, MockConfig};

mod support;
use support::*;

const RECORDS: i64 = 200;

fn day_file(s: &Setup, day: &str) -> PathBuf {
    let mut text = String::from("userId,company\n");
    for id in 20001..20001 + RECORDS {
        text.push_str(&format!("{id},{day} {id}\n"));
    }
    let path = s.path(&format!("users-{day}.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

fn nightly(s: &Setup, file: &Path) -> Command {
    let mut command = s.ycm();
    command
        .args(["sync", "apply", "--yes", "--quiet", "--output", "jsonl"])
        .arg(file)
        .arg("--journal-dir")
        .arg(s.path("journals"))
        .arg("--summary")
        .arg(s.path("summary.json"))
        .arg("--metrics")
        .arg(s.path("metrics.prom"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn journals(s: &Setup) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(s.path("journals"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "journal"));
    found.sort();
    found
}

fn done_lines(s: &Setup) -> usize {
    journals(s)
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .matches("\"event\":\"done\"")
                .count()
        })
        .sum()
}

fn summary(s: &Setup) -> Value {
    json(&std::fs::read_to_string(s.path("summary.json")).unwrap())
}

fn metrics(s: &Setup) -> String {
    std::fs::read_to_string(s.path("metrics.prom")).unwrap()
}

/// No temporary file of an atomic write is left beside the outputs.
fn assert_no_temp_files(s: &Setup) {
    let left: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn two_days_files_with_one_journal_dir_a_sigterm_a_resume_and_a_summary_for_monitoring() {
    let s = Setup::with(MockConfig {
        users: 400,
        ..MockConfig::default()
    });
    s.mock.set_faults(Faults {
        latency_ms: Some(20),
        ..Faults::default()
    });
    // A journal from long ago, and a file that is not a journal.
    std::fs::create_dir(s.path("journals")).unwrap();
    let old = s.path("journals/ycm-sync-0123456789abcdef01234567.journal");
    std::fs::write(&old, "{}\n").unwrap();
    let aged = Command::new("touch")
        .args(["-d", "40 days ago"])
        .arg(&old)
        .status()
        .unwrap();
    assert!(aged.success());
    let other = s.path("journals/notes.txt");
    std::fs::write(&other, "kept").unwrap();

    // Day 1, stopped by SIGTERM part way.
    let day1 = day_file(&s, "Monday");
    let mut child = nightly(&s, &day1).spawn().unwrap();
    let started = Instant::now();
    while done_lines(&s) < 20 {
        assert!(child.try_wait().unwrap().is_none(), "ended before progress");
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    send_signal(&child, libc::SIGTERM);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("stopped by SIGTERM"),
        "said even with --quiet: {stderr}"
    );
    assert!(!old.exists(), "the old journal was pruned");
    assert!(other.exists(), "other files are left alone");
    assert_eq!(journals(&s).len(), 1);
    let sent_first: usize = s.puts().values().sum();
    let first = summary(&s);
    assert_eq!(first["exit_code"], 143);
    assert_eq!(first["stopped"], "cancelled");
    assert_eq!(first["records"], RECORDS);
    assert_eq!(first["counts"]["updated"], sent_first);
    assert_eq!(
        first["counts"]["not_attempted"],
        RECORDS as usize - sent_first
    );
    assert!(first["requests"].as_u64().unwrap() >= sent_first as u64);
    let prom = metrics(&s);
    assert!(prom.contains("ycm_sync_last_run_exit_code 143\n"), "{prom}");
    assert!(
        prom.contains("ycm_sync_last_run_stopped{reason=\"cancelled\"} 1\n"),
        "{prom}"
    );
    assert!(prom.contains(&format!(
        "ycm_sync_last_run_records{{outcome=\"updated\"}} {sent_first}\n"
    )));
    assert_no_temp_files(&s);

    // The same command again: it resumes from the day's journal and sends exactly the rest.
    let requests_before = s.mock.stats().requests;
    let output = nightly(&s, &day1).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let puts = s.puts();
    assert_eq!(puts.len(), RECORDS as usize);
    assert!(puts.values().all(|&c| c == 1), "none twice: {puts:?}");
    let second = summary(&s);
    assert_eq!(second["exit_code"], 0);
    assert_eq!(second["stopped"], Value::Null);
    // What the first run did is unchanged now; the rest is updated.
    assert_eq!(second["counts"]["unchanged"], sent_first);
    assert_eq!(second["counts"]["updated"], RECORDS as usize - sent_first);
    // Every request of the run: the plan's reads and the updates, as the server counts them.
    let requests = s.mock.stats().requests - requests_before;
    assert!(
        requests > (RECORDS as usize - sent_first) as u64,
        "reads too"
    );
    assert_eq!(second["requests"], requests);
    assert!(metrics(&s).contains("ycm_sync_last_run_exit_code 0\n"));

    // Day 2: another file, the same command and directory: its own journal, every record.
    let day2 = day_file(&s, "Tuesday");
    let output = nightly(&s, &day2).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(journals(&s).len(), 2);
    assert_eq!(summary(&s)["counts"]["updated"], RECORDS);
    for id in 20001..20001 + RECORDS {
        assert_eq!(s.mock.user(id).unwrap()["company"], format!("Tuesday {id}"));
        assert_eq!(s.mock.puts_of(id), 2, "one PUT a day");
    }
    assert_no_temp_files(&s);
}

#[test]
fn a_run_that_fails_before_any_update_still_leaves_a_summary() {
    let s = Setup::new();
    let file = records(&s, 2, false);
    let out = run(s
        .ycm()
        .env("YCM_ACCESS_TOKEN", "wrong")
        .args(["sync", "apply", "--yes"])
        .arg(&file)
        .arg("--summary")
        .arg(s.path("summary.json"))
        .arg("--metrics")
        .arg(s.path("metrics.prom")));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let summary = summary(&s);
    assert_eq!(summary["exit_code"], 4);
    assert!(summary["error"].as_str().unwrap().len() > 10, "{summary}");
    assert_eq!(summary["counts"]["updated"], 0);
    assert!(metrics(&s).contains("ycm_sync_last_run_exit_code 4\n"));
    // A summary that cannot be written is refused before anything is sent.
    let before = s.mock.stats().requests;
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes"])
        .arg(&file)
        .arg("--metrics")
        .arg(s.path("no-dir/metrics.prom")));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(message(&out.stderr).contains("--metrics"), "{}", out.stderr);
    assert_eq!(s.mock.stats().requests, before);
}
