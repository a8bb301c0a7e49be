//! The journal of a run: an append-only JSONL file, held with an exclusive lock (`flock`) for
//! the whole run, one line written (one `write`, so a killed process loses nothing the
//! kernel has) per event and synced to disk when the run ends. The first line is a header
//! with the input's hash. Each update is journalled `sent` before its request leaves and
//! `done`, with its outcome, when it ends. Reopened by a rerun, it says which records are
//! done with the same desired values (skipped) and which were sent without a `done` (read
//! again and compared before anything is sent). A journal started for another input is
//! refused: its `done` records were compared with what YCM held then, not with the plan at
//! hand. A torn last line (a kill in mid-write) is cut off, and a torn header (no whole line
//! at all) reads as an empty journal; a bad line anywhere else is refused, naming it. An
//! append that fails (disk full, quota, `ulimit -f`) cuts the file back to its last whole
//! line before it reports the error, so the journal never holds a partial line in its
//! middle. Only a regular file (or a path where one can be created) is a journal: a device
//! or a FIFO would be read without end.

use super::report::ReportRow;
use super::values::Values;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

const JOURNAL_KIND: &str = "ycm-sync-journal";
const JOURNAL_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    journal: String,
    format_version: u32,
    input_hash: String,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Entry {
    Sent {
        #[serde(rename = "userId")]
        user_id: i64,
        desired: String,
    },
    Done {
        desired: String,
        #[serde(flatten)]
        row: ReportRow,
    },
}

/// What an earlier run recorded of a user.
///
/// ```
/// let path = std::env::temp_dir().join(format!("ycm-doc-{}.journal", std::process::id()));
/// let journal = ycm::sync::Journal::open(&path, "input-hash")?;
/// assert_eq!(journal.previous(7, "d"), ycm::sync::Previous::None);
/// # drop(journal); std::fs::remove_file(&path).unwrap();
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Previous {
    /// Nothing.
    None,
    /// Sent, and no `done` followed: the update may or may not have been applied.
    SentNotDone,
    /// Done with these desired values, ending as this row says.
    Done(ReportRow),
}

/// An open journal (see the module documentation).
///
/// ```
/// let path = std::env::temp_dir().join(format!("ycm-doc2-{}.journal", std::process::id()));
/// let mut journal = ycm::sync::Journal::open(&path, "input-hash")?;
/// journal.sent(7, "d")?;
/// assert_eq!(journal.previous(7, "d"), ycm::sync::Previous::SentNotDone);
/// # drop(journal); std::fs::remove_file(&path).unwrap();
/// # Ok::<(), ycm::Error>(())
/// ```
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Per user: the desired-values hash of its last `sent` without `done`, or its last done.
    sent: HashMap<i64, String>,
    done: HashMap<i64, (String, ReportRow)>,
    /// Whether a torn last line (or a torn header) was cut off when it was opened.
    pub repaired: bool,
    /// The length of the file up to its last whole line: where a failed append cuts back to.
    end: u64,
    /// The input hash of this run (and of the run that started the journal).
    input_hash: String,
}

