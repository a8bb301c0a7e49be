//! The status every fallible C function returns: [`ycm_code`] (stable numbers, mirroring
//! [`crate::Code`]) and [`ycm_status`], filled from a result and its call information,
//! plus [`guard`], the panic guard that wraps the body of every `extern "C"` function.

use crate::error::{CallInfo, Code, Error};
use crate::response::cut;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Result codes. The numbers are stable and never reused; they are grouped by cause:
/// 1-9 the caller's input was refused and nothing was sent, 10-19 no usable HTTP response,
/// 20-29 the server answered, 30-39 the caller stopped the call, 90-99 the library itself.
// Written out because cbindgen does not expand the `codes!` declaration of error.rs; the
// tests below compare this enum (and the header made from it) with `Code::ALL` both ways.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ycm_code {
    /// Success.
    YCM_OK = 0,
    /// A required pointer argument was NULL; nothing was sent.
    YCM_ERR_NULL_ARGUMENT = 1,
    /// Bad base URL, user id <= 0, bad token characters, bad page arguments or bad config;
    /// nothing was sent.
    YCM_ERR_INVALID_ARGUMENT = 2,
    /// A string argument was not valid UTF-8; nothing was sent.
    YCM_ERR_INVALID_UTF8 = 3,
    /// The update body was refused: not JSON, not an object, empty, unknown field, wrong
    /// type, bad value or too large; nothing was sent. (With `check_reseller_limit`, also a
    /// limit the user's record rules out; then only the read of the user was sent.)
    YCM_ERR_INVALID_BODY = 4,
    /// Could not connect: DNS failure, connection refused, unreachable.
    YCM_ERR_CONNECT = 10,
    /// The call did not finish within `timeout_ms`.
    YCM_ERR_TIMEOUT = 11,
    /// TLS handshake or certificate verification failed.
    YCM_ERR_TLS = 12,
    /// The connection failed during the exchange: reset, truncated, other I/O.
    YCM_ERR_IO = 13,
    /// A non-2xx response without a YCM envelope.
    YCM_ERR_HTTP = 20,
    /// The token or the client credentials were rejected (after one refresh, when possible).
    YCM_ERR_UNAUTHORIZED = 21,
    /// Still throttled (HTTP 429) after the retry budget.
    YCM_ERR_RATE_LIMITED = 22,
    /// A YCM envelope with status "Failed"; see `api_errcode` and `message`.
    YCM_ERR_API = 23,
    /// The response was not understood: not JSON, missing requestId/status/time, too large.
    YCM_ERR_BAD_RESPONSE = 24,
    /// The caller stopped the call: its `ycm_cancel` was triggered. Nothing more was sent
    /// and the call's connection was closed.
    YCM_ERR_CANCELLED = 30,
    /// A caught panic or a broken invariant in ycm (a bug).
    YCM_ERR_INTERNAL = 90,
}

impl From<Code> for ycm_code {
    fn from(code: Code) -> ycm_code {
        match code {
            Code::Ok => ycm_code::YCM_OK,
            Code::NullArgument => ycm_code::YCM_ERR_NULL_ARGUMENT,
            Code::InvalidArgument => ycm_code::YCM_ERR_INVALID_ARGUMENT,
            Code::InvalidUtf8 => ycm_code::YCM_ERR_INVALID_UTF8,
            Code::InvalidBody => ycm_code::YCM_ERR_INVALID_BODY,
            Code::Connect => ycm_code::YCM_ERR_CONNECT,
            Code::Timeout => ycm_code::YCM_ERR_TIMEOUT,
            Code::Tls => ycm_code::YCM_ERR_TLS,
            Code::Io => ycm_code::YCM_ERR_IO,
            Code::Http => ycm_code::YCM_ERR_HTTP,
            Code::Unauthorized => ycm_code::YCM_ERR_UNAUTHORIZED,
            Code::RateLimited => ycm_code::YCM_ERR_RATE_LIMITED,
            Code::Api => ycm_code::YCM_ERR_API,
            Code::BadResponse => ycm_code::YCM_ERR_BAD_RESPONSE,
            Code::Cancelled => ycm_code::YCM_ERR_CANCELLED,
            Code::Internal => ycm_code::YCM_ERR_INTERNAL,
        }
    }
}

impl ycm_code {
    /// The Rust code of this C code.
    pub fn to_code(self) -> Code {
        // Both enums carry the same numbers; the test below checks every one.
        Code::from_number(self as u32).unwrap_or(Code::Internal)
    }
}

