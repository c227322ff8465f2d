//! The fair admission window of a grab batch: speed buys nothing.
//!
//! Every claim that arrives in the first `admission_window_s` seconds after
//! a grab batch opens is admitted in the order of its ticket, not of its
//! arrival. A ticket is `SHA-256(seed ‖ resident id)` under the batch's
//! draw seed, whose commitment `SHA-256("quan-lottery-seed:" ‖ seed)` is
//! published when the batch is created and whose seed is revealed when the
//! window has closed: exactly the lottery's draw (`crate::lottery`), so
//! anyone can recompute every ticket. A resident has one ticket however
//! many requests they send; claims arriving after the window follow the
//! window's, first come first served.

use crate::lottery;

/// The window a new grab batch gets unless it says otherwise.
pub const WINDOW_S_DEFAULT: u32 = 3;
/// The longest window: a request waits for its answer at most this long
/// plus a commit, and a phone's connection must outlast that.
pub const WINDOW_S_MAX: u32 = 30;

/// One claim waiting for a window's draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entrant {
    /// The resident's id (UUID bytes).
    pub resident: [u8; 16],
    /// Whether it arrived before the window closed (else after, but before
    /// the draw was made; it then follows every entrant of the window).
    pub in_window: bool,
    /// Arrival order on the node that drew it.
    pub seq: u64,
}

/// The order in which a draw offers its entrants to the stock: the
/// window's entrants by ticket (a resident's repeated requests together,
/// in arrival order), then the late ones by arrival. Returns indexes into
/// `entrants`.
pub fn draw_order(seed: &[u8; 32], entrants: &[Entrant]) -> Vec<usize> {
    let mut keyed: Vec<(bool, [u8; 32], u64, usize)> = entrants
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let ticket = if e.in_window { lottery::ticket(seed, &e.resident) } else { [0; 32] };
            (!e.in_window, ticket, e.seq, i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, _, _, i)| i).collect()
}

/// One line of a published draw, as anyone reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnEntry {
    pub rank: u32,
    pub resident: [u8; 16],
    pub in_window: bool,
}

/// What a published draw may be wrong about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawProblem {
    #[error("the revealed seed does not match the commitment published before the opening")]
    SeedDoesNotMatch,
    #[error("rank {0} is missing or repeated")]
    Ranks(u32),
    #[error("rank {rank} was offered out of ticket order")]
    OutOfOrder { rank: u32 },
}

/// Checks one node's published draw against the revealed seed: the seed
/// matches its commitment, ranks run 0, 1, 2 … and every entrant of the
/// window came before every late one and in ticket order.
pub fn check_draw(seed: &[u8; 32], commitment: &[u8; 32], entries: &[DrawnEntry]) -> Result<(), DrawProblem> {
    if lottery::commitment(seed) != *commitment {
        return Err(DrawProblem::SeedDoesNotMatch);
    }
    let mut sorted: Vec<&DrawnEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.rank);
    for (i, e) in sorted.iter().enumerate() {
        if u32::try_from(i).ok() != Some(e.rank) {
            return Err(DrawProblem::Ranks(u32::try_from(i).unwrap_or(u32::MAX)));
        }
    }
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let in_order = match (a.in_window, b.in_window) {
            (true, true) => lottery::ticket(seed, &a.resident) <= lottery::ticket(seed, &b.resident),
            (false, true) => false,
            _ => true,
        };
        if !in_order {
            return Err(DrawProblem::OutOfOrder { rank: b.rank });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entrants(n: u8, in_window: bool) -> Vec<Entrant> {
        (0..n).map(|i| Entrant { resident: [i; 16], in_window, seq: u64::from(i) }).collect()
    }

    fn published(seed: &[u8; 32], e: &[Entrant]) -> Vec<DrawnEntry> {
        draw_order(seed, e)
            .into_iter()
            .enumerate()
            .map(|(rank, i)| DrawnEntry { rank: rank as u32, resident: e[i].resident, in_window: e[i].in_window })
            .collect()
    }

    #[test]
    fn arrival_order_inside_the_window_does_not_change_the_draw() {
        let seed = [5; 32];
        let a = entrants(40, true);
        let mut b = a.clone();
        b.reverse();
        for (i, e) in b.iter_mut().enumerate() {
            e.seq = i as u64;
        }
        let order = |e: &[Entrant]| draw_order(&seed, e).into_iter().map(|i| e[i].resident).collect::<Vec<_>>();
        assert_eq!(order(&a), order(&b));
        assert_ne!(order(&a), a.iter().map(|e| e.resident).collect::<Vec<_>>(), "not arrival order");
    }

    #[test]
    fn the_first_arrival_is_not_favoured_over_many_seeds() {
        let e = entrants(10, true);
        let first_wins = (0..200u8).filter(|s| draw_order(&[*s; 32], &e)[0] == 0).count();
        assert!(first_wins < 50, "the first arrival led {first_wins} of 200 draws; about 20 expected");
    }

    #[test]
    fn late_arrivals_follow_every_entrant_of_the_window_in_arrival_order() {
        let mut e = entrants(5, true);
        e.extend((0..3u8).map(|i| Entrant { resident: [100 + i; 16], in_window: false, seq: 10 - u64::from(i) }));
        let order = draw_order(&[1; 32], &e);
        assert!(order[..5].iter().all(|&i| e[i].in_window));
        assert_eq!(&order[5..], &[7, 6, 5], "by arrival");
    }

    #[test]
    fn a_published_draw_checks_out_and_a_reordered_one_does_not() {
        let seed = [9; 32];
        let commitment = lottery::commitment(&seed);
        let e = entrants(30, true);
        let mut p = published(&seed, &e);
        assert_eq!(check_draw(&seed, &commitment, &p), Ok(()));
        assert_eq!(check_draw(&[8; 32], &commitment, &p), Err(DrawProblem::SeedDoesNotMatch));
        let (a, b) = (p[0].resident, p[1].resident);
        p[0].resident = b;
        p[1].resident = a;
        assert_eq!(check_draw(&seed, &commitment, &p), Err(DrawProblem::OutOfOrder { rank: 1 }));
    }

    #[test]
    fn a_late_arrival_ranked_before_the_window_is_caught() {
        let seed = [2; 32];
        let p = vec![
            DrawnEntry { rank: 0, resident: [1; 16], in_window: false },
            DrawnEntry { rank: 1, resident: [2; 16], in_window: true },
        ];
        assert_eq!(check_draw(&seed, &lottery::commitment(&seed), &p), Err(DrawProblem::OutOfOrder { rank: 1 }));
        let gap = vec![DrawnEntry { rank: 1, resident: [2; 16], in_window: true }];
        assert_eq!(check_draw(&seed, &lottery::commitment(&seed), &gap), Err(DrawProblem::Ranks(0)));
    }
}
