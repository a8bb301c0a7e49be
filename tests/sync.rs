//! Bulk sync end to end against ycm-mock: the mock's state equals the desired records
//! afterwards, unchanged records get no PUT, invalid and unknown records are reported and
//! untouched, a stopped run resumed with its journal sends nothing twice, a saved plan meets
//! a conflict, a 429 storm pauses the run, and refused credentials stop it at once.

mod common;

use common::{mock, token_client, token_client_with};
use std::collections::HashMap;
use std::path::PathBuf;
use ycm::sync::{
    apply, parse_records, Action, ApplyOptions, Control, Event, Format, Outcome, Plan, StopReason,
};
use ycm_mock::{Faults, MockServer};

/// PUTs the mock received, per user id.
fn puts(server: &MockServer) -> HashMap<i64, usize> {
    let mut counts = HashMap::new();
    for request in server.log() {
        if request.method == "PUT" {
            if let Some(id) = request.path.rsplit('/').next().and_then(|s| s.parse().ok()) {
                *counts.entry(id).or_insert(0) += 1;
            }
        }
    }
    counts
}

fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ycm-sync-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// CSV records setting one field of the users `ids` to `value(id)`.
fn one_field_records(
    field: &str,
    ids: std::ops::RangeInclusive<i64>,
    value: impl Fn(i64) -> String,
) -> ycm::sync::Records {
    let mut csv = format!("userId,{field}\n");
    for id in ids {
        csv.push_str(&format!("{id},{}\n", value(id)));
    }
    parse_records(csv.as_bytes(), Format::Csv).unwrap()
}

/// 30 generated users (paged reads: more than 50 records would be needed for pages, so this
/// also covers single reads), some changed, some not, plus bad and unknown records.
fn records_csv(server: &MockServer) -> String {
    let mut csv = String::from("userId,company,remark,pbxCreationLimit\n");
    for id in 20001..=20030 {
        let user = server.user(id).unwrap();
        if id % 3 == 0 {
            csv.push_str(&format!("{id},Synced {id},,\n"));
        } else {
            // As it is already: unchanged.
            let company = user["company"].as_str().unwrap().to_string();
            csv.push_str(&format!("{id},{company},,\n"));
        }
    }
    csv.push_str("13329,,,unlimited\n"); // the mock returns its limit, 10: compared, an update
    csv.push_str("99999,Nobody,,\n"); // unknown user
    csv.push_str("13330,,,0\n"); // invalid: a limit must be >= 1
    csv
}

#[test]
fn a_sync_sends_only_the_changes_and_reports_every_record() {
    let server = mock();
    let client = token_client(&server);
    let records = parse_records(records_csv(&server).as_bytes(), Format::Csv).unwrap();
    let plan = Plan::build(&client, &records, None).unwrap();
    let counts = plan.counts();
    assert_eq!(counts[&Action::Update], 11, "{counts:?}");
    assert_eq!(counts[&Action::Unchanged], 20);
    assert_eq!(counts[&Action::UnknownUser], 1);
    assert_eq!(counts[&Action::Invalid], 1);
    let limit = plan
        .items
        .iter()
        .find(|i| i.user_id == Some(13329))
        .unwrap();
    let change = limit.changes.get("pbxCreationLimit").unwrap();
    assert_eq!(
        change.before,
        Some(serde_json::json!(10)),
        "compared: the server returns it"
    );
    assert!(!change.not_compared);
    let invalid = plan
        .items
        .iter()
        .find(|i| i.action == Action::Invalid)
        .unwrap();
    assert!(
        invalid
            .error
            .as_deref()
            .unwrap()
            .contains("column pbxCreationLimit"),
        "{invalid:?}"
    );

    let mut events = 0;
    let report = apply(&client, &plan, &ApplyOptions::default(), |event| {
        if let Event::Done { .. } = event {
            events += 1;
        }
        Control::Continue
    })
    .unwrap();
    assert_eq!(events, 11);
    assert_eq!(report.stopped, None);
    let counts = report.counts();
    assert_eq!(counts[&Outcome::Updated], 11, "{}", report.to_jsonl());
    assert_eq!(counts[&Outcome::Unchanged], 20);
    let puts = puts(&server);
    for id in 20001..=20030 {
        let expected = usize::from(id % 3 == 0);
        assert_eq!(
            puts.get(&id).copied().unwrap_or(0),
            expected,
            "PUTs of {id}"
        );
        if id % 3 == 0 {
            assert_eq!(server.user(id).unwrap()["company"], format!("Synced {id}"));
        }
    }
    assert_eq!(puts.get(&13330), None, "invalid: untouched");
    assert_eq!(puts.get(&99999), None, "unknown: untouched");
    assert_eq!(server.user(13329).unwrap()["pbxCreationLimit"], "");
    // A second plan finds nothing left to do: the limit the server returns is compared.
    let again = Plan::build(&client, &records, None).unwrap();
    assert_eq!(
        again.counts().get(&Action::Update),
        None,
        "{:?}",
        again.counts()
    );

    let failed = report.failed_rows(&plan.items, Format::Csv);
    let back = parse_records(failed.as_bytes(), Format::Csv).unwrap();
    assert_eq!(back.records.len(), 2, "{failed}");
    assert!(failed.contains("errorCode"), "{failed}");
}

