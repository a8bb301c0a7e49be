//! Everything written to stderr: notes and warnings, the `-v` trace (one line per HTTP
//! attempt, from the library's log sink: method, path, status, attempt, milliseconds; the
//! library never puts a secret in a record), and progress: an indicatif bar when stderr is
//! a terminal, a status line every few seconds otherwise, nothing with `--quiet`. Lines
//! written while a bar is shown go above it. No colour unless stderr is a terminal and
//! `NO_COLOR` is unset.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The bar being shown, if any (so trace lines and notes print above it).
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How often a status line is written when stderr is not a terminal.
fn status_interval() -> Duration {
    std::env::var(crate::help::STATUS_INTERVAL_MS)
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis)
}

/// Whether stderr is a terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether colour may be used on stderr.
pub fn colour() -> bool {
    stderr_is_terminal() && std::env::var_os(crate::help::NO_COLOR).is_none_or(|v| v.is_empty())
}

/// Writes one line to stderr (above the bar when one is shown).
pub fn line(text: &str) {
    let bar = BAR.lock().unwrap_or_else(|p| p.into_inner());
    match bar.as_ref() {
        Some(bar) if !bar.is_hidden() => bar.println(text),
        _ => {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }
}

/// Installs what a run without `-v` shows of the library's records: warnings about the
/// shared state (a Redis or state file that failed, and when it works again), which change
/// how the budget is shared; retries stay in the `-v` trace.
pub fn install_warnings() {
    ycm::logging::set_sink(Some(ycm::logging::Sink {
        min_level: ycm::logging::Level::Warn,
        receive: Box::new(|record| {
            if record.level == ycm::logging::Level::Warn
                && record.target == ycm::logging::TARGET_AUTH
            {
                line(&format!("ycm: warning: {}", record.message));
            }
        }),
    }));
}

/// Installs the `-v` trace: one line per HTTP attempt, plus retries and token fetches.
pub fn install_trace() {
    ycm::logging::set_sink(Some(ycm::logging::Sink {
        min_level: ycm::logging::Level::Debug,
        receive: Box::new(|record| {
            let text = if record.method.is_empty() {
                format!("ycm: {}", record.message)
            } else if record.level == ycm::logging::Level::Debug {
                let status = if record.http_status == 0 {
                    format!("no response ({})", record.message)
                } else {
                    record.http_status.to_string()
                };
                format!(
                    "ycm: {} {} {} attempt {} {} ms{}",
                    record.method,
                    record.path,
                    status,
                    record.attempt,
                    record.elapsed.as_millis(),
                    if record.request_id.is_empty() {
                        String::new()
                    } else {
                        format!(" requestId {}", record.request_id)
                    }
                )
            } else {
                format!("ycm: {} {}: {}", record.method, record.path, record.message)
            };
            line(&text);
        }),
    }));
}

/// The bar's look: with a total, a bar and `pos/len`; without, a spinner and a count.
fn style(with_total: bool) -> ProgressStyle {
    let template = match (with_total, colour()) {
        (true, true) => "{spinner:.green} [{elapsed_precise}] {bar:40.cyan/blue} {pos}/{len} {msg}",
        (true, false) => "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
        (false, _) => "{spinner} [{elapsed_precise}] {pos} {msg}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Progress of a long command: a bar on a terminal, status lines otherwise, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    what: &'static str,
    started: Instant,
    last_line: Instant,
    done: u64,
    total: Option<u64>,
}

impl Progress {
    /// Progress of `what` (e.g. "updates"); `quiet` shows nothing.
    pub fn new(what: &'static str, total: Option<u64>, quiet: bool) -> Progress {
        let now = Instant::now();
        let mut progress = Progress {
            bar: None,
            lines: false,
            what,
            started: now,
            last_line: now,
            done: 0,
            total,
        };
        if quiet {
            return progress;
        }
        if stderr_is_terminal() {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            bar.set_style(style(total.is_some()));
            bar.set_message(what);
            bar.enable_steady_tick(Duration::from_millis(120));
            *BAR.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
            progress.bar = Some(bar);
        } else {
            progress.lines = true;
        }
        progress
    }

    /// The total became known.
    pub fn set_total(&mut self, total: u64) {
        self.total = Some(total);
        if let Some(bar) = &self.bar {
            bar.set_style(style(true));
            bar.set_length(total);
        }
    }

    /// `n` more done.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
        if self.lines && self.last_line.elapsed() >= status_interval() {
            self.last_line = Instant::now();
            let of = self.total.map_or(String::new(), |t| format!(" of {t}"));
            line(&format!(
                "ycm: {}{of} {} done after {} s",
                self.done,
                self.what,
                self.started.elapsed().as_secs()
            ));
        }
    }

    /// Removes the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            *BAR.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
