//! The report of a run: one row per record (`userId`, `outcome`, the changed fields, `code`,
//! `message`, `requestId`, `attempts`), written as JSONL or CSV, and the failed-rows file:
//! every record that did not end `updated` or `unchanged`, in the input's own format, with
//! the columns `errorCode` and `errorMessage` added (the records reader ignores them, so the
//! file can be fed back in as it is). CSV is written through [`CsvWriter`], safe to open in a
//! spreadsheet.

use super::csv_cell::CsvWriter;
use super::plan::PlanItem;
use super::records::{Format, ERROR_COLUMNS, USER_ID};
use super::summary::Cost;
use crate::error::Code;
use crate::fields;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How one record ended.
///
/// ```
/// assert!(ycm::sync::Outcome::Conflict.is_problem());
/// assert_eq!(ycm::sync::Outcome::NotAttempted.as_str(), "not_attempted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The changed fields were sent and accepted.
    Updated,
    /// Nothing to send.
    Unchanged,
    /// The record breaks a local rule; nothing was sent.
    Invalid,
    /// No such user; nothing was sent.
    UnknownUser,
    /// A saved plan's "before" values no longer hold; left alone.
    Conflict,
    /// The update failed (see `code` and `message`).
    Failed,
    /// The run stopped before this record's turn.
    NotAttempted,
}

impl Outcome {
    /// Every outcome, in report order.
    ///
    /// ```
    /// assert_eq!(ycm::sync::Outcome::ALL.len(), 7);
    /// ```
    pub const ALL: [Outcome; 7] = [
        Outcome::Updated,
        Outcome::Unchanged,
        Outcome::Invalid,
        Outcome::UnknownUser,
        Outcome::Conflict,
        Outcome::Failed,
        Outcome::NotAttempted,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Invalid => "invalid",
            Outcome::UnknownUser => "unknown_user",
            Outcome::Conflict => "conflict",
            Outcome::Failed => "failed",
            Outcome::NotAttempted => "not_attempted",
        }
    }

    /// Whether the record needs the user's attention (everything but updated/unchanged).
    pub fn is_problem(self) -> bool {
        !matches!(self, Outcome::Updated | Outcome::Unchanged)
    }
}

/// One record's row of the report.
///
/// ```
/// let row = ycm::sync::ReportRow { row: 2, user_id: Some(7), outcome: ycm::sync::Outcome::Updated, changed: vec!["company"], code: "YCM_OK", message: String::new(), request_id: "r".into(), attempts: 1 };
/// assert!(!row.outcome.is_problem());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportRow {
    /// The record's row in the input.
    pub row: usize,
    /// The user.
    #[serde(rename = "userId")]
    pub user_id: Option<i64>,
    /// How it ended.
    pub outcome: Outcome,
    /// The fields sent (or that would have been), by wire name (the names of
    /// [`crate::fields::FIELDS`]: a report holds one row per record, so nothing is copied).
    pub changed: Vec<&'static str>,
    /// The status code name (`YCM_OK`, `YCM_ERR_TIMEOUT`, ...: [`crate::Code::name`]); empty
    /// when nothing was sent.
    pub code: &'static str,
    /// Why it ended so, when not `updated`/`unchanged`.
    pub message: String,
    /// The envelope's `requestId` of the update.
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// HTTP attempts made for the record.
    pub attempts: u32,
}

/// The columns of a report row as text, in order (the report's CSV header).
///
/// ```
/// assert_eq!(ycm::sync::REPORT_COLUMNS[1], "userId");
/// ```
pub const REPORT_COLUMNS: [&str; 8] = [
    "row",
    USER_ID,
    "outcome",
    "changed",
    "code",
    "message",
    "requestId",
    "attempts",
];

