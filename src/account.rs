//! The user records that reads return: [`User`] (the `data` of "Query a Specific YCM User"),
//! [`UserPage`] (the `data` of "Query all users", v2) and [`UserType`], plus [`ListQuery`],
//! the checked paging arguments of a list call. Parsing is lenient where YCM may add fields
//! (unknown members are ignored, unknown user types are kept) and strict where a wrong value
//! would mislead (ids and counts must be integers).

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Largest page size the list endpoint accepts.
///
/// # Example
///
/// ```
/// assert!(ycm::ListQuery::new(ycm::MAX_PAGE_SIZE, 1, None).is_ok());
/// ```
pub const MAX_PAGE_SIZE: u32 = 50;

/// The kind of a YCM user account.
///
/// # Example
///
/// ```
/// use ycm::UserType;
/// assert_eq!(UserType::Reseller.as_str(), "Reseller");
/// assert_eq!(UserType::Other("Partner".into()).as_str(), "Partner");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum UserType {
    /// `"My Colleague"`: a member of the provider's own team.
    MyColleague,
    /// `"Reseller"`: may own Cloud PBXs, subject to `pbxCreationLimit`.
    Reseller,
    /// `"Hosting User"` (self-hosted installs).
    HostingUser,
    /// A type this version of ycm does not know, kept verbatim.
    Other(String),
}

impl UserType {
    /// The wire text of the type.
    pub fn as_str(&self) -> &str {
        match self {
            UserType::MyColleague => "My Colleague",
            UserType::Reseller => "Reseller",
            UserType::HostingUser => "Hosting User",
            UserType::Other(text) => text,
        }
    }
}

impl<'de> Deserialize<'de> for UserType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "My Colleague" => UserType::MyColleague,
            "Reseller" => UserType::Reseller,
            "Hosting User" => UserType::HostingUser,
            _ => UserType::Other(text),
        })
    }
}

/// A YCM user as the read endpoints describe it.
///
/// # Example
///
/// ```no_run
/// # let client = ycm::Client::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// let user: ycm::User = client.get_user(13329)?.value;
/// println!("{} {} <{}> at {}", user.first_name, user.last_name, user.email, user.company);
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's ID.
    pub user_id: i64,
    /// Company name.
    #[serde(default)]
    pub company: String,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Phone number.
    #[serde(default)]
    pub phone: String,
    /// Mobile number.
    #[serde(default)]
    pub mobile: String,
    /// Address.
    #[serde(default)]
    pub address: String,
    /// Remark.
    #[serde(default)]
    pub remark: String,
    /// Cloud PBXs the user owns.
    #[serde(default)]
    pub created_cloud_pbx: i64,
    /// The account type.
    pub user_type: UserType,
    /// Resellers created by a hosting user (self-hosted installs only).
    #[serde(default)]
    pub created_reseller: Option<i64>,
    /// `"enable"` or `"disable"` (list endpoint only).
    #[serde(default)]
    pub two_factor_authentication_enable: Option<String>,
    /// The reseller's PBX limit: a number, or `""` for none, when the server reports it.
    #[serde(default)]
    pub pbx_creation_limit: Option<Value>,
}

/// One page of users.
///
/// # Example
///
/// ```no_run
/// # let client = ycm::Client::from_json(r#"{"base_url": "https://ycm.yeastar.com", "access_token": "eyJ..."}"#)?;
/// let page = client.list_users(&ycm::ListQuery::new(50, 1, None)?)?.value;
/// println!("page {} of {} users", page.page_number, page.total);
/// for user in &page.list {
///     println!("{} {}", user.user_id, user.company);
/// }
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// Page size used.
    pub page_size: u32,
    /// 1-based page number.
    pub page_number: u32,
    /// Users in all pages.
    pub total: u64,
    /// The users of this page.
    #[serde(default)]
    pub list: Vec<User>,
}

/// Checked arguments of a list call.
///
/// # Example
///
/// ```
/// let query = ycm::ListQuery::new(20, 1, Some("userId"))?;
/// assert!(ycm::ListQuery::new(ycm::MAX_PAGE_SIZE + 1, 1, None).is_err());
/// # let _ = query;
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// 1..=50.
    pub page_size: u32,
    /// >= 1.
    pub page_number: u32,
    /// A field name, `-` prefixed for descending; `None` for the server's order.
    pub sort: Option<String>,
}

