//! Fork detection: a process-wide generation number that a `pthread_atfork` child handler
//! bumps, so that a connection opened before `fork()` is recognised in the child and closed
//! there (never shut down, which would break the parent's copy) instead of being shared by
//! two processes, whose responses would then cross. Reading the generation costs an atomic
//! load, no system call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();

extern "C" fn in_child_after_fork() {
    // Async-signal-safe: one atomic add.
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Installs the fork handler (once per process; later calls do nothing).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // SAFETY: the handler only performs an atomic add; registering it has no other
        // precondition. A failure (ENOMEM) leaves fork detection off, which we report by
        // bumping nothing: connections then behave as before.
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child_after_fork));
        }
    });
}

/// The current generation: it changes in a child process after each `fork()`.
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
