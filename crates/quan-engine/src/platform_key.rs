//! The deployment's own signing key (SM2 with SM3, signer ID
//! `1234567812345678` as GM/T 0009 and WeChat Pay's national-crypto variant
//! use): it signs what quan hands to others (a risk case's evidence
//! package). Derived one way from the deployment's secret key, so every
//! node of one deployment signs with the same key and nothing new needs
//! keeping; its public key is published (`quan risk public-key`).

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};

use crate::secrets::PiiKey;

/// The signer ID (ZA's distinguishing identifier) of every quan signature.
pub const SIGNER_ID: &str = "1234567812345678";

/// The deployment's SM2 signing key.
#[derive(Clone)]
pub struct PlatformKey(SigningKey);

impl std::fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlatformKey(public {})", self.public_hex())
    }
}

impl PlatformKey {
    /// The key derived from the deployment's secret key.
    pub fn derive(pii: &PiiKey) -> PlatformKey {
        // A 32-byte string is a valid scalar but for 1 in 2^128 strings
        // (zero or at least the group order): derive again then.
        for round in 0u32.. {
            let bytes = pii.derived(&format!("platform-sm2:{round}"));
            if let Ok(sk) = sm2::SecretKey::from_slice(&bytes)
                && let Ok(k) = SigningKey::new(SIGNER_ID, &sk)
            {
                return PlatformKey(k);
            }
        }
        unreachable!("a valid scalar is found within a few rounds")
    }

    /// The public key, SEC1 uncompressed (`04‖x‖y`), in hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_sec1_bytes())
    }

    /// The signature of `message`, raw `r‖s` (64 bytes) in hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        let s: Signature = self.0.sign(message);
        hex::encode(s.to_bytes())
    }
}

/// Whether `signature_hex` (raw `r‖s`) signs `message` under the SEC1 public key `public_hex`.
pub fn verify_hex(public_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let (Ok(pk), Ok(sig)) = (hex::decode(public_hex.trim()), hex::decode(signature_hex.trim())) else { return false };
    let Ok(vk) = VerifyingKey::from_sec1_bytes(SIGNER_ID, &pk) else { return false };
    let Ok(sig) = Signature::try_from(sig.as_slice()) else { return false };
    vk.verify(message, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_under_the_published_key_and_not_after_a_change() {
        let k = PlatformKey::derive(&PiiKey::from_bytes([7; 32]));
        let sig = k.sign_hex(b"manifest");
        assert!(verify_hex(&k.public_hex(), b"manifest", &sig));
        assert!(!verify_hex(&k.public_hex(), b"manifesT", &sig));
        let other = PlatformKey::derive(&PiiKey::from_bytes([8; 32]));
        assert!(!verify_hex(&other.public_hex(), b"manifest", &sig));
        assert_eq!(k.public_hex(), PlatformKey::derive(&PiiKey::from_bytes([7; 32])).public_hex());
        assert_eq!(k.public_hex().len(), 130);
    }
}
