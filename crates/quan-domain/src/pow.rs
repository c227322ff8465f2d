//! Proof of work for a claim: a SHA-256 hashcash bound to one resident,
//! one batch and an expiry, sealed by the server's MAC so nobody can make
//! their own easier one. The phone finds a `nonce` such that
//! `SHA-256(challenge ‖ ":" ‖ nonce)` begins with `bits` zero bits; the
//! server checks it with one hash and one MAC (microseconds) and takes
//! each challenge once. Difficulty is a cost knob, not a wall: it works
//! with the per-account and per-person limits, never alone.
//!
//! A challenge reads `v1.<batch>.<resident>.<expires ms>.<bits>.<salt>.<mac>`
//! (ids and salt as 32 hex digits, the MAC as 32: the first 128 bits of
//! `HMAC-SHA256(key, "quan-pow:" ‖ everything before it)`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::{BatchId, ResidentId};

/// Bits a challenge may ask for at most (2^40 hashes is hours on a GPU).
pub const BITS_MAX: u8 = 40;
/// The longest nonce a solution may be (decimal digits of a u64).
pub const NONCE_CHARS_MAX: usize = 20;

/// A challenge's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge {
    pub batch: BatchId,
    pub resident: ResidentId,
    pub expires_at_ms: i64,
    pub bits: u8,
    pub salt: [u8; 16],
}

/// Why a solution was refused; each a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    #[error("the challenge is not one this platform issued")]
    NotGenuine,
    #[error("the challenge has expired: fetch a new one")]
    Expired,
    #[error("the challenge was issued for another resident or batch")]
    NotYours,
    #[error("the nonce does not solve the challenge")]
    NotSolved,
    #[error("this challenge was used already: fetch a new one")]
    Used,
}

impl PowError {
    pub fn code(self) -> &'static str {
        match self {
            PowError::NotGenuine => "challenge_not_genuine",
            PowError::Expired => "challenge_expired",
            PowError::NotYours => "challenge_not_yours",
            PowError::NotSolved => "challenge_failed",
            PowError::Used => "challenge_used",
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn seal(key: &[u8; 32], body: &str) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"quan-pow:");
    m.update(body.as_bytes());
    hex(&m.finalize().into_bytes()[..16])
}

impl Challenge {
    /// The challenge as the phone receives it.
    pub fn encode(&self, key: &[u8; 32]) -> String {
        let body = format!(
            "v1.{}.{}.{}.{}.{}",
            hex(self.batch.as_uuid().as_bytes()),
            hex(self.resident.as_uuid().as_bytes()),
            self.expires_at_ms,
            self.bits,
            hex(&self.salt)
        );
        let mac = seal(key, &body);
        format!("{body}.{mac}")
    }

