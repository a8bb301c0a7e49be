//! One client shared by 16 threads making 5,000 updates while the mock injects 503s and
//! connections closed mid-body: every call returns, every success lands, nothing deadlocks.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use ycm::{Code, UserUpdate};
use ycm_mock::Faults;

const THREADS: i64 = 16;
const CALLS_PER_THREAD: usize = 5000 / THREADS as usize + 1;

#[test]
fn sixteen_threads_and_faults_every_call_returns_and_successes_land() {
    let server = Arc::new(mock());
    let client = Arc::new(credentials_client(&server));
    let done = Arc::new(AtomicBool::new(false));

    let injector = {
        let (server, done) = (server.clone(), done.clone());
        std::thread::spawn(move || {
            let mut round = 0u32;
            while !done.load(Ordering::SeqCst) {
                let faults = if round % 2 == 0 {
                    Faults {
                        fail_next: 3,
                        fail_status: 503,
                        ..Faults::default()
                    }
                } else {
                    Faults {
                        close_next: 2,
                        ..Faults::default()
                    }
                };
                server.set_faults(faults);
                round += 1;
                std::thread::sleep(Duration::from_millis(15));
            }
            round
        })
    };

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                let user_id = 20001 + t;
                let (mut last_success, mut failures) = (None, 0);
                for i in 0..CALLS_PER_THREAD {
                    let remark = format!("thread {t} call {i}");
                    match client.update_user(user_id, &UserUpdate::new().remark(&remark)) {
                        Ok(_) => last_success = Some(remark),
                        Err(e) => {
                            assert!(matches!(e.code(), Code::Http | Code::Io), "{e}");
                            failures += 1;
                        }
                    }
                }
                (user_id, last_success, failures)
            })
        })
        .collect();

    let mut failures = 0;
    for worker in workers {
        let (user_id, last_success, failed) = worker.join().expect("no worker panicked");
        failures += failed;
        let last = last_success.expect("most calls succeed despite the faults");
        assert_eq!(server.user(user_id).unwrap()["remark"], last.as_str());
    }
    done.store(true, Ordering::SeqCst);
    let rounds = injector.join().unwrap();
    assert!(rounds > 2, "faults were injected during the run");
    let calls = THREADS as usize * CALLS_PER_THREAD;
    println!("{calls} calls, {failures} failed after their retries, {rounds} fault rounds");
    assert!(server.stats().requests as usize >= calls);
}
