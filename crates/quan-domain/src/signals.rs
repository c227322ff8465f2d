//! Risk signals at the grab: what about an account, its device, its
//! address, its position or its timing looks like a farm. A signal is a
//! lead, never a verdict: signals add up to a score, a score past the
//! threshold asks for more proof of work, and every signal is recorded
//! for the cases of the risk review; no claim is dropped for a signal.

use serde::Serialize;

/// One signal, with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// A number of a virtual operator's range (162, 165, 167, 170, 171),
    /// over-represented in SMS farms.
    VirtualNumber,
    /// Registered shortly before the opening.
    NewAccount,
    /// Several accounts behind one device token.
    SharedDevice,
    /// Very many accounts from one client address (carrier NAT puts
    /// hundreds of honest phones behind one: the threshold is high).
    CrowdedAddress,
    /// A position identical to the metre with other accounts'.
    SamePosition,
    /// Requests spaced exactly alike, to the millisecond.
    LockstepTiming,
}

impl Signal {
    pub const ALL: [Signal; 6] = [
        Signal::VirtualNumber,
        Signal::NewAccount,
        Signal::SharedDevice,
        Signal::CrowdedAddress,
        Signal::SamePosition,
        Signal::LockstepTiming,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Signal::VirtualNumber => "virtual_number",
            Signal::NewAccount => "new_account",
            Signal::SharedDevice => "shared_device",
            Signal::CrowdedAddress => "crowded_address",
            Signal::SamePosition => "same_position",
            Signal::LockstepTiming => "lockstep_timing",
        }
    }
    pub fn parse(s: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|x| x.code() == s)
    }
    pub fn zh(self) -> &'static str {
        match self {
            Signal::VirtualNumber => "虚拟运营商号段",
            Signal::NewAccount => "开抢前新注册",
            Signal::SharedDevice => "多账号共用设备",
            Signal::CrowdedAddress => "同一地址账号过多",
            Signal::SamePosition => "多账号位置完全相同",
            Signal::LockstepTiming => "请求间隔完全一致",
        }
    }
    /// What the signal adds to the score: the ones a farm cannot avoid
    /// cheaply weigh more.
    pub fn weight(self) -> u32 {
        match self {
            Signal::VirtualNumber | Signal::NewAccount | Signal::CrowdedAddress => 1,
            Signal::SharedDevice | Signal::SamePosition | Signal::LockstepTiming => 2,
        }
    }
}

/// Where each signal starts (the `[risk]` section of the configuration).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalRules {
    /// An account registered less than this many minutes before the opening.
    pub new_account_min: i64,
    /// More accounts than this on one device token.
    pub accounts_per_device_max: u32,
    /// More accounts than this from one client address.
    pub accounts_per_address_max: u32,
    /// More accounts than this at one position (to the metre).
    pub accounts_per_position_max: u32,
    /// A score from this on asks for more work.
    pub score_threshold: u32,
    /// Extra bits of work per point of score from the threshold on.
    pub bits_per_point: u8,
    /// Extra bits at most.
    pub extra_bits_max: u8,
}

impl Default for SignalRules {
    fn default() -> Self {
        SignalRules {
            new_account_min: 60,
            accounts_per_device_max: 3,
            accounts_per_address_max: 2_000,
            accounts_per_position_max: 3,
            score_threshold: 2,
            bits_per_point: 3,
            extra_bits_max: 12,
        }
    }
}

/// What is known of an account at a claim.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountFacts {
    /// The number's first three digits.
    pub phone_prefix: Option<u16>,
    /// Minutes from registration to the opening (negative: after it).
    pub registered_min_before_opening: i64,
    pub accounts_on_device: u32,
    pub accounts_on_address: u32,
    pub accounts_at_position: u32,
    /// Its last requests were spaced exactly alike.
    pub lockstep: bool,
}

const VIRTUAL_PREFIXES: [u16; 5] = [162, 165, 167, 170, 171];