/// The hash of a record's desired values, independent of their order.
///
/// ```
/// let a: ycm::sync::Values = serde_json::from_str(r#"{"company":"1","remark":"2"}"#).unwrap();
/// let b: ycm::sync::Values = serde_json::from_str(r#"{"remark":"2","company":"1"}"#).unwrap();
/// assert_eq!(ycm::sync::desired_hash(&a), ycm::sync::desired_hash(&b));
/// ```
pub fn desired_hash(desired: &Values) -> String {
    let desired = desired.to_map();
    let sorted: std::collections::BTreeMap<&String, &Value> = desired.iter().collect();
    let text = serde_json::to_string(&sorted).expect("values serialise");
    Sha256::digest(text.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Journal {
    /// Refuses the journal at `path` if a run over another input than `input_hash` started
    /// it, without opening it for writing or taking its lock: for a caller that asks for
    /// confirmation before a run. An absent journal, or one whose first line is not a
    /// header, passes (opening it says what is wrong).
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("ycm-doc3-{}.journal", std::process::id()));
    /// drop(ycm::sync::Journal::open(&path, "input-a")?);
    /// assert!(ycm::sync::Journal::check_input(&path, "input-a").is_ok());
    /// let refused = ycm::sync::Journal::check_input(&path, "input-b").unwrap_err();
    /// assert!(refused.message().contains("another input"));
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), ycm::Error>(())
    /// ```
    pub fn check_input(path: &Path, input_hash: &str) -> Result<()> {
        let Ok(file) = File::open(path) else {
            return Ok(());
        };
        let mut first = String::new();
        if BufReader::new(file).read_line(&mut first).is_err() {
            return Ok(());
        }
        match serde_json::from_str::<Header>(first.trim_end()) {
            Ok(header) => refuse_another_input(path, &header.input_hash, input_hash),
            Err(_) => Ok(()),
        }
    }

    /// Opens (or creates) the journal at `path` for a run over the input `input_hash`, locked
    /// for this process until it is dropped. Refused when another input's run started it.
    pub fn open(path: &Path, input_hash: &str) -> Result<Journal> {
        let shown = path.display();
        refuse_unless_regular(path, std::fs::metadata(path).ok())?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| {
                Error::invalid_argument(format!("journal \"{shown}\" cannot be opened: {e}"))
            })?;
        refuse_unless_regular(path, file.metadata().ok())?;
        // SAFETY: a valid descriptor; flock has no memory preconditions.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(Error::invalid_argument(format!(
                "journal \"{shown}\" is in use by another run (it is locked)"
            )));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| {
            Error::invalid_argument(format!("journal \"{shown}\" cannot be read: {e}"))
        })?;
        // A kill in mid-write may cut a character in two: only the torn last line may be
        // anything but UTF-8. Such a line is torn whatever it holds, and cut off below (read
        // with replacement characters it might parse, and be kept, ended with a newline, as
        // a line that the next rerun would refuse as not UTF-8).
        let complete_part = match bytes.iter().rposition(|b| *b == b'\n') {
            Some(end) => end + 1,
            None => 0,
        };
        let mut text = std::str::from_utf8(&bytes[..complete_part])
            .map_err(|e| Error::invalid_argument(format!("journal \"{shown}\" is not UTF-8: {e}")))?
            .to_string();
        let tail = std::str::from_utf8(&bytes[complete_part..]);
        if let Ok(tail) = tail {
            text.push_str(tail);
        }
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
            sent: HashMap::new(),
            done: HashMap::new(),
            repaired: false,
            end: complete_part as u64,
            input_hash: input_hash.to_string(),
        };
        if complete_part == 0 && !bytes.is_empty() {
            // A torn header: the run that started the journal was stopped in its first
            // write, before any update was sent. It reads as an empty journal.
            journal.cut_back()?;
            journal.repaired = true;
            text.clear();
        }
        if text.is_empty() {
            let header = Header {
                journal: JOURNAL_KIND.into(),
                format_version: JOURNAL_VERSION,
                input_hash: input_hash.into(),
            };
            journal.append(&serde_json::to_string(&header).expect("serialises"))?;
            return Ok(journal);
        }
        journal.load(&text)?;
        if tail.is_err() {
            journal.cut_back()?;
            journal.repaired = true;
        }
        Ok(journal)
    }

    fn load(&mut self, text: &str) -> Result<()> {
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        self.check_header(lines.first().copied().unwrap_or(""))?;
        for (i, line) in lines.iter().enumerate().skip(1) {
            match serde_json::from_str::<Entry>(line) {
                Ok(entry) => self.note(entry),
                Err(_) if i + 1 == lines.len() && !complete => {
                    // A kill in mid-write: cut the torn line off.
                    self.end = (text.len() - line.len()) as u64;
                    self.cut_back()?;
                    self.repaired = true;
                }
                Err(e) => return Err(self.corrupt(i + 1, e)),
            }
        }
        if complete || self.repaired {
            return Ok(());
        }
        // The last line parsed but lacks its newline: end it.
        self.file
            .seek(SeekFrom::End(0))
            .and_then(|_| self.file.write_all(b"\n"))
            .map_err(|e| self.write_error(e))?;
        self.end = text.len() as u64 + 1;
        Ok(())
    }

    /// Cuts the file back to [`Journal::end`], its last whole line.
    fn cut_back(&mut self) -> Result<()> {
        self.file.set_len(self.end).map_err(|e| {
            Error::new(
                crate::error::Code::Io,
                format!(
                    "journal \"{}\" cannot be cut back to its last whole line: {e}",
                    self.path.display()
                ),
            )
        })
    }

    /// Accepts the first line only if it is the header of a ycm journal of this version
    /// started for this run's input.
    fn check_header(&self, line: &str) -> Result<()> {
        let header: Header = serde_json::from_str(line).map_err(|e| self.corrupt(1, e))?;
        if header.journal != JOURNAL_KIND || header.format_version != JOURNAL_VERSION {
            return Err(Error::invalid_argument(format!(
                "journal \"{}\" is not a ycm sync journal of version {JOURNAL_VERSION}",
                self.path.display()
            )));
        }
        refuse_another_input(&self.path, &header.input_hash, &self.input_hash)
    }

    fn corrupt(&self, line_number: usize, e: serde_json::Error) -> Error {
        Error::invalid_argument(format!(
            "journal \"{}\" is corrupt at line {line_number}: {}; refusing to guess what was applied",
            self.path.display(),
            super::json_error::describe(&e)
        ))
    }

    fn note(&mut self, entry: Entry) {
        match entry {
            Entry::Sent { user_id, desired } => {
                self.sent.insert(user_id, desired);
            }
            Entry::Done { desired, row } => {
                if let Some(id) = row.user_id {
                    self.sent.remove(&id);
                    self.done.insert(id, (desired, row));
                }
            }
        }
    }

    /// Everything the journal holds: per user, the desired-values hash of a `sent` that no
    /// `done` followed, and the last `done` (for the fuzzing round trip).
    #[allow(clippy::type_complexity)]
    pub(crate) fn state(&self) -> (&HashMap<i64, String>, &HashMap<i64, (String, ReportRow)>) {
        (&self.sent, &self.done)
    }

    /// What earlier runs recorded of `user_id` for these desired values.
    pub fn previous(&self, user_id: i64, desired: &str) -> Previous {
        if self.sent.contains_key(&user_id) {
            return Previous::SentNotDone;
        }
        match self.done.get(&user_id) {
            Some((hash, row)) if hash == desired => Previous::Done(row.clone()),
            _ => Previous::None,
        }
    }

    /// Records that the update of `user_id` is about to be sent.
    pub fn sent(&mut self, user_id: i64, desired: &str) -> Result<()> {
        let entry = Entry::Sent {
            user_id,
            desired: desired.to_string(),
        };
        self.append(&serde_json::to_string(&entry).expect("serialises"))?;
        self.note(entry);
        Ok(())
    }

    /// Records how the update of a record ended.
    pub fn done(&mut self, desired: &str, row: &ReportRow) -> Result<()> {
        let entry = Entry::Done {
            desired: desired.to_string(),
            row: row.clone(),
        };
        self.append(&serde_json::to_string(&entry).expect("serialises"))?;
        self.note(entry);
        Ok(())
    }

    /// Syncs the journal to disk.
    pub fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| self.write_error(e))
    }

    fn append(&mut self, line: &str) -> Result<()> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        match self.file.write_all(&bytes) {
            Ok(()) => {
                self.end += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Part of the line may be in the file: cut it off, so that the next append
                // (once space is free again) does not leave a torn line in the middle.
                let error = self.write_error(e);
                self.cut_back()?;
                Err(error)
            }
        }
    }

    fn write_error(&self, e: std::io::Error) -> Error {
        Error::new(
            crate::error::Code::Io,
            format!("journal \"{}\" cannot be written: {e}", self.path.display()),
        )
    }
}

