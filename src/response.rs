//! The YCM response envelope (`requestId`, `status`, `time`, `data`) and the mapping of an
//! HTTP response to a result: `Success` is a value, `Failed` is [`Code::Api`] with the
//! code and text found in any of the error shapes Yeastar's APIs use (`errcode`/`errmsg`,
//! `errno`/`errmsg`, `code`/`detailMessage`, `message`), 401/403 is
//! [`Code::Unauthorized`], 429 is [`Code::RateLimited`], other non-2xx without an
//! envelope is [`Code::Http`], and anything unintelligible (a compressed body nobody asked
//! for included) is [`Code::BadResponse`]. It also owns [`summarize`], the one-line rendering
//! of a body for messages (an HTML error page becomes its title). Every text taken from a
//! response passes the request's [`Redactor`] first: the raw body, then each decoded string.

use crate::errcodes::{self, Reaction};
use crate::error::{CallInfo, Code, Error, Result};
use crate::secret::{decode_html, Redactor};
use serde_json::{Map, Value};

/// The envelope of a successful call: its call information and its `data`, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// What is known about the exchange (status, attempts, requestId, time).
    pub info: CallInfo,
    /// The envelope's `data` member; `Value::Null` when absent.
    pub data: Value,
}

/// A parsed envelope.
#[derive(Debug)]
struct Envelope {
    request_id: String,
    success: bool,
    time: i64,
    data: Value,
    error_code: i64,
    error_text: Option<String>,
}

/// Turns an HTTP response (its status, `Content-Encoding` and body) into a [`Reply`] or an
/// [`Error`], scrubbing the secrets of `redactor` out of everything it quotes. `attempts` is
/// the number of HTTP requests made for the call so far.
pub(crate) fn interpret(
    http_status: u16,
    content_encoding: Option<&str>,
    body: &[u8],
    attempts: u32,
    redactor: &Redactor,
) -> Result<Reply> {
    let mut info = CallInfo {
        http_status,
        attempts,
        ..CallInfo::default()
    };
    if (200..=299).contains(&http_status) && content_encoding.is_none() {
        if let Some(reply) = success(body, &info, redactor) {
            return Ok(reply);
        }
    }
    let body = redactor.bytes(body);
    if let Some(compressed) = unrequested_compression(content_encoding, &body, redactor) {
        let (code, prefix) = match http_status {
            401 | 403 => (
                Code::Unauthorized,
                format!("the server rejected the access token (HTTP {http_status})"),
            ),
            429 => (
                Code::RateLimited,
                "the server is rate limiting this client (HTTP 429)".to_string(),
            ),
            _ => (
                Code::BadResponse,
                format!("the HTTP {http_status} response is unreadable"),
            ),
        };
        return Err(Error::with_info(
            code,
            format!("{prefix}: {compressed}"),
            info,
        ));
    }
    let parsed = parse_envelope(&body, redactor);
    let errcode = parsed.as_ref().map_or(0, |envelope| envelope.error_code);
    if let Ok(envelope) = &parsed {
        info.request_id = envelope.request_id.clone();
        info.time = envelope.time;
    }
    let ycm_says = |prefix: &str| match &parsed {
        Ok(e) => format!("{prefix}: {}", api_text(e)),
        Err(_) => format!("{prefix}: {}", summarize(&body, redactor)),
    };
    let known = parsed
        .as_ref()
        .ok()
        .filter(|e| !e.success)
        .and_then(|e| errcodes::lookup(e.error_code));
    let (code, message) = match (known, http_status) {
        (Some(known), _) => {
            info.api_errcode = errcode;
            let code = match known.reaction {
                Reaction::RenewToken | Reaction::RefuseCredentials => Code::Unauthorized,
                Reaction::Throttle => Code::RateLimited,
                Reaction::Deny => Code::Api,
            };
            let text = format!(
                "YCM answered {} (HTTP {http_status}): {}",
                known.name,
                known.meaning.trim_end_matches('.')
            );
            return Err(Error::with_info(code, ycm_says(&text), info));
        }
        (None, 401 | 403) => (
            Code::Unauthorized,
            ycm_says(&format!(
                "the server rejected the access token (HTTP {http_status})"
            )),
        ),
        (None, 429) => (
            Code::RateLimited,
            ycm_says("the server is rate limiting this client (HTTP 429)"),
        ),
        (None, 200..=299) => match parsed {
            Ok(envelope) if envelope.success => {
                return Ok(Reply {
                    info,
                    data: envelope.data,
                });
            }
            Ok(envelope) => (
                Code::Api,
                format!("YCM refused the request: {}", api_text(&envelope)),
            ),
            Err(why) => (
                Code::BadResponse,
                format!("the HTTP {http_status} response is not a YCM envelope: {why}"),
            ),
        },
        (None, _) => match parsed {
            Ok(envelope) if !envelope.success => (
                Code::Api,
                format!(
                    "YCM refused the request (HTTP {http_status}): {}",
                    api_text(&envelope)
                ),
            ),
            _ => (
                Code::Http,
                format!("HTTP {http_status}: {}", summarize(&body, redactor)),
            ),
        },
    };
    if code == Code::Api {
        // api_errcode belongs to YCM_ERR_API; other codes quote any errcode in the message.
        info.api_errcode = errcode;
    }
    Err(Error::with_info(code, message, info))
}

