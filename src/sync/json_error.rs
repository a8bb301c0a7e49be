//! How the readers of the sync's own files (the journal, the plan) word a JSON error: serde
//! quotes the value it refused (`unknown variant `...``, `unknown code "..."`), and that
//! value comes from a file that may be corrupt or hostile, so [`describe`] cuts the quote to
//! [`MAX_QUOTED`] bytes on a character boundary (saying how long it was), escapes control
//! characters (no NUL reaches a C caller's message), and keeps serde's position
//! (`at line L column C`) whole.

/// The most bytes of serde's own text a message keeps.
pub(crate) const MAX_QUOTED: usize = 200;

/// `e` as a bounded, printable message.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json ends its text with " at line L column C" when it knows where.
    let (what, at) = match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => text.split_at(i),
        _ => (text.as_str(), ""),
    };
    let short = crate::response::cut(what, MAX_QUOTED);
    let mut out: String = short
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if short.len() < what.len() {
        out.push_str(&format!("... ({} bytes)", what.len()));
    }
    out.push_str(at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_quote_is_cut_and_the_position_kept() {
        let long = "\u{e9}".repeat(500);
        let e = serde_json::from_str::<bool>(&format!("\"{long}\"")).unwrap_err();
        let message = describe(&e);
        assert!(message.len() < MAX_QUOTED + 60, "{message}");
        assert!(message.contains("... ("), "{message}");
        assert!(message.ends_with(" at line 1 column 1002"), "{message}");
    }

    #[test]
    fn control_characters_are_escaped_and_short_texts_kept() {
        #[derive(Debug, serde::Deserialize)]
        enum Kind {
            #[allow(dead_code)]
            Known,
        }
        // serde quotes an unknown variant as it is, NUL included.
        let e = serde_json::from_str::<Kind>("\"a\\u0000b\"").unwrap_err();
        assert!(e.to_string().contains('\0'));
        let message = describe(&e);
        assert!(
            !message.contains('\0') && message.contains("a\\u{0}b"),
            "{message}"
        );
        let e = serde_json::from_str::<bool>("tru").unwrap_err();
        assert_eq!(describe(&e), e.to_string());
    }
}
