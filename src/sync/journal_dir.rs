//! A directory of journals for runs on a schedule (`--journal-dir`): one journal per input
//! content, named after the input's SHA-256 ([`journal_in`]), so the rerun of a file that
//! was stopped resumes from its journal while tomorrow's file, with other content, starts
//! its own; and a pruning of the journals not touched for [`JOURNAL_KEEP`]
//! ([`prune_journals`]), never of one that a run holds locked.

use crate::error::{Error, Result};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const PREFIX: &str = "ycm-sync-";
const SUFFIX: &str = ".journal";

/// How long a journal in a journal directory is kept after its last change: 30 days.
///
/// ```
/// assert_eq!(ycm::sync::JOURNAL_KEEP.as_secs(), 30 * 86_400);
/// ```
pub const JOURNAL_KEEP: Duration = Duration::from_secs(30 * 86_400);

/// The journal in `dir` of the input whose SHA-256 (hex) is `input_hash`.
///
/// ```
/// let path = ycm::sync::journal_in("/var/lib/ycm".as_ref(), "2c6772a2a83878f440b77909150928a2");
/// assert_eq!(path, std::path::Path::new("/var/lib/ycm/ycm-sync-2c6772a2a83878f440b77909.journal"));
/// ```
pub fn journal_in(dir: &Path, input_hash: &str) -> PathBuf {
    let short: String = input_hash.chars().take(24).collect();
    dir.join(format!("{PREFIX}{short}{SUFFIX}"))
}

/// Removes the journals of `dir` last changed more than `keep` ago, except those a run holds
/// locked; returns the paths removed. Other files are left alone.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("ycm-doc-prune-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(ycm::sync::journal_in(&dir, "aa"), "")?;
/// assert_eq!(ycm::sync::prune_journals(&dir, std::time::Duration::ZERO)?.len(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prune_journals(dir: &Path, keep: Duration) -> Result<Vec<PathBuf>> {
    let unreadable = |e: std::io::Error| {
        Error::invalid_argument(format!(
            "journal directory \"{}\" cannot be read: {e}",
            dir.display()
        ))
    };
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.starts_with(PREFIX) && name.ends_with(SUFFIX)) {
            continue;
        }
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let age = metadata
            .modified()
            .ok()
            .and_then(|changed| now.duration_since(changed).ok());
        if !metadata.is_file() || age.is_none_or(|age| age < keep) {
            continue;
        }
        // Only a journal no run holds: the lock is taken, then the file removed.
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        // SAFETY: a valid descriptor; flock has no memory preconditions.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0
            && std::fs::remove_file(&path).is_ok()
        {
            removed.push(path);
        }
    }
    Ok(removed)
}
