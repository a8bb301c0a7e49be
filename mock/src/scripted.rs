//! A scripted raw-TCP peer for fault tests: it reads each HTTP request itself (no server
//! crate, on purpose, so it can misbehave in ways a real server never would) and answers
//! with the next [`Step`] of its script: well-formed or garbage bytes, silence, a stall
//! after the headers, a body dripped one byte at a time, a close mid-body, or a reset.
//! [`Case`] names the scripts the fault tests of every language share (their expected
//! outcomes are in [`crate::fault_matrix`]); the binary `ycm-fault-server --case NAME` serves
//! one of them.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What the peer does with one request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes, keep the connection open for the next request.
    Send(Vec<u8>),
    /// Write these bytes, then close the connection.
    SendAndClose(Vec<u8>),
    /// Never answer; hold the connection until the client gives up.
    Silent,
    /// Write these bytes (typically headers), then stall without closing.
    SendThenStall(Vec<u8>),
    /// Write these bytes one at a time with this pause between them.
    Drip(Vec<u8>, Duration),
    /// Close the connection with a TCP reset.
    Reset,
    /// Answer with this status and the request's body then its head as a text body (a
    /// server that echoes what it got, form fields and Authorization header included: for
    /// secret-scrubbing tests).
    Echo(u16),
    /// Answer with this status and the credentials the request carried (the Authorization
    /// header's, and the form's `client_secret`, `refresh_token`, `password` and
    /// `access_token`, decoded) echoed back in this encoding.
    EchoAs(u16, Echo),
}

/// The encodings in which [`Step::EchoAs`] echoes a credential back, as servers do in their
/// error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// A `Failed` envelope (`errmsg`) that is also an OAuth error (`error_description`),
    /// JSON-escaped as PHP does it: `\/`, `\"`, `\\`, and `\uXXXX` for all non-ASCII.
    JsonEnvelope,
    /// A JSON object that is no envelope (`{"detail": ...}`), escaped the same way.
    JsonPlain,
    /// Text, every byte but letters and digits as `%XX` in upper case.
    PercentUpper,
    /// Text, every byte but letters and digits as `%xx` in lower case.
    PercentLower,
    /// Text, percent-encoded as RFC 3986 says (`-._~` kept).
    Rfc3986,
    /// Text, form-encoded (`+` for a space, `*-._` kept).
    Form,
    /// Text, standard base64, padded.
    Base64,
    /// Text, URL-safe base64 without padding.
    Base64UrlUnpadded,
    /// Text: three standard base64 texts holding the credential after 1, 2 and 3 other
    /// bytes (as in Basic credentials), one for each alignment.
    Base64Embedded,
    /// An HTML page whose title and body hold the credential, `&"'<>` as named entities.
    HtmlNamed,
    /// An HTML page, everything but letters and digits as decimal references.
    HtmlDecimal,
    /// An HTML page, everything but letters and digits as hex references.
    HtmlHex,
    /// Text: the credential's first 20 characters then `...`, as servers that cut what they
    /// echo write it (`token abcdefghij0123456789... invalid`). Not in [`Echo::ALL`], whose
    /// every form holds the whole credential.
    Cut20,
}

impl Echo {
    /// Every encoding.
    pub const ALL: [Echo; 12] = [
        Echo::JsonEnvelope,
        Echo::JsonPlain,
        Echo::PercentUpper,
        Echo::PercentLower,
        Echo::Rfc3986,
        Echo::Form,
        Echo::Base64,
        Echo::Base64UrlUnpadded,
        Echo::Base64Embedded,
        Echo::HtmlNamed,
        Echo::HtmlDecimal,
        Echo::HtmlHex,
    ];

