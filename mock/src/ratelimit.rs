//! YCM's API rate limit: a token bucket per client (`burst` tokens at most, refilled at `rate`
//! tokens per `interval`, one token per API request), keyed by an OAuth client id (the one a
//! token-endpoint form names, or the mock's client for its issued tokens and for forms that
//! name none), and by the static access token for static-token requests.
//! The public [`RateLimit`] setting parses from `BURST/RATE/INTERVAL_S` (`50/100/1`) and from
//! JSON; [`Limiter`] holds the buckets (each starts full) and answers how long until the next
//! token when one is empty. Pure bookkeeping over `Instant`s, no I/O, so it is unit-tested
//! with explicit instants.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// YCM's token bucket settings: at most `burst` tokens, refilled at `rate` tokens per
/// `interval`; each API request takes one. In JSON: `{"burst": 50, "rate": 100,
/// "interval_s": 1}` (also accepted: the string `"50/100/1"`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RateLimitJson", into = "RateLimitObject")]
pub struct RateLimit {
    /// The bucket's capacity (>= 1); a fresh or idle bucket holds this many tokens.
    pub burst: u32,
    /// Tokens added per `interval` (>= 1).
    pub rate: u32,
    /// The refill interval (> 0).
    pub interval: Duration,
}

impl RateLimit {
    /// Checks the bounds: `burst` and `rate` at least 1, `interval` positive.
    pub fn new(burst: u32, rate: u32, interval: Duration) -> Result<RateLimit, String> {
        if burst == 0 || rate == 0 {
            return Err("burst and rate must be at least 1".into());
        }
        if interval.is_zero() {
            return Err("the interval must be positive".into());
        }
        Ok(RateLimit {
            burst,
            rate,
            interval,
        })
    }

    /// Tokens added per second.
    fn per_second(&self) -> f64 {
        f64::from(self.rate) / self.interval.as_secs_f64()
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// `BURST/RATE/INTERVAL_S`, e.g. `50/100/1`; the interval is seconds and may have a
    /// fraction (`10/5/0.5`).
    fn from_str(s: &str) -> Result<RateLimit, String> {
        let bad = || format!("expected BURST/RATE/INTERVAL_S such as 50/100/1, got {s:?}");
        let mut parts = s.split('/');
        let (Some(burst), Some(rate), Some(interval), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let burst = burst.trim().parse::<u32>().map_err(|_| bad())?;
        let rate = rate.trim().parse::<u32>().map_err(|_| bad())?;
        let interval = interval
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(bad)?;
        RateLimit::new(burst, rate, interval).map_err(|e| format!("{}: {e}", bad()))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.burst,
            self.rate,
            self.interval.as_secs_f64()
        )
    }
}

/// The JSON object form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitObject {
    burst: u32,
    rate: u32,
    interval_s: f64,
}

/// What JSON may hold: the object or the `BURST/RATE/INTERVAL_S` string.
#[derive(Deserialize)]
#[serde(untagged)]
enum RateLimitJson {
    Object(RateLimitObject),
    Spec(String),
}

impl TryFrom<RateLimitJson> for RateLimit {
    type Error = String;

    fn try_from(json: RateLimitJson) -> Result<RateLimit, String> {
        match json {
            RateLimitJson::Spec(spec) => spec.parse(),
            RateLimitJson::Object(o) => {
                let interval = Some(o.interval_s)
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or("interval_s must be a positive number of seconds")?;
                RateLimit::new(o.burst, o.rate, interval)
            }
        }
    }
}

impl From<RateLimit> for RateLimitObject {
    fn from(limit: RateLimit) -> RateLimitObject {
        RateLimitObject {
            burst: limit.burst,
            rate: limit.rate,
            interval_s: limit.interval.as_secs_f64(),
        }
    }
}

/// Whose bucket a request takes its token from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BucketKey {
    /// An OAuth client, by client id: its issued tokens and the token requests naming it.
    Client(String),
    /// The static access token (`MockConfig::access_token`).
    StaticToken,
}

