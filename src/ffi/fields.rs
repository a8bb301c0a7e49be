//! The update as a C struct, for callers who would rather not build JSON: nullable strings
//! and a PBX-limit mode, turned into a checked [`UserUpdate`] on the Rust side (so no JSON
//! escaping is ever written in C).

use super::args::{optional_str, out_param, owned_c_string, required};
use super::cancel::{cancel_of, ycm_cancel};
use super::client::{acquire, calls, ycm_client};
use super::status::{guard, ycm_status};
use crate::client::check_user_id;
use crate::error::{CallInfo, Code, Error, Result};
use crate::fields::by_c_member;
use crate::user::{PbxCreationLimit, UserUpdate, MAX_PBX_CREATION_LIMIT};
use std::ffi::c_char;

/// `pbx_limit_mode`: leave `pbxCreationLimit` unchanged.
pub const YCM_PBX_LIMIT_UNCHANGED: u32 = 0;
/// `pbx_limit_mode`: no limit (sends `"pbxCreationLimit": ""`).
pub const YCM_PBX_LIMIT_NONE: u32 = 1;
/// `pbx_limit_mode`: at most `pbx_limit` Cloud PBXs (an integer >= 1).
pub const YCM_PBX_LIMIT_AT_MOST: u32 = 2;

/// The fields of a user update. Zero-initialise it (`ycm_user_fields f = {0};`), then set
/// what should change: a NULL string leaves that field unchanged. The strings are copied
/// when the struct is used; the struct is never kept.
#[repr(C)]
pub struct ycm_user_fields {
    /// Company name, or NULL.
    pub company: *const c_char,
    /// First name, or NULL.
    pub first_name: *const c_char,
    /// Last name, or NULL.
    pub last_name: *const c_char,
    /// Email, or NULL.
    pub email: *const c_char,
    /// Phone number, or NULL.
    pub phone: *const c_char,
    /// Mobile number, or NULL.
    pub mobile: *const c_char,
    /// Address, or NULL.
    pub address: *const c_char,
    /// Remark, or NULL.
    pub remark: *const c_char,
    /// Non-zero to switch two-factor authentication off (the API cannot switch it on).
    pub disable_two_factor_authentication: u8,
    /// `YCM_PBX_LIMIT_UNCHANGED`, `YCM_PBX_LIMIT_NONE` or `YCM_PBX_LIMIT_AT_MOST`.
    pub pbx_limit_mode: u32,
    /// The limit when `pbx_limit_mode` is `YCM_PBX_LIMIT_AT_MOST`: 1..2147483647.
    pub pbx_limit: i64,
}

/// Converts the C struct into an update (its rules are checked when it is serialised).
///
/// # Safety
/// Every non-NULL string pointer is a NUL-terminated string valid for the call.
unsafe fn to_update(fields: &ycm_user_fields) -> Result<UserUpdate> {
    // Each string member, named as in the struct; its wire name comes from the one table of
    // fields (the tests below check that every member and every table row meet).
    let strings = [
        (fields.company, "fields->company"),
        (fields.first_name, "fields->first_name"),
        (fields.last_name, "fields->last_name"),
        (fields.email, "fields->email"),
        (fields.phone, "fields->phone"),
        (fields.mobile, "fields->mobile"),
        (fields.address, "fields->address"),
        (fields.remark, "fields->remark"),
    ];
    let mut update = UserUpdate::new();
    for (ptr, arg_name) in strings {
        if let Some(value) = optional_str(ptr, arg_name)? {
            update = update.set(wire_name_of(arg_name)?, value)?;
        }
    }
    if fields.disable_two_factor_authentication != 0 {
        update = update.disable_two_factor_authentication();
    }
    let limit = match fields.pbx_limit_mode {
        YCM_PBX_LIMIT_UNCHANGED => None,
        YCM_PBX_LIMIT_NONE => Some(PbxCreationLimit::Unlimited),
        YCM_PBX_LIMIT_AT_MOST => match u32::try_from(fields.pbx_limit) {
            Ok(n) if n >= 1 && i64::from(n) <= MAX_PBX_CREATION_LIMIT => {
                Some(PbxCreationLimit::AtMost(n))
            }
            _ => {
                return Err(Error::invalid_body(format!(
                    "fields->pbx_limit must be from 1 to {MAX_PBX_CREATION_LIMIT}, got {}",
                    fields.pbx_limit
                )))
            }
        },
        other => {
            return Err(Error::invalid_argument(format!(
                "fields->pbx_limit_mode must be YCM_PBX_LIMIT_UNCHANGED, YCM_PBX_LIMIT_NONE or YCM_PBX_LIMIT_AT_MOST, got {other}"
            )))
        }
    };
    if let Some(limit) = limit {
        update = update.pbx_creation_limit(limit);
    }
    Ok(update) // checked where it is serialised (update_user, checked_json)
}

