//! The rate limiter every worker of a run shares: a token bucket in YCM's own terms
//! ([`Rate`]: `requests` per `interval`, `burst`), consulted before every HTTP attempt,
//! that also listens to the server. A 429 pauses every worker until its `Retry-After` (1 s
//! when absent) and lowers the rate (multiplicative decrease: to 85% of what the server let
//! through per second over the last 5 s, or since the run's first success when it is younger,
//! counted as at least a second: a shorter window would take the last moments of draining the
//! server's burst for its rate); from the pause's end the rate rises again additively, each
//! second by 25% of the lowered rate after the first 429 (when the run is young, what got
//! through is a poor estimate of the server's limit) and by 1% after later ones (capped by
//! the configured rate), so the run settles just under the server's limit instead of meeting
//! it again and again. The retry of a throttled call is the run's: it waits with everyone
//! and does not use up the call's own retries, until [`MAX_FRUITLESS_PAUSES`] pauses in a row
//! pass without one success. Without a configured rate
//! the limiter lets everything through until the first 429. A stop (cancellation, refused
//! credentials, `max_failures`) wakes every waiting worker at once.

use crate::transport::Pace;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A client-side rate cap: at most `requests` per `interval`, bursts up to `burst`.
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
    fn per_second(&self) -> f64 {
        f64::from(self.requests) / self.interval.as_secs_f64()
    }
}

/// The pause after a 429 without `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);
/// Longest pause believed (a larger `Retry-After` is capped; the run's workers would idle).
const MAX_PAUSE: Duration = Duration::from_secs(120);
/// Multiplicative decrease after a 429.
const DECREASE: f64 = 0.85;
/// Recovery per second, as a fraction of the rate set by the decrease: after the first
/// 429, and after later ones.
const FIRST_RECOVERY_PER_SECOND: f64 = 0.25;
const RECOVERY_PER_SECOND: f64 = 0.01;
/// Pauses in a row with no success between them that the run waits out for its calls; after
/// that a 429 counts against the call's own retries again (the server is not letting up).
const MAX_FRUITLESS_PAUSES: u32 = 5;
/// The window over which what the server let through is measured: long enough that the
/// last moments of draining the server's burst do not count as its rate.
const WINDOW: Duration = Duration::from_secs(5);

/// The shared limiter of one run.
pub(crate) struct Limiter {
    state: Mutex<State>,
    wake: Condvar,
    stopped: AtomicBool,
    throttled: AtomicU64,
}

struct State {
    cap: Option<Rate>,
    /// Requests per second allowed now; infinite until a cap or a 429 sets it.
    rate: f64,
    tokens: f64,
    burst: f64,
    refilled: Instant,
    paused_until: Option<Instant>,
    /// When the current rate was last lowered (one decrease per pause).
    lowered: Option<Instant>,
    /// Pauses so far (each a run of 429s within one `Retry-After`).
    episodes: u32,
    /// Pauses since the last successful response.
    fruitless: u32,
    /// Requests per second added per second since the last decrease (additive recovery).
    recovery_step: f64,
    /// Times of the recent successful responses (the last [`WINDOW`]).
    successes: VecDeque<Instant>,
    /// The first successful response of the run.
    first_success: Option<Instant>,
}

