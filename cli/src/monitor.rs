//! `sync apply --summary FILE` (JSON) and `--metrics FILE` (Prometheus text, for
//! node_exporter's textfile collector): what a monitor reads of the last nightly run. Both
//! are checked writable with the other outputs, before the first request, and written
//! atomically (temp file, fsync, rename) when the command ends, whatever the end: finished,
//! stopped gracefully by a signal, stopped by the budget, or failed before any update (then
//! with the error and the exit code, and zero counts).

use crate::fail::Failure;
use crate::paths::{self, Kind};
use crate::ui;
use std::path::PathBuf;
use std::time::Instant;
use ycm::sync::{Report, RunFacts, Summary};

/// What the command measures for the summary as it goes.
pub struct Monitor {
    summary: Option<PathBuf>,
    metrics: Option<PathBuf>,
    started: Instant,
    checked: bool,
    /// Token grants recorded in the client ID's shared state when the client was built.
    grants_before: Option<u64>,
    /// Token grants made during the run.
    pub token_grants: u64,
    /// The run's report, once there is one.
    pub report: Option<Report>,
}

impl Monitor {
    /// A monitor for these outputs, starting its clock now.
    pub fn new(summary: Option<PathBuf>, metrics: Option<PathBuf>) -> Monitor {
        Monitor {
            summary,
            metrics,
            started: Instant::now(),
            checked: false,
            grants_before: None,
            token_grants: 0,
            report: None,
        }
    }

    /// Checks both outputs writable (before the first request).
    pub fn check(&mut self) -> Result<(), Failure> {
        for (path, flag) in [(&self.summary, "--summary"), (&self.metrics, "--metrics")] {
            if let Some(path) = path {
                paths::check_writable(path, flag, Kind::Regular)?;
            }
        }
        self.checked = true;
        Ok(())
    }

    /// Notes the grants recorded so far (when the client is built).
    pub fn client_built(&mut self, client: &ycm::Client) {
        self.grants_before = Some(client.shared_status().grants);
    }

    /// Notes the grants made since [`Monitor::client_built`] (when the run ends).
    pub fn run_ended(&mut self, client: &ycm::Client) {
        if let Some(before) = self.grants_before {
            self.token_grants = client.shared_status().grants.saturating_sub(before);
        }
    }

    /// Writes the outputs for the command's `result`; a write that fails turns a success
    /// into an error.
    pub fn finish(mut self, result: Result<u8, Failure>) -> Result<u8, Failure> {
        if self.summary.is_none() && self.metrics.is_none() {
            return result;
        }
        if !self.checked && self.check().is_err() {
            return result;
        }
        let facts = RunFacts {
            // The run's own count: the plan's reads and the updates (the report's cost).
            requests: self.report.as_ref().map_or(0, |r| r.cost.requests),
            token_grants: self.token_grants,
            duration: self.started.elapsed(),
            exit_code: Some(match &result {
                Ok(code) => *code,
                Err(failure) => failure.exit,
            }),
            error: result
                .as_ref()
                .err()
                .filter(|f| !f.message.is_empty())
                .map(|f| f.message.clone()),
        };
        let summary = Summary::new(self.report.as_ref(), &facts);
        let mut written = Ok(());
        for (path, flag, text) in [
            (&self.summary, "--summary", summary.to_json()),
            (&self.metrics, "--metrics", summary.to_prometheus()),
        ] {
            if let Some(path) = path {
                if let Err(failure) = paths::write_atomically(path, flag, text.as_bytes()) {
                    written = Err(failure);
                }
            }
        }
        match (result, written) {
            (Ok(_), Err(failure)) => Err(failure),
            (result, Err(failure)) => {
                ui::line(&format!("ycm: error: {}", failure.message));
                result
            }
            (result, Ok(())) => result,
        }
    }
}
