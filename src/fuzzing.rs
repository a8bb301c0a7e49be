//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_regressions.rs`, which
//! replays the seed corpus and every saved crash through them. Each function feeds untrusted
//! input to one parser (the update body, the response envelope, the configuration, the token
//! endpoint's answer, a records file, a sync journal, a plan file) and asserts the invariants
//! a caller relies on; it panics only when an
//! invariant breaks, so any panic a fuzzer reports is a bug in ycm. Not part of the supported
//! API: hidden from the docs and free to change.

use crate::auth;
use crate::config::{check_access_token, Config};
use crate::error::Code;
use crate::response;
use crate::token_cache::Issued;
use crate::user::{UserUpdate, STRING_FIELDS};
use std::time::Instant;

/// The longest error message an invariant accepts, in bytes: messages quote server text only
/// in bounded excerpts, so a huge body must not make a huge message.
pub const MAX_MESSAGE_BYTES: usize = 2048;
/// The longest `requestId` kept from an envelope, in bytes.
pub const MAX_REQUEST_ID_BYTES: usize = 64;

/// Parses an update body; an accepted body must serialise to JSON that parses back to the
/// same update, and a refused one must say why with [`Code::InvalidBody`].
pub fn update_body(data: &str) {
    let update = match UserUpdate::from_json(data) {
        Ok(update) => update,
        Err(err) => {
            assert_eq!(err.code(), Code::InvalidBody, "{err}");
            assert!(!err.message().is_empty(), "empty message for {data:?}");
            return;
        }
    };
    let wire = update.to_json();
    let again = match UserUpdate::from_json(&wire) {
        Ok(again) => again,
        Err(err) => panic!("the body {wire:?} sent for {data:?} is refused when parsed: {err}"),
    };
    // Field order inside the update follows the input's key order when serde_json keeps
    // it (`preserve_order`), so compare field by field and through the canonical wire text.
    for name in STRING_FIELDS {
        assert_eq!(
            update.get(name),
            again.get(name),
            "field {name} of {data:?}"
        );
    }
    assert_eq!(update.pbx_limit(), again.pbx_limit(), "limit of {data:?}");
    assert_eq!(wire, again.to_json(), "wire text of {data:?}");
}

/// Splits a `response` fuzz input into its HTTP status and body: a first line holding the
/// status in decimal (`"502\n<html>..."`), or, when there is no such line, status 200 and the
/// whole input as the body.
pub fn split_status(data: &[u8]) -> (u16, &[u8]) {
    let Some(newline) = data.iter().position(|b| *b == b'\n') else {
        return (200, data);
    };
    match std::str::from_utf8(&data[..newline]).map(|line| line.trim().parse::<u16>()) {
        Ok(Ok(status)) => (status, &data[newline + 1..]),
        _ => (200, data),
    }
}

/// Interprets an HTTP response: only a 2xx gives `Ok`, every error has a useful bounded
/// message, and the `requestId` kept fits [`MAX_REQUEST_ID_BYTES`].
pub fn response(status: u16, body: &[u8]) {
    match response::interpret(status, None, body, 1, &crate::secret::Redactor::default()) {
        Ok(reply) => {
            assert!((200..=299).contains(&status), "Ok for HTTP {status}");
            assert_eq!(reply.info.http_status, status);
            assert!(reply.info.request_id.len() <= MAX_REQUEST_ID_BYTES);
        }
        Err(err) => {
            let message = err.message();
            assert!(!message.is_empty(), "empty message for HTTP {status}");
            assert!(
                message.len() <= MAX_MESSAGE_BYTES,
                "a {}-byte message for a {}-byte body",
                message.len(),
                body.len()
            );
            assert!(
                matches!(
                    err.code(),
                    Code::Unauthorized
                        | Code::RateLimited
                        | Code::Api
                        | Code::Http
                        | Code::BadResponse
                ),
                "code {:?} for HTTP {status}",
                err.code()
            );
            assert_eq!(err.info().http_status, status);
            assert!(err.info().request_id.len() <= MAX_REQUEST_ID_BYTES);
        }
    }
}