    /// `value` in this encoding, as it appears in the echoed body.
    pub fn encode(self, value: &str) -> String {
        let percent = |keep: &dyn Fn(u8) -> bool, upper: bool, plus: bool| {
            let mut out = String::new();
            for b in value.bytes() {
                match b {
                    b' ' if plus => out.push('+'),
                    b if b.is_ascii_alphanumeric() || keep(b) => out.push(b as char),
                    b if upper => out.push_str(&format!("%{b:02X}")),
                    b => out.push_str(&format!("%{b:02x}")),
                }
            }
            out
        };
        let html = |hex: bool| {
            value
                .chars()
                .map(|c| match c {
                    c if c.is_ascii_alphanumeric() => c.to_string(),
                    c if hex => format!("&#x{:X};", c as u32),
                    c => format!("&#{};", c as u32),
                })
                .collect::<String>()
        };
        match self {
            Echo::JsonEnvelope | Echo::JsonPlain => json_escape(value),
            Echo::PercentUpper => percent(&|_| false, true, false),
            Echo::PercentLower => percent(&|_| false, false, false),
            Echo::Rfc3986 => percent(&|b| b"-._~".contains(&b), true, false),
            Echo::Form => percent(&|b| b"*-._".contains(&b), true, true),
            Echo::Base64 => base64(value.as_bytes(), BASE64, true),
            Echo::Base64UrlUnpadded => base64(value.as_bytes(), BASE64_URL, false),
            Echo::Base64Embedded => ["u", "us", "use"]
                .map(|prefix| base64(format!("{prefix}:{value}").as_bytes(), BASE64, true))
                .join(" "),
            Echo::HtmlNamed => value
                .chars()
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    '"' => "&quot;".to_string(),
                    '\'' => "&#39;".to_string(),
                    c => c.to_string(),
                })
                .collect(),
            Echo::HtmlDecimal => html(false),
            Echo::HtmlHex => html(true),
            Echo::Cut20 => format!("{}...", value.chars().take(20).collect::<String>()),
        }
    }

    /// The response echoing `values` this way.
    fn response(self, status: u16, values: &[String]) -> Vec<u8> {
        let echoed = values
            .iter()
            .map(|v| self.encode(v))
            .collect::<Vec<_>>()
            .join(" ");
        match self {
            Echo::JsonEnvelope => {
                let body = format!(
                    r#"{{"requestId":"{REQUEST_ID}","status":"Failed","time":{TIME},"errcode":10001,"errmsg":"unknown credential {echoed}","error":"invalid_client","error_description":"unknown credential {echoed}"}}"#
                );
                response(status, &[], body.as_bytes())
            }
            Echo::JsonPlain => {
                let body = format!(r#"{{"detail":"unknown credential {echoed}"}}"#);
                response(status, &[], body.as_bytes())
            }
            Echo::HtmlNamed | Echo::HtmlDecimal | Echo::HtmlHex => {
                let body = format!(
                    "<html>\r\n<head><title>{status} Unknown credential {echoed}</title></head>\r\n<body><h1>Unknown credential {echoed}</h1></body>\r\n</html>\r\n"
                );
                response(status, &[("Content-Type", "text/html")], body.as_bytes())
            }
            _ => {
                let body = format!("unknown credential {echoed}");
                response(status, &[("Content-Type", "text/plain")], body.as_bytes())
            }
        }
    }
}

/// Form fields whose values [`Step::EchoAs`] echoes.
const ECHOED_FIELDS: [&str; 4] = ["client_secret", "refresh_token", "password", "access_token"];

/// The credentials a request carries: its Authorization header's, then the form's.
fn credentials(request: &[u8]) -> Vec<String> {
    let split = find(request, b"\r\n\r\n").map_or(request.len(), |end| end + 4);
    let head = String::from_utf8_lossy(&request[..split]);
    let mut values: Vec<String> = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| {
            let value = value.trim();
            value.split_once(' ').map_or(value, |(_, v)| v).to_string()
        })
        .collect();
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&request[split..]).unwrap_or_default();
    values.extend(
        form.into_iter()
            .filter(|(name, _)| ECHOED_FIELDS.contains(&name.as_str()))
            .map(|(_, value)| value),
    );
    values
}

