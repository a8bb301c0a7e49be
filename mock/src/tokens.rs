//! Issued OAuth tokens: random access and refresh tokens with their expiry instants,
//! refresh-token rotation (a refresh token works once), and the revoke / expire switches
//! the tests use. The static token of `MockConfig::access_token` is not stored here; the
//! caller checks it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Characters of a token: URL-safe, no padding.
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Length of every issued token.
const TOKEN_LEN: usize = 48;
/// Above this many entries, expired tokens are purged when a new one is issued.
const PURGE_THRESHOLD: usize = 1024;

/// A fresh access + refresh token pair.
pub(crate) struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// Every live issued token and when it dies.
#[derive(Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, Instant>,
    refresh: HashMap<String, Instant>,
}

fn random_token() -> String {
    (0..TOKEN_LEN)
        .map(|_| char::from(TOKEN_ALPHABET[fastrand::usize(..TOKEN_ALPHABET.len())]))
        .collect()
}

fn insert_unique(map: &mut HashMap<String, Instant>, expires: Instant) -> String {
    if map.len() > PURGE_THRESHOLD {
        let now = Instant::now();
        map.retain(|_, exp| *exp > now);
    }
    loop {
        let token = random_token();
        if !map.contains_key(&token) {
            map.insert(token.clone(), expires);
            return token;
        }
    }
}

impl TokenStore {
    /// Issues a new pair with the given lifetimes.
    pub(crate) fn issue(&mut self, access_ttl: Duration, refresh_ttl: Duration) -> IssuedTokens {
        let now = Instant::now();
        IssuedTokens {
            access_token: insert_unique(&mut self.access, now + access_ttl),
            refresh_token: insert_unique(&mut self.refresh, now + refresh_ttl),
        }
    }

    /// Whether `token` is a live issued access token.
    pub(crate) fn access_is_valid(&self, token: &str) -> bool {
        self.access
            .get(token)
            .is_some_and(|exp| *exp > Instant::now())
    }

    /// Consumes a live refresh token and issues a new pair; `None` when the token is
    /// unknown, already used, revoked or expired.
    pub(crate) fn rotate(
        &mut self,
        refresh_token: &str,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Option<IssuedTokens> {
        let expires = self.refresh.remove(refresh_token)?;
        if expires <= Instant::now() {
            return None;
        }
        Some(self.issue(access_ttl, refresh_ttl))
    }

    /// Every issued access token stops working; refresh tokens still do.
    pub(crate) fn expire_access(&mut self) {
        self.access.clear();
    }

    /// Every refresh token stops working.
    pub(crate) fn revoke_refresh(&mut self) {
        self.refresh.clear();
    }

    /// Every issued token, access and refresh, stops working.
    pub(crate) fn revoke_all(&mut self) {
        self.access.clear();
        self.refresh.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_consumes_the_old_refresh_token() {
        let mut store = TokenStore::default();
        let ttl = Duration::from_secs(60);
        let first = store.issue(ttl, ttl);
        assert_eq!(first.access_token.len(), TOKEN_LEN);
        assert!(store.access_is_valid(&first.access_token));
        let second = store.rotate(&first.refresh_token, ttl, ttl);
        assert!(second.is_some());
        assert!(store.rotate(&first.refresh_token, ttl, ttl).is_none());
        store.expire_access();
        assert!(!store.access_is_valid(&first.access_token));
    }

    #[test]
    fn zero_ttl_tokens_are_dead() {
        let mut store = TokenStore::default();
        let pair = store.issue(Duration::ZERO, Duration::ZERO);
        assert!(!store.access_is_valid(&pair.access_token));
        assert!(store
            .rotate(&pair.refresh_token, Duration::ZERO, Duration::ZERO)
            .is_none());
    }
}
