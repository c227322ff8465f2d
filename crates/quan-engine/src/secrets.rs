//! Keyed hashes of personal data, bearer tokens and password hashing.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use quan_domain::KeyedHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::random::Random;

/// The key for hashing personal data. Every node of one deployment must use
/// the same key, or the same phone number would hash differently on each.
#[derive(Clone)]
pub struct PiiKey([u8; 32]);

impl std::fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiKey(<redacted>)")
    }
}

impl PiiKey {
    pub fn from_bytes(b: [u8; 32]) -> PiiKey {
        PiiKey(b)
    }

    /// From 64 hex digits, as kept in config or in the key file.
    pub fn from_hex(s: &str) -> Option<PiiKey> {
        let v = hex::decode(s.trim()).ok()?;
        <[u8; 32]>::try_from(v.as_slice()).ok().map(PiiKey)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// HMAC-SHA256 over a domain label and the value, so a phone number and
    /// an ID number that happen to share digits never share a hash.
    pub fn hash(&self, label: &str, value: &[u8]) -> KeyedHash {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        let out = mac.finalize().into_bytes();
        let mut b = [0u8; 32];
        b.copy_from_slice(&out);
        KeyedHash::from_bytes(b)
    }
}

impl PiiKey {
    /// A key of its own for `label`, derived from this one (never the key itself).
    pub(crate) fn derived(&self, label: &str) -> [u8; 32] {
        *self.hash(&format!("key:{label}"), b"").as_bytes()
    }

    /// Seals `value` (AES-256-GCM under a key derived for `label`): the
    /// 12-byte `nonce` (random, never reused) followed by the ciphertext and tag.
    pub fn seal(&self, label: &str, value: &[u8], nonce: [u8; 12]) -> Vec<u8> {
        use aes_gcm::aead::{Aead, KeyInit as _};
        let cipher = aes_gcm::Aes256Gcm::new(&self.derived(label).into());
        // Encryption into a Vec cannot fail for inputs this small.
        let ct = cipher.encrypt(&nonce.into(), value).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(ct);
        out
    }

    /// The value [`PiiKey::seal`] sealed for `label`; `None` when it was
    /// sealed under another key or label, or changed since.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        use aes_gcm::aead::{Aead, KeyInit as _};
        let (nonce, ct) = sealed.split_at_checked(12)?;
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let cipher = aes_gcm::Aes256Gcm::new(&self.derived(label).into());
        cipher.decrypt(&nonce.into(), ct).ok()
    }
}

/// Prefix of every bearer token, so a leaked token is easy to spot and scan for.
pub const TOKEN_PREFIX: &str = "qn_";

/// A new bearer token (256 random bits) and the hash under which it is stored.
pub fn new_token(random: &dyn Random) -> (String, [u8; 32]) {
    let mut b = [0u8; 32];
    random.fill(&mut b);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(b));
    let hash = token_hash(&token);
    (token, hash)
}

/// Tokens carry 256 random bits, so a plain SHA-256 is enough to store them:
/// there is nothing to brute-force.
pub fn token_hash(token: &str) -> [u8; 32] {
    let mut b = [0u8; 32];
    b.copy_from_slice(&Sha256::digest(token.as_bytes()));
    b
}

pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Argon2id settings (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy)]
pub struct PasswordParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams { m_cost_kib: 19 * 1024, t_cost: 2, p_cost: 1 }
    }
}

fn argon(p: PasswordParams) -> Option<Argon2<'static>> {
    let params = Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32)).ok()?;
    Some(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
pub fn hash_password(password: &str, params: PasswordParams, random: &dyn Random) -> String {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let mut out = [0u8; 32];
    let hasher = argon(params).unwrap_or_else(|| panic!("invalid argon2 parameters {params:?}"));
    if let Err(e) = hasher.hash_password_into(password.as_bytes(), &salt, &mut out) {
        panic!("argon2 refused valid input: {e}");
    }
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost_kib,
        params.t_cost,
        params.p_cost,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    )
}

fn parse_phc(phc: &str) -> Option<(PasswordParams, Vec<u8>, Vec<u8>)> {
    let mut parts = phc.split('$');
    let (_, alg, ver, ps, salt, hash) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if alg != "argon2id" || ver != "v=19" || parts.next().is_some() {
        return None;
    }
    let mut p = PasswordParams { m_cost_kib: 0, t_cost: 0, p_cost: 0 };
    for kv in ps.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v: u32 = v.parse().ok()?;
        match k {
            "m" => p.m_cost_kib = v,
            "t" => p.t_cost = v,
            "p" => p.p_cost = v,
            _ => return None,
        }
    }
    Some((p, STANDARD_NO_PAD.decode(salt).ok()?, STANDARD_NO_PAD.decode(hash).ok()?))
}

/// Whether `password` matches the stored PHC string. A malformed stored hash
/// never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Some((params, salt, expected)) = parse_phc(phc) else { return false };
    let Some(hasher) = argon(params) else { return false };
    let mut out = vec![0u8; expected.len()];
    hasher.hash_password_into(password.as_bytes(), &salt, &mut out).is_ok() && ct_eq(&out, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_and_label_only() {
        let k = PiiKey::from_bytes([3; 32]);
        let sealed = k.seal("merchant_phone", b"13812345678", [9; 12]);
        assert!(!sealed.windows(11).any(|w| w == b"13812345678"), "not in clear");
        assert_eq!(k.open("merchant_phone", &sealed).as_deref(), Some(&b"13812345678"[..]));
        assert_eq!(k.open("other", &sealed), None, "another label");
        assert_eq!(PiiKey::from_bytes([4; 32]).open("merchant_phone", &sealed), None, "another key");
        let mut bent = sealed.clone();
        bent[14] ^= 1;
        assert_eq!(k.open("merchant_phone", &bent), None, "changed");
        assert_eq!(k.open("merchant_phone", b"short"), None);
    }
    use crate::random::SeededRandom;

    const FAST: PasswordParams = PasswordParams { m_cost_kib: 64, t_cost: 1, p_cost: 1 };

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let r = SeededRandom::new(1);
        let phc = hash_password("correct horse battery", FAST, &r);
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let r = SeededRandom::new(1);
        assert_ne!(hash_password("pw", FAST, &r), hash_password("pw", FAST, &r));
    }

    #[test]
    fn a_malformed_stored_hash_never_matches() {
        for bad in ["", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x$a$b", "plain"] {
            assert!(!verify_password("pw", bad), "{bad}");
        }
    }

    #[test]
    fn keyed_hashes_depend_on_key_label_and_value() {
        let k1 = PiiKey::from_bytes([1; 32]);
        let k2 = PiiKey::from_bytes([2; 32]);
        assert_eq!(k1.hash("phone", b"138"), k1.hash("phone", b"138"));
        assert_ne!(k1.hash("phone", b"138"), k2.hash("phone", b"138"));
        assert_ne!(k1.hash("phone", b"138"), k1.hash("id", b"138"));
    }

    #[test]
    fn tokens_are_prefixed_and_stored_by_hash() {
        let (t, h) = new_token(&SeededRandom::new(9));
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() > 40);
        assert_eq!(token_hash(&t), h);
        assert_eq!(format!("{:?}", PiiKey::from_bytes([0; 32])), "PiiKey(<redacted>)");
    }
}
