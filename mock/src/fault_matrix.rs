//! The fault matrix as data: for each scripted [`Case`] of the fault peer, what one update
//! call of a ycm client configured as [`SUITE_CLIENT`] must end with (code name, HTTP
//! status, attempts, a message fragment, the envelope data it reports, and how long it may
//! take). This is the one table the Rust (`tests/fault_matrix.rs`), C
//! (`bindings/c/tests/test_faults.c`) and Python (`bindings/python/tests/test_faults.py`)
//! fault suites read: the Rust one through this module, the others through
//! `ycm-fault-server --cases-json` and `--cases-tsv` ([`table_json`], [`table_tsv`]). The
//! expectations are the client's documented behaviour under that configuration; the mock
//! only states them, it shares no code with the client.

use serde::Serialize;
use serde_json::{json, Value};

use crate::scripted::{Case, REQUEST_ID, RETRY_AFTER_SECS, TIME};

/// The client options the expectations assume (the access token is any accepted one; the
/// peer does not check it). A row may change the budget (`timeout_ms`) and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClientConfig {
    /// The whole call's budget.
    pub timeout_ms: u64,
    /// Per connection attempt.
    pub connect_timeout_ms: u64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff base and cap (short, so retried cases stay fast).
    pub retry_base_ms: u64,
    /// Backoff cap.
    pub retry_max_ms: u64,
}

/// The configuration of every suite: 1.5 s per call, 500 ms per connect, 2 retries with
/// short waits.
pub const SUITE_CLIENT: ClientConfig = ClientConfig {
    timeout_ms: 1500,
    connect_timeout_ms: 500,
    max_retries: 2,
    retry_base_ms: 10,
    retry_max_ms: 50,
};

const fn with_budget(timeout_ms: u64) -> ClientConfig {
    ClientConfig {
        timeout_ms,
        ..SUITE_CLIENT
    }
}

/// Added to the budget where an elapsed bound only guards against a hang: generous, so the
/// bound catches hangs, not slowness (sanitizers, valgrind, a loaded machine).
pub const HANG_SLACK_MS: u64 = 3000;

/// How far below the announced `Retry-After` a measured wait may end (clock granularity).
const CLOCK_SLOP_MS: u64 = 50;

/// How long the call may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Elapsed {
    /// Returns within its budget (plus [`HANG_SLACK_MS`]).
    WithinBudget,
    /// Waits for the peer's `Retry-After` before retrying, and still returns within its
    /// budget (plus [`HANG_SLACK_MS`]).
    WaitsForRetryAfter,
    /// Gives up at once, without waiting for a `Retry-After` longer than its budget.
    StopsBeforeRetryAfter,
}

impl Elapsed {
    /// Inclusive lower and exclusive upper bound in milliseconds, for a call with this
    /// budget.
    pub fn bounds_ms(self, timeout_ms: u64) -> (u64, u64) {
        let retry_after = RETRY_AFTER_SECS * 1000 - CLOCK_SLOP_MS;
        match self {
            Elapsed::WithinBudget => (0, timeout_ms + HANG_SLACK_MS),
            Elapsed::WaitsForRetryAfter => (retry_after, timeout_ms + HANG_SLACK_MS),
            Elapsed::StopsBeforeRetryAfter => (0, retry_after),
        }
    }
}

/// One row: a case served by the peer, a client configuration, and the outcome.
#[derive(Clone, Copy, Debug)]
pub struct Expected {
    /// The row's name: the case's name, or a variant of it for a second configuration.
    pub name: &'static str,
    /// The script the peer serves.
    pub case: Case,
    /// The client's options.
    pub client: ClientConfig,
    /// The status code's C name (`ycm_code_name`): `"YCM_OK"`, `"YCM_ERR_TIMEOUT"`, ...
    pub code: &'static str,
    /// HTTP status of the last response; 0 when none was received.
    pub http_status: u16,
    /// HTTP attempts the call made (each one reaches the peer).
    pub attempts: u32,
    /// A fragment the error message contains (`None` for a success: its message is empty).
    pub message: Option<&'static str>,
    /// The `api_errcode` reported, when checked.
    pub api_errcode: Option<i64>,
    /// Whether the call reports the envelope's `requestId` ([`REQUEST_ID`]) and `time`
    /// ([`TIME`]); when false they are not checked.
    pub envelope: bool,
    /// How long the call may take.
    pub elapsed: Elapsed,
}

const TIMED_OUT: &str = "did not complete within timeout_ms";
const NOT_FOUND: &str = "user not found (errcode 20001)";