impl ReportRow {
    /// The row's cells under [`REPORT_COLUMNS`]; `changed` joins the field names with `;`.
    pub fn cells(&self) -> [String; 8] {
        [
            self.row.to_string(),
            self.user_id.map(|id| id.to_string()).unwrap_or_default(),
            self.outcome.as_str().to_string(),
            self.changed.join(";"),
            self.code.to_string(),
            self.message.clone(),
            self.request_id.clone(),
            self.attempts.to_string(),
        ]
    }
}

/// A [`ReportRow`] as read back (from a journal), before its names are matched with the
/// library's own.
#[derive(Deserialize)]
struct RowAsRead {
    row: usize,
    #[serde(rename = "userId")]
    user_id: Option<i64>,
    outcome: Outcome,
    changed: Vec<String>,
    code: String,
    message: String,
    #[serde(rename = "requestId")]
    request_id: String,
    attempts: u32,
}

impl<'de> Deserialize<'de> for ReportRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ReportRow, D::Error> {
        ReportRow::from_read(RowAsRead::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl ReportRow {
    fn from_read(read: RowAsRead) -> Result<ReportRow, String> {
        let code = match read.code.as_str() {
            "" => "",
            name => Code::ALL
                .iter()
                .map(|code| code.name())
                .find(|known| *known == name)
                .ok_or_else(|| format!("unknown code {name:?}"))?,
        };
        let changed = read
            .changed
            .iter()
            .map(|name| {
                fields::by_wire(name)
                    .map(|field| field.wire)
                    .ok_or_else(|| format!("unknown field {name:?}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(ReportRow {
            row: read.row,
            user_id: read.user_id,
            outcome: read.outcome,
            changed,
            code,
            message: read.message,
            request_id: read.request_id,
            attempts: read.attempts,
        })
    }
}

/// Why a run stopped before its end.
///
/// ```
/// assert_eq!(serde_json::to_string(&ycm::sync::StopReason::CredentialsRefused).unwrap(), "\"credentials_refused\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The caller's cancel flag.
    Cancelled,
    /// The progress callback asked to abort.
    Aborted,
    /// The server refused the credentials (YCM blocks an IP after 5 failed
    /// authentications: nothing more is sent).
    CredentialsRefused,
    /// `max_failures` records failed.
    MaxFailures,
    /// The server kept throttling after every retry.
    RateLimited,
    /// The journal could not be written (disk full, quota, file size limit): it was cut
    /// back to its last whole line, and a rerun resumes from it.
    JournalFailed,
}

impl StopReason {
    /// Every reason.
    ///
    /// ```
    /// assert!(ycm::sync::StopReason::ALL.contains(&ycm::sync::StopReason::JournalFailed));
    /// ```
    pub const ALL: [StopReason; 6] = [
        StopReason::Cancelled,
        StopReason::Aborted,
        StopReason::CredentialsRefused,
        StopReason::MaxFailures,
        StopReason::RateLimited,
        StopReason::JournalFailed,
    ];

    /// The name used in reports and events: `cancelled`, `aborted`, `credentials_refused`,
    /// `max_failures`, `rate_limited`, `journal_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Cancelled => "cancelled",
            StopReason::Aborted => "aborted",
            StopReason::CredentialsRefused => "credentials_refused",
            StopReason::MaxFailures => "max_failures",
            StopReason::RateLimited => "rate_limited",
            StopReason::JournalFailed => "journal_failed",
        }
    }
}

/// The outcome of a run, one row per record in input order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The rows.
    pub rows: Vec<ReportRow>,
    /// Set when the run stopped early.
    pub stopped: Option<StopReason>,
    /// The error that stopped the run, in words, when one did (the journal's write error,
    /// naming the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_error: Option<String>,
    /// HTTP 429 responses met.
    pub throttled: u64,
    /// What the run cost: its plan's reads (when the plan was made in this process) and its
    /// updates ([`Report::summary`] reports it).
    #[serde(default)]
    pub cost: Cost,
}

impl Report {
    /// The number of rows per outcome.
    pub fn counts(&self) -> BTreeMap<Outcome, usize> {
        let mut counts = BTreeMap::new();
        for row in &self.rows {
            *counts.entry(row.outcome).or_insert(0) += 1;
        }
        counts
    }

