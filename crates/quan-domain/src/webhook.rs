//! Webhooks to partners, as Standard Webhooks (standardwebhooks.com) has
//! them: the signature (`v1,` HMAC-SHA256 over `id.timestamp.body` under
//! the endpoint's `whsec_` secret), the retry schedule (about three days,
//! with jitter, `Retry-After` honoured), what an answer means, and which
//! targets are refused (no private, loopback or link-local addresses).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::invalid::{Invalid, ensure};

/// Waits before each retry after the first attempt, in seconds: 5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 20 h — 71.6 h, about three days.
pub const RETRY_S: [i64; 9] = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 72_000];
/// The longest `Retry-After` honoured.
pub const RETRY_AFTER_MAX_S: i64 = 86_400;
/// Longest endpoint URL.
pub const URL_MAX: usize = 500;

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret's bytes (the base64 after `whsec_`).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut m = format!("{id}.{timestamp}.").into_bytes();
    m.extend_from_slice(body);
    Some(format!("v1,{}", STANDARD.encode(crate::partner_auth::hmac_sha256(&key, &m))))
}

/// What an attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: delivered.
    Delivered,
    /// 410 Gone: the endpoint is disabled at once.
    Gone,
    /// Anything else (or no answer): tried again.
    Failed,
}

/// The answer to status `status` (`None`: no answer, a timeout or refused connection).
pub fn answer(status: Option<u16>) -> Answer {
    match status {
        Some(200..=299) => Answer::Delivered,
        Some(410) => Answer::Gone,
        _ => Answer::Failed,
    }
}

/// Seconds until the next attempt after failed attempt number `attempts`
/// (1 for the first), or `None` once the schedule is spent. `jitter_permille`
/// (0–999, from the caller's randomness) spreads the wait by up to ±10 %;
/// a longer `Retry-After` is honoured (up to a day).
pub fn next_wait_s(attempts: u32, jitter_permille: u32, retry_after_s: Option<i64>) -> Option<i64> {
    let base = *RETRY_S.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let spread = base / 10;
    let jitter = (i64::from(jitter_permille.min(999)) * 2 * spread) / 1000 - spread;
    let wait = (base + jitter).max(1);
    Some(retry_after_s.map_or(wait, |r| wait.max(r.clamp(0, RETRY_AFTER_MAX_S))))
}

/// An endpoint URL: `https://` (or `http://`), a host, at most 500 characters,
/// no user information. Addresses are checked when delivering ([`public`]).
pub fn check_url(url: &str) -> Result<(), Invalid> {
    let bad = |why: &str| Invalid::new("url", "url_invalid", why.to_owned());
    ensure(url.len() <= URL_MAX, "url", "url_invalid", || format!("a URL has at most {URL_MAX} characters"))?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("an https:// (or http://) URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("a URL with a host and no user information or spaces"));
    }
    Ok(())
}

/// Whether `ip` may be a webhook's target: not loopback, private,
/// link-local, unspecified, multicast, shared (100.64/10), documentation or
/// the cloud metadata address.
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_standard_webhooks_v1_over_id_timestamp_and_body() {
        // The example of the Standard Webhooks specification.
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        assert_eq!(signature("nope", "m", 1, b""), None);
    }

    #[test]
    fn retries_spread_over_about_three_days_and_honour_retry_after() {
        let total: i64 = RETRY_S.iter().sum();
        assert!((3 * 86_400 - 6 * 3600..=3 * 86_400).contains(&total), "{total}");
        assert_eq!(next_wait_s(1, 500, None), Some(5));
        assert_eq!(next_wait_s(2, 0, None), Some(270));
        assert_eq!(next_wait_s(2, 999, None), Some(329));
        assert_eq!(next_wait_s(1, 500, Some(120)), Some(120));
        assert_eq!(next_wait_s(1, 500, Some(999_999)), Some(RETRY_AFTER_MAX_S));
        assert_eq!(next_wait_s(9, 500, None), Some(72_000));
        assert_eq!(next_wait_s(10, 500, None), None);
        assert_eq!(next_wait_s(0, 500, None), None);
    }

    #[test]
    fn answers_mean_delivered_gone_or_try_again() {
        assert_eq!(answer(Some(204)), Answer::Delivered);
        assert_eq!(answer(Some(410)), Answer::Gone);
        for s in [Some(301), Some(404), Some(429), Some(500), None] {
            assert_eq!(answer(s), Answer::Failed, "{s:?}");
        }
    }

    #[test]
    fn private_loopback_and_metadata_targets_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!public(bad.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))), "{bad}");
        }
        for good in ["8.8.8.8", "114.114.114.114", "2400:3200::1"] {
            assert!(public(good.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))), "{good}");
        }
    }

    #[test]
    fn an_endpoint_url_has_a_scheme_and_a_host_and_nothing_hidden() {
        assert!(check_url("https://bank.example.com/quan/hooks").is_ok());
        assert!(check_url("http://127.0.0.1:8080/h").is_ok(), "addresses are checked when delivering");
        for bad in ["ftp://x", "https://", "https://user:pw@x.com/", "https://x.com/a b", "x.com"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
