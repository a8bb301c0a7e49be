//! Host-name resolution for the transport: IP literals (the mock, many self-hosted installs)
//! are used as they are, and names are resolved by ureq's own resolver and then remembered
//! for [`CACHE_TTL`]. ureq resolves on a new thread for every request whenever a timeout is
//! set, which cost about two thirds of the client's CPU per request in `make bench`; with
//! this resolver a keep-alive request does no resolution at all. A client that goes through
//! a proxy resolves the proxy's host instead of YCM's, whatever the request's URI (the
//! proxy resolves YCM's name: hosts behind a proxy often cannot).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a resolved name is reused before it is looked up again.
pub const CACHE_TTL: Duration = Duration::from_secs(30);

/// IP literals directly; names through ureq's resolver, cached for [`CACHE_TTL`].
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    fallback: DefaultResolver,
    cache: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
    /// The proxy's URI, resolved in place of every request's.
    proxy: Option<Uri>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let uri = self.proxy.as_ref().unwrap_or(uri);
        let (Some(authority), Some(scheme)) = (uri.authority(), uri.scheme()) else {
            return self
                .fallback
                .resolve(uri, config, crate::net::capped(timeout));
        };
        let port = authority
            .port_u16()
            .unwrap_or(if scheme.as_str() == "https" { 443 } else { 80 });
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        let now = Instant::now();
        if let Some((addrs, expires)) = self.lock().get(&key) {
            if now < *expires {
                return Ok(addrs.clone());
            }
        }
        // ureq has no per-request budget here (ycm's sockets keep it): cap the lookup by it.
        let addrs = self
            .fallback
            .resolve(uri, config, crate::net::capped(timeout))?;
        self.lock().insert(key, (addrs.clone(), now + CACHE_TTL));
        Ok(addrs)
    }
}

impl CachingResolver {
    /// A resolver that answers every request with the address of `proxy` (when given).
    pub fn new(proxy: Option<Uri>) -> CachingResolver {
        CachingResolver {
            proxy,
            ..CachingResolver::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (ResolvedSocketAddrs, Instant)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