    /// A challenge this platform issued (its MAC checks), whatever its age.
    pub fn decode(s: &str, key: &[u8; 32]) -> Result<Challenge, PowError> {
        let parts: Vec<&str> = s.split('.').collect();
        let [v, batch, resident, expires, bits, salt, mac] = parts.as_slice() else {
            return Err(PowError::NotGenuine);
        };
        let body_len = s.len() - mac.len() - 1;
        let genuine = *v == "v1"
            && s.get(..body_len).is_some_and(|body| {
                let want = seal(key, body);
                // Compared in constant time: the MAC is the secret's only witness.
                want.len() == mac.len() && want.bytes().zip(mac.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
            });
        if !genuine {
            return Err(PowError::NotGenuine);
        }
        let c = (|| {
            Some(Challenge {
                batch: BatchId::from_uuid(uuid::Uuid::from_bytes(unhex16(batch)?)),
                resident: ResidentId::from_uuid(uuid::Uuid::from_bytes(unhex16(resident)?)),
                expires_at_ms: expires.parse().ok()?,
                bits: bits.parse().ok().filter(|b| *b <= BITS_MAX)?,
                salt: unhex16(salt)?,
            })
        })();
        c.ok_or(PowError::NotGenuine)
    }
}

/// Leading zero bits of a hash.
pub fn leading_zero_bits(h: &[u8]) -> u32 {
    let mut n = 0;
    for b in h {
        if *b == 0 {
            n += 8;
        } else {
            return n + b.leading_zeros();
        }
    }
    n
}

/// The hash a nonce gives for a challenge.
pub fn work(challenge: &str, nonce: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(challenge.as_bytes());
    h.update(b":");
    h.update(nonce.as_bytes());
    h.finalize().into()
}

/// Checks a solution for (`batch`, `resident`) at `now_ms`: the challenge
/// is genuine, theirs and alive, and the nonce solves it. Returns the
/// challenge (its salt is what "used once" remembers).
pub fn check(
    challenge: &str,
    nonce: &str,
    key: &[u8; 32],
    batch: BatchId,
    resident: ResidentId,
    now_ms: i64,
) -> Result<Challenge, PowError> {
    let c = Challenge::decode(challenge, key)?;
    if c.batch != batch || c.resident != resident {
        return Err(PowError::NotYours);
    }
    if now_ms > c.expires_at_ms {
        return Err(PowError::Expired);
    }
    let nonce_ok = !nonce.is_empty() && nonce.len() <= NONCE_CHARS_MAX && nonce.bytes().all(|b| b.is_ascii_digit());
    if !nonce_ok || leading_zero_bits(&work(challenge, nonce)) < u32::from(c.bits) {
        return Err(PowError::NotSolved);
    }
    Ok(c)
}

/// Finds a nonce by counting up from 0 (tests and simulations; phones run
/// the same loop in JavaScript).
pub fn solve(challenge: &str, bits: u8) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|n| leading_zero_bits(&work(challenge, n)) >= u32::from(bits))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];

    fn challenge(bits: u8) -> Challenge {
        Challenge {
            batch: BatchId::from_uuid(uuid::Uuid::from_u128(1)),
            resident: ResidentId::from_uuid(uuid::Uuid::from_u128(2)),
            expires_at_ms: 1_000,
            bits,
            salt: [3; 16],
        }
    }

    #[test]
    fn a_solved_challenge_checks_and_its_fields_read_back() {
        let c = challenge(8);
        let s = c.encode(&KEY);
        assert_eq!(Challenge::decode(&s, &KEY), Ok(c));
        let nonce = solve(&s, 8);
        assert_eq!(check(&s, &nonce, &KEY, c.batch, c.resident, 999), Ok(c));
        assert!(leading_zero_bits(&work(&s, &nonce)) >= 8);
    }

    #[test]
    fn a_wrong_nonce_an_expired_or_foreign_challenge_and_a_forgery_are_refused_by_name() {
        let c = challenge(12);
        let s = c.encode(&KEY);
        let nonce = solve(&s, 12);
        let other = ResidentId::from_uuid(uuid::Uuid::from_u128(5));
        assert_eq!(check(&s, &nonce, &KEY, c.batch, other, 0), Err(PowError::NotYours));
        assert_eq!(check(&s, &nonce, &KEY, c.batch, c.resident, 1_001), Err(PowError::Expired));
        let wrong = (0u64..).map(|n| n.to_string()).find(|n| leading_zero_bits(&work(&s, n)) < 12).unwrap_or_default();
        assert_eq!(check(&s, &wrong, &KEY, c.batch, c.resident, 0), Err(PowError::NotSolved));
        assert_eq!(check(&s, "12a", &KEY, c.batch, c.resident, 0), Err(PowError::NotSolved));
        // Asking for fewer bits breaks the MAC.
        let easier = s.replacen(".12.", ".1.", 1);
        assert_eq!(check(&easier, "0", &KEY, c.batch, c.resident, 0), Err(PowError::NotGenuine));
        assert_eq!(check(&s, &nonce, &[8; 32], c.batch, c.resident, 0), Err(PowError::NotGenuine), "another key");
        assert_eq!(Challenge::decode("v1.x", &KEY), Err(PowError::NotGenuine));
    }

    #[test]
    fn leading_zero_bits_count_across_bytes() {
        assert_eq!(leading_zero_bits(&[0, 0, 0b0001_0000, 0xff]), 19);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    #[test]
    fn the_work_matches_an_independent_sha256() {
        // sha256("abc:0") from Python's hashlib.
        assert_eq!(hex(&work("abc", "0")), "5f36efce86f68877cee18fda5637abb2a1bb409f4326cc741fdf13200aa26980");
    }
}