const fn failure(
    case: Case,
    code: &'static str,
    http_status: u16,
    attempts: u32,
    message: &'static str,
) -> Expected {
    Expected {
        name: case.name(),
        case,
        client: SUITE_CLIENT,
        code,
        http_status,
        attempts,
        message: Some(message),
        api_errcode: None,
        envelope: false,
        elapsed: Elapsed::WithinBudget,
    }
}

const fn api_failure(case: Case, message: &'static str, api_errcode: Option<i64>) -> Expected {
    Expected {
        api_errcode,
        envelope: true,
        ..failure(case, "YCM_ERR_API", 200, 1, message)
    }
}

/// The matrix: every case of [`Case::ALL`] under [`SUITE_CLIENT`] (a row named after it),
/// plus `429-then-200` under two budgets, one that leaves room for its `Retry-After` and one
/// that does not. The first row has [`SUITE_CLIENT`] (the C suite takes it from there).
pub const FAULT_MATRIX: [Expected; 21] = [
    failure(Case::Silent, "YCM_ERR_TIMEOUT", 0, 1, TIMED_OUT),
    failure(
        Case::StallAfterHeaders,
        "YCM_ERR_TIMEOUT",
        200,
        1,
        TIMED_OUT,
    ),
    failure(Case::Drip, "YCM_ERR_TIMEOUT", 0, 1, TIMED_OUT),
    failure(
        Case::CloseMidBody,
        "YCM_ERR_IO",
        200,
        3,
        "connection failed",
    ),
    failure(Case::Reset, "YCM_ERR_IO", 0, 3, "connection failed"),
    failure(Case::NonJson200, "YCM_ERR_BAD_RESPONSE", 200, 1, "not JSON"),
    failure(
        Case::MissingRequestId,
        "YCM_ERR_BAD_RESPONSE",
        200,
        1,
        "\"requestId\" is missing",
    ),
    failure(
        Case::MissingStatus,
        "YCM_ERR_BAD_RESPONSE",
        200,
        1,
        "\"status\" is missing",
    ),
    failure(
        Case::MissingTime,
        "YCM_ERR_BAD_RESPONSE",
        200,
        1,
        "\"time\" is missing",
    ),
    failure(
        Case::Huge,
        "YCM_ERR_BAD_RESPONSE",
        200,
        1,
        "larger than max_response_bytes",
    ),
    failure(
        Case::Html502,
        "YCM_ERR_HTTP",
        502,
        3,
        "HTTP 502: Bad Gateway",
    ),
    Expected {
        message: None,
        envelope: true,
        ..failure(Case::ServiceUnavailableThenOk, "YCM_OK", 200, 2, "")
    },
    // The budget leaves room for the one-second wait after the first attempt, even under
    // valgrind.
    Expected {
        client: with_budget(5000),
        message: None,
        envelope: true,
        elapsed: Elapsed::WaitsForRetryAfter,
        ..failure(Case::TooManyRequestsThenOk, "YCM_OK", 200, 2, "")
    },
    Expected {
        name: "429-retry-after-beyond-budget",
        client: with_budget(500),
        elapsed: Elapsed::StopsBeforeRetryAfter,
        ..failure(
            Case::TooManyRequestsThenOk,
            "YCM_ERR_RATE_LIMITED",
            429,
            1,
            "HTTP 429",
        )
    },
    api_failure(Case::FailedErrcode, NOT_FOUND, Some(20001)),
    api_failure(Case::FailedErrno, NOT_FOUND, Some(20001)),
    api_failure(Case::FailedDetailMessage, NOT_FOUND, Some(20001)),
    api_failure(Case::FailedMessage, "user not found", Some(0)),
    failure(
        Case::NotHttp,
        "YCM_ERR_BAD_RESPONSE",
        0,
        1,
        "not valid HTTP",
    ),
    failure(Case::RedirectElsewhere, "YCM_ERR_HTTP", 307, 1, "HTTP 307"),
    // The first request of a run meets the first encoding: a Failed envelope (HTTP 400)
    // echoing the bearer token, which reaches the message only as [REDACTED].
    Expected {
        api_errcode: Some(10001),
        envelope: true,
        ..failure(
            Case::EchoEveryForm,
            "YCM_ERR_API",
            400,
            1,
            "unknown credential [REDACTED]",
        )
    },
];

impl Expected {
    /// Inclusive lower and exclusive upper bound of the call's duration, in milliseconds.
    pub fn elapsed_bounds_ms(&self) -> (u64, u64) {
        self.elapsed.bounds_ms(self.client.timeout_ms)
    }

