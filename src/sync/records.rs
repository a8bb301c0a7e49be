//! Records: the user's own desired state, read from CSV (a header row of wire names:
//! `userId` and any update field; an empty cell leaves that field alone; `pbxCreationLimit`
//! is an integer or `unlimited`; a UTF-8 BOM is accepted) or JSONL (one object per line with
//! wire values exactly: `""` clears a string field, `""` for `pbxCreationLimit` means no
//! limit). Every record is checked with the rules of an update before anything is sent: a bad
//! value, a bad `userId` or a `userId` given twice makes that record invalid, naming its row
//! and column, while the others go on. An input that is unusable as a whole (not UTF-8, no
//! `userId` column, an unknown column, broken CSV) is refused with an error and nothing at
//! all is sent; CSV is read strictly ([`super::csv_strict`]), and a cell escaped against
//! spreadsheet formulas is read back as its value ([`super::csv_cell`]). A CSV cell is read
//! in its field's one text form ([`crate::fields::text`]). The read-only columns of an export
//! ([`crate::fields::READ_ONLY`]), a two-factor `enable` (which cannot be sent) and the
//! columns `errorCode` and `errorMessage` (written by the failed-rows file) are read and
//! ignored, so an export and that file can be fed back in as they are.

use super::csv_cell::unescape_cell;
use super::csv_strict;
use super::file_format::FileFormat;
use super::values::Values;
use crate::error::{Error, Result};
use crate::fields;
use crate::user::UserUpdate;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// The column (CSV) or key (JSONL) of the user id.
///
/// ```
/// assert_eq!(ycm::sync::parse_records(b"userId,company\n7,ACME\n", ycm::sync::Format::Csv)?.records[0].user_id, Some(7));
/// # Ok::<(), ycm::Error>(())
/// ```
pub const USER_ID: &str = fields::USER_ID;
/// The columns the failed-rows file adds, ignored when records are read back.
///
/// ```
/// let back = ycm::sync::parse_records(b"userId,company,errorCode,errorMessage\n7,ACME,YCM_ERR_TIMEOUT,slow\n", ycm::sync::Format::Csv)?;
/// assert_eq!(back.records[0].fields.len(), 1);
/// # Ok::<(), ycm::Error>(())
/// ```
pub const ERROR_COLUMNS: [&str; 2] = ["errorCode", "errorMessage"];

/// The format of an input file.
///
/// ```
/// assert_eq!(ycm::sync::Format::of_path("users.csv".as_ref()), Some(ycm::sync::Format::Csv));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format of a name: `"csv"` or `"jsonl"` (what the C and Python surfaces take).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The name of the format: `"csv"` or `"jsonl"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    /// The format a file name implies: `.csv`, or `.jsonl`/`.ndjson` (a `.json` name says
    /// one JSON document, which records are not: [`FileFormat`]).
    ///
    /// ```
    /// assert_eq!(ycm::sync::Format::of_path("users.json".as_ref()), None);
    /// ```
    pub fn of_path(path: &Path) -> Option<Format> {
        match FileFormat::of_path(path)? {
            FileFormat::Csv => Some(Format::Csv),
            FileFormat::Jsonl => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The [`FileFormat`] a file of records in this format has.
    pub fn file_format(self) -> FileFormat {
        match self {
            Format::Csv => FileFormat::Csv,
            Format::Jsonl => FileFormat::Jsonl,
        }
    }
}

/// Why one record cannot be used: where, and the rule it breaks.
///
/// ```
/// let records = ycm::sync::parse_records(b"userId,pbxCreationLimit\n7,0\n", ycm::sync::Format::Csv)?;
/// assert_eq!(records.records[0].error.as_ref().unwrap().column, "pbxCreationLimit");
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// The column (CSV) or key (JSONL) at fault.
    pub column: String,
    /// The rule, in words (names the field).
    pub message: String,
}

/// One desired state of one user.
///
/// ```
/// let records = ycm::sync::parse_records(b"{\"userId\":7,\"remark\":\"\"}\n", ycm::sync::Format::Jsonl)?;
/// let record = &records.records[0];
/// assert_eq!((record.row, record.user_id), (1, Some(7)));
/// assert!(record.update().is_some());
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Where it came from: the line number in the input (CSV: the header is row 1).
    pub row: usize,
    /// The user, when the id could be read.
    pub user_id: Option<i64>,
    /// The fields to set, by wire name, with their wire values.
    pub fields: Values,
    /// Set when the record breaks a rule; nothing is sent for it.
    pub error: Option<Box<RecordError>>,
}

