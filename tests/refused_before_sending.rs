//! Requests the client refuses before any I/O, end to end: an update body that names a field
//! twice (JSON keeps the last value, so the body would say one thing and send another) is
//! refused by every path (Rust, the C ABI's update and its offline validator) and the server
//! sees nothing; a `base_url` too long for any request URI is refused at construction.

mod common;

use common::*;
use std::ffi::{CStr, CString};
use ycm::ffi::*;
use ycm::{Auth, Client, Code, Config, Secret};
use ycm_mock::scripted::{response, ScriptedServer, Step};

const REPEATED: &str = r#"{"pbxCreationLimit":0,"pbxCreationLimit":5}"#;

fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

fn status_text(status: &ycm_status) -> String {
    unsafe { CStr::from_ptr(status.message.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_body_naming_a_field_twice_is_refused_by_every_path() {
    let server = mock();
    let client = token_client(&server);
    let error = client.update_user_json(13329, REPEATED).unwrap_err();
    assert_eq!(error.code(), Code::InvalidBody);
    let expected = "field \"pbxCreationLimit\" is given more than once";
    assert!(error.message().contains(expected), "{error}");

    let body = c(REPEATED);
    let validated = unsafe { ycm_validate_user_update(body.as_ptr()) };
    assert_eq!(validated.code, ycm_code::YCM_ERR_INVALID_BODY);
    assert_eq!(status_text(&validated), error.message());

    let config = c(&format!(
        r#"{{"base_url":"{}","access_token":"{TOKEN}"}}"#,
        server.url()
    ));
    let mut handle = std::ptr::null_mut();
    let built = unsafe { ycm_client_new_with_config(config.as_ptr(), &mut handle) };
    assert_eq!(built.code, ycm_code::YCM_OK, "{}", status_text(&built));
    let updated = unsafe { ycm_update_user(handle, 13329, body.as_ptr()) };
    unsafe { ycm_client_free(handle) };
    assert_eq!(updated.code, ycm_code::YCM_ERR_INVALID_BODY);
    assert_eq!(status_text(&updated), error.message());
    assert_eq!(updated.attempts, 0);

    assert_eq!(
        server.stats().requests,
        0,
        "a refused update must send nothing"
    );
}

#[test]
fn a_base_url_too_long_for_a_request_uri_is_refused_at_construction() {
    let server = ScriptedServer::start(vec![Step::Send(response(
        200,
        &[],
        br#"{"requestId":"r","status":"Success","time":1}"#,
    ))])
    .unwrap();
    let with_path = |len: usize| {
        let base = format!("{}/", server.url());
        format!("{base}{}", "p".repeat(len - base.len()))
    };
    let auth = || Auth::AccessToken(Secret::new(TOKEN));

    // One byte over: refused by the builder and by config_json, naming the limit.
    let over = with_path(65_471);
    let error = Config::new(&over, auth()).unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().contains("the limit is 65470"), "{error}");
    let json = c(&serde_json::json!({"base_url": over, "access_token": TOKEN}).to_string());
    let mut handle = std::ptr::null_mut();
    let built = unsafe { ycm_client_new_with_config(json.as_ptr(), &mut handle) };
    assert_eq!(built.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
    assert!(
        status_text(&built).contains("base_url"),
        "{}",
        status_text(&built)
    );
    assert!(handle.is_null());
    assert_eq!(server.requests(), 0);

    // At the limit, the longest request the client builds still goes out.
    let client = Client::new(Config::new(&with_path(65_470), auth()).unwrap()).unwrap();
    let query = ycm::ListQuery::new(50, u32::MAX, None).unwrap();
    let error = client.list_users(&query).unwrap_err();
    assert_eq!(error.code(), Code::BadResponse, "{error}");
    assert!(error.message().contains("no \"data\" object"), "{error}");
    assert_eq!(server.requests(), 1);
}
