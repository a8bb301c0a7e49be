//! The rate gate of one client ID: every request a client makes (token grants, reads,
//! updates, bulk workers) passes it before each attempt. It is a GCRA in YCM's own terms
//! ([`RateLimit`]: `burst` / `rate` per `interval`) when `rate_limit` is configured, and
//! learns from the server otherwise: a 429 (or YCM's errcode 1000040) pauses every caller
//! sharing the budget until its `Retry-After` (1 s when absent), then lowers the rate to 85%
//! of what got through over the last 5 s (multiplicative decrease) and lets it recover
//! additively, by 25% of the lowered rate per second after the first 429 and by 1% after
//! later ones, but fast enough to regain the rate in force before the 429 within 15 s (what
//! got through understates the limit when the client was short of work or CPU), capped by
//! the configured rate. Bulk workers pass at a lower priority: they
//! take a request only while the bucket holds more than a reserve, so interactive calls made
//! during a nightly run still go through. The state ([`GateState`]) holds nothing but wall
//! clock milliseconds and counters, so that a process or a file or a Redis server can keep
//! it for everyone sharing the client ID ([`crate::shared_state`]); every decision is a pure
//! function of the state and the time, and a clock step (backwards or forwards) can shorten
//! or lengthen one wait by at most the bucket's span, never stall a caller.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A rate limit in YCM's own terms: at most `burst` requests at once, refilled at `rate`
/// requests per `interval`. Written `BURST/RATE/INTERVAL_S` (`"600/300/180"`), as YCM's
/// web UI shows it.
///
/// ```
/// let limit: ycm::RateLimit = "50/25/1".parse()?;
/// assert_eq!((limit.burst, limit.rate), (50, 25));
/// assert_eq!(limit.to_string(), "50/25/1");
/// # Ok::<(), ycm::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests that may go at once after a quiet spell (>= 1).
    pub burst: u32,
    /// Requests per interval (>= 1).
    pub rate: u32,
    /// The refill interval (> 0; whole seconds when parsed from text).
    pub interval: Duration,
}

impl RateLimit {
    /// Requests per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.rate) / self.interval.as_secs_f64()
    }

    /// The limit a client keeps to when this is the server's: 98% of the rate and one
    /// request less of the burst, for the network's jitter.
    pub(crate) fn with_headroom(self) -> RateLimit {
        RateLimit {
            burst: self.burst.saturating_sub(1).max(1),
            rate: self.rate,
            interval: self.interval.div_f64(SERVER_RATE_SHARE),
        }
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.burst,
            self.rate,
            self.interval.as_secs()
        )
    }
}

impl std::str::FromStr for RateLimit {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<RateLimit> {
        let bad = || {
            crate::Error::invalid_argument(format!(
                "rate_limit \"{text}\" is not BURST/RATE/INTERVAL_S in YCM's terms (three positive whole numbers, e.g. \"600/300/180\": bursts of 600, 300 requests per 180 s)"
            ))
        };
        let parts: Vec<&str> = text.trim().split('/').collect();
        let [burst, rate, interval] = parts.as_slice() else {
            return Err(bad());
        };
        let number = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
        match (number(burst), number(rate), number(interval)) {
            (Some(burst), Some(rate), Some(seconds)) if seconds <= 86_400 => Ok(RateLimit {
                burst,
                rate,
                interval: Duration::from_secs(u64::from(seconds)),
            }),
            _ => Err(bad()),
        }
    }
}

/// Who is asking: interactive calls, or bulk workers that leave a reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Priority {
    /// Single calls: may take the bucket's last request.
    Call,
    /// Bulk sync workers: take a request only while more than `reserve` remain.
    Bulk { reserve: u32 },
}

/// The answer of the gate to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Decision {
    /// Go now.
    Admitted,
    /// Ask again after this long.
    Wait(Duration),
}

