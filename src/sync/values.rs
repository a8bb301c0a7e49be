//! The compact forms a bulk run keeps per record: [`Values`] (the update fields a record sets,
//! by wire name, in the record's order) and [`Changes`] (what a plan item sends, with each
//! field's value before). A run holds 100,000 of each, so each is one compact JSON object
//! text in one allocation (about 30 bytes for one field, where a `serde_json::Map` took
//! 600); the accessors parse it when asked, which a run does once per record. Both are
//! written to and read from JSON as plain objects, exactly as a `Map` would be.

use super::plan::Change;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// One JSON object, kept as its compact text (`{}` when empty).
#[derive(Clone, PartialEq, Eq)]
struct CompactObject(Box<str>);

impl CompactObject {
    fn of<T: Serialize>(object: &T) -> CompactObject {
        let text = serde_json::to_string(object).expect("a JSON object serialises");
        // Copied, not shrunk in place: a shrink leaves the buffer's tail as a small hole
        // beside every record; a copy lets the next record reuse the whole buffer.
        CompactObject(Box::from(text.as_str()))
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self) -> T {
        serde_json::from_str(&self.0).expect("written by CompactObject::of")
    }

    fn is_empty(&self) -> bool {
        &*self.0 == "{}"
    }
}

impl Default for CompactObject {
    fn default() -> Self {
        CompactObject("{}".into())
    }
}

/// The update fields one record sets, by wire name with their wire values, in the record's
/// order.
///
/// ```
/// let values = ycm::sync::Values::from_map(serde_json::json!({"company": "ACME"}).as_object().unwrap());
/// assert_eq!(values.get("company"), Some(serde_json::json!("ACME")));
/// assert_eq!(values.names(), ["company"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Values(CompactObject);

impl Values {
    /// The values of a map (its order kept).
    pub fn from_map(map: &Map<String, Value>) -> Values {
        Values(CompactObject::of(map))
    }

    /// The values as a map, in order.
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.parse()
    }

    /// The value of one field, by wire name.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.to_map().remove(name)
    }

    /// The wire names, in order.
    pub fn names(&self) -> Vec<String> {
        self.to_map().into_iter().map(|(name, _)| name).collect()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.to_map().len()
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The compact JSON object text.
    pub fn as_json(&self) -> &str {
        &self.0 .0
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Values, D::Error> {
        Ok(Values::from_map(&Map::deserialize(deserializer)?))
    }
}

/// What a plan item sends: each changed field by wire name, in the record's order, with its
/// value before and after.
///
/// ```
/// let change = ycm::sync::Change { before: Some(serde_json::json!("Old")), after: serde_json::json!("New"), not_compared: false };
/// let changes: ycm::sync::Changes = [("company".to_string(), change.clone())].into_iter().collect();
/// assert_eq!(changes.get("company"), Some(change));
/// assert_eq!(changes.names(), ["company"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Changes(CompactObject);

impl Changes {
    /// The changes, by wire name, in order.
    pub fn to_vec(&self) -> Vec<(String, Change)> {
        self.parsed().into_iter().collect()
    }

    /// The change of one field, by wire name.
    pub fn get(&self, name: &str) -> Option<Change> {
        self.parsed().shift_remove(name)
    }

    /// The changed fields' wire names, in order (the names of [`crate::fields::FIELDS`]: only
    /// update fields are ever changed, which a plan read from JSON is checked for).
    pub fn names(&self) -> Vec<&'static str> {
        let parsed = self.parsed();
        let mut names = Vec::with_capacity(parsed.len()); // exact: a report keeps one a record
        names.extend(
            parsed
                .keys()
                .filter_map(|name| crate::fields::by_wire(name).map(|field| field.wire)),
        );
        names
    }

    /// The values sent: each changed field's `after`.
    pub fn body(&self) -> Map<String, Value> {
        self.parsed()
            .into_iter()
            .map(|(name, change)| (name, change.after))
            .collect()
    }

    /// The number of changed fields.
    pub fn len(&self) -> usize {
        self.parsed().len()
    }

    fn parsed(&self) -> indexmap::IndexMap<String, Change> {
        self.0.parse()
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, Change)> for Changes {
    fn from_iter<I: IntoIterator<Item = (String, Change)>>(changes: I) -> Changes {
        let map: indexmap::IndexMap<String, Change> = changes.into_iter().collect();
        Changes(CompactObject::of(&map))
    }
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0 .0)
    }
}

impl Serialize for Changes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.parsed().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Changes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Changes, D::Error> {
        let map = indexmap::IndexMap::<String, Change>::deserialize(deserializer)?;
        Ok(map.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_keep_the_order_and_round_trip_as_a_plain_object() {
        let map = json!({"remark": "r", "company": "", "pbxCreationLimit": 5});
        let values = Values::from_map(map.as_object().unwrap());
        assert_eq!(values.names(), ["remark", "company", "pbxCreationLimit"]);
        assert_eq!(serde_json::to_value(&values).unwrap(), map);
        let back: Values = serde_json::from_value(map.clone()).unwrap();
        assert_eq!(back, values);
        assert!(Values::default().is_empty() && !values.is_empty());
    }

    #[test]
    fn changes_keep_the_order_and_round_trip_as_a_plain_object() {
        let json = json!({
            "remark": {"before": "a", "after": "b"},
            "pbxCreationLimit": {"before": null, "after": 3, "not_compared": true},
        });
        let changes: Changes = serde_json::from_value(json.clone()).unwrap();
        let names = changes.names();
        assert_eq!(names, ["remark", "pbxCreationLimit"]);
        assert_eq!(names.capacity(), 2, "a report keeps these: no spare room");
        assert_eq!(serde_json::to_value(&changes).unwrap(), json);
        assert_eq!(
            changes.body(),
            *json!({"remark": "b", "pbxCreationLimit": 3})
                .as_object()
                .unwrap()
        );
        assert!(changes.get("pbxCreationLimit").unwrap().not_compared);
        assert!(Changes::default().is_empty());
    }
}
