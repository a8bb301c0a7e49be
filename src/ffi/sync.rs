//! Bulk sync over the C ABI: records parsed to JSON (`ycm_records_parse`), the opaque plan
//! (`ycm_sync_plan`, `ycm_plan_to_json`, `ycm_plan_from_json`, `ycm_plan_free`) and the run
//! (`ycm_sync_apply`), whose progress events reach a C callback on the calling thread. The
//! work is [`crate::sync`]'s; this module only converts arguments and results.

use super::args::{optional_str, out_param, owned_c_string, required, required_str};
use super::cancel::{cancel_of, ycm_cancel};
use super::client::{acquire, ycm_client};
use super::status::{guard, guard_void, ycm_status};
use crate::error::{CallInfo, Code, Error, Result};
use crate::sync::{apply, parse_records, ApplyOptions, Control, Event, Format, Plan, Records};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// A sync plan: what a run would change, record by record. Opaque; made by `ycm_sync_plan`
/// or `ycm_plan_from_json`, freed with `ycm_plan_free`.
///
/// Thread-safety: immutable once made; any number of threads may read it (`ycm_plan_to_json`,
/// `ycm_sync_apply`) at once. Free it once, after the calls using it have returned.
pub struct ycm_plan {
    plan: Plan,
}

/// What an event callback returns: go on, or stop the run. Any other value is read as
/// `YCM_ABORT`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ycm_control {
    /// Go on.
    YCM_CONTINUE = 0,
    /// Stop scheduling: the calls in flight end and are recorded, the rest of the plan is
    /// reported `not_attempted`, and the report says `"stopped":"aborted"`.
    YCM_ABORT = 1,
}

/// The kind of a `ycm_sync_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ycm_sync_event_kind {
    /// The run starts: `total` updates to send (after the journal's skips) out of
    /// `records` records.
    YCM_SYNC_STARTED = 1,
    /// One update ended: `done` of `total`, for `user_id`, with `outcome` and `row_json`.
    YCM_SYNC_DONE = 2,
    /// The run stops early; `outcome` is the reason: "cancelled", "aborted",
    /// "credentials_refused", "max_failures", "rate_limited" or "journal_failed". DONE events
    /// of the calls still in flight may follow.
    YCM_SYNC_STOPPING = 3,
}

/// One progress event of `ycm_sync_apply`, valid only during the callback (copy what you
/// keep). Strings are NUL-terminated UTF-8, never NULL. Fields are only ever appended;
/// `size` is `sizeof(ycm_sync_event)` as the library was built, so a caller compiled
/// against an older header reads only what it knows.
#[repr(C)]
pub struct ycm_sync_event {
    /// Size of this struct in the library.
    pub size: u32,
    /// What happened.
    pub kind: ycm_sync_event_kind,
    /// Updates ended so far (DONE: this one included).
    pub done: u64,
    /// Updates the run tries.
    pub total: u64,
    /// Records in the plan, in all.
    pub records: u64,
    /// DONE: the record's user (0 when its id was unreadable); 0 otherwise.
    pub user_id: i64,
    /// DONE: how the record ended ("updated", "failed", "conflict", "unknown_user",
    /// "not_attempted", ...); STOPPING: the reason; "" for STARTED.
    pub outcome: *const c_char,
    /// DONE: the record's report row as JSON (`{"row":2,"userId":13329,"outcome":"updated",
    /// "changed":["company"],"code":"YCM_OK","message":"","requestId":"...","attempts":1}`);
    /// "" otherwise.
    pub row_json: *const c_char,
}

/// An event callback: receives one event and the `user_data` of `ycm_sync_callbacks`, and
/// returns `YCM_CONTINUE` (0) or `YCM_ABORT` (1; any value but 0 aborts). It runs on the
/// thread that called `ycm_sync_apply`, one event at a time, and must not call into the
/// client of the run.
pub type ycm_sync_event_fn =
    Option<unsafe extern "C" fn(event: *const ycm_sync_event, user_data: *mut c_void) -> c_int>;