/// The reply of a well-formed `Success` envelope, the common case, kept cheap: no pass
/// over the raw body, only its `requestId` and the strings of its `data` (a read that echoes
/// a token) are redacted. `None` for anything else, which the full path then examines.
fn success(body: &[u8], info: &CallInfo, redactor: &Redactor) -> Option<Reply> {
    // Anything unusual (not an object: a derived struct would also read an array; a
    // duplicate member, a wrong type) leaves the answer to parse_envelope.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let envelope: SuccessEnvelope = serde_json::from_slice(body).ok()?;
    if envelope.status != "Success" {
        return None;
    }
    let info = CallInfo {
        request_id: cut(&redactor.text(&envelope.request_id), 64).to_string(),
        time: envelope.time,
        ..info.clone()
    };
    let mut data = envelope.data;
    redactor.value(&mut data);
    Some(Reply { info, data })
}

/// The members of a `Success` envelope that a reply keeps, read without building the
/// others (`errcode`, `errmsg`, ...).
#[derive(serde::Deserialize)]
struct SuccessEnvelope<'a> {
    #[serde(borrow)]
    status: std::borrow::Cow<'a, str>,
    time: i64,
    #[serde(rename = "requestId", borrow)]
    request_id: std::borrow::Cow<'a, str>,
    #[serde(default)]
    data: Value,
}

fn api_text(envelope: &Envelope) -> String {
    match (&envelope.error_text, envelope.error_code) {
        (Some(text), 0) => text.clone(),
        (Some(text), code) => format!("{text} (errcode {code})"),
        (None, 0) => "no error code or message given".into(),
        (None, code) => format!("errcode {code}"),
    }
}

/// Parses a (raw-redacted) body as an envelope; every string in it is redacted again once
/// decoded, before anything is cut or quoted.
fn parse_envelope(body: &[u8], redactor: &Redactor) -> std::result::Result<Envelope, String> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| {
        if body.is_empty() {
            "the body is empty".to_string()
        } else if looks_like_html(body) {
            format!(
                "the body is an HTML page, not JSON: {}",
                summarize(body, redactor)
            )
        } else {
            format!("the body is not JSON ({e}): {}", summarize(body, redactor))
        }
    })?;
    redactor.value(&mut value);
    let Value::Object(mut map) = value else {
        return Err("the body is JSON but not an object".into());
    };
    let request_id = match map.get("requestId") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("\"requestId\" is not a string".into()),
        None => return Err("\"requestId\" is missing".into()),
    };
    let success = match map.get("status").and_then(Value::as_str) {
        Some("Success") => true,
        Some("Failed") => false,
        Some(other) => {
            return Err(format!(
                "\"status\" is \"{}\", not Success or Failed",
                cut(other, 40)
            ))
        }
        None => return Err("\"status\" is missing or not a string".into()),
    };
    let time = match map.get("time") {
        Some(Value::Number(n)) => n.as_i64().ok_or("\"time\" is not an integer")?,
        Some(_) => return Err("\"time\" is not an integer".into()),
        None => return Err("\"time\" is missing".into()),
    };
    let (error_code, error_text) = error_fields(&map);
    Ok(Envelope {
        request_id: cut(&request_id, 64).to_string(),
        success,
        time,
        data: map.remove("data").unwrap_or(Value::Null),
        error_code,
        error_text,
    })
}

