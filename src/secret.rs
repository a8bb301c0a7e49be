//! Secrets: the [`Secret`] wrapper that holds access tokens, refresh tokens and client secrets
//! (its `Debug` prints `[REDACTED]`, and its memory is zeroed when dropped), and
//! [`redact_body`], which scrubs the secrets a request carried out of the response body
//! (a server's error page may echo a header or a form) before any of it is summarised,
//! cut or quoted in a message.

use std::borrow::Cow;
use std::fmt;
use zeroize::Zeroizing;

/// A credential. Never printed, zeroed on drop.
///
/// # Example
///
/// ```
/// let secret = ycm::Secret::new("eyJhbGciOi...");
/// assert_eq!(format!("{secret:?}"), "[REDACTED]");
/// assert_eq!(secret.expose(), "eyJhbGciOi...");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The credential itself, for building a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Replaces every occurrence of each non-empty secret in `body`, as sent in a header or
/// form-encoded in a form, with `[REDACTED]`. Borrows when there is nothing to replace.
pub(crate) fn redact_body<'a, 'b>(
    body: &'a [u8],
    secrets: impl IntoIterator<Item = &'b Secret>,
) -> Cow<'a, [u8]> {
    let mut out = Cow::Borrowed(body);
    for secret in secrets {
        let raw = secret.expose().as_bytes();
        let encoded: String = url::form_urlencoded::byte_serialize(raw).collect();
        for needle in [raw, encoded.as_bytes()] {
            if !needle.is_empty() && find(&out, needle).is_some() {
                out = Cow::Owned(replace_all(&out, needle, b"[REDACTED]"));
            }
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[REDACTED]");
    }

    #[test]
    fn redact_replaces_raw_and_form_encoded_occurrences() {
        let a = Secret::new("tok");
        let b = Secret::new("");
        let c = Secret::new("s p&c");
        let body = b"a tok and tok, secret=s+p%26c";
        assert_eq!(
            redact_body(body, [&a, &b, &c]).as_ref(),
            b"a [REDACTED] and [REDACTED], secret=[REDACTED]"
        );
        assert!(matches!(redact_body(b"clean", [&a]), Cow::Borrowed(_)));
    }
}
