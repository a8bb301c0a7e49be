//! The fault matrix: every row of `ycm_mock::fault_matrix::FAULT_MATRIX` (the one table the
//! C and Python fault suites read too), one update call against a raw-TCP peer scripted as
//! that row's case, with that row's client options, yields the row's code, HTTP status,
//! attempts, message fragment and envelope data, within the row's elapsed bounds; every
//! attempt reaches the peer. A closed port, which no peer can script, is a connect error.
//! Run with `--nocapture` to print the measured matrix.

mod common;

use common::*;
use std::time::{Duration, Instant};
use ycm::{Auth, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::fault_matrix::{ClientConfig, Expected, FAULT_MATRIX, SUITE_CLIENT};
use ycm_mock::scripted::{ScriptedServer, REQUEST_ID, TIME};

fn client_for(url: &str, options: &ClientConfig) -> Client {
    let ms = Duration::from_millis;
    let config = Config::new(url, Auth::AccessToken(Secret::new(TOKEN)))
        .unwrap()
        .timeout(ms(options.timeout_ms))
        .connect_timeout(ms(options.connect_timeout_ms))
        .retries(
            options.max_retries,
            ms(options.retry_base_ms),
            ms(options.retry_max_ms),
        );
    Client::new(config).unwrap()
}

fn code_named(name: &str) -> Code {
    Code::ALL
        .into_iter()
        .find(|code| code.name() == name)
        .unwrap_or_else(|| panic!("the table names an unknown code {name}"))
}

/// Runs one row; returns what failed to match (empty when all did).
fn check(row: &Expected) -> Vec<String> {
    let server = ScriptedServer::start(row.case.script()).unwrap();
    let client = client_for(&server.url(), &row.client);
    let started = Instant::now();
    let result = client.update_user(13329, &UserUpdate::new().company("x"));
    let elapsed = started.elapsed();
    let (code, info, message) = match &result {
        Ok(done) => (Code::Ok, done.info.clone(), String::new()),
        Err(err) => (err.code(), err.info().clone(), err.to_string()),
    };
    println!(
        "{:<30} {:<22} {:>4} {:>8} {:>7}ms",
        row.name,
        code.name(),
        info.http_status,
        info.attempts,
        elapsed.as_millis()
    );
    let mut wrong = Vec::new();
    let mut want = |ok: bool, what: String| {
        if !ok {
            wrong.push(format!("{}: {what} ({message:?})", row.name));
        }
    };
    want(code == code_named(row.code), format!("code {code:?}"));
    want(
        info.http_status == row.http_status,
        format!("http_status {}", info.http_status),
    );
    want(
        info.attempts == row.attempts,
        format!("attempts {}", info.attempts),
    );
    want(
        server.requests() == row.attempts as usize,
        format!("the peer read {} requests", server.requests()),
    );
    match row.message {
        Some(fragment) => want(message.contains(fragment), format!("no {fragment:?}")),
        None => want(message.is_empty(), "a message on success".into()),
    }
    if let Some(errcode) = row.api_errcode {
        want(
            info.api_errcode == errcode,
            format!("api_errcode {}", info.api_errcode),
        );
    }
    if row.envelope {
        want(
            (info.request_id.as_str(), info.time) == (REQUEST_ID, TIME),
            format!("envelope {:?} {}", info.request_id, info.time),
        );
    }
    let (min, max) = row.elapsed_bounds_ms();
    let ms = elapsed.as_millis() as u64;
    want(
        (min..max).contains(&ms),
        format!("took {ms} ms, not in {min}..{max}"),
    );
    wrong
}

#[test]
fn every_fault_case_yields_the_outcome_its_table_row_gives() {
    println!(
        "{:<30} {:<22} {:>4} {:>8} {:>9}",
        "case", "code", "http", "attempts", "elapsed"
    );
    let wrong: Vec<String> = FAULT_MATRIX.iter().flat_map(check).collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let client = client_for(&closed_port_url(), &SUITE_CLIENT);
    let err = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert_eq!(
        (err.code(), err.info().attempts, err.info().http_status),
        (Code::Connect, 3, 0)
    );
}
