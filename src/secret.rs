//! Secrets: the [`Secret`] wrapper that holds access tokens, refresh tokens and client secrets
//! (its `Debug` prints `[REDACTED]`, and its memory is zeroed when dropped), and the
//! [`Redactor`], built once from the secrets a request carried, which scrubs them out of
//! whatever the server answered before any of it reaches a message: raw, JSON-escaped
//! (`\"`, `\\`, `\/`, `\uXXXX`), percent- or form-encoded (either hex case, `~` escaped or
//! not), base64 (standard or URL-safe, padded or not, alone or inside a longer base64 text),
//! HTML entities (named, decimal, hex), and any two of these layered. It works on the raw
//! body and again on each string decoded from it, always before quoting or cutting.
//!
//! Each of those forms (the secret itself, each base64 text of it) is matched by its length
//! in characters, in the raw text and in every decoding of it:
//! - **shorter than 8** ([`SHORT_FORM`]) **and made of word characters only** (Unicode
//!   letters and digits, `_`): only as a whole word, where neither the character before it
//!   nor the one after it is a word character. So a secret `id` is redacted in `token id
//!   invalid`, `"id"`, `id=`, `%20id%20`, but not in `valid`, `idle` or `invalid_client`.
//!   Such a secret glued to letters (`idid`, `xxid`) is therefore not redacted: it looks like
//!   any fragment of a word, and redacting every `id` of a message would hide what it says.
//! - **shorter than 8 with any other character** (`a/b`, `-x-`, `s p&c`): anywhere, as
//!   unrelated text rarely holds such a string.
//! - **8 to 12**: anywhere, inside words too.
//! - **longer than 12** ([`MIN_CUT`]): anywhere, and also cut short, as servers cut what
//!   they echo (`token abcdefghij0123456789... invalid`): wherever the form's first 12
//!   characters appear, the match runs on as long as the text keeps agreeing with the form
//!   (to the end of a character), so the whole echoed part goes, however long, and only it.
//!   A cut shorter than 12 characters is not recognised (12 characters are also where an
//!   unrelated text sharing a beginning with the secret, such as `ycm-mock-sec` in
//!   `ycm-mock-second`, starts being redacted).
//!
//! Overlapping matches merge into one `[REDACTED]`.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};
use zeroize::Zeroizing;

/// One byte string the redactor searches for.
type Needle = Zeroizing<Vec<u8>>;

/// A form of a secret the redactor searches for, with how it matches (see the module doc).
struct Form {
    /// The bytes (UTF-8: the secret, or ASCII base64).
    bytes: Needle,
    /// When the form is longer than [`MIN_CUT`] characters: the length in bytes of its first
    /// [`MIN_CUT`] characters, which start a match that runs as far as the text agrees.
    cut: Option<usize>,
    /// Shorter than [`SHORT_FORM`] characters, all of them word characters: matches only
    /// as a whole word.
    whole_word: bool,
}

impl Form {
    fn new(bytes: Needle) -> Form {
        let starts: Vec<usize> = char_starts(&bytes).collect();
        Form {
            cut: starts.get(MIN_CUT).copied(),
            whole_word: starts.len() < SHORT_FORM
                && std::str::from_utf8(&bytes).is_ok_and(|text| text.chars().all(is_word)),
            bytes,
        }
    }
}

