//! A `ycm-mock` process for the benchmark examples: started on a free loopback port with
//! the given options, its admin stats read over HTTP, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Mock {
    child: Child,
    pub url: String,
}

impl Mock {
    /// Starts `bin --addr 127.0.0.1:0 --quiet ARGS...` and waits for its URL.
    pub fn start(bin: &str, args: &[&str]) -> Mock {
        let mut child = Command::new(bin)
            .args(["--addr", "127.0.0.1:0", "--quiet"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ycm-mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("ycm-mock prints its URL");
        let url = line.trim().rsplit(' ').next().expect("a URL").to_string();
        Mock { child, url }
    }

    /// One counter of `/__mock/stats` (0 when absent).
    pub fn stat(&self, name: &str) -> u64 {
        let text = ureq::get(format!("{}/__mock/stats", self.url))
            .call()
            .expect("stats")
            .body_mut()
            .read_to_string()
            .expect("stats body");
        let stats: serde_json::Value = serde_json::from_str(&text).expect("stats JSON");
        stats[name].as_u64().unwrap_or(0)
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
