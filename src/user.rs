//! The user-update model: [`UserUpdate`], the body of `PUT /dm/open_api/v1/users/{userId}`,
//! and every rule of the YCM page applied before anything is sent. A body arrives either
//! typed (the builder methods) or as JSON text from C and Python ([`UserUpdate::from_json`]);
//! both end in the same checked value, so a request that leaves the client is always valid.

use crate::error::{Error, Result};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// Largest update body accepted, in bytes of JSON.
///
/// # Example
///
/// ```
/// let huge = "x".repeat(ycm::MAX_BODY_BYTES);
/// assert!(ycm::UserUpdate::new().remark(huge).check().is_err());
/// ```
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest `pbxCreationLimit` (the API's Integer is a signed 32-bit number).
///
/// # Example
///
/// ```
/// assert_eq!(ycm::MAX_PBX_CREATION_LIMIT, i64::from(i32::MAX));
/// ```
pub const MAX_PBX_CREATION_LIMIT: i64 = i32::MAX as i64;

/// The string fields of an update, with their wire names (from [`crate::fields::FIELDS`]).
pub const STRING_FIELDS: [&str; 8] = crate::fields::TEXT_FIELDS;
/// Wire name of the two-factor field (from [`crate::fields::FIELDS`]).
pub const TWO_FACTOR_FIELD: &str = crate::fields::DISABLE_ONLY_FIELD;
/// Wire name of the PBX creation limit field (from [`crate::fields::FIELDS`]).
pub const PBX_LIMIT_FIELD: &str = crate::fields::LIMIT_FIELD;

/// A reseller's Cloud PBX creation limit.
///
/// # Example
///
/// ```
/// use ycm::{PbxCreationLimit, UserUpdate};
/// let update = UserUpdate::new().pbx_creation_limit(PbxCreationLimit::AtMost(20));
/// assert_eq!(update.pbx_limit(), Some(PbxCreationLimit::AtMost(20)));
/// let unlimited = UserUpdate::new().pbx_creation_limit(PbxCreationLimit::Unlimited);
/// assert!(unlimited.checked_json()?.contains(r#""pbxCreationLimit":"""#));
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PbxCreationLimit {
    /// No limit (sent as the empty string `""`).
    Unlimited,
    /// At most this many Cloud PBXs (>= 1, and >= what the reseller already owns).
    AtMost(u32),
}

/// A checked update of a YCM user: at least one field, every field valid.
///
/// # Example
///
/// ```
/// use ycm::UserUpdate;
/// let update = UserUpdate::new().company("New Company Name").set("firstName", "Ann")?;
/// update.check()?;
/// assert_eq!(update.get("company"), Some("New Company Name"));
/// assert!(UserUpdate::new().check().is_err()); // at least one field
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserUpdate {
    strings: Vec<(&'static str, String)>,
    disable_two_factor: bool,
    pbx_creation_limit: Option<PbxCreationLimit>,
}

impl UserUpdate {
    /// An empty update; add fields with the builder methods (an empty update is refused when
    /// sent).
    pub fn new() -> UserUpdate {
        UserUpdate::default()
    }

    /// Sets a string field by its wire name (`company`, `firstName`, ...).
    pub fn set(self, wire_name: &str, value: impl Into<String>) -> Result<UserUpdate> {
        let Some(name) = STRING_FIELDS.iter().find(|f| **f == wire_name) else {
            if [TWO_FACTOR_FIELD, PBX_LIMIT_FIELD].contains(&wire_name) {
                return Err(Error::invalid_body(format!(
                    "field \"{wire_name}\" is not a string field; use disable_two_factor_authentication() or pbx_creation_limit()"
                )));
            }
            return Err(unknown_field(wire_name));
        };
        Ok(self.with_known(name, value))
    }

    /// Sets `company`.
    pub fn company(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("company", value)
    }
    /// Sets `firstName`.
    pub fn first_name(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("firstName", value)
    }
    /// Sets `lastName`.
    pub fn last_name(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("lastName", value)
    }
    /// Sets `email`.
    pub fn email(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("email", value)
    }
    /// Sets `phone`.
    pub fn phone(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("phone", value)
    }
    /// Sets `mobile`.
    pub fn mobile(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("mobile", value)
    }
    /// Sets `address`.
    pub fn address(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("address", value)
    }
    /// Sets `remark`.
    pub fn remark(self, value: impl Into<String>) -> UserUpdate {
        self.with_known("remark", value)
    }

    /// Switches two-factor authentication off (`"twoFactorAuthenticationEnable": "disable"`);
    /// the API cannot switch it on.
    pub fn disable_two_factor_authentication(mut self) -> UserUpdate {
        self.disable_two_factor = true;
        self
    }

    /// Sets `pbxCreationLimit` (resellers only). `AtMost(0)` is refused when checked.
    pub fn pbx_creation_limit(mut self, limit: PbxCreationLimit) -> UserUpdate {
        self.pbx_creation_limit = Some(limit);
        self
    }

    /// The PBX creation limit this update sets, if any.
    pub fn pbx_limit(&self) -> Option<PbxCreationLimit> {
        self.pbx_creation_limit
    }

    /// The value of a string field, if set.
    pub fn get(&self, wire_name: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(n, _)| *n == wire_name)
            .map(|(_, v)| v.as_str())
    }

    /// Applies every rule that a typed update can still break: not empty, limit >= 1.
    pub fn check(&self) -> Result<()> {
        self.checked_json().map(drop)
    }

    /// Checks the update and returns the JSON body sent on the wire, serialised once.
    pub fn checked_json(&self) -> Result<String> {
        if self.strings.is_empty() && !self.disable_two_factor && self.pbx_creation_limit.is_none()
        {
            return Err(Error::invalid_body(format!(
                "the update is empty: set at least one field ({}, {TWO_FACTOR_FIELD}, {PBX_LIMIT_FIELD})",
                STRING_FIELDS.join(", ")
            )));
        }
        if let Some(PbxCreationLimit::AtMost(n)) = self.pbx_creation_limit {
            if n == 0 || i64::from(n) > MAX_PBX_CREATION_LIMIT {
                return Err(limit_rule());
            }
        }
        let body = self.to_json();
        check_size(body.len())?;
        Ok(body)
    }

    /// Parses and checks a JSON update body with the wire names of the YCM page.
    pub fn from_json(json: &str) -> Result<UserUpdate> {
        check_size(json.len())?;
        let object = match serde_json::from_str::<ObjectOnce>(json) {
            Ok(object) => object,
            // Read again only to say what is wrong: not JSON, or JSON but not an object.
            Err(_) => {
                return Err(match serde_json::from_str::<Value>(json) {
                    Err(e) => {
                        Error::invalid_body(format!("the update body is not valid JSON: {e}"))
                    }
                    Ok(_) => Error::invalid_body("the update body must be a JSON object"),
                })
            }
        };
        // The body would otherwise say one thing and send another.
        if let Some(name) = object.repeated {
            return Err(Error::invalid_body(format!(
                "field \"{}\" is given more than once; the update body may name each field only once",
                crate::response::cut(&name, 64)
            )));
        }
        UserUpdate::from_map(&object.map)
    }

    /// Checks a parsed JSON object with the wire names of the YCM page.
    pub fn from_map(map: &Map<String, Value>) -> Result<UserUpdate> {
        let mut update = UserUpdate::new();
        for (name, value) in map {
            update = update.apply(name, value)?;
        }
        update.check()?;
        Ok(update)
    }

    fn apply(mut self, name: &str, value: &Value) -> Result<UserUpdate> {
        if name == TWO_FACTOR_FIELD {
            if value.as_str() != Some("disable") {
                return Err(Error::invalid_body(format!(
                    "field \"{TWO_FACTOR_FIELD}\" must be the string \"disable\" (the API can only switch two-factor authentication off), got {}",
                    describe(value)
                )));
            }
            self.disable_two_factor = true;
            return Ok(self);
        }
        if name == PBX_LIMIT_FIELD {
            let limit = match value {
                Value::String(s) if s.is_empty() => PbxCreationLimit::Unlimited,
                Value::Number(n) => match n.as_i64() {
                    Some(n) if (1..=MAX_PBX_CREATION_LIMIT).contains(&n) => {
                        PbxCreationLimit::AtMost(n as u32)
                    }
                    _ => return Err(limit_rule_got(value)),
                },
                _ => return Err(limit_rule_got(value)),
            };
            self.pbx_creation_limit = Some(limit);
            return Ok(self);
        }
        match value {
            Value::String(s) => self.set(name, s.as_str()),
            _ if !STRING_FIELDS.contains(&name) => Err(unknown_field(name)),
            _ => Err(Error::invalid_body(format!(
                "field \"{name}\" must be a string, got {}",
                describe(value)
            ))),
        }
    }

    fn with_known(self, name: &'static str, value: impl Into<String>) -> UserUpdate {
        let mut update = self;
        update.strings.retain(|(n, _)| *n != name);
        update.strings.push((name, value.into()));
        update
    }

    /// The JSON body sent on the wire.
    pub fn to_json(&self) -> String {
        // Room for every value plus its quoted name and punctuation, so the body is written
        // into one allocation; serialising strings and integers cannot fail.
        let room = self
            .strings
            .iter()
            .map(|(_, v)| v.len() + 32)
            .sum::<usize>()
            + 64;
        let mut body = Vec::with_capacity(room);
        if serde_json::to_writer(&mut body, self).is_err() {
            return String::new();
        }
        String::from_utf8(body).unwrap_or_default()
    }
}

impl Serialize for UserUpdate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for name in STRING_FIELDS {
            if let Some(value) = self.get(name) {
                map.serialize_entry(name, value)?;
            }
        }
        if self.disable_two_factor {
            map.serialize_entry(TWO_FACTOR_FIELD, "disable")?;
        }
        match self.pbx_creation_limit {
            Some(PbxCreationLimit::Unlimited) => map.serialize_entry(PBX_LIMIT_FIELD, "")?,
            Some(PbxCreationLimit::AtMost(n)) => map.serialize_entry(PBX_LIMIT_FIELD, &n)?,
            None => {}
        }
        map.end()
    }
}

