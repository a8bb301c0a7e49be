//! The process scope: a client's entry in memory, behind a mutex (what a client had before
//! shared state existed, and where a failing host store falls back to).

use super::{Change, Entry, Key, Transact};
use std::io;
use std::sync::Mutex;

/// One client's entry in memory.
pub(crate) struct ProcessStore {
    entry: Mutex<Entry>,
}

impl ProcessStore {
    pub fn new(key: &Key) -> ProcessStore {
        ProcessStore {
            entry: Mutex::new(Entry {
                base_url: key.base_url.clone(),
                client_id: key.client_id.clone(),
                ..Entry::default()
            }),
        }
    }
}

impl Transact for ProcessStore {
    fn transact<R>(&self, step: impl FnOnce(&mut Entry) -> (R, Change)) -> io::Result<R> {
        let mut entry = self.entry.lock().unwrap_or_else(|p| p.into_inner());
        Ok(step(&mut entry).0)
    }

    fn describe(&self) -> String {
        "process".into()
    }
}
