//! The options of a run as JSON (what the C and Python surfaces pass):
//! [`ApplyOptions::from_json`] reads `{"concurrency":4, "rate":N, "interval_s":60,
//! "burst":N, "journal":"path", "max_failures":N}`, refusing unknown keys and values out of
//! range, each error naming its key.

use super::apply::ApplyOptions;
use super::pace::Rate;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::time::Duration;

/// The keys [`ApplyOptions::from_json`] reads.
pub const APPLY_OPTION_KEYS: [&str; 6] = [
    "concurrency",
    "rate",
    "interval_s",
    "burst",
    "journal",
    "max_failures",
];
/// The largest `concurrency` accepted.
pub const MAX_CONCURRENCY: u64 = 64;
/// The default `interval_s` of a `rate`.
const DEFAULT_INTERVAL_S: f64 = 60.0;
/// The longest `interval_s` accepted (a day).
const MAX_INTERVAL_S: f64 = 86_400.0;

impl ApplyOptions {
    /// Options from a JSON object (`{}` gives the defaults): `concurrency`
    /// (1 to 64, default 4), `rate` (requests per `interval_s`, >= 1; default none),
    /// `interval_s` (seconds, > 0 and at most 86400, default 60; used with `rate`), `burst`
    /// (>= 1, default `rate`; only with `rate`), `journal` (a path), `max_failures` (>= 1).
    /// A key given as `null` takes its default. Unknown keys are refused. `cancel` is not a
    /// JSON option: set it on the result.
    ///
    /// ```
    /// let options = ycm::sync::ApplyOptions::from_json(r#"{"concurrency":8,"rate":100,"interval_s":1}"#)?;
    /// assert_eq!(options.concurrency, 8);
    /// assert_eq!(options.rate.unwrap().burst, 100);
    /// assert!(ycm::sync::ApplyOptions::from_json(r#"{"concurency":8}"#).is_err());
    /// # Ok::<(), ycm::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<ApplyOptions> {
        let mut options = ApplyOptions::default();
        let value: Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("the options are not JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::invalid_argument(
                "the options must be a JSON object, such as {\"concurrency\":4}",
            ));
        };
        if let Some(key) = map
            .keys()
            .find(|key| !APPLY_OPTION_KEYS.contains(&key.as_str()))
        {
            return Err(Error::invalid_argument(format!(
                "unknown option \"{}\" (known: {})",
                crate::response::cut(key, 64),
                APPLY_OPTION_KEYS.join(", ")
            )));
        }
        if let Some(n) = integer(&map, "concurrency", 1, MAX_CONCURRENCY)? {
            options.concurrency = n as usize;
        }
        let rate = integer(&map, "rate", 1, u64::from(u32::MAX))?;
        let interval = seconds(&map, "interval_s")?;
        let burst = integer(&map, "burst", 1, u64::from(u32::MAX))?;
        options.rate = match (rate, burst) {
            (Some(requests), burst) => Some(Rate {
                requests: requests as u32,
                interval: Duration::from_secs_f64(interval.unwrap_or(DEFAULT_INTERVAL_S)),
                burst: burst.unwrap_or(requests) as u32,
            }),
            (None, Some(_)) => {
                return Err(Error::invalid_argument(
                    "option \"burst\" needs \"rate\" (requests per interval_s)",
                ))
            }
            (None, None) => None,
        };
        match map.get("journal") {
            None | Some(Value::Null) => {}
            Some(Value::String(path)) if !path.is_empty() => {
                options.journal = Some(path.into());
            }
            Some(_) => {
                return Err(Error::invalid_argument(
                    "option \"journal\" must be a non-empty string (a file path)",
                ))
            }
        }
        if let Some(n) = integer(&map, "max_failures", 1, u64::MAX)? {
            options.max_failures = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
        Ok(options)
    }
}

/// An integer option from `min` to `max`; `None` when absent or null.
fn integer(map: &Map<String, Value>, key: &str, min: u64, max: u64) -> Result<Option<u64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Error::invalid_argument(format!(
                "option \"{key}\" must be an integer from {min} to {max}, got {}",
                crate::response::cut(&value.to_string(), 40)
            ))),
        },
    }
}

/// A positive number of seconds, at most a day; `None` when absent or null.
fn seconds(map: &Map<String, Value>, key: &str) -> Result<Option<f64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_f64() {
            Some(s) if s > 0.0 && s <= MAX_INTERVAL_S => Ok(Some(s)),
            _ => Err(Error::invalid_argument(format!(
                "option \"{key}\" must be a number of seconds above 0 and at most {MAX_INTERVAL_S}, got {}",
                crate::response::cut(&value.to_string(), 40)
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_every_key() {
        for empty in ["{}", " { } "] {
            let options = ApplyOptions::from_json(empty).unwrap();
            assert_eq!(options.concurrency, 4);
            assert!(options.rate.is_none() && options.journal.is_none());
            assert!(options.max_failures.is_none());
        }
        let options = ApplyOptions::from_json(
            r#"{"concurrency":8,"rate":50,"interval_s":0.5,"burst":5,"journal":"j.jsonl","max_failures":3}"#,
        )
        .unwrap();
        assert_eq!(options.concurrency, 8);
        assert_eq!(
            options.rate,
            Some(Rate {
                requests: 50,
                interval: Duration::from_millis(500),
                burst: 5
            })
        );
        assert_eq!(
            options.journal.as_deref(),
            Some(std::path::Path::new("j.jsonl"))
        );
        assert_eq!(options.max_failures, Some(3));
        let options =
            ApplyOptions::from_json(r#"{"rate":10,"interval_s":60,"burst":null,"journal":null}"#)
                .unwrap();
        assert_eq!(options.rate.unwrap().burst, 10);
        assert_eq!(options.rate.unwrap().interval, Duration::from_secs(60));
        let options = ApplyOptions::from_json(r#"{"interval_s":60}"#).unwrap();
        assert!(options.rate.is_none(), "interval_s alone keeps no cap");
    }

    #[test]
    fn bad_options_are_refused_naming_the_key() {
        for (json, needle) in [
            ("[]", "must be a JSON object"),
            ("{", "not JSON"),
            ("", "not JSON"),
            (r#"{"concurency":2}"#, "unknown option \"concurency\""),
            (
                r#"{"concurrency":0}"#,
                "\"concurrency\" must be an integer from 1 to 64",
            ),
            (r#"{"concurrency":65}"#, "\"concurrency\""),
            (r#"{"concurrency":2.5}"#, "\"concurrency\""),
            (r#"{"concurrency":"4"}"#, "\"concurrency\""),
            (r#"{"rate":0}"#, "\"rate\""),
            (r#"{"rate":-1}"#, "\"rate\""),
            (r#"{"rate":5,"interval_s":0}"#, "\"interval_s\""),
            (r#"{"rate":5,"interval_s":86401}"#, "\"interval_s\""),
            (r#"{"rate":5,"burst":0}"#, "\"burst\""),
            (r#"{"burst":5}"#, "\"burst\" needs \"rate\""),
            (r#"{"journal":""}"#, "\"journal\""),
            (r#"{"journal":3}"#, "\"journal\""),
            (r#"{"max_failures":0}"#, "\"max_failures\""),
        ] {
            let err = ApplyOptions::from_json(json).unwrap_err();
            assert_eq!(err.code(), crate::Code::InvalidArgument, "{json}");
            assert!(err.message().contains(needle), "{json}: {err}");
        }
    }
}
