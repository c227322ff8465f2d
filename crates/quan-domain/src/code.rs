//! Dynamic codes (动态码) shown as QR codes at the till, in both directions:
//! a resident's voucher code (the cashier scans it) and a till's code (the
//! resident scans it). A code names its subject, the key that signed it and
//! its time window, and carries a MAC bound to the subject's owner (the
//! resident for a voucher, the merchant for a till), so a code copied from
//! one phone is useless after its window and a forged one never verifies.
//!
//! Layout (35 bytes, then Crockford base32, 56 characters, which QR codes
//! store in their compact alphanumeric mode):
//! `version (1) | subject type (1) | key id (1) | subject id (16) | window (4, BE) | MAC (12)`.
//! The MAC is HMAC-SHA256 or HMAC-SM3 (chosen by configuration) over the
//! first 23 bytes and the owner's id, truncated to 96 bits.

use hmac::{Hmac, KeyInit, Mac};

/// The format version written into every code.
pub const CODE_VERSION: u8 = 1;
/// Bytes of MAC kept: 96 bits (at least 80 are required).
pub const MAC_BYTES: usize = 12;
const BODY_BYTES: usize = 1 + 1 + 1 + 16 + 4;
const CODE_BYTES: usize = BODY_BYTES + MAC_BYTES;
/// Characters of a code.
pub const CODE_LEN: usize = (CODE_BYTES * 8).div_ceil(5);
/// Refresh period bounds, seconds.
pub const REFRESH_S_MIN: u32 = 15;
pub const REFRESH_S_MAX: u32 = 60;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What a code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A resident's voucher; bound to the resident.
    Voucher(uuid::Uuid),
    /// A merchant's till; bound to the merchant.
    Till(uuid::Uuid),
}

impl Subject {
    fn tag(self) -> u8 {
        match self {
            Subject::Voucher(_) => 1,
            Subject::Till(_) => 2,
        }
    }
    fn id(self) -> uuid::Uuid {
        match self {
            Subject::Voucher(u) | Subject::Till(u) => u,
        }
    }
}

/// The MAC function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacAlgorithm {
    HmacSha256,
    /// HMAC over SM3 (GB/T 32905), for deployments held to the national standards.
    HmacSm3,
}

impl MacAlgorithm {
    pub fn parse(s: &str) -> Option<MacAlgorithm> {
        match s {
            "hmac-sha256" | "hmac_sha256" => Some(MacAlgorithm::HmacSha256),
            "hmac-sm3" | "hmac_sm3" => Some(MacAlgorithm::HmacSm3),
            _ => None,
        }
    }
}

/// One signing key. Its secret never leaves the server.
#[derive(Clone)]
pub struct CodeKey {
    pub id: u8,
    pub algorithm: MacAlgorithm,
    secret: [u8; 32],
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeKey").field("id", &self.id).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl CodeKey {
    pub fn new(id: u8, algorithm: MacAlgorithm, secret: [u8; 32]) -> CodeKey {
        CodeKey { id, algorithm, secret }
    }

    fn mac(&self, body: &[u8], owner: uuid::Uuid) -> [u8; MAC_BYTES] {
        let full: Vec<u8> = match self.algorithm {
            MacAlgorithm::HmacSha256 => {
                let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.secret)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                m.update(body);
                m.update(owner.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
            MacAlgorithm::HmacSm3 => {
                let mut m = <Hmac<sm3::Sm3> as KeyInit>::new_from_slice(&self.secret)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                m.update(body);
                m.update(owner.as_bytes());
                m.finalize().into_bytes().to_vec()
            }
        };
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(&full[..MAC_BYTES]);
        out
    }
}

/// The time window of `unix_s` for codes refreshed every `refresh_s` seconds.
pub fn window_of(unix_s: i64, refresh_s: u32) -> u32 {
    u32::try_from(unix_s.max(0) / i64::from(refresh_s.max(1))).unwrap_or(u32::MAX)
}

/// Makes the code of `subject`, owned by `owner`, for `window`.
pub fn issue(subject: Subject, owner: uuid::Uuid, window: u32, key: &CodeKey) -> String {
    let mut bytes = Vec::with_capacity(CODE_BYTES);
    bytes.push(CODE_VERSION);
    bytes.push(subject.tag());
    bytes.push(key.id);
    bytes.extend_from_slice(subject.id().as_bytes());
    bytes.extend_from_slice(&window.to_be_bytes());
    let mac = key.mac(&bytes, owner);
    bytes.extend_from_slice(&mac);
    encode(&bytes)
}

/// A code read back, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub subject: Subject,
    pub key_id: u8,
    pub window: u32,
    body: [u8; BODY_BYTES],
    mac: [u8; MAC_BYTES],
}

