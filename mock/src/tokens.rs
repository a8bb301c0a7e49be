//! Issued OAuth tokens: random access and refresh tokens with their expiry instants,
//! refresh-token rotation (a refresh token works once, and its grant replaces the access
//! token issued with it), the cap on valid access tokens (`MockConfig::max_tokens`), whether
//! a presented access token is valid, expired or unknown, and the revoke / expire switches
//! the tests use. The static token of `MockConfig::access_token` is not stored here; the
//! caller checks it. The mock has one OAuth client, so every token here is that client's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Characters of a token: URL-safe, no padding.
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Length of every issued token.
const TOKEN_LEN: usize = 48;
/// Above this many entries, long-dead tokens are purged when a new one is issued.
const PURGE_THRESHOLD: usize = 1024;
/// How long an expired access token is still recognised as expired (1000035) rather than
/// unknown (1000036), at least until more than [`PURGE_THRESHOLD`] tokens are held.
const EXPIRED_MEMORY: Duration = Duration::from_secs(3600);

/// A fresh access + refresh token pair.
pub(crate) struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// What a presented access token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessState {
    /// Issued, unexpired, not revoked, not replaced.
    Valid,
    /// Issued, and its lifetime is over.
    Expired,
    /// Never issued, revoked, or replaced by a refresh grant.
    Unknown,
}

/// Why a grant issued nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrantRefusal {
    /// The refresh token is unknown, already used, revoked or expired.
    InvalidRefreshToken,
    /// The client already holds `max_tokens` valid access tokens.
    TooManyTokens,
}

/// A live refresh token: when it dies, and the access token issued with it.
struct RefreshEntry {
    expires: Instant,
    access_token: String,
}

/// Every issued token and when it dies.
#[derive(Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, Instant>,
    refresh: HashMap<String, RefreshEntry>,
}

fn random_token() -> String {
    (0..TOKEN_LEN)
        .map(|_| char::from(TOKEN_ALPHABET[fastrand::usize(..TOKEN_ALPHABET.len())]))
        .collect()
}

/// A token that is in neither map.
fn unique_token(taken: impl Fn(&str) -> bool) -> String {
    loop {
        let token = random_token();
        if !taken(&token) {
            return token;
        }
    }
}

impl TokenStore {
    /// Issues a new pair with the given lifetimes, unless the client already holds `cap`
    /// valid access tokens.
    pub(crate) fn issue(
        &mut self,
        access_ttl: Duration,
        refresh_ttl: Duration,
        cap: Option<usize>,
    ) -> Result<IssuedTokens, GrantRefusal> {
        let now = Instant::now();
        if cap.is_some_and(|cap| self.valid_access_count(now) >= cap) {
            return Err(GrantRefusal::TooManyTokens);
        }
        self.purge(now);
        let access_token = unique_token(|t| self.access.contains_key(t));
        let refresh_token = unique_token(|t| self.refresh.contains_key(t));
        self.access.insert(access_token.clone(), now + access_ttl);
        self.refresh.insert(
            refresh_token.clone(),
            RefreshEntry {
                expires: now + refresh_ttl,
                access_token: access_token.clone(),
            },
        );
        Ok(IssuedTokens {
            access_token,
            refresh_token,
        })
    }

    /// What `token` is as an access token.
    pub(crate) fn access_state(&self, token: &str) -> AccessState {
        match self.access.get(token) {
            None => AccessState::Unknown,
            Some(expires) if *expires > Instant::now() => AccessState::Valid,
            Some(_) => AccessState::Expired,
        }
    }

    /// Whether `token` is a live issued access token.
    pub(crate) fn access_is_valid(&self, token: &str) -> bool {
        self.access_state(token) == AccessState::Valid
    }

    /// Consumes a live refresh token and issues a new pair that replaces it and the access
    /// token issued with it (that one stops being valid, so it does not count against
    /// `cap`). Nothing changes when the grant is refused.
    pub(crate) fn rotate(
        &mut self,
        refresh_token: &str,
        access_ttl: Duration,
        refresh_ttl: Duration,
        cap: Option<usize>,
    ) -> Result<IssuedTokens, GrantRefusal> {
        let now = Instant::now();
        let entry = self
            .refresh
            .get(refresh_token)
            .filter(|entry| entry.expires > now)
            .ok_or(GrantRefusal::InvalidRefreshToken)?;
        let replaced_is_valid = self
            .access
            .get(&entry.access_token)
            .is_some_and(|expires| *expires > now);
        let others = self.valid_access_count(now) - usize::from(replaced_is_valid);
        if cap.is_some_and(|cap| others >= cap) {
            return Err(GrantRefusal::TooManyTokens);
        }
        if let Some(entry) = self.refresh.remove(refresh_token) {
            self.access.remove(&entry.access_token);
        }
        self.issue(access_ttl, refresh_ttl, None)
    }

