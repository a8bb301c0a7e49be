//! The YCM response envelope (`requestId`, `status`, `time`, `data`) and the mapping of an
//! HTTP response to a result: `Success` is a value, `Failed` is [`Code::Api`] with the
//! code and text found in any of the error shapes Yeastar's APIs use (`errcode`/`errmsg`,
//! `errno`/`errmsg`, `code`/`detailMessage`, `message`), 401/403 is
//! [`Code::Unauthorized`], 429 is [`Code::RateLimited`], other non-2xx without an
//! envelope is [`Code::Http`], and anything unintelligible is [`Code::BadResponse`].

use crate::error::{CallInfo, Code, Error, Result};
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

/// Turns an HTTP response into a [`Reply`] or an [`Error`]. `attempts` is the number of HTTP
/// requests made for the call so far.
pub fn interpret(http_status: u16, body: &[u8], attempts: u32) -> Result<Reply> {
    let mut info = CallInfo {
        http_status,
        attempts,
        ..CallInfo::default()
    };
    let parsed = parse_envelope(body);
    let errcode = parsed.as_ref().map_or(0, |envelope| envelope.error_code);
    if let Ok(envelope) = &parsed {
        info.request_id = envelope.request_id.clone();
        info.time = envelope.time;
    }
    let ycm_says = |prefix: &str| match &parsed {
        Ok(e) => format!("{prefix}: {}", api_text(e)),
        Err(_) => format!("{prefix}: {}", summarize(body)),
    };
    let (code, message) = match http_status {
        401 | 403 => (
            Code::Unauthorized,
            ycm_says(&format!(
                "the server rejected the access token (HTTP {http_status})"
            )),
        ),
        429 => (
            Code::RateLimited,
            ycm_says("the server is rate limiting this client (HTTP 429)"),
        ),
        200..=299 => match parsed {
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
        _ => match parsed {
            Ok(envelope) if !envelope.success => (
                Code::Api,
                format!(
                    "YCM refused the request (HTTP {http_status}): {}",
                    api_text(&envelope)
                ),
            ),
            _ => (
                Code::Http,
                format!("HTTP {http_status}: {}", summarize(body)),
            ),
        },
    };
    if code == Code::Api {
        // api_errcode belongs to YCM_ERR_API; other codes quote any errcode in the message.
        info.api_errcode = errcode;
    }
    Err(Error::with_info(code, message, info))
}

fn api_text(envelope: &Envelope) -> String {
    match (&envelope.error_text, envelope.error_code) {
        (Some(text), 0) => text.clone(),
        (Some(text), code) => format!("{text} (errcode {code})"),
        (None, 0) => "no error code or message given".into(),
        (None, code) => format!("errcode {code}"),
    }
}

fn parse_envelope(body: &[u8]) -> std::result::Result<Envelope, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if body.is_empty() {
            "the body is empty".to_string()
        } else {
            format!("the body is not JSON ({e}): {}", summarize(body))
        }
    })?;
    let Value::Object(map) = value else {
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
        data: map.get("data").cloned().unwrap_or(Value::Null),
        error_code,
        error_text,
    })
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

/// A one-line, bounded rendering of a response body for an error message.
pub fn summarize(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
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
        interpret(status, body.as_bytes(), 1).expect_err(body)
    }

    #[test]
    fn success_envelope_is_a_reply() {
        let reply = interpret(
            200,
            br#"{"requestId":"bed793ceb96f19a58177b53a3097a1d8","status":"Success","time":1664437503}"#,
            1,
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
        let err = failed(502, "<html><body>Bad   Gateway</body></html>");
        assert_eq!(err.code(), Code::Http);
        assert!(
            err.to_string()
                .contains("HTTP 502: <html><body>Bad Gateway"),
            "{err}"
        );
        assert_eq!(failed(302, "").code(), Code::Http);
    }

    #[test]
    fn broken_envelopes_are_bad_responses() {
        for (body, why) in [
            ("", "empty"),
            ("<html>", "not JSON"),
            ("[]", "not an object"),
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
        assert!(summarize("x".repeat(500).as_bytes()).ends_with("(500 bytes)"));
    }
}
