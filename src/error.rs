//! Errors: the one [`Error`] type every fallible call returns, with a message a user can act
//! on and a stable numeric [`Code`] (the number the C
//! ABI and the Python package expose). The error also carries what is known about the call
//! that failed: the HTTP status, the number of attempts, the YCM `requestId`, `time` and
//! `errcode`. Messages never hold a secret: nothing here ever formats a token or a client
//! secret, and a server's body is scrubbed of the secrets its request carried first.

use std::fmt;

/// Declares every code once: its doc comment, variant, number, C name, one-sentence
/// description and what to do about it. From that list it generates [`Code`] (with [`Code::ALL`] in declaration
/// order), [`Code::name`], [`Code::description`] and [`Code::what_to_do`]. The C enum `ycm_code` in
/// `ffi/status.rs` stays hand-written (cbindgen does not expand macros) and its tests
/// compare it with [`Code::ALL`] both ways, as the Python and README tests do.
macro_rules! codes {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident = $number:literal, $name:literal, $description:literal,
            what_to_do: $what_to_do:literal;
    )+) => {
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
            $( $(#[doc = $doc])+ $variant = $number, )+
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: [Code; [$($number),+].len()] = [$(Code::$variant),+];

            /// The C name of the code, for example `"YCM_ERR_TIMEOUT"`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)+
                }
            }

            /// One sentence describing the code.
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $description,)+
                }
            }

            /// What a caller (or the operator reading the message) should do about it; the
            /// documentation site's error-code page is generated from this.
            pub fn what_to_do(self) -> &'static str {
                match self {
                    $(Code::$variant => $what_to_do,)+
                }
            }
        }
    };
}

