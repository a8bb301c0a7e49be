//! The one text form of each [`FieldKind`], for every place a field's value is text rather
//! than JSON: CSV record cells, CLI flags, and the cells of exports, plans and tables. A
//! [`FieldKind::Text`] value is its text; [`FieldKind::DisableOnly`] is `disable`, with
//! `enable` (what reads and exports show, and which cannot be sent) meaning "leave alone";
//! [`FieldKind::Limit`] is a whole number or `unlimited` (any case). [`parse`] turns a cell
//! into the field's wire value and [`format()`] a wire value into its cell, so whatever ycm
//! writes reads back with the same meaning; [`same`] compares two wire values by what they
//! mean (a limit read as `"10"` is the limit 10).

use super::{Field, FieldKind};
use crate::user::{PbxCreationLimit, MAX_PBX_CREATION_LIMIT};
use serde_json::Value;

/// The text of "no limit" for [`FieldKind::Limit`] (read in any case).
///
/// ```
/// assert_eq!(ycm::fields::text::UNLIMITED, "unlimited");
/// ```
pub const UNLIMITED: &str = "unlimited";
/// The one value [`FieldKind::DisableOnly`] can send.
const DISABLE: &str = "disable";
/// What a read shows for [`FieldKind::DisableOnly`] when it is on; never sent.
const ENABLE: &str = "enable";

/// A cell as the field's wire value: `Ok(None)` leaves the field alone (an empty cell, or
/// `enable` for two-factor authentication), an error says the rule the text breaks.
///
/// ```
/// use ycm::fields::{by_wire, text::parse};
/// let limit = by_wire("pbxCreationLimit").unwrap();
/// assert_eq!(parse(limit, "Unlimited"), Ok(Some(serde_json::json!(""))));
/// assert_eq!(parse(limit, " 7 "), Ok(Some(serde_json::json!(7))));
/// assert!(parse(limit, "seven").unwrap_err().contains("unlimited"));
/// let two_factor = by_wire("twoFactorAuthenticationEnable").unwrap();
/// assert_eq!(parse(two_factor, "enable"), Ok(None));
/// ```
pub fn parse(field: &Field, cell: &str) -> Result<Option<Value>, String> {
    if cell.is_empty() {
        return Ok(None);
    }
    let trimmed = cell.trim();
    match field.kind {
        FieldKind::Text => Ok(Some(Value::String(cell.to_string()))),
        FieldKind::DisableOnly if trimmed.eq_ignore_ascii_case(DISABLE) => {
            Ok(Some(Value::from(DISABLE)))
        }
        FieldKind::DisableOnly if trimmed.eq_ignore_ascii_case(ENABLE) => Ok(None),
        FieldKind::DisableOnly => Err(format!(
            "\"{}\" must be \"{DISABLE}\" (\"{ENABLE}\" or an empty cell leaves it alone), got \"{}\"",
            field.wire,
            crate::response::cut(cell, 40)
        )),
        FieldKind::Limit => parse_limit(cell)
            .map(|limit| Some(limit_value(limit)))
            .map_err(|rule| format!("\"{}\" {rule}", field.wire)),
    }
}

/// A cell [`parse`] refused, as the nearest wire value (a limit's digits as a number, other
/// text as it is), so that an invalid record still shows, and the failed-rows file writes
/// back, what the input said.
///
/// ```
/// use ycm::fields::{by_wire, text::refused};
/// let limit = by_wire("pbxCreationLimit").unwrap();
/// assert_eq!(refused(limit, "0"), serde_json::json!(0));
/// assert_eq!(refused(limit, "lots"), serde_json::json!("lots"));
/// ```
pub fn refused(field: &Field, cell: &str) -> Value {
    match (field.kind, cell.trim().parse::<i64>()) {
        (FieldKind::Limit, Ok(n)) => Value::from(n),
        _ => Value::String(cell.to_string()),
    }
}

