//! Ctrl-C during `sync plan` and `sync apply`: a SIGINT handler that only notes the signal
//! (installed without `SA_RESTART`, so the wait it lands in ends with `EINTR`, which is what
//! a [`ycm::Cancel::on_signal`] flag listens for) and puts the default action back, so a
//! second Ctrl-C ends the process at once. A watcher thread also triggers the flag once the
//! signal was noted, in case the kernel delivered it to a worker thread rather than to the
//! thread waiting in the library.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // SAFETY: sigaction is async-signal-safe; the struct is fully initialised.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut default.sa_mask);
        libc::sigaction(libc::SIGINT, &default, std::ptr::null_mut());
    }
}

/// Whether Ctrl-C was pressed since [`install`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Installs the handler and returns the flag to pass to the library.
pub fn install() -> ycm::Cancel {
    // SAFETY: the handler only stores to an atomic and calls sigaction; the struct is
    // fully initialised; no SA_RESTART so that waits end with EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = 0;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
    let cancel = ycm::Cancel::on_signal();
    let watched = cancel.clone();
    std::thread::Builder::new()
        .name("ycm-sigint".into())
        .spawn(move || loop {
            if interrupted() {
                watched.cancel();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        })
        .ok();
    cancel
}