/// The pause after a 429 without `Retry-After`.
pub(crate) const DEFAULT_PAUSE_MS: f64 = 1000.0;
/// Longest pause believed (a larger `Retry-After` is capped).
pub(crate) const MAX_PAUSE_MS: f64 = 120_000.0;
/// Multiplicative decrease after a 429.
pub(crate) const DECREASE: f64 = 0.85;
/// Recovery per second, as a fraction of the lowered rate: after the first 429, after later
/// ones.
pub(crate) const FIRST_RECOVERY_PER_SECOND: f64 = 0.25;
pub(crate) const RECOVERY_PER_SECOND: f64 = 0.01;
/// The longest a 429 keeps the rate below the one in force before it.
pub(crate) const REGAIN_SECONDS: f64 = 15.0;
/// The window over which what got through is measured.
pub(crate) const WINDOW_MS: f64 = 5000.0;
/// Pauses in a row that let nothing through which the sharers wait out for a call; after
/// them a throttled call's retries count against its own `max_retries` again.
pub(crate) const MAX_FRUITLESS_PAUSES: u32 = 5;
/// The share of the server's rate that a client keeping to it uses (and it keeps one request
/// of the burst back): requests leave at the rate but reach the server with some jitter, and
/// one that arrives early would meet an empty bucket.
const SERVER_RATE_SHARE: f64 = 0.98;
/// Lowest rate the gate lowers to, in requests per second.
pub(crate) const MIN_RATE: f64 = 0.1;

/// What everyone sharing a client ID's budget agrees on. Times are Unix milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct GateState {
    /// GCRA's theoretical arrival time: the bucket is full when it is not after now.
    pub tat: f64,
    /// No request before this time (a 429's `Retry-After`).
    pub paused_until: f64,
    /// The rate set by the last decrease (requests per second); none before the first 429.
    pub lowered_rate: Option<f64>,
    /// When the rate was last lowered.
    pub lowered_at: f64,
    /// Requests per second added per second since then, up to the plateau.
    pub recovery_step: f64,
    /// The burst after a decrease (the configured one before).
    pub lowered_burst: Option<f64>,
    /// Pauses so far.
    pub episodes: u32,
    /// Requests let through: in the current window (from `window_start`), and in the one before.
    pub window_start: f64,
    pub window_count: f64,
    pub previous_count: f64,
    /// The first request let through.
    pub first: f64,
    /// 429 answers seen.
    pub throttled: u64,
    /// Requests let through in all (less those throttled), and that count at the last pause.
    pub through_total: f64,
    pub through_at_pause: f64,
    /// Pauses in a row with nothing let through between them.
    pub fruitless: u32,
}

impl GateState {
    /// The rate (requests per second) and burst in force at `now`; an infinite rate when
    /// nothing is configured and nothing was learned.
    pub fn rate_and_burst(&self, cap: Option<RateLimit>, now: f64) -> (f64, f64) {
        let ceiling = cap.map_or(f64::INFINITY, |c| c.per_second());
        let burst = cap.map_or(f64::INFINITY, |c| f64::from(c.burst));
        match self.lowered_rate {
            None => (ceiling, burst),
            Some(lowered) => {
                let elapsed = ((now - self.lowered_at) / 1000.0).max(0.0);
                let rate = (lowered + self.recovery_step * elapsed).min(ceiling);
                (rate, self.lowered_burst.unwrap_or(burst).min(burst))
            }
        }
    }

    /// Requests the bucket holds at `now` (infinite without a rate).
    pub fn level(&self, cap: Option<RateLimit>, now: f64) -> f64 {
        let (rate, burst) = self.rate_and_burst(cap, now);
        if !rate.is_finite() {
            return f64::INFINITY;
        }
        let spacing = 1000.0 / rate;
        (burst - (self.tat - now).max(0.0) / spacing).max(0.0)
    }

    /// Takes one request at `now` for `priority`, or says how long to wait.
    pub fn take(&mut self, cap: Option<RateLimit>, priority: Priority, now: f64) -> Decision {
        if self.paused_until > now {
            let wait = (self.paused_until - now).min(MAX_PAUSE_MS);
            self.paused_until = now + wait; // a clock stepped back shortens nothing more
            return Decision::Wait(millis(wait));
        }
        let (rate, burst) = self.rate_and_burst(cap, now);
        if rate.is_finite() {
            let spacing = 1000.0 / rate;
            let reserve = match priority {
                Priority::Call => 0.0,
                Priority::Bulk { reserve } => f64::from(reserve).min(burst - 1.0).max(0.0),
            };
            // A clock stepped back leaves a TAT far ahead: never more than a full bucket.
            let tat = self.tat.clamp(now, now + burst * spacing);
            let debt = tat + spacing - now;
            let limit = (burst - reserve) * spacing;
            if debt > limit + 1e-6 {
                self.tat = tat;
                return Decision::Wait(millis(debt - limit));
            }
            self.tat = tat + spacing;
        }
        self.count_through(now, 1.0);
        Decision::Admitted
    }

