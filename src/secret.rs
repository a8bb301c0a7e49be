//! Secrets: the [`Secret`] wrapper that holds access tokens, refresh tokens and client secrets
//! (its `Debug` prints `[REDACTED]`, and its memory is zeroed when dropped), and [`redact`],
//! which scrubs known secrets out of text that came from elsewhere (a server's error body
//! may echo a header) before that text reaches an error message.

use std::fmt;
use zeroize::Zeroizing;

/// A credential. Never printed, zeroed on drop.
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

/// Replaces every occurrence of each non-empty secret in `text` with `[REDACTED]`.
pub fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a Secret>) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        let value = secret.expose();
        if !value.is_empty() && out.contains(value) {
            out = out.replace(value, "[REDACTED]");
        }
    }
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
    fn redact_replaces_every_occurrence() {
        let a = Secret::new("tok");
        let b = Secret::new("");
        assert_eq!(
            redact("a tok and tok", [&a, &b]),
            "a [REDACTED] and [REDACTED]"
        );
    }
}