/// The positions where a character of `text` (UTF-8) starts.
fn char_starts(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (0..text.len()).filter(|i| !is_continuation(text[*i]))
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// A credential. Never printed, zeroed when its last clone is dropped; clones share it.
///
/// ```
/// let token = ycm::Secret::new("eyJ...");
/// assert_eq!(format!("{token:?}"), "[REDACTED]");
/// assert_eq!(token.clone().expose(), "eyJ...");
/// ```
#[derive(Clone)]
pub struct Secret(Arc<SecretInner>);

struct SecretInner {
    value: Zeroizing<String>,
    /// The forms the redactor looks for, made on first need and kept (see [`Redactor`]).
    forms: OnceLock<Vec<Form>>,
}

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Arc::new(SecretInner {
            value: Zeroizing::new(value.into()),
            forms: OnceLock::new(),
        }))
    }

    /// The credential itself, for building a request.
    pub fn expose(&self) -> &str {
        &self.0.value
    }

    /// Every form of the credential the redactor searches for, longest first.
    fn forms(&self) -> &[Form] {
        self.0.forms.get_or_init(|| {
            needles_of(self.expose().as_bytes())
                .into_iter()
                .map(Form::new)
                .collect()
        })
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// What a secret is replaced with.
const REDACTED: &[u8] = b"[REDACTED]";

/// A form of a secret shorter than this, in characters, is redacted only as a whole word.
pub(crate) const SHORT_FORM: usize = 8;

/// A form of a secret longer than this, in characters, is redacted also when cut after at
/// least this many of its first characters.
pub(crate) const MIN_CUT: usize = 12;

/// Shortest base64 fragment of a secret searched for inside a longer base64 text (a shorter
/// one would redact unrelated text; the secret's whole encoding is always searched for).
const MIN_BASE64_CORE: usize = 8;

/// The decodings a server may have applied to what it echoes.
#[derive(Clone, Copy)]
enum Decoding {
    /// JSON string escapes: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`.
    Json,
    /// `%XX` in either case (RFC 3986; a `+` stays a `+`).
    Percent,
    /// `application/x-www-form-urlencoded`: `%XX` and `+` for a space.
    Form,
    /// HTML character references: `&quot;`, `&amp;`, `&lt;`, `&gt;`, `&apos;`, `&nbsp;`,
    /// `&#39;`, `&#x27;`.
    Html,
}

impl Decoding {
    /// The bytes that start an escape of this decoding: text without any has nothing to
    /// decode.
    fn triggers(self) -> &'static [u8] {
        match self {
            Decoding::Json => b"\\",
            Decoding::Percent => b"%",
            Decoding::Form => b"%+",
            Decoding::Html => b"&",
        }
    }
}

/// Every decoding.
const DECODINGS: [Decoding; 4] = [
    Decoding::Json,
    Decoding::Percent,
    Decoding::Form,
    Decoding::Html,
];

/// Every chain of decodings tried, innermost encoding last; the raw text is tried as well.
const CHAINS: &[&[Decoding]] = {
    use Decoding::*;
    &[
        &[Json],
        &[Percent],
        &[Form],
        &[Html],
        &[Json, Percent],
        &[Json, Form],
        &[Json, Html],
        &[Html, Json],
        &[Html, Percent],
        &[Html, Form],
        &[Percent, Json],
        &[Percent, Html],
        &[Form, Json],
        &[Form, Html],
    ]
};

/// The most secrets one request carries (a grant: the secret sent and the client secret).
const MAX_SECRETS: usize = 3;

/// Scrubs the secrets of one request out of a response, in every form a server may echo
/// them in. Cheap to make per request: each secret's forms are computed once and kept with
/// it. An empty one changes nothing.
#[derive(Default)]
pub(crate) struct Redactor<'a> {
    /// Byte strings searched for in the raw text and in each of its decodings, per secret:
    /// the secret and its base64 forms.
    sets: [&'a [Form]; MAX_SECRETS],
}

impl fmt::Debug for Redactor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.forms().count())
    }
}

/// The forms of one secret searched for: itself and its base64 encodings (standard and
/// URL-safe, padded or not, and the cores that survive inside a longer base64 text).
fn needles_of(raw: &[u8]) -> Vec<Needle> {
    let mut needles: Vec<Needle> = Vec::new();
    if raw.is_empty() {
        return needles;
    }
    needles.push(Zeroizing::new(raw.to_vec()));
    for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
        let whole = base64(raw, alphabet);
        let unpadded = whole.iter().take_while(|b| **b != b'=').count();
        needles.push(Zeroizing::new(whole[..unpadded].to_vec()));
        needles.push(whole);
        for skip in 0..3 {
            let core = base64_core(raw, skip, alphabet);
            if core.len() >= MIN_BASE64_CORE {
                needles.push(core);
            }
        }
    }
    // Longest first, so that a secret's padded form wins over the bare one.
    needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    needles.dedup();
    needles
}

