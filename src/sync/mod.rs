//! Bulk sync: make YCM's users match the caller's own records, thousands at a time, under
//! YCM's rate limits, sending only what changed. [`read_records`] reads CSV or JSONL;
//! [`Plan::build`] reads the current state and diffs it; [`apply`] sends the updates with a
//! worker pool and a shared rate limiter, journalling each one so that a rerun resumes
//! without sending anything twice; the [`Report`] says how each record ended.
//!
//! ```no_run
//! use ycm::sync::{apply, read_records, ApplyOptions, Control, Plan};
//! # let client = ycm::Client::from_json(r#"{"base_url":"http://127.0.0.1:1","access_token":"t"}"#)?;
//! let records = read_records(std::path::Path::new("users.csv"))?;
//! let plan = Plan::build(&client, &records, None)?;
//! let options = ApplyOptions { journal: Some("users.journal".into()), ..ApplyOptions::default() };
//! let report = apply(&client, &plan, &options, |_event| Control::Continue)?;
//! print!("{}", report.to_csv());
//! # Ok::<(), ycm::Error>(())
//! ```

mod apply;
mod csv_cell;
mod csv_strict;
mod file_format;
mod journal;
mod journal_dir;
mod json_error;
mod options;
mod pace;
mod plan;
mod records;
mod report;
mod summary;
mod values;

pub use apply::{apply, ApplyOptions, Control, Event};
pub use csv_cell::{escape_cell, unescape_cell, CsvWriter, FORMULA_STARTS};
pub use file_format::FileFormat;
pub use journal::{desired_hash, Journal, Previous};
pub use journal_dir::{journal_in, prune_journals, JOURNAL_KEEP};
pub use options::{APPLY_OPTION_KEYS, MAX_CONCURRENCY};
pub use pace::Rate;
pub use plan::{Action, Change, Plan, PlanItem, PLAN_FORMAT_VERSION, USER_NOT_FOUND_ERRCODE};
pub use records::{
    parse_records, read_records, read_regular_file, Format, Record, RecordError, Records,
};
pub use report::{Outcome, Report, ReportRow, StopReason, REPORT_COLUMNS};
pub use summary::{Cost, RunFacts, Summary};
pub use values::{Changes, Values};