/// Parses a configuration object; an accepted one holds the rules the client relies on, a
/// refused one says why with [`Code::InvalidArgument`].
pub fn config(data: &str) {
    match Config::from_json(data) {
        Ok(config) => {
            assert!(matches!(config.base_url.scheme(), "http" | "https"));
            assert!(config.retry_max >= config.retry_base);
            assert!(!config.timeout.is_zero() && !config.connect_timeout.is_zero());
        }
        Err(err) => {
            assert_eq!(err.code(), Code::InvalidArgument, "{err}");
            assert!(!err.message().is_empty(), "empty message for {data:?}");
        }
    }
}

/// Parses a token endpoint answer both as a grant and as a refusal: an accepted grant holds a
/// token that fits the `Authorization` header and a lifetime the client can schedule, and
/// every reason given is non-empty (grants) and bounded.
pub fn token_grant(body: &[u8]) {
    match auth::parse_grant(body) {
        Ok(Issued {
            access,
            expires_in,
            renew_in,
            ..
        }) => {
            assert!(check_access_token(access.expose()).is_ok());
            assert!(!expires_in.is_zero());
            assert!(renew_in <= expires_in);
            // What the token cache does with every grant it accepts.
            assert!(
                Instant::now().checked_add(expires_in).is_some(),
                "expires_in {expires_in:?} cannot be scheduled"
            );
        }
        Err(why) => {
            assert!(!why.is_empty());
            assert!(
                why.len() <= MAX_MESSAGE_BYTES,
                "a {}-byte reason",
                why.len()
            );
        }
    }
    let refusal = auth::oauth_error(body, &crate::secret::Redactor::default());
    assert!(
        refusal.len() <= MAX_MESSAGE_BYTES,
        "a {}-byte refusal text for a {}-byte body",
        refusal.len(),
        body.len()
    );
}

/// Reads a records file (CSV when the first byte is even, JSONL when it is odd; the rest is
/// the file): a refusal and every record's error carry a non-empty, bounded message with no
/// NUL (C callers read messages as strings), and rows rise through the file.
pub fn records(data: &[u8]) {
    use crate::sync::{parse_records, Format};
    let Some((selector, bytes)) = data.split_first() else {
        return;
    };
    let format = if selector % 2 == 0 {
        Format::Csv
    } else {
        Format::Jsonl
    };
    let readable = |message: &str| {
        assert!(!message.is_empty());
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "a {}-byte message",
            message.len()
        );
        assert!(!message.contains('\0'), "a NUL in {message:?}");
    };
    match parse_records(bytes, format) {
        Ok(records) => {
            let mut last_row = 0;
            for record in &records.records {
                assert!(record.row > last_row, "rows {last_row} then {}", record.row);
                last_row = record.row;
                if let Some(error) = &record.error {
                    readable(&error.message);
                }
            }
        }
        Err(error) => {
            assert_eq!(error.code(), Code::InvalidArgument);
            readable(error.message());
        }
    }
}

/// A message an error of a sync file reader may carry: non-empty, bounded, no NUL.
fn readable(message: &str) {
    assert!(!message.is_empty());
    assert!(
        message.len() <= MAX_MESSAGE_BYTES,
        "a {}-byte message",
        message.len()
    );
    assert!(!message.contains('\0'), "a NUL in {message:?}");
}

/// A plan file, as `sync apply --plan` reads it (bytes that are not UTF-8 are refused before
/// parsing, so they have nothing to parse): a refusal is [`Code::InvalidArgument`] with a
/// readable message; an accepted plan writes JSON ([`crate::sync::Plan::to_json`]) that reads
/// back to the same plan and writes the same text again.
pub fn plan(data: &[u8]) {
    use crate::sync::Plan;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = match Plan::from_json(text) {
        Ok(plan) => plan,
        Err(error) => {
            assert_eq!(error.code(), Code::InvalidArgument, "{error}");
            readable(error.message());
            return;
        }
    };
    assert!(!plan.fresh);
    let written = plan.to_json();
    let again = match Plan::from_json(&written) {
        Ok(again) => again,
        Err(err) => panic!("the plan written as {written:?} is refused when read: {err}"),
    };
    assert_eq!(plan, again, "written as {written}");
    assert_eq!(written, again.to_json());
}