impl<'a> Redactor<'a> {
    /// A redactor of these secrets (at most three, checked when it compiles; empty ones
    /// change nothing).
    pub fn new<const N: usize>(secrets: [&'a Secret; N]) -> Redactor<'a> {
        const {
            assert!(
                N <= MAX_SECRETS,
                "a request carries at most MAX_SECRETS secrets"
            )
        };
        let mut redactor = Redactor::default();
        for (set, secret) in redactor.sets.iter_mut().zip(secrets) {
            *set = secret.forms();
        }
        redactor
    }

    fn forms(&self) -> impl Iterator<Item = &Form> {
        self.sets.iter().flat_map(|set| set.iter())
    }

    fn is_empty(&self) -> bool {
        self.sets.iter().all(|set| set.is_empty())
    }

    /// `body` with every occurrence of a secret, in any form, replaced by `[REDACTED]`.
    /// Borrows when there is nothing to replace.
    pub fn bytes<'b>(&self, body: &'b [u8]) -> Cow<'b, [u8]> {
        if self.is_empty() || body.is_empty() {
            return Cow::Borrowed(body);
        }
        let mut spans = Vec::new();
        self.find_in(body, None, &mut spans);
        // Most bodies hold no escape at all: one pass over them rules out every chain.
        let escaped = body
            .iter()
            .any(|b| DECODINGS.iter().any(|d| d.triggers().contains(b)));
        if escaped {
            for chain in CHAINS {
                if let Some(decoded) = decode_chain(body, chain) {
                    self.find_in(&decoded.bytes, Some(&decoded.starts), &mut spans);
                }
            }
        }
        if spans.is_empty() {
            return Cow::Borrowed(body);
        }
        Cow::Owned(replace_spans(body, spans))
    }

    /// Like [`Redactor::bytes`], for a string decoded from a response (a JSON member, an
    /// HTML title).
    pub fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Redacts every string of a parsed JSON value, member names included.
    pub fn value(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Cow::Owned(clean) = self.text(s) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                let dirty = map.keys().any(|k| matches!(self.text(k), Cow::Owned(_)));
                if dirty {
                    let old = std::mem::take(map);
                    for (key, item) in old {
                        map.insert(self.text(&key).into_owned(), item);
                    }
                }
                map.values_mut().for_each(|item| self.value(item));
            }
            _ => {}
        }
    }

    /// Adds the spans of `raw` holding a form found in `text` (by the rules of the module
    /// doc), a decoding of `raw` whose byte `i` came from `raw[starts[i]..]` (`None`: `text`
    /// is `raw`).
    fn find_in(&self, text: &[u8], starts: Option<&[usize]>, spans: &mut Vec<(usize, usize)>) {
        for form in self.forms() {
            let needle: &[u8] = &form.bytes;
            let searched = form.cut.map_or(needle, |cut| &needle[..cut]);
            for at in find_all(text, searched) {
                let end = match form.cut {
                    None => at + needle.len(),
                    Some(_) => {
                        let agree = text[at..]
                            .iter()
                            .zip(needle)
                            .take_while(|(a, b)| a == b)
                            .count();
                        // To the end of the character the agreement stops in.
                        let mut end = at + agree;
                        while end < text.len() && is_continuation(text[end]) {
                            end += 1;
                        }
                        end
                    }
                };
                if form.whole_word && continues_a_word(text, at, end) {
                    continue;
                }
                spans.push(match starts {
                    None => (at, end),
                    Some(starts) => (starts[at], raw_end(starts, end)),
                });
            }
        }
    }
}

/// Whether `c` is a word character: a Unicode letter or digit, or `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether a word character touches `text[at..end]`: the character just before it or the
/// one just after it. Bytes that are not UTF-8 are no word characters.
fn continues_a_word(text: &[u8], at: usize, end: usize) -> bool {
    let char_at = |i: usize| -> Option<char> {
        let len = (1..=4).find(|n| text.get(i + n).is_none_or(|b| !is_continuation(*b)))?;
        std::str::from_utf8(text.get(i..i + len)?)
            .ok()?
            .chars()
            .next()
    };
    let before = (at.saturating_sub(4)..at)
        .rev()
        .find(|j| !is_continuation(text[*j]))
        .and_then(char_at);
    before.is_some_and(is_word) || char_at(end).is_some_and(is_word)
}