impl fmt::Display for BucketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BucketKey::Client(id) => write!(f, "client {id:?}"),
            BucketKey::StaticToken => f.write_str("the static access token"),
        }
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The current setting and one bucket per key (created full on first use).
#[derive(Default)]
pub(crate) struct Limiter {
    limit: Option<RateLimit>,
    buckets: HashMap<BucketKey, Bucket>,
}

impl Limiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Limiter {
        Limiter {
            limit,
            buckets: HashMap::new(),
        }
    }

    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Replaces the setting; every bucket starts full again.
    pub(crate) fn set(&mut self, limit: Option<RateLimit>) {
        self.limit = limit;
        self.buckets.clear();
    }

    /// Takes one token from `key`'s bucket at `now`; when it is empty, `Err` with the time
    /// until the next token (nothing is taken). Always `Ok` when no limit is set.
    pub(crate) fn take(&mut self, key: BucketKey, now: Instant) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let capacity = f64::from(limit.burst);
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second()).min(capacity);
        bucket.updated = bucket.updated.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / limit.per_second();
            Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::from_secs(1)))
        }
    }
}

/// The `Retry-After` value for a wait: whole seconds, rounded up, at least 1 (the header
/// carries delta-seconds only).
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(spec: &str) -> Limiter {
        Limiter::new(Some(spec.parse().expect("spec")))
    }

    #[test]
    fn parsing_and_json() {
        let limit: RateLimit = "50/100/1".parse().expect("parse");
        assert_eq!(
            limit,
            RateLimit::new(50, 100, Duration::from_secs(1)).expect("new")
        );
        assert_eq!(limit.to_string(), "50/100/1");
        assert_eq!(
            "10/5/0.5".parse::<RateLimit>().expect("fraction").interval,
            Duration::from_millis(500)
        );
        for bad in [
            "",
            "50",
            "50/100",
            "50/100/1/2",
            "0/1/1",
            "1/0/1",
            "1/1/0",
            "1/1/-1",
            "a/1/1",
            "1/1/inf",
            "1/1/NaN",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?}");
        }
        let json = serde_json::to_value(limit).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"burst": 50, "rate": 100, "interval_s": 1.0})
        );
        assert_eq!(
            serde_json::from_value::<RateLimit>(json).expect("back"),
            limit
        );
        assert_eq!(
            serde_json::from_str::<RateLimit>(r#""50/100/1""#).expect("string form"),
            limit
        );
        for bad in [
            r#"{"burst": 0, "rate": 1, "interval_s": 1}"#,
            r#"{"burst": 1, "rate": 1, "interval_s": 0}"#,
            r#"{"burst": 1, "rate": 1}"#,
            r#"{"burst": 1, "rate": 1, "interval_s": 1, "x": 1}"#,
            r#""1/1""#,
        ] {
            assert!(serde_json::from_str::<RateLimit>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn burst_then_refill_at_rate_per_interval() {
        let mut limiter = limiter("3/2/1"); // 2 tokens per second: one every 500 ms
        let t0 = Instant::now();
        let key = || BucketKey::StaticToken;
        for _ in 0..3 {
            assert_eq!(limiter.take(key(), t0), Ok(()));
        }
        assert_eq!(limiter.take(key(), t0), Err(Duration::from_millis(500)));
        let t1 = t0 + Duration::from_millis(200);
        let wait = limiter.take(key(), t1).expect_err("still empty");
        assert!(wait.abs_diff(Duration::from_millis(300)) < Duration::from_micros(1));
        let t2 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.take(key(), t2), Ok(()));
        assert!(limiter.take(key(), t2).is_err());
        // Idle for a long time: full again, but never more than the burst.
        let t3 = t2 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limiter.take(key(), t3), Ok(()));
        }
        assert!(limiter.take(key(), t3).is_err());
        // Another key has its own full bucket.
        assert_eq!(limiter.take(BucketKey::Client("c".into()), t3), Ok(()));
        // A new setting refills every bucket; no setting lets everything through.
        limiter.set(Some("1/1/60".parse().expect("spec")));
        assert_eq!(limiter.take(key(), t3), Ok(()));
        assert_eq!(limiter.take(key(), t3), Err(Duration::from_secs(60)));
        limiter.set(None);
        assert_eq!(limiter.take(key(), t3), Ok(()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }
}
