//! What ycm-mock hides from its request log (the `/__mock/log` entries and the stderr lines):
//! the values of secret-named keys wherever a request may carry them (the query string, a
//! form body, a JSON body at any depth, under any key spelling a decoder accepts) and the
//! credential of the `Authorization` header. A body is redacted before it is cut to the
//! logged length, so a cut never turns a body the redactor understands into one it does
//! not; a body it cannot parse but that names a secret key is replaced as a whole.

use serde_json::Value;

/// What replaces a secret in the log.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Longest body kept in the log.
const MAX_LOGGED_BODY: usize = 64 * 1024;

/// Whether a query, form or JSON key names a secret: any token (`access_token`,
/// `refresh_token`, `token`, `accessToken`, ...), secret (`client_secret`, `clientSecret`),
/// password, or an OAuth grant's other credentials. Compared case-insensitively, after the
/// key was decoded.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.ends_with("token")
        || key.contains("secret")
        || key.contains("password")
        || matches!(
            key.as_str(),
            "code" | "code_verifier" | "assertion" | "client_assertion"
        )
}

/// Whether unparsed text mentions a secret key (for bodies no decoder understands).
fn mentions_secret_key(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["token", "secret", "password", "assertion"]
        .iter()
        .any(|word| lower.contains(word))
}

/// `Bearer abc` -> `Bearer [REDACTED]`; a value without a scheme becomes `[REDACTED]`.
pub(crate) fn authorization(value: &str) -> String {
    match value.trim_start().split_once(char::is_whitespace) {
        Some((scheme, _)) => format!("{scheme} {REDACTED}"),
        None => REDACTED.to_string(),
    }
}

/// Replaces the value of every secret-named pair of `a=1&b=2` text (a query string or a
/// form body); keys are compared after form decoding, so `client%5Fsecret` is caught too.
/// Other pairs stay as they were received.
pub(crate) fn pairs(text: &str) -> String {
    text.split('&')
        .map(|pair| {
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            let decoded: Vec<(String, String)> =
                serde_urlencoded::from_str(&format!("{key}=")).unwrap_or_default();
            match decoded.first() {
                Some((k, _)) if is_secret_key(k) => format!("{key}={REDACTED}"),
                _ => pair.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A path with its query: `/x?access_token=abc&a=1` -> `/x?access_token=[REDACTED]&a=1`.
pub(crate) fn path_and_query(path_and_query: &str) -> String {
    match path_and_query.split_once('?') {
        Some((path, query)) => format!("{path}?{}", pairs(query)),
        None => path_and_query.to_string(),
    }
}

/// Replaces the value of every secret-named key at any depth; true when one was found.
fn redact_json(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut found = false;
            for (key, inner) in map.iter_mut() {
                if is_secret_key(key) {
                    *inner = Value::String(REDACTED.into());
                    found = true;
                } else {
                    found |= redact_json(inner);
                }
            }
            found
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |found, item| redact_json(item) | found),
        _ => false,
    }
}

/// The body as logged, whatever its Content-Type claims: a JSON body with secrets is
/// re-serialised with their values replaced (one without is kept byte for byte), anything
/// else is treated as form text; then the result is cut to the logged length. A body that
/// is neither JSON nor form pairs yet mentions a secret key is replaced whole.
pub(crate) fn body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let redacted = match serde_json::from_str::<Value>(&text) {
        Ok(mut value) => {
            if redact_json(&mut value) {
                value.to_string()
            } else {
                text.into_owned()
            }
        }
        Err(_) if looks_like_form(&text) => pairs(&text),
        Err(_) if mentions_secret_key(&text) => {
            format!("{REDACTED} ({} bytes neither JSON nor a form)", bytes.len())
        }
        Err(_) => text.into_owned(),
    };
    cut(redacted)
}

/// Whether every `&`-separated part of the text is a `key=value` pair of form characters.
fn looks_like_form(text: &str) -> bool {
    !text.is_empty()
        && text.split('&').all(|pair| {
            pair.split_once('=').is_some_and(|(key, _)| {
                !key.is_empty()
                    && pair
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"%+-._~=*!'()@:/,;$?".contains(&b))
            })
        })
}

/// Cuts `text` to the logged length on a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > MAX_LOGGED_BODY {
        let mut end = MAX_LOGGED_BODY;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_queries_and_forms() {
        assert_eq!(authorization("Bearer abc.def"), "Bearer [REDACTED]");
        assert_eq!(authorization("abc"), "[REDACTED]");
        assert_eq!(
            pairs("grant_type=client_credentials&client_id=a&client_secret=s3cr3t"),
            "grant_type=client_credentials&client_id=a&client_secret=[REDACTED]"
        );
        assert_eq!(
            pairs("refresh_token=xyz&client%5Fsecret=s&password=p&token_type=bearer"),
            "refresh_token=[REDACTED]&client%5Fsecret=[REDACTED]&password=[REDACTED]&token_type=bearer"
        );
        assert_eq!(
            path_and_query("/v2/users?pageSize=5&access_token=t"),
            "/v2/users?pageSize=5&access_token=[REDACTED]"
        );
        assert_eq!(path_and_query("/v1/users/1"), "/v1/users/1");
    }

    #[test]
    fn bodies() {
        assert_eq!(
            body(br#"{"a":[{"clientSecret":"s"}],"b":1}"#),
            r#"{"a":[{"clientSecret":"[REDACTED]"}],"b":1}"#
        );
        let plain = br#"{ "company" : "x" }"#;
        assert_eq!(body(plain), String::from_utf8_lossy(plain));
        assert_eq!(body(b"password=p&x=1"), "password=[REDACTED]&x=1");
        assert_eq!(body(b"hello world"), "hello world");
        assert!(!body(br#"{"client_secret":"cut-off"#).contains("cut-off"));
        let long = format!(
            r#"{{"token":"t0ken","pad":"{}"}}"#,
            "é".repeat(MAX_LOGGED_BODY)
        );
        let logged = body(long.as_bytes());
        assert!(logged.len() <= MAX_LOGGED_BODY && !logged.contains("t0ken"));
    }
}
