//! YCM's lock-out of source addresses: after `lockout_after` failed authentications in a row
//! from one IP address (client credentials refused at a token endpoint; a success resets
//! the count), every authentication from that address is refused until an admin unblocks
//! it. Pure bookkeeping over addresses, no I/O, unit-tested here; the token endpoints
//! (`crate::oauth`) decide what counts as an authentication and a failure.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// Consecutive failures per address and the blocked addresses.
#[derive(Default)]
pub(crate) struct Lockout {
    after: Option<u32>,
    failures: HashMap<IpAddr, u32>,
    blocked: BTreeSet<IpAddr>,
}

impl Lockout {
    /// Blocks an address after `after` failures in a row (`None`: never).
    pub(crate) fn new(after: Option<u32>) -> Lockout {
        Lockout {
            after,
            ..Lockout::default()
        }
    }

    /// Whether authentications from `ip` are refused.
    pub(crate) fn is_blocked(&self, ip: IpAddr) -> bool {
        self.blocked.contains(&ip)
    }

    /// Records a failed authentication from `ip`; true when this one blocks the address.
    pub(crate) fn failed(&mut self, ip: IpAddr) -> bool {
        let Some(after) = self.after else {
            return false;
        };
        let count = self.failures.entry(ip).or_default();
        *count += 1;
        if *count < after {
            return false;
        }
        self.failures.remove(&ip);
        self.blocked.insert(ip)
    }

    /// Records a successful authentication from `ip`: its count starts again from zero.
    pub(crate) fn succeeded(&mut self, ip: IpAddr) {
        self.failures.remove(&ip);
    }

    /// Unblocks every address and forgets every count.
    pub(crate) fn unblock_all(&mut self) {
        self.failures.clear();
        self.blocked.clear();
    }

    /// The blocked addresses, in ascending order.
    pub(crate) fn blocked(&self) -> Vec<IpAddr> {
        self.blocked.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const B: IpAddr = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);

    #[test]
    fn blocks_after_n_failures_in_a_row_per_address() {
        let mut lockout = Lockout::new(Some(3));
        assert!(!lockout.failed(A));
        assert!(!lockout.failed(A));
        lockout.succeeded(A);
        assert!(!lockout.failed(A));
        assert!(!lockout.failed(A));
        assert!(!lockout.failed(B), "another address counts apart");
        assert!(!lockout.is_blocked(A));
        assert!(lockout.failed(A), "the third in a row blocks");
        assert!(lockout.is_blocked(A) && !lockout.is_blocked(B));
        assert_eq!(lockout.blocked(), [A]);
        lockout.succeeded(A);
        assert!(lockout.is_blocked(A), "only an unblock lifts it");
        lockout.unblock_all();
        assert!(lockout.blocked().is_empty());
        assert!(!lockout.failed(B), "counts start again after an unblock");
    }

    #[test]
    fn off_never_blocks_and_one_blocks_at_once() {
        let mut off = Lockout::new(None);
        for _ in 0..100 {
            assert!(!off.failed(A));
        }
        assert!(!off.is_blocked(A));
        let mut one = Lockout::new(Some(1));
        assert!(one.failed(A));
        assert!(one.is_blocked(A));
    }
}
