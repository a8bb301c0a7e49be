//! The fault matrix: every scripted misbehaviour of a raw-TCP peer yields the documented
//! code, HTTP status and attempt count, with a useful message, within the time budget.
//! Run with `--nocapture` to print the measured matrix.

mod common;

use common::*;
use std::time::{Duration, Instant};
use ycm::{Auth, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::scripted::{Case, ScriptedServer};

/// Budgets of these tests: 1.5 s per call, 2 retries with short waits.
const BUDGET: Duration = Duration::from_millis(1500);

struct Expect {
    code: Code,
    http_status: u16,
    attempts: u32,
    message: &'static str,
}

fn expect(code: Code, http_status: u16, attempts: u32, message: &'static str) -> Expect {
    Expect {
        code,
        http_status,
        attempts,
        message,
    }
}

fn client_for(url: &str) -> Client {
    let config = Config::new(url, Auth::AccessToken(Secret::new(TOKEN)))
        .unwrap()
        .timeout(BUDGET)
        .connect_timeout(Duration::from_millis(500));
    Client::new(fast(config)).unwrap()
}

fn run(case: Case) -> (ycm::Result<ycm::Updated>, Duration, usize) {
    let server = ScriptedServer::start(case.script()).unwrap();
    let client = client_for(&server.url());
    let started = Instant::now();
    let result = client.update_user(13329, &UserUpdate::new().company("x"));
    (result, started.elapsed(), server.requests())
}

#[test]
fn every_fault_yields_its_code_within_the_budget() {
    let cases = [
        (
            Case::Silent,
            expect(Code::Timeout, 0, 1, "did not complete within timeout_ms"),
        ),
        (
            Case::StallAfterHeaders,
            expect(Code::Timeout, 200, 1, "did not complete within timeout_ms"),
        ),
        (
            Case::Drip,
            expect(Code::Timeout, 0, 1, "did not complete within timeout_ms"),
        ),
        (
            Case::CloseMidBody,
            expect(Code::Io, 200, 3, "connection failed"),
        ),
        (Case::Reset, expect(Code::Io, 0, 3, "connection failed")),
        (
            Case::NonJson200,
            expect(Code::BadResponse, 200, 1, "not JSON"),
        ),
        (
            Case::MissingRequestId,
            expect(Code::BadResponse, 200, 1, "\"requestId\" is missing"),
        ),
        (
            Case::MissingStatus,
            expect(Code::BadResponse, 200, 1, "\"status\" is missing"),
        ),
        (
            Case::MissingTime,
            expect(Code::BadResponse, 200, 1, "\"time\" is missing"),
        ),
        (
            Case::Huge,
            expect(Code::BadResponse, 200, 1, "larger than max_response_bytes"),
        ),
        (
            Case::Html502,
            expect(
                Code::Http,
                502,
                3,
                "HTTP 502: <html><head><title>502 Bad Gateway",
            ),
        ),
        (
            Case::FailedErrcode,
            expect(Code::Api, 200, 1, "user not found (errcode 20001)"),
        ),
        (
            Case::FailedErrno,
            expect(Code::Api, 200, 1, "user not found (errcode 20001)"),
        ),
        (
            Case::FailedDetailMessage,
            expect(Code::Api, 200, 1, "user not found (errcode 20001)"),
        ),
        (
            Case::FailedMessage,
            expect(Code::Api, 200, 1, "user not found"),
        ),
        (
            Case::NotHttp,
            expect(Code::BadResponse, 0, 1, "not valid HTTP"),
        ),
        (
            Case::RedirectElsewhere,
            expect(Code::Http, 307, 1, "HTTP 307"),
        ),
    ];
    println!(
        "{:<22} {:<16} {:>4} {:>8} {:>9}",
        "case", "code", "http", "attempts", "elapsed"
    );
    for (case, want) in cases {
        let (result, elapsed, _) = run(case);
        let err = result.expect_err(&format!("{case:?} must fail"));
        println!(
            "{:<22} {:<16} {:>4} {:>8} {:>7}ms",
            format!("{case:?}"),
            err.code().name().trim_start_matches("YCM_ERR_"),
            err.info().http_status,
            err.info().attempts,
            elapsed.as_millis()
        );
        assert_eq!(err.code(), want.code, "{case:?}: {err}");
        assert_eq!(err.info().http_status, want.http_status, "{case:?}: {err}");
        assert_eq!(err.info().attempts, want.attempts, "{case:?}: {err}");
        assert!(err.to_string().contains(want.message), "{case:?}: {err}");
        assert!(
            elapsed < BUDGET + Duration::from_secs(3),
            "{case:?} took {elapsed:?}"
        );
    }
}

#[test]
fn transient_faults_are_retried_to_success() {
    let (result, _, requests) = run(Case::ServiceUnavailableThenOk);
    assert_eq!(result.unwrap().info.attempts, 2);
    assert_eq!(requests, 2);

    let server = ScriptedServer::start(Case::TooManyRequestsThenOk.script()).unwrap();
    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new(TOKEN))).unwrap();
    let client = Client::new(config.timeout(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let done = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap();
    assert_eq!(done.info.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
}

#[test]
fn a_retry_after_beyond_the_budget_stops_at_once() {
    let server = ScriptedServer::start(Case::TooManyRequestsThenOk.script()).unwrap();
    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new(TOKEN))).unwrap();
    let short = Client::new(config.timeout(Duration::from_millis(500))).unwrap();
    let started = Instant::now();
    let err = short
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert_eq!((err.code(), err.info().attempts), (Code::RateLimited, 1));
    assert!(
        started.elapsed() < Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let client = client_for(&closed_port_url());
    let err = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert_eq!(
        (err.code(), err.info().attempts, err.info().http_status),
        (Code::Connect, 3, 0)
    );
}