impl Limiter {
    /// A limiter with an optional client-side cap.
    pub fn new(cap: Option<Rate>) -> Limiter {
        let (rate, burst) = match cap {
            Some(cap) => (cap.per_second(), f64::from(cap.burst.max(1))),
            None => (f64::INFINITY, f64::INFINITY),
        };
        Limiter {
            state: Mutex::new(State {
                cap,
                rate,
                tokens: burst,
                burst,
                refilled: Instant::now(),
                paused_until: None,
                lowered: None,
                episodes: 0,
                fruitless: 0,
                recovery_step: 0.0,
                successes: VecDeque::new(),
                first_success: None,
            }),
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

    /// 429 responses seen.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    /// The rate allowed now, in requests per second (infinite: none).
    #[cfg(test)]
    pub fn current_rate(&self) -> f64 {
        self.lock().rate
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    /// Adds the tokens earned since the last refill, and the recovery of the rate.
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        if self.rate.is_finite() {
            let ceiling = self.cap.map_or(f64::INFINITY, |c| c.per_second());
            if self.lowered.is_some() {
                self.rate = (self.rate + self.recovery_step * elapsed).min(ceiling);
            }
            self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
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
            let now = Instant::now();
            let wait = match state.paused_until {
                Some(until) if until > now => until - now,
                _ => {
                    state.paused_until = None;
                    state.refill(now);
                    if !state.rate.is_finite() {
                        return true;
                    }
                    if state.tokens >= 1.0 {
                        state.tokens -= 1.0;
                        return true;
                    }
                    Duration::from_secs_f64(((1.0 - state.tokens) / state.rate).min(60.0))
                }
            };
            state = match self.wake.wait_timeout(state, wait) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    fn after_response(&self, status: u16, retry_after: Option<Duration>) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        while state
            .successes
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > WINDOW)
        {
            state.successes.pop_front();
        }
        if status != 429 {
            if (200..300).contains(&status) {
                state.successes.push_back(now);
                state.first_success.get_or_insert(now);
                state.fruitless = 0;
            }
            return false;
        }
        self.throttled.fetch_add(1, Ordering::SeqCst);
        let pause = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
        let until = now + pause;
        let in_this_pause = state.paused_until.is_some_and(|p| p > now);
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        if !in_this_pause {
            state.refill(now);
            // What the server let through per second over the window (over the run so far
            // when younger, counted as at least a second), at least one a second.
            let span = state
                .first_success
                .map_or(WINDOW, |first| now.saturating_duration_since(first))
                .clamp(Duration::from_secs(1), WINDOW);
            let let_through = (state.successes.len() as f64 / span.as_secs_f64()).max(1.0);
            state.rate = (state.rate.min(let_through) * DECREASE).max(0.1);
            let fraction = if state.episodes == 0 {
                FIRST_RECOVERY_PER_SECOND
            } else {
                RECOVERY_PER_SECOND
            };
            state.recovery_step = state.rate * fraction;
            state.burst = state.burst.min(state.rate.max(1.0));
            state.tokens = 0.0;
            state.lowered = Some(now);
            state.episodes += 1;
            state.fruitless += 1;
        }
        self.wake.notify_all();
        state.fruitless <= MAX_FRUITLESS_PAUSES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_lets_a_burst_through_then_paces() {
        let limiter = Limiter::new(Some(Rate {
            requests: 20,
            interval: Duration::from_secs(1),
            burst: 5,
        }));
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
    fn a_429_pauses_and_lowers_the_rate_once_per_pause() {
        let limiter = Limiter::new(None);
        for _ in 0..50 {
            assert!(limiter.before_attempt());
            limiter.after_response(200, None);
        }
        limiter.after_response(429, Some(Duration::from_millis(200)));
        limiter.after_response(429, Some(Duration::from_millis(200)));
        assert_eq!(limiter.throttled(), 2);
        assert!(
            (limiter.current_rate() - 50.0 * DECREASE).abs() < 1e-6,
            "{}",
            limiter.current_rate()
        );
        let started = Instant::now();
        assert!(limiter.before_attempt());
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "paused until Retry-After"
        );
    }

    #[test]
    fn the_run_waits_out_throttling_until_pauses_in_a_row_bring_no_success() {
        let limiter = Limiter::new(None);
        for _ in 0..MAX_FRUITLESS_PAUSES {
            assert!(limiter.after_response(429, Some(Duration::ZERO)));
        }
        assert!(
            !limiter.after_response(429, Some(Duration::ZERO)),
            "the call's own retries count again"
        );
        assert!(
            !limiter.after_response(200, None),
            "only a 429 is taken over"
        );
        assert!(
            limiter.after_response(429, Some(Duration::ZERO)),
            "a success starts the count again"
        );
    }

    #[test]
    fn the_rate_after_a_429_is_what_got_through_over_the_window_not_the_last_second() {
        let limiter = Limiter::new(None);
        for _ in 0..100 {
            limiter.after_response(200, None);
        }
        std::thread::sleep(Duration::from_millis(1100));
        for _ in 0..10 {
            limiter.after_response(200, None);
        }
        limiter.after_response(429, Some(Duration::ZERO));
        // 110 in about 1.1 s: about 100 a second, lowered to 85% (the last second alone
        // would say 10).
        let rate = limiter.current_rate();
        assert!((70.0..90.0).contains(&rate), "{rate}");
    }

    #[test]
    fn a_stop_wakes_a_waiting_worker() {
        let limiter = std::sync::Arc::new(Limiter::new(None));
        limiter.after_response(429, Some(Duration::from_secs(60)));
        let waiting = std::sync::Arc::clone(&limiter);
        let worker = std::thread::spawn(move || waiting.before_attempt());
        std::thread::sleep(Duration::from_millis(50));
        limiter.stop();
        assert!(!worker.join().unwrap());
    }
}
