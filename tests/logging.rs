//! Log records end to end against ycm-mock, through the process-wide sink (what the C
//! callback receives): one DEBUG record per attempt with its request facts, one WARN per
//! retry, one INFO per token fetch, and never a secret. One test function: the sink is
//! process-wide, so records of parallel tests would mix.

mod common;

use common::{credentials_client, mock, token_client, CLIENT_SECRET, TOKEN};
use std::sync::{Arc, Mutex};
use ycm::logging::{set_sink, Level, Record, Sink, TARGET_AUTH, TARGET_HTTP};
use ycm::UserUpdate;
use ycm_mock::Faults;

#[derive(Debug, Clone, PartialEq)]
struct Seen {
    level: Level,
    target: &'static str,
    message: String,
    method: String,
    path: String,
    http_status: u16,
    attempt: u32,
    request_id: String,
}

fn capture(min_level: Level) -> Arc<Mutex<Vec<Seen>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&seen);
    set_sink(Some(Sink {
        min_level,
        receive: Box::new(move |r: &Record<'_>| {
            into.lock().unwrap().push(Seen {
                level: r.level,
                target: r.target,
                message: r.message.to_string(),
                method: r.method.to_string(),
                path: r.path.to_string(),
                http_status: r.http_status,
                attempt: r.attempt,
                request_id: r.request_id.to_string(),
            })
        }),
    }));
    seen
}

#[test]
fn records_describe_attempts_retries_and_tokens_without_secrets() {
    let server = mock();
    let seen = capture(Level::Debug);
    let client = token_client(&server);
    client
        .update_user(13329, &UserUpdate::new().company("Logged"))
        .unwrap();
    let records = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(records.len(), 1, "{records:?}");
    let attempt = &records[0];
    assert_eq!(
        (attempt.level, attempt.target, attempt.method.as_str()),
        (Level::Debug, TARGET_HTTP, "PUT")
    );
    assert_eq!(attempt.path, "/dm/open_api/v1/users/13329");
    assert_eq!((attempt.http_status, attempt.attempt), (200, 1));
    assert_eq!(attempt.request_id.len(), 32, "{attempt:?}");

    server.set_faults(Faults {
        fail_next: 1,
        fail_status: 503,
        ..Faults::default()
    });
    client.get_user(13329).unwrap();
    let records = std::mem::take(&mut *seen.lock().unwrap());
    let levels: Vec<_> = records.iter().map(|r| (r.level, r.attempt)).collect();
    assert_eq!(
        levels,
        [(Level::Debug, 1), (Level::Warn, 1), (Level::Debug, 2)],
        "{records:?}"
    );
    assert!(records[1].message.contains("HTTP 503"), "{:?}", records[1]);

    let credentials = credentials_client(&server);
    credentials.get_user(13329).unwrap();
    let records = std::mem::take(&mut *seen.lock().unwrap());
    let auth: Vec<_> = records.iter().filter(|r| r.target == TARGET_AUTH).collect();
    assert_eq!(auth.len(), 1, "{records:?}");
    assert_eq!(auth[0].level, Level::Info);

    // Only what is at least as severe as the sink's level arrives.
    let warnings = capture(Level::Warn);
    client.get_user(13329).unwrap();
    assert!(warnings.lock().unwrap().is_empty());
    set_sink(None);

    for record in records {
        let text = format!("{record:?}");
        assert!(
            !text.contains(TOKEN) && !text.contains(CLIENT_SECRET),
            "{text}"
        );
    }
}
