//! No core dumps of the `ycm` process: it holds the access token, the client secret and the
//! refresh token in memory, and a crash (or a `SIGQUIT`, `kill -ABRT`, a `gcore` by another
//! process of the same user) would write them to a core file that any backup, bug report or
//! `/var/lib/systemd/coredump` reader gets. [`forbid`] runs first thing in `main`: it marks
//! the process not dumpable (`prctl(PR_SET_DUMPABLE, 0)`, Linux), which also stops other
//! processes of the same user from attaching a debugger (`gdb -p`, `strace -p`) or reading
//! `/proc/PID/environ` (where `YCM_CLIENT_SECRET` may be) and `/proc/PID/mem`, and it sets
//! the core size limit to 0 (`setrlimit(RLIMIT_CORE, 0)`, every Unix: the same on systems
//! without the `prctl`). What it does not break: the process still reads its own `/proc/self`
//! (the kernel always lets a process see itself), a tracer that started the process
//! (`strace ycm ...`, which the benches use) stays attached, root keeps its access, the
//! parent still sees the exit status and resource usage (`wait4`, `/usr/bin/time`), and a
//! program that `ycm` would start is dumpable again (`execve` resets the flag). Neither call
//! can fail for a process lowering its own limits; if one did, `ycm` would run on as before.

/// Marks the process not dumpable and sets its core size limit to 0.
pub fn forbid() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes an integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `none` is a valid rlimit that outlives the call.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
    }
}
