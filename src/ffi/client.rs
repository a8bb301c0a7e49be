//! The client handle and its calls: create and free, swap the token, update a user (from
//! JSON), validate offline, read a user or a page of users into an owned JSON string.

use super::args::{optional_str, out_param, owned_c_string, required, required_str};
use super::status::{guard, guard_void, ycm_status};
use crate::account::ListQuery;
use crate::client::Client;
use crate::config::{Auth, Config};
use crate::error::{CallInfo, Error, Result};
use crate::secret::Secret;
use crate::user::UserUpdate;
use serde_json::Value;
use std::ffi::{c_char, CString};

/// A YCM client: configuration, connection pool and tokens. Opaque.
///
/// Thread-safety: one client may be shared by any number of threads; every call on it is
/// thread-safe. Free it exactly once, with `ycm_client_free`, after every call on it has
/// returned.
pub struct ycm_client {
    pub(crate) client: Client,
}

fn publish(client: Client, out_client: *mut *mut ycm_client) -> Result<CallInfo> {
    let raw = Box::into_raw(Box::new(ycm_client { client }));
    // SAFETY: out_client was checked non-NULL by the caller of publish.
    unsafe { *out_client = raw };
    Ok(CallInfo::default())
}

/// Creates a client for `base_url` (for example `"https://ycm.yeastar.com"`) that sends
/// `access_token` as its bearer token, with every other option at its default. Nothing is
/// sent. On success `*out_client` receives a client to free with `ycm_client_free`.
///
/// Plain "http://" is refused except to loopback hosts; use `ycm_client_new_with_config`
/// with `allow_insecure_http` to override. Both strings are copied.
#[no_mangle]
pub unsafe extern "C" fn ycm_client_new(
    base_url: *const c_char,
    access_token: *const c_char,
    out_client: *mut *mut ycm_client,
) -> ycm_status {
    guard(|| {
        let out_client = out_param(out_client, "out_client")?;
        let base_url = required_str(base_url, "base_url")?;
        let token = required_str(access_token, "access_token")?;
        let config = Config::new(base_url, Auth::AccessToken(Secret::new(token)))?;
        publish(Client::new(config)?, out_client)
    })
}

/// Creates a client from a JSON object of options. Keys: "base_url" (required); either
/// "access_token" or "client_id" + "client_secret"; "user_agent"; "timeout_ms" (whole call,
/// retries included, default 30000); "connect_timeout_ms" (default 5000); "max_retries"
/// (default 2); "retry_base_ms" (default 200); "retry_max_ms" (default 5000);
/// "max_response_bytes" (default 1048576); "ca_file" (PEM bundle that replaces the built-in
/// roots); "allow_insecure_http" (default false); "check_reseller_limit" (default false).
/// Unknown keys are refused. Nothing is sent. On success `*out_client` receives a client to
/// free with `ycm_client_free`.
#[no_mangle]
pub unsafe extern "C" fn ycm_client_new_with_config(
    config_json: *const c_char,
    out_client: *mut *mut ycm_client,
) -> ycm_status {
    guard(|| {
        let out_client = out_param(out_client, "out_client")?;
        let json = required_str(config_json, "config_json")?;
        publish(Client::from_json(json)?, out_client)
    })
}

/// Frees a client and zeroes the secrets it held. NULL is accepted and ignored. The
/// client must not be in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn ycm_client_free(client: *mut ycm_client) {
    if !client.is_null() {
        guard_void(|| drop(Box::from_raw(client)));
    }
}

/// Replaces the access token of a client built with one. Thread-safe: calls already under
/// way finish with the old token. The string is copied.
#[no_mangle]
pub unsafe extern "C" fn ycm_client_set_access_token(
    client: *mut ycm_client,
    access_token: *const c_char,
) -> ycm_status {
    guard(|| {
        let client = required(client, "client")?;
        let token = required_str(access_token, "access_token")?;
        client.client.set_access_token(token)?;
        Ok(CallInfo::default())
    })
}

/// Updates YCM user `user_id` (`PUT /dm/open_api/v1/users/{userId}`) with `body_json`, a
/// JSON object of the fields to change, by their YCM names: "company", "firstName",
/// "lastName", "email", "phone", "mobile", "address", "remark" (strings),
/// "twoFactorAuthenticationEnable" (only "disable") and "pbxCreationLimit" (an integer >= 1,
/// or "" for no limit). The body is checked first; a refused body sends nothing.
/// On success the status carries `request_id`, `time`, `http_status` and `attempts`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_update_user(
    client: *const ycm_client,
    user_id: i64,
    body_json: *const c_char,
) -> ycm_status {
    guard(|| {
        let client = required(client, "client")?;
        let body = required_str(body_json, "body_json")?;
        Ok(client.client.update_user_json(user_id, body)?.info)
    })
}

/// Checks `body_json` with exactly the rules of `ycm_update_user`, offline: nothing is sent.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_validate_user_update(body_json: *const c_char) -> ycm_status {
    guard(|| {
        UserUpdate::from_json(required_str(body_json, "body_json")?)?;
        Ok(CallInfo::default())
    })
}

/// Reads YCM user `user_id` (`GET /dm/open_api/v1/users/{userId}`). On success
/// `*out_json` receives the envelope's `data` object as a JSON string, owned by the caller
/// and freed with `ycm_string_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_get_user(
    client: *const ycm_client,
    user_id: i64,
    out_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let client = required(client, "client")?;
        let out_json = out_param(out_json, "out_json")?;
        write_json(client.client.get_user_data(user_id)?, out_json)
    })
}

/// Reads one page of users (`GET /dm/open_api/v2/users`): `page_size` from 1 to 50,
/// `page_number` from 1, `sort` a field name such as "userId" ("-" prefix for descending) or NULL for the
/// server's order. On success `*out_json` receives the `data` object (`pageSize`,
/// `pageNumber`, `total`, `list`) as a JSON string freed with `ycm_string_free`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_list_users(
    client: *const ycm_client,
    page_size: i32,
    page_number: i32,
    sort: *const c_char,
    out_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let client = required(client, "client")?;
        let out_json = out_param(out_json, "out_json")?;
        let sort = optional_str(sort, "sort")?;
        let negative = |name: &str, value: i32| {
            Error::invalid_argument(format!("{name} must be positive, got {value}"))
        };
        let size = u32::try_from(page_size).map_err(|_| negative("page_size", page_size))?;
        let number =
            u32::try_from(page_number).map_err(|_| negative("page_number", page_number))?;
        let query = ListQuery::new(size, number, sort)?;
        write_json(client.client.list_users_data(&query)?, out_json)
    })
}

/// Frees a string returned by ycm. NULL is accepted and ignored.
#[no_mangle]
pub unsafe extern "C" fn ycm_string_free(string: *mut c_char) {
    if !string.is_null() {
        guard_void(|| drop(CString::from_raw(string)));
    }
}

fn write_json((data, info): (Value, CallInfo), out_json: *mut *mut c_char) -> Result<CallInfo> {
    let raw = owned_c_string(data.to_string())?;
    // SAFETY: out_json was checked non-NULL.
    unsafe { *out_json = raw };
    Ok(info)
}