/// What a response asks of the client, whatever its HTTP status: 429 and errcode 1000040
/// throttle, 1000035/1000036 (and a 401 to a resource request) renew the token, and so on
/// ([`crate::errcodes`]). Only a body that can hold an error code is parsed (the cheap test
/// for `"Failed"` keeps a success free).
pub(crate) fn reaction(http_status: u16, body: &[u8]) -> Option<Reaction> {
    let named = failed_errcode(body)
        .and_then(errcodes::lookup)
        .map(|c| c.reaction);
    match (named, http_status) {
        (Some(reaction), _) => Some(reaction),
        (None, 429) => Some(Reaction::Throttle),
        _ => None,
    }
}

/// The error code of a `Failed` envelope, in any of the known shapes.
pub(crate) fn failed_errcode(body: &[u8]) -> Option<i64> {
    failed_error(body)
        .map(|(code, _)| code)
        .filter(|code| *code != 0)
}

/// The error code and text of a `Failed` envelope (not redacted: for decisions, or for
/// text the caller redacts).
pub(crate) fn failed_error(body: &[u8]) -> Option<(i64, Option<String>)> {
    memchr::memmem::find(body, b"Failed")?;
    let value: Value = serde_json::from_slice(body).ok()?;
    let map = value.as_object()?;
    if map.get("status").and_then(Value::as_str) != Some("Failed") {
        return None;
    }
    Some(error_fields(map))
}

/// The error code and text of a `Failed` body, in any of the known shapes.
fn error_fields(map: &Map<String, Value>) -> (i64, Option<String>) {
    let number = |key: &str| match map.get(key) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .map(|s| cut(s, 300).to_string())
    };
    let code = number("errcode")
        .or_else(|| number("errno"))
        .or_else(|| number("code"));
    let message = text("errmsg")
        .or_else(|| text("detailMessage"))
        .or_else(|| text("message"));
    (code.unwrap_or(0), message)
}

/// Why a body cannot be read when it is compressed although the client asked for no
/// compression (ycm sends no `Accept-Encoding`): by its `Content-Encoding`, or by the magic
/// bytes of gzip, zlib or zstd when the header is missing. `None` for a readable body.
pub(crate) fn unrequested_compression(
    content_encoding: Option<&str>,
    body: &[u8],
    redactor: &Redactor,
) -> Option<String> {
    let declared = content_encoding
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    let (name, how) = match declared {
        Some(encoding) => {
            let shown = redactor.text(cut(encoding, 40)).to_ascii_lowercase();
            let how = format!("Content-Encoding: {shown}");
            (shown, how)
        }
        None => (
            compression_magic(body)?.to_string(),
            "by its magic bytes".into(),
        ),
    };
    Some(format!(
        "the {}-byte body is compressed with {name} ({how}), which was not requested (ycm sends no Accept-Encoding); not shown",
        body.len()
    ))
}

/// The compression whose magic bytes start `body`, if any (brotli has none).
fn compression_magic(body: &[u8]) -> Option<&'static str> {
    match body {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("zstd"),
        [0x78, 0x01 | 0x9c | 0xda, ..] => Some("deflate"),
        _ => None,
    }
}

/// Whether a body is an HTML page (a proxy's or load balancer's error page, typically).
fn looks_like_html(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = body[start..body.len().min(start + 1024)].to_ascii_lowercase();
    head.starts_with(b"<")
        && [
            &b"<!doctype html"[..],
            b"<html",
            b"<head",
            b"<title",
            b"<body",
        ]
        .iter()
        .any(|tag| head.windows(tag.len()).any(|w| w == *tag))
}