/// The callbacks of `ycm_sync_apply`, allocated by the caller. Set `size` to
/// `sizeof(ycm_sync_callbacks)`; fields are only ever appended, and the library reads only
/// the fields that `size` covers (a smaller `size` than this version's is refused).
#[repr(C)]
pub struct ycm_sync_callbacks {
    /// `sizeof(ycm_sync_callbacks)` as the caller was compiled.
    pub size: u32,
    /// Receives the progress events; NULL: none.
    pub on_event: ycm_sync_event_fn,
    /// Passed back to `on_event` untouched.
    pub user_data: *mut c_void,
    /// NULL, or a flag that stops scheduling when triggered (from any thread); one made by
    /// `ycm_cancel_new_on_signal` also stops the run when a signal handler runs on the
    /// calling thread during the run (Ctrl-C in an interpreter). Calls in flight end and are
    /// recorded; the report says `"stopped":"cancelled"`.
    pub cancel: *const ycm_cancel,
}

/// A required string argument as bytes, refused when it is not UTF-8 (naming the line).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the call.
unsafe fn records_bytes<'a>(ptr: *const c_char, name: &'static str) -> Result<&'a [u8]> {
    let bytes = CStr::from_ptr(required(ptr, name)?).to_bytes();
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        return Err(Error::new(
            Code::InvalidUtf8,
            format!("{name} is not valid UTF-8 (line {line})"),
        ));
    }
    Ok(bytes)
}

/// The records of `text` in the format named `format`.
///
/// # Safety
/// Both pointers are NULL or NUL-terminated strings valid for the call.
unsafe fn records_of(
    text: *const c_char,
    text_name: &'static str,
    format: *const c_char,
) -> Result<Records> {
    let bytes = records_bytes(text, text_name)?;
    let name = required_str(format, "format")?;
    let format = Format::from_name(name).ok_or_else(|| {
        Error::invalid_argument(format!(
            "format must be \"csv\" or \"jsonl\", got \"{}\"",
            crate::response::cut(name, 40)
        ))
    })?;
    parse_records(bytes, format)
}

/// Publishes a plan through `out_plan` (checked non-NULL by the caller).
fn publish(plan: Plan, out_plan: *mut *mut ycm_plan) -> Result<CallInfo> {
    let raw = Box::into_raw(Box::new(ycm_plan { plan }));
    // SAFETY: out_plan was checked non-NULL.
    unsafe { *out_plan = raw };
    Ok(CallInfo::default())
}

/// Writes an owned string through `out` (checked non-NULL by the caller).
fn write_string(text: String, out: *mut *mut c_char) -> Result<CallInfo> {
    let raw = owned_c_string(text)?;
    // SAFETY: out was checked non-NULL.
    unsafe { *out = raw };
    Ok(CallInfo::default())
}

/// Parses records offline (nothing is sent): `text` in `format`, "csv" (a header row of
/// wire names: "userId" and any update field; an empty cell leaves the field alone;
/// "pbxCreationLimit" an integer or "unlimited"; a UTF-8 BOM accepted) or "jsonl" (one
/// object per line with wire values). On success `*out_records_json` receives, freed with
/// `ycm_string_free`, `{"format":"csv","input_hash":"<sha256 hex of text>","records":[{"row":2,
/// "userId":13329,"fields":{...wire values...},"error":null}]}`; a record that breaks a rule
/// has `"error":{"column":"pbxCreationLimit","message":"..."}` (`column` "" when the record
/// as a whole is at fault) and an unreadable id `"userId":null`. An input unusable as a
/// whole (no "userId" column, an unknown column, broken CSV) gives
/// `YCM_ERR_INVALID_ARGUMENT` naming its row and column; text that is not UTF-8 gives
/// `YCM_ERR_INVALID_UTF8` naming the line; a format other than "csv" or "jsonl" gives
/// `YCM_ERR_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_records_parse(
    text: *const c_char,
    format: *const c_char,
    out_records_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let out = out_param(out_records_json, "out_records_json")?;
        let records = records_of(text, "text", format)?;
        write_string(records.to_json(), out)
    })
}

/// Plans a sync: parses `records_text` in `format` as `ycm_records_parse` does, reads the
/// current state of the records' users (pages of 50 sorted by userId, or single reads when
/// the input is small) and compares it field by field. Nothing is updated. `cancel` (NULL:
/// not cancellable) stops the reads, as `ycm_update_user_with_cancel` describes. On success
/// `*out_plan` receives a plan to free with `ycm_plan_free`; a failed read fails the call
/// with that read's status. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_sync_plan(
    client: *const ycm_client,
    records_text: *const c_char,
    format: *const c_char,
    cancel: *const ycm_cancel,
    out_plan: *mut *mut ycm_plan,
) -> ycm_status {
    guard(|| {
        let client = acquire(client)?;
        let out_plan = out_param(out_plan, "out_plan")?;
        let records = records_of(records_text, "records_text", format)?;
        let cancel = cancel_of(cancel);
        let plan = Plan::build(&client.client, &records, cancel.as_ref())?;
        publish(plan, out_plan)
    })
}

