//! The summary of a run for monitoring: counts per outcome (every outcome, zeros included),
//! requests, 429s met, token grants, duration, achieved rate, why it stopped and the exit
//! code, as one JSON object ([`Summary::to_json`]) or in the Prometheus text format
//! ([`Summary::to_prometheus`], gauges named `ycm_sync_last_run_*`, for node_exporter's
//! textfile collector). Written at the end of a run and on a graceful stop, so a monitor
//! sees the last run whatever became of it. A [`Report`] carries the [`Cost`] of its run (the
//! plan's reads, when the plan was made in this process, and the updates), so every surface
//! gets the same summary from it: [`Report::summary`], inside the report JSON of
//! `ycm_sync_apply` (C) and Python's `SyncReport.summary`.

use super::report::{Outcome, Report, StopReason};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What (part of) a run cost: HTTP requests sent (attempts, retries included), token grants
/// made meanwhile, and the time it took. A plan keeps the cost of its reads; a report, the
/// cost of the whole run (that plan's reads included).
///
/// ```
/// let plan = ycm::sync::Cost { requests: 2, token_grants: 1, duration_s: 0.5 };
/// let updates = ycm::sync::Cost { requests: 3, token_grants: 0, duration_s: 1.0 };
/// assert_eq!(plan.plus(updates), ycm::sync::Cost { requests: 5, token_grants: 1, duration_s: 1.5 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// HTTP requests sent.
    pub requests: u64,
    /// Token grants made.
    pub token_grants: u64,
    /// Seconds taken.
    pub duration_s: f64,
}

impl Cost {
    /// The cost of both parts.
    pub fn plus(self, other: Cost) -> Cost {
        Cost {
            requests: self.requests + other.requests,
            token_grants: self.token_grants + other.token_grants,
            duration_s: self.duration_s + other.duration_s,
        }
    }
}

/// What a run's caller measured around it.
///
/// ```
/// let facts = ycm::sync::RunFacts { requests: 3, token_grants: 1, duration: std::time::Duration::from_secs(2), ..Default::default() };
/// assert_eq!(facts.requests, 3);
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunFacts {
    /// HTTP requests sent (attempts, retries included).
    pub requests: u64,
    /// Token grants made meanwhile.
    pub token_grants: u64,
    /// From the start of the command to its end.
    pub duration: Duration,
    /// The exit code the command ends with, when it is a command.
    pub exit_code: Option<u8>,
    /// The error that ended the run before or instead of a report, in words.
    pub error: Option<String>,
}

/// The summary of one run (see the module documentation).
///
/// ```
/// let summary = ycm::sync::Summary::new(None, &ycm::sync::RunFacts::default());
/// assert_eq!(summary.counts["updated"], 0);
/// assert!(summary.to_prometheus().contains("ycm_sync_last_run_records{outcome=\"updated\"} 0\n"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Records in the run, by outcome name.
    pub counts: BTreeMap<&'static str, usize>,
    /// Records in all.
    pub records: usize,
    /// HTTP requests sent.
    pub requests: u64,
    /// HTTP 429 answers met.
    pub throttled: u64,
    /// Token grants made.
    pub token_grants: u64,
    /// Seconds from start to end.
    pub duration_s: f64,
    /// Requests per second achieved.
    pub rate_per_s: f64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// The error that stopped or failed the run, in words.
    pub error: Option<String>,
    /// The command's exit code.
    pub exit_code: Option<u8>,
    /// When the run ended (Unix seconds).
    pub finished_at: u64,
}

impl RunFacts {
    /// The facts a report's own [`Cost`] gives (no exit code: not a command).
    pub fn of_cost(cost: Cost) -> RunFacts {
        RunFacts {
            requests: cost.requests,
            token_grants: cost.token_grants,
            duration: Duration::try_from_secs_f64(cost.duration_s).unwrap_or_default(),
            exit_code: None,
            error: None,
        }
    }
}

impl Report {
    /// The summary of this run, from its rows and its [`Cost`] (`exit_code` null: the run
    /// is not a command).
    ///
    /// ```
    /// let report = ycm::sync::Report { cost: ycm::sync::Cost { requests: 4, ..Default::default() }, ..Default::default() };
    /// assert_eq!(report.summary().requests, 4);
    /// ```
    pub fn summary(&self) -> Summary {
        Summary::new(Some(self), &RunFacts::of_cost(self.cost))
    }
}

impl Summary {
    /// The summary of `report` (none when the run failed before it had one) and `facts`.
    pub fn new(report: Option<&Report>, facts: &RunFacts) -> Summary {
        let mut counts: BTreeMap<&'static str, usize> =
            Outcome::ALL.iter().map(|o| (o.as_str(), 0)).collect();
        if let Some(report) = report {
            for (outcome, n) in report.counts() {
                counts.insert(outcome.as_str(), n);
            }
        }
        let duration_s = facts.duration.as_secs_f64();
        Summary {
            records: report.map_or(0, |r| r.rows.len()),
            counts,
            requests: facts.requests,
            throttled: report.map_or(0, |r| r.throttled),
            token_grants: facts.token_grants,
            duration_s,
            rate_per_s: if duration_s > 0.0 {
                facts.requests as f64 / duration_s
            } else {
                0.0
            },
            stopped: report.and_then(|r| r.stopped),
            error: facts
                .error
                .clone()
                .or_else(|| report.and_then(|r| r.stop_error.clone())),
            exit_code: facts.exit_code,
            finished_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a summary serialises") + "\n"
    }

    /// The summary in the Prometheus text exposition format (version 0.0.4).
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(out, "# HELP ycm_sync_last_run_{name} {help}");
            let _ = writeln!(out, "# TYPE ycm_sync_last_run_{name} gauge");
            for (labels, value) in samples {
                let _ = writeln!(out, "ycm_sync_last_run_{name}{labels} {value}");
            }
        };
        let plain = |value: f64| vec![(String::new(), value)];
        let records: Vec<(String, f64)> = self
            .counts
            .iter()
            .map(|(outcome, n)| (format!("{{outcome=\"{outcome}\"}}"), *n as f64))
            .collect();
        gauge(
            "records",
            "Records of the last sync run, by how they ended.",
            &records,
        );
        gauge(
            "requests",
            "HTTP requests the last sync run sent.",
            &plain(self.requests as f64),
        );
        gauge(
            "throttled",
            "HTTP 429 answers the last sync run met.",
            &plain(self.throttled as f64),
        );
        gauge(
            "token_grants",
            "Token grants made during the last sync run.",
            &plain(self.token_grants as f64),
        );
        gauge(
            "duration_seconds",
            "How long the last sync run took.",
            &plain(self.duration_s),
        );
        gauge(
            "rate_per_second",
            "Requests per second the last sync run achieved.",
            &plain(self.rate_per_s),
        );
        let stopped: Vec<(String, f64)> = StopReason::ALL
            .iter()
            .map(|reason| {
                let value = f64::from(u8::from(self.stopped == Some(*reason)));
                (format!("{{reason=\"{}\"}}", reason.as_str()), value)
            })
            .collect();
        gauge(
            "stopped",
            "1 for the reason the last sync run stopped early, if it did.",
            &stopped,
        );
        gauge(
            "exit_code",
            "The exit code of the last sync run (-1: not a command).",
            &plain(self.exit_code.map_or(-1.0, f64::from)),
        );
        gauge(
            "timestamp_seconds",
            "When the last sync run ended (Unix time).",
            &plain(self.finished_at as f64),
        );
        out
    }
}
