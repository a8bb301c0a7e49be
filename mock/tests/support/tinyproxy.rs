//! Debian's tinyproxy, started per test on a free loopback port with a generated
//! configuration (in the foreground, its config, log and pid files in a directory of its
//! own, removed with it), optionally with Basic credentials and the ports it may CONNECT
//! to. When tinyproxy is not installed the test is skipped with a loud message, unless `CI`
//! is set: then it fails. Shared by the client's `tests/proxy*.rs` and the CLI's tests
//! (included there by path).
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Basic credentials of a proxy that asks for them (tinyproxy accepts letters,
/// digits and `-_.` only); the password holds a `-`, which the URL sends as `%2D`.
pub const PROXY_USER: &str = "proxyuser";
pub const PROXY_PASSWORD: &str = "pass-word_9";
/// [`PROXY_PASSWORD`] percent-encoded (every `-` as `%2D`), as a proxy URL may carry it.
pub const PROXY_PASSWORD_ENCODED: &str = "pass%2Dword_9";

/// How the proxy is configured.
#[derive(Default)]
pub struct Options {
    /// Ask for these Basic credentials.
    pub basic_auth: Option<(&'static str, &'static str)>,
    /// Ports CONNECT may reach (when empty, tinyproxy allows every port).
    pub connect_ports: Vec<u16>,
}

/// A running tinyproxy; killed and cleaned up when dropped.
pub struct Tinyproxy {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Tinyproxy {
    /// Starts tinyproxy, or returns `None` after saying loudly that the test is skipped
    /// (tinyproxy absent and `CI` unset); panics when it is absent under CI.
    pub fn start(options: Options) -> Option<Tinyproxy> {
        if Command::new("tinyproxy")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            assert!(
                std::env::var_os("CI").is_none(),
                "tinyproxy is not installed, and CI is set: install it (apt-get install tinyproxy)"
            );
            // Written to the stream itself, past the test harness's capture of eprintln!,
            // so that the skip shows in a passing run.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n*** SKIPPED: tinyproxy is not installed (apt-get install tinyproxy); this proxy test did not run ***\n",
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "ycm-tinyproxy-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).expect("tinyproxy directory");
        // The port is chosen free, then given to tinyproxy (it cannot report one it chose):
        // another process may take it in between, so a failed start is tried again.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut config = format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 10\nMaxClients 32\nAllow 127.0.0.1\n\
                 LogFile \"{log}\"\nPidFile \"{pid}\"\nLogLevel Info\nDisableViaHeader Yes\n",
                log = dir.join("tinyproxy.log").display(),
                pid = dir.join("tinyproxy.pid").display(),
            );
            for connect_port in &options.connect_ports {
                config.push_str(&format!("ConnectPort {connect_port}\n"));
            }
            if let Some((user, password)) = options.basic_auth {
                config.push_str(&format!("BasicAuth {user} {password}\n"));
            }
            let conf = dir.join("tinyproxy.conf");
            std::fs::write(&conf, config).expect("tinyproxy.conf");
            let mut child = Command::new("tinyproxy")
                .arg("-d")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("tinyproxy starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(Tinyproxy { child, dir, port });
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "tinyproxy did not start; its log:\n{}",
            std::fs::read_to_string(dir.join("tinyproxy.log")).unwrap_or_default()
        );
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`, the password as given (percent-encoded).
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, as error messages name the proxy.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What tinyproxy logged so far (requests and CONNECTs, at level Info).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