/// Why a code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("this is not a quan code (expected {CODE_LEN} characters of 0-9 and A-Z)")]
    Malformed,
    #[error("this code's format version is not supported")]
    UnknownVersion,
    #[error("this code was signed with a key that is unknown or retired")]
    UnknownKey,
    #[error("this code is not genuine")]
    BadMac,
    #[error("this code has expired: show the current one")]
    Expired,
    #[error("this code is for a {expected}, not a {found}")]
    WrongSubject { expected: &'static str, found: &'static str },
}

impl CodeError {
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::Malformed | CodeError::UnknownVersion => "bad_code",
            CodeError::UnknownKey | CodeError::BadMac => "code_not_genuine",
            CodeError::Expired => "code_expired",
            CodeError::WrongSubject { .. } => "wrong_code_type",
        }
    }
}

/// Reads a code (scanners may add spaces or lower-case it; Crockford's
/// look-alikes I, L and O read as 1, 1 and 0).
pub fn parse(raw: &str) -> Result<Parsed, CodeError> {
    let bytes = decode(raw.trim()).ok_or(CodeError::Malformed)?;
    if bytes.len() != CODE_BYTES {
        return Err(CodeError::Malformed);
    }
    if bytes[0] != CODE_VERSION {
        return Err(CodeError::UnknownVersion);
    }
    let id = uuid::Uuid::from_slice(&bytes[3..19]).map_err(|_| CodeError::Malformed)?;
    let subject = match bytes[1] {
        1 => Subject::Voucher(id),
        2 => Subject::Till(id),
        _ => return Err(CodeError::Malformed),
    };
    let window = u32::from_be_bytes([bytes[19], bytes[20], bytes[21], bytes[22]]);
    let mut body = [0u8; BODY_BYTES];
    body.copy_from_slice(&bytes[..BODY_BYTES]);
    let mut mac = [0u8; MAC_BYTES];
    mac.copy_from_slice(&bytes[BODY_BYTES..]);
    Ok(Parsed { subject, key_id: bytes[2], window, body, mac })
}

impl Parsed {
    /// Checks the MAC with `key` (the key named by `key_id`) for `owner`.
    pub fn verify_mac(&self, key: &CodeKey, owner: uuid::Uuid) -> Result<(), CodeError> {
        if key.id != self.key_id {
            return Err(CodeError::UnknownKey);
        }
        let expected = key.mac(&self.body, owner);
        // Constant time: a forger learns nothing from how fast a guess fails.
        let diff = expected.iter().zip(self.mac.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 { Ok(()) } else { Err(CodeError::BadMac) }
    }

    /// Accepted in its own window, and in the window after it for
    /// `grace_s` seconds (the code shown just before a refresh still works
    /// when the cashier scans it a moment later); never from the future.
    pub fn check_window(&self, unix_s: i64, refresh_s: u32, grace_s: u32) -> Result<(), CodeError> {
        let now = window_of(unix_s, refresh_s);
        if self.window == now {
            return Ok(());
        }
        let window_end = (i64::from(self.window) + 1) * i64::from(refresh_s);
        if self.window < now && unix_s < window_end + i64::from(grace_s) {
            return Ok(());
        }
        Err(CodeError::Expired)
    }
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(CODE_LEN);
    let mut buf: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(CODE_BYTES);
    let mut buf: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for c in s.chars().filter(|c| !matches!(c, ' ' | '-')) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        let v = ALPHABET.iter().position(|a| char::from(*a) == c)? as u32;
        n += 1;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    (n == CODE_LEN).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(id: u8, algorithm: MacAlgorithm) -> CodeKey {
        CodeKey::new(id, algorithm, [id.wrapping_mul(7); 32])
    }

    fn voucher() -> uuid::Uuid {
        uuid::Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001)
    }