impl Record {
    /// The record's fields as a checked update (`None` when the record is invalid).
    pub fn update(&self) -> Option<UserUpdate> {
        if self.error.is_some() {
            return None;
        }
        UserUpdate::from_map(&self.fields.to_map()).ok()
    }
}

/// Every record of one input, in input order.
///
/// ```
/// let records = ycm::sync::parse_records(b"userId,company\n7,ACME\n", ycm::sync::Format::Csv)?;
/// assert_eq!(records.input_hash.len(), 64);
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Records {
    /// The input's format (the failed-rows file is written in it).
    pub format: Format,
    /// SHA-256 of the input bytes, hex (recorded in plans and journals).
    pub input_hash: String,
    /// The records, valid or not.
    pub records: Vec<Record>,
}

impl Records {
    /// The records as JSON: `{"format":"csv","input_hash":"<sha256 hex>","records":[{"row":2,
    /// "userId":13329,"fields":{...wire values...},"error":null}]}`, an invalid record's
    /// `error` being `{"column":"pbxCreationLimit","message":"..."}` (`column` is `""` when
    /// the record as a whole is at fault) and an unreadable id giving `"userId":null`.
    pub fn to_json(&self) -> String {
        let records: Vec<Value> = self
            .records
            .iter()
            .map(|record| {
                serde_json::json!({
                    "row": record.row,
                    USER_ID: record.user_id,
                    "fields": record.fields,
                    "error": record.error.as_ref().map(|e| serde_json::json!({
                        "column": e.column,
                        "message": e.message,
                    })),
                })
            })
            .collect();
        serde_json::json!({
            "format": self.format.as_str(),
            "input_hash": self.input_hash,
            "records": records,
        })
        .to_string()
    }
}

/// Reads records from a file; the format comes from its extension.
///
/// ```no_run
/// let records = ycm::sync::read_records(std::path::Path::new("users.csv"))?;
/// println!("{} records", records.records.len());
/// # Ok::<(), ycm::Error>(())
/// ```
pub fn read_records(path: &Path) -> Result<Records> {
    let shown = path.display();
    let format = Format::of_path(path).ok_or_else(|| {
        Error::invalid_argument(match FileFormat::of_path(path) {
            Some(FileFormat::Json) => format!(
                "records file \"{shown}\": a .json name means one JSON document, and records are one JSON object per line: name the file .jsonl"
            ),
            _ => format!(
                "records file \"{shown}\": the name must end in .csv or .jsonl to tell its format"
            ),
        })
    })?;
    let bytes = read_regular_file(path).map_err(|e| {
        Error::invalid_argument(format!("records file \"{shown}\" cannot be read: {e}"))
    })?;
    parse_records(&bytes, format)
        .map_err(|e| Error::invalid_argument(format!("records file \"{shown}\": {}", e.message())))
}

/// The whole content of a regular file; anything else (a device, a FIFO, a directory) is
/// refused before it is read, as it could be read without end.
///
/// ```
/// let refused = ycm::sync::read_regular_file("/dev/zero".as_ref()).unwrap_err();
/// assert!(refused.to_string().contains("not a regular file (a character device)"));
/// ```
pub fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let refuse_unless_regular = |metadata: std::fs::Metadata| {
        if metadata.is_file() {
            Ok(metadata)
        } else {
            Err(std::io::Error::other(format!(
                "not a regular file ({})",
                file_kind(&metadata)
            )))
        }
    };
    // Looked at before it is opened (opening a FIFO waits for a writer), and again after.
    refuse_unless_regular(std::fs::metadata(path)?)?;
    let mut file = std::fs::File::open(path)?;
    let metadata = refuse_unless_regular(file.metadata()?)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    std::io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// What kind of file `metadata` describes, in words.
pub(crate) fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

/// Parses records from the bytes of an input in `format`.
///
/// ```
/// let err = ycm::sync::parse_records(b"company\nACME\n", ycm::sync::Format::Csv).unwrap_err();
/// assert!(err.message().contains("userId"));
/// ```
pub fn parse_records(bytes: &[u8], format: Format) -> Result<Records> {
    let input_hash = hex(&Sha256::digest(bytes));
    let mut records = match format {
        Format::Csv => parse_csv(bytes)?,
        Format::Jsonl => parse_jsonl(jsonl_text(bytes)?)?,
    };
    mark_duplicates(&mut records);
    Ok(Records {
        format,
        input_hash,
        records,
    })
}

