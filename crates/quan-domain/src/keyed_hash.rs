//! Personal data (phone numbers, ID numbers) is matched by a keyed hash, never
//! stored in plaintext. The hash is computed by the engine with a secret key;
//! this is only the value type.

use std::fmt;

/// A 32-byte keyed hash (HMAC-SHA256 or HMAC-SM3) of a personal datum.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyedHash([u8; 32]);

impl KeyedHash {
    pub const fn from_bytes(b: [u8; 32]) -> KeyedHash {
        KeyedHash(b)
    }

    pub fn from_slice(b: &[u8]) -> Option<KeyedHash> {
        <[u8; 32]>::try_from(b).ok().map(KeyedHash)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for KeyedHash {
    /// Only a short prefix: enough to tell two hashes apart in a test failure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedHash({:02x}{:02x}{:02x}{:02x}…)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}