/// The text of the first `<tag ...>...</tag>` element of an HTML page, tags inside removed.
fn element_text(page: &[u8], tag: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    let find = |needle: &[u8], from: usize| {
        lower[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|at| at + from)
    };
    let open = format!("<{tag}");
    let mut at = 0;
    let start = loop {
        let found = find(open.as_bytes(), at)?;
        let after = lower.get(found + open.len()).copied();
        if matches!(after, Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')) {
            break find(b">", found)? + 1;
        }
        at = found + 1;
    };
    let end = find(format!("</{tag}").as_bytes(), start).unwrap_or(page.len());
    let inner = String::from_utf8_lossy(&page[start..end]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text)
}

/// An HTML page as its title (or first heading): entity-decoded, redacted, then flattened,
/// without the leading status number the message already gives (`502 Bad Gateway`).
fn html_summary(page: &[u8], redactor: &Redactor) -> String {
    let title = element_text(page, "title")
        .filter(|t| !t.trim().is_empty())
        .or_else(|| element_text(page, "h1"))
        .map(|t| flatten(&redactor.text(&decode_html(&t))))
        .unwrap_or_default();
    let bytes = title.as_bytes();
    let title = match bytes {
        [a, b, c, b' ', ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) && title.len() > 4 => {
            &title[4..]
        }
        _ => &title,
    };
    if title.is_empty() {
        return format!("an HTML page without a title ({} bytes)", page.len());
    }
    let short = cut(title, 120);
    if short.len() < title.len() {
        format!("{short}... (an HTML page of {} bytes)", page.len())
    } else {
        short.to_string()
    }
}