/// Where in the raw text the decoded bytes before `end` stop: the start of the first decoded
/// byte at or after `end` that came from a later raw position than byte `end - 1`.
fn raw_end(starts: &[usize], end: usize) -> usize {
    let last = starts[end - 1];
    starts[end..]
        .iter()
        .copied()
        .find(|s| *s > last)
        .unwrap_or(last + 1)
}

/// Every position of `needle` in `haystack`, overlapping ones included (none for an empty
/// needle).
fn find_all<'h>(haystack: &'h [u8], needle: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
    // Each needle is searched once per text, most texts are short: a first-byte scan costs
    // less than building a substring finder.
    let first = needle.first().copied();
    let mut from = 0;
    std::iter::from_fn(move || loop {
        let at = from + memchr::memchr(first?, haystack.get(from..)?)?;
        from = at + 1;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
    })
}

/// `body` with each span (merged where they overlap) replaced by [`REDACTED`].
fn replace_spans(body: &[u8], mut spans: Vec<(usize, usize)>) -> Vec<u8> {
    spans.sort_unstable();
    let mut out = Vec::with_capacity(body.len());
    let mut done = 0;
    let mut spans = spans.into_iter().peekable();
    while let Some((start, mut end)) = spans.next() {
        while let Some(&(next, next_end)) = spans.peek() {
            if next >= end {
                break;
            }
            end = end.max(next_end);
            spans.next();
        }
        if start < done {
            // Within a span already replaced (cannot happen after merging, kept for safety).
            done = done.max(end);
            continue;
        }
        out.extend_from_slice(&body[done..start]);
        out.extend_from_slice(REDACTED);
        done = end;
    }
    out.extend_from_slice(&body[done..]);
    out
}

/// A decoding of a text: its bytes, and for each byte (plus one past the end) the position
/// in the original text where the bytes came from.
struct Decoded {
    bytes: Vec<u8>,
    starts: Vec<usize>,
}

/// `text` decoded by each decoding of `chain` in turn; `None` when one of them finds
/// nothing to decode (the chain is then the same as a shorter one, tried on its own).
fn decode_chain(text: &[u8], chain: &[Decoding]) -> Option<Decoded> {
    let mut current: Option<Decoded> = None;
    for decoding in chain {
        let input = current.as_ref().map_or(text, |d| d.bytes.as_slice());
        let next = decode(input, *decoding)?;
        current = Some(match current {
            None => next,
            Some(outer) => Decoded {
                starts: next.starts.iter().map(|s| outer.starts[*s]).collect(),
                bytes: next.bytes,
            },
        });
    }
    current
}

fn decode(text: &[u8], decoding: Decoding) -> Option<Decoded> {
    let trigger = decoding.triggers();
    if !text.iter().any(|b| trigger.contains(b)) {
        return None;
    }
    let mut out = Decoded {
        bytes: Vec::with_capacity(text.len()),
        starts: Vec::with_capacity(text.len() + 1),
    };
    let push = |out: &mut Decoded, bytes: &[u8], at: usize| {
        out.bytes.extend_from_slice(bytes);
        out.starts.extend(std::iter::repeat_n(at, bytes.len()));
    };
    let mut i = 0;
    while i < text.len() {
        let escape = match decoding {
            Decoding::Json => json_escape(text, i),
            Decoding::Percent => percent_escape(text, i, false),
            Decoding::Form => percent_escape(text, i, true),
            Decoding::Html => html_reference(text, i),
        };
        match escape {
            Some((decoded, len)) => {
                let mut utf8 = [0u8; 4];
                match decoded {
                    Unit::Byte(b) => push(&mut out, &[b], i),
                    Unit::Char(c) => push(&mut out, c.encode_utf8(&mut utf8).as_bytes(), i),
                }
                i += len;
            }
            None => {
                push(&mut out, &text[i..i + 1], i);
                i += 1;
            }
        }
    }
    out.starts.push(text.len());
    Some(out)
}

