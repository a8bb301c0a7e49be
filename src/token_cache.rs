//! The cache of a managed access token: the current token, the refresh token and when to
//! renew. [`TokenCache::get_or_renew`] holds the lock while renewing, so concurrent callers
//! that find the token stale wait for one renewal and share its result (no thundering herd);
//! a renewal that fails for a passing reason (a 503, a timeout) keeps a token that has not
//! expired yet; [`TokenCache::reject`] drops a token the server refused unless another caller
//! already replaced it. The cache does no I/O itself, and its lock comes from loom under
//! `--cfg ycm_loom`, so that loom can check it (`make loom`).

use crate::error::{Code, Result};
use crate::secret::Secret;
use std::time::{Duration, Instant};

#[cfg(ycm_loom)]
use loom::sync::{Mutex, MutexGuard};
#[cfg(not(ycm_loom))]
use std::sync::{Mutex, MutexGuard};

/// A token the token endpoint issued (or another process shared): when to renew it and
/// when it dies, from now.
#[derive(Debug)]
pub(crate) struct Issued {
    pub access: Secret,
    pub refresh: Option<Secret>,
    pub renew_in: Duration,
    pub expires_in: Duration,
}

impl Issued {
    /// A token that lives `expires_in` seconds from now, renewed [`renew_after`] it.
    pub fn fresh(access: Secret, refresh: Option<Secret>, expires_in: u64) -> Issued {
        Issued {
            access,
            refresh,
            renew_in: renew_after(expires_in),
            expires_in: Duration::from_secs(expires_in),
        }
    }
}

#[derive(Default)]
struct State {
    access: Option<Secret>,
    refresh: Option<Secret>,
    renew_at: Option<Instant>,
    expires_at: Option<Instant>,
}

pub(crate) struct TokenCache {
    state: Mutex<State>,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache {
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached token if it is still fresh at `now`; otherwise the token `renew` obtains
    /// (given the refresh token, if any), which is then cached. When the renewal fails, a
    /// token that has not expired yet is still returned (the next call renews again); a
    /// refusal ([`Code::Unauthorized`]) clears the cache, so the next renewal starts from the
    /// client credentials.
    pub fn get_or_renew(
        &self,
        now: Instant,
        renew: impl FnOnce(Option<&Secret>) -> Result<Issued>,
    ) -> Result<Secret> {
        let mut state = self.lock();
        if let (Some(token), Some(renew_at)) = (&state.access, state.renew_at) {
            if now < renew_at {
                return Ok(token.clone());
            }
        }
        match renew(state.refresh.as_ref()) {
            Ok(issued) => {
                state.renew_at = Some(now + issued.renew_in);
                state.expires_at = Some(now + issued.expires_in);
                state.access = Some(issued.access.clone());
                state.refresh = issued.refresh;
                Ok(issued.access)
            }
            Err(error) if error.code() == Code::Unauthorized => {
                *state = State::default();
                Err(error)
            }
            Err(error) => match (&state.access, state.expires_at) {
                (Some(token), Some(expires_at)) if now < expires_at => Ok(token.clone()),
                _ => Err(error),
            },
        }
    }

    /// Forgets `rejected`, unless the cache already holds another token.
    pub fn reject(&self, rejected: &Secret) {
        let mut state = self.lock();
        if state.access.as_ref() == Some(rejected) {
            state.access = None;
        }
    }
}

/// When to renew a token that lives `expires_in` seconds: a fifth of its life early, at most
/// a minute early.
pub(crate) fn renew_after(expires_in: u64) -> Duration {
    let life = Duration::from_secs(expires_in);
    life - (life / 5).min(Duration::from_secs(60))
}

#[cfg(all(test, not(ycm_loom)))]
mod tests {
    use super::*;
    use crate::error::Error;

    fn issued(access: &str, refresh: &str) -> Result<Issued> {
        Ok(Issued::fresh(
            Secret::new(access),
            Some(Secret::new(refresh)),
            100,
        ))
    }

    #[test]
    fn tokens_are_renewed_early_but_not_too_early() {
        assert_eq!(renew_after(1800), Duration::from_secs(1740));
        assert_eq!(renew_after(2), Duration::from_millis(1600));
    }

    #[test]
    fn a_fresh_token_is_reused_and_a_stale_one_renewed_with_the_refresh_token() {
        let cache = TokenCache::new();
        let start = Instant::now();
        let first = cache.get_or_renew(start, |refresh| {
            assert!(refresh.is_none());
            issued("a1", "r1")
        });
        assert_eq!(first.unwrap().expose(), "a1");
        let again = cache.get_or_renew(start + Duration::from_secs(79), |_| panic!("still fresh"));
        assert_eq!(again.unwrap().expose(), "a1");
        let renewed = cache.get_or_renew(start + Duration::from_secs(80), |refresh| {
            assert_eq!(refresh.map(Secret::expose), Some("r1"));
            issued("a2", "r2")
        });
        assert_eq!(renewed.unwrap().expose(), "a2");
    }