    /// The report as JSON (rows, counts, stop reason, and the run's [`Report::summary`] under
    /// `"summary"`).
    pub fn to_json(&self) -> String {
        let counts: Map<String, Value> = self
            .counts()
            .into_iter()
            .map(|(o, n)| (o.as_str().to_string(), Value::from(n)))
            .collect();
        serde_json::json!({
            "rows": self.rows,
            "counts": counts,
            "stopped": self.stopped,
            "stop_error": self.stop_error,
            "throttled": self.throttled,
            "summary": self.summary(),
        })
        .to_string()
    }

    /// One JSON object per row.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            out.push_str(&serde_json::to_string(row).expect("a row serialises"));
            out.push('\n');
        }
        out
    }

    /// A CSV with a header row ([`REPORT_COLUMNS`]; [`ReportRow::cells`] per row).
    pub fn to_csv(&self) -> String {
        let mut writer = CsvWriter::new(Vec::new());
        writer.record(REPORT_COLUMNS).expect("writes to memory");
        for row in &self.rows {
            writer.record(row.cells()).expect("writes to memory");
        }
        String::from_utf8(writer.finish().expect("flushes to memory")).expect("CSV of UTF-8")
    }

    /// The records that did not end `updated` or `unchanged`, in `format`, with the desired
    /// values of `items` (the plan's, in the same order as the rows) and the error columns.
    pub fn failed_rows(&self, items: &[PlanItem], format: Format) -> String {
        let failed: Vec<(&ReportRow, &PlanItem)> = self
            .rows
            .iter()
            .zip(items)
            .filter(|(row, _)| row.outcome.is_problem())
            .collect();
        match format {
            Format::Jsonl => {
                let mut out = String::new();
                for (row, item) in failed {
                    let mut object = Map::new();
                    if let Some(id) = item.user_id {
                        object.insert(USER_ID.into(), Value::from(id));
                    }
                    object.extend(item.desired.to_map());
                    object.insert(ERROR_COLUMNS[0].into(), Value::from(error_code(row)));
                    object.insert(ERROR_COLUMNS[1].into(), Value::from(row.message.clone()));
                    out.push_str(&Value::Object(object).to_string());
                    out.push('\n');
                }
                out
            }
            Format::Csv => {
                let mut columns: Vec<String> = Vec::new();
                for (_, item) in &failed {
                    for name in item.desired.names() {
                        if !columns.contains(&name) {
                            columns.push(name);
                        }
                    }
                }
                let mut writer = CsvWriter::new(Vec::new());
                let mut header = vec![USER_ID.to_string()];
                header.extend(columns.iter().cloned());
                header.extend(ERROR_COLUMNS.iter().map(|c| c.to_string()));
                writer.record(&header).expect("writes to memory");
                for (row, item) in failed {
                    let mut cells = vec![item.user_id.map(|id| id.to_string()).unwrap_or_default()];
                    let desired = item.desired.to_map();
                    for name in &columns {
                        cells.push(match desired.get(name) {
                            None => String::new(),
                            Some(value) => crate::fields::text::cell(name, value),
                        });
                    }
                    cells.push(error_code(row));
                    cells.push(row.message.clone());
                    writer.record(&cells).expect("writes to memory");
                }
                String::from_utf8(writer.finish().expect("flushes to memory"))
                    .expect("CSV of UTF-8")
            }
        }
    }
}

/// The error code column of a failed row: the status code, else the outcome.
fn error_code(row: &ReportRow) -> String {
    if row.code.is_empty() || row.code == "YCM_OK" {
        row.outcome.as_str().to_string()
    } else {
        row.code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reason_names_are_their_json() {
        for reason in StopReason::ALL {
            assert_eq!(
                serde_json::to_value(reason).unwrap(),
                Value::from(reason.as_str())
            );
        }
    }
}
