//! The update as a C struct, for callers who would rather not build JSON: nullable strings
//! and a PBX-limit mode, turned into a checked [`UserUpdate`] on the Rust side (so no JSON
//! escaping is ever written in C).

use super::args::{optional_str, out_param, owned_c_string, required};
use super::cancel::{cancel_of, ycm_cancel};
use super::client::{acquire, calls, ycm_client};
use super::status::{guard, ycm_status};
use crate::client::check_user_id;
use crate::error::{CallInfo, Error, Result};
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
    let strings = [
        ("company", fields.company, "fields->company"),
        ("firstName", fields.first_name, "fields->first_name"),
        ("lastName", fields.last_name, "fields->last_name"),
        ("email", fields.email, "fields->email"),
        ("phone", fields.phone, "fields->phone"),
        ("mobile", fields.mobile, "fields->mobile"),
        ("address", fields.address, "fields->address"),
        ("remark", fields.remark, "fields->remark"),
    ];
    let mut update = UserUpdate::new();
    for (wire_name, ptr, arg_name) in strings {
        if let Some(value) = optional_str(ptr, arg_name)? {
            update = update.set(wire_name, value)?;
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