/// A JSON object read in one pass, with the first key it repeats (a `serde_json::Map`
/// would silently keep the last of two equal keys).
struct ObjectOnce {
    map: Map<String, Value>,
    repeated: Option<String>,
}

impl<'de> serde::Deserialize<'de> for ObjectOnce {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = ObjectOnce;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<ObjectOnce, A::Error> {
                let mut object = ObjectOnce {
                    map: Map::new(),
                    repeated: None,
                };
                while let Some(key) = access.next_key::<String>()? {
                    let value = access.next_value::<Value>()?;
                    if object.map.contains_key(&key) {
                        object.repeated.get_or_insert(key);
                    } else {
                        object.map.insert(key, value);
                    }
                }
                Ok(object)
            }
        }
        deserializer.deserialize_map(Members)
    }
}

fn check_size(bytes: usize) -> Result<()> {
    if bytes > MAX_BODY_BYTES {
        return Err(Error::invalid_body(format!(
            "the update body is {bytes} bytes; the limit is {MAX_BODY_BYTES}"
        )));
    }
    Ok(())
}

fn unknown_field(name: &str) -> Error {
    let name = crate::response::cut(name, 64);
    Error::invalid_body(format!(
        "field \"{name}\" is not a field of the user update; known fields: {}, {TWO_FACTOR_FIELD}, {PBX_LIMIT_FIELD}",
        STRING_FIELDS.join(", ")
    ))
}

