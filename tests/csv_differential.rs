//! The records reader's CSV against an independent RFC 4180 reader, Python's `csv` module in
//! strict mode, on generated files: quotes, doubled quotes, commas and newlines inside
//! quotes, LF and CRLF line ends, non-ASCII text, and the broken files a lenient reader
//! misreads (unterminated quotes, text after a closing quote, stray quotes). Whatever
//! Python refuses, ycm refuses; whatever ycm accepts, Python reads into the same cells; ycm
//! refuses more only for its own stricter rules (a quote inside an unquoted field, a bare
//! carriage return, a row with more or fewer cells than the header), each named.

use std::process::Command;
use ycm::sync::{parse_records, Format};

const FILES: usize = 600;

/// One generated cell, as written in the file.
fn cell(rng: &mut fastrand::Rng) -> String {
    const PIECES: [&str; 10] = ["ACME", "a b", "é", "中文", ",", "\"", "\n", "\r\n", "x", ""];
    let text: String = (0..rng.usize(0..4))
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect();
    let needs_quotes = text.contains([',', '"', '\n', '\r']);
    match rng.u8(..20) {
        // Broken on purpose, now and then.
        0 => format!("\"{text}"),
        1 => format!("\"{}\"tail", text.replace('"', "\"\"")),
        2 => format!("x\"{text}"),
        _ if needs_quotes || rng.bool() => format!("\"{}\"", text.replace('"', "\"\"")),
        _ => text,
    }
}

fn file(rng: &mut fastrand::Rng) -> Vec<u8> {
    let end = if rng.bool() { "\r\n" } else { "\n" };
    let mut text = format!("userId,company,remark{end}");
    for row in 0..rng.usize(1..5) {
        text.push_str(&format!("{},{},{}{end}", 20001 + row, cell(rng), cell(rng)));
    }
    text.into_bytes()
}

/// What Python's strict csv reader makes of each file: its rows, or null when it refuses.
fn python_reads(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let script = r#"
import csv, io, json, sys
out = []
for i in range(int(sys.argv[2])):
    data = open(f"{sys.argv[1]}/{i}.csv", "rb").read()
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True))
        out.append([r for r in rows if r])
    except (csv.Error, UnicodeDecodeError):
        out.append(None)
print(json.dumps(out))
"#;
    let done = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .arg(FILES.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    serde_json::from_slice(&done.stdout).expect("python's JSON")
}

#[test]
fn the_records_reader_agrees_with_pythons_strict_csv_reader() {
    let mut rng = fastrand::Rng::with_seed(4180);
    let dir = std::env::temp_dir().join(format!("ycm-csv-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<Vec<u8>> = (0..FILES).map(|_| file(&mut rng)).collect();
    for (i, bytes) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.csv")), bytes).unwrap();
    }
    let python = python_reads(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let (mut both_read, mut both_refused, mut ycm_stricter) = (0, 0, 0);
    for (i, bytes) in files.iter().enumerate() {
        let shown = String::from_utf8_lossy(bytes);
        match (parse_records(bytes, Format::Csv), &python[i]) {
            (Ok(records), serde_json::Value::Array(rows)) => {
                assert_eq!(records.records.len() + 1, rows.len(), "{shown:?}");
                for (record, row) in records.records.iter().zip(&rows[1..]) {
                    for (column, name) in [(1, "company"), (2, "remark")] {
                        let ours = record.fields.get(name);
                        let theirs = row[column].as_str().unwrap();
                        match ours {
                            Some(value) => assert_eq!(value, theirs, "{shown:?}"),
                            None => assert_eq!(theirs, "", "{shown:?}"),
                        }
                    }
                }
                both_read += 1;
            }
            (Ok(_), _) => panic!("ycm read what Python refuses: {shown:?}"),
            (Err(_), serde_json::Value::Null) => both_refused += 1,
            (Err(e), _) => {
                let ours = [
                    "a quote inside an unquoted field",
                    "carriage return",
                    "cells where the header row has",
                ];
                assert!(
                    ours.iter().any(|rule| e.message().contains(rule)),
                    "ycm refused what Python reads, for no rule of its own: {e} in {shown:?}"
                );
                ycm_stricter += 1;
            }
        }
    }
    // The generator reaches every case.
    assert!(
        both_read > 100 && both_refused > 50 && ycm_stricter > 20,
        "read {both_read}, refused {both_refused}, ycm stricter {ycm_stricter}"
    );
}