    /// Valid issued access tokens at `now`.
    fn valid_access_count(&self, now: Instant) -> usize {
        self.access.values().filter(|exp| **exp > now).count()
    }

    /// Above [`PURGE_THRESHOLD`] entries, forgets dead refresh tokens and access tokens
    /// expired for longer than [`EXPIRED_MEMORY`].
    fn purge(&mut self, now: Instant) {
        if self.access.len() > PURGE_THRESHOLD {
            self.access.retain(|_, exp| *exp + EXPIRED_MEMORY > now);
        }
        if self.refresh.len() > PURGE_THRESHOLD {
            self.refresh.retain(|_, entry| entry.expires > now);
        }
    }

    /// Every issued access token expires now (it is then reported as expired, not
    /// unknown); refresh tokens still work.
    pub(crate) fn expire_access(&mut self) {
        let now = Instant::now();
        for expires in self.access.values_mut() {
            *expires = (*expires).min(now);
        }
    }

    /// Every refresh token stops working.
    pub(crate) fn revoke_refresh(&mut self) {
        self.refresh.clear();
    }

    /// Every issued token, access and refresh, stops working (and is then unknown).
    pub(crate) fn revoke_all(&mut self) {
        self.access.clear();
        self.refresh.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn issue(store: &mut TokenStore, cap: Option<usize>) -> Result<IssuedTokens, GrantRefusal> {
        store.issue(TTL, TTL, cap)
    }

    #[test]
    fn rotation_consumes_the_old_refresh_token_and_replaces_its_access_token() {
        let mut store = TokenStore::default();
        let first = issue(&mut store, None).expect("issue");
        assert_eq!(first.access_token.len(), TOKEN_LEN);
        assert!(store.access_is_valid(&first.access_token));
        let second = store
            .rotate(&first.refresh_token, TTL, TTL, None)
            .expect("rotate");
        assert!(store.access_is_valid(&second.access_token));
        assert_eq!(
            store.access_state(&first.access_token),
            AccessState::Unknown,
            "replaced"
        );
        assert_eq!(
            store.rotate(&first.refresh_token, TTL, TTL, None).err(),
            Some(GrantRefusal::InvalidRefreshToken)
        );
        store.expire_access();
        assert_eq!(
            store.access_state(&second.access_token),
            AccessState::Expired
        );
        store.revoke_all();
        assert_eq!(
            store.access_state(&second.access_token),
            AccessState::Unknown
        );
    }

    #[test]
    fn zero_ttl_tokens_are_expired() {
        let mut store = TokenStore::default();
        let pair = store
            .issue(Duration::ZERO, Duration::ZERO, None)
            .expect("issue");
        assert_eq!(store.access_state(&pair.access_token), AccessState::Expired);
        assert!(store
            .rotate(&pair.refresh_token, Duration::ZERO, Duration::ZERO, None)
            .is_err());
    }

    #[test]
    fn the_cap_counts_valid_access_tokens_only() {
        let mut store = TokenStore::default();
        let cap = Some(2);
        let first = issue(&mut store, cap).expect("first");
        let second = issue(&mut store, cap).expect("second");
        assert_eq!(
            issue(&mut store, cap).err(),
            Some(GrantRefusal::TooManyTokens)
        );
        // A refresh replaces its own access token: still two.
        let third = store
            .rotate(&first.refresh_token, TTL, TTL, cap)
            .expect("a refresh at the cap");
        assert!(issue(&mut store, cap).is_err());
        // Expired tokens do not count; a refresh whose access token had expired adds one.
        store.expire_access();
        let fourth = issue(&mut store, cap).expect("after expiry");
        let fifth = store
            .rotate(&second.refresh_token, TTL, TTL, cap)
            .expect("refresh");
        assert_eq!(
            store.rotate(&third.refresh_token, TTL, TTL, cap).err(),
            Some(GrantRefusal::TooManyTokens),
            "two valid others"
        );
        assert!(store.access_is_valid(&fourth.access_token));
        assert!(store.access_is_valid(&fifth.access_token));
        // The refused refresh consumed nothing.
        assert!(store.rotate(&third.refresh_token, TTL, TTL, None).is_ok());
    }
}