    /// Whether the gate lets everything through at `now` (no rate known, no pause) and has
    /// done so for a second: a process may then let requests through without asking for a
    /// moment, counting them later. In the budget's first second a 429 is likeliest (the
    /// server's burst drains) and its decrease needs every request counted.
    pub fn is_open(&self, cap: Option<RateLimit>, now: f64) -> bool {
        self.paused_until <= now
            && !self.rate_and_burst(cap, now).0.is_finite()
            && self.first > 0.0
            && now - self.first >= 1000.0
    }

    /// Counts `n` requests let through at `now` (negative: taken back after a 429).
    pub fn count_through(&mut self, now: f64, n: f64) {
        if self.first == 0.0 || self.first > now {
            self.first = now;
        }
        let age = now - self.window_start;
        if !(0.0..WINDOW_MS).contains(&age) {
            self.previous_count = if (0.0..2.0 * WINDOW_MS).contains(&age) {
                self.window_count
            } else {
                0.0
            };
            self.window_start = now;
            self.window_count = 0.0;
        }
        self.window_count = (self.window_count + n).max(0.0);
        self.through_total = (self.through_total + n).max(0.0);
    }

    /// Requests per second that got through over the last window (over the budget's life
    /// when it is younger, counted as at least a second), at least one.
    fn let_through(&self, now: f64) -> f64 {
        let into = ((now - self.window_start) / WINDOW_MS).clamp(0.0, 1.0);
        let counted = self.previous_count * (1.0 - into) + self.window_count;
        let span = (now - self.first).clamp(1000.0, WINDOW_MS);
        (counted / (span / 1000.0)).max(1.0)
    }

    /// A 429 at `now`: pauses everyone until `retry_after`, and lowers the rate once per
    /// pause. True while the budget's sharers should wait the throttling out for the call
    /// (false once [`MAX_FRUITLESS_PAUSES`] pauses in a row let nothing through: the call's
    /// own retries count again).
    pub fn throttled(
        &mut self,
        cap: Option<RateLimit>,
        retry_after: Option<Duration>,
        now: f64,
    ) -> bool {
        self.throttled += 1;
        self.count_through(now, -1.0);
        let pause = retry_after.map_or(DEFAULT_PAUSE_MS, |d| d.as_secs_f64() * 1000.0);
        let until = now + pause.min(MAX_PAUSE_MS);
        let in_this_pause = self.paused_until > now;
        self.paused_until = self.paused_until.max(until).min(now + MAX_PAUSE_MS);
        if in_this_pause {
            return self.fruitless <= MAX_FRUITLESS_PAUSES;
        }
        if self.through_total > self.through_at_pause {
            self.fruitless = 0;
        }
        self.fruitless += 1;
        self.through_at_pause = self.through_total;
        let (rate, burst) = self.rate_and_burst(cap, now);
        let lowered = (rate.min(self.let_through(now)) * DECREASE).max(MIN_RATE);
        let fraction = if self.episodes == 0 {
            FIRST_RECOVERY_PER_SECOND
        } else {
            RECOVERY_PER_SECOND
        };
        self.lowered_rate = Some(lowered);
        self.lowered_at = now;
        // What got through may say little of the server's limit (a client short of work or
        // of CPU sends less than it may): the rate in force before this 429 is regained
        // within REGAIN_SECONDS at least, however low the decrease went.
        let regain = if rate.is_finite() {
            (rate - lowered).max(0.0) / REGAIN_SECONDS
        } else {
            0.0
        };
        self.recovery_step = (lowered * fraction).max(regain);
        let lowered_burst = burst.min(lowered.max(1.0));
        self.lowered_burst = Some(lowered_burst);
        // The bucket is empty after a 429.
        self.tat = now + lowered_burst * (1000.0 / lowered);
        self.episodes += 1;
        self.fruitless <= MAX_FRUITLESS_PAUSES
    }
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64((ms / 1000.0).max(0.0))
}

