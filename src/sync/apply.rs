//! Applying a plan: a pool of worker threads (default 4) sends the plan's updates, each
//! attempt passing the run's shared [`Limiter`]; events come back to the calling thread,
//! one at a time, where the progress callback runs. Refused credentials stop the whole run
//! at once; one record's failure never stops it unless `max_failures` is reached; a
//! cancellation or an abort from the callback stops scheduling, lets the calls in flight
//! end (for at most [`ApplyOptions::grace`], when set) and records them. With a journal, records already done with the same desired values
//! are skipped, and records sent without a `done` (or any update of a plan loaded from JSON)
//! are read again and compared before anything is sent.

use super::journal::{desired_hash, Journal, Previous};
use super::pace::{Limiter, Rate};
use super::plan::{readable_value, same, Action, Current, Plan, PlanItem, USER_NOT_FOUND_ERRCODE};
use super::report::{Outcome, Report, ReportRow, StopReason};
use super::summary::Cost;
use crate::cancel::Cancel;
use crate::client::{Cancellable, Client};
use crate::error::{Code, Error, Result};
use crate::transport::Pace;
use crate::user::UserUpdate;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a run goes.
///
/// ```
/// let options = ycm::sync::ApplyOptions { concurrency: 8, max_failures: Some(50), ..Default::default() };
/// assert_eq!(options.concurrency, 8);
/// ```
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Updates in flight at once (default 4).
    pub concurrency: usize,
    /// A client-side rate cap, in YCM's terms.
    pub rate: Option<Rate>,
    /// The journal to write and resume from.
    pub journal: Option<PathBuf>,
    /// Stop scheduling once this many records failed.
    pub max_failures: Option<usize>,
    /// Stops scheduling when triggered; calls in flight end and are recorded.
    pub cancel: Option<Cancel>,
    /// Once the run stops scheduling (for any reason), how long the calls in flight may
    /// go on before they are cancelled too (default `None`: each ends within its own time
    /// budget). A call cut short ends `not_attempted` with `YCM_ERR_CANCELLED`; its update
    /// may have reached the server, so a rerun with the journal reads that user again.
    pub grace: Option<Duration>,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            concurrency: 4,
            rate: None,
            journal: None,
            max_failures: None,
            cancel: None,
            grace: None,
        }
    }
}

/// Progress, delivered on the thread that called [`apply`], one event at a time.
///
/// ```
/// let on_event = |event: &ycm::sync::Event<'_>| {
///     if let ycm::sync::Event::Done { done, updates, .. } = event {
///         eprintln!("{done}/{updates}");
///     }
///     ycm::sync::Control::Continue
/// };
/// # let _ = on_event;
/// ```
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// The run starts: this many updates to send (after the journal's skips).
    Started {
        /// Updates the run will try.
        updates: usize,
        /// Records in all.
        records: usize,
        /// Whether the journal ended in a torn line (or a torn header), which was cut off:
        /// the run before was stopped in the middle of a write.
        journal_repaired: bool,
    },
    /// One record ended.
    Done {
        /// Its row of the report.
        row: &'a ReportRow,
        /// Updates ended so far.
        done: usize,
        /// Updates the run will try.
        updates: usize,
    },
    /// The run stops early.
    Stopping {
        /// Why.
        reason: StopReason,
    },
}

/// What the progress callback wants.
///
/// ```
/// let stop_after_first = |_: &ycm::sync::Event<'_>| ycm::sync::Control::Abort;
/// # let _ = stop_after_first;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop scheduling; calls in flight end and are recorded.
    Abort,
}

/// One unit of work: an update item of the plan and whether it must be checked first.
/// (Its desired hash is computed when journalled, not kept: a run holds a unit a record.)
struct Work {
    index: usize,
    verify: bool,
}

