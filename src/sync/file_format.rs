//! What a file name's extension means, declared once for every file ycm reads or writes:
//! `.csv` is CSV, `.jsonl` (or `.ndjson`) one JSON object per line, `.json` one JSON
//! document. Records are CSV or JSONL ([`super::Format`]), so a records file named `.json`
//! is refused with the name to give it; plans and summaries are one JSON document; a report
//! may be any of the three; the failed-rows file is in the input's own format.

use std::path::Path;

/// The format a file name says.
///
/// ```
/// use ycm::sync::FileFormat;
/// assert_eq!(FileFormat::of_path("report.JSON".as_ref()), Some(FileFormat::Json));
/// assert_eq!(FileFormat::of_path("users.ndjson".as_ref()), Some(FileFormat::Jsonl));
/// assert_eq!(FileFormat::of_path("users.txt".as_ref()), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileFormat {
    /// `.csv`: comma-separated values with a header row.
    Csv,
    /// `.jsonl` or `.ndjson`: one JSON object per line.
    Jsonl,
    /// `.json`: one JSON document.
    Json,
}

impl FileFormat {
    /// The endings known, in words, for messages.
    pub const ENDINGS: &'static str = ".csv, .jsonl or .json";

    /// The format the name's extension says (any case), if any.
    pub fn of_path(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(FileFormat::Csv),
            "jsonl" | "ndjson" => Some(FileFormat::Jsonl),
            "json" => Some(FileFormat::Json),
            _ => None,
        }
    }

    /// What the format is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            FileFormat::Csv => "CSV",
            FileFormat::Jsonl => "one JSON object per line",
            FileFormat::Json => "one JSON document",
        }
    }
}
