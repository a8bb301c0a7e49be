//! Errors: the one [`Error`] type every fallible call returns, with a message a user can act
//! on and a stable numeric [`Code`] (the number the C
//! ABI and the Python package expose). The error also carries what is known about the call
//! that failed: the HTTP status, the number of attempts, the YCM `requestId`, `time` and
//! `errcode`. Messages never hold a secret: nothing here ever formats a token or a client
//! secret, and a server's body is scrubbed of the secrets its request carried first.

use std::fmt;

/// Stable numeric error codes, grouped in ranges by cause. Numbers are never reused.
///
/// # Example
///
/// ```
/// use ycm::Code;
/// assert_eq!(Code::InvalidBody.number(), 4);
/// assert_eq!(Code::from_number(4), Some(Code::InvalidBody));
/// assert_eq!(Code::InvalidBody.name(), "YCM_ERR_INVALID_BODY");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum Code {
    /// Success.
    Ok = 0,
    /// A required argument was missing (NULL from C).
    NullArgument = 1,
    /// A bad argument: base URL, user id, token characters, page size, configuration.
    InvalidArgument = 2,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 3,
    /// The update body was refused: not JSON, not an object, empty, unknown field, wrong type,
    /// bad value or too large.
    InvalidBody = 4,
    /// Could not connect: DNS failure, connection refused, unreachable.
    Connect = 10,
    /// The call ran out of time.
    Timeout = 11,
    /// TLS handshake or certificate verification failed.
    Tls = 12,
    /// The connection failed during the exchange: reset, truncated, other I/O.
    Io = 13,
    /// The server answered with a non-2xx status and no YCM envelope.
    Http = 20,
    /// The access token or the client credentials were rejected.
    Unauthorized = 21,
    /// The server was still throttling after the retry budget.
    RateLimited = 22,
    /// The server answered with a YCM envelope whose status is `Failed`.
    Api = 23,
    /// The response could not be understood: not JSON, fields missing, too large.
    BadResponse = 24,
    /// The caller stopped the call (its [`crate::Cancel`] was triggered).
    Cancelled = 30,
    /// A bug in ycm: a caught panic or a broken invariant.
    Internal = 90,
}

impl Code {
    /// Every code, in numeric order.
    pub const ALL: [Code; 16] = [
        Code::Ok,
        Code::NullArgument,
        Code::InvalidArgument,
        Code::InvalidUtf8,
        Code::InvalidBody,
        Code::Connect,
        Code::Timeout,
        Code::Tls,
        Code::Io,
        Code::Http,
        Code::Unauthorized,
        Code::RateLimited,
        Code::Api,
        Code::BadResponse,
        Code::Cancelled,
        Code::Internal,
    ];