/// A `pbxCreationLimit` as text: a whole number from 1 to [`MAX_PBX_CREATION_LIMIT`], or
/// [`UNLIMITED`] in any case; the error is the rule, for the caller to prefix with the
/// column or flag.
///
/// ```
/// use ycm::{fields::text::parse_limit, PbxCreationLimit};
/// assert_eq!(parse_limit("UNLIMITED"), Ok(PbxCreationLimit::Unlimited));
/// assert_eq!(parse_limit("12"), Ok(PbxCreationLimit::AtMost(12)));
/// assert!(parse_limit("0").is_err());
/// ```
pub fn parse_limit(text: &str) -> Result<PbxCreationLimit, String> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case(UNLIMITED) {
        return Ok(PbxCreationLimit::Unlimited);
    }
    match trimmed.parse::<i64>() {
        Ok(n) if (1..=MAX_PBX_CREATION_LIMIT).contains(&n) => {
            Ok(PbxCreationLimit::AtMost(u32::try_from(n).unwrap_or(u32::MAX)))
        }
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_PBX_CREATION_LIMIT} or \"{UNLIMITED}\" (any case), got \"{}\"",
            crate::response::cut(text, 40)
        )),
    }
}

/// A limit's wire value: its number, or `""` for no limit.
pub fn limit_value(limit: PbxCreationLimit) -> Value {
    match limit {
        PbxCreationLimit::Unlimited => Value::from(""),
        PbxCreationLimit::AtMost(n) => Value::from(n),
    }
}

/// A wire value as its cell: [`UNLIMITED`] for a limit of `""`, a string as it is, a
/// number in digits, nothing for null.
///
/// ```
/// use ycm::fields::{by_wire, text::format};
/// let limit = by_wire("pbxCreationLimit").unwrap();
/// assert_eq!(format(limit, &serde_json::json!("")), "unlimited");
/// assert_eq!(format(limit, &serde_json::json!(5)), "5");
/// ```
pub fn format(field: &Field, value: &Value) -> String {
    match (field.kind, value) {
        (FieldKind::Limit, Value::String(s)) if s.is_empty() => UNLIMITED.to_string(),
        _ => plain(value),
    }
}

/// The cell of the column `name`: [`format()`] for an update field, [`plain`] for any other
/// column (an id, a read-only column).
///
/// ```
/// use ycm::fields::text::cell;
/// assert_eq!(cell("pbxCreationLimit", &serde_json::json!("")), "unlimited");
/// assert_eq!(cell("createdReseller", &serde_json::json!("")), "");
/// ```
pub fn cell(name: &str, value: &Value) -> String {
    match super::by_wire(name) {
        Some(field) => format(field, value),
        None => plain(value),
    }
}

/// A value of no field (a read-only column, an id) as its cell.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether two wire values of `field` mean the same: equal, or the same limit however it
/// is spelt (`10` and `"10"`).
///
/// ```
/// use ycm::fields::{by_wire, text::same};
/// let limit = by_wire("pbxCreationLimit").unwrap();
/// assert!(same(limit, &serde_json::json!(10), &serde_json::json!("10")));
/// assert!(!same(limit, &serde_json::json!(""), &serde_json::json!(10)));
/// ```
pub fn same(field: &Field, a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let limit = |value: &Value| match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    field.kind == FieldKind::Limit && limit(a).is_some() && limit(a) == limit(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{FieldKind, FIELDS};
    use serde_json::json;

    #[test]
    fn every_kind_reads_back_what_it_writes() {
        for field in FIELDS {
            let values: Vec<Value> = match field.kind {
                FieldKind::Text => vec![json!("ACME"), json!(" spaced ")],
                FieldKind::DisableOnly => vec![json!("disable")],
                FieldKind::Limit => vec![json!(""), json!(1), json!(MAX_PBX_CREATION_LIMIT)],
            };
            for value in values {
                let cell = format(&field, &value);
                assert_eq!(parse(&field, &cell), Ok(Some(value)), "{}", field.wire);
            }
        }
    }

    #[test]
    fn keywords_are_read_in_any_case_and_bad_text_names_the_rule() {
        let limit = crate::fields::by_wire("pbxCreationLimit").unwrap();
        let two_factor = crate::fields::by_wire("twoFactorAuthenticationEnable").unwrap();
        for text in ["unlimited", "Unlimited", " UNLIMITED "] {
            assert_eq!(parse(limit, text), Ok(Some(json!(""))));
        }
        for text in ["0", "-1", "2147483648", "1.5", "none"] {
            let err = parse(limit, text).unwrap_err();
            assert!(err.starts_with("\"pbxCreationLimit\" must be"), "{err}");
        }
        assert_eq!(parse(two_factor, "Disable"), Ok(Some(json!("disable"))));
        assert_eq!(parse(two_factor, "ENABLE"), Ok(None));
        assert_eq!(parse(two_factor, ""), Ok(None));
        assert!(parse(two_factor, "off").is_err());
    }
}
