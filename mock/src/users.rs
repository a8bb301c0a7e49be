//! The user model: the 120 deterministic seeded users, their JSON shape (the `data` of
//! "Query a specific YCM user"), sorting for the list endpoint, and the update rules of the
//! seed document (field types, the `"disable"`-only 2FA switch, `pbxCreationLimit` bounds)
//! plus the business rules checked against the stored user. Nothing here does I/O.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::envelope::{ERR_LIMIT_BELOW_CREATED, ERR_LIMIT_NOT_RESELLER};

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
    /// The JSON object the GET and list endpoints send.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "userId": self.user_id,
            "company": self.company,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "mobile": self.mobile,
            "address": self.address,
            "remark": self.remark,
            "createdCloudPbx": self.created_cloud_pbx,
            "userType": self.user_type.as_str(),
            "pbxCreationLimit": match self.pbx_creation_limit {
                Some(n) => Value::from(n),
                None => Value::String(String::new()),
            },
            "twoFactorAuthenticationEnable": if self.two_factor_enabled { "enable" } else { "disable" },
        })
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

/// The 120 seeded users, keyed by id: 13329, 13330, 13331 and 20001..=20117.
pub(crate) fn seed() -> BTreeMap<i64, User> {
    let mut users = BTreeMap::new();
    let fixed = [
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
    ];
    for user in fixed {
        users.insert(user.user_id, user);
    }
    for n in 1..=117_i64 {
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
        let user = User {
            user_id: 20000 + n,
            company: company.into(),
            first_name: first.into(),
            last_name: last.into(),
            email: format!("{}.{}@example.com", first.to_lowercase(), 20000 + n),
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
        };
        users.insert(user.user_id, user);
    }
    users
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

    #[test]
    fn seed_has_120_distinct_users_with_the_documented_fixed_ones() {
        let users = seed();
        assert_eq!(users.len(), 120);
        assert_eq!(users[&13329].to_json()["pbxCreationLimit"], 10);
        assert_eq!(users[&13330].user_type, UserType::Colleague);
        assert_eq!(users[&13331].to_json()["pbxCreationLimit"], "");
        assert!(users.contains_key(&20001) && users.contains_key(&20117));
        assert!(users
            .values()
            .any(|u| u.user_type == UserType::Colleague && u.user_id > 20000));
        assert!(users.values().all(|u| u
            .pbx_creation_limit
            .is_none_or(|l| l >= u.created_cloud_pbx)));
        assert_eq!(seed(), users, "seeding is deterministic");
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
