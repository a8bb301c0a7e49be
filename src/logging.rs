//! Log records: one DEBUG record per HTTP attempt (method, path, status, attempt, elapsed,
//! requestId) and one WARN record per retry on target `ycm::http`, one INFO record per
//! token fetch or refresh on `ycm::auth`. Each goes to the `log` crate facade and, when one
//! is installed, to the process-wide [`Sink`] (the C ABI's log callback). Building a record
//! costs nothing unless one of them wants its level. No record holds a secret: messages are
//! made from paths, statuses and the library's own texts.
//!
//! ```
//! use ycm::logging::{set_sink, Level, Sink};
//! set_sink(Some(Sink {
//!     min_level: Level::Debug,
//!     receive: Box::new(|r| eprintln!("{} {} -> {} ({} ms)", r.method, r.path, r.http_status, r.elapsed.as_millis())),
//! }));
//! set_sink(None); // and back to the `log` facade alone
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use log::Level;

/// Target of the records about HTTP attempts and retries.
///
/// ```
/// assert_eq!(ycm::logging::TARGET_HTTP, "ycm::http");
/// ```
pub const TARGET_HTTP: &str = "ycm::http";
/// Target of the records about tokens.
///
/// ```
/// assert_eq!(ycm::logging::TARGET_AUTH, "ycm::auth");
/// ```
pub const TARGET_AUTH: &str = "ycm::auth";

/// One structured log record. Fields that do not apply are empty or zero.
///
/// ```
/// let sink = ycm::logging::Sink {
///     min_level: ycm::logging::Level::Warn,
///     receive: Box::new(|r: &ycm::logging::Record<'_>| eprintln!("{} {}", r.target, r.message)),
/// };
/// ycm::logging::set_sink(Some(sink));
/// ycm::logging::set_sink(None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Severity.
    pub level: Level,
    /// [`TARGET_HTTP`] or [`TARGET_AUTH`].
    pub target: &'static str,
    /// What happened, in words.
    pub message: &'a str,
    /// HTTP method of the request concerned.
    pub method: &'a str,
    /// Path of the request concerned, without query.
    pub path: &'a str,
    /// HTTP status received; 0 when none.
    pub http_status: u16,
    /// 1-based attempt number within the call; 0 when not about one attempt.
    pub attempt: u32,
    /// Duration of the attempt.
    pub elapsed: Duration,
    /// The envelope's `requestId`; empty when unknown.
    pub request_id: &'a str,
}

/// A process-wide receiver of records, with the most verbose level it wants.
///
/// ```
/// ycm::logging::set_sink(Some(ycm::logging::Sink {
///     min_level: ycm::logging::Level::Info,
///     receive: Box::new(|r| eprintln!("{}", r.message)),
/// }));
/// ycm::logging::set_sink(None);
/// ```
pub struct Sink {
    /// Records less severe than this are not built.
    pub min_level: Level,
    /// Called on the thread that made the call, once per record.
    pub receive: Box<dyn Fn(&Record<'_>) + Send + Sync>,
}

static SINK: RwLock<Option<Arc<Sink>>> = RwLock::new(None);
/// The sink's `min_level` as a number (0 when there is no sink), read without a lock.
static SINK_LEVEL: AtomicUsize = AtomicUsize::new(0);

/// Installs (or, with `None`, removes) the process-wide sink.
///
/// ```
/// ycm::logging::set_sink(None); // no sink: records go to the `log` facade only
/// ```
pub fn set_sink(sink: Option<Sink>) {
    let mut slot = SINK.write().unwrap_or_else(|p| p.into_inner());
    SINK_LEVEL.store(
        sink.as_ref().map_or(0, |s| s.min_level as usize),
        Ordering::SeqCst,
    );
    *slot = sink.map(Arc::new);
}

/// Whether a record of `level` on `target` would go anywhere.
pub(crate) fn enabled(level: Level, target: &'static str) -> bool {
    level as usize <= SINK_LEVEL.load(Ordering::Relaxed) || log::log_enabled!(target: target, level)
}

/// Sends a record to the `log` facade and to the sink.
pub(crate) fn emit(record: &Record<'_>) {
    if record.level as usize <= SINK_LEVEL.load(Ordering::Relaxed) {
        // The callback runs without the lock: it may replace the sink, and a slow one holds
        // up nobody else.
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(sink) = sink.filter(|s| record.level <= s.min_level) {
            (sink.receive)(record);
        }
    }
    if log::log_enabled!(target: record.target, record.level) {
        if record.method.is_empty() {
            log::log!(target: record.target, record.level, "{}", record.message);
        } else {
            log::log!(
                target: record.target,
                record.level,
                "{} {} -> {} (attempt {}, {} ms{}{}): {}",
                record.method,
                record.path,
                record.http_status,
                record.attempt,
                record.elapsed.as_millis(),
                if record.request_id.is_empty() { "" } else { ", requestId " },
                record.request_id,
                record.message
            );
        }
    }
}

/// A record about the client as a whole (no request).
pub(crate) fn note(level: Level, target: &'static str, message: &str) {
    if enabled(level, target) {
        emit(&Record {
            level,
            target,
            message,
            method: "",
            path: "",
            http_status: 0,
            attempt: 0,
            elapsed: Duration::ZERO,
            request_id: "",
        });
    }
}

/// The `requestId` of a YCM envelope, found without parsing the whole body (for logs).
pub(crate) fn sniff_request_id(body: &[u8]) -> &str {
    const KEY: &[u8] = b"\"requestId\":\"";
    let Some(at) = body.windows(KEY.len()).position(|w| w == KEY) else {
        return "";
    };
    let rest = &body[at + KEY.len()..];
    let end = rest.iter().take(64).position(|&b| b == b'"').unwrap_or(0);
    std::str::from_utf8(&rest[..end])
        .ok()
        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_sniffed_only_when_plain() {
        assert_eq!(
            sniff_request_id(br#"{"requestId":"bed793ce","status":"Success"}"#),
            "bed793ce"
        );
        assert_eq!(sniff_request_id(b"<html>"), "");
        assert_eq!(sniff_request_id(br#"{"requestId":"a b"}"#), "");
    }
}