/// Refuses a journal path that exists and is not a regular file (a device such as
/// `/dev/full` or a FIFO would be read without end).
fn refuse_unless_regular(path: &Path, metadata: Option<std::fs::Metadata>) -> Result<()> {
    match metadata {
        Some(metadata) if !metadata.is_file() => Err(Error::invalid_argument(format!(
            "journal \"{}\" is not a regular file ({}): a journal is a file the run appends to and a rerun reads back",
            path.display(),
            super::records::file_kind(&metadata)
        ))),
        _ => Ok(()),
    }
}

/// The refusal of a journal that a run over the input `started` began, for a run over `this`.
fn refuse_another_input(path: &Path, started: &str, this: &str) -> Result<()> {
    if started == this {
        return Ok(());
    }
    let short = |hash: &str| hash.chars().take(12).collect::<String>();
    Err(Error::invalid_argument(format!(
        "journal \"{}\" belongs to a run over another input (sha256 {}, this input is {}): give a new journal file, or the input it was started with",
        path.display(),
        short(started),
        short(this)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report::Outcome;

    fn row(user_id: i64) -> ReportRow {
        ReportRow {
            row: 2,
            user_id: Some(user_id),
            outcome: Outcome::Updated,
            changed: vec!["company"],
            code: "YCM_OK",
            message: String::new(),
            request_id: "r".into(),
            attempts: 1,
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ycm-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[test]
    fn a_reopened_journal_knows_what_was_done_and_what_was_only_sent() {
        let path = temp("reopen");
        {
            let mut journal = Journal::open(&path, "h1").unwrap();
            journal.sent(1, "d1").unwrap();
            journal.done("d1", &row(1)).unwrap();
            journal.sent(2, "d2").unwrap();
        }
        let journal = Journal::open(&path, "h1").unwrap();
        assert_eq!(journal.previous(1, "d1"), Previous::Done(row(1)));
        assert_eq!(
            journal.previous(1, "other"),
            Previous::None,
            "new desired values"
        );
        assert_eq!(journal.previous(2, "d2"), Previous::SentNotDone);
        assert_eq!(journal.previous(3, "d3"), Previous::None);
        let second = Journal::open(&path, "h1").map(|_| ()).unwrap_err();
        assert!(second.message().contains("in use"), "{second}");
        drop(journal);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_cut_and_a_corrupt_one_refused() {
        let path = temp("torn");
        drop(Journal::open(&path, "h").unwrap());
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"event\":\"sent\",\"userId\":1,\"desired\":\"d\"}\n{\"event\":\"do");
        std::fs::write(&path, &text).unwrap();
        let journal = Journal::open(&path, "h").unwrap();
        assert!(journal.repaired);
        assert_eq!(journal.previous(1, "d"), Previous::SentNotDone);
        drop(journal);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));

        let mut text = std::fs::read_to_string(&path).unwrap();
        text.insert_str(text.find('\n').unwrap() + 1, "garbage\n");
        std::fs::write(&path, &text).unwrap();
        let err = Journal::open(&path, "h").map(|_| ()).unwrap_err();
        assert!(err.message().contains("corrupt at line 2"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    /// Found by the `journal` fuzz target: read with replacement characters, the line
    /// parsed, was kept and ended with a newline, and the next rerun refused the journal.
    #[test]
    fn a_torn_last_line_cut_inside_a_character_is_cut_even_if_it_would_parse() {
        let path = temp("torn-utf8");
        drop(Journal::open(&path, "h").unwrap());
        let whole = std::fs::read(&path).unwrap();
        let mut bytes = whole.clone();
        bytes.extend_from_slice(b"{\"event\":\"sent\",\"userId\":1,\"desired\":\"\xc3\"}");
        std::fs::write(&path, &bytes).unwrap();
        let journal = Journal::open(&path, "h").unwrap();
        assert!(journal.repaired);
        assert_eq!(journal.previous(1, "\u{fffd}"), Previous::None);
        drop(journal);
        assert_eq!(std::fs::read(&path).unwrap(), whole);
        let again = Journal::open(&path, "h").unwrap();
        assert!(!again.repaired);
        drop(again);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_torn_header_reads_as_empty_and_a_device_is_refused() {
        let path = temp("torn-header");
        std::fs::write(&path, "{\"journal\":\"ycm-sync-jo").unwrap();
        let journal = Journal::open(&path, "h").unwrap();
        assert!(journal.repaired);
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"journal\":\"ycm-sync-journal\"") && text.ends_with("}\n"));
        assert_eq!(text.lines().count(), 1, "{text}");
        std::fs::remove_file(&path).unwrap();
        let err = Journal::open(Path::new("/dev/full"), "h")
            .map(|_| ())
            .unwrap_err();
        assert!(
            err.message()
                .contains("not a regular file (a character device)"),
            "{err}"
        );
    }

    #[test]
    fn a_journal_of_another_input_is_refused_and_left_as_it_was() {
        let path = temp("other-input");
        {
            let mut journal = Journal::open(&path, "aaaaaaaaaaaaaaaa").unwrap();
            journal.sent(1, "d").unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        for refused in [
            Journal::open(&path, "bbbbbbbbbbbbbbbb").map(|_| ()),
            Journal::check_input(&path, "bbbbbbbbbbbbbbbb"),
        ] {
            let err = refused.unwrap_err();
            assert_eq!(err.code(), crate::error::Code::InvalidArgument);
            assert!(
                err.message()
                    .contains("another input (sha256 aaaaaaaaaaaa, this input is bbbbbbbbbbbb)"),
                "{err}"
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(Journal::check_input(&path, "aaaaaaaaaaaaaaaa").is_ok());
        assert!(Journal::check_input(&temp("absent"), "b").is_ok());
        std::fs::remove_file(&path).unwrap();
    }
}