/// Sends the plan's updates; returns the report (one row per plan item, in order), with
/// the run's cost: the plan's reads (when made in this process), the requests of this run's
/// updates and checks (not those of rows a journal had done), the token grants and the time.
///
/// ```no_run
/// # let client = ycm::Client::from_json(r#"{"base_url":"http://127.0.0.1:1","access_token":"t"}"#)?;
/// # let records = ycm::sync::read_records(std::path::Path::new("users.csv"))?;
/// let plan = ycm::sync::Plan::build(&client, &records, None)?;
/// let report = ycm::sync::apply(&client, &plan, &ycm::sync::ApplyOptions::default(), |_| {
///     ycm::sync::Control::Continue
/// })?;
/// println!("{:?}", report.counts());
/// # Ok::<(), ycm::Error>(())
/// ```
pub fn apply(
    client: &Client,
    plan: &Plan,
    options: &ApplyOptions,
    mut on_event: impl FnMut(&Event<'_>) -> Control,
) -> Result<Report> {
    if options.concurrency == 0 {
        return Err(Error::invalid_argument("concurrency must be at least 1"));
    }
    let started = std::time::Instant::now();
    let grants = client.shared_status().grants;
    let mut requests = 0u64;
    let journal = match &options.journal {
        Some(path) => Some(Mutex::new(Journal::open(path, &plan.input_hash)?)),
        None => None,
    };
    let mut rows: Vec<Option<ReportRow>> = vec![None; plan.items.len()];
    let mut work = Vec::new();
    for (index, item) in plan.items.iter().enumerate() {
        match item.action {
            Action::Update => {}
            action => {
                rows[index] = Some(settled_row(item, action));
                continue;
            }
        }
        let previous = match (&journal, item.user_id) {
            (Some(j), Some(id)) => lock(j).previous(id, &desired_hash(&item.desired)),
            _ => Previous::None,
        };
        match previous {
            Previous::Done(row) if !row.outcome.is_problem() => rows[index] = Some(row),
            Previous::SentNotDone => work.push(Work {
                index,
                verify: true,
            }),
            _ => work.push(Work {
                index,
                verify: !plan.fresh,
            }),
        }
    }

    // The run leaves a tenth of the client ID's burst to interactive calls.
    let reserve = client
        .config()
        .rate_limit
        .map_or(0, |limit| limit.burst / 10);
    let limiter = Arc::new(Limiter::new(options.rate, reserve));
    let pace: Arc<dyn Pace> = limiter.clone();
    let next = AtomicUsize::new(0);
    let updates = work.len();
    // A rendezvous: a worker takes its next update only once this thread has its last row,
    // so an abort (or any stop) decided on that row leaves at most the calls in flight, not
    // a worker that ran ahead of the callback.
    let (events, received) = mpsc::sync_channel::<(usize, ReportRow, Option<Error>)>(0);
    let mut stopped: Option<StopReason> = None;
    let mut stop_error: Option<String> = None;
    let mut failures = 0usize;
    let mut done = 0usize;
    // Two ways to stop: no more scheduling (cancel, abort, max_failures: calls in flight end,
    // retries included), and no more sending at all (refused credentials).
    let halt = AtomicBool::new(false);
    // The calls in flight, cancelled once the grace after a stop has run out.
    let in_flight = Cancel::new();
    let mut stopped_at: Option<std::time::Instant> = None;
    let stop = |reason: StopReason| {
        halt.store(true, Ordering::SeqCst);
        if reason == StopReason::CredentialsRefused {
            limiter.stop();
        }
    };
    let journal_repaired = journal.as_ref().is_some_and(|j| lock(j).repaired);
    if on_event(&Event::Started {
        updates,
        records: plan.items.len(),
        journal_repaired,
    }) == Control::Abort
    {
        stopped = Some(StopReason::Aborted);
        stop(StopReason::Aborted);
        on_event(&Event::Stopping {
            reason: StopReason::Aborted,
        });
    }
    std::thread::scope(|scope| -> Result<()> {
        // A panic on this thread (in the caller's callback) must not leave workers sending.
        let _stop_on_unwind = StopOnDrop(&halt);
        let workers = options.concurrency.min(work.len());
        for _ in 0..workers {
            let events = events.clone();
            let (work, next, limiter, pace, journal, halt, in_flight) =
                (&work, &next, &limiter, &pace, &journal, &halt, &in_flight);
            scope.spawn(move || loop {
                if halt.load(Ordering::SeqCst) || limiter.is_stopped() {
                    return;
                }
                let Some(unit) = work.get(next.fetch_add(1, Ordering::SeqCst)) else {
                    return;
                };
                let item = &plan.items[unit.index];
                let calls = client.paced(pace, Some(in_flight));
                let (row, journal_error) = run_one(&calls, item, unit, journal.as_ref());
                if row.code == Code::Unauthorized.name() {
                    limiter.stop();
                }
                if journal_error.is_some() {
                    // No further update may leave unjournalled.
                    halt.store(true, Ordering::SeqCst);
                }
                if events.send((unit.index, row, journal_error)).is_err() {
                    return;
                }
            });
        }
        drop(events);
        loop {
            let (received, interrupted) = next_event(&received, options.cancel.as_ref());
            if stopped.is_some() {
                let since = *stopped_at.get_or_insert_with(std::time::Instant::now);
                if options.grace.is_some_and(|grace| since.elapsed() >= grace) {
                    in_flight.cancel();
                }
            }
            if stopped.is_none()
                && (interrupted || options.cancel.as_ref().is_some_and(Cancel::is_cancelled))
            {
                stopped = Some(StopReason::Cancelled);
                stop(StopReason::Cancelled);
                on_event(&Event::Stopping {
                    reason: StopReason::Cancelled,
                });
            }
            let (index, row, journal_error) = match received {
                Ok(event) => event,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            done += 1;
            requests += u64::from(row.attempts);
            if let (None, Some(e)) = (&stop_error, &journal_error) {
                stop_error = Some(e.message().to_string());
            }
            let reason = if journal_error.is_some() {
                Some(StopReason::JournalFailed)
            } else if row.code == Code::Unauthorized.name() {
                Some(StopReason::CredentialsRefused)
            } else if row.code == Code::RateLimited.name() {
                Some(StopReason::RateLimited)
            } else {
                None
            };
            if row.outcome == Outcome::Failed {
                failures += 1;
            }
            let control = on_event(&Event::Done {
                row: &row,
                done,
                updates,
            });
            rows[index] = Some(row);
            let reason = reason
                .or_else(|| (control == Control::Abort).then_some(StopReason::Aborted))
                .or_else(|| {
                    options
                        .max_failures
                        .filter(|max| failures >= *max)
                        .map(|_| StopReason::MaxFailures)
                });
            if let (None, Some(reason)) = (stopped, reason) {
                stopped = Some(reason);
                stop(reason);
                on_event(&Event::Stopping { reason });
            }
        }
        Ok(())
    })?;
    if let Some(journal) = &journal {
        if let Err(e) = lock(journal).sync() {
            stop_error.get_or_insert_with(|| e.message().to_string());
        }
    }
    let rows = rows
        .into_iter()
        .zip(&plan.items)
        .map(|(row, item)| row.unwrap_or_else(|| not_attempted(item, stopped)))
        .collect();
    let run = Cost {
        requests,
        token_grants: client.shared_status().grants.saturating_sub(grants),
        duration_s: started.elapsed().as_secs_f64(),
    };
    Ok(Report {
        rows,
        stopped,
        stop_error,
        throttled: limiter.throttled_count(),
        cost: plan.cost.plus(run),
    })
}

/// The next event from the workers, waiting at most a moment; and whether a signal handler
/// ran during the wait (for a [`Cancel::on_signal`] flag: the caller's Ctrl-C).
fn next_event<T>(
    received: &mpsc::Receiver<T>,
    cancel: Option<&Cancel>,
) -> (std::result::Result<T, mpsc::RecvTimeoutError>, bool) {
    const MOMENT: Duration = Duration::from_millis(50);
    match cancel.filter(|c| c.stops_on_signal()) {
        None => (received.recv_timeout(MOMENT), false),
        Some(cancel) => {
            // A channel wait does not end on a signal; short sleeps do.
            let until = std::time::Instant::now() + MOMENT;
            loop {
                match received.try_recv() {
                    Ok(event) => return (Ok(event), false),
                    Err(mpsc::TryRecvError::Disconnected) => {
                        return (Err(mpsc::RecvTimeoutError::Disconnected), false)
                    }
                    Err(mpsc::TryRecvError::Empty) => {}
                }
                let slice = (std::time::Instant::now() + Duration::from_millis(5)).min(until);
                if !cancel.sleep_until(slice) {
                    return (Err(mpsc::RecvTimeoutError::Timeout), !cancel.is_cancelled());
                }
                if std::time::Instant::now() >= until {
                    return (Err(mpsc::RecvTimeoutError::Timeout), false);
                }
            }
        }
    }
}

/// Sets the flag when dropped: the workers stop taking work if the caller's thread unwinds.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

fn lock(journal: &Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    journal.lock().unwrap_or_else(|p| p.into_inner())
}

fn base_row(item: &PlanItem, outcome: Outcome) -> ReportRow {
    ReportRow {
        row: item.row,
        user_id: item.user_id,
        outcome,
        changed: item.changes.names(),
        code: "",
        message: String::new(),
        request_id: String::new(),
        attempts: 0,
    }
}

/// The row of an item that sends nothing.
fn settled_row(item: &PlanItem, action: Action) -> ReportRow {
    let outcome = match action {
        Action::Unchanged => Outcome::Unchanged,
        Action::Invalid => Outcome::Invalid,
        Action::UnknownUser => Outcome::UnknownUser,
        Action::Update => Outcome::NotAttempted,
    };
    ReportRow {
        message: item.error.clone().unwrap_or_default(),
        ..base_row(item, outcome)
    }
}

fn not_attempted(item: &PlanItem, stopped: Option<StopReason>) -> ReportRow {
    let why = match stopped {
        Some(StopReason::CredentialsRefused) => {
            "the run stopped: the server refused the credentials"
        }
        Some(StopReason::MaxFailures) => "the run stopped: max_failures records failed",
        Some(StopReason::RateLimited) => {
            "the run stopped: the server kept throttling after every retry"
        }
        Some(StopReason::Cancelled) => "the run was cancelled",
        Some(StopReason::JournalFailed) => "the run stopped: the journal could not be written",
        Some(StopReason::Aborted) | None => "the run was stopped before this record's turn",
    };
    ReportRow {
        message: why.to_string(),
        ..base_row(item, Outcome::NotAttempted)
    }
}

fn failed_row(item: &PlanItem, error: &Error, attempts: u32) -> ReportRow {
    let cancelled = error.code() == Code::Cancelled;
    let outcome = if cancelled {
        Outcome::NotAttempted
    } else {
        Outcome::Failed
    };
    let message = if cancelled && attempts > 0 {
        format!(
            "{}: cut short when the run stopped; the update may have reached the server (a rerun reads the user again)",
            error.message()
        )
    } else {
        error.message().to_string()
    };
    ReportRow {
        code: error.code().name(),
        message,
        request_id: error.info().request_id.clone(),
        attempts,
        ..base_row(item, outcome)
    }
}

/// One update: journalled, checked against the current values when asked, then sent. With
/// the row, the journal's write error when there was one (the run then stops).
fn run_one(
    calls: &Cancellable<'_>,
    item: &PlanItem,
    unit: &Work,
    journal: Option<&Mutex<Journal>>,
) -> (ReportRow, Option<Error>) {
    let desired = journal.map(|_| desired_hash(&item.desired));
    let journalled = journal.zip(desired.as_deref());
    let (mut row, not_sent) = match check_and_send(calls, item, unit, journalled) {
        Ok(row) => (row, None),
        Err(e) => {
            let row = ReportRow {
                message: format!("not sent: {}", e.message()),
                ..base_row(item, Outcome::NotAttempted)
            };
            (row, Some(e))
        }
    };
    if not_sent.is_some() {
        return (row, not_sent);
    }
    if let Some((journal, desired)) = journalled {
        if let Err(e) = lock(journal).done(desired, &row) {
            // The outcome stands (the server's answer is what happened); say the journal
            // missed it: its `sent` line makes a rerun read this user again.
            row.message = format!("{} (not journalled: {})", row.message, e.message())
                .trim_start()
                .to_string();
            return (row, Some(e));
        }
    }
    (row, None)
}

/// The checks a unit asks for (a changed user is a conflict; one already as desired needs
/// nothing), then the update, journalled `sent` (with the item's desired hash) just before
/// it leaves; the journal's error, when that line cannot be written (nothing is sent).
fn check_and_send(
    calls: &Cancellable<'_>,
    item: &PlanItem,
    unit: &Work,
    journal: Option<(&Mutex<Journal>, &str)>,
) -> Result<ReportRow> {
    let Some(user_id) = item.user_id else {
        return Ok(base_row(item, Outcome::Invalid));
    };
    let mut attempts = 0;
    let mut body = item.body();
    if unit.verify {
        let read = calls.get_user_data(user_id);
        attempts += read
            .as_ref()
            .map_or_else(|e| e.info().attempts, |(_, i)| i.attempts);
        let current = match read {
            Ok((Value::Object(values), _)) => Current {
                values,
                listed: false,
            },
            Ok(_) => return Ok(base_row(item, Outcome::Failed)),
            Err(e) if e.info().api_errcode == USER_NOT_FOUND_ERRCODE => {
                return Ok(ReportRow {
                    message: format!("user {user_id} no longer exists"),
                    ..base_row(item, Outcome::UnknownUser)
                })
            }
            Err(e) => return Ok(failed_row(item, &e, attempts)),
        };
        for (name, change) in item.changes.to_vec() {
            let (Some(before), Some(now)) = (&change.before, readable_value(&name, &current))
            else {
                continue; // not compared: sent whatever the server holds
            };
            if same(&name, &now, &change.after) {
                body.remove(&name); // already as desired (an earlier run applied it)
            } else if !same(&name, &now, before) {
                return Ok(ReportRow {
                    message: format!(
                        "field \"{name}\" changed since the plan was made: it was {before}, it is {now} now; left alone"
                    ),
                    attempts,
                    ..base_row(item, Outcome::Conflict)
                });
            }
        }
        if body.is_empty() {
            return Ok(ReportRow {
                code: Code::Ok.name(),
                message: "already as desired (applied by an earlier run)".into(),
                attempts,
                ..base_row(item, Outcome::Updated)
            });
        }
    }
    if let Some((journal, desired)) = journal {
        lock(journal).sent(user_id, desired)?;
    }
    Ok(
        match UserUpdate::from_map(&body).and_then(|update| calls.update_user(user_id, &update)) {
            Ok(updated) => ReportRow {
                code: Code::Ok.name(),
                request_id: updated.info.request_id,
                attempts: attempts + updated.info.attempts,
                ..base_row(item, Outcome::Updated)
            },
            Err(e) => {
                let sent = attempts + e.info().attempts;
                failed_row(item, &e, sent)
            }
        },
    )
}