    #[test]
    fn a_code_is_56_characters_of_the_qr_alphanumeric_set() {
        let c = issue(Subject::Voucher(voucher()), uuid::Uuid::nil(), 12345, &key(1, MacAlgorithm::HmacSha256));
        assert_eq!(c.len(), CODE_LEN);
        assert_eq!(CODE_LEN, 56);
        assert!(c.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()), "{c}");
    }

    #[test]
    fn a_code_verifies_for_its_owner_and_not_for_anyone_else() {
        for alg in [MacAlgorithm::HmacSha256, MacAlgorithm::HmacSm3] {
            let k = key(3, alg);
            let owner = uuid::Uuid::from_u128(42);
            let c = issue(Subject::Voucher(voucher()), owner, 7, &k);
            let p = parse(&c).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.subject, Subject::Voucher(voucher()));
            assert_eq!((p.key_id, p.window), (3, 7));
            assert_eq!(p.verify_mac(&k, owner), Ok(()));
            assert_eq!(p.verify_mac(&k, uuid::Uuid::from_u128(43)), Err(CodeError::BadMac));
            assert_eq!(p.verify_mac(&key(4, alg), owner), Err(CodeError::UnknownKey));
        }
    }

    #[test]
    fn the_sm3_used_is_the_standard_one() {
        // GB/T 32905-2016, example 1: SM3("abc").
        let d = <sm3::Sm3 as sm3::Digest>::digest(b"abc");
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn sha256_and_sm3_give_different_macs() {
        let owner = uuid::Uuid::from_u128(1);
        let a = issue(Subject::Till(voucher()), owner, 1, &CodeKey::new(1, MacAlgorithm::HmacSha256, [9; 32]));
        let b = issue(Subject::Till(voucher()), owner, 1, &CodeKey::new(1, MacAlgorithm::HmacSm3, [9; 32]));
        assert_ne!(a, b);
        assert_eq!(a[..36], b[..36], "same body (the first 36 characters), different MAC");
    }

    #[test]
    fn a_code_is_accepted_in_its_window_and_for_the_grace_after_it_only() {
        let k = key(1, MacAlgorithm::HmacSha256);
        let c =
            parse(&issue(Subject::Voucher(voucher()), uuid::Uuid::nil(), 100, &k)).unwrap_or_else(|e| panic!("{e}"));
        // Window 100 covers [3000, 3030) with 30 s refresh.
        assert_eq!(c.check_window(3000, 30, 5), Ok(()));
        assert_eq!(c.check_window(3029, 30, 5), Ok(()));
        assert_eq!(c.check_window(3034, 30, 5), Ok(()), "inside the grace");
        assert_eq!(c.check_window(3035, 30, 5), Err(CodeError::Expired));
        assert_eq!(c.check_window(2999, 30, 5), Err(CodeError::Expired), "from the future");
    }

    #[test]
    fn scanner_noise_is_forgiven_but_a_changed_character_is_not() {
        let k = key(1, MacAlgorithm::HmacSha256);
        let owner = uuid::Uuid::from_u128(5);
        let c = issue(Subject::Voucher(voucher()), owner, 1, &k);
        let lower = format!("  {}  ", c.to_lowercase());
        assert_eq!(parse(&lower).map(|p| p.subject), Ok(Subject::Voucher(voucher())));
        assert_eq!(parse("hello"), Err(CodeError::Malformed));
        assert_eq!(parse(&c[..55]), Err(CodeError::Malformed));
        let mut tampered: Vec<char> = c.chars().collect();
        tampered[30] = if tampered[30] == 'A' { 'B' } else { 'A' };
        let t: String = tampered.into_iter().collect();
        match parse(&t) {
            Ok(p) => assert_eq!(p.verify_mac(&k, owner), Err(CodeError::BadMac)),
            Err(e) => assert_eq!(e, CodeError::Malformed),
        }
    }

    proptest! {
        #[test]
        fn every_code_reads_back_as_written(id in any::<u128>(), owner in any::<u128>(), window in any::<u32>(), kid in any::<u8>(), till in any::<bool>()) {
            let subject = if till { Subject::Till(uuid::Uuid::from_u128(id)) } else { Subject::Voucher(uuid::Uuid::from_u128(id)) };
            let k = CodeKey::new(kid, MacAlgorithm::HmacSm3, [kid; 32]);
            let c = issue(subject, uuid::Uuid::from_u128(owner), window, &k);
            let p = parse(&c).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(p.subject, subject);
            prop_assert_eq!(p.window, window);
            prop_assert_eq!(p.verify_mac(&k, uuid::Uuid::from_u128(owner)), Ok(()));
        }
    }
}