codes! {
    /// Success.
    Ok = 0, "YCM_OK", "The call succeeded.",
        what_to_do: "Nothing.";
    /// A required argument was missing (NULL from C).
    NullArgument = 1, "YCM_ERR_NULL_ARGUMENT",
        "A required argument was NULL; nothing was sent.",
        what_to_do: "Fix the calling code: pass a valid pointer for every argument the header does not mark as optional.";
    /// A bad argument: base URL, user id, token characters, page size, configuration.
    InvalidArgument = 2, "YCM_ERR_INVALID_ARGUMENT",
        "An argument or configuration value was invalid; nothing was sent.",
        what_to_do: "Fix the argument or configuration key the message names (a base URL with a scheme and host, a user id above 0, a known config key with a value of the right type); retrying the same call cannot succeed.";
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 3, "YCM_ERR_INVALID_UTF8",
        "A string argument was not valid UTF-8; nothing was sent.",
        what_to_do: "Convert the string to UTF-8 before passing it (for example from Latin-1 with iconv); retrying the same bytes cannot succeed.";
    /// The update body was refused: not JSON, not an object, empty, unknown field, wrong type,
    /// bad value or too large.
    InvalidBody = 4, "YCM_ERR_INVALID_BODY",
        "The update body broke a YCM rule; nothing was sent.",
        what_to_do: "Correct the field the message names (wire name, rule and value are in it) and send again; `ycm_validate_user_update` or `ycm users update --dry-run` checks a body without sending it.";
    /// Could not connect: DNS failure, connection refused, unreachable.
    Connect = 10, "YCM_ERR_CONNECT",
        "Could not connect to the server (DNS, refused or unreachable).",
        what_to_do: "Check the base URL's host and port, DNS, firewalls and any proxy (`proxy`, `HTTPS_PROXY`, `NO_PROXY`); ycm already retried within `max_retries`, so retry later or alert.";
    /// The call ran out of time.
    Timeout = 11, "YCM_ERR_TIMEOUT", "The call did not finish within its time budget.",
        what_to_do: "Raise `timeout_ms` (the whole call, retries and waits included) if the server is slow or far away, or `connect_timeout_ms` for slow connects; with a `rate_limit` set, the wait for the budget counts too.";
    /// TLS handshake or certificate verification failed.
    Tls = 12, "YCM_ERR_TLS", "The TLS handshake or certificate verification failed.",
        what_to_do: "If YCM sits behind a private CA, point `ca_file` at its PEM bundle; otherwise check the host name in the base URL, the server's certificate chain and the clock of this machine.";
    /// The connection failed during the exchange: reset, truncated, other I/O.
    Io = 13, "YCM_ERR_IO",
        "The connection failed during the exchange (reset, truncated or other I/O error).",
        what_to_do: "Usually transient (a reset or a proxy cutting the connection); the call was retried where safe, so retry later. If it repeats, check proxies and load balancers between you and YCM.";
    /// The server answered with a non-2xx status and no YCM envelope.
    Http = 20, "YCM_ERR_HTTP",
        "The server answered with an HTTP error status and no YCM envelope.",
        what_to_do: "Check the base URL (a path or a host that is not YCM's API gives 404 or an HTML page) and any proxy in between; `http_status` says what answered.";
    /// The access token or the client credentials were rejected.
    Unauthorized = 21, "YCM_ERR_UNAUTHORIZED",
        "The access token or client credentials were rejected.",
        what_to_do: "Check the access token or the client ID and secret (YCM blocks an address after 5 failed authentications in a row, so do not loop); with shared state, `ycm auth status` shows the refusal latch and `ycm auth reset` clears it once the secret is fixed.";
    /// The server was still throttling after the retry budget.
    RateLimited = 22, "YCM_ERR_RATE_LIMITED",
        "The server kept throttling the client after every retry.",
        what_to_do: "Set `rate_limit` to the account's budget (BURST/RATE/INTERVAL_S) so ycm paces itself, share it across processes with `shared_state`, or spread the work out; a sync run resumes from its journal.";
    /// The server answered with a YCM envelope whose status is `Failed`.
    Api = 23, "YCM_ERR_API",
        "YCM answered with status \"Failed\" (see api_errcode and the message).",
        what_to_do: "Read `api_errcode` and the message: the error-code page lists YCM's known codes and what to do for each; for a business rule (unknown user, limit), fix the data.";
    /// The response could not be understood: not JSON, fields missing, too large.
    BadResponse = 24, "YCM_ERR_BAD_RESPONSE", "The server's response could not be understood.",
        what_to_do: "If the message says the response was too large, raise `max_response_bytes`; otherwise the server is not answering as YCM does: check that the base URL points at YCM's API and not at a proxy's or a portal's page, and report the `request_id` to Yeastar if it does.";
    /// The caller stopped the call (its [`crate::Cancel`] was triggered).
    Cancelled = 30, "YCM_ERR_CANCELLED", "The call was stopped by the caller.",
        what_to_do: "Nothing, if you stopped the call; otherwise find what triggered the `ycm_cancel` (a signal with `ycm_cancel_new_on_signal`, a task cancellation in Python).";
    /// A bug in ycm: a caught panic or a broken invariant.
    Internal = 90, "YCM_ERR_INTERNAL", "An internal error in ycm (a bug); please report it.",
        what_to_do: "Report a bug with the message and the ycm version (`ycm_version()`); the client is still usable.";
}

impl Code {
    /// The stable number of this code.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The code with this number, if there is one.
    pub fn from_number(number: u32) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.number() == number)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_declaration_is_ordered_unique_and_named_by_one_rule() {
        let numbers: Vec<u32> = Code::ALL.iter().map(|c| c.number()).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        let names: HashSet<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        for code in Code::ALL {
            assert_eq!(Code::from_number(code.number()), Some(code));
            // The C name is the variant's name in SCREAMING_SNAKE_CASE after YCM_ERR_.
            let mut screaming = String::new();
            for c in format!("{code:?}").chars() {
                if c.is_ascii_uppercase() && !screaming.is_empty() {
                    screaming.push('_');
                }
                screaming.push(c.to_ascii_uppercase());
            }
            let expected = match code {
                Code::Ok => "YCM_OK".to_owned(),
                _ => format!("YCM_ERR_{screaming}"),
            };
            assert_eq!(code.name(), expected);
            let description = code.description();
            assert!(
                description.ends_with('.') && !description.contains('\n'),
                "{code:?}"
            );
        }
        assert_eq!(Code::from_number(5), None);
    }
}