impl ListQuery {
    /// Checks the arguments: page size 1..=50, page number >= 1, sort a field name with an
    /// optional leading `-`.
    pub fn new(page_size: u32, page_number: u32, sort: Option<&str>) -> Result<ListQuery> {
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(Error::invalid_argument(format!(
                "page_size must be from 1 to {MAX_PAGE_SIZE}, got {page_size}"
            )));
        }
        if page_number < 1 {
            return Err(Error::invalid_argument("page_number must be >= 1, got 0"));
        }
        if let Some(sort) = sort {
            let field = sort.strip_prefix('-').unwrap_or(sort);
            if field.is_empty()
                || !field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(Error::invalid_argument(format!(
                    "sort must be a field name such as \"userId\", optionally prefixed with \"-\" for descending order, got \"{}\"",
                    crate::response::cut(sort, 60)
                )));
            }
        }
        Ok(ListQuery {
            page_size,
            page_number,
            sort: sort.map(str::to_owned),
        })
    }

    /// Path and query of the list request.
    pub(crate) fn path(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("pageSize", &self.page_size.to_string());
        query.append_pair("pageNumber", &self.page_number.to_string());
        if let Some(sort) = &self.sort {
            query.append_pair("sort", sort);
        }
        format!("/dm/open_api/v2/users?{}", query.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_parse_leniently() {
        let user: User = serde_json::from_value(serde_json::json!({
            "userId": 13329, "company": "Y", "createdCloudPbx": 3, "userType": "Reseller",
            "somethingNew": true
        }))
        .unwrap();
        assert_eq!(user.user_type, UserType::Reseller);
        assert_eq!(user.first_name, "");
        let other: UserType = serde_json::from_str("\"Partner\"").unwrap();
        assert_eq!(other, UserType::Other("Partner".into()));
        assert_eq!(other.as_str(), "Partner");
    }

    #[test]
    fn user_has_exactly_the_readable_update_fields() {
        use crate::fields::{by_wire, Readable, FIELDS};
        use crate::fields::{is_read_only, USER_ID};
        let mut get = serde_json::json!({"userId": 1, "userType": "Reseller"});
        let mut list = get.clone();
        for field in FIELDS {
            if field.readable.by_get() {
                get[field.wire] = Value::from(field.snake);
            }
            if field.readable.by_list() {
                list[field.wire] = Value::from(field.snake);
            }
        }
        // What each read documents parses, and every readable field lands in its member.
        for (read, json, by) in [
            ("get", get, Readable::by_get as fn(Readable) -> bool),
            ("list", list, Readable::by_list),
        ] {
            let user: User = serde_json::from_value(json).expect(read);
            let back = serde_json::to_value(&user).unwrap();
            let keys: Vec<&String> = back.as_object().unwrap().keys().collect();
            for key in &keys {
                assert!(
                    key.as_str() == USER_ID || is_read_only(key) || by_wire(key).is_some(),
                    "User member {key} is neither read-only nor a row of fields::FIELDS"
                );
            }
            for name in crate::fields::READ_ONLY {
                assert!(
                    keys.iter().any(|key| key.as_str() == name),
                    "fields::READ_ONLY names {name}, which User does not hold"
                );
            }
            for field in FIELDS {
                let value = &back[field.wire];
                if by(field.readable) {
                    assert_eq!(value, field.snake, "{read}: {}", field.wire);
                } else {
                    // Not returned by this read (pbxCreationLimit by none): an Option, so
                    // "not returned" stays distinct from "empty".
                    assert_eq!(value, &Value::Null, "{read}: {}", field.wire);
                }
            }
        }
    }

    #[test]
    fn list_arguments_are_checked() {
        assert_eq!(
            ListQuery::new(50, 2, Some("-userId")).unwrap().path(),
            "/dm/open_api/v2/users?pageSize=50&pageNumber=2&sort=-userId"
        );
        assert!(ListQuery::new(0, 1, None)
            .unwrap_err()
            .to_string()
            .contains("page_size"));
        assert!(ListQuery::new(51, 1, None).is_err());
        assert!(ListQuery::new(10, 0, None)
            .unwrap_err()
            .to_string()
            .contains("page_number"));
        for bad in ["", "-", "user id", "a&b=c"] {
            assert!(ListQuery::new(10, 1, Some(bad)).is_err(), "{bad}");
        }
    }
}
