//! Reading an HTTP/1.1 response by hand, for the mock's tests (plain TCP in `server.rs`,
//! TLS in `tls.rs`): status line, headers, then Content-Length bytes or what arrives before
//! the connection closes.
#![allow(dead_code)] // each test crate uses part of it

use std::io::{BufRead, Read};

use serde_json::Value;

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Fewer body bytes arrived than Content-Length announced.
    pub truncated: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response: status line, headers, then Content-Length bytes (or what arrives
/// before the connection closes).
pub fn read_response(reader: &mut impl BufRead) -> Resp {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header line");
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (k, v) = trimmed.split_once(':').expect("header colon");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let length: Option<usize> = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok());
    let mut body = Vec::new();
    let truncated = match length {
        Some(n) => {
            let _ = reader.by_ref().take(n as u64).read_to_end(&mut body);
            body.len() < n
        }
        None => {
            let _ = reader.read_to_end(&mut body);
            false
        }
    };
    Resp {
        status,
        headers,
        body,
        truncated,
    }
}
