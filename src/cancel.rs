//! Cancellation of calls from another thread. A [`Cancel`] is a flag that any thread may
//! trigger; a call made with it checks the flag before each attempt and between attempts,
//! its waits (retry backoff, `Retry-After`, a connect in progress) wake at once, and the
//! socket it is reading or writing is shut down so that a blocked read returns immediately.
//! A shut-down connection is never put back in the pool. The call then fails with
//! [`crate::Code::Cancelled`].

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// A cancellation flag for one or more calls. Cheap to clone (clones share the flag);
/// `Send + Sync`: trigger it from any thread.
///
/// ```
/// let cancel = ycm::Cancel::new();
/// let for_other_thread = cancel.clone();
/// std::thread::spawn(move || for_other_thread.cancel()).join().unwrap();
/// assert!(cancel.is_cancelled());
/// ```
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// The sockets calls of this token are using right now, and the lock waits sleep on.
    in_use: Mutex<Vec<Weak<TcpStream>>>,
    wake: Condvar,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Cancel {
    /// A flag not yet triggered.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Triggers the flag: every call made with it stops as soon as it can (within
    /// milliseconds), sends nothing further and fails with [`crate::Code::Cancelled`].
    /// Idempotent; a triggered flag stays triggered.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let mut in_use = self.lock();
        for socket in in_use.drain(..).filter_map(|weak| weak.upgrade()) {
            // Wakes a read or write blocked on it; an error means it is closed already.
            let _ = socket.shutdown(Shutdown::Both);
        }
        // Notified under the lock, so a waiter cannot miss it between check and sleep.
        self.inner.wake.notify_all();
    }

    /// Whether [`Cancel::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Whether `other` is a clone of this flag.
    pub(crate) fn same_flag(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Registers a socket a call is about to use, so that a trigger shuts it down. Returns
    /// false (and shuts it down) when the flag is triggered already.
    pub(crate) fn watch(&self, socket: &Arc<TcpStream>) -> bool {
        let mut in_use = self.lock();
        if self.is_cancelled() {
            let _ = socket.shutdown(Shutdown::Both);
            return false;
        }
        in_use.retain(|weak| weak.strong_count() > 0);
        in_use.push(Arc::downgrade(socket));
        true
    }

    /// Forgets a socket registered by [`Cancel::watch`] (the call is done with it).
    pub(crate) fn unwatch(&self, socket: &Arc<TcpStream>) {
        let target = Arc::downgrade(socket);
        self.lock()
            .retain(|weak| weak.strong_count() > 0 && !weak.ptr_eq(&target));
    }

    /// Sleeps until `deadline` or until the flag is triggered; false when triggered.
    pub(crate) fn sleep_until(&self, deadline: Instant) -> bool {
        let mut in_use = self.lock();
        loop {
            if self.is_cancelled() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            in_use = match self.inner.wake.wait_timeout(in_use, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Weak<TcpStream>>> {
        self.inner
            .in_use
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Sleeps for `wait`, or less when `cancel` is triggered; false when it was.
pub(crate) fn sleep(wait: Duration, cancel: Option<&Cancel>) -> bool {
    match cancel {
        Some(cancel) => cancel.sleep_until(Instant::now() + wait),
        None => {
            std::thread::sleep(wait);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn a_trigger_wakes_a_sleeper_at_once() {
        let cancel = Cancel::new();
        let trigger = cancel.clone();
        let started = Instant::now();
        let sleeper = std::thread::spawn(move || sleep(Duration::from_secs(30), Some(&cancel)));
        std::thread::sleep(Duration::from_millis(50));
        trigger.cancel();
        assert!(!sleeper.join().unwrap());
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!trigger.sleep_until(Instant::now() + Duration::from_secs(30)));
    }

    #[test]
    fn a_trigger_unblocks_a_read_on_a_watched_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let _server_side = listener.accept().unwrap();
        let cancel = Cancel::new();
        assert!(cancel.watch(&client));
        let reader = Arc::clone(&client);
        let blocked = std::thread::spawn(move || (&*reader).read(&mut [0u8; 16]));
        std::thread::sleep(Duration::from_millis(50));
        cancel.cancel();
        // Shut down for reading: the blocked read ends with end-of-file instead of waiting.
        assert_eq!(blocked.join().unwrap().unwrap(), 0);
        assert!(
            !cancel.watch(&client),
            "a triggered flag refuses new sockets"
        );
    }

    #[test]
    fn unwatch_forgets_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let (mut server_side, _) = listener.accept().unwrap();
        let cancel = Cancel::new();
        cancel.watch(&client);
        cancel.unwatch(&client);
        cancel.cancel();
        use std::io::Write;
        server_side.write_all(b"x").unwrap();
        let mut byte = [0u8; 1];
        assert_eq!((&*client).read(&mut byte).unwrap(), 1, "not shut down");
    }
}
