//! Randomness and ids are passed in, like time: the system source in
//! production, a seeded one in tests and simulations so that a run replays.

use std::sync::Mutex;

use quan_domain::Clock;
use uuid::Uuid;

/// A source of random bytes.
pub trait Random: Send + Sync + std::fmt::Debug {
    fn fill(&self, buf: &mut [u8]);

    fn u64(&self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A uniform integer in `0..bound` (rejection sampling: no modulo bias).
    fn below(&self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0) has no answer");
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let x = self.u64();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// The operating system's random source. Small requests are served from a
/// per-thread buffer filled by one `getrandom` call per `SYSTEM_BUFFER_LEN`
/// bytes (every byte handed out once, then zeroed): a claim takes two ids,
/// and one system call for each cost ≈ 2 % of a grab's CPU.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

/// Bytes read from the operating system at a time for small requests.
pub const SYSTEM_BUFFER_LEN: usize = 512;

fn system_fill(buf: &mut [u8]) {
    // Without an OS random source quan cannot make a safe token; stop.
    if let Err(e) = getrandom::fill(buf) {
        panic!("the operating system's random source failed: {e}");
    }
}

thread_local! {
    /// Unused bytes from the operating system, and how many are used.
    static SYSTEM_BUFFER: std::cell::RefCell<([u8; SYSTEM_BUFFER_LEN], usize)> =
        const { std::cell::RefCell::new(([0; SYSTEM_BUFFER_LEN], SYSTEM_BUFFER_LEN)) };
}

impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) {
        if buf.len() > SYSTEM_BUFFER_LEN / 8 {
            return system_fill(buf);
        }
        SYSTEM_BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let (bytes, used) = &mut *b;
            if *used + buf.len() > SYSTEM_BUFFER_LEN {
                system_fill(bytes);
                *used = 0;
            }
            let taken = &mut bytes[*used..*used + buf.len()];
            buf.copy_from_slice(taken);
            taken.fill(0);
            *used += buf.len();
        });
    }
}

/// A deterministic source (splitmix64) for tests and seeded simulations.
/// Never for production: its output is predictable from the seed.
#[derive(Debug)]
pub struct SeededRandom {
    state: Mutex<u64>,
}

impl SeededRandom {
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom { state: Mutex::new(seed) }
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for chunk in buf.chunks_mut(8) {
            *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// Makes UUID version 7 ids from the passed clock and random source. Ids
/// made by one generator strictly increase, even within one millisecond or
/// when the clock stands still (RFC 9562, method 1: the 12 bits after the
/// timestamp count up), so sorting by id gives creation order.
#[derive(Debug, Default)]
pub struct IdGen {
    last: Mutex<(u64, u16)>,
}

impl IdGen {
    pub fn next(&self, clock: &dyn Clock, random: &dyn Random) -> Uuid {
        let now_ms = u64::try_from(clock.now().timestamp_millis()).unwrap_or(0);
        let (ms, seq) = {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            let next = if now_ms > last.0 {
                (now_ms, 0)
            } else if last.1 < 0x0fff {
                (last.0, last.1 + 1)
            } else {
                (last.0 + 1, 0)
            };
            *last = next;
            next
        };
        let mut b = [0u8; 16];
        random.fill(&mut b[8..]);
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6] = 0x70 | ((seq >> 8) as u8 & 0x0f);
        b[7] = (seq & 0xff) as u8;
        b[8] = 0x80 | (b[8] & 0x3f);
        Uuid::from_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quan_domain::FixedClock;

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let (a, b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0u8; 13]);
    }

    #[test]
    fn the_system_source_never_hands_out_the_same_bytes_twice() {
        // 2 000 ids' worth of 8-byte draws through several buffer refills,
        // and one draw larger than the buffer.
        let draws: std::collections::HashSet<[u8; 8]> = (0..2_000)
            .map(|_| {
                let mut b = [0u8; 8];
                SystemRandom.fill(&mut b);
                b
            })
            .collect();
        assert_eq!(draws.len(), 2_000);
        let mut big = [0u8; SYSTEM_BUFFER_LEN * 2];
        SystemRandom.fill(&mut big);
        assert!(big.chunks(8).filter(|c| c.iter().all(|x| *x == 0)).count() < 2, "a large draw is filled");
    }

    #[test]
    fn below_stays_below_its_bound() {
        let r = SeededRandom::new(1);
        assert!((0..10_000).all(|_| r.below(1_000_000) < 1_000_000));
    }

    #[test]
    fn ids_from_one_generator_increase_even_when_the_clock_stands_still() {
        let clock = FixedClock::new(chrono::DateTime::from_timestamp_millis(1_790_000_000_000).unwrap_or_default());
        let (r, g) = (SeededRandom::new(5), IdGen::default());
        let ids: Vec<Uuid> = (0..10_000).map(|_| g.next(&clock, &r)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|u| u.get_version_num() == 7 && u.get_variant() == uuid::Variant::RFC4122));
    }

    #[test]
    fn ids_made_later_sort_after_ids_made_earlier() {
        let clock = FixedClock::new(chrono::DateTime::from_timestamp_millis(1_790_000_000_000).unwrap_or_default());
        let (r, g) = (SeededRandom::new(3), IdGen::default());
        let a = g.next(&clock, &r);
        clock.advance(chrono::Duration::milliseconds(1));
        let b = g.next(&clock, &r);
        assert!(a < b);
        assert_eq!(a.get_version_num(), 7);
    }
}
