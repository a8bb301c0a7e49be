//! What the `ycm` binary's tests share: a ycm-mock started in the test process on port 0
//! with a temporary directory ([`Setup`]), `ycm` commands with a clean environment, runs
//! parsed back (JSON, JSONL, CSV) and record files for the sync commands.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use ycm_mock::{MockConfig, MockServer};

pub const TOKEN: &str = "ycm-mock-token";
pub const CLIENT_ID: &str = "ycm-mock-client";
pub const CLIENT_SECRET: &str = "ycm-mock-secret";

pub struct Setup {
    pub mock: MockServer,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub fn new() -> Setup {
        Setup::with(MockConfig::default())
    }

    /// A mock started with `config`.
    pub fn with(config: MockConfig) -> Setup {
        Setup {
            mock: MockServer::start("127.0.0.1:0", config).expect("mock starts"),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `ycm` with a clean environment: the mock's URL and token from the environment, an
    /// empty settings directory, stdin not a terminal.
    pub fn ycm(&self) -> Command {
        let mut command = self.bare();
        command
            .env("YCM_BASE_URL", self.mock.url())
            .env("YCM_ACCESS_TOKEN", TOKEN);
        command
    }

    /// `bash -c SCRIPT` with the environment of [`Setup::ycm`] (the script runs `ycm`).
    pub fn shell(&self, script: &str) -> Command {
        let mut command = Command::new("bash");
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("YCM_BASE_URL", self.mock.url())
            .env("YCM_ACCESS_TOKEN", TOKEN)
            .args(["-c", script])
            .stdin(Stdio::null());
        command
    }

    /// `ycm` with no settings at all but HOME and XDG_CONFIG_HOME.
    pub fn bare(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ycm"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .stdin(Stdio::null());
        command
    }

    pub fn write_profile(&self, toml: &str, mode: u32) -> PathBuf {
        let dir = self.path("config").join("ycm");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, toml).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// PUTs the mock received, per user id.
    pub fn puts(&self) -> HashMap<i64, usize> {
        let mut counts = HashMap::new();
        for request in self.mock.log() {
            if request.method == "PUT" {
                if let Some(id) = request.path.rsplit('/').next().and_then(|s| s.parse().ok()) {
                    *counts.entry(id).or_insert(0) += 1;
                }
            }
        }
        counts
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(command: &mut Command) -> Run {
    let output = command.output().expect("ycm runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

pub fn ok(command: &mut Command) -> Run {
    let result = run(command);
    assert_eq!(
        result.code, 0,
        "stdout: {}\nstderr: {}",
        result.stdout, result.stderr
    );
    result
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The error message of a failed run: its JSON error's `message` (stderr is JSON when the
/// output is), else stderr as it is.
pub fn message(stderr: &str) -> String {
    serde_json::from_str::<Value>(stderr.trim())
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| stderr.to_string())
}

pub fn jsonl(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

/// Records for users 20001.. (n of them), each changing its company; plus an unknown user
/// when `with_problem`.
pub fn records(s: &Setup, n: i64, with_problem: bool) -> PathBuf {
    let mut text = String::from("userId,company\n");
    for id in 20001..20001 + n {
        text.push_str(&format!("{id},Synced {id}\n"));
    }
    if with_problem {
        text.push_str("99999,Nobody\n");
    }
    let path = s.path(&format!("records-{n}-{with_problem}.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Sends `signal` to a running `ycm`.
pub fn send_signal(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: the child's pid, a plain signal.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Asserts that users `first..first + n` got one PUT each, no more, and hold "Synced {id}".
pub fn assert_each_synced_once(s: &Setup, first: i64, n: i64) {
    let puts = s.puts();
    assert_eq!(puts.len(), n as usize, "every record was sent");
    assert!(
        puts.values().all(|&c| c == 1),
        "no record got two PUTs: {puts:?}"
    );
    for id in first..first + n {
        assert_eq!(s.mock.user(id).unwrap()["company"], format!("Synced {id}"));
    }
}
