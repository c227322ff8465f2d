//! Lottery draws anyone can check.
//!
//! When a lottery batch is created quan picks a secret 32-byte seed and
//! publishes its commitment `SHA-256("quan-lottery-seed:" ‖ seed)`. At the
//! draw it publishes the seed and the list of registrant ids. Each
//! registrant's ticket is `SHA-256(seed ‖ id)`; the `n` smallest tickets win
//! (ties, which need a SHA-256 collision, fall to the smaller id). The order
//! in which people registered does not matter, nobody can predict the result
//! before the seed is revealed, and the official cannot pick a different seed
//! afterwards without breaking the published commitment.

use sha2::{Digest, Sha256};

pub fn commitment(seed: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"quan-lottery-seed:");
    h.update(seed);
    h.finalize().into()
}

pub fn ticket(seed: &[u8; 32], registrant: &[u8; 16]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(registrant);
    h.finalize().into()
}

/// The winners among `registrants` (UUID bytes), in ticket order.
pub fn draw(seed: &[u8; 32], registrants: &[[u8; 16]], winners: usize) -> Vec<[u8; 16]> {
    let mut tickets: Vec<([u8; 32], [u8; 16])> = registrants.iter().map(|r| (ticket(seed, r), *r)).collect();
    tickets.sort_unstable();
    tickets.dedup_by(|a, b| a.1 == b.1);
    tickets.into_iter().take(winners).map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u8) -> Vec<[u8; 16]> {
        (0..n).map(|i| [i; 16]).collect()
    }

    #[test]
    fn the_same_seed_and_registrants_give_the_same_winners_in_any_order() {
        let seed = [7u8; 32];
        let a = draw(&seed, &ids(50), 10);
        let mut shuffled = ids(50);
        shuffled.reverse();
        assert_eq!(a, draw(&seed, &shuffled, 10));
        assert_eq!(a.len(), 10);
    }

    #[test]
    fn another_seed_gives_other_winners() {
        assert_ne!(draw(&[1; 32], &ids(50), 10), draw(&[2; 32], &ids(50), 10));
    }

    #[test]
    fn registering_twice_does_not_give_two_tickets() {
        let mut r = ids(3);
        r.push([0; 16]);
        assert_eq!(draw(&[3; 32], &r, 10).len(), 3);
    }

    #[test]
    fn the_commitment_matches_a_known_vector() {
        // sha256("quan-lottery-seed:" + 32 zero bytes), computed with Python's hashlib.
        let hex: String = commitment(&[0; 32]).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "75a91a077e4c79f4f9256198aa789993f9b2add94800806ed7808f36e7c0e37d");
    }
}