/// One decoded unit: a byte (from `%XX`) or a character.
enum Unit {
    Byte(u8),
    Char(char),
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// The JSON escape at `text[i..]`, if any, and its length.
fn json_escape(text: &[u8], i: usize) -> Option<(Unit, usize)> {
    if text[i] != b'\\' {
        return None;
    }
    let c = match *text.get(i + 1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex_value(text.get(i + 2..i + 6)?)?;
            if (0xD800..0xDC00).contains(&unit) {
                let low = text
                    .get(i + 6..i + 8)
                    .filter(|p| *p == b"\\u")
                    .and_then(|_| hex_value(text.get(i + 8..i + 12)?))
                    .filter(|low| (0xDC00..0xE000).contains(low))?;
                let c = char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((Unit::Char(c), 12));
            }
            return Some((Unit::Char(char::from_u32(unit)?), 6));
        }
        _ => return None,
    };
    Some((Unit::Char(c), 2))
}

/// The `%XX` escape (or, in a form, the `+`) at `text[i..]`, if any, and its length.
fn percent_escape(text: &[u8], i: usize, form: bool) -> Option<(Unit, usize)> {
    match text[i] {
        b'+' if form => Some((Unit::Char(' '), 1)),
        b'%' => {
            let value = hex_value(text.get(i + 1..i + 3)?)?;
            Some((Unit::Byte(value as u8), 3))
        }
        _ => None,
    }
}

