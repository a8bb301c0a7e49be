//! The user model: the deterministic seeded users (120 by default, any number up to
//! [`MAX_USERS`] on request: the three fixed ones, then generated ids 20001 upward from one
//! formula), the table that stores them in `userId` order so lookups are a binary search and
//! a page is a slice (other sort orders are computed once and cached until a user changes),
//! their JSON shape (the `data` of "Query a specific YCM user"), sorting for the list
//! endpoint, and the update rules of the seed document (field types, the `"disable"`-only 2FA
//! switch, `pbxCreationLimit` bounds) plus the business rules checked against the stored
//! user. Nothing here does I/O.

use std::cmp::Ordering;

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Value};

use crate::envelope::{ERR_LIMIT_BELOW_CREATED, ERR_LIMIT_NOT_RESELLER};

/// How many users are seeded unless configured otherwise (`MockConfig::users`).
pub const DEFAULT_USERS: usize = 120;
/// The most users the mock seeds (about 0.5 KiB of memory each).
pub const MAX_USERS: usize = 1_000_000;
/// The first generated user id; generated user `n` (1-based) has id `GENERATED_BASE + n`.
const GENERATED_BASE: i64 = 20_000;

/// The largest `pbxCreationLimit` accepted (a Java `int`).
const MAX_LIMIT: i64 = 2_147_483_647;

/// The two user types the mock seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserType {
    Colleague,
    Reseller,
}

impl UserType {
    fn as_str(self) -> &'static str {
        match self {
            UserType::Colleague => "My Colleague",
            UserType::Reseller => "Reseller",
        }
    }
}

/// One stored YCM user.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct User {
    pub user_id: i64,
    pub company: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub mobile: String,
    pub address: String,
    pub remark: String,
    pub created_cloud_pbx: i64,
    pub user_type: UserType,
    /// `None` is "no limit", sent as `""`.
    pub pbx_creation_limit: Option<i64>,
    pub two_factor_enabled: bool,
}

impl User {
    /// The JSON object the GET and list endpoints send (see the `Serialize` impl).
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The wire shape, serialised straight from the stored fields (no intermediate `Value`, so a
/// page of 50 costs little): `userId`, the eight strings, `createdCloudPbx`, `userType`,
/// `pbxCreationLimit` (integer, or `""` for no limit), `twoFactorAuthenticationEnable`.
impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("User", 13)?;
        s.serialize_field("userId", &self.user_id)?;
        s.serialize_field("company", &self.company)?;
        s.serialize_field("firstName", &self.first_name)?;
        s.serialize_field("lastName", &self.last_name)?;
        s.serialize_field("email", &self.email)?;
        s.serialize_field("phone", &self.phone)?;
        s.serialize_field("mobile", &self.mobile)?;
        s.serialize_field("address", &self.address)?;
        s.serialize_field("remark", &self.remark)?;
        s.serialize_field("createdCloudPbx", &self.created_cloud_pbx)?;
        s.serialize_field("userType", self.user_type.as_str())?;
        match self.pbx_creation_limit {
            Some(n) => s.serialize_field("pbxCreationLimit", &n)?,
            None => s.serialize_field("pbxCreationLimit", "")?,
        }
        let two_factor = if self.two_factor_enabled {
            "enable"
        } else {
            "disable"
        };
        s.serialize_field("twoFactorAuthenticationEnable", two_factor)?;
        s.end()
    }
}

const FIRST_NAMES: [&str; 12] = [
    "Ava", "Ben", "Chloe", "Daniel", "Emma", "Felix", "Grace", "Henry", "Iris", "Jack", "Kara",
    "Liam",
];
const LAST_NAMES: [&str; 9] = [
    "Smith", "Garcia", "Wang", "Müller", "Rossi", "Kim", "Dubois", "Silva", "Novak",
];
const COMPANIES: [&str; 7] = [
    "Acme Telecom",
    "Blue Harbor Networks",
    "Cedar Voice",
    "Delta Cloud PBX",
    "Evergreen Comms",
    "Fjord Hosting",
    "Granite IT",
];