#[test]
fn paged_reads_cover_a_large_input() {
    let server = mock();
    let client = token_client(&server);
    let records = one_field_records("remark", 20001..=20117, |id| format!("paged {}", id % 2));
    let before = server.stats();
    let plan = Plan::build(&client, &records, None).unwrap();
    let stats = server.stats();
    assert_eq!(
        stats.list_users - before.list_users,
        3,
        "120 users in pages of 50"
    );
    assert_eq!(stats.get_user, before.get_user, "no single reads");
    assert_eq!(plan.items.len(), 117);
}

#[test]
fn a_slow_callback_that_aborts_leaves_only_the_call_in_flight() {
    let server = mock();
    let client = token_client(&server);
    let records = one_field_records("company", 20001..=20012, |id| format!("Slow {id}"));
    let options = ApplyOptions {
        concurrency: 1,
        ..ApplyOptions::default()
    };
    let plan = Plan::build(&client, &records, None).unwrap();
    let mut done = 0;
    let report = apply(&client, &plan, &options, |event| {
        if let Event::Done { .. } = event {
            done += 1;
            if done == 3 {
                // A callback that takes its time (a UI, a database write) before aborting:
                // the one worker must not have gone on through the list meanwhile.
                std::thread::sleep(std::time::Duration::from_millis(100));
                return Control::Abort;
            }
        }
        Control::Continue
    })
    .unwrap();
    assert_eq!(report.stopped, Some(StopReason::Aborted));
    let sent: usize = puts(&server).values().sum();
    assert!(
        (3..=4).contains(&sent),
        "{sent} PUTs after an abort on the 3rd"
    );
}

#[test]
fn a_stopped_run_resumed_with_its_journal_sends_nothing_twice() {
    let server = mock();
    let client = token_client(&server);
    let records = one_field_records("company", 20001..=20040, |id| format!("Resumed {id}"));
    let journal = temp_path("resume.journal");
    let options = ApplyOptions {
        concurrency: 3,
        journal: Some(journal.clone()),
        ..ApplyOptions::default()
    };
    let plan = Plan::build(&client, &records, None).unwrap();
    let mut done = 0;
    let first = apply(&client, &plan, &options, |event| {
        if let Event::Done { .. } = event {
            done += 1;
        }
        if done >= 10 {
            Control::Abort
        } else {
            Control::Continue
        }
    })
    .unwrap();
    assert_eq!(first.stopped, Some(StopReason::Aborted));
    assert!(first.counts()[&Outcome::NotAttempted] > 0);

    // The rerun: a fresh plan from the same records and the same journal.
    let plan = Plan::build(&client, &records, None).unwrap();
    let second = apply(&client, &plan, &options, |_| Control::Continue).unwrap();
    assert_eq!(second.stopped, None);
    for row in &second.rows {
        assert!(
            matches!(row.outcome, Outcome::Updated | Outcome::Unchanged),
            "{row:?}"
        );
    }
    let puts = puts(&server);
    for id in 20001..=20040 {
        assert_eq!(puts.get(&id), Some(&1), "user {id} got exactly one PUT");
        assert_eq!(server.user(id).unwrap()["company"], format!("Resumed {id}"));
    }
    std::fs::remove_file(journal).unwrap();
}

