//! End-to-end tests of `update_user` against ycm-mock: the seed's example, the request on
//! the wire, every validation rule (with nothing sent), API failures and rejected tokens.

mod common;

use common::*;
use ycm::{Code, PbxCreationLimit, UserUpdate};

#[test]
fn seed_example_updates_the_user_and_puts_exactly_the_documented_request_on_the_wire() {
    let server = mock();
    let client = token_client(&server);
    let done = client
        .update_user_json(13329, r#"{"company": "New Company Name"}"#)
        .unwrap();
    assert_eq!(done.info.http_status, 200);
    assert_eq!(done.info.attempts, 1);
    assert_eq!(done.info.request_id.len(), 32);
    assert!(done.info.time > 1_600_000_000);
    assert_eq!(server.user(13329).unwrap()["company"], "New Company Name");

    let log = server.log();
    assert_eq!(log.len(), 1);
    let request = &log[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(request.path, "/dm/open_api/v1/users/13329");
    assert_eq!(
        request.user_agent.as_deref(),
        Some(concat!("ycm/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(request.authorization.as_deref(), Some("Bearer [REDACTED]"));
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(request.body, r#"{"company":"New Company Name"}"#);
    assert_eq!(request.status, 200);
}

#[test]
fn every_field_lands_in_the_mock() {
    let server = mock();
    let client = token_client(&server);
    let update = UserUpdate::new()
        .company("C")
        .first_name("F")
        .last_name("L")
        .email("e@example.com")
        .phone("1")
        .mobile("2")
        .address("A")
        .remark("R")
        .disable_two_factor_authentication()
        .pbx_creation_limit(PbxCreationLimit::Unlimited);
    client.update_user(13329, &update).unwrap();
    let user = server.user(13329).unwrap();
    for (field, value) in [
        ("company", "C"),
        ("firstName", "F"),
        ("lastName", "L"),
        ("email", "e@example.com"),
        ("phone", "1"),
        ("mobile", "2"),
        ("address", "A"),
        ("remark", "R"),
        ("twoFactorAuthenticationEnable", "disable"),
        ("pbxCreationLimit", ""),
    ] {
        assert_eq!(user[field], value, "{field}");
    }
    client
        .update_user_json(13329, r#"{"pbxCreationLimit": 7}"#)
        .unwrap();
    assert_eq!(server.user(13329).unwrap()["pbxCreationLimit"], 7);
}

#[test]
fn refused_input_names_the_problem_and_sends_nothing() {
    let server = mock();
    let client = token_client(&server);
    let cases: &[(i64, &str, Code, &str)] = &[
        (13329, "{}", Code::InvalidBody, "empty"),
        (13329, "company", Code::InvalidBody, "not valid JSON"),
        (13329, "[]", Code::InvalidBody, "JSON object"),
        (13329, r#"{"compan":"x"}"#, Code::InvalidBody, "\"compan\""),
        (
            13329,
            r#"{"email":7}"#,
            Code::InvalidBody,
            "\"email\" must be a string",
        ),
        (
            13329,
            r#"{"twoFactorAuthenticationEnable":"enable"}"#,
            Code::InvalidBody,
            "\"disable\"",
        ),
        (
            13329,
            r#"{"pbxCreationLimit":0}"#,
            Code::InvalidBody,
            "pbxCreationLimit",
        ),
        (
            13329,
            r#"{"pbxCreationLimit":"10"}"#,
            Code::InvalidBody,
            "pbxCreationLimit",
        ),
        (0, r#"{"company":"x"}"#, Code::InvalidArgument, "user_id"),
        (-5, r#"{"company":"x"}"#, Code::InvalidArgument, "user_id"),
    ];
    for (user_id, body, code, needle) in cases {
        let err = client.update_user_json(*user_id, body).unwrap_err();
        assert_eq!(err.code(), *code, "{body}: {err}");
        assert!(err.to_string().contains(needle), "{body}: {err}");
        assert_eq!(err.info().attempts, 0);
    }
    assert_eq!(
        server.stats().requests,
        0,
        "a refused call must send nothing"
    );
}

#[test]
fn business_errors_are_api_errors_with_the_ycm_code() {
    let server = mock();
    let client = token_client(&server);
    for (user_id, body, errcode) in [
        (99_999_999, r#"{"company":"x"}"#, 20001),
        (13329, r#"{"pbxCreationLimit":2}"#, 20002),
        (13330, r#"{"pbxCreationLimit":5}"#, 20003),
    ] {
        let err = client.update_user_json(user_id, body).unwrap_err();
        assert_eq!(err.code(), Code::Api, "{err}");
        assert_eq!(err.info().api_errcode, errcode, "{err}");
        assert_eq!(err.info().http_status, 200);
        assert_eq!(err.info().request_id.len(), 32);
        assert!(
            err.to_string().contains(&format!("errcode {errcode}")),
            "{err}"
        );
    }
    assert_eq!(
        server.user(13329).unwrap()["pbxCreationLimit"],
        10,
        "nothing changed"
    );
}

#[test]
fn a_wrong_static_token_is_unauthorized_and_not_retried() {
    let server = mock();
    let client = token_client_with(&server, "not-the-token");
    let err = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
    assert_eq!((err.info().http_status, err.info().attempts), (401, 1));
    assert!(!err.to_string().contains("not-the-token"));
    client.set_access_token(TOKEN).unwrap();
    client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap();
    assert_eq!(server.stats().requests, 2);
}

#[test]
fn a_closed_port_is_a_connect_error_after_the_retries() {
    let config = ycm::Config::new(
        &closed_port_url(),
        ycm::Auth::AccessToken(ycm::Secret::new(TOKEN)),
    )
    .unwrap();
    let client = ycm::Client::new(fast(config)).unwrap();
    let err = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert_eq!(err.code(), Code::Connect, "{err}");
    assert_eq!(err.info().attempts, 3);
    assert_eq!(err.info().http_status, 0);
}
