//! `ycm` writes no core file, whatever kills it: a run killed with SIGQUIT (whose default
//! action dumps core) while it waits on a slow ycm-mock, started with the core size limit
//! raised as high as allowed, reports no core dumped and leaves no core file, while a plain
//! `sleep` started the same way in the same directory does dump (when the machine dumps at
//! all: a `core_pattern` sending dumps elsewhere, or none, makes only that half moot). The
//! limit the running process has is read from `/proc/PID/limits`.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use ycm_mock::Faults;

mod support;
use support::*;

/// Starts `command` in `dir` with its core size limit raised to the hard limit.
fn spawn_dumpable(command: &mut Command, dir: &Path) -> Child {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_CORE, &mut limit);
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
            Ok(())
        });
    }
    command
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The soft and hard core size limits of a running process, from `/proc/PID/limits`.
fn core_limit(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?;
    let mut values = line["Max core file size".len()..].split_whitespace();
    Some((values.next()?.to_string(), values.next()?.to_string()))
}

/// Kills `child` with SIGQUIT; whether the kernel reports a core dumped.
fn quit(mut child: Child) -> bool {
    // SAFETY: the child's pid, a plain signal.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGQUIT) },
        0
    );
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGQUIT), "{status}");
    status.core_dumped()
}

fn core_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("core"))
        .collect()
}

#[test]
fn a_killed_ycm_dumps_no_core() {
    let s = Setup::new();
    s.mock.set_faults(Faults {
        latency_ms: Some(30_000),
        ..Faults::default()
    });
    let control_dir = s.path("control");
    let ycm_dir = s.path("ycm");
    std::fs::create_dir_all(&control_dir).unwrap();
    std::fs::create_dir_all(&ycm_dir).unwrap();

    let sleeper = spawn_dumpable(Command::new("sleep").arg("30"), &control_dir);
    std::thread::sleep(Duration::from_millis(200));
    let machine_dumps = quit(sleeper);

    let child = spawn_dumpable(s.ycm().args(["users", "get", "13329"]), &ycm_dir);
    // Until `main` has run: the limit it sets is the last of its two calls.
    let started = Instant::now();
    loop {
        let limit = core_limit(child.id());
        if limit == Some(("0".into(), "0".into())) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the core size limit of ycm stays {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!quit(child), "ycm dumped core");
    assert_eq!(core_files(&ycm_dir), [] as [String; 0]);
    if !machine_dumps {
        eprintln!("note: this machine dumps no core even for `sleep`: only the limit is checked");
    }
}