/// The users 13329, 13330 and 13331, in that order.
fn fixed_users() -> [User; 3] {
    [
        User {
            user_id: 13329,
            company: "Yeastar Demo Ltd".into(),
            first_name: "Leo".into(),
            last_name: "Zhang".into(),
            email: "leo@example.com".into(),
            phone: "+86 592 5503301".into(),
            mobile: "+86 138 0000 3329".into(),
            address: "Xiamen, Fujian, China".into(),
            remark: "documentation example user".into(),
            created_cloud_pbx: 3,
            user_type: UserType::Reseller,
            pbx_creation_limit: Some(10),
            two_factor_enabled: true,
        },
        User {
            user_id: 13330,
            company: "Yeastar Demo Ltd".into(),
            first_name: "Mia".into(),
            last_name: "Chen".into(),
            email: "mia@example.com".into(),
            phone: "+86 592 5503302".into(),
            mobile: "+86 138 0000 3330".into(),
            address: "Xiamen, Fujian, China".into(),
            remark: String::new(),
            created_cloud_pbx: 0,
            user_type: UserType::Colleague,
            pbx_creation_limit: None,
            two_factor_enabled: false,
        },
        User {
            user_id: 13331,
            company: "Northwind Telecom".into(),
            first_name: "Sam".into(),
            last_name: "Okafor".into(),
            email: "sam@example.com".into(),
            phone: "+44 20 7946 0331".into(),
            mobile: "+44 7700 900331".into(),
            address: "London, United Kingdom".into(),
            remark: "new reseller, no PBX yet".into(),
            created_cloud_pbx: 0,
            user_type: UserType::Reseller,
            pbx_creation_limit: None,
            two_factor_enabled: false,
        },
    ]
}

/// Generated user `n` (1-based): id 20000 + n, every field a function of `n` alone, so a
/// user is the same whatever the total (see the README's "Seeded users").
fn generated_user(n: i64) -> User {
    let i = usize::try_from(n).unwrap_or(0);
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let last = LAST_NAMES[i % LAST_NAMES.len()];
    let company = COMPANIES[i % COMPANIES.len()];
    let reseller = n % 3 != 0;
    let created = if reseller { (n * 7) % 13 } else { 0 };
    let limit = if reseller && n % 4 != 0 {
        Some(created + n % 5 + 1)
    } else {
        None
    };
    let id = GENERATED_BASE + n;
    User {
        user_id: id,
        company: company.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: format!("{}.{id}@example.com", first.to_lowercase()),
        phone: format!("+1 555 01{n:02}"),
        mobile: format!("+1 555 02{n:02}"),
        address: format!("{n} Example Street"),
        remark: if n % 10 == 0 {
            "priority account".into()
        } else {
            String::new()
        },
        created_cloud_pbx: created,
        user_type: if reseller {
            UserType::Reseller
        } else {
            UserType::Colleague
        },
        pbx_creation_limit: limit,
        two_factor_enabled: n % 2 == 0,
    }
}

