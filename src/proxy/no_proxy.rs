//! `NO_PROXY` as curl reads it: a list of entries separated by commas and blanks; the
//! whole value `*` matches every host. For a host name, an entry matches the name itself or
//! any name under it (`example.com` and `.example.com` both match `example.com` and
//! `api.example.com`, never `notexample.com`), case-insensitively, trailing dots ignored.
//! For an IP address host, an entry is an address (IPv6 without brackets) with an optional
//! CIDR prefix length (`10.0.0.0/8`, `fd00::/8`); names never match addresses, nor
//! addresses names. Ports play no part: the host is compared without its port, and an
//! entry with a `:port` matches nothing, as in curl.

use std::net::IpAddr;

/// Whether `host` (a URL's host: a name, an IPv4 address, or an IPv6 one in brackets) is
/// listed in `list`, so that it is reached without the proxy.
pub(crate) fn matches(list: &str, host: &str) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    let address: Option<IpAddr> = bare.unwrap_or(host).parse().ok();
    let entries = list.split([',', ' ', '\t']).filter(|e| !e.is_empty());
    match address {
        Some(ip) => entries.into_iter().any(|entry| address_matches(entry, ip)),
        None => {
            let name = host.strip_suffix('.').unwrap_or(host);
            entries.into_iter().any(|entry| name_matches(entry, name))
        }
    }
}

fn name_matches(entry: &str, name: &str) -> bool {
    let entry = entry.strip_suffix('.').unwrap_or(entry);
    let entry = entry.strip_prefix('.').unwrap_or(entry);
    if entry.is_empty() || entry.len() > name.len() {
        return false;
    }
    let tail = &name[name.len() - entry.len()..];
    let boundary = name.len() == entry.len() || name[..name.len() - entry.len()].ends_with('.');
    boundary && tail.eq_ignore_ascii_case(entry)
}

fn address_matches(entry: &str, ip: IpAddr) -> bool {
    let (network, bits) = match entry.split_once('/') {
        Some((network, bits)) => match bits.parse::<u32>() {
            Ok(bits) => (network, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(network) = network.parse::<IpAddr>() else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            prefix_equal(&ip.octets(), &network.octets(), bits.unwrap_or(32))
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            prefix_equal(&ip.octets(), &network.octets(), bits.unwrap_or(128))
        }
        _ => false,
    }
}

/// Whether the first `bits` bits of `a` and `b` are equal (false when `bits` is longer
/// than the address, as curl refuses such a prefix).
fn prefix_equal(a: &[u8], b: &[u8], bits: u32) -> bool {
    let bits = bits as usize;
    if bits > a.len() * 8 {
        return false;
    }
    let (bytes, rest) = (bits / 8, bits % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    rest == 0 || (a[bytes] ^ b[bytes]) & (0xffu8 << (8 - rest)) == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn entries_match_as_in_curl() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "ycm.example.com", true),
            (" * ", "10.1.2.3", true),
            ("", "ycm.example.com", false),
            ("example.com", "example.com", true),
            ("example.com", "ycm.example.com", true),
            ("example.com", "YCM.Example.COM", true),
            (".example.com", "example.com", true),
            (".example.com", "a.b.example.com", true),
            ("example.com.", "ycm.example.com.", true),
            ("example.com", "notexample.com", false),
            ("ycm.example.com", "example.com", false),
            ("other.org, example.com", "ycm.example.com", true),
            ("other.org example.com", "ycm.example.com", true),
            ("other.org,,\texample.com", "ycm.example.com", true),
            // `*` is a wildcard only as the whole value; an entry `*.x` is a name.
            ("other.org,*", "ycm.example.com", false),
            ("*.example.com", "ycm.example.com", false),
            // Ports are not compared: an entry with one matches nothing.
            ("example.com:443", "example.com", false),
            ("127.0.0.1:8080", "127.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.0/8", "127.9.9.9", true),
            ("10.0.0.0/8", "127.0.0.1", false),
            ("192.168.1.0/23", "192.168.0.7", true),
            ("192.168.1.0/24", "192.168.0.7", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("1.2.3.4/33", "1.2.3.4", false),
            ("1.2.3.4/x", "1.2.3.4", false),
            ("::1", "[::1]", true),
            ("fd00::/8", "[fd12::1]", true),
            ("fd00::/8", "[fe80::1]", false),
            ("127.0.0.1", "[::ffff:127.0.0.1]", false),
            // Names never match addresses, nor addresses names.
            ("localhost", "127.0.0.1", false),
            ("0.1", "10.0.0.1", false),
            ("127.0.0.1", "localhost", false),
        ];
        for (list, host, expected) in cases {
            assert_eq!(
                matches(list, host),
                *expected,
                "NO_PROXY={list:?} host {host}"
            );
        }
    }
}
