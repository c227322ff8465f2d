//! A partner's signed request (issue 27, the partner API): the
//! `Authorization` header (`QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …`,
//! WeChat Pay APIv3's shape), the message both schemes sign (WeChat's five
//! lines: method, path with query, timestamp, nonce, body), the clock's
//! tolerance, and the HMAC-SHA256 check. Every refusal has a stable code.
//! The SM2 check and the nonce's single use live with the engine (they need
//! the partner's keys and memory).

use hmac::{Hmac, KeyInit, Mac};

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// SM2 with SM3, signer ID `1234567812345678`, the signature r‖s in base64.
    Sm2Sm3,
    /// HMAC-SHA256 under the partner's secret, in base64.
    HmacSha256,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Sm2Sm3 => "QUAN-SM2-SM3",
            Scheme::HmacSha256 => "QUAN-HMAC-SHA256",
        }
    }
}

/// The `Authorization` header's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub scheme: Scheme,
    pub partner_id: String,
    /// The key's serial number (SM2; empty for HMAC).
    pub serial_no: String,
    /// Unix seconds.
    pub timestamp: i64,
    pub nonce: String,
    pub signature: String,
}

/// Why a signed request is refused, with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the Authorization header is not `QUAN-SM2-SM3 …` or `QUAN-HMAC-SHA256 …` with partner_id, timestamp, nonce_str and signature"
    )]
    Malformed,
    #[error("the timestamp is more than 300 s from the server's clock")]
    TimestampSkew,
    #[error("the signature does not verify")]
    SignatureInvalid,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Malformed => "authorization_malformed",
            Refusal::TimestampSkew => "timestamp_skew",
            Refusal::SignatureInvalid => "signature_invalid",
        }
    }
}

/// Seconds a request's timestamp may be from the server's clock.
pub const SKEW_S: i64 = 300;
/// Longest nonce accepted (WeChat's are 32 characters).
const NONCE_MAX: usize = 64;

/// Parses the header: `SCHEME k="v",k=v,…` (quotes optional, order free).
pub fn parse(header: &str) -> Result<Signed, Refusal> {
    let (scheme, rest) = header.trim().split_once(' ').ok_or(Refusal::Malformed)?;
    let scheme = match scheme {
        "QUAN-SM2-SM3" => Scheme::Sm2Sm3,
        "QUAN-HMAC-SHA256" => Scheme::HmacSha256,
        _ => return Err(Refusal::Malformed),
    };
    let mut s = Signed {
        scheme,
        partner_id: String::new(),
        serial_no: String::new(),
        timestamp: 0,
        nonce: String::new(),
        signature: String::new(),
    };
    let mut timestamp = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(Refusal::Malformed)?;
        let v = v.trim().trim_matches('"').to_owned();
        if v.is_empty() || v.chars().any(char::is_control) {
            return Err(Refusal::Malformed);
        }
        match k.trim() {
            "partner_id" => s.partner_id = v,
            "serial_no" => s.serial_no = v,
            "timestamp" => timestamp = Some(v.parse::<i64>().map_err(|_| Refusal::Malformed)?),
            "nonce_str" if v.len() <= NONCE_MAX => s.nonce = v,
            "signature" => s.signature = v,
            _ => return Err(Refusal::Malformed),
        }
    }
    s.timestamp = timestamp.ok_or(Refusal::Malformed)?;
    let sm2_needs_serial = scheme == Scheme::Sm2Sm3 && s.serial_no.is_empty();
    if s.partner_id.is_empty() || s.nonce.is_empty() || s.signature.is_empty() || sm2_needs_serial {
        return Err(Refusal::Malformed);
    }
    Ok(s)
}

/// The bytes both schemes sign: `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn message(method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n").into_bytes();
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// Whether the timestamp is within `SKEW_S` of `now_s`.
pub fn check_time(timestamp: i64, now_s: i64) -> Result<(), Refusal> {
    if (timestamp - now_s).abs() <= SKEW_S { Ok(()) } else { Err(Refusal::TimestampSkew) }
}

/// HMAC-SHA256 of `message` under `secret`, as raw bytes.
pub fn hmac_sha256(secret: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Checks an HMAC-SHA256 signature (decoded from base64 by the
/// caller) in constant time.
pub fn check_hmac(secret: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Refusal> {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.verify_slice(signature).map_err(|_| Refusal::SignatureInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_parses_in_any_order_with_or_without_quotes() {
        let h = r#"QUAN-SM2-SM3 serial_no="5157F09EFDC096DE",timestamp=1733400000, partner_id="bank-01",nonce_str=593BEC0C930BF1AFEB40B4A08C8FB242,signature="AAA=""#;
        let s = parse(h).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (s.scheme, s.partner_id.as_str(), s.serial_no.as_str(), s.timestamp),
            (Scheme::Sm2Sm3, "bank-01", "5157F09EFDC096DE", 1_733_400_000)
        );
        assert_eq!(s.signature, "AAA=");
    }

    #[test]
    fn a_header_missing_a_part_or_with_an_unknown_scheme_or_key_is_malformed() {
        for bad in [
            "Bearer x",
            "QUAN-HMAC-SHA256",
            "QUAN-HMAC-SHA256 partner_id=a,timestamp=1,nonce_str=n",
            "QUAN-HMAC-SHA256 partner_id=a,timestamp=soon,nonce_str=n,signature=s",
            "QUAN-HMAC-SHA256 partner_id=a,timestamp=1,nonce_str=n,signature=s,extra=1",
            "QUAN-SM2-SM3 partner_id=a,timestamp=1,nonce_str=n,signature=s",
            "QUAN-HMAC-SHA256 partner_id=a\u{0},timestamp=1,nonce_str=n,signature=s",
        ] {
            assert_eq!(parse(bad), Err(Refusal::Malformed), "{bad:?}");
        }
        assert!(
            parse("QUAN-HMAC-SHA256 partner_id=a,timestamp=1,nonce_str=n,signature=s").is_ok(),
            "HMAC needs no serial"
        );
    }

    #[test]
    fn the_signed_message_is_wechats_five_lines_and_the_clock_allows_five_minutes() {
        let m = message("POST", "/partner/v1/quotes?x=1", 1_733_400_000, "abc", br#"{"a":1}"#);
        assert_eq!(m, b"POST\n/partner/v1/quotes?x=1\n1733400000\nabc\n{\"a\":1}\n".to_vec());
        assert_eq!(check_time(1_000, 1_300), Ok(()));
        assert_eq!(check_time(1_000, 1_301), Err(Refusal::TimestampSkew));
        assert_eq!(check_time(1_301, 1_000), Err(Refusal::TimestampSkew));
    }

    #[test]
    fn an_hmac_signature_verifies_only_for_its_secret_and_message() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(check_hmac(b"Jefe", b"what do ya want for nothing?", &mac), Ok(()));
        assert_eq!(check_hmac(b"jefe", b"what do ya want for nothing?", &mac), Err(Refusal::SignatureInvalid));
        assert_eq!(check_hmac(b"Jefe", b"what do ya want for nothing!", &mac), Err(Refusal::SignatureInvalid));
        assert_eq!(check_hmac(b"Jefe", b"what do ya want for nothing?", &mac[..31]), Err(Refusal::SignatureInvalid));
    }
}
