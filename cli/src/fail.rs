//! Exit codes, declared once ([`EXIT_CODES`], which `ycm help exit-codes` prints and the
//! README's table is tested against), and [`Failure`]: what a command that did not succeed
//! reports, with the exit code its cause maps to. A library error maps by its code: a
//! refused input (nothing sent) is 2, refused credentials 4, the rate or retry budget 5, a
//! cancellation 130 (143 and 129 when SIGTERM or SIGHUP stopped it), anything else 1;
//! under `sync plan --detailed-exitcode` every error is 1 ([`detailed`]).

use ycm::Code;

/// Success.
pub const OK: u8 = 0;
/// An error.
pub const ERROR: u8 = 1;
/// Bad usage or bad input, nothing sent.
pub const USAGE: u8 = 2;
/// `sync plan --detailed-exitcode`: updates pending and every record fine (under that flag,
/// bad usage and bad input exit [`ERROR`]: see [`detailed`]).
pub const PENDING: u8 = 2;
/// Finished, but some records were invalid, unknown_user, conflict or failed.
pub const PROBLEMS: u8 = 3;
/// The server refused the credentials.
pub const CREDENTIALS: u8 = 4;
/// Stopped by the rate or retry budget (or `--max-failures`); resumable with the journal.
pub const BUDGET: u8 = 5;
/// Interrupted (Ctrl-C); the journal is written.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM, after the same graceful stop as Ctrl-C.
pub const TERMINATED: u8 = 143;
/// Stopped by SIGHUP (a closed terminal or ssh session), after the same graceful stop.
pub const HUNG_UP: u8 = 129;

/// Every exit code with its meaning, in order.
pub const EXIT_CODES: [(u8, &str); 10] = [
    (OK, "success"),
    (ERROR, "error (connection, server, or anything not listed below)"),
    (USAGE, "bad usage or bad input, nothing sent"),
    (PENDING, "sync plan --detailed-exitcode: updates pending, every record fine (0: nothing to do; 3: records to look at; 1: any error, bad usage and bad input included)"),
    (PROBLEMS, "finished, but some records were invalid, unknown_user, conflict or failed (or not attempted)"),
    (CREDENTIALS, "credentials refused (YCM blocks an IP after 5 failed authentications: nothing more was sent)"),
    (BUDGET, "stopped by the rate or retry budget, or by --max-failures; rerun with the same --journal to resume"),
    (INTERRUPTED, "interrupted (Ctrl-C); the journal is written: rerun the same command to resume"),
    (TERMINATED, "stopped by SIGTERM, after the same graceful stop as Ctrl-C (report, failed rows and journal written)"),
    (HUNG_UP, "stopped by SIGHUP, after the same graceful stop as Ctrl-C (report, failed rows and journal written)"),
];

/// The text of `ycm help exit-codes`.
pub fn exit_codes_help() -> String {
    let mut out = String::from("Exit codes of ycm:\n\n");
    for (code, meaning) in EXIT_CODES {
        out.push_str(&format!("  {code:>3}  {meaning}\n"));
    }
    out
}

/// A command that did not succeed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The exit code.
    pub exit: u8,
    /// The library's code name (`YCM_ERR_TIMEOUT`), or `usage` for the CLI's own refusals.
    pub code: String,
    /// What went wrong, naming the argument and the rule.
    pub message: String,
    /// What is known about the exchange, when one happened.
    pub info: Option<ycm::CallInfo>,
}

impl Failure {
    /// Bad usage or input: exit 2, nothing sent.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: USAGE,
            code: "usage".into(),
            message: message.into(),
            info: None,
        }
    }

    /// Anything else: exit 1.
    pub fn error(message: impl Into<String>) -> Failure {
        Failure {
            exit: ERROR,
            code: "error".into(),
            message: message.into(),
            info: None,
        }
    }

    /// The error as JSON (for stderr when the output is JSON).
    pub fn to_json(&self) -> String {
        let mut error = serde_json::json!({
            "code": self.code,
            "message": self.message,
            "exit_code": self.exit,
        });
        if let Some(info) = &self.info {
            error["http_status"] = info.http_status.into();
            error["attempts"] = info.attempts.into();
            error["request_id"] = info.request_id.clone().into();
            if info.api_errcode != 0 {
                error["api_errcode"] = info.api_errcode.into();
            }
        }
        serde_json::json!({ "error": error }).to_string()
    }
}

/// A failure of `sync plan --detailed-exitcode`: any error but a stop by a signal exits
/// [`ERROR`], so that 2 never means anything but "updates pending".
pub fn detailed(mut failure: Failure) -> Failure {
    if failure.exit != OK && failure.exit < 128 {
        failure.exit = ERROR;
    }
    failure
}

/// Whether the command line asks for `sync plan --detailed-exitcode` (read from the raw
/// arguments, for the bad usage that clap refuses before a command exists).
pub fn detailed_asked(args: &[std::ffi::OsString]) -> bool {
    let words: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let has = |word: &str| words.iter().any(|w| *w == word);
    has("sync") && has("plan") && has("--detailed-exitcode")
}

/// The exit code of a library error.
pub fn exit_of(code: Code) -> u8 {
    match code {
        Code::NullArgument | Code::InvalidArgument | Code::InvalidUtf8 | Code::InvalidBody => USAGE,
        Code::Unauthorized => CREDENTIALS,
        Code::RateLimited => BUDGET,
        Code::Cancelled => INTERRUPTED,
        _ => ERROR,
    }
}

impl From<ycm::Error> for Failure {
    fn from(e: ycm::Error) -> Failure {
        let info = e.info().clone();
        Failure {
            exit: exit_of(e.code()),
            code: e.code().name().to_string(),
            message: e.message().to_string(),
            info: (info.attempts > 0).then_some(info),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_codes_map_to_the_documented_exit_codes() {
        assert_eq!(exit_of(Code::InvalidBody), USAGE);
        assert_eq!(exit_of(Code::Unauthorized), CREDENTIALS);
        assert_eq!(exit_of(Code::RateLimited), BUDGET);
        assert_eq!(exit_of(Code::Cancelled), INTERRUPTED);
        assert_eq!(exit_of(Code::Timeout), ERROR);
        let help = exit_codes_help();
        for code in [0, 1, 2, 3, 4, 5, 130, 143, 129] {
            assert!(help.contains(&format!(" {code}  ")), "{code}: {help}");
        }
    }
}