    /// The stable number of this code.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The code with this number, if there is one.
    pub fn from_number(number: u32) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.number() == number)
    }

    /// The C name of the code, for example `"YCM_ERR_TIMEOUT"`.
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "YCM_OK",
            Code::NullArgument => "YCM_ERR_NULL_ARGUMENT",
            Code::InvalidArgument => "YCM_ERR_INVALID_ARGUMENT",
            Code::InvalidUtf8 => "YCM_ERR_INVALID_UTF8",
            Code::InvalidBody => "YCM_ERR_INVALID_BODY",
            Code::Connect => "YCM_ERR_CONNECT",
            Code::Timeout => "YCM_ERR_TIMEOUT",
            Code::Tls => "YCM_ERR_TLS",
            Code::Io => "YCM_ERR_IO",
            Code::Http => "YCM_ERR_HTTP",
            Code::Unauthorized => "YCM_ERR_UNAUTHORIZED",
            Code::RateLimited => "YCM_ERR_RATE_LIMITED",
            Code::Api => "YCM_ERR_API",
            Code::BadResponse => "YCM_ERR_BAD_RESPONSE",
            Code::Cancelled => "YCM_ERR_CANCELLED",
            Code::Internal => "YCM_ERR_INTERNAL",
        }
    }

    /// One sentence describing the code.
    pub fn description(self) -> &'static str {
        match self {
            Code::Ok => "The call succeeded.",
            Code::NullArgument => "A required argument was NULL; nothing was sent.",
            Code::InvalidArgument => {
                "An argument or configuration value was invalid; nothing was sent."
            }
            Code::InvalidUtf8 => "A string argument was not valid UTF-8; nothing was sent.",
            Code::InvalidBody => "The update body broke a YCM rule; nothing was sent.",
            Code::Connect => "Could not connect to the server (DNS, refused or unreachable).",
            Code::Timeout => "The call did not finish within its time budget.",
            Code::Tls => "The TLS handshake or certificate verification failed.",
            Code::Io => {
                "The connection failed during the exchange (reset, truncated or other I/O error)."
            }
            Code::Http => "The server answered with an HTTP error status and no YCM envelope.",
            Code::Unauthorized => "The access token or client credentials were rejected.",
            Code::RateLimited => "The server kept throttling the client after every retry.",
            Code::Api => "YCM answered with status \"Failed\" (see api_errcode and the message).",
            Code::BadResponse => "The server's response could not be understood.",
            Code::Cancelled => "The call was stopped by the caller.",
            Code::Internal => "An internal error in ycm (a bug); please report it.",
        }
    }
}

/// What is known about the HTTP exchange behind a result, success or failure.
///
/// # Example
///
/// ```no_run
/// # let client = ycm::Client::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// match client.get_user(13329) {
///     Ok(read) => println!("requestId {}", read.info.request_id),
///     Err(e) => eprintln!("{e} (HTTP {}, {} attempts)", e.info().http_status, e.info().attempts),
/// }
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    /// HTTP status of the last response; 0 when none was received.
    pub http_status: u16,
    /// HTTP attempts made (1 + retries); 0 when nothing was sent.
    pub attempts: u32,
    /// The envelope's `requestId`; empty when absent.
    pub request_id: String,
    /// The envelope's `time` (Unix seconds); 0 when absent.
    pub time: i64,
    /// The YCM error code of a `Failed` envelope; 0 when absent.
    pub api_errcode: i64,
    /// The last response's `Retry-After`, in milliseconds; 0 when absent.
    pub retry_after_ms: u64,
}

/// The error of every fallible ycm call: a stable [`Code`], a message that names what was
/// wrong (the argument, field and rule, or the failure and the request), and what is known
/// about the exchange.
///
/// # Example
///
/// ```
/// use ycm::{Code, UserUpdate};
/// let err = UserUpdate::new().set("colour", "blue").unwrap_err();
/// assert_eq!(err.code(), Code::InvalidBody);
/// assert_eq!(err.info().attempts, 0); // refused before anything was sent
/// println!("{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
    info: CallInfo,
}

impl Error {
    /// An error with no exchange information (nothing was sent).
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error::with_info(code, message, CallInfo::default())
    }

    /// An error with the exchange information known so far.
    pub fn with_info(code: Code, message: impl Into<String>, info: CallInfo) -> Error {
        Error {
            code,
            message: message.into(),
            info,
        }
    }

    /// Shorthand for a [`Code::InvalidArgument`] error.
    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(Code::InvalidArgument, message)
    }

    /// Shorthand for a [`Code::InvalidBody`] error.
    pub fn invalid_body(message: impl Into<String>) -> Error {
        Error::new(Code::InvalidBody, message)
    }

    /// The stable numeric code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The message (also the `Display` text).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What is known about the exchange.
    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// The same error with the last response's `Retry-After` in its information.
    pub(crate) fn with_retry_after(mut self, retry_after: Option<std::time::Duration>) -> Error {
        self.info.retry_after_ms = retry_after.map_or(0, |d| d.as_millis() as u64);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the crate.
///
/// # Example
///
/// ```
/// fn company(client: &ycm::Client) -> ycm::Result<String> {
///     Ok(client.get_user(13329)?.value.company)
/// }
/// # let _ = company;
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
