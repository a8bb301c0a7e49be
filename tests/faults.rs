//! Faults injected by ycm-mock: retried statuses, Retry-After, connections closed
//! mid-response, latency beyond the time budget.

mod common;

use common::*;
use std::time::{Duration, Instant};
use ycm::{Auth, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::Faults;

fn update(client: &Client) -> ycm::Result<ycm::Updated> {
    client.update_user(13329, &UserUpdate::new().company("faulty"))
}

#[test]
fn a_503_is_retried() {
    let server = mock();
    let client = token_client(&server);
    server.set_faults(Faults {
        fail_next: 1,
        fail_status: 503,
        ..Faults::default()
    });
    let done = update(&client).unwrap();
    assert_eq!(done.info.attempts, 2);
}

#[test]
fn persistent_503_gives_the_http_status_after_every_retry() {
    let server = mock();
    let client = token_client(&server);
    server.set_faults(Faults {
        fail_next: 10,
        fail_status: 503,
        ..Faults::default()
    });
    let err = update(&client).unwrap_err();
    assert_eq!(err.info().attempts, 3);
    assert_eq!(err.info().http_status, 503);
    assert_eq!(err.code(), Code::Http, "{err}");
    assert!(
        err.to_string()
            .contains("HTTP 503: ycm-mock: injected fault"),
        "{err}"
    );
}

#[test]
fn a_400_is_not_retried() {
    let server = mock();
    let client = token_client(&server);
    server.set_faults(Faults {
        fail_next: 1,
        fail_status: 400,
        ..Faults::default()
    });
    let err = update(&client).unwrap_err();
    assert_eq!((err.info().attempts, err.info().http_status), (1, 400));
}

#[test]
fn retry_after_is_honoured_and_429_becomes_rate_limited() {
    let server = mock();
    let client = token_client(&server);
    server.set_faults(Faults {
        fail_next: 1,
        fail_status: 429,
        retry_after: Some("1".into()),
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(update(&client).unwrap().info.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited for Retry-After"
    );

    server.set_faults(Faults {
        fail_next: 10,
        fail_status: 429,
        ..Faults::default()
    });
    // A single call waits throttling out within its budget: five pauses in a row that let
    // nothing through, then its own try and its two retries.
    let err = update(&client).unwrap_err();
    assert_eq!((err.code(), err.info().attempts), (Code::RateLimited, 8));
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let server = mock();
    let client = token_client(&server);
    let when = std::time::SystemTime::now() + Duration::from_secs(2);
    server.set_faults(Faults {
        fail_next: 1,
        fail_status: 503,
        retry_after: Some(httpdate::fmt_http_date(when)),
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(update(&client).unwrap().info.attempts, 2);
    // The date has whole seconds, so the wait is between 1 and 2 s.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_connection_closed_mid_body_is_retried_then_reported_as_io() {
    let server = mock();
    let client = token_client(&server);
    server.set_faults(Faults {
        close_next: 1,
        ..Faults::default()
    });
    assert_eq!(update(&client).unwrap().info.attempts, 2);

    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new(TOKEN)))
        .unwrap()
        .retries(0, Duration::ZERO, Duration::ZERO);
    let client = Client::new(config).unwrap();
    server.set_faults(Faults {
        close_next: 1,
        ..Faults::default()
    });
    let err = update(&client).unwrap_err();
    assert_eq!(err.code(), Code::Io, "{err}");
    assert_eq!(err.info().attempts, 1);
}

#[test]
fn latency_beyond_the_budget_is_a_timeout_within_the_budget() {
    let server = mock();
    server.set_faults(Faults {
        latency_ms: Some(2000),
        ..Faults::default()
    });
    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new(TOKEN)))
        .unwrap()
        .timeout(Duration::from_millis(300));
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let err = update(&client).unwrap_err();
    assert_eq!(err.code(), Code::Timeout, "{err}");
    assert!(err.to_string().contains("timeout_ms (300 ms)"), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
}