/// The text of a JSONL input: UTF-8 (a BOM accepted), not UTF-16.
fn jsonl_text(bytes: &[u8]) -> Result<&str> {
    csv_strict::refuse_utf16(bytes)?;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        Error::invalid_argument(format!(
            "the input is not UTF-8 (line {line}, byte {})",
            e.valid_up_to()
        ))
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_update_field(name: &str) -> bool {
    fields::by_wire(name).is_some()
}

/// A column read and ignored: an export's read-only one, or one the failed-rows file adds.
fn is_ignored(name: &str) -> bool {
    fields::is_read_only(name) || ERROR_COLUMNS.contains(&name)
}

fn known_columns() -> String {
    let mut names = vec![USER_ID];
    names.extend(fields::FIELDS.iter().map(|f| f.wire));
    format!(
        "{}; read and ignored: {}, {}",
        names.join(", "),
        fields::READ_ONLY.join(", "),
        ERROR_COLUMNS.join(", ")
    )
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<Record>> {
    let mut rows = csv_strict::read(bytes)?.into_iter();
    let Some(header) = rows.next() else {
        return Err(Error::invalid_argument(format!(
            "the input is empty: the first row names the columns ({})",
            known_columns()
        )));
    };
    let headers: Vec<&str> = header.cells.iter().map(|name| name.trim()).collect();
    let mut user_id_column = None;
    for (i, name) in headers.iter().enumerate() {
        let name = *name;
        if name == USER_ID {
            user_id_column = Some(i);
        } else if !is_update_field(name) && !is_ignored(name) {
            return Err(Error::invalid_argument(format!(
                "row {}, column {}: unknown column \"{}\" (known: {})",
                header.line,
                i + 1,
                crate::response::cut(name, 64),
                known_columns()
            )));
        }
        if headers.iter().filter(|other| **other == name).count() > 1 {
            return Err(Error::invalid_argument(format!(
                "row {}: column \"{}\" appears more than once",
                header.line,
                crate::response::cut(name, 64)
            )));
        }
    }
    let Some(user_id_column) = user_id_column else {
        return Err(Error::invalid_argument(format!(
            "row {}: no \"{USER_ID}\" column (the header row names the columns: {})",
            header.line,
            known_columns()
        )));
    };
    let mut records = Vec::new();
    for row in rows {
        if row.cells.len() != headers.len() {
            return Err(Error::invalid_argument(format!(
                "row {}: {} cells where the header row has {} columns (nothing was sent)",
                row.line,
                row.cells.len(),
                headers.len()
            )));
        }
        let mut record = Record::at(row.line);
        let mut fields = Map::new();
        for (i, cell) in row.cells.into_iter().enumerate() {
            let name = headers[i];
            if i == user_id_column {
                match parse_user_id(&Value::String(unescape_cell(&cell).trim().to_string())) {
                    Ok(id) => record.user_id = Some(id),
                    Err(message) => record.fail(USER_ID, message),
                }
            } else if let Some(field) = fields::by_wire(name) {
                let cell = unescape_cell(&cell);
                match fields::text::parse(field, cell) {
                    Ok(Some(value)) => {
                        fields.insert(name.to_string(), value);
                    }
                    Ok(None) => {}
                    Err(message) => {
                        // Kept: the failed-rows file writes back what the input said.
                        fields.insert(name.to_string(), fields::text::refused(field, cell));
                        record.fail(name, message);
                    }
                }
            }
        }
        check_fields(&mut record, fields);
        records.push(record);
    }
    Ok(records)
}

fn parse_jsonl(text: &str) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let row = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut record = Record::at(row);
        let mut fields = Map::new();
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => {
                for (key, value) in map {
                    if key == USER_ID {
                        match parse_user_id(&value) {
                            Ok(id) => record.user_id = Some(id),
                            Err(message) => record.fail(USER_ID, message),
                        }
                    } else if is_ignored(&key) || leaves_alone(&key, &value) {
                    } else if is_update_field(&key) {
                        fields.insert(key, value);
                    } else {
                        // Escaped: a key may hold control characters (a NUL would cut
                        // the message short for C).
                        let message = format!(
                            "unknown field \"{}\" (known: {})",
                            crate::response::cut(&key, 64).escape_debug(),
                            known_columns()
                        );
                        record.fail(&key, message);
                    }
                }
                if record.user_id.is_none() && record.error.is_none() {
                    record.fail(USER_ID, format!("no \"{USER_ID}\""));
                }
            }
            Ok(_) => record.fail("", "the line is JSON but not an object".to_string()),
            Err(e) => record.fail("", format!("the line is not JSON: {e}")),
        }
        check_fields(&mut record, fields);
        records.push(record);
    }
    Ok(records)
}

