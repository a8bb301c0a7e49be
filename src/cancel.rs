//! Cancellation of calls from another thread. A [`Cancel`] is a flag that any thread may
//! trigger; a call made with it checks the flag before each attempt and between attempts,
//! its waits (retry backoff, `Retry-After`, a connect in progress) wake at once, and the
//! socket it is reading or writing is shut down so that a blocked read returns immediately.
//! A shut-down connection is never put back in the pool. The call then fails with
//! [`crate::Code::Cancelled`].
//!
//! A flag made with [`Cancel::on_signal`] also stops a call when a signal handler runs on
//! the calling thread while it waits (the wait's system call fails with `EINTR`): what an
//! interpreter whose handlers only note the signal (Python) needs to act on Ctrl-C at once.
//! Such a flag is not left triggered by the signal, so one serves every call of a thread.

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
    /// A signal handler running during a wait also stops the call.
    on_signal: bool,
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

    /// A flag that also stops a call when a signal handler runs on the calling thread
    /// during one of its waits (the call then fails with [`crate::Code::Cancelled`] and the
    /// flag stays untriggered). Nothing is installed: the signal's own handler is the
    /// caller's; a handler installed with `SA_RESTART` may not interrupt every wait.
    ///
    /// ```
    /// let per_thread = ycm::Cancel::on_signal();
    /// assert!(per_thread.stops_on_signal() && !per_thread.is_cancelled());
    /// ```
    pub fn on_signal() -> Cancel {
        Cancel {
            inner: Arc::new(Inner {
                on_signal: true,
                ..Inner::default()
            }),
        }
    }

    /// Whether a signal during a wait stops the calls made with this flag.
    pub fn stops_on_signal(&self) -> bool {
        self.inner.on_signal
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

    /// Sleeps until `deadline` or until the flag is triggered (or, for
    /// [`Cancel::on_signal`], a signal handler runs); false when stopped.
    pub(crate) fn sleep_until(&self, deadline: Instant) -> bool {
        if self.inner.on_signal {
            return self.sleep_interruptibly(deadline);
        }
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

    /// Sleeps in short slices that a signal can cut (a condition variable's wait retries
    /// after a signal, a plain sleep does not), checking the flag between them.
    fn sleep_interruptibly(&self, deadline: Instant) -> bool {
        const SLICE: Duration = Duration::from_millis(20);
        loop {
            if self.is_cancelled() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            let nap = left.min(SLICE);
            let request = libc::timespec {
                tv_sec: 0,
                tv_nsec: nap.subsec_nanos() as libc::c_long,
            };
            // SAFETY: a valid timespec; no remainder is asked for.
            if unsafe { libc::nanosleep(&request, std::ptr::null_mut()) } == -1 {
                return false; // EINTR: a signal handler ran on this thread
            }
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
    fn a_signal_flag_sleeps_in_slices_and_still_wakes_on_a_trigger() {
        let cancel = Cancel::on_signal();
        let started = Instant::now();
        assert!(cancel.sleep_until(started + Duration::from_millis(70)));
        assert!(started.elapsed() >= Duration::from_millis(70));
        let trigger = cancel.clone();
        let sleeper = std::thread::spawn(move || {
            cancel.sleep_until(Instant::now() + Duration::from_secs(30))
        });
        std::thread::sleep(Duration::from_millis(50));
        trigger.cancel();
        assert!(!sleeper.join().unwrap());
    }

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