/// The wire name of the field a `"fields->member"` argument carries, from the table.
fn wire_name_of(arg_name: &str) -> Result<&'static str> {
    let member = arg_name.trim_start_matches("fields->");
    by_c_member(member).map(|field| field.wire).ok_or_else(|| {
        Error::new(
            Code::Internal,
            format!("internal error: ycm_user_fields.{member} is not in the table of fields"),
        )
    })
}

/// Updates YCM user `user_id` with the fields set in `fields`, checked exactly as
/// `ycm_update_user` checks a JSON body. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_update_user_fields(
    client: *const ycm_client,
    user_id: i64,
    fields: *const ycm_user_fields,
) -> ycm_status {
    ycm_update_user_fields_with_cancel(client, user_id, fields, std::ptr::null())
}

/// `ycm_update_user_fields`, stopped by `cancel` (NULL: not cancellable), as
/// `ycm_update_user_with_cancel` describes. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_update_user_fields_with_cancel(
    client: *const ycm_client,
    user_id: i64,
    fields: *const ycm_user_fields,
    cancel: *const ycm_cancel,
) -> ycm_status {
    guard(|| {
        let client = acquire(client)?;
        check_user_id(user_id)?;
        let update = to_update(required(fields, "fields")?)?;
        Ok(calls(&client, cancel_of(cancel).as_ref())
            .update_user(user_id, &update)?
            .info)
    })
}

/// Checks `fields` and writes the JSON body they make to `*out_json` (freed with
/// `ycm_string_free`). Offline: nothing is sent. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_user_fields_to_json(
    fields: *const ycm_user_fields,
    out_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let out_json = out_param(out_json, "out_json")?;
        let update = to_update(required(fields, "fields")?)?;
        let raw = owned_c_string(update.checked_json()?)?;
        // SAFETY: out_json was checked non-NULL.
        unsafe { *out_json = raw };
        Ok(CallInfo::default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{FieldKind, FIELDS};
    use serde_json::{json, Value};

    /// The member names of `struct ycm_user_fields` as the committed header declares them
    /// (tests/header.rs keeps the header equal to a fresh generation from this file).
    fn header_members() -> Vec<String> {
        let header = include_str!("../../include/ycm.h");
        let start = header
            .find("typedef struct ycm_user_fields {")
            .expect("the struct");
        let body = &header[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find("} ycm_user_fields;").unwrap()];
        let mut code = String::new();
        for part in body.split("/*") {
            code.push_str(part.split_once("*/").map_or(part, |(_, rest)| rest));
        }
        code.split(';')
            .filter(|decl| !decl.trim().is_empty())
            .map(|decl| decl.trim().rsplit([' ', '*']).next().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn every_member_of_the_c_struct_is_a_row_of_the_table_and_back() {
        let table: Vec<&str> = FIELDS
            .iter()
            .flat_map(|f| f.c_members.iter().copied())
            .collect();
        assert_eq!(header_members(), table);
    }

    #[test]
    fn every_member_carries_the_field_its_row_names() {
        let names: Vec<std::ffi::CString> = FIELDS
            .iter()
            .map(|f| std::ffi::CString::new(f.c_members[0]).unwrap())
            .collect();
        let name = |member: &str| {
            let i = FIELDS
                .iter()
                .position(|f| f.c_members[0] == member)
                .unwrap();
            names[i].as_ptr()
        };
        // Each string member holds its own C name, so the body shows where each one went.
        let fields = ycm_user_fields {
            company: name("company"),
            first_name: name("first_name"),
            last_name: name("last_name"),
            email: name("email"),
            phone: name("phone"),
            mobile: name("mobile"),
            address: name("address"),
            remark: name("remark"),
            disable_two_factor_authentication: 1,
            pbx_limit_mode: YCM_PBX_LIMIT_AT_MOST,
            pbx_limit: 7,
        };
        let update = unsafe { to_update(&fields) }.unwrap();
        let body: Value = serde_json::from_str(&update.checked_json().unwrap()).unwrap();
        let mut expected = serde_json::Map::new();
        for field in FIELDS {
            let value = match field.kind {
                FieldKind::Text => json!(field.c_members[0]),
                FieldKind::DisableOnly => json!("disable"),
                FieldKind::Limit => json!(7),
            };
            expected.insert(field.wire.to_owned(), value);
        }
        assert_eq!(body, Value::Object(expected));
    }
}