/// The plan as JSON (`{"format_version":1,"input_hash":"...","input_format":"csv","items":[{
/// "row":2,"userId":13329,"action":"update","changes":{"company":{"before":"Old",
/// "after":"New"}},"desired":{...}}]}`; actions "update", "unchanged", "invalid",
/// "unknown_user"; a change no read can compare has `"before":null,"not_compared":true`).
/// On success `*out_json` receives it, freed with `ycm_string_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_plan_to_json(
    plan: *const ycm_plan,
    out_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let plan = required(plan, "plan")?;
        let out_json = out_param(out_json, "out_json")?;
        write_string(plan.plan.to_json(), out_json)
    })
}

/// A plan from the JSON of `ycm_plan_to_json` (possibly made by another process, earlier).
/// When it is applied, every update is first checked against the user's current values: a
/// user whose values no longer match the plan's "before" values is reported "conflict" and
/// left alone. A text that is not such a plan (not JSON, another `format_version`, an
/// update the rules refuse) gives `YCM_ERR_INVALID_ARGUMENT`. On success `*out_plan`
/// receives a plan to free with `ycm_plan_free`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn ycm_plan_from_json(
    json: *const c_char,
    out_plan: *mut *mut ycm_plan,
) -> ycm_status {
    guard(|| {
        let out_plan = out_param(out_plan, "out_plan")?;
        let json = required_str(json, "json")?;
        publish(Plan::from_json(json)?, out_plan)
    })
}

/// Frees a plan. NULL is accepted and ignored. Call it after the calls using the plan have
/// returned.
#[no_mangle]
pub unsafe extern "C" fn ycm_plan_free(plan: *mut ycm_plan) {
    if !plan.is_null() {
        guard_void(|| drop(Box::from_raw(plan)));
    }
}

/// The caller's callbacks, read as far as their `size` goes.
struct Callbacks {
    on_event: ycm_sync_event_fn,
    user_data: *mut c_void,
    cancel: *const ycm_cancel,
}

/// Reads the caller's callbacks struct; NULL is none.
///
/// # Safety
/// `callbacks` is NULL or points to a `ycm_sync_callbacks` of at least its `size` bytes.
unsafe fn read_callbacks(callbacks: *const ycm_sync_callbacks) -> Result<Callbacks> {
    if callbacks.is_null() {
        return Ok(Callbacks {
            on_event: None,
            user_data: std::ptr::null_mut(),
            cancel: std::ptr::null(),
        });
    }
    // Only `size` is known to be there until it has been checked.
    let size = std::ptr::addr_of!((*callbacks).size).read();
    let ours = std::mem::size_of::<ycm_sync_callbacks>();
    if (size as usize) < ours {
        return Err(Error::invalid_argument(format!(
            "callbacks->size is {size}; set it to sizeof(ycm_sync_callbacks) ({ours})"
        )));
    }
    let given = &*callbacks;
    Ok(Callbacks {
        on_event: given.on_event,
        user_data: given.user_data,
        cancel: given.cancel,
    })
}

/// What one event says, for the C struct.
struct EventData {
    kind: ycm_sync_event_kind,
    user_id: i64,
    outcome: &'static str,
    row_json: String,
}

impl Callbacks {
    /// Delivers `event` to the C callback; its answer, any value but 0 being an abort.
    fn deliver(&self, event: &Event<'_>, progress: &mut (u64, u64), records: u64) -> Control {
        let Some(function) = self.on_event else {
            return Control::Continue;
        };
        let data = match event {
            Event::Started { updates, .. } => {
                *progress = (0, *updates as u64);
                EventData {
                    kind: ycm_sync_event_kind::YCM_SYNC_STARTED,
                    user_id: 0,
                    outcome: "",
                    row_json: String::new(),
                }
            }
            Event::Done { row, done, updates } => {
                *progress = (*done as u64, *updates as u64);
                EventData {
                    kind: ycm_sync_event_kind::YCM_SYNC_DONE,
                    user_id: row.user_id.unwrap_or(0),
                    outcome: row.outcome.as_str(),
                    row_json: serde_json::to_string(row).unwrap_or_default(),
                }
            }
            Event::Stopping { reason } => EventData {
                kind: ycm_sync_event_kind::YCM_SYNC_STOPPING,
                user_id: 0,
                outcome: reason.as_str(),
                row_json: String::new(),
            },
        };
        // JSON escapes every NUL, and the outcome names hold none.
        let outcome = CString::new(data.outcome).unwrap_or_default();
        let row_json = CString::new(data.row_json).unwrap_or_default();
        let c_event = ycm_sync_event {
            size: std::mem::size_of::<ycm_sync_event>() as u32,
            kind: data.kind,
            done: progress.0,
            total: progress.1,
            records,
            user_id: data.user_id,
            outcome: outcome.as_ptr(),
            row_json: row_json.as_ptr(),
        };
        // SAFETY: the event and its strings outlive the call; the function and user_data
        // are the caller's, valid for the duration of ycm_sync_apply.
        let answer = unsafe { function(&c_event, self.user_data) };
        if answer == ycm_control::YCM_CONTINUE as c_int {
            Control::Continue
        } else {
            Control::Abort
        }
    }
}