/// The signals an account shows, in code order.
pub fn signals(f: &AccountFacts, r: &SignalRules) -> Vec<Signal> {
    let mut out = Vec::new();
    if f.phone_prefix.is_some_and(|p| VIRTUAL_PREFIXES.contains(&p)) {
        out.push(Signal::VirtualNumber);
    }
    if f.registered_min_before_opening < r.new_account_min {
        out.push(Signal::NewAccount);
    }
    if f.accounts_on_device > r.accounts_per_device_max {
        out.push(Signal::SharedDevice);
    }
    if f.accounts_on_address > r.accounts_per_address_max {
        out.push(Signal::CrowdedAddress);
    }
    if f.accounts_at_position > r.accounts_per_position_max {
        out.push(Signal::SamePosition);
    }
    if f.lockstep {
        out.push(Signal::LockstepTiming);
    }
    out
}

/// The extra bits of proof of work a set of signals asks for.
pub fn extra_bits(found: &[Signal], r: &SignalRules) -> u8 {
    let score: u32 = found.iter().map(|s| s.weight()).sum();
    if score < r.score_threshold {
        return 0;
    }
    let points = score - r.score_threshold + 1;
    u8::try_from(points.saturating_mul(u32::from(r.bits_per_point))).unwrap_or(u8::MAX).min(r.extra_bits_max)
}

/// Whether the gaps between the last requests are equal to the
/// millisecond (at least three gaps, none zero): a script's timer.
pub fn lockstep(instants_ms: &[i64]) -> bool {
    let gaps: Vec<i64> = instants_ms.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.len() >= 3 && gaps[0] > 0 && gaps.iter().all(|g| *g == gaps[0])
}

/// The first three digits of a masked number such as `138****5678`.
pub fn phone_prefix(masked: &str) -> Option<u16> {
    masked.get(..3).and_then(|p| p.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn honest() -> AccountFacts {
        AccountFacts {
            phone_prefix: Some(138),
            registered_min_before_opening: 60 * 24 * 30,
            accounts_on_device: 1,
            accounts_on_address: 400,
            accounts_at_position: 1,
            lockstep: false,
        }
    }

    #[test]
    fn an_honest_phone_behind_a_carriers_nat_shows_nothing() {
        assert!(signals(&honest(), &SignalRules::default()).is_empty());
    }

    #[test]
    fn one_weak_signal_asks_for_nothing_more_but_a_farms_signals_add_up() {
        let r = SignalRules::default();
        let virtual_only = AccountFacts { phone_prefix: Some(170), ..honest() };
        assert_eq!(signals(&virtual_only, &r), vec![Signal::VirtualNumber]);
        assert_eq!(extra_bits(&signals(&virtual_only, &r), &r), 0, "a virtual number alone is a lead, not a verdict");
        let farm = AccountFacts {
            phone_prefix: Some(171),
            registered_min_before_opening: 10,
            accounts_on_device: 50,
            ..honest()
        };
        let found = signals(&farm, &r);
        assert_eq!(found, vec![Signal::VirtualNumber, Signal::NewAccount, Signal::SharedDevice]);
        assert_eq!(extra_bits(&found, &r), 9, "score 4, threshold 2: three points of three bits");
        let all: Vec<Signal> = Signal::ALL.to_vec();
        assert_eq!(extra_bits(&all, &r), r.extra_bits_max, "capped");
    }

    #[test]
    fn equal_gaps_to_the_millisecond_are_lockstep_and_human_jitter_is_not() {
        assert!(lockstep(&[0, 100, 200, 300]));
        assert!(!lockstep(&[0, 100, 200]), "two gaps are not enough");
        assert!(!lockstep(&[0, 100, 201, 300]));
        assert!(!lockstep(&[5, 5, 5, 5]), "one instant repeated is not a timer");
    }

    #[test]
    fn codes_read_back_and_a_masked_number_gives_its_prefix() {
        for s in Signal::ALL {
            assert_eq!(Signal::parse(s.code()), Some(s));
        }
        assert_eq!(phone_prefix("170****1234"), Some(170));
        assert_eq!(phone_prefix("bench"), None);
    }
}