/// `total` users in all: the first `min(total, 3)` fixed users, then generated users
/// 20001, 20002, ... up to `total` (callers cap `total` at [`MAX_USERS`]).
pub(crate) fn seed(total: usize) -> UserTable {
    let mut users: Vec<User> = fixed_users().into_iter().take(total).collect();
    let generated = total.saturating_sub(users.len());
    users.reserve_exact(generated);
    for n in 1..=generated {
        users.push(generated_user(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    UserTable::new(users)
}

/// A sort order other than ascending `userId`: the field and whether it is descending.
type SortKey = (&'static str, bool);

/// The stored users, in ascending `userId` order (ids are unique; users are never added or
/// removed between reseeds). A lookup is a binary search, a page in `userId` order is a
/// slice, and the order for another sort is computed once (a stable sort of indices) and kept
/// until a user is mutated, so walking every page stays linear in the number of users.
pub(crate) struct UserTable {
    users: Vec<User>,
    order: Option<(SortKey, Vec<u32>)>,
}

impl UserTable {
    fn new(mut users: Vec<User>) -> UserTable {
        users.sort_by_key(|u| u.user_id);
        users.dedup_by_key(|u| u.user_id);
        UserTable { users, order: None }
    }

    /// How many users are stored.
    pub(crate) fn len(&self) -> usize {
        self.users.len()
    }

    /// Every user, in ascending `userId` order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &User> {
        self.users.iter()
    }

    fn index(&self, id: i64) -> Option<usize> {
        self.users.binary_search_by_key(&id, |u| u.user_id).ok()
    }

    /// The user with this id.
    pub(crate) fn get(&self, id: i64) -> Option<&User> {
        self.index(id).map(|i| &self.users[i])
    }

    /// The user with this id, for an update (drops any cached sort order).
    pub(crate) fn get_mut(&mut self, id: i64) -> Option<&mut User> {
        let i = self.index(id)?;
        self.order = None;
        Some(&mut self.users[i])
    }

    /// The JSON array text of the users at positions `start..start + size` of the list
    /// sorted on `field` (one of [`SORT_FIELDS`]; ties keep ascending `userId` order,
    /// descending or not). Past the end: `[]`.
    pub(crate) fn page(
        &mut self,
        field: &'static str,
        descending: bool,
        start: usize,
        size: usize,
    ) -> String {
        let n = self.users.len();
        let end = start.saturating_add(size).min(n);
        if start >= end {
            return "[]".into();
        }
        if field == "userId" {
            return if descending {
                json_array((start..end).map(|p| &self.users[n - 1 - p]))
            } else {
                json_array(self.users[start..end].iter())
            };
        }
        let key = (field, descending);
        if self.order.as_ref().is_none_or(|(k, _)| *k != key) {
            let users = &self.users;
            let mut order: Vec<u32> = (0..u32::try_from(n).unwrap_or(u32::MAX)).collect();
            // Stable, on top of the userId order, so ties stay in userId order either way.
            order.sort_by(|&a, &b| {
                let ord = compare(field, &users[a as usize], &users[b as usize])
                    .unwrap_or(Ordering::Equal);
                if descending {
                    ord.reverse()
                } else {
                    ord
                }
            });
            self.order = Some((key, order));
        }
        let Some((_, order)) = &self.order else {
            return "[]".into();
        };
        json_array(order[start..end].iter().map(|&i| &self.users[i as usize]))
    }
}

/// `[user, user, ...]` as JSON text.
fn json_array<'a>(users: impl Iterator<Item = &'a User>) -> String {
    let mut out = String::from("[");
    for (i, user) in users.enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Serialising plain strings and integers cannot fail.
        out.push_str(&serde_json::to_string(user).unwrap_or_default());
    }
    out.push(']');
    out
}

/// The fields the list endpoint can sort on (every field of the user object).
pub(crate) const SORT_FIELDS: [&str; 13] = [
    "userId",
    "company",
    "firstName",
    "lastName",
    "email",
    "phone",
    "mobile",
    "address",
    "remark",
    "createdCloudPbx",
    "userType",
    "pbxCreationLimit",
    "twoFactorAuthenticationEnable",
];

/// Compares two users on one sort field; `None` for an unknown field name. Strings compare
/// byte-wise; a `pbxCreationLimit` of `""` (no limit) sorts after every number.
pub(crate) fn compare(field: &str, a: &User, b: &User) -> Option<Ordering> {
    Some(match field {
        "userId" => a.user_id.cmp(&b.user_id),
        "company" => a.company.cmp(&b.company),
        "firstName" => a.first_name.cmp(&b.first_name),
        "lastName" => a.last_name.cmp(&b.last_name),
        "email" => a.email.cmp(&b.email),
        "phone" => a.phone.cmp(&b.phone),
        "mobile" => a.mobile.cmp(&b.mobile),
        "address" => a.address.cmp(&b.address),
        "remark" => a.remark.cmp(&b.remark),
        "createdCloudPbx" => a.created_cloud_pbx.cmp(&b.created_cloud_pbx),
        "userType" => a.user_type.as_str().cmp(b.user_type.as_str()),
        "pbxCreationLimit" => {
            let key = |u: &User| (u.pbx_creation_limit.is_none(), u.pbx_creation_limit);
            key(a).cmp(&key(b))
        }
        "twoFactorAuthenticationEnable" => a.two_factor_enabled.cmp(&b.two_factor_enabled),
        _ => return None,
    })
}

/// A validated update, ready to apply. Every `Some` field is written.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct UserUpdate {
    strings: Vec<(StringField, String)>,
    /// `Some(None)` clears the limit (`""`), `Some(Some(n))` sets it.
    limit: Option<Option<i64>>,
    disable_two_factor: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StringField {
    Company,
    FirstName,
    LastName,
    Email,
    Phone,
    Mobile,
    Address,
    Remark,
}

fn string_field(name: &str) -> Option<StringField> {
    Some(match name {
        "company" => StringField::Company,
        "firstName" => StringField::FirstName,
        "lastName" => StringField::LastName,
        "email" => StringField::Email,
        "phone" => StringField::Phone,
        "mobile" => StringField::Mobile,
        "address" => StringField::Address,
        "remark" => StringField::Remark,
        _ => return None,
    })
}

/// Checks an update body against the seed's rules (nothing about the stored user). The
/// error is the `errmsg` of a 10002 answer and names the field and the rule.
pub(crate) fn validate_update(body: &Map<String, Value>) -> Result<UserUpdate, String> {
    if body.is_empty() {
        return Err("request body must set at least one field".into());
    }
    let mut update = UserUpdate::default();
    for (name, value) in body {
        if let Some(field) = string_field(name) {
            match value {
                Value::String(s) => update.strings.push((field, s.clone())),
                _ => return Err(format!("{name} must be a string")),
            }
        } else if name == "twoFactorAuthenticationEnable" {
            if value.as_str() != Some("disable") {
                return Err(format!(
                    "{name} must be \"disable\" (two-factor authentication can only be switched off)"
                ));
            }
            update.disable_two_factor = true;
        } else if name == "pbxCreationLimit" {
            let limit = match value {
                Value::String(s) if s.is_empty() => None,
                Value::Number(n) => match n.as_i64() {
                    Some(v) if (1..=MAX_LIMIT).contains(&v) => Some(v),
                    _ => return Err(limit_rule(name)),
                },
                _ => return Err(limit_rule(name)),
            };
            update.limit = Some(limit);
        } else {
            return Err(format!("unknown field {name:?}"));
        }
    }
    Ok(update)
}

fn limit_rule(name: &str) -> String {
    format!("{name} must be an integer between 1 and {MAX_LIMIT}, or \"\" for no limit")
}

/// Checks the business rules of `update` against `user` and, only when they all pass,
/// applies every field. The error is `(errcode, errmsg)`.
pub(crate) fn apply_update(user: &mut User, update: UserUpdate) -> Result<(), (i64, String)> {
    if let Some(Some(limit)) = update.limit {
        if user.user_type != UserType::Reseller {
            return Err((
                ERR_LIMIT_NOT_RESELLER,
                format!(
                    "pbxCreationLimit only applies to resellers; user {} is {:?}",
                    user.user_id,
                    user.user_type.as_str()
                ),
            ));
        }
        if limit < user.created_cloud_pbx {
            return Err((
                ERR_LIMIT_BELOW_CREATED,
                format!(
                    "pbxCreationLimit {limit} is below the {} Cloud PBXs user {} already created",
                    user.created_cloud_pbx, user.user_id
                ),
            ));
        }
    }
    for (field, value) in update.strings {
        let slot = match field {
            StringField::Company => &mut user.company,
            StringField::FirstName => &mut user.first_name,
            StringField::LastName => &mut user.last_name,
            StringField::Email => &mut user.email,
            StringField::Phone => &mut user.phone,
            StringField::Mobile => &mut user.mobile,
            StringField::Address => &mut user.address,
            StringField::Remark => &mut user.remark,
        };
        *slot = value;
    }
    if let Some(limit) = update.limit {
        user.pbx_creation_limit = limit;
    }
    if update.disable_two_factor {
        user.two_factor_enabled = false;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_has_120_distinct_users_with_the_documented_fixed_ones() {
        let users = seed(DEFAULT_USERS);
        assert_eq!(users.len(), 120);
        let get = |id| users.get(id).expect("seeded");
        assert_eq!(get(13329).to_json()["pbxCreationLimit"], 10);
        assert_eq!(get(13330).user_type, UserType::Colleague);
        assert_eq!(get(13331).to_json()["pbxCreationLimit"], "");
        assert!(users.get(20001).is_some() && users.get(20117).is_some());
        assert!(users.get(20118).is_none());
        assert!(users
            .iter()
            .any(|u| u.user_type == UserType::Colleague && u.user_id > 20000));
        assert!(users.iter().all(|u| u
            .pbx_creation_limit
            .is_none_or(|l| l >= u.created_cloud_pbx)));
        let again = seed(DEFAULT_USERS);
        assert!(users.iter().eq(again.iter()), "seeding is deterministic");
    }

    #[test]
    fn the_wire_shape_is_exact() {
        let users = seed(DEFAULT_USERS);
        assert_eq!(
            users.get(13329).expect("user").to_json(),
            json!({
                "userId": 13329, "company": "Yeastar Demo Ltd", "firstName": "Leo",
                "lastName": "Zhang", "email": "leo@example.com", "phone": "+86 592 5503301",
                "mobile": "+86 138 0000 3329", "address": "Xiamen, Fujian, China",
                "remark": "documentation example user", "createdCloudPbx": 3,
                "userType": "Reseller", "pbxCreationLimit": 10,
                "twoFactorAuthenticationEnable": "enable",
            })
        );
        let keys: Vec<String> = match users.get(13331).expect("user").to_json() {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        assert_eq!(keys, SORT_FIELDS, "every field, in this order");
        assert_eq!(
            users.get(13331).expect("user").to_json()["pbxCreationLimit"],
            ""
        );
    }

    #[test]
    fn any_total_keeps_the_fixed_users_first_and_a_prefix_of_the_generated_ones() {
        let ids = |n| seed(n).iter().map(|u| u.user_id).collect::<Vec<_>>();
        assert!(ids(0).is_empty());
        assert_eq!(ids(2), [13329, 13330]);
        assert_eq!(ids(3), [13329, 13330, 13331]);
        assert_eq!(ids(5), [13329, 13330, 13331, 20001, 20002]);
        let big = seed(5000);
        let small = seed(200);
        assert!(small.iter().eq(big.iter().take(200)));
        assert_eq!(big.iter().last().map(|u| u.user_id), Some(20000 + 4997));
    }

    #[test]
    fn pages_in_every_order_match_a_full_sort() {
        let mut table = seed(300);
        for field in SORT_FIELDS {
            for descending in [false, true] {
                let mut expected: Vec<&User> = table.users.iter().collect();
                expected.sort_by(|a, b| {
                    let ord = compare(field, a, b).expect("known field");
                    if descending {
                        ord.reverse()
                    } else {
                        ord
                    }
                });
                let expected: Vec<Value> = expected.into_iter().map(User::to_json).collect();
                let mut got = Vec::new();
                for page in 0..7 {
                    let text = table.page(field, descending, page * 50, 50);
                    got.extend(serde_json::from_str::<Vec<Value>>(&text).expect("JSON array"));
                }
                assert_eq!(got, expected, "{field} descending={descending}");
            }
        }
        assert_eq!(table.page("company", false, 300, 50), "[]");
        let before = table.page("company", false, 0, 1);
        table.get_mut(13329).expect("user").company = "AAA first".into();
        assert_ne!(table.page("company", false, 0, 1), before, "cache dropped");
    }

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn validation_rules() {
        assert!(validate_update(&body(json!({"company": "x", "pbxCreationLimit": ""}))).is_ok());
        for bad in [
            json!({}),
            json!({"company": 1}),
            json!({"twoFactorAuthenticationEnable": "enable"}),
            json!({"pbxCreationLimit": 0}),
            json!({"pbxCreationLimit": 2_147_483_648_i64}),
            json!({"pbxCreationLimit": 1.5}),
            json!({"pbxCreationLimit": "5"}),
            json!({"nickname": "x"}),
        ] {
            assert!(validate_update(&body(bad.clone())).is_err(), "{bad}");
        }
    }
}