/// A file under the temporary directory, removed when dropped (a panic included).
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(what: &str) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("ycm-fuzz-{what}-{}-{n}", std::process::id());
        TempFile(std::env::temp_dir().join(name))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A journal file, opened by a rerun as `sync apply --journal` does, for the input its header
/// names (or another one when it names none). A refusal leaves the file as it was and says
/// why ([`Code::InvalidArgument`], a readable message). An accepted journal is left holding
/// whole lines only: the file as it was, cut back before a torn last line, ended with a
/// newline when its last line lacked one, or a fresh header when it held no whole line. It
/// then reopens as it is, with the same state, and that state written to a new journal
/// (every `done`, then every `sent` without a `done`) reads back the same.
pub fn journal(data: &[u8]) {
    use crate::sync::Journal;
    let first = data.split(|b| *b == b'\n').next().unwrap_or_default();
    let input_hash = serde_json::from_slice::<serde_json::Value>(first)
        .ok()
        .and_then(|header| Some(header.get("input_hash")?.as_str()?.to_string()))
        .unwrap_or_else(|| "fuzz-input".to_string());
    let file = TempFile::new("journal");
    std::fs::write(&file.0, data).expect("a temporary file");
    let read = || std::fs::read(&file.0).expect("the journal stays readable");
    let journal = match Journal::open(&file.0, &input_hash) {
        Ok(journal) => journal,
        Err(error) => {
            assert!(matches!(error.code(), Code::InvalidArgument), "{error:?}");
            readable(error.message());
            assert!(read() == data, "a refused journal was changed");
            return;
        }
    };
    let after = read();
    let whole = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if whole == 0 {
        assert_eq!(
            journal.repaired,
            !data.is_empty(),
            "a torn header is a repair"
        );
        assert_eq!(after.iter().filter(|b| **b == b'\n').count(), 1);
        assert!(after.ends_with(b"\n"));
    } else if whole == data.len() {
        assert!(!journal.repaired);
        assert!(after == data, "a whole journal was changed");
    } else if journal.repaired {
        assert!(
            after == data[..whole],
            "not cut back to its last whole line"
        );
    } else {
        assert!(after == [data, b"\n"].concat(), "not ended with a newline");
    }
    let state = clone_state(&journal);
    drop(journal);
    let reopened = Journal::open(&file.0, &input_hash)
        .unwrap_or_else(|e| panic!("the journal left by a reopen is refused: {e}"));
    assert!(!reopened.repaired, "repaired twice");
    assert!(read() == after, "a second reopen changed the journal");
    assert!(clone_state(&reopened) == state);
    drop(reopened);

    let copy = TempFile::new("journal-copy");
    let mut written = Journal::open(&copy.0, &input_hash).expect("a fresh journal");
    let (sent, done) = &state;
    for (desired, row) in done.values() {
        written.done(desired, row).expect("appended");
    }
    for (user_id, desired) in sent {
        written.sent(*user_id, desired).expect("appended");
    }
    drop(written);
    let copied = Journal::open(&copy.0, &input_hash)
        .unwrap_or_else(|e| panic!("the journal written from the state is refused: {e}"));
    assert!(
        clone_state(&copied) == state,
        "the state written to a new journal reads back otherwise"
    );
}

/// A journal's state, owned.
#[allow(clippy::type_complexity)]
fn clone_state(
    journal: &crate::sync::Journal,
) -> (
    std::collections::HashMap<i64, String>,
    std::collections::HashMap<i64, (String, crate::sync::ReportRow)>,
) {
    let (sent, done) = journal.state();
    (sent.clone(), done.clone())
}
