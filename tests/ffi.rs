//! The C ABI called directly from Rust (the crate is also an rlib): NULL arguments, invalid
//! UTF-8, out-parameters left alone on failure, owned strings, and a round trip against
//! ycm-mock.

mod common;

use common::*;
use std::ffi::{c_char, CStr, CString};
use std::ptr;
use ycm::ffi::*;

fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

fn message(status: &ycm_status) -> String {
    unsafe { CStr::from_ptr(status.message.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string()
}

const BAD_UTF8: &[u8] = b"\xff\xfe\0";

#[test]
fn null_arguments_are_refused_and_out_params_untouched() {
    unsafe {
        let sentinel = ptr::dangling_mut::<ycm_client>();
        let mut out = sentinel;
        let url = c("http://127.0.0.1:9");
        let status = ycm_client_new(ptr::null(), url.as_ptr(), &mut out);
        assert_eq!(status.code, ycm_code::YCM_ERR_NULL_ARGUMENT);
        assert_eq!(message(&status), "base_url must not be NULL");
        assert_eq!(out, sentinel);
        let status = ycm_client_new(url.as_ptr(), ptr::null(), &mut out);
        assert_eq!(message(&status), "access_token must not be NULL");
        let status = ycm_client_new(url.as_ptr(), url.as_ptr(), ptr::null_mut());
        assert_eq!(message(&status), "out_client must not be NULL");
        assert_eq!(
            ycm_client_new_with_config(ptr::null(), &mut out).code,
            ycm_code::YCM_ERR_NULL_ARGUMENT
        );
        let body = c("{\"company\":\"x\"}");
        let status = ycm_update_user(ptr::null(), 1, body.as_ptr());
        assert_eq!(message(&status), "client must not be NULL");
        assert_eq!(
            ycm_validate_user_update(ptr::null()).code,
            ycm_code::YCM_ERR_NULL_ARGUMENT
        );
        let mut json: *mut c_char = ptr::null_mut();
        assert_eq!(
            ycm_get_user(ptr::null(), 1, &mut json).code,
            ycm_code::YCM_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            ycm_list_users(ptr::null(), 1, 1, ptr::null(), &mut json).code,
            ycm_code::YCM_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            ycm_update_user_fields(ptr::null(), 1, ptr::null()).code,
            ycm_code::YCM_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            ycm_user_fields_to_json(ptr::null(), &mut json).code,
            ycm_code::YCM_ERR_NULL_ARGUMENT
        );
        assert!(json.is_null());
        ycm_client_free(ptr::null_mut());
        ycm_string_free(ptr::null_mut());
    }
}

#[test]
fn invalid_utf8_is_refused() {
    unsafe {
        let bad = BAD_UTF8.as_ptr() as *const c_char;
        let status = ycm_validate_user_update(bad);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        assert_eq!(message(&status), "body_json is not valid UTF-8");
        let mut out = ptr::null_mut();
        let token = c(TOKEN);
        let status = ycm_client_new(bad, token.as_ptr(), &mut out);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        assert!(out.is_null());
    }
}

#[test]
fn a_round_trip_through_the_c_abi() {
    let server = mock();
    unsafe {
        let url = c(&server.url());
        let token = c(TOKEN);
        let mut client = ptr::null_mut();
        assert_eq!(
            ycm_client_new(url.as_ptr(), token.as_ptr(), &mut client).code,
            ycm_code::YCM_OK
        );

        let body = c(r#"{"company": "New Company Name"}"#);
        let status = ycm_update_user(client, 13329, body.as_ptr());
        assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
        assert_eq!((status.http_status, status.attempts), (200, 1));
        assert_eq!(
            CStr::from_ptr(status.request_id.as_ptr()).to_bytes().len(),
            32
        );
        assert!(status.time > 1_600_000_000);
        assert_eq!(message(&status), "");

        let company = c("From C");
        let fields = ycm_user_fields {
            company: company.as_ptr(),
            first_name: ptr::null(),
            last_name: ptr::null(),
            email: ptr::null(),
            phone: ptr::null(),
            mobile: ptr::null(),
            address: ptr::null(),
            remark: ptr::null(),
            disable_two_factor_authentication: 1,
            pbx_limit_mode: YCM_PBX_LIMIT_AT_MOST,
            pbx_limit: 4,
        };
        let mut json: *mut c_char = ptr::null_mut();
        assert_eq!(
            ycm_user_fields_to_json(&fields, &mut json).code,
            ycm_code::YCM_OK
        );
        assert_eq!(
            CStr::from_ptr(json).to_str().unwrap(),
            r#"{"company":"From C","twoFactorAuthenticationEnable":"disable","pbxCreationLimit":4}"#
        );
        ycm_string_free(json);
        assert_eq!(
            ycm_update_user_fields(client, 13329, &fields).code,
            ycm_code::YCM_OK
        );

        let mut json: *mut c_char = ptr::null_mut();
        assert_eq!(
            ycm_get_user(client, 13329, &mut json).code,
            ycm_code::YCM_OK
        );
        let user: serde_json::Value =
            serde_json::from_str(CStr::from_ptr(json).to_str().unwrap()).unwrap();
        assert_eq!(user["company"], "From C");
        ycm_string_free(json);

        let mut page: *mut c_char = ptr::null_mut();
        let status = ycm_list_users(client, 51, 1, ptr::null(), &mut page);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
        assert!(page.is_null());
        let sort = c("-userId");
        assert_eq!(
            ycm_list_users(client, 50, 1, sort.as_ptr(), &mut page).code,
            ycm_code::YCM_OK
        );
        let data: serde_json::Value =
            serde_json::from_str(CStr::from_ptr(page).to_str().unwrap()).unwrap();
        assert_eq!(data["list"].as_array().unwrap().len(), 50);
        ycm_string_free(page);

        let bad_fields = ycm_user_fields {
            pbx_limit_mode: 7,
            ..fields
        };
        let status = ycm_update_user_fields(client, 13329, &bad_fields);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
        assert!(message(&status).contains("pbx_limit_mode"));
        ycm_client_free(client);
    }
    assert_eq!(server.stats().requests, 4);
}

#[test]
fn code_names_and_descriptions_cover_every_code() {
    for code in ycm::Code::ALL {
        let c_code: ycm_code = code.into();
        let raw = || ycm_code_value(c_code as u32);
        let name = unsafe { CStr::from_ptr(ycm_code_name(raw())) };
        assert_eq!(name.to_str().unwrap(), code.name());
        let description = unsafe { CStr::from_ptr(ycm_code_description(raw())) };
        assert!(description.to_str().unwrap().ends_with('.'));
    }
    for number in [5, 77, 91, u32::MAX] {
        let name = unsafe { CStr::from_ptr(ycm_code_name(ycm_code_value(number))) };
        assert_eq!(name.to_str().unwrap(), "YCM_ERR_UNKNOWN");
    }
}
