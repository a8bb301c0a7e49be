//! The C ABI of bulk sync called directly from Rust: NULL arguments and bad UTF-8 refused
//! with out-parameters left alone, bad format names and bad options refused before anything
//! is sent, the records and report JSON shapes, a plan round trip through JSON, the
//! callbacks struct's size check, and a callback's abort (also by a value outside the enum).

mod common;

use common::*;
use serde_json::Value;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr;
use ycm::ffi::*;
use ycm_mock::MockServer;

fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

fn message(status: &ycm_status) -> String {
    unsafe { CStr::from_ptr(status.message.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string()
}

/// Takes an owned string from the library.
fn take(text: *mut c_char) -> String {
    assert!(!text.is_null());
    let owned = unsafe { CStr::from_ptr(text) }
        .to_str()
        .unwrap()
        .to_string();
    unsafe { ycm_string_free(text) };
    owned
}

fn client_of(server: &MockServer) -> *mut ycm_client {
    let (url, token) = (c(&server.url()), c(TOKEN));
    let mut client = ptr::null_mut();
    let status = unsafe { ycm_client_new(url.as_ptr(), token.as_ptr(), &mut client) };
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    client
}

fn plan_of(client: *const ycm_client, records: &str, format: &str) -> *mut ycm_plan {
    let (records, format) = (c(records), c(format));
    let mut plan = ptr::null_mut();
    let status = unsafe {
        ycm_sync_plan(
            client,
            records.as_ptr(),
            format.as_ptr(),
            ptr::null(),
            &mut plan,
        )
    };
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    plan
}

fn apply_with(
    client: *const ycm_client,
    plan: *const ycm_plan,
    options: Option<&str>,
    callbacks: Option<&ycm_sync_callbacks>,
) -> (ycm_status, Option<Value>) {
    let options = options.map(c);
    let mut report = ptr::null_mut();
    let status = unsafe {
        ycm_sync_apply(
            client,
            plan,
            options.as_ref().map_or(ptr::null(), |o| o.as_ptr()),
            callbacks.map_or(ptr::null(), |c| c as *const _),
            &mut report,
        )
    };
    if status.code == ycm_code::YCM_OK {
        (status, Some(serde_json::from_str(&take(report)).unwrap()))
    } else {
        assert!(report.is_null(), "no report on failure");
        (status, None)
    }
}

const RECORDS: &str = "userId,company\n20001,FFI One\n20002,FFI Two\n20003,FFI Three\n";

#[test]
fn null_arguments_are_refused_and_out_params_untouched() {
    let server = mock();
    let client = client_of(&server);
    let (text, csv) = (c(RECORDS), c("csv"));
    unsafe {
        let sentinel = ptr::dangling_mut::<c_char>();
        let mut out = sentinel;
        for (status, name) in [
            (
                ycm_records_parse(ptr::null(), csv.as_ptr(), &mut out),
                "text",
            ),
            (
                ycm_records_parse(text.as_ptr(), ptr::null(), &mut out),
                "format",
            ),
            (
                ycm_records_parse(text.as_ptr(), csv.as_ptr(), ptr::null_mut()),
                "out_records_json",
            ),
            (ycm_plan_to_json(ptr::null(), &mut out), "plan"),
        ] {
            assert_eq!(status.code, ycm_code::YCM_ERR_NULL_ARGUMENT);
            assert_eq!(message(&status), format!("{name} must not be NULL"));
        }
        assert_eq!(out, sentinel);

        let plan_sentinel = ptr::dangling_mut::<ycm_plan>();
        let mut plan = plan_sentinel;
        for (status, name) in [
            (
                ycm_sync_plan(
                    ptr::null(),
                    text.as_ptr(),
                    csv.as_ptr(),
                    ptr::null(),
                    &mut plan,
                ),
                "client",
            ),
            (
                ycm_sync_plan(client, ptr::null(), csv.as_ptr(), ptr::null(), &mut plan),
                "records_text",
            ),
            (
                ycm_sync_plan(client, text.as_ptr(), ptr::null(), ptr::null(), &mut plan),
                "format",
            ),
            (
                ycm_sync_plan(
                    client,
                    text.as_ptr(),
                    csv.as_ptr(),
                    ptr::null(),
                    ptr::null_mut(),
                ),
                "out_plan",
            ),
            (ycm_plan_from_json(ptr::null(), &mut plan), "json"),
            (
                ycm_plan_from_json(text.as_ptr(), ptr::null_mut()),
                "out_plan",
            ),
        ] {
            assert_eq!(status.code, ycm_code::YCM_ERR_NULL_ARGUMENT);
            assert_eq!(message(&status), format!("{name} must not be NULL"));
        }
        assert_eq!(plan, plan_sentinel);

        let real = plan_of(client, RECORDS, "csv");
        let mut report = sentinel;
        for (status, name) in [
            (
                ycm_sync_apply(ptr::null(), real, ptr::null(), ptr::null(), &mut report),
                "client",
            ),
            (
                ycm_sync_apply(client, ptr::null(), ptr::null(), ptr::null(), &mut report),
                "plan",
            ),
            (
                ycm_sync_apply(client, real, ptr::null(), ptr::null(), ptr::null_mut()),
                "out_report_json",
            ),
        ] {
            assert_eq!(status.code, ycm_code::YCM_ERR_NULL_ARGUMENT);
            assert_eq!(message(&status), format!("{name} must not be NULL"));
        }
        assert_eq!(report, sentinel);
        assert_eq!(server.stats().update_user, 0, "nothing was sent");
        ycm_plan_free(real);
        ycm_plan_free(ptr::null_mut());
        ycm_client_free(client);
    }
}

#[test]
fn bad_utf8_and_bad_format_names_are_refused_before_anything_is_sent() {
    let server = mock();
    let client = client_of(&server);
    let bad_text = b"userId,company\n20001,\xff\n\0";
    let bad = bad_text.as_ptr() as *const c_char;
    let bad_name = c"cs\xfe".as_ptr();
    let (text, csv) = (c(RECORDS), c("csv"));
    unsafe {
        let mut out = ptr::null_mut();
        let status = ycm_records_parse(bad, csv.as_ptr(), &mut out);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        assert_eq!(message(&status), "text is not valid UTF-8 (line 2)");
        let status = ycm_records_parse(text.as_ptr(), bad_name, &mut out);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        assert_eq!(message(&status), "format is not valid UTF-8");
        let mut plan = ptr::null_mut();
        let status = ycm_sync_plan(client, bad, csv.as_ptr(), ptr::null(), &mut plan);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        assert_eq!(message(&status), "records_text is not valid UTF-8 (line 2)");
        let status = ycm_plan_from_json(bad, &mut plan);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        for name in ["CSV", "json", "", "csv "] {
            let name = c(name);
            let status = ycm_records_parse(text.as_ptr(), name.as_ptr(), &mut out);
            assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
            assert!(
                message(&status).contains("format must be \"csv\" or \"jsonl\""),
                "{}",
                message(&status)
            );
            let status =
                ycm_sync_plan(client, text.as_ptr(), name.as_ptr(), ptr::null(), &mut plan);
            assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
        }
        // An input unusable as a whole: refused naming row and column.
        let unusable = c("userId,compny\n20001,X\n");
        let status = ycm_sync_plan(
            client,
            unusable.as_ptr(),
            csv.as_ptr(),
            ptr::null(),
            &mut plan,
        );
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
        assert!(message(&status).contains("row 1, column 2: unknown column \"compny\""));
        assert!(out.is_null() && plan.is_null());
        let stats = server.stats();
        assert_eq!(stats.requests, 0, "nothing was sent: {stats:?}");

        let real = plan_of(client, RECORDS, "csv");
        let mut report = ptr::null_mut();
        let status = ycm_sync_apply(client, real, bad, ptr::null(), &mut report);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_UTF8);
        assert_eq!(message(&status), "options_json is not valid UTF-8");
        assert!(report.is_null());
        ycm_plan_free(real);
        ycm_client_free(client);
    }
}

#[test]
fn records_parse_gives_rows_wire_values_and_errors() {
    let text = c("{\"userId\":13329,\"pbxCreationLimit\":\"\"}\n{\"userId\":13330,\"pbxCreationLimit\":0}\n\n{\"userId\":5,\"compny\":\"x\"}\n");
    let jsonl = c("jsonl");
    let mut out = ptr::null_mut();
    let status = unsafe { ycm_records_parse(text.as_ptr(), jsonl.as_ptr(), &mut out) };
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let json: Value = serde_json::from_str(&take(out)).unwrap();
    assert_eq!(json["format"], "jsonl");
    assert_eq!(json["input_hash"].as_str().unwrap().len(), 64);
    let records = json["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["row"], 1);
    assert_eq!(records[0]["userId"], 13329);
    assert_eq!(records[0]["fields"]["pbxCreationLimit"], "");
    assert_eq!(records[0]["error"], Value::Null);
    assert_eq!(records[1]["error"]["column"], "pbxCreationLimit");
    assert_eq!(records[2]["row"], 4);
    assert_eq!(records[2]["error"]["column"], "compny");
}

#[test]
fn bad_options_are_refused_naming_the_key_and_nothing_is_sent() {
    let server = mock();
    let client = client_of(&server);
    let plan = plan_of(client, RECORDS, "csv");
    for (options, needle) in [
        (r#"{"concurency":2}"#, "unknown option \"concurency\""),
        (
            r#"{"concurrency":0}"#,
            "\"concurrency\" must be an integer from 1 to 64",
        ),
        (r#"{"rate":5,"interval_s":-1}"#, "\"interval_s\""),
        (r#"{"burst":3}"#, "\"burst\" needs \"rate\""),
        (r#"{"max_failures":"x"}"#, "\"max_failures\""),
        (r#"{"journal":false}"#, "\"journal\""),
        ("[1]", "must be a JSON object"),
        ("", "not JSON"),
    ] {
        let (status, report) = apply_with(client, plan, Some(options), None);
        assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT, "{options}");
        assert!(
            message(&status).contains(needle),
            "{options}: {}",
            message(&status)
        );
        assert!(report.is_none());
    }
    let short = ycm_sync_callbacks {
        size: 4,
        on_event: None,
        user_data: ptr::null_mut(),
        cancel: ptr::null(),
    };
    let (status, _) = apply_with(client, plan, None, Some(&short));
    assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
    assert!(message(&status).contains("callbacks->size is 4"));
    assert_eq!(server.stats().update_user, 0, "nothing was sent");
    // Defaults: NULL, "{}" and nulls.
    let (status, report) = apply_with(
        client,
        plan,
        Some(r#"{"concurrency":null,"rate":null,"journal":null}"#),
        None,
    );
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let report = report.unwrap();
    assert_eq!(report["counts"]["updated"], 3, "{report}");
    assert_eq!(report["stopped"], Value::Null);
    assert_eq!(report["throttled"], 0);
    assert_eq!(report["rows"][0]["userId"], 20001);
    assert_eq!(report["rows"][0]["changed"], serde_json::json!(["company"]));
    assert_eq!(report["rows"][0]["code"], "YCM_OK");
    assert_eq!(server.user(20002).unwrap()["company"], "FFI Two");
    unsafe {
        ycm_plan_free(plan);
        ycm_client_free(client);
    }
}

#[test]
fn a_plan_round_trips_through_json_and_a_loaded_plan_checks_before_sending() {
    let server = mock();
    let client = client_of(&server);
    let plan = plan_of(client, RECORDS, "csv");
    let mut json = ptr::null_mut();
    let status = unsafe { ycm_plan_to_json(plan, &mut json) };
    assert_eq!(status.code, ycm_code::YCM_OK);
    let json = take(json);
    let value: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["format_version"], 1);
    assert_eq!(value["input_format"], "csv");
    assert_eq!(value["items"][0]["action"], "update");
    assert_eq!(value["items"][0]["changes"]["company"]["after"], "FFI One");

    let text = c(&json);
    let mut loaded = ptr::null_mut();
    let status = unsafe { ycm_plan_from_json(text.as_ptr(), &mut loaded) };
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let mut again = ptr::null_mut();
    assert_eq!(
        unsafe { ycm_plan_to_json(loaded, &mut again) }.code,
        ycm_code::YCM_OK
    );
    assert_eq!(take(again), json, "the same plan after the round trip");

    // Someone changes 20002 in between: the loaded plan leaves it alone.
    ycm::Client::from_json(&format!(
        r#"{{"base_url":"{}","access_token":"{TOKEN}"}}"#,
        server.url()
    ))
    .unwrap()
    .update_user(20002, &ycm::UserUpdate::new().company("Changed elsewhere"))
    .unwrap();
    let (status, report) = apply_with(client, loaded, Some("{}"), None);
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let report = report.unwrap();
    assert_eq!(report["rows"][0]["outcome"], "updated");
    assert_eq!(report["rows"][1]["outcome"], "conflict", "{report}");
    assert_eq!(server.user(20002).unwrap()["company"], "Changed elsewhere");

    let bad = c(r#"{"format_version":99,"items":[]}"#);
    let mut none = ptr::null_mut();
    let status = unsafe { ycm_plan_from_json(bad.as_ptr(), &mut none) };
    assert_eq!(status.code, ycm_code::YCM_ERR_INVALID_ARGUMENT);
    assert!(message(&status).contains("format_version 99"));
    assert!(none.is_null());
    unsafe {
        ycm_plan_free(plan);
        ycm_plan_free(loaded);
        ycm_client_free(client);
    }
}

/// What the test callback saw, and what it answers.
struct Seen {
    kinds: Vec<ycm_sync_event_kind>,
    outcomes: Vec<String>,
    rows: Vec<Value>,
    sizes_ok: bool,
    /// Answer this on the DONE event number `abort_at` (1-based); 0 on every other.
    abort_at: usize,
    answer: c_int,
    /// Answer `answer` on STARTED instead.
    abort_on_start: bool,
}

unsafe extern "C" fn record_event(event: *const ycm_sync_event, user_data: *mut c_void) -> c_int {
    let seen = &mut *(user_data as *mut Seen);
    let event = &*event;
    seen.sizes_ok &= event.size as usize == std::mem::size_of::<ycm_sync_event>();
    seen.kinds.push(event.kind);
    seen.outcomes
        .push(CStr::from_ptr(event.outcome).to_str().unwrap().to_string());
    let row = CStr::from_ptr(event.row_json).to_str().unwrap();
    match event.kind {
        ycm_sync_event_kind::YCM_SYNC_STARTED => {
            assert_eq!((event.done, event.records), (0, 12));
            assert!(row.is_empty());
            if seen.abort_on_start {
                return seen.answer;
            }
        }
        ycm_sync_event_kind::YCM_SYNC_DONE => {
            let row: Value = serde_json::from_str(row).unwrap();
            assert_eq!(row["userId"], event.user_id);
            assert_eq!(event.done as usize, seen.rows.len() + 1);
            seen.rows.push(row);
            if seen.rows.len() == seen.abort_at {
                return seen.answer;
            }
        }
        ycm_sync_event_kind::YCM_SYNC_STOPPING => assert!(row.is_empty()),
    }
    ycm_control::YCM_CONTINUE as c_int
}

fn run_with_callback(abort_at: usize, answer: c_int, abort_on_start: bool) -> (Seen, Value, u64) {
    let server = mock();
    let client = client_of(&server);
    let mut csv = String::from("userId,remark\n");
    for id in 20001..=20012 {
        csv.push_str(&format!("{id},callback\n"));
    }
    let plan = plan_of(client, &csv, "csv");
    let mut seen = Seen {
        kinds: Vec::new(),
        outcomes: Vec::new(),
        rows: Vec::new(),
        sizes_ok: true,
        abort_at,
        answer,
        abort_on_start,
    };
    let callbacks = ycm_sync_callbacks {
        size: std::mem::size_of::<ycm_sync_callbacks>() as u32,
        on_event: Some(record_event),
        user_data: &mut seen as *mut Seen as *mut c_void,
        cancel: ptr::null(),
    };
    let (status, report) = apply_with(client, plan, Some(r#"{"concurrency":1}"#), Some(&callbacks));
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    unsafe {
        ycm_plan_free(plan);
        ycm_client_free(client);
    }
    let puts = server.stats().update_user;
    (seen, report.unwrap(), puts)
}

#[test]
fn events_come_in_order_and_continue_runs_to_the_end() {
    let (seen, report, puts) = run_with_callback(0, 0, false);
    assert!(seen.sizes_ok);
    assert_eq!(seen.kinds[0], ycm_sync_event_kind::YCM_SYNC_STARTED);
    assert_eq!(seen.kinds.len(), 13);
    assert!(seen.kinds[1..]
        .iter()
        .all(|k| *k == ycm_sync_event_kind::YCM_SYNC_DONE));
    assert!(seen.outcomes[1..].iter().all(|o| o == "updated"));
    assert_eq!(report["stopped"], Value::Null);
    assert_eq!(puts, 12);
}

#[test]
fn a_callback_abort_stops_scheduling() {
    // YCM_ABORT, and a value outside the enum, both abort.
    for answer in [ycm_control::YCM_ABORT as c_int, 7, -1] {
        let (seen, report, puts) = run_with_callback(3, answer, false);
        assert_eq!(report["stopped"], "aborted", "answer {answer}: {report}");
        let last = seen
            .kinds
            .iter()
            .rposition(|k| *k == ycm_sync_event_kind::YCM_SYNC_STOPPING);
        let stopping = last.expect("a STOPPING event");
        assert_eq!(seen.outcomes[stopping], "aborted");
        assert_eq!(
            seen.kinds
                .iter()
                .filter(|k| **k == ycm_sync_event_kind::YCM_SYNC_STOPPING)
                .count(),
            1
        );
        // One worker: the abort after the 3rd lets at most the call in flight end.
        assert!((3..=4).contains(&puts), "answer {answer}: {puts} PUTs");
        assert_eq!(report["counts"]["not_attempted"], 12 - puts, "{report}");
    }
    let (seen, report, puts) = run_with_callback(0, ycm_control::YCM_ABORT as c_int, true);
    assert_eq!(report["stopped"], "aborted");
    assert_eq!(puts, 0, "an abort on STARTED sends nothing");
    assert_eq!(seen.rows.len(), 0);
    assert_eq!(report["counts"]["not_attempted"], 12);
}

#[test]
fn the_report_carries_the_runs_summary_reads_and_grants_included() {
    let server = mock();
    let config = c(&format!(
        r#"{{"base_url":"{}","client_id":"ycm-mock-client","client_secret":"ycm-mock-secret"}}"#,
        server.url()
    ));
    let mut client = ptr::null_mut();
    let status = unsafe { ycm_client_new_with_config(config.as_ptr(), &mut client) };
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let before = server.stats();
    // Three records: three single reads (the first one's token grant with them), then three
    // updates.
    let plan = plan_of(client, RECORDS, "csv");
    let (status, report) = apply_with(client, plan, None, None);
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let summary = &report.unwrap()["summary"];
    let after = server.stats();
    assert_eq!(summary["records"], 3);
    assert_eq!(summary["counts"]["updated"], 3);
    assert_eq!(summary["counts"]["conflict"], 0, "every outcome, zeros too");
    assert_eq!(after.update_user - before.update_user, 3);
    assert_eq!(
        summary["requests"],
        after.requests - before.requests,
        "every request of the run, as the server saw them: {summary}"
    );
    assert_eq!(summary["requests"], 7, "3 reads, 1 token grant, 3 updates");
    assert_eq!(summary["token_grants"], 1, "{summary}");
    assert_eq!(summary["throttled"], 0);
    assert_eq!(summary["stopped"], Value::Null);
    assert_eq!(summary["exit_code"], Value::Null, "not a command");
    assert!(summary["duration_s"].as_f64().unwrap() > 0.0);
    assert!(summary["finished_at"].as_u64().unwrap() > 1_700_000_000);

    // A plan loaded from JSON made no read in this run: only the apply's requests count
    // (a check read and, the values being as desired now, no update).
    let mut json = ptr::null_mut();
    assert_eq!(
        unsafe { ycm_plan_to_json(plan, &mut json) }.code,
        ycm_code::YCM_OK
    );
    let json = c(&take(json));
    let mut loaded = ptr::null_mut();
    let status = unsafe { ycm_plan_from_json(json.as_ptr(), &mut loaded) };
    assert_eq!(status.code, ycm_code::YCM_OK, "{}", message(&status));
    let (_, report) = apply_with(client, loaded, None, None);
    let summary = &report.unwrap()["summary"];
    assert_eq!(summary["requests"], 3, "{summary}");
    assert_eq!(summary["token_grants"], 0);
    unsafe {
        ycm_plan_free(loaded);
        ycm_plan_free(plan);
        ycm_client_free(client);
    }
}