/// A JSONL value that leaves its field alone: a two-factor `"enable"`, which an export
/// writes and no update can send.
fn leaves_alone(key: &str, value: &Value) -> bool {
    key == crate::user::TWO_FACTOR_FIELD && value.as_str() == Some("enable")
}

fn parse_user_id(value: &Value) -> std::result::Result<i64, String> {
    let id = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match id {
        Some(id) if id > 0 => Ok(id),
        _ => Err(format!(
            "\"{USER_ID}\" must be a positive integer, got {}",
            crate::response::cut(&value.to_string(), 40)
        )),
    }
}

impl Record {
    /// The record of input row `row`, before its cells are read.
    fn at(row: usize) -> Record {
        Record {
            row,
            user_id: None,
            fields: Values::default(),
            error: None,
        }
    }

    fn fail(&mut self, column: &str, message: String) {
        if self.error.is_none() {
            self.error = Some(Box::new(RecordError {
                column: column.to_string(),
                message,
            }));
        }
    }
}

/// Applies the update rules, field by field so that the error names its column, then to
/// the whole record (an empty record, the size limit); then keeps them in the record.
fn check_fields(record: &mut Record, fields: Map<String, Value>) {
    record.fields = Values::from_map(&fields);
    if record.error.is_some() {
        return;
    }
    for (name, value) in &fields {
        let single: Map<String, Value> = [(name.clone(), value.clone())].into_iter().collect();
        if let Err(e) = UserUpdate::from_map(&single) {
            record.fail(name, e.message().to_string());
            return;
        }
    }
    if fields.is_empty() {
        record.fail(
            "",
            "the record sets no field (every cell after userId is empty)".to_string(),
        );
        return;
    }
    if let Err(e) = UserUpdate::from_map(&fields) {
        record.fail("", e.message().to_string());
    }
}

