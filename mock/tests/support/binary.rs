//! The `ycm-mock` binary for the mock's tests (`bulk.rs`, `server.rs`): started quiet on a
//! free loopback port, its stderr discarded.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// Starts the binary with `args`; returns it and its address.
pub fn spawn_binary(args: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ycm-mock"))
        .args(["--addr", "127.0.0.1:0", "--quiet"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ycm-mock");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let port: u16 = first
        .trim_end()
        .strip_prefix("ycm-mock listening on http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    (child, ([127, 0, 0, 1], port).into())
}