/// The HTML character reference at `text[i..]`, if any, and its length. Numeric references
/// may omit the `;` (browsers accept them so).
fn html_reference(text: &[u8], i: usize) -> Option<(Unit, usize)> {
    if text[i] != b'&' {
        return None;
    }
    let rest = &text[i + 1..];
    if let Some(number) = rest.strip_prefix(b"#") {
        let (digits, radix, skip) = match number.first() {
            Some(b'x' | b'X') => (&number[1..], 16, 2),
            _ => (number, 10, 1),
        };
        let len = digits
            .iter()
            .take_while(|b| {
                if radix == 16 {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        if len == 0 || len > 8 {
            return None;
        }
        let value = u32::from_str_radix(std::str::from_utf8(&digits[..len]).ok()?, radix).ok()?;
        let c = char::from_u32(value)?;
        let semicolon = usize::from(digits.get(len) == Some(&b';'));
        return Some((Unit::Char(c), 1 + skip + len + semicolon));
    }
    const NAMED: [(&[u8], char); 10] = [
        (b"quot;", '"'),
        (b"QUOT;", '"'),
        (b"amp;", '&'),
        (b"AMP;", '&'),
        (b"lt;", '<'),
        (b"LT;", '<'),
        (b"gt;", '>'),
        (b"GT;", '>'),
        (b"apos;", '\''),
        (b"nbsp;", '\u{a0}'),
    ];
    NAMED
        .iter()
        .find(|(name, _)| rest.starts_with(name))
        .map(|(name, c)| (Unit::Char(*c), 1 + name.len()))
}

/// `text` with its HTML character references decoded (for a page title).
pub(crate) fn decode_html(text: &str) -> String {
    match decode(text.as_bytes(), Decoding::Html) {
        None => text.to_string(),
        Some(decoded) => String::from_utf8_lossy(&decoded.bytes).into_owned(),
    }
}

const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `data` in base64 with this alphabet, padded.
fn base64(data: &[u8], alphabet: &[u8; 64]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(data.len().div_ceil(3) * 4));
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(alphabet[((n >> (18 - 6 * k)) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// The base64 characters that depend only on `secret` when it sits `skip` bytes (0..3)
/// into a 3-byte group of a longer base64-encoded text.
fn base64_core(secret: &[u8], skip: usize, alphabet: &[u8; 64]) -> Zeroizing<Vec<u8>> {
    let mut shifted = Zeroizing::new(vec![0u8; skip]);
    shifted.extend_from_slice(secret);
    let encoded = base64(&shifted, alphabet);
    let first = (8 * skip).div_ceil(6);
    let end = 8 * (skip + secret.len()) / 6;
    Zeroizing::new(encoded.get(first..end).unwrap_or_default().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_all_gives_overlapping_positions_and_nothing_for_an_empty_needle() {
        let all = |h: &[u8], n: &[u8]| find_all(h, n).collect::<Vec<_>>();
        assert_eq!(all(b"aaaa", b"aa"), [0, 1, 2]);
        assert_eq!(all(b"xabxab", b"ab"), [1, 4]);
        assert_eq!(all(b"ab", b"abc"), [] as [usize; 0]);
        assert_eq!(all(b"abc", b""), [] as [usize; 0]);
        assert_eq!(all(b"", b"a"), [] as [usize; 0]);
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[REDACTED]");
        assert!(!format!("{:?}", Redactor::new([&secret])).contains("hunter2"));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(
                base64(plain.as_bytes(), BASE64_STANDARD).as_slice(),
                encoded.as_bytes()
            );
        }
        assert_eq!(base64(&[0xfb, 0xff], BASE64_URL_SAFE).as_slice(), b"-_8=");
    }

    /// Encodings of the test secrets written out by hand, as a server would send them.
    #[test]
    fn every_form_of_a_secret_is_redacted() {
        let secret = Secret::new("a/b\"c\\d é~+&<>= 😀%");
        let redactor = Redactor::new([&secret]);
        let forms = [
            // raw, and JSON-escaped as serde_json, PHP and Python's ensure_ascii do it
            r#"a/b"c\d é~+&<>= 😀%"#,
            r#"a/b\"c\\d é~+&<>= 😀%"#,
            r#"a\/b\"c\\d \u00e9~+&<>= \ud83d\ude00%"#,
            r#"a\/b\"c\\d \u00E9~+&<>= \uD83D\uDE00%"#,
            "a\\/b\\\"c\\\\d \\u00e9~+\\u0026\\u003c\\u003e= \\ud83d\\ude00%",
            // percent: upper, lower, RFC 3986 (~ kept), form (+ for space)
            "a%2Fb%22c%5Cd%20%C3%A9%7E%2B%26%3C%3E%3D%20%F0%9F%98%80%25",
            "a%2fb%22c%5cd%20%c3%a9%7e%2b%26%3c%3e%3d%20%f0%9f%98%80%25",
            "a%2Fb%22c%5Cd%20%C3%A9~%2B%26%3C%3E%3D%20%F0%9F%98%80%25",
            "a%2Fb%22c%5Cd+%C3%A9%7E%2B%26%3C%3E%3D+%F0%9F%98%80%25",
            "a/b%22c%5Cd%20%C3%A9~+&%3C%3E=%20%F0%9F%98%80%25",
            // HTML: named, decimal, hex (either case), without the ;
            "a/b&quot;c\\d é~+&amp;&lt;&gt;= 😀%",
            "a&#47;b&#34;c&#92;d&#32;&#233;~+&#38;&#60;&#62;&#61; &#128512;%",
            "a&#x2F;b&#x22;c&#x5c;d &#xE9;~+&#X26;&lt;&gt;= &#x1F600;&#x25;",
            "a/b&#34c\\d é~+&#38&lt;&gt;= 😀%",
            // layered: a JSON string holding an HTML-escaped or a percent-encoded echo
            r#"a\/b&quot;c\\d \u00e9~+&amp;&lt;&gt;= \ud83d\ude00%"#,
            "a%2Fb%22c%5Cd%20%C3%A9\\u007e%2B%26%3C%3E%3D%20%F0%9F%98%80%25",
        ];
        for form in forms {
            let body = format!("before {form} after");
            let clean = redactor.bytes(body.as_bytes());
            assert_eq!(
                std::str::from_utf8(&clean).unwrap(),
                "before [REDACTED] after",
                "{form}"
            );
        }
    }

    #[test]
    fn base64_forms_are_redacted_alone_and_inside_longer_base64() {
        let secret = Secret::new("s3cr\u{e9}t/with?>>~padding");
        let redactor = Redactor::new([&secret]);
        for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
            let whole = base64(secret.expose().as_bytes(), alphabet);
            let whole = std::str::from_utf8(&whole).unwrap();
            for form in [whole, whole.trim_end_matches('=')] {
                let body = format!("x {form} y");
                assert_eq!(redactor.bytes(body.as_bytes()).as_ref(), b"x [REDACTED] y");
            }
            // As Basic credentials ("id:secret") and after 1, 2 and 3 bytes of other data.
            for prefix in ["id:", "i:", "ab:", "abc:"] {
                let text = format!("{prefix}{}!", secret.expose());
                let encoded = base64(text.as_bytes(), alphabet);
                let encoded = std::str::from_utf8(&encoded).unwrap();
                let clean = redactor.bytes(encoded.as_bytes());
                let clean = std::str::from_utf8(&clean).unwrap();
                assert!(clean.contains("[REDACTED]"), "{prefix}: {clean}");
                // What is left is the few characters shared with the other data.
                assert!(clean.len() <= "[REDACTED]".len() + 10, "{prefix}: {clean}");
            }
        }
    }

    #[test]
    fn redaction_leaves_other_text_alone() {
        let a = Secret::new("tok");
        let b = Secret::new("");
        let c = Secret::new("s p&c");
        let redactor = Redactor::new([&a, &b, &c]);
        assert_eq!(
            redactor
                .bytes(b"a tok and tok, secret=s+p%26c, t%6Fk")
                .as_ref(),
            b"a [REDACTED] and [REDACTED], secret=[REDACTED], [REDACTED]"
        );
        for clean in [
            &b"clean"[..],
            b"to k",
            b"%zz & &#xZZ; \\u12 \\ud83d",
            b"",
            b"%",
            b"&#",
            b"\\",
        ] {
            assert!(
                matches!(redactor.bytes(clean), Cow::Borrowed(_)),
                "{clean:?}"
            );
        }
        assert!(matches!(
            Redactor::default().bytes(b"tok"),
            Cow::Borrowed(_)
        ));
        assert_eq!(redactor.text("\"tok\""), "\"[REDACTED]\"");
        // A short secret glued to letters is a word of its own (see the module doc).
        assert!(matches!(redactor.bytes(b"toktok"), Cow::Borrowed(_)));
    }

    /// `body` redacted of `secret`, as text.
    fn redacted(secret: &str, body: &str) -> String {
        let secret = Secret::new(secret);
        Redactor::new([&secret]).text(body).into_owned()
    }

    #[test]
    fn a_secret_cut_short_by_the_server_is_redacted() {
        let secret = "abcdefghij0123456789KLMNOPQRSTUVWXYZ";
        // Cut after 20 characters, as servers often do, and after every length from 12 on.
        assert_eq!(
            redacted(secret, "token abcdefghij0123456789... invalid"),
            "token [REDACTED]... invalid"
        );
        for cut in MIN_CUT..=secret.len() {
            let body = format!("token {}\u{2026} invalid", &secret[..cut]);
            assert_eq!(
                redacted(secret, &body),
                "token [REDACTED]\u{2026} invalid",
                "cut at {cut}"
            );
        }
        // Only what agrees with the secret goes; the rest of the word stays.
        assert_eq!(redacted(secret, "abcdefghij0123456789kl"), "[REDACTED]kl");
        // Shorter cuts are not recognised (the rule's limit).
        let body = format!("token {}... invalid", &secret[..MIN_CUT - 1]);
        assert_eq!(redacted(secret, &body), body);
        // Cut inside an encoding: JSON-escaped, percent-encoded, as an HTML entity text.
        let secret = "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p";
        for body in [
            r#"{"errmsg":"token a\/b\/c\/d\/e\/f\/g\/h\/i\/j\/... invalid"}"#,
            "token a%2Fb%2Fc%2Fd%2Fe%2Ff%2Fg%2Fh%2Fi%2Fj%2F... invalid",
            "token a&#47;b&#47;c&#47;d&#47;e&#47;f&#47;g&#47;h&#47;i&#47;j... invalid",
        ] {
            let clean = redacted(secret, body);
            assert!(
                clean.contains("token [REDACTED]... invalid"),
                "{body} -> {clean}"
            );
        }
        // Characters, not bytes: a non-ASCII secret cut after 20 characters, whole characters
        // redacted even where the text goes on with another character of the same lead byte.
        let secret = "cl\u{e9}-secr\u{e8}te-0123456789abcdef";
        let cut: String = secret.chars().take(20).collect();
        assert_eq!(
            redacted(secret, &format!("key {cut}... refused")),
            "key [REDACTED]... refused"
        );
        assert_eq!(
            redacted(secret, "cl\u{e9}-secr\u{e8}te\u{e9}"),
            "cl\u{e9}-secr\u{e8}te\u{e9}",
            "11 characters agree, fewer than 12"
        );
        let secret = "cl\u{e9}-secr\u{e8}te-\u{e9}0123456789";
        assert_eq!(
            redacted(secret, "cl\u{e9}-secr\u{e8}te-\u{e8}x"),
            "[REDACTED]x",
            "\u{e8} and \u{e9} share their first byte: the whole \u{e8} goes"
        );
        // Its base64 form, cut too.
        let secret = "abcdefghij0123456789KLMNOPQRSTUVWXYZ";
        let encoded = base64(secret.as_bytes(), BASE64_STANDARD);
        let encoded = std::str::from_utf8(&encoded[..24]).unwrap();
        assert_eq!(
            redacted(secret, &format!("auth {encoded}... bad")),
            "auth [REDACTED]... bad"
        );
    }

    #[test]
    fn a_short_secret_is_redacted_only_as_a_whole_word() {
        assert_eq!(
            redacted(
                "id",
                "valid id, invalid_client, id=x, 'id', (id), idle, rapid, user_id, id"
            ),
            "valid [REDACTED], invalid_client, [REDACTED]=x, '[REDACTED]', ([REDACTED]), idle, rapid, user_id, [REDACTED]"
        );
        // Neighbours are characters, not bytes: a non-ASCII letter continues a word, a
        // non-ASCII quote does not.
        assert_eq!(
            redacted("id", "\u{e9}id \u{ab}id\u{bb}"),
            "\u{e9}id \u{ab}[REDACTED]\u{bb}"
        );
        // Decoded, the neighbours are those of the decoded text.
        assert_eq!(
            redacted("id", "valid%20id%20x \\nid"),
            "valid%20[REDACTED]%20x \\n[REDACTED]"
        );
        // A short secret holding another character than a word character goes anywhere.
        assert_eq!(redacted("-x-", "a-x-b"), "a[REDACTED]b");
        assert_eq!(redacted("x-", "ax- x-b"), "a[REDACTED] [REDACTED]b");
        assert_eq!(redacted("a/\"\\\u{e9}", "xxa/\"\\\u{e9}"), "xx[REDACTED]");
        // Up to 7 characters a secret is short; from 8 on it is redacted anywhere.
        assert_eq!(
            redacted("abc1234", "xabc1234 abc1234"),
            "xabc1234 [REDACTED]"
        );
        assert_eq!(redacted("abcd1234", "xabcd1234y"), "x[REDACTED]y");
        // Characters, not bytes: 4 characters in 8 bytes are short.
        assert_eq!(
            redacted(
                "\u{e9}\u{e9}\u{e9}\u{e9}",
                "x\u{e9}\u{e9}\u{e9}\u{e9} \u{e9}\u{e9}\u{e9}\u{e9}"
            ),
            "x\u{e9}\u{e9}\u{e9}\u{e9} [REDACTED]"
        );
        // Short base64 forms follow the same rule: "id" is "aWQ=" and "aWQ".
        assert_eq!(
            redacted("id", "x aWQ= aWQ baWQc"),
            "x [REDACTED] [REDACTED] baWQc"
        );
    }

    #[test]
    fn json_values_are_redacted_everywhere() {
        let secret = Secret::new("k/ey");
        let redactor = Redactor::new([&secret]);
        let mut value = serde_json::json!({"a": ["x k/ey", {"k/ey": 1}], "b": "k%2Fey", "c": 2});
        redactor.value(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"a": ["x [REDACTED]", {"[REDACTED]": 1}], "b": "[REDACTED]", "c": 2})
        );
    }

    #[test]
    fn html_titles_are_decoded() {
        assert_eq!(
            decode_html("Tom &amp; Jerry&#39;s &lt;b&gt; &#x263A;"),
            "Tom & Jerry's <b> ☺"
        );
        assert_eq!(decode_html("plain"), "plain");
    }
}