#[test]
fn a_saved_plan_leaves_a_user_changed_since_alone() {
    let server = mock();
    let client = token_client(&server);
    let records = parse_records(
        b"userId,company\n20001,Planned A\n20002,Planned B\n",
        Format::Csv,
    )
    .unwrap();
    let json = Plan::build(&client, &records, None).unwrap().to_json();
    // Someone else changes 20002 before the plan is applied.
    client
        .update_user(20002, &ycm::UserUpdate::new().company("Changed elsewhere"))
        .unwrap();
    let plan = Plan::from_json(&json).unwrap();
    let report = apply(&client, &plan, &ApplyOptions::default(), |_| {
        Control::Continue
    })
    .unwrap();
    assert_eq!(report.rows[0].outcome, Outcome::Updated);
    assert_eq!(
        report.rows[1].outcome,
        Outcome::Conflict,
        "{:?}",
        report.rows[1]
    );
    assert!(report.rows[1]
        .message
        .contains("changed since the plan was made"));
    assert_eq!(server.user(20002).unwrap()["company"], "Changed elsewhere");
}

#[test]
fn a_429_storm_pauses_the_run_and_it_still_completes() {
    let server = mock();
    let client = token_client(&server);
    let records = one_field_records("remark", 20001..=20012, |_| "storm".to_string());
    let plan = Plan::build(&client, &records, None).unwrap();
    server.set_faults(Faults {
        fail_next: 4,
        fail_status: 429,
        retry_after: Some("1".into()),
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let report = apply(&client, &plan, &ApplyOptions::default(), |_| {
        Control::Continue
    })
    .unwrap();
    assert!(report.throttled >= 1, "{report:?}");
    assert_eq!(
        report.counts()[&Outcome::Updated],
        12,
        "{}",
        report.to_jsonl()
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "paused for Retry-After"
    );
}

/// A one-worker run of 3 remark changes (users 20001 upward) against a mock whose next
/// `throttled` requests get a 429 with `Retry-After: 0`.
fn run_one_worker_against_429s(throttled: u32) -> ycm::sync::Report {
    let server = mock();
    let client = token_client(&server);
    let records = one_field_records("remark", 20001..=20003, |_| "throttled".to_string());
    let plan = Plan::build(&client, &records, None).unwrap();
    server.set_faults(Faults {
        fail_next: throttled,
        fail_status: 429,
        retry_after: Some("0".into()),
        ..Faults::default()
    });
    let options = ApplyOptions {
        concurrency: 1,
        ..ApplyOptions::default()
    };
    apply(&client, &plan, &options, |_| Control::Continue).unwrap()
}

#[test]
fn one_call_meeting_more_429s_than_its_retries_waits_them_out_with_the_run() {
    // The first update meets all five 429s, more than its 2 retries allow.
    let report = run_one_worker_against_429s(5);
    assert_eq!(report.stopped, None, "{}", report.to_jsonl());
    assert_eq!(
        report.counts()[&Outcome::Updated],
        3,
        "{}",
        report.to_jsonl()
    );
    assert_eq!(report.rows[0].attempts, 6);
    assert_eq!(report.throttled, 5);
}

#[test]
fn a_server_that_never_stops_throttling_stops_the_run() {
    let report = run_one_worker_against_429s(1000);
    assert_eq!(
        report.stopped,
        Some(StopReason::RateLimited),
        "{}",
        report.to_jsonl()
    );
    assert_eq!(report.rows[0].outcome, Outcome::Failed);
    assert_eq!(report.rows[0].code, "YCM_ERR_RATE_LIMITED");
    // Five pauses waited out for the run, then the call's own 2 retries.
    assert_eq!(report.rows[0].attempts, 8, "{}", report.to_jsonl());
    assert_eq!(report.rows[2].outcome, Outcome::NotAttempted);
}

#[test]
fn refused_credentials_stop_the_whole_run_at_once() {
    let server = mock();
    let good = token_client(&server);
    let records = one_field_records("remark", 20001..=20030, |_| "refused".to_string());
    let plan = Plan::build(&good, &records, None).unwrap();
    let revoked = token_client_with(&server, "revoked-token");
    let options = ApplyOptions {
        concurrency: 2,
        ..ApplyOptions::default()
    };
    let report = apply(&revoked, &plan, &options, |_| Control::Continue).unwrap();
    assert_eq!(report.stopped, Some(StopReason::CredentialsRefused));
    let counts = report.counts();
    assert!(counts[&Outcome::Failed] <= 2, "{counts:?}");
    assert!(counts[&Outcome::NotAttempted] >= 28, "{counts:?}");
    assert!(server.stats().unauthorized <= 2);
}
