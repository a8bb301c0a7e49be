//! The files around `ycm sync`: every output is checked writable before the first request
//! (exit 2, naming the flag, nothing sent); a journal or input that is a device or a FIFO
//! is refused instead of read without end; a journal append that fails (here: past `ulimit
//! -f`, which would otherwise kill the run with SIGXFSZ) is cut back to its last whole line,
//! stops the run with a message naming the file, and a rerun finishes the rest; a torn
//! header reads as an empty journal and a torn tail is dropped with a note.

use std::process::Command;
use ycm_mock::MockConfig;

mod support;
use support::*;

#[test]
fn an_output_that_cannot_be_written_fails_before_any_request() {
    let s = Setup::new();
    let file = records(&s, 3, false);
    let missing = s.path("missing-dir/r.csv");
    let dir = s.path("a-dir");
    std::fs::create_dir(&dir).unwrap();
    for (flag, path, says) in [
        ("--report", &missing, "No such file or directory"),
        ("--failed-out", &missing, "No such file or directory"),
        ("--journal", &missing, "No such file or directory"),
        ("--report", &dir, "it is a directory"),
        (
            "--journal",
            &"/dev/full".into(),
            "not a regular file (a device",
        ),
    ] {
        let out = run(s
            .ycm()
            .args(["sync", "apply", "--yes", flag])
            .arg(path)
            .arg(&file));
        assert_eq!(out.code, 2, "{flag} {}: {}", path.display(), out.stderr);
        let said = message(&out.stderr);
        assert!(
            said.contains(&format!("{flag} \"{}\" cannot be written", path.display()))
                && said.contains(says)
                && said.contains("nothing was sent"),
            "{said}"
        );
    }
    let out = run(s
        .ycm()
        .args(["sync", "plan", "--out"])
        .arg(&missing)
        .arg(&file));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--out"), "{}", out.stderr);
    assert_eq!(s.mock.stats().requests, 0, "not even a read was sent");
    assert!(s.puts().is_empty());
    assert!(!s.path("a-dir").join("r.csv").exists());
}

#[test]
fn a_fifo_or_device_is_refused_as_journal_input_or_plan() {
    let s = Setup::new();
    let fifo = s.path("pipe.csv");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = run(s.ycm().args(["sync", "plan"]).arg(&fifo));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("not a regular file (a FIFO)"),
        "{}",
        out.stderr
    );
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--plan", "/dev/zero"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    let said = message(&out.stderr);
    assert!(
        said.contains("--plan \"/dev/zero\" cannot be read") && said.contains("not a regular file"),
        "{said}"
    );
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--journal"])
        .arg(&fifo)
        .arg(records(&s, 2, false)));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--journal"), "{}", out.stderr);
    assert!(out.stderr.contains("a FIFO"), "{}", out.stderr);
    assert_eq!(s.mock.stats().requests, 0);
}

/// Every line of the journal is whole JSON.
fn assert_whole_lines(journal: &str) {
    let tail: String = journal
        .chars()
        .rev()
        .take(120)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(journal.ends_with('\n'), "ends in a whole line: ...{tail:?}");
    for (i, line) in journal.lines().enumerate() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "line {} is torn: {line:?}",
            i + 1
        );
    }
}

#[test]
fn a_journal_past_the_file_size_limit_is_cut_back_and_the_rerun_finishes() {
    let s = Setup::with(MockConfig {
        users: 400,
        ..MockConfig::default()
    });
    let file = records(&s, 300, false);
    let journal = s.path("journal.jsonl");
    // 16 KiB of journal: some 60 records, then an append crosses the limit in mid-line.
    let limited = format!(
        "ulimit -f 16 && exec {} sync apply --yes --concurrency 2 --output jsonl --journal {} {}",
        env!("CARGO_BIN_EXE_ycm"),
        journal.display(),
        file.display()
    );
    let out = run(&mut s.shell(&limited));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("journal \"{}\"", journal.display()))
            && out.stderr.contains("File too large"),
        "the error names the file: {}",
        out.stderr
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.len() <= 16 * 1024, "{}", text.len());
    assert_whole_lines(&text);
    let rows = jsonl(&out.stdout);
    assert_eq!(rows.len(), 300, "the report is whole");
    let sent_first: usize = s.puts().values().sum();
    assert!(sent_first > 0 && sent_first < 300, "{sent_first}");

    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--journal"])
        .arg(&journal)
        .arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let puts = s.puts();
    assert_eq!(puts.len(), 300, "every record was sent");
    assert!(puts.values().all(|&c| c == 1), "none twice: {puts:?}");
}

#[test]
fn a_torn_header_reads_as_empty_and_a_torn_tail_is_dropped_with_a_note() {
    let s = Setup::new();
    let file = records(&s, 3, false);
    let journal = s.path("journal.jsonl");
    std::fs::write(&journal, "{\"journal\":\"ycm-sync-jour").unwrap();
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--journal"])
        .arg(&journal)
        .arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("torn"), "a note: {}", out.stderr);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_whole_lines(&text);
    assert_eq!(text.matches("\"event\":\"done\"").count(), 3);

    let more = records(&s, 5, false);
    let journal = s.path("journal2.jsonl");
    ok(s.ycm()
        .args(["sync", "plan"])
        .arg(&more)
        .arg("--out")
        .arg(s.path("plan.json")));
    let mut text = String::new();
    // A journal of the same input, torn in its last line.
    let first = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--journal"])
        .arg(&journal)
        .arg(&more));
    assert_eq!(first.code, 0, "{}", first.stderr);
    text.push_str(&std::fs::read_to_string(&journal).unwrap());
    text.push_str("{\"event\":\"sent\",\"userId\":20");
    std::fs::write(&journal, &text).unwrap();
    let out = run(s
        .ycm()
        .args(["sync", "apply", "--yes", "--journal"])
        .arg(&journal)
        .arg(&more));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("torn") && out.stderr.contains("dropped"),
        "{}",
        out.stderr
    );
    assert_whole_lines(&std::fs::read_to_string(&journal).unwrap());
}
