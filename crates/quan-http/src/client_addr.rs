//! The client's real address behind reverse proxies. A proxy's own address
//! would make one client of a whole city (its per-address limits would
//! throttle everyone together), so the addresses of trusted proxies are
//! configured, and only their `X-Forwarded-For` / `Forwarded` headers are
//! believed: walking the chain from the right, the first address that is
//! not a trusted proxy is the client. Anyone else's headers are ignored
//! (a client could write any address into them).

use std::net::IpAddr;

use axum::http::HeaderMap;

/// The networks whose forwarding headers are believed: `10.0.0.0/8, ::1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Comma-separated addresses or CIDR blocks; empty: trust nobody.
    pub fn parse(s: &str) -> Result<TrustedProxies, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (addr, bits) = match part.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (part, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| format!("`{part}` is not an IP address or CIDR block"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => {
                    b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("`{part}`: bad prefix length"))?
                }
            };
            out.push((ip, bits));
        }
        Ok(TrustedProxies(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|(net, bits)| in_block(ip, *net, *bits))
    }

    /// The client's address: `peer` unless `peer` is a trusted proxy, then
    /// the rightmost untrusted address its forwarding headers name.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut chain: Vec<IpAddr> = forwarded_for(headers);
        if chain.is_empty() {
            chain = x_forwarded_for(headers);
        }
        chain.into_iter().rev().find(|ip| !self.trusts(*ip)).unwrap_or(peer)
    }
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a.to_ipv4_mapped().is_some_and(|v4| in_block(IpAddr::V4(v4), net, bits)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

/// `X-Forwarded-For: client, proxy1, proxy2` (every such header, in order).
fn x_forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect()
}

/// RFC 7239: `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|elem| {
            elem.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                if !k.trim().eq_ignore_ascii_case("for") {
                    return None;
                }
                let v = v.trim().trim_matches('"');
                let host = match v.strip_prefix('[') {
                    Some(rest) => rest.split(']').next()?,
                    None => v.split(':').next()?,
                };
                host.parse().ok()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_trusted_proxys_forwarded_address_is_the_client_and_anyone_elses_is_ignored() {
        let t = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap_or_default();
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.1.2.3")]);
        assert_eq!(t.client(ip("10.0.0.2"), &h), ip("203.0.113.7"), "the proxy's view, skipping trusted hops");
        assert_eq!(t.client(ip("198.51.100.9"), &h), ip("198.51.100.9"), "an untrusted peer's header is a lie");
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(t.client(ip("10.0.0.2"), &spoofed), ip("203.0.113.7"), "the client cannot pick its address");
        let rfc = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https, for=10.9.9.9")]);
        assert_eq!(t.client(ip("::1"), &rfc), ip("2001:db8::1"));
        assert_eq!(t.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"), "no header: the peer");
    }

    #[test]
    fn bad_proxy_settings_are_refused_by_name() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert_eq!(TrustedProxies::parse(" ").map(|t| t.is_empty()), Ok(true));
    }
}
