//! The process-wide log callback: `ycm_set_log_callback` turns a C function pointer and its
//! `user_data` into the core's [`crate::logging::Sink`], and each record into a
//! `ycm_log_record` whose strings live for the duration of the callback.

use super::status::{guard, ycm_status};
use crate::error::{CallInfo, Error};
use crate::logging::{self, Level, Record, Sink};
use std::ffi::{c_char, c_void, CString};

/// Severity of a log record; a callback receives the records at its `min_level` and more
/// severe ones (lower numbers).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ycm_log_level {
    /// Failures the library reports.
    YCM_LOG_ERROR = 1,
    /// Retries, with their reason and wait.
    YCM_LOG_WARN = 2,
    /// Token fetches and refreshes.
    YCM_LOG_INFO = 3,
    /// One record per HTTP attempt.
    YCM_LOG_DEBUG = 4,
    /// Reserved for finer records.
    YCM_LOG_TRACE = 5,
}

/// One log record, valid only during the callback (copy what you keep). Strings are
/// NUL-terminated UTF-8, "" when they do not apply; numbers are 0 when they do not apply.
/// Fields are only ever appended; `size` is `sizeof(ycm_log_record)` as the library was
/// built, so a caller compiled against an older header reads only what it knows.
#[repr(C)]
pub struct ycm_log_record {
    /// Size of this struct in the library.
    pub size: u32,
    /// Severity.
    pub level: ycm_log_level,
    /// "ycm::http" (attempts, retries) or "ycm::auth" (tokens).
    pub target: *const c_char,
    /// What happened. Never holds a secret.
    pub message: *const c_char,
    /// HTTP method of the request concerned.
    pub method: *const c_char,
    /// Path of the request concerned, without query.
    pub path: *const c_char,
    /// HTTP status received.
    pub http_status: u16,
    /// 1-based attempt number within the call.
    pub attempt: u32,
    /// Duration of the attempt, in milliseconds.
    pub elapsed_ms: u64,
    /// The envelope's `requestId`.
    pub request_id: *const c_char,
}

/// A `ycm_log_level` passed by value, read as its number so that a value outside the enum
/// is refused instead of being undefined behaviour. The header declares it as
/// `enum ycm_log_level` (see cbindgen.toml); same size and ABI.
#[repr(transparent)]
pub struct ycm_log_level_value(pub u32);

/// A log callback: receives one record and the `user_data` given to
/// `ycm_set_log_callback`.
pub type ycm_log_fn =
    Option<unsafe extern "C" fn(record: *const ycm_log_record, user_data: *mut c_void)>;

/// The callback and its data, movable to any thread (the caller vouches for `user_data`).
struct Callback {
    function: unsafe extern "C" fn(*const ycm_log_record, *mut c_void),
    user_data: *mut c_void,
}
// SAFETY: the contract of ycm_set_log_callback: the callback and user_data may be used
// from any thread that makes calls.
unsafe impl Send for Callback {}
unsafe impl Sync for Callback {}

fn level_of(level: ycm_log_level) -> Level {
    match level {
        ycm_log_level::YCM_LOG_ERROR => Level::Error,
        ycm_log_level::YCM_LOG_WARN => Level::Warn,
        ycm_log_level::YCM_LOG_INFO => Level::Info,
        ycm_log_level::YCM_LOG_DEBUG => Level::Debug,
        ycm_log_level::YCM_LOG_TRACE => Level::Trace,
    }
}

fn c_level(level: Level) -> ycm_log_level {
    match level {
        Level::Error => ycm_log_level::YCM_LOG_ERROR,
        Level::Warn => ycm_log_level::YCM_LOG_WARN,
        Level::Info => ycm_log_level::YCM_LOG_INFO,
        Level::Debug => ycm_log_level::YCM_LOG_DEBUG,
        Level::Trace => ycm_log_level::YCM_LOG_TRACE,
    }
}

/// A C copy of a record's text (NUL bytes, which our texts never hold, are dropped).
fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "")).unwrap_or_default()
}

impl Callback {
    fn deliver(&self, record: &Record<'_>) {
        let (target, message, method, path, request_id) = (
            c_text(record.target),
            c_text(record.message),
            c_text(record.method),
            c_text(record.path),
            c_text(record.request_id),
        );
        let c_record = ycm_log_record {
            size: std::mem::size_of::<ycm_log_record>() as u32,
            level: c_level(record.level),
            target: target.as_ptr(),
            message: message.as_ptr(),
            method: method.as_ptr(),
            path: path.as_ptr(),
            http_status: record.http_status,
            attempt: record.attempt,
            elapsed_ms: record.elapsed.as_millis().min(u64::MAX as u128) as u64,
            request_id: request_id.as_ptr(),
        };
        // SAFETY: the record and its strings outlive the call; the function pointer and
        // user_data are the caller's, valid until replaced (ycm_set_log_callback).
        unsafe { (self.function)(&c_record, self.user_data) };
    }
}

/// Replaces the process-wide log callback; NULL removes it. Records less severe than
/// `min_level` are not even built. The callback runs on the thread that made the call, one
/// record at a time per thread (calls on several threads may log at once), must return
/// quickly, and must not call into ycm. Records never hold a secret. `user_data` is passed
/// back untouched; it must stay valid until the callback is replaced. Thread-safe, but a
/// record being delivered on another thread may still reach the previous callback.
/// `min_level` outside the enum gives `YCM_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn ycm_set_log_callback(
    callback: ycm_log_fn,
    min_level: ycm_log_level_value,
    user_data: *mut c_void,
) -> ycm_status {
    guard(|| {
        let level = match min_level.0 {
            1 => ycm_log_level::YCM_LOG_ERROR,
            2 => ycm_log_level::YCM_LOG_WARN,
            3 => ycm_log_level::YCM_LOG_INFO,
            4 => ycm_log_level::YCM_LOG_DEBUG,
            5 => ycm_log_level::YCM_LOG_TRACE,
            other => {
                return Err(Error::invalid_argument(format!(
                    "min_level must be a ycm_log_level from 1 (YCM_LOG_ERROR) to 5 (YCM_LOG_TRACE), got {other}"
                )))
            }
        };
        let sink = callback.map(|function| {
            let callback = Callback {
                function,
                user_data,
            };
            Sink {
                min_level: level_of(level),
                receive: Box::new(move |record| callback.deliver(record)),
            }
        });
        logging::set_sink(sink);
        Ok(CallInfo::default())
    })
}
