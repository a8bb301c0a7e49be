//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_regressions.rs`, which
//! replays the seed corpus and every saved crash through them. Each function feeds untrusted
//! input to one parser (the update body, the response envelope, the configuration, the token
//! endpoint's answer) and asserts the invariants a caller relies on; it panics only when an
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
