//! The host scope: one JSON state file per client ID under `state_dir` (default
//! `$XDG_RUNTIME_DIR/ycm`, else `$XDG_CACHE_HOME/ycm`, else `~/.cache/ycm`), in a directory
//! of mode 0700 with files of mode 0600. Each step opens the file, takes `flock` on the file
//! itself (a killed holder releases it with its descriptors), checks that the path still
//! names the file it locked (a replacement may have come in between; then it starts over),
//! reads the entry, and, when the step changed it, writes a temporary file (synced when
//! the change must survive a crash: a token, a latch) and renames it over the old one. A
//! file that is empty, torn or not JSON is a miss: the step starts from an empty entry and
//! rewrites it. Nothing is kept open between steps, so a `fork()`ed child inherits no lock.

use super::{Change, Entry, Key, Transact};
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// The state file of one client ID on this host.
pub(crate) struct HostStore {
    path: PathBuf,
    key: Key,
}

impl HostStore {
    /// Opens (creating when missing) `state_dir`, or the default directory, and checks that
    /// it is private.
    pub fn open(state_dir: Option<&PathBuf>, key: &Key) -> Result<HostStore> {
        let dir = match state_dir {
            Some(dir) => dir.clone(),
            None => default_dir()?,
        };
        prepare_dir(&dir)?;
        Ok(HostStore {
            path: dir.join(format!("{}.json", key.digest)),
            key: key.clone(),
        })
    }

    /// Opens the file and locks it, once the path names the locked file.
    fn lock(&self) -> io::Result<File> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false) // the entry is read first; replaced by rename
                .mode(0o600)
                .open(&self.path)?;
            flock(&file)?;
            let locked = file.metadata()?;
            match fs::metadata(&self.path) {
                Ok(now) if now.ino() == locked.ino() && now.dev() == locked.dev() => {
                    return Ok(file)
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Replaces the file with `entry`: a temporary file, synced when `durable`, renamed.
    fn replace(&self, entry: &Entry, durable: bool) -> io::Result<()> {
        let text = serde_json::to_vec(entry).map_err(io::Error::other)?;
        let temp = self.path.with_extension(format!(
            "tmp.{}.{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(&text)?;
            if durable {
                file.sync_all()?;
            }
            fs::rename(&temp, &self.path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }
}

impl Transact for HostStore {
    fn transact<R>(&self, step: impl FnOnce(&mut Entry) -> (R, Change)) -> io::Result<R> {
        let mut file = self.lock()?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        let (mut entry, miss) = match serde_json::from_slice::<Entry>(&text) {
            Ok(entry) if entry.base_url == self.key.base_url => (entry, false),
            _ => (Entry::default(), true),
        };
        if miss {
            entry.base_url = self.key.base_url.clone();
            entry.client_id = self.key.client_id.clone();
        }
        let (value, change) = step(&mut entry);
        let change = if miss && !text.is_empty() {
            change.max(Change::Volatile)
        } else {
            change
        };
        if change != Change::None {
            self.replace(&entry, change == Change::Durable)?;
        }
        drop(file); // unlocks
        Ok(value)
    }

    fn describe(&self) -> String {
        format!("host ({})", self.path.display())
    }
}

fn flock(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: a valid descriptor owned by `file`.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// `$XDG_RUNTIME_DIR/ycm`, else `$XDG_CACHE_HOME/ycm`, else `~/.cache/ycm`.
fn default_dir() -> Result<PathBuf> {
    let from = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(runtime) = from("XDG_RUNTIME_DIR") {
        return Ok(runtime.join("ycm"));
    }
    if let Some(cache) = from("XDG_CACHE_HOME") {
        return Ok(cache.join("ycm"));
    }
    match from("HOME") {
        Some(home) => Ok(home.join(".cache").join("ycm")),
        None => Err(Error::invalid_argument(
            "config key \"state_dir\" is needed for shared_state \"host\": neither XDG_RUNTIME_DIR, XDG_CACHE_HOME nor HOME is set",
        )),
    }
}

/// Creates `dir` (mode 0700) when missing, and refuses one that another user owns or that
/// others may write to or read.
fn prepare_dir(dir: &Path) -> Result<()> {
    let shown = dir.display();
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                Error::invalid_argument(format!(
                    "config key \"state_dir\": {shown} cannot be created ({e}); make it, or choose another with state_dir"
                ))
            })?;
        // DirBuilder's mode is filtered by the umask; make it exactly 0700.
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    }
    let meta = fs::metadata(dir).map_err(|e| {
        Error::invalid_argument(format!(
            "config key \"state_dir\": {shown} cannot be read ({e})"
        ))
    })?;
    if !meta.is_dir() {
        return Err(Error::invalid_argument(format!(
            "config key \"state_dir\": {shown} is not a directory"
        )));
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(Error::invalid_argument(format!(
            "config key \"state_dir\": {shown} belongs to uid {}, not to this user (uid {me}); it holds access tokens, so ycm uses only a directory of its own: choose another state_dir",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::invalid_argument(format!(
            "config key \"state_dir\": {shown} has mode {mode:04o}, open to other users; it holds access tokens: run `chmod 700 {shown}`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Auth;
    use crate::gate::{Decision, Priority};
    use crate::secret::Secret;
    use crate::shared_state::Store;

    fn key() -> Key {
        Key::new(
            "http://127.0.0.1:1",
            &Auth::ClientCredentials {
                client_id: "id".into(),
                client_secret: Secret::new("secret"),
            },
        )
    }

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ycm-host-{}", fastrand::u64(..)));
        fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        dir
    }

    #[test]
    fn a_garbled_or_truncated_file_is_a_miss_that_gets_rewritten() {
        let dir = temp_dir();
        let store = HostStore::open(Some(&dir), &key()).unwrap();
        let cap = Some("2/1/1".parse().unwrap());
        for junk in [&b"{\"gate\": {\"tat\": 1"[..], b"\x00\xff garbage", b""] {
            fs::write(&store.path, junk).unwrap();
            assert_eq!(
                store.take(cap, Priority::Call, 1_000_000.0, 0).unwrap().0,
                Decision::Admitted
            );
            let text = fs::read(&store.path).unwrap();
            assert!(serde_json::from_slice::<Entry>(&text).is_ok());
        }
        let mode = fs::metadata(&store.path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_directory_open_to_others_is_refused_with_the_fix() {
        let dir = temp_dir();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o775)).unwrap();
        let err = HostStore::open(Some(&dir), &key()).err().unwrap();
        assert!(err.message().contains("chmod 700"), "{err}");
        assert!(err.message().contains("state_dir"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_made_private() {
        let dir = temp_dir().join("a/b");
        HostStore::open(Some(&dir), &key()).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn two_stores_on_one_file_share_the_bucket() {
        let dir = temp_dir();
        let (a, b) = (
            HostStore::open(Some(&dir), &key()).unwrap(),
            HostStore::open(Some(&dir), &key()).unwrap(),
        );
        let cap = Some("3/1/60".parse().unwrap());
        let now = 1_000_000.0;
        let admitted = (0..6)
            .filter(|i| {
                let store = if i % 2 == 0 { &a } else { &b };
                store.take(cap, Priority::Call, now, 0).unwrap().0 == Decision::Admitted
            })
            .count();
        assert_eq!(admitted, 3);
        fs::remove_dir_all(dir).unwrap();
    }
}