/// Every record of a user id given more than once is invalid: which one is meant is unknown.
fn mark_duplicates(records: &mut [Record]) {
    let mut rows: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        if let Some(id) = record.user_id {
            rows.entry(id).or_default().push(i);
        }
    }
    for indexes in rows.values().filter(|v| v.len() > 1) {
        let all_rows: Vec<String> = indexes
            .iter()
            .map(|i| records[*i].row.to_string())
            .collect();
        for i in indexes {
            let message = format!(
                "\"{USER_ID}\" {} appears in more than one record (rows {})",
                records[*i].user_id.unwrap_or(0),
                all_rows.join(", ")
            );
            records[*i].error = Some(Box::new(RecordError {
                column: USER_ID.to_string(),
                message,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Records> {
        parse_records(text.as_bytes(), Format::Csv)
    }

    #[test]
    fn csv_cells_become_wire_values() {
        let records = csv(
            "\u{feff}userId,company,pbxCreationLimit,remark\n13329,ACME,unlimited,\n13330,,5,hi\n",
        )
        .unwrap();
        let [a, b] = &records.records[..] else {
            panic!("{records:?}")
        };
        assert_eq!((a.row, a.user_id, a.error.as_ref()), (2, Some(13329), None));
        assert_eq!(a.fields.get("company").unwrap(), "ACME");
        assert_eq!(a.fields.get("pbxCreationLimit").unwrap(), "");
        assert!(
            a.fields.get("remark").is_none(),
            "an empty cell leaves the field alone"
        );
        assert_eq!(b.fields.get("pbxCreationLimit").unwrap(), 5);
        assert!(b.fields.get("company").is_none());
        assert_eq!(records.input_hash.len(), 64);
    }

    #[test]
    fn bad_records_name_their_row_and_column_and_the_rest_stay() {
        let records = csv(
            "userId,twoFactorAuthenticationEnable,pbxCreationLimit\n1,on,\n2,,0\nx,disable,\n4,,\n5,disable,\n5,,7\n6,,9\n",
        )
        .unwrap();
        let errors: Vec<_> = records
            .records
            .iter()
            .map(|r| (r.row, r.error.as_ref().map(|e| e.column.as_str())))
            .collect();
        assert_eq!(
            errors,
            [
                (2, Some("twoFactorAuthenticationEnable")),
                (3, Some("pbxCreationLimit")),
                (4, Some("userId")),
                (5, Some("")),
                (6, Some("userId")),
                (7, Some("userId")),
                (8, None),
            ]
        );
        assert_eq!(
            records.records[1].fields.get("pbxCreationLimit"),
            Some(serde_json::json!(0)),
            "a refused cell is kept, for the failed-rows file"
        );
        let duplicate = records.records[4].error.as_ref().unwrap();
        assert!(duplicate.message.contains("rows 6, 7"), "{duplicate:?}");
    }

    #[test]
    fn an_unusable_input_is_refused_whole() {
        for (text, why) in [
            ("company\nACME\n", "no \"userId\" column"),
            ("userId,compny\n1,ACME\n", "unknown column \"compny\""),
            (
                "userId,company\n1,ACME,extra\n",
                "row 2: 3 cells where the header row has 2",
            ),
            (
                "userId,company\n1,\"AC\n2,x\n",
                "row 2, column 2: a quote opened here is never closed",
            ),
        ] {
            let err = csv(text).unwrap_err();
            assert!(err.message().contains(why), "{err}");
        }
        let err = parse_records(b"userId,company\n1,\xff\n", Format::Csv).unwrap_err();
        assert!(
            err.message()
                .contains("row 2, column 2: the cell is not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn jsonl_keeps_wire_values_and_reports_bad_lines() {
        let text = "{\"userId\":1,\"company\":\"\"}\n\n{\"userId\":2,\"pbxCreationLimit\":\"\"}\nnot json\n{\"userId\":3,\"compny\":\"x\"}\n{\"company\":\"x\"}\n";
        let records = parse_records(text.as_bytes(), Format::Jsonl).unwrap();
        let summary: Vec<_> = records
            .records
            .iter()
            .map(|r| (r.row, r.user_id, r.error.as_ref().map(|e| e.column.clone())))
            .collect();
        assert_eq!(
            summary,
            [
                (1, Some(1), None),
                (3, Some(2), None),
                (4, None, Some(String::new())),
                (5, Some(3), Some("compny".into())),
                (6, None, Some("userId".into())),
            ]
        );
        assert_eq!(
            records.records[0].fields.get("company").unwrap(),
            "",
            "\"\" clears the field"
        );
    }

    #[test]
    fn records_as_json_keep_rows_wire_values_and_errors() {
        let records =
            csv("userId,company,pbxCreationLimit\n13329,ACME,unlimited\n13330,,0\nx,B,\n").unwrap();
        let json: Value = serde_json::from_str(&records.to_json()).unwrap();
        assert_eq!(json["format"], "csv");
        assert_eq!(json["input_hash"], records.input_hash.as_str());
        let rows = json["records"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            serde_json::json!({"row": 2, "userId": 13329,
                "fields": {"company": "ACME", "pbxCreationLimit": ""}, "error": null})
        );
        assert_eq!(rows[1]["error"]["column"], "pbxCreationLimit");
        assert!(rows[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("pbxCreationLimit"));
        assert_eq!(rows[2]["userId"], Value::Null);
        assert_eq!(rows[2]["error"]["column"], "userId");
        assert_eq!(Format::from_name("jsonl"), Some(Format::Jsonl));
        assert_eq!(Format::from_name("CSV"), None);
        assert_eq!(Format::Csv.as_str(), "csv");
    }

    #[test]
    fn an_exports_read_only_columns_and_a_two_factor_enable_leave_fields_alone() {
        let records = csv(
            "userId,company,twoFactorAuthenticationEnable,pbxCreationLimit,createdCloudPbx,userType,createdReseller\n\
             1,ACME,enable,unlimited,3,Reseller,\n2,B,Disable,7,0,My Colleague,\n",
        )
        .unwrap();
        let [a, b] = &records.records[..] else {
            panic!("{records:?}")
        };
        assert_eq!((a.error.as_ref(), b.error.as_ref()), (None, None));
        assert_eq!(a.fields.names(), ["company", "pbxCreationLimit"]);
        assert_eq!(
            b.fields.get("twoFactorAuthenticationEnable").unwrap(),
            "disable"
        );
        let jsonl = "{\"userId\":1,\"company\":\"A\",\"twoFactorAuthenticationEnable\":\"enable\",\"createdCloudPbx\":3,\"userType\":\"Reseller\"}\n";
        let records = parse_records(jsonl.as_bytes(), Format::Jsonl).unwrap();
        assert_eq!(records.records[0].error, None);
        assert_eq!(records.records[0].fields.names(), ["company"]);
    }

    #[test]
    fn the_failed_rows_columns_are_read_back_and_ignored() {
        let records =
            csv("userId,company,errorCode,errorMessage\n1,ACME,YCM_ERR_TIMEOUT,slow\n").unwrap();
        assert_eq!(records.records[0].error, None);
        assert_eq!(records.records[0].fields.len(), 1);
    }
}