/// Applies `plan` with `client`: sends the plan's updates (only the changed fields) with a
/// pool of worker threads, under a shared rate limiter that also pauses every worker on a
/// 429 until its Retry-After. `options_json` (NULL or "{}" for the defaults) is a JSON
/// object: "concurrency" (updates in flight, 1 to 64, default 4), "rate" (requests per
/// "interval_s", >= 1; default no cap), "interval_s" (seconds, > 0, at most 86400, default
/// 60), "burst" (>= 1, default "rate"; only with "rate"), "journal" (a file path: each update
/// is journalled `sent` then `done`, and a rerun with the same journal skips what was done
/// and re-reads what was only sent, so no update is sent twice), "max_failures" (>= 1: stop
/// once this many records failed); a key given as null takes its default; unknown keys and
/// values out of range give `YCM_ERR_INVALID_ARGUMENT` naming the key, and nothing is sent.
/// `callbacks` may be NULL (see `ycm_sync_callbacks`).
///
/// Runs on the calling thread until the run ends: events are delivered on it, one at a
/// time (STARTED, then one DONE per update, with STOPPING when the run stops early); the
/// callback must not call into `client`. Refused credentials stop the whole run at once;
/// one record's failure does not stop it unless "max_failures" is reached. On success
/// `*out_report_json` receives, freed with `ycm_string_free`, `{"rows":[{"row":2,
/// "userId":13329,"outcome":"updated","changed":["company"],"code":"YCM_OK","message":"",
/// "requestId":"...","attempts":1}],"counts":{"updated":N,...},"stopped":null,
/// "throttled":N,"summary":{...}}` (one row per plan item, in order; "throttled" counts the
/// 429s met). "summary" is the run's summary, the same object `ycm sync apply --summary`
/// writes: "counts" (every outcome, zeros included), "records", "requests" (HTTP requests
/// of the run, token grants included: the plan's reads when `plan` was made by
/// `ycm_sync_plan` in this process, then the updates and their checks), "throttled", "token_grants", "duration_s",
/// "rate_per_s", "stopped", "error", "exit_code" (null: not a command) and "finished_at"
/// (Unix seconds). A run
/// that stopped early still returns `YCM_OK`, with "stopped" set to "cancelled", "aborted",
/// "credentials_refused", "max_failures", "rate_limited" or "journal_failed" (with
/// "stop_error" saying why). A journal that cannot be opened, is locked by another run,
/// was started for another input or is corrupt fails the call before anything is sent.
/// Thread-safe (two runs on one journal at once: the second is refused).
#[no_mangle]
pub unsafe extern "C" fn ycm_sync_apply(
    client: *const ycm_client,
    plan: *const ycm_plan,
    options_json: *const c_char,
    callbacks: *const ycm_sync_callbacks,
    out_report_json: *mut *mut c_char,
) -> ycm_status {
    guard(|| {
        let client = acquire(client)?;
        let plan = &required(plan, "plan")?.plan;
        let out = out_param(out_report_json, "out_report_json")?;
        let mut options = match optional_str(options_json, "options_json")? {
            Some(json) => ApplyOptions::from_json(json)?,
            None => ApplyOptions::default(),
        };
        let callbacks = read_callbacks(callbacks)?;
        options.cancel = cancel_of(callbacks.cancel);
        let records = plan.items.len() as u64;
        let mut progress = (0u64, 0u64);
        let report = apply(&client.client, plan, &options, |event| {
            callbacks.deliver(event, &mut progress, records)
        })?;
        write_string(report.to_json(), out)
    })
}
