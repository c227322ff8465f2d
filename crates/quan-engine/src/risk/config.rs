//! The numbers of risk control at the grab (the `[risk]` section of the
//! configuration). Units last in each name.

use quan_domain::signals::SignalRules;
use serde::{Deserialize, Serialize};

/// One GCRA limit: `per_s` requests a second on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_s: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Leading zero bits of SHA-256 a claim's proof of work needs when no
    /// signal asks for more. 15 bits (32 768 hashes expected): the H5's
    /// worker did ~111 000 a second in headless Chromium on one core here,
    /// so about 0.3 s here and about 1 s on a phone a third as fast
    /// (docs/RISK.md).
    pub pow_bits: u8,
    /// How long before the opening a phone may fetch its challenge.
    pub pow_lead_s: i64,
    /// How long a challenge lives.
    pub pow_ttl_s: i64,
    /// Claims and challenges per account. The per-device and per-account
    /// limits do the work; the per-address limits are generous, because a
    /// carrier's NAT puts hundreds of honest phones behind one address.
    pub claims_per_account: Rate,
    pub claims_per_device: Rate,
    pub claims_per_address: Rate,
    /// Per IPv4 /24 or IPv6 /64.
    pub claims_per_block: Rate,
    /// Code requests per device token and per address block a minute (the
    /// per-number and per-address limits are in `[accounts]`).
    pub sms_per_device_per_minute: u32,
    pub sms_per_block_per_minute: u32,
    /// Failed logins per address block a minute.
    pub logins_per_block_per_minute: u32,
    pub signals: SignalRules,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            pow_bits: 15,
            pow_lead_s: 600,
            pow_ttl_s: 1_800,
            claims_per_account: Rate { per_s: 2, burst: 6 },
            claims_per_device: Rate { per_s: 4, burst: 12 },
            claims_per_address: Rate { per_s: 500, burst: 2_000 },
            claims_per_block: Rate { per_s: 5_000, burst: 20_000 },
            sms_per_device_per_minute: 5,
            sms_per_block_per_minute: 600,
            logins_per_block_per_minute: 300,
            signals: SignalRules::default(),
        }
    }
}

impl RiskConfig {
    /// What makes no sense, named.
    pub fn check(&self) -> Result<(), String> {
        if self.pow_bits > quan_domain::pow::BITS_MAX {
            return Err(format!("risk.pow_bits is at most {}", quan_domain::pow::BITS_MAX));
        }
        if self.pow_lead_s < 0 || self.pow_ttl_s < 10 {
            return Err("risk.pow_lead_s is not negative and risk.pow_ttl_s at least 10".into());
        }
        for (name, r) in [
            ("claims_per_account", self.claims_per_account),
            ("claims_per_device", self.claims_per_device),
            ("claims_per_address", self.claims_per_address),
            ("claims_per_block", self.claims_per_block),
        ] {
            if r.per_s == 0 || r.burst == 0 {
                return Err(format!("risk.{name} allows something: per_s and burst at least 1"));
            }
        }
        if self.sms_per_device_per_minute == 0
            || self.sms_per_block_per_minute == 0
            || self.logins_per_block_per_minute == 0
        {
            return Err("risk's per-minute limits are at least 1".into());
        }
        Ok(())
    }
}
