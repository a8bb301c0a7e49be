//! The files a command will write, checked before its first request: a `--report` in a
//! directory that does not exist, a `--failed-out` without write permission or a `--journal`
//! that is a device or a FIFO fails at once (exit 2, naming the flag) instead of after every
//! update was sent. The check leaves no trace: a file it had to create to prove the
//! directory writable is removed again. Files are then written whole or not at all
//! ([`write_atomically`]).

use crate::fail::Failure;
use std::fs::OpenOptions;
use std::path::Path;

/// What a path must be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything writable but a directory (a report may go to `/dev/stdout` or a FIFO).
    Output,
    /// A regular file (or a path where one can be created): read back by a rerun, so a
    /// device or a FIFO, which would be read without end, is refused.
    Regular,
}

/// Refuses `path` (given as `flag`) unless it can be written as `kind` says.
pub fn check_writable(path: &Path, flag: &str, kind: Kind) -> Result<(), Failure> {
    let refuse = |why: String| {
        Failure::usage(format!(
            "{flag} \"{}\" cannot be written: {why}; nothing was sent",
            path.display()
        ))
    };
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => Err(refuse("it is a directory".into())),
        Ok(metadata) if kind == Kind::Regular && !metadata.is_file() => {
            use std::os::unix::fs::FileTypeExt;
            let what = if metadata.file_type().is_fifo() {
                "a FIFO"
            } else {
                "a device"
            };
            Err(refuse(format!(
                "it is not a regular file ({what}, which a rerun would read without end)"
            )))
        }
        // Opened for appending: nothing in it changes.
        Ok(_) => OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| refuse(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map(|_| {
                let _ = std::fs::remove_file(path);
            })
            .map_err(|e| refuse(e.to_string())),
        Err(e) => Err(refuse(e.to_string())),
    }
}

/// Replaces `path` (given as `flag`) with `bytes`: a temporary file beside it, written,
/// synced, then renamed over it, so a reader sees the old content or the new, never half.
pub fn write_atomically(path: &Path, flag: &str, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        Failure::error(format!(
            "{flag} \"{}\" cannot be written: {e}",
            path.display()
        ))
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}

/// Writes an output: atomically ([`write_atomically`]) unless it is a device or a FIFO
/// (`/dev/stdout`), which is written as it is.
pub fn write_output(path: &Path, flag: &str, bytes: &[u8]) -> Result<(), Failure> {
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => std::fs::write(path, bytes).map_err(|e| {
            Failure::error(format!(
                "{flag} \"{}\" cannot be written: {e}",
                path.display()
            ))
        }),
        _ => write_atomically(path, flag, bytes),
    }
}
