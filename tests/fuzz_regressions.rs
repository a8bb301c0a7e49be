//! Replays the fuzzing seed corpus (`fuzz/corpus/<target>/`) and every saved crash
//! (`fuzz/regressions/<target>/`) through the same `ycm::fuzzing` entry points the fuzz
//! targets call, so `cargo test` (stable, no libFuzzer) keeps every input the fuzzer ever
//! broke ycm with fixed. Each file runs on its own; the test lists every file that fails.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

/// The fuzz targets, by directory name.
const TARGETS: [&str; 7] = [
    "update_body",
    "response",
    "config",
    "token_grant",
    "records",
    "journal",
    "plan",
];

/// Feeds one input to the entry point of `target`, exactly as `fuzz/fuzz_targets/` does.
fn replay(target: &str, data: &[u8]) {
    match target {
        "update_body" => {
            if let Ok(text) = std::str::from_utf8(data) {
                ycm::fuzzing::update_body(text);
            }
        }
        "response" => {
            let (status, body) = ycm::fuzzing::split_status(data);
            ycm::fuzzing::response(status, body);
        }
        "config" => {
            if let Ok(text) = std::str::from_utf8(data) {
                ycm::fuzzing::config(text);
            }
        }
        "token_grant" => ycm::fuzzing::token_grant(data),
        "records" => ycm::fuzzing::records(data),
        "journal" => ycm::fuzzing::journal(data),
        "plan" => ycm::fuzzing::plan(data),
        other => panic!("no fuzz target named {other:?}"),
    }
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Replays every file of `fuzz/<kind>/<target>/` and returns the ones that panicked.
fn replay_all(kind: &str, target: &str) -> (usize, Vec<String>) {
    let inputs = files(&fuzz_dir().join(kind).join(target));
    let mut failed = Vec::new();
    for path in &inputs {
        let data = fs::read(path).expect("readable input");
        if panic::catch_unwind(|| replay(target, &data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    (inputs.len(), failed)
}

#[test]
fn seed_corpus_passes_every_invariant() {
    let mut failed = Vec::new();
    for target in TARGETS {
        let (count, broken) = replay_all("corpus", target);
        assert!(
            count >= 5,
            "fuzz/corpus/{target}/ holds {count} seeds; the corpus is missing"
        );
        failed.extend(broken);
    }
    assert!(failed.is_empty(), "seeds that break ycm: {failed:#?}");
}

#[test]
fn saved_crashes_stay_fixed() {
    // Every directory under fuzz/regressions/ must name a target, so none is skipped.
    if let Ok(entries) = fs::read_dir(fuzz_dir().join("regressions")) {
        for entry in entries {
            let path = entry.expect("readable directory entry").path();
            if path.is_dir() {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                assert!(
                    TARGETS.contains(&name.as_ref()),
                    "fuzz/regressions/{name}/ is not a fuzz target ({TARGETS:?})"
                );
            }
        }
    }
    let mut failed = Vec::new();
    for target in TARGETS {
        failed.extend(replay_all("regressions", target).1);
    }
    assert!(
        failed.is_empty(),
        "saved crashes that still break ycm: {failed:#?}"
    );
}
