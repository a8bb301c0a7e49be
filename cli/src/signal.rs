//! Graceful stops on Ctrl-C (SIGINT), SIGTERM (systemd, `timeout`, a cron wrapper) and SIGHUP
//! (a closed ssh session), for the commands that run long (`sync plan`, `sync apply`,
//! `users export`, `users list --all`). The handler does nothing but note the first signal
//! in an atomic and write its number to a self-pipe; it is installed without `SA_RESTART`,
//! so the wait it lands in ends with `EINTR`, which a [`ycm::Cancel::on_signal`] flag listens
//! for. A watcher thread reads the pipe, triggers the flag (in case the kernel delivered the
//! signal to a worker thread), and puts the default actions back, so that a second signal
//! ends the process at once (one that came before that is raised again). The command then
//! stops scheduling, lets the calls in flight end (a bulk run's threads [`shield`] themselves
//! so that only the watcher takes the signal; `sync apply --stop-grace` bounds the wait),
//! writes what it writes, and exits 128 + the signal's number: 130, 143
//! or 129 ([`exit_code`]). `SIGXFSZ` is ignored from the start ([`ignore_file_size_signal`]),
//! so a write past `ulimit -f` fails with `EFBIG`, which names the file, instead of killing
//! the process without a word.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signals that stop a command gracefully.
const GRACEFUL: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The first graceful signal received (0: none).
static FIRST: AtomicI32 = AtomicI32::new(0);
/// The self-pipe's write end (-1 until installed).
static PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn note(signal: libc::c_int) {
    // SAFETY: only async-signal-safe calls (errno access, write); errno is restored so the
    // interrupted code sees its own.
    unsafe {
        let errno = *libc::__errno_location();
        let _ = FIRST.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        let fd = PIPE.load(Ordering::SeqCst);
        if fd >= 0 {
            let byte = signal as u8;
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
        *libc::__errno_location() = errno;
    }
}

/// The first graceful signal received since [`install`], if any.
pub fn received() -> Option<libc::c_int> {
    match FIRST.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Whether a graceful signal was received since [`install`].
pub fn interrupted() -> bool {
    received().is_some()
}

/// The exit code of a command stopped by the signal received: 128 + its number (130 when
/// none was, for a stop by other means).
pub fn exit_code() -> u8 {
    128 + received().unwrap_or(libc::SIGINT) as u8
}

/// The signal received, as named in messages: `SIGTERM`, `SIGHUP`, or `Ctrl-C`.
pub fn name() -> &'static str {
    match received() {
        Some(libc::SIGTERM) => "SIGTERM",
        Some(libc::SIGHUP) => "SIGHUP",
        _ => "Ctrl-C",
    }
}

/// What stopped the command, as a summary says it: `stopped by SIGTERM`, `stopped by
/// SIGHUP`, or `interrupted` (Ctrl-C).
pub fn stop_text() -> &'static str {
    match received() {
        Some(libc::SIGTERM) => "stopped by SIGTERM",
        Some(libc::SIGHUP) => "stopped by SIGHUP",
        _ => "interrupted",
    }
}

/// Blocks the graceful signals in the calling thread and in the threads it starts from now
/// on (a bulk run's workers), so that they reach only the watcher: a worker's request in
/// flight is never cut short by `EINTR`, and ends as it would have.
pub fn shield() {
    // SAFETY: a fully initialised signal set; pthread_sigmask only changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in GRACEFUL {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Ignores `SIGXFSZ`, so that exceeding the file size limit is an error that names the
/// file (`EFBIG`) rather than a silent kill.
pub fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN has no memory preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn set_action(signal: libc::c_int, handler: libc::sighandler_t) {
    // SAFETY: the struct is fully initialised; no SA_RESTART so that waits end with EINTR.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = 0;
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// Installs the handlers (once per process) and returns the flag to pass to the library.
pub fn install() -> ycm::Cancel {
    let cancel = ycm::Cancel::on_signal();
    let mut fds = [-1; 2];
    // SAFETY: a two-element array for pipe2's out-param.
    if PIPE.load(Ordering::SeqCst) >= 0
        || unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0
    {
        return cancel;
    }
    let (read_end, write_end) = (fds[0], fds[1]);
    // The handler never blocks: a full pipe only loses bytes nobody needs.
    // SAFETY: a valid descriptor we own.
    unsafe { libc::fcntl(write_end, libc::F_SETFL, libc::O_NONBLOCK) };
    PIPE.store(write_end, Ordering::SeqCst);
    let watched = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name("ycm-signals".into())
        .spawn(move || watch(read_end, watched));
    if spawned.is_ok() {
        for signal in GRACEFUL {
            set_action(
                signal,
                note as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
    cancel
}

/// The watcher: on the first signal, triggers the flag and restores the default actions;
/// a signal noted meanwhile is raised again, now with its default action. It then stays
/// (parked) as the thread a later signal is delivered to when the others
/// [`shield`] themselves.
fn watch(read_end: libc::c_int, cancel: ycm::Cancel) {
    let mut byte = 0u8;
    loop {
        // SAFETY: a valid descriptor and a one-byte buffer.
        let n = unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            break;
        }
        if n == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
    cancel.cancel();
    for signal in GRACEFUL {
        set_action(signal, libc::SIG_DFL);
    }
    // SAFETY: as above; non-blocking now, to see whether a second signal came in between.
    unsafe { libc::fcntl(read_end, libc::F_SETFL, libc::O_NONBLOCK) };
    // SAFETY: as above.
    if unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) } == 1 {
        // SAFETY: raising a signal whose action is the default one.
        unsafe { libc::raise(libc::c_int::from(byte)) };
    }
    loop {
        std::thread::park();
    }
}
