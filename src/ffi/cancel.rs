//! The cancel handle: `ycm_cancel_new` (or `ycm_cancel_new_on_signal`),
//! `ycm_cancel_trigger` (from any thread) and `ycm_cancel_free`, passed to the
//! `_with_cancel` calls.

use super::args::out_param;
use super::status::{guard, guard_void, ycm_status};
use crate::cancel::Cancel;
use crate::error::CallInfo;

/// A cancellation flag for calls (`ycm_update_user_with_cancel` and the other
/// `_with_cancel` functions). Opaque.
///
/// Thread-safety: trigger it from any thread, while calls using it run on others. One flag
/// may serve several calls at once; once triggered it stays triggered (make a new one for
/// the next call). Free it with `ycm_cancel_free` after the calls using it have returned.
pub struct ycm_cancel {
    cancel: Cancel,
}

/// The flag behind a handle, shared with it; NULL is none.
///
/// # Safety
/// `cancel` is NULL or a live handle from `ycm_cancel_new`.
pub(crate) unsafe fn cancel_of(cancel: *const ycm_cancel) -> Option<Cancel> {
    cancel.as_ref().map(|handle| handle.cancel.clone())
}

/// Creates a cancellation flag, not triggered. On success `*out_cancel` receives a handle
/// to free with `ycm_cancel_free`.
#[no_mangle]
pub unsafe extern "C" fn ycm_cancel_new(out_cancel: *mut *mut ycm_cancel) -> ycm_status {
    guard(|| {
        let out_cancel = out_param(out_cancel, "out_cancel")?;
        let raw = Box::into_raw(Box::new(ycm_cancel {
            cancel: Cancel::new(),
        }));
        // SAFETY: checked non-NULL above.
        *out_cancel = raw;
        Ok(CallInfo::default())
    })
}

/// Creates a cancellation flag that also stops a call when a signal handler runs on the
/// calling thread while the call waits (its system call fails with EINTR): the call returns
/// `YCM_ERR_CANCELLED` ("interrupted by a signal") at once, and the flag is not left
/// triggered, so one flag per thread serves every call. Made for interpreters whose signal
/// handlers only note the signal and act once the thread is back in the interpreter
/// (Python's Ctrl-C). ycm installs no handler; one installed with SA_RESTART may not
/// interrupt every wait. `ycm_cancel_trigger` works on it as on any flag. On success
/// `*out_cancel` receives a handle to free with `ycm_cancel_free`.
#[no_mangle]
pub unsafe extern "C" fn ycm_cancel_new_on_signal(out_cancel: *mut *mut ycm_cancel) -> ycm_status {
    guard(|| {
        let out_cancel = out_param(out_cancel, "out_cancel")?;
        let raw = Box::into_raw(Box::new(ycm_cancel {
            cancel: Cancel::on_signal(),
        }));
        // SAFETY: checked non-NULL above.
        *out_cancel = raw;
        Ok(CallInfo::default())
    })
}

/// Triggers the flag: every call using it returns `YCM_ERR_CANCELLED` within
/// milliseconds (a blocked read or connect is woken, a retry wait ends), sends nothing
/// further, and its connection is closed rather than reused. Thread-safe; idempotent; NULL
/// is ignored. Not async-signal-safe (it takes a lock): from a signal handler, set a flag
/// that another thread turns into this call.
#[no_mangle]
pub unsafe extern "C" fn ycm_cancel_trigger(cancel: *const ycm_cancel) {
    if let Some(handle) = cancel.as_ref() {
        guard_void(|| handle.cancel.cancel());
    }
}

/// Whether the flag was triggered. Thread-safe; NULL gives false.
#[no_mangle]
pub unsafe extern "C" fn ycm_cancel_is_triggered(cancel: *const ycm_cancel) -> bool {
    cancel
        .as_ref()
        .is_some_and(|handle| handle.cancel.is_cancelled())
}

/// Frees a flag. NULL is accepted and ignored. Call it after the calls using the flag
/// have returned.
#[no_mangle]
pub unsafe extern "C" fn ycm_cancel_free(cancel: *mut ycm_cancel) {
    if !cancel.is_null() {
        guard_void(|| drop(Box::from_raw(cancel)));
    }
}
