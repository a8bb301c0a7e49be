//! A run's hold on its workers: its optional cap ([`Rate`], `requests` per `interval`,
//! `burst`: a limit for this run on top of the client ID's budget), its stop, and the
//! reserve it leaves to interactive calls. The budget itself, with its pauses after a 429
//! and its learned rate, is the client's gate ([`crate::gate`]), shared by every call and
//! every run of the client ID; the run's calls pass it at a lower priority. A stop
//! (cancellation, refused credentials, `max_failures`) wakes every waiting worker at once.

use crate::gate::{now_ms, Decision, GateState, Priority, RateLimit};
use crate::transport::Pace;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A client-side rate cap for one run: at most `requests` per `interval`, bursts up to
/// `burst`.
///
/// ```
/// let per_minute = ycm::sync::Rate { requests: 100, interval: std::time::Duration::from_secs(60), burst: 10 };
/// assert_eq!(per_minute.burst, 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rate {
    /// Requests allowed per interval (>= 1).
    pub requests: u32,
    /// The interval (> 0).
    pub interval: Duration,
    /// Requests that may go at once after a quiet spell (>= 1; default: `requests`).
    pub burst: u32,
}

impl Rate {
    /// The same cap as a gate's limit.
    fn as_limit(&self) -> RateLimit {
        RateLimit {
            burst: self.burst.max(1),
            rate: self.requests.max(1),
            interval: self.interval.max(Duration::from_millis(1)),
        }
    }
}

/// The hold of one run.
pub(crate) struct Limiter {
    cap: Option<RateLimit>,
    reserve: u32,
    state: Mutex<GateState>,
    wake: Condvar,
    stopped: AtomicBool,
    throttled: AtomicU64,
}

impl Limiter {
    /// A run's hold with an optional cap of its own, leaving `reserve` requests of the
    /// client's bucket to interactive calls.
    pub fn new(cap: Option<Rate>, reserve: u32) -> Limiter {
        Limiter {
            cap: cap.map(|c| c.as_limit()),
            reserve,
            state: Mutex::new(GateState::default()),
            wake: Condvar::new(),
            stopped: AtomicBool::new(false),
            throttled: AtomicU64::new(0),
        }
    }

    /// Stops the run: every waiting and later attempt is refused.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _guard = self.lock();
        self.wake.notify_all();
    }

    /// Whether [`Limiter::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// 429 answers the run's calls met.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits `wait` on the stop's condition variable; false once stopped.
    fn wait_on<'a>(
        &'a self,
        guard: MutexGuard<'a, GateState>,
        until: Instant,
    ) -> (MutexGuard<'a, GateState>, bool) {
        let mut guard = guard;
        loop {
            if self.is_stopped() {
                return (guard, false);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (guard, true);
            }
            guard = match self.wake.wait_timeout(guard, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

impl Pace for Limiter {
    fn before_attempt(&self) -> bool {
        let mut state = self.lock();
        loop {
            if self.is_stopped() {
                return false;
            }
            let Some(cap) = self.cap else {
                return true;
            };
            match state.take(Some(cap), Priority::Call, now_ms()) {
                Decision::Admitted => return true,
                Decision::Wait(wait) => {
                    let (guard, going) = self.wait_on(state, Instant::now() + wait);
                    if !going {
                        return false;
                    }
                    state = guard;
                }
            }
        }
    }

    fn sleep(&self, wait: Duration) -> bool {
        let guard = self.lock();
        self.wait_on(guard, Instant::now() + wait).1
    }

    fn reserve(&self) -> u32 {
        self.reserve
    }

    fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_lets_a_burst_through_then_paces() {
        let limiter = Limiter::new(
            Some(Rate {
                requests: 20,
                interval: Duration::from_secs(1),
                burst: 5,
            }),
            0,
        );
        let started = Instant::now();
        for _ in 0..5 {
            assert!(limiter.before_attempt());
        }
        assert!(
            started.elapsed() < Duration::from_millis(40),
            "the burst waits for nothing"
        );
        for _ in 0..4 {
            assert!(limiter.before_attempt());
        }
        // 4 more at 20 a second: about 200 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_stop_wakes_a_waiting_worker() {
        let limiter = std::sync::Arc::new(Limiter::new(None, 0));
        let waiting = std::sync::Arc::clone(&limiter);
        let worker = std::thread::spawn(move || waiting.sleep(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(50));
        limiter.stop();
        assert!(!worker.join().unwrap());
    }
}