    #[test]
    fn a_passing_renewal_failure_keeps_a_token_that_has_not_expired() {
        let cache = TokenCache::new();
        let start = Instant::now();
        cache.get_or_renew(start, |_| issued("a1", "r1")).unwrap();
        let early = start + Duration::from_secs(90);
        let kept = cache.get_or_renew(early, |_| Err(Error::new(Code::Http, "503")));
        assert_eq!(kept.unwrap().expose(), "a1");
        let late = start + Duration::from_secs(100);
        let gone = cache.get_or_renew(late, |refresh| {
            assert_eq!(
                refresh.map(Secret::expose),
                Some("r1"),
                "refresh token kept"
            );
            Err(Error::new(Code::Http, "503"))
        });
        assert_eq!(gone.unwrap_err().code(), Code::Http);
    }

    #[test]
    fn reject_drops_only_the_current_token_and_a_refusal_clears_everything() {
        let cache = TokenCache::new();
        let now = Instant::now();
        cache.get_or_renew(now, |_| issued("a1", "r1")).unwrap();
        cache.reject(&Secret::new("old"));
        assert_eq!(
            cache
                .get_or_renew(now, |_| panic!("kept"))
                .unwrap()
                .expose(),
            "a1"
        );
        cache.reject(&Secret::new("a1"));
        let failed = cache.get_or_renew(now, |refresh| {
            assert_eq!(refresh.map(Secret::expose), Some("r1"));
            Err(Error::new(Code::Unauthorized, "refused"))
        });
        assert!(failed.is_err());
        let after = cache.get_or_renew(now, |refresh| {
            assert!(
                refresh.is_none(),
                "a failed renewal forgets the refresh token"
            );
            issued("a3", "r3")
        });
        assert_eq!(after.unwrap().expose(), "a3");
    }
}

#[cfg(all(test, ycm_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// Three callers find no token: exactly one renews, and all get its token.
    #[test]
    fn concurrent_callers_share_one_renewal() {
        loom::model(|| {
            let cache = Arc::new(TokenCache::new());
            let renewals = Arc::new(AtomicUsize::new(0));
            let now = Instant::now();
            let callers: Vec<_> = (0..3)
                .map(|_| {
                    let (cache, renewals) = (cache.clone(), renewals.clone());
                    loom::thread::spawn(move || {
                        cache
                            .get_or_renew(now, |_| {
                                let n = renewals.fetch_add(1, Ordering::SeqCst);
                                Ok(Issued::fresh(Secret::new(format!("token{n}")), None, 1800))
                            })
                            .unwrap()
                    })
                })
                .collect();
            let tokens: Vec<Secret> = callers.into_iter().map(|c| c.join().unwrap()).collect();
            assert_eq!(renewals.load(Ordering::SeqCst), 1);
            assert!(tokens.iter().all(|t| t.expose() == "token0"));
        });
    }

    /// A caller that rejects a token while another renews never discards the new token,
    /// and at most one extra renewal happens.
    #[test]
    fn a_late_reject_never_discards_a_newer_token() {
        loom::model(|| {
            let cache = Arc::new(TokenCache::new());
            let renewals = Arc::new(AtomicUsize::new(0));
            let now = Instant::now();
            let renew = {
                let renewals = renewals.clone();
                move |_: Option<&Secret>| {
                    let n = renewals.fetch_add(1, Ordering::SeqCst);
                    Ok(Issued::fresh(Secret::new(format!("token{n}")), None, 1800))
                }
            };
            let first = cache.get_or_renew(now, renew.clone()).unwrap();
            let rejecter = {
                let (cache, first, renew) = (cache.clone(), first.clone(), renew.clone());
                loom::thread::spawn(move || {
                    cache.reject(&first);
                    cache.get_or_renew(now, renew).unwrap()
                })
            };
            let other = {
                let (cache, first, renew) = (cache.clone(), first.clone(), renew.clone());
                loom::thread::spawn(move || {
                    cache.reject(&first);
                    cache.get_or_renew(now, renew).unwrap()
                })
            };
            let a = rejecter.join().unwrap();
            let b = other.join().unwrap();
            assert_eq!(a, b, "both callers end with the same replacement token");
            assert_eq!(
                renewals.load(Ordering::SeqCst),
                2,
                "one initial fetch, one shared renewal"
            );
        });
    }
}