/// The outcome of a call, returned by value. Plain data: no pointer to free.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ycm_status {
    /// `YCM_OK` or the reason of the failure.
    pub code: ycm_code,
    /// HTTP status of the last response; 0 when no HTTP response was received.
    pub http_status: u16,
    /// HTTP requests made (1 + retries, token requests included); 0 when nothing was sent.
    pub attempts: u32,
    /// The envelope's `time` (Unix seconds); 0 when absent.
    pub time: i64,
    /// The YCM error code when `code` is `YCM_ERR_API`; 0 when absent.
    pub api_errcode: i64,
    /// The envelope's `requestId`, NUL-terminated; "" when absent.
    pub request_id: [c_char; 65],
    /// What went wrong, NUL-terminated UTF-8 cut on a character boundary; "" on success.
    /// Never holds a token or a secret.
    pub message: [c_char; 512],
}

impl ycm_status {
    /// The status of a success, with its call information.
    pub fn ok(info: &CallInfo) -> ycm_status {
        ycm_status::build(Code::Ok, "", info)
    }

    /// The status of a failure.
    pub fn error(error: &Error) -> ycm_status {
        ycm_status::build(error.code(), error.message(), error.info())
    }

    fn build(code: Code, message: &str, info: &CallInfo) -> ycm_status {
        let mut status = ycm_status {
            code: code.into(),
            http_status: info.http_status,
            attempts: info.attempts,
            time: info.time,
            api_errcode: info.api_errcode,
            request_id: [0; 65],
            message: [0; 512],
        };
        copy_c_string(&mut status.request_id, &info.request_id);
        copy_c_string(&mut status.message, message);
        status
    }
}

/// Copies `text` into `dest` as a NUL-terminated string, cut on a character boundary and
/// at the first NUL.
fn copy_c_string(dest: &mut [c_char], text: &str) {
    let text = text.split('\0').next().unwrap_or("");
    let text = cut(text, dest.len() - 1);
    for (slot, byte) in dest.iter_mut().zip(text.bytes()) {
        *slot = byte as c_char;
    }
    dest[text.len()] = 0;
}

/// Runs the body of an `extern "C"` function: its result becomes a status, and a panic
/// becomes `YCM_ERR_INTERNAL` instead of crossing the boundary.
pub(crate) fn guard(body: impl FnOnce() -> Result<CallInfo, Error>) -> ycm_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(info)) => ycm_status::ok(&info),
        Ok(Err(error)) => ycm_status::error(&error),
        Err(_) => ycm_status::error(&Error::new(
            Code::Internal,
            "internal error: a panic was caught at the C boundary (please report this bug)",
        )),
    }
}

/// Runs the body of an `extern "C"` function that returns nothing (the `_free` functions):
/// a panic is swallowed rather than crossing the boundary.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// The `NAME = number` entries of `enum ycm_code` as the committed header declares them
    /// (tests/header.rs keeps the header equal to a fresh generation from this file).
    fn header_codes() -> Vec<(String, u32)> {
        let header = include_str!("../../include/ycm.h");
        let start = header.find("typedef enum ycm_code {").expect("the enum");
        let body = &header[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find("} ycm_code;").unwrap()];
        let mut code = String::new();
        for part in body.split("/*") {
            code.push_str(part.split_once("*/").map_or(part, |(_, rest)| rest));
        }
        code.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| {
                let (name, number) = entry.split_once('=').expect("NAME = number");
                (
                    name.trim().to_owned(),
                    number.trim().parse().expect("a number"),
                )
            })
            .collect()
    }

    #[test]
    fn codes_keep_their_numbers() {
        // Rust to C: `From<Code>` is an exhaustive match, and each C variant carries the
        // number and the name that the declaration in error.rs gives it.
        for code in Code::ALL {
            let c: ycm_code = code.into();
            assert_eq!(c as u32, code.number());
            assert_eq!(format!("{c:?}"), code.name());
            assert_eq!(c.to_code(), code);
        }
        // C to Rust: every variant of the C enum is a declared code, and nothing is missing.
        let declared: Vec<(String, u32)> = Code::ALL
            .iter()
            .map(|c| (c.name().to_owned(), c.number()))
            .collect();
        assert_eq!(header_codes(), declared);
    }

    #[test]
    fn messages_are_cut_on_a_character_boundary() {
        let long = "é".repeat(400);
        let status = ycm_status::error(&Error::invalid_argument(long));
        let text = unsafe { CStr::from_ptr(status.message.as_ptr()) };
        let text = text.to_str().expect("valid UTF-8");
        assert_eq!(text.len(), 510);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
    }

    #[test]
    fn a_panic_becomes_internal() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status.code, ycm_code::YCM_ERR_INTERNAL);
        assert_eq!(status.attempts, 0);
    }
}
