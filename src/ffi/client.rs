//! The client handle and its calls: create and free, swap the token, update a user (from
//! JSON), validate offline, read a user or a page of users into an owned JSON string, each
//! call also in a `_with_cancel` form. The handle is reference-counted: every call holds its
//! own reference for as long as it runs, so `ycm_client_free` while calls are still under
//! way (what an interpreter does at exit) never frees memory they use.

use super::args::{optional_str, out_param, owned_c_string, required, required_str};
use super::cancel::{cancel_of, ycm_cancel};
use super::status::{guard, guard_void, ycm_status};
use crate::account::ListQuery;
use crate::cancel::Cancel;
use crate::client::{Cancellable, Client};
use crate::config::{Auth, Config};
use crate::error::{CallInfo, Error, Result};
use crate::secret::Secret;
use crate::user::UserUpdate;
use serde_json::Value;
use std::ffi::{c_char, CString};
use std::sync::Arc;

/// A YCM client: configuration, connection pool and tokens. Opaque.
///
/// Thread-safety: one client may be shared by any number of threads; every call on it is
/// thread-safe. Free it exactly once, with `ycm_client_free`. Calls still running when it
/// is freed keep what they use alive and finish normally; no call may start after it.
pub struct ycm_client {
    pub(crate) client: Client,
}

/// The calling function's own reference to a live handle.
///
/// # Safety
/// `client` is NULL or a handle from `ycm_client_new*` not yet freed when the call starts.
pub(crate) unsafe fn acquire(client: *const ycm_client) -> Result<Arc<ycm_client>> {
    required(client, "client")?;
    // SAFETY: the pointer came from Arc::into_raw in publish and the handle's own
    // reference is still held (the caller has not freed it before calling).
    Arc::increment_strong_count(client);
    Ok(Arc::from_raw(client))
}

/// The calls of `client`, cancellable by `cancel` when there is one.
pub(crate) fn calls<'a>(client: &'a ycm_client, cancel: Option<&'a Cancel>) -> Cancellable<'a> {
    match cancel {
        Some(cancel) => client.client.with_cancel(cancel),
        None => client.client.without_cancel(),
    }
}

fn publish(client: Client, out_client: *mut *mut ycm_client) -> Result<CallInfo> {
    let raw = Arc::into_raw(Arc::new(ycm_client { client })).cast_mut();
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
/// roots); "allow_insecure_http" (default false); "check_reseller_limit" (default false);
/// "rate_limit" (the client ID's budget in YCM's terms, "BURST/RATE/INTERVAL_S": every
/// request passes one gate that keeps to it; unset: learned from 429s); "shared_state"
/// ("process", the default; "host": every process of the user on this machine shares
/// one token, one rate budget and one refusal latch; or
/// `"redis://[[user]:password@]host[:port][/db]"` or "rediss://..." (TLS, verified against
/// "ca_file"): every host that
/// reaches that Redis server shares them; a refused password or TLS failure is refused
/// here, an unreachable server is not); "state_dir" (the host scope's
/// directory, default $XDG_RUNTIME_DIR/ycm, else $XDG_CACHE_HOME/ycm, else ~/.cache/ycm;
/// created 0700, refused when open to other users); "proxy" (an HTTP proxy,
/// `"http://[user:password@]host[:port]"`, credentials percent-encoded, port 1080 by default
/// as in curl; an https base URL is tunnelled through it with CONNECT, so TLS and
/// "ca_file" stay end to end; "" turns proxies off; unset: the environment is read as curl
/// reads it, https_proxy/HTTPS_PROXY, lowercase http_proxy, all_proxy/ALL_PROXY,
/// no_proxy/NO_PROXY, when the client is created; socks and https:// proxies are refused).
/// Unknown keys are refused. Nothing is sent. On success `*out_client` receives a client to
/// free with `ycm_client_free`.
///
/// `ycm_client_new` reads the proxy environment variables too (as if "proxy" were unset).
/// A proxy's failures name it (host:port, never its credentials): a refused connection is
/// `YCM_ERR_CONNECT`; a CONNECT answered 5xx, or closed unanswered, `YCM_ERR_CONNECT` with
/// the proxy's status in `http_status` (retried like other connect failures); a 4xx (407
/// Proxy Authentication Required included) `YCM_ERR_HTTP`, not retried.
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

/// Frees a client and zeroes the secrets it held. NULL is accepted and ignored. Calls
/// still running on it finish first (each holds its own reference; the last one out frees
/// the client); calls must not start after this.
#[no_mangle]
pub unsafe extern "C" fn ycm_client_free(client: *mut ycm_client) {
    if !client.is_null() {
        guard_void(|| drop(Arc::from_raw(client.cast_const())));
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
        let client = acquire(client)?;
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
    ycm_update_user_with_cancel(client, user_id, body_json, std::ptr::null())
}

/// `ycm_update_user`, stopped by `cancel` (NULL: not cancellable): once `cancel` is
/// triggered the call returns `YCM_ERR_CANCELLED` within milliseconds, sends nothing further
/// and closes its connection. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_update_user_with_cancel(
    client: *const ycm_client,
    user_id: i64,
    body_json: *const c_char,
    cancel: *const ycm_cancel,
) -> ycm_status {
    guard(|| {
        let client = acquire(client)?;
        let body = required_str(body_json, "body_json")?;
        Ok(calls(&client, cancel_of(cancel).as_ref())
            .update_user_json(user_id, body)?
            .info)
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
    ycm_get_user_with_cancel(client, user_id, std::ptr::null(), out_json)
}

/// `ycm_get_user`, stopped by `cancel` (NULL: not cancellable), as
/// `ycm_update_user_with_cancel` describes. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_get_user_with_cancel(
    client: *const ycm_client,
    user_id: i64,
    cancel: *const ycm_cancel,
    out_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let client = acquire(client)?;
        let out_json = out_param(out_json, "out_json")?;
        write_json(
            calls(&client, cancel_of(cancel).as_ref()).get_user_data(user_id)?,
            out_json,
        )
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
    ycm_list_users_with_cancel(
        client,
        page_size,
        page_number,
        sort,
        std::ptr::null(),
        out_json,
    )
}

/// `ycm_list_users`, stopped by `cancel` (NULL: not cancellable), as
/// `ycm_update_user_with_cancel` describes. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_list_users_with_cancel(
    client: *const ycm_client,
    page_size: i32,
    page_number: i32,
    sort: *const c_char,
    cancel: *const ycm_cancel,
    out_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let client = acquire(client)?;
        let out_json = out_param(out_json, "out_json")?;
        let sort = optional_str(sort, "sort")?;
        let negative = |name: &str, value: i32| {
            Error::invalid_argument(format!("{name} must be positive, got {value}"))
        };
        let size = u32::try_from(page_size).map_err(|_| negative("page_size", page_size))?;
        let number =
            u32::try_from(page_number).map_err(|_| negative("page_number", page_number))?;
        let query = ListQuery::new(size, number, sort)?;
        write_json(
            calls(&client, cancel_of(cancel).as_ref()).list_users_data(&query)?,
            out_json,
        )
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