/// `value` as a JSON string's contents, escaped as PHP's `json_encode` does by default.
fn json_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(alphabet[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// The shared fault cases, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// Accept and never answer.
    Silent,
    /// Send the headers of a 200, then stall.
    StallAfterHeaders,
    /// Drip a Success envelope one byte every 50 ms.
    Drip,
    /// Announce a Success envelope, send half of it, close.
    CloseMidBody,
    /// Reset the connection on every request.
    Reset,
    /// 200 with an HTML body.
    NonJson200,
    /// 200 with JSON lacking `requestId`.
    MissingRequestId,
    /// 200 with JSON lacking `status`.
    MissingStatus,
    /// 200 with JSON lacking `time`.
    MissingTime,
    /// 200 with a 2 MiB body.
    Huge,
    /// 502 with an HTML page, on every request.
    Html502,
    /// 503, then a Success envelope.
    ServiceUnavailableThenOk,
    /// 429 with `Retry-After: 1`, then a Success envelope.
    TooManyRequestsThenOk,
    /// `Failed` envelope with `errcode` + `errmsg`.
    FailedErrcode,
    /// `Failed` envelope with `errno` + `errmsg`.
    FailedErrno,
    /// `Failed` envelope with `code` + `detailMessage`.
    FailedDetailMessage,
    /// `Failed` envelope with only `message`.
    FailedMessage,
    /// Bytes that are not HTTP.
    NotHttp,
    /// A redirect to another host.
    RedirectElsewhere,
    /// HTTP 400 echoing the request's credentials, request n in encoding n of
    /// [`Echo::ALL`] (cycling), so any run of 12 requests meets every encoding.
    EchoEveryForm,
}

impl Case {
    /// Every case.
    pub const ALL: [Case; 20] = [
        Case::Silent,
        Case::StallAfterHeaders,
        Case::Drip,
        Case::CloseMidBody,
        Case::Reset,
        Case::NonJson200,
        Case::MissingRequestId,
        Case::MissingStatus,
        Case::MissingTime,
        Case::Huge,
        Case::Html502,
        Case::ServiceUnavailableThenOk,
        Case::TooManyRequestsThenOk,
        Case::FailedErrcode,
        Case::FailedErrno,
        Case::FailedDetailMessage,
        Case::FailedMessage,
        Case::NotHttp,
        Case::RedirectElsewhere,
        Case::EchoEveryForm,
    ];

    /// The command-line name, e.g. `stall-after-headers`.
    pub const fn name(self) -> &'static str {
        match self {
            Case::Silent => "silent",
            Case::StallAfterHeaders => "stall-after-headers",
            Case::Drip => "drip",
            Case::CloseMidBody => "close-mid-body",
            Case::Reset => "reset",
            Case::NonJson200 => "non-json-200",
            Case::MissingRequestId => "missing-request-id",
            Case::MissingStatus => "missing-status",
            Case::MissingTime => "missing-time",
            Case::Huge => "huge",
            Case::Html502 => "html-502",
            Case::ServiceUnavailableThenOk => "503-then-200",
            Case::TooManyRequestsThenOk => "429-then-200",
            Case::FailedErrcode => "failed-errcode",
            Case::FailedErrno => "failed-errno",
            Case::FailedDetailMessage => "failed-detail-message",
            Case::FailedMessage => "failed-message",
            Case::NotHttp => "not-http",
            Case::RedirectElsewhere => "redirect-elsewhere",
            Case::EchoEveryForm => "echo-every-form",
        }
    }

    /// The case with this command-line name.
    pub fn from_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|case| case.name() == name)
    }

    /// The script of this case; its last step repeats.
    pub fn script(self) -> Vec<Step> {
        let ok = || Step::Send(response(200, &[], SUCCESS.as_bytes()));
        let failed = |fields: &str| {
            let body = format!(
                r#"{{"requestId":"{REQUEST_ID}","status":"Failed","time":{TIME},{fields}}}"#
            );
            Step::Send(response(200, &[], body.as_bytes()))
        };
        match self {
            Case::Silent => vec![Step::Silent],
            Case::StallAfterHeaders => vec![Step::SendThenStall(
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", SUCCESS.len())
                    .into_bytes(),
            )],
            Case::Drip => vec![Step::Drip(response(200, &[], SUCCESS.as_bytes()), Duration::from_millis(50))],
            Case::CloseMidBody => {
                let full = response(200, &[], SUCCESS.as_bytes());
                let cut = full.len() - SUCCESS.len() / 2;
                vec![Step::SendAndClose(full[..cut].to_vec())]
            }
            Case::Reset => vec![Step::Reset],
            Case::NonJson200 => vec![Step::Send(response(200, &[("Content-Type", "text/html")], b"<html><body>Welcome</body></html>"))],
            Case::MissingRequestId => vec![json_200(&format!(r#"{{"status":"Success","time":{TIME}}}"#))],
            Case::MissingStatus => vec![json_200(&format!(r#"{{"requestId":"{REQUEST_ID}","time":{TIME}}}"#))],
            Case::MissingTime => vec![json_200(&format!(r#"{{"requestId":"{REQUEST_ID}","status":"Success"}}"#))],
            Case::Huge => {
                let body = format!(r#"{{"requestId":"{REQUEST_ID}","status":"Success","time":{TIME},"pad":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
                vec![json_200(&body)]
            }
            Case::Html502 => vec![Step::Send(response(
                502,
                &[("Content-Type", "text/html")],
                b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
            ))],
            Case::ServiceUnavailableThenOk => vec![Step::Send(response(503, &[], b"")), ok()],
            Case::TooManyRequestsThenOk => {
                let retry_after = RETRY_AFTER_SECS.to_string();
                vec![Step::Send(response(429, &[("Retry-After", &retry_after)], b"")), ok()]
            }
            Case::FailedErrcode => vec![failed(r#""errcode":20001,"errmsg":"user not found""#)],
            Case::FailedErrno => vec![failed(r#""errno":20001,"errmsg":"user not found""#)],
            Case::FailedDetailMessage => vec![failed(r#""code":"20001","detailMessage":"user not found""#)],
            Case::FailedMessage => vec![failed(r#""message":"user not found""#)],
            Case::NotHttp => vec![Step::SendAndClose(b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec())],
            Case::RedirectElsewhere => vec![Step::Send(response(
                307,
                &[("Location", "http://127.0.0.2:9/dm/open_api/v1/users/13329")],
                b"",
            ))],
            Case::EchoEveryForm => Echo::ALL
                .iter()
                .cycle()
                .take(Echo::ALL.len() * 100)
                .map(|echo| Step::EchoAs(400, *echo))
                .collect(),
        }
    }
}

/// The `requestId` of every envelope the cases send.
pub const REQUEST_ID: &str = "0123456789abcdef0123456789abcdef";
/// The `time` of every envelope the cases send.
pub const TIME: i64 = 1_664_437_503;
/// The `Retry-After` (seconds) of `429-then-200`.
pub const RETRY_AFTER_SECS: u64 = 1;
const SUCCESS: &str =
    r#"{"requestId":"0123456789abcdef0123456789abcdef","status":"Success","time":1664437503}"#;

fn json_200(body: &str) -> Step {
    Step::Send(response(200, &[], body.as_bytes()))
}

/// A complete HTTP/1.1 response with a Content-Length.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        out.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A running scripted peer. Stops when dropped.
pub struct ScriptedServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedServer {
    /// Serves `script` on a free loopback port: request number n (counted across all
    /// connections) gets step n, and the last step repeats.
    pub fn start(script: Vec<Step>) -> std::io::Result<ScriptedServer> {
        ScriptedServer::start_on("127.0.0.1:0", script)
    }

    /// Like [`ScriptedServer::start`], on the given address.
    pub fn start_on(addr: &str, script: Vec<Step>) -> std::io::Result<ScriptedServer> {
        assert!(!script.is_empty(), "a script needs at least one step");
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let (counter, stopping) = (requests.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (script, counter, stopping) =
                            (script.clone(), counter.clone(), stopping.clone());
                        thread::spawn(move || serve(stream, &script, &counter, &stopping));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(ScriptedServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, script: &[Step], counter: &AtomicUsize, stopping: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    while let Some(request) = read_request(&mut stream, || !stopping.load(Ordering::SeqCst)) {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let step = &script[n.min(script.len() - 1)];
        let keep_open = match step {
            Step::Send(bytes) => stream.write_all(bytes).is_ok(),
            Step::SendAndClose(bytes) => {
                let _ = stream.write_all(bytes);
                false
            }
            Step::Silent => hold(&mut stream, stopping),
            Step::SendThenStall(bytes) => {
                stream.write_all(bytes).is_ok() && hold(&mut stream, stopping)
            }
            Step::Drip(bytes, pause) => bytes.iter().all(|b| {
                thread::sleep(*pause);
                !stopping.load(Ordering::SeqCst) && stream.write_all(&[*b]).is_ok()
            }),
            Step::Echo(status) => {
                let split = find(&request, b"\r\n\r\n").map_or(request.len(), |end| end + 4);
                let echo = [&request[split..], b"\n", &request[..split]].concat();
                let reply = response(*status, &[("Content-Type", "text/plain")], &echo);
                stream.write_all(&reply).is_ok()
            }
            Step::EchoAs(status, echo) => {
                let reply = echo.response(*status, &credentials(&request));
                stream.write_all(&reply).is_ok()
            }
            Step::Reset => {
                // Dropping a socket whose linger time is zero sends a RST instead of a FIN.
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                return;
            }
        };
        if !keep_open {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Reads one HTTP/1.1 request, head and `Content-Length` body, from `stream` (a socket, a
/// TLS stream); `None` when the peer is gone or `keep_going` turns false (checked before
/// each read: give the socket a read timeout for it to be checked while the peer is
/// quiet). For test peers written by hand; clients do not pipeline, so nothing is read
/// beyond one request.
pub fn read_request(stream: &mut impl Read, keep_going: impl Fn() -> bool) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if !keep_going() {
            return None;
        }
        if let Some(end) = find(&data, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Some(data);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

/// Keeps the connection open, answering nothing, until the client closes it or the server
/// stops. Always false: the connection is done afterwards.
fn hold(stream: &mut TcpStream, stopping: &AtomicBool) -> bool {
    let mut buf = [0u8; 1024];
    while !stopping.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