fn limit_rule() -> Error {
    Error::invalid_body(format!(
        "field \"{PBX_LIMIT_FIELD}\" must be an integer from 1 to {MAX_PBX_CREATION_LIMIT}, or the empty string \"\" for no limit"
    ))
}

fn limit_rule_got(value: &Value) -> Error {
    Error::invalid_body(format!("{}, got {}", limit_rule(), describe(value)))
}

/// A short description of a JSON value for error messages (type, and the value if small).
fn describe(value: &Value) -> String {
    let text = value.to_string();
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => return "an array".into(),
        Value::Object(_) => return "an object".into(),
    };
    if text.chars().count() <= 40 {
        format!("{kind} {text}")
    } else {
        format!("a long {kind}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn refused(json: &str) -> String {
        let err = UserUpdate::from_json(json).expect_err(json);
        assert_eq!(err.code(), Code::InvalidBody, "{json}");
        err.to_string()
    }

    #[test]
    fn seed_example_round_trips() {
        let update = UserUpdate::from_json(r#"{"company": "New Company Name"}"#).unwrap();
        assert_eq!(update.to_json(), r#"{"company":"New Company Name"}"#);
    }

    #[test]
    fn every_field_is_accepted_and_serialised_in_wire_order() {
        let json = r#"{"remark":"r","company":"c","firstName":"f","lastName":"l","email":"e",
            "phone":"p","mobile":"m","address":"a","twoFactorAuthenticationEnable":"disable",
            "pbxCreationLimit":5}"#;
        let update = UserUpdate::from_json(json).unwrap();
        assert_eq!(
            update.to_json(),
            r#"{"company":"c","firstName":"f","lastName":"l","email":"e","phone":"p","mobile":"m","address":"a","remark":"r","twoFactorAuthenticationEnable":"disable","pbxCreationLimit":5}"#
        );
        let unlimited = UserUpdate::from_json(r#"{"pbxCreationLimit":""}"#).unwrap();
        assert_eq!(unlimited.to_json(), r#"{"pbxCreationLimit":""}"#);
    }

    #[test]
    fn builder_matches_json() {
        let built = UserUpdate::new()
            .company("c")
            .first_name("f")
            .disable_two_factor_authentication()
            .pbx_creation_limit(PbxCreationLimit::Unlimited);
        built.check().unwrap();
        assert_eq!(
            built.to_json(),
            r#"{"company":"c","firstName":"f","twoFactorAuthenticationEnable":"disable","pbxCreationLimit":""}"#
        );
        assert!(UserUpdate::new().check().is_err());
        assert!(UserUpdate::new()
            .pbx_creation_limit(PbxCreationLimit::AtMost(0))
            .check()
            .is_err());
        assert!(UserUpdate::new().set("compny", "x").is_err());
        let huge = UserUpdate::new().remark("x".repeat(MAX_BODY_BYTES));
        assert!(huge
            .check()
            .unwrap_err()
            .to_string()
            .contains("the limit is 65536"));
    }

    #[test]
    fn every_rule_is_enforced_with_a_message_naming_the_field() {
        assert!(refused("").contains("not valid JSON"));
        assert!(refused("[1]").contains("JSON object"));
        assert!(refused("\"company\"").contains("JSON object"));
        assert!(refused("{}").contains("empty"));
        assert!(refused(r#"{"compnay":"x"}"#).contains("\"compnay\" is not a field"));
        assert!(refused(r#"{"compnay":1}"#).contains("\"compnay\" is not a field"));
        assert!(refused(r#"{"company":1}"#).contains("\"company\" must be a string, got number 1"));
        assert!(refused(r#"{"email":null}"#).contains("\"email\" must be a string, got null"));
        assert!(refused(r#"{"remark":["x"]}"#).contains("got an array"));
        for bad in [r#""enable""#, r#""Disable""#, "true", r#""""#] {
            let json = format!(r#"{{"twoFactorAuthenticationEnable":{bad}}}"#);
            assert!(
                refused(&json).contains("must be the string \"disable\""),
                "{json}"
            );
        }
        for bad in [
            "0",
            "-1",
            "1.5",
            "2147483648",
            r#""5""#,
            r#"" ""#,
            "null",
            "true",
        ] {
            let json = format!(r#"{{"pbxCreationLimit":{bad}}}"#);
            assert!(
                refused(&json).contains("integer from 1 to 2147483647"),
                "{json}"
            );
        }
        for (json, name) in [
            (
                r#"{"pbxCreationLimit":0,"pbxCreationLimit":5}"#,
                "pbxCreationLimit",
            ),
            (
                r#"{"pbxCreationLimit":5,"pbxCreationLimit":5}"#,
                "pbxCreationLimit",
            ),
            (r#"{"company":"a","remark":"r","company":"b"}"#, "company"),
            (r#"{"compnay":1,"compnay":2}"#, "compnay"),
            (
                r#"{"company":"a","company\u0000":"b","company":"c"}"#,
                "company",
            ),
            (r#"{"r\u0065mark":"a","remark":"b"}"#, "remark"),
        ] {
            let message = refused(json);
            assert!(
                message.contains(&format!("field \"{name}\" is given more than once")),
                "{json}: {message}"
            );
        }
        // Equal names at different depths are no repetition (the nested object is refused).
        assert!(refused(r#"{"company":{"company":1}}"#).contains("must be a string"));
        let big = format!(r#"{{"remark":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert!(refused(&big).contains("limit"));
    }

    #[test]
    fn builder_methods_are_the_table_s_snake_names() {
        use crate::fields::{FieldKind, FIELDS};
        // Each method is given its own name: the body shows which wire field it sets.
        let built = UserUpdate::new()
            .company("company")
            .first_name("first_name")
            .last_name("last_name")
            .email("email")
            .phone("phone")
            .mobile("mobile")
            .address("address")
            .remark("remark");
        for field in FIELDS.iter().filter(|f| f.kind == FieldKind::Text) {
            assert_eq!(built.get(field.wire), Some(field.snake), "{}", field.wire);
        }
        assert_eq!(STRING_FIELDS.len(), 8);
    }

    #[test]
    fn limits_at_the_edges_are_accepted() {
        assert!(UserUpdate::from_json(r#"{"pbxCreationLimit":1}"#).is_ok());
        assert!(UserUpdate::from_json(r#"{"pbxCreationLimit":2147483647}"#).is_ok());
        assert!(UserUpdate::from_json(r#"{"company":""}"#).is_ok());
    }
}