/// The current time in Unix milliseconds, as the gate counts it.
pub(crate) fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(text: &str) -> Option<RateLimit> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn rate_limits_parse_in_ycm_terms_and_bad_ones_name_the_rule() {
        assert_eq!(
            "600/300/180".parse::<RateLimit>().unwrap(),
            RateLimit {
                burst: 600,
                rate: 300,
                interval: Duration::from_secs(180)
            }
        );
        for bad in [
            "", "1/2", "0/1/1", "1/0/1", "1/1/0", "a/b/c", "1/1/1/1", "-1/1/1",
        ] {
            let err = bad.parse::<RateLimit>().unwrap_err();
            assert!(
                err.message().contains("BURST/RATE/INTERVAL_S"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_configured_gate_lets_the_burst_through_then_paces_at_the_rate() {
        let cap = limit("5/20/1");
        let mut state = GateState::default();
        let now = 1_000_000.0;
        for _ in 0..5 {
            assert_eq!(state.take(cap, Priority::Call, now), Decision::Admitted);
        }
        let spacing = 50.0;
        assert_eq!(
            state.take(cap, Priority::Call, now),
            Decision::Wait(millis(spacing))
        );
        assert_eq!(
            state.take(cap, Priority::Call, now + spacing),
            Decision::Admitted
        );
    }

    #[test]
    fn the_gate_is_trusted_open_only_after_its_first_second_and_never_once_throttled() {
        let mut state = GateState::default();
        let now = 1_000_000.0;
        assert!(!state.is_open(None, now), "nothing let through yet");
        state.take(None, Priority::Call, now);
        // The burst drains in the first second: every request must be counted.
        assert!(!state.is_open(None, now + 999.0));
        assert!(state.is_open(None, now + 1000.0));
        state.throttled(None, None, now + 1000.0);
        assert!(!state.is_open(None, now + 5000.0), "a rate is known");
    }

    #[test]
    fn a_client_keeping_to_the_servers_limit_keeps_headroom() {
        let server: RateLimit = "50/25/1".parse().unwrap();
        let kept = server.with_headroom();
        assert_eq!(kept.burst, 49);
        assert!((kept.per_second() - 24.5).abs() < 1e-6);
    }

    #[test]
    fn bulk_workers_leave_the_reserve_to_calls() {
        let cap = limit("10/10/1");
        let mut state = GateState::default();
        let now = 1_000_000.0;
        let bulk = Priority::Bulk { reserve: 3 };
        for _ in 0..7 {
            assert_eq!(state.take(cap, bulk, now), Decision::Admitted);
        }
        assert!(matches!(state.take(cap, bulk, now), Decision::Wait(_)));
        for _ in 0..3 {
            assert_eq!(state.take(cap, Priority::Call, now), Decision::Admitted);
        }
        assert!(matches!(
            state.take(cap, Priority::Call, now),
            Decision::Wait(_)
        ));
    }

    #[test]
    fn a_429_pauses_everyone_and_lowers_the_rate_once_per_pause() {
        let mut state = GateState::default();
        let now = 1_000_000.0;
        for i in 0..50 {
            assert_eq!(
                state.take(None, Priority::Call, now + f64::from(i) * 20.0),
                Decision::Admitted
            );
        }
        let at = now + 1000.0;
        state.throttled(None, Some(Duration::from_millis(200)), at);
        state.throttled(None, Some(Duration::from_millis(200)), at);
        assert_eq!(state.throttled, 2);
        // 48 got through in about a second.
        let (rate, _) = state.rate_and_burst(None, at);
        assert!((rate - 48.0 * DECREASE).abs() < 1.0, "{rate}");
        assert_eq!(
            state.take(None, Priority::Call, at + 100.0),
            Decision::Wait(Duration::from_millis(100))
        );
        // Recovers by a quarter of the lowered rate per second after the first 429.
        let (later, _) = state.rate_and_burst(None, at + 2000.0);
        assert!((later - rate * 1.5).abs() < 0.01, "{later}");
    }

    #[test]
    fn a_clock_stepped_back_costs_at_most_one_bucket_and_one_capped_pause() {
        let cap = limit("2/1/1");
        let mut state = GateState::default();
        let now = 1.7e12;
        state.take(cap, Priority::Call, now);
        state.throttled(cap, Some(Duration::from_secs(3600)), now);
        let back = now - 3_600_000.0;
        match state.take(cap, Priority::Call, back) {
            Decision::Wait(wait) => assert!(wait <= Duration::from_millis(120_000), "{wait:?}"),
            other => panic!("{other:?}"),
        }
        state.paused_until = 0.0;
        match state.take(cap, Priority::Call, back) {
            Decision::Wait(wait) => assert!(wait <= Duration::from_secs(3), "{wait:?}"),
            other => panic!("{other:?}"),
        }
    }
}