    /// This row as a JSON object (absent checks are `null`).
    pub fn to_json(&self) -> Value {
        let (min, max) = self.elapsed_bounds_ms();
        json!({
            "name": self.name,
            "case": self.case.name(),
            "client": self.client,
            "code": self.code,
            "http_status": self.http_status,
            "attempts": self.attempts,
            "message": self.message,
            "api_errcode": self.api_errcode,
            "request_id": self.envelope.then_some(REQUEST_ID),
            "time": self.envelope.then_some(TIME),
            "elapsed": self.elapsed,
            "min_elapsed_ms": min,
            "max_elapsed_ms": max,
        })
    }
}

/// The whole table as JSON (`ycm-fault-server --cases-json`): `{"client": SUITE_CLIENT,
/// "hang_slack_ms", "cases": [row, ...]}`, each row as [`Expected::to_json`].
pub fn table_json() -> Value {
    json!({
        "client": SUITE_CLIENT,
        "hang_slack_ms": HANG_SLACK_MS,
        "cases": FAULT_MATRIX.iter().map(Expected::to_json).collect::<Vec<_>>(),
    })
}

/// The columns of [`table_tsv`], in order.
pub const TSV_COLUMNS: [&str; 12] = [
    "name",
    "case",
    "code",
    "http_status",
    "attempts",
    "api_errcode",
    "request_id",
    "time",
    "min_elapsed_ms",
    "max_elapsed_ms",
    "client",
    "message",
];

/// The whole table as tab-separated lines for C (`ycm-fault-server --cases-tsv`): a first
/// line `#` followed by [`TSV_COLUMNS`], then one line per row; an unchecked value is `-`,
/// `client` is the options as a compact JSON object, and `message` comes last (no field
/// holds a tab or a newline).
pub fn table_tsv() -> String {
    let mut out = format!("#{}\n", TSV_COLUMNS.join("\t"));
    for row in &FAULT_MATRIX {
        let (min, max) = row.elapsed_bounds_ms();
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let fields = [
            row.name.to_string(),
            row.case.name().to_string(),
            row.code.to_string(),
            row.http_status.to_string(),
            row.attempts.to_string(),
            or_dash(row.api_errcode.map(|c| c.to_string())),
            or_dash(row.envelope.then(|| REQUEST_ID.to_string())),
            or_dash(row.envelope.then(|| TIME.to_string())),
            min.to_string(),
            max.to_string(),
            json!(row.client).to_string(),
            or_dash(row.message.map(str::to_string)),
        ];
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_has_its_row_and_names_are_unique() {
        for case in Case::ALL {
            assert!(
                FAULT_MATRIX
                    .iter()
                    .any(|row| row.name == case.name() && row.case == case),
                "{case:?} has no row of its own"
            );
        }
        let mut names: Vec<_> = FAULT_MATRIX.iter().map(|row| row.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAULT_MATRIX.len());
    }

    #[test]
    fn rows_are_consistent() {
        assert_eq!(FAULT_MATRIX[0].client, SUITE_CLIENT);
        for row in &FAULT_MATRIX {
            let ok = row.code == "YCM_OK";
            assert_eq!(ok, row.message.is_none(), "{}", row.name);
            assert!(row.code.starts_with("YCM_"), "{}", row.name);
            assert!(row.attempts >= 1 && row.attempts <= row.client.max_retries + 1);
            assert_eq!(
                row.client.timeout_ms == SUITE_CLIENT.timeout_ms,
                row.client == SUITE_CLIENT
            );
            let (min, max) = row.elapsed_bounds_ms();
            assert!(min < max, "{}", row.name);
        }
    }

    #[test]
    fn the_tsv_has_one_line_per_row_with_every_column() {
        let tsv = table_tsv();
        let lines: Vec<&str> = tsv.lines().collect();
        assert_eq!(lines.len(), FAULT_MATRIX.len() + 1);
        for (line, row) in lines[1..].iter().zip(&FAULT_MATRIX) {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), TSV_COLUMNS.len(), "{line}");
            assert_eq!(fields[0], row.name);
            assert_eq!(fields[11], row.message.unwrap_or("-"));
        }
        let json = table_json();
        assert_eq!(
            json["cases"].as_array().map(Vec::len),
            Some(FAULT_MATRIX.len())
        );
        assert_eq!(json["cases"][0]["client"]["timeout_ms"], 1500);
    }
}