/// `text` on one line: whitespace runs as one space, control characters dropped.
fn flatten(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// A one-line, bounded rendering of a response body for an error message, scrubbed of the
/// secrets of `redactor` before it is decoded, flattened or cut: a compressed body is named
/// as such, an HTML page by its title, anything else is quoted.
pub(crate) fn summarize(body: &[u8], redactor: &Redactor) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    if let Some(compressed) = unrequested_compression(None, body, redactor) {
        return compressed;
    }
    let body = redactor.bytes(body);
    if looks_like_html(&body) {
        return html_summary(&body, redactor);
    }
    let flat = flatten(&String::from_utf8_lossy(&body));
    let short = cut(&flat, 200);
    if short.len() < flat.len() {
        format!("{short}... ({} bytes)", body.len())
    } else {
        short.to_string()
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn failed(status: u16, body: &str) -> Error {
        interpret(status, None, body.as_bytes(), 1, &Redactor::default()).expect_err(body)
    }

    #[test]
    fn success_envelope_is_a_reply() {
        let reply = interpret(
            200,
            None,
            br#"{"requestId":"bed793ceb96f19a58177b53a3097a1d8","status":"Success","time":1664437503}"#,
            1,
            &Redactor::default(),
        )
        .unwrap();
        assert_eq!(reply.info.request_id, "bed793ceb96f19a58177b53a3097a1d8");
        assert_eq!(reply.info.time, 1664437503);
        assert_eq!(reply.info.http_status, 200);
        assert_eq!(reply.data, Value::Null);
    }

    #[test]
    fn every_error_shape_gives_code_and_text() {
        let shapes = [
            r#"{"requestId":"r","status":"Failed","time":1,"errcode":20001,"errmsg":"no such user"}"#,
            r#"{"requestId":"r","status":"Failed","time":1,"errno":20001,"errmsg":"no such user"}"#,
            r#"{"requestId":"r","status":"Failed","time":1,"code":"20001","detailMessage":"no such user"}"#,
        ];
        for body in shapes {
            let err = failed(200, body);
            assert_eq!(err.code(), Code::Api);
            assert_eq!(err.info().api_errcode, 20001);
            assert_eq!(err.info().request_id, "r");
            assert!(
                err.to_string().contains("no such user (errcode 20001)"),
                "{err}"
            );
        }
        let err = failed(
            200,
            r#"{"requestId":"r","status":"Failed","time":1,"message":"nope"}"#,
        );
        assert_eq!((err.code(), err.info().api_errcode), (Code::Api, 0));
        assert!(err.to_string().ends_with("nope"));
        let err = failed(
            400,
            r#"{"requestId":"r","status":"Failed","time":1,"errcode":10003}"#,
        );
        assert_eq!((err.code(), err.info().http_status), (Code::Api, 400));
    }

    #[test]
    fn statuses_map_to_codes() {
        assert_eq!(failed(401, "").code(), Code::Unauthorized);
        assert_eq!(failed(403, "{}").code(), Code::Unauthorized);
        assert_eq!(failed(429, "").code(), Code::RateLimited);
        let err = failed(502, "<html><body><h1>Bad   Gateway</h1></body></html>");
        assert_eq!(err.code(), Code::Http);
        assert_eq!(err.message(), "HTTP 502: Bad Gateway");
        assert_eq!(failed(302, "").code(), Code::Http);
    }

    #[test]
    fn broken_envelopes_are_bad_responses() {
        for (body, why) in [
            ("", "empty"),
            ("<html>", "not JSON"),
            ("[]", "not an object"),
            // In the order of a Success envelope's members: still not an envelope.
            (r#"["Success",1,"r",{}]"#, "not an object"),
            (r#" ["Success",1,"r"]"#, "not an object"),
            (r#"{"status":"Success","time":1}"#, "requestId"),
            (r#"{"requestId":"r","time":1}"#, "status"),
            (r#"{"requestId":"r","status":"Success"}"#, "time"),
            (r#"{"requestId":"r","status":"Success","time":1.5}"#, "time"),
            (r#"{"requestId":"r","status":"Maybe","time":1}"#, "Maybe"),
        ] {
            let err = failed(200, body);
            assert_eq!(err.code(), Code::BadResponse, "{body}");
            assert!(err.to_string().contains(why), "{err}");
        }
    }

    #[test]
    fn cut_respects_character_boundaries() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("abc", 10), "abc");
        let none = Redactor::default();
        assert!(summarize("x".repeat(500).as_bytes(), &none).ends_with("(500 bytes)"));
    }
}

#[cfg(test)]
mod summaries {
    use super::*;
    use crate::secret::Secret;

    const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
    const NGINX_413: &str = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

    fn message(
        status: u16,
        encoding: Option<&str>,
        body: &[u8],
        redactor: &Redactor,
    ) -> (Code, String) {
        let err = interpret(status, encoding, body, 1, redactor).expect_err("an error");
        (err.code(), err.message().to_string())
    }

    #[test]
    fn html_error_pages_are_summarised_by_their_title() {
        let none = Redactor::default();
        for (status, page, expected) in [
            (502, NGINX_502, "HTTP 502: Bad Gateway"),
            (413, NGINX_413, "HTTP 413: Request Entity Too Large"),
            (
                500,
                "<!DOCTYPE html><html><head><title>Tom &amp; Jerry&#39;s &lt;proxy&gt;</title>",
                "HTTP 500: Tom & Jerry's <proxy>",
            ),
            (
                503,
                "<HTML><BODY><H1 class=x>503 Service\n  Unavailable</H1></BODY></HTML>",
                "HTTP 503: Service Unavailable",
            ),
            (
                500,
                "<html><body><p>oops</p></body></html>",
                "HTTP 500: an HTML page without a title (37 bytes)",
            ),
        ] {
            assert_eq!(
                message(status, None, page.as_bytes(), &none),
                (Code::Http, expected.to_string()),
                "{page}"
            );
        }
        let (code, text) = message(200, None, NGINX_502.as_bytes(), &none);
        assert_eq!(code, Code::BadResponse);
        assert!(
            text.ends_with("the body is an HTML page, not JSON: Bad Gateway"),
            "{text}"
        );
        // A plain text body is still quoted.
        assert_eq!(
            message(500, None, b"upstream <died>", &none).1,
            "HTTP 500: upstream <died>"
        );
    }

    #[test]
    fn an_html_title_is_redacted_after_its_entities_are_decoded() {
        let secret = Secret::new("p\"w<d>&");
        let redactor = Redactor::new([&secret]);
        for title in [
            "p&quot;w&lt;d&gt;&amp;",
            "p&#34;w&#60;d&#x3e;&#38;",
            "p\"w<d>&",
        ] {
            let page =
                format!("<html><head><title>401 unknown secret {title}</title></head></html>");
            let (code, text) = message(401, None, page.as_bytes(), &redactor);
            assert_eq!(code, Code::Unauthorized);
            assert!(text.ends_with("unknown secret [REDACTED]"), "{text}");
        }
    }

    #[test]
    fn unrequested_compression_is_named_not_quoted() {
        let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xabV*.I,)-V\xb2RP\x02\x00";
        let none = Redactor::default();
        for (status, encoding, body, code, name) in [
            (
                200,
                Some("gzip"),
                &gzip[..],
                Code::BadResponse,
                "gzip (Content-Encoding: gzip)",
            ),
            (
                200,
                None,
                &gzip[..],
                Code::BadResponse,
                "gzip (by its magic bytes)",
            ),
            (
                500,
                Some("br"),
                &b"\x8b\x02\x80{}\x03"[..],
                Code::BadResponse,
                "br (Content-Encoding: br)",
            ),
            (
                200,
                Some("Deflate"),
                &b"x\x9c\xab\xae\x05\x00"[..],
                Code::BadResponse,
                "deflate",
            ),
            (401, Some("gzip"), &gzip[..], Code::Unauthorized, "gzip"),
            (429, None, &gzip[..], Code::RateLimited, "gzip"),
        ] {
            let (got, text) = message(status, encoding, body, &none);
            assert_eq!(got, code, "{text}");
            assert!(text.contains(&format!("compressed with {name}")), "{text}");
            assert!(text.contains("not requested"), "{text}");
            assert!(!text.contains('\u{fffd}'), "{text}");
        }
        // identity is no compression
        let ok = br#"{"requestId":"r","status":"Success","time":1}"#;
        assert!(interpret(200, Some("identity"), ok, 1, &none).is_ok());
    }

    /// Every place a server's text reaches a message, with the secret JSON-escaped the way
    /// PHP does it (`\/`, `\uXXXX`): decoded, it must be redacted before it is cut.
    #[test]
    fn decoded_strings_are_redacted_before_they_are_cut_or_quoted() {
        let secret = Secret::new("a/\"\\é😀");
        let escaped = r#"a\/\"\\\u00e9\ud83d\ude00"#;
        let redactor = Redactor::new([&secret]);
        let long = "x".repeat(290);
        let envelope = |fields: &str| {
            format!(r#"{{"requestId":"r {escaped}","status":"Failed","time":1,{fields}}}"#)
        };
        let cases = [
            (
                200,
                envelope(&format!(r#""errcode":1,"errmsg":"no {escaped}""#)),
            ),
            (
                400,
                envelope(&format!(r#""errno":1,"errmsg":"no {escaped}""#)),
            ),
            (
                401,
                envelope(&format!(r#""code":"1","detailMessage":"no {escaped}""#)),
            ),
            (429, envelope(&format!(r#""message":"no {escaped}""#))),
            // The secret straddles the 300-byte cut of errmsg.
            (200, envelope(&format!(r#""errmsg":"{long}{escaped}""#))),
            (
                200,
                format!(r#"{{"requestId":"r","status":"{escaped}","time":1}}"#),
            ),
            (500, format!(r#"{{"error":"no {escaped}"}}"#)),
            (
                500,
                format!(
                    "<html><title>no {}</title></html>",
                    "a/&quot;\\&#xe9;&#128512;"
                ),
            ),
        ];
        for (status, body) in cases {
            let err = interpret(status, None, body.as_bytes(), 1, &redactor).expect_err(&body);
            let shown = format!("{err} {:?}", err.info());
            assert!(!shown.contains(secret.expose()), "{shown}");
            assert!(!shown.contains("a/\"\\"), "{shown}");
            assert!(!shown.contains(escaped), "{shown}");
            assert!(!shown.contains('😀') && !shown.contains('é'), "{shown}");
        }
        // A Success envelope's data is scrubbed too (a read that echoes the token).
        let body = format!(
            r#"{{"requestId":"r","status":"Success","time":1,"data":{{"remark":"{escaped}"}}}}"#
        );
        let reply = interpret(200, None, body.as_bytes(), 1, &redactor).unwrap();
        assert_eq!(reply.data["remark"], "[REDACTED]");
    }
}
