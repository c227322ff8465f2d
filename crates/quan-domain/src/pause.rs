//! The bureau's kill switch (熔断): an official pauses claims, redemptions
//! or both for a batch, a campaign, a merchant, a partner channel or a
//! whole region; every node refuses what the pause covers, naming who
//! paused it and why, until someone resumes it.

use serde::{Deserialize, Serialize};

use crate::access::Region;
use crate::invalid::{Invalid, ensure, text};
use crate::{BatchId, CampaignId, DistrictCode, MerchantId};

/// What a pause stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stops {
    Claims,
    Redemptions,
    Both,
}

impl Stops {
    pub fn as_str(self) -> &'static str {
        match self {
            Stops::Claims => "claims",
            Stops::Redemptions => "redemptions",
            Stops::Both => "both",
        }
    }
    pub fn parse(s: &str) -> Option<Stops> {
        [Stops::Claims, Stops::Redemptions, Stops::Both].into_iter().find(|x| x.as_str() == s)
    }
    pub fn zh(self) -> &'static str {
        match self {
            Stops::Claims => "领券",
            Stops::Redemptions => "核销",
            Stops::Both => "领券和核销",
        }
    }
    fn claims(self) -> bool {
        self != Stops::Redemptions
    }
    fn redemptions(self) -> bool {
        self != Stops::Claims
    }
}

/// What a pause covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Batch(BatchId),
    Campaign(CampaignId),
    Merchant(MerchantId),
    /// A partner's channel (its client id) in the partner API.
    Channel(String),
    /// Every campaign of the region (claims) and every merchant in it (redemptions).
    Region(Region),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Batch(_) => "batch",
            Target::Campaign(_) => "campaign",
            Target::Merchant(_) => "merchant",
            Target::Channel(_) => "channel",
            Target::Region(_) => "region",
        }
    }
    pub fn kind_zh(&self) -> &'static str {
        match self {
            Target::Batch(_) => "批次",
            Target::Campaign(_) => "活动",
            Target::Merchant(_) => "商户",
            Target::Channel(_) => "合作渠道",
            Target::Region(_) => "地区",
        }
    }
    /// The target's id as stored and shown.
    pub fn id(&self) -> String {
        match self {
            Target::Batch(b) => b.to_string(),
            Target::Campaign(c) => c.to_string(),
            Target::Merchant(m) => m.to_string(),
            Target::Channel(c) => c.clone(),
            Target::Region(r) => r.to_string(),
        }
    }
    /// A target from its kind and id, as a request or a row names them.
    pub fn parse(kind: &str, id: &str) -> Result<Target, Invalid> {
        let bad = |what: &str| Invalid::new("target_id", "invalid", format!("not {what}"));
        match kind {
            "batch" => id.parse().map(Target::Batch).map_err(|_| bad("a batch id")),
            "campaign" => id.parse().map(Target::Campaign).map_err(|_| bad("a campaign id")),
            "merchant" => id.parse().map(Target::Merchant).map_err(|_| bad("a merchant id")),
            "channel" => {
                let c = text("target_id", id, 64)?;
                ensure(!c.trim().is_empty(), "target_id", "required", || "a channel is named".into())?;
                Ok(Target::Channel(c))
            }
            "region" => Region::parse(id).map(Target::Region).map_err(|_| bad("a region code")),
            _ => Err(Invalid::new("target", "invalid", "batch, campaign, merchant, channel or region")),
        }
    }
}

/// A pause as every node holds it while it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivePause {
    pub id: uuid::Uuid,
    pub target: Target,
    pub stops: Stops,
    /// The official's display name, as the refusal names them.
    pub by: String,
    pub reason: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// What a claim is about, for the pauses.
#[derive(Debug, Clone, Copy)]
pub struct ClaimScope<'a> {
    pub batch: BatchId,
    pub campaign: CampaignId,
    pub campaign_region: &'a Region,
    pub channel: Option<&'a str>,
}

/// What a redemption is about, for the pauses.
#[derive(Debug, Clone, Copy)]
pub struct RedemptionScope<'a> {
    pub campaign: CampaignId,
    pub merchant: MerchantId,
    pub merchant_district: &'a DistrictCode,
    pub channel: Option<&'a str>,
}

/// The first pause among `pauses` that stops this claim.
pub fn stopping_claim<'p>(pauses: &'p [ActivePause], c: &ClaimScope<'_>) -> Option<&'p ActivePause> {
    pauses.iter().find(|p| {
        p.stops.claims()
            && match &p.target {
                Target::Batch(b) => *b == c.batch,
                Target::Campaign(x) => *x == c.campaign,
                Target::Region(r) => r.contains(c.campaign_region),
                Target::Channel(ch) => c.channel == Some(ch.as_str()),
                Target::Merchant(_) => false,
            }
    })
}

/// The first pause among `pauses` that stops this redemption (or refund).
pub fn stopping_redemption<'p>(pauses: &'p [ActivePause], r: &RedemptionScope<'_>) -> Option<&'p ActivePause> {
    pauses.iter().find(|p| {
        p.stops.redemptions()
            && match &p.target {
                Target::Campaign(x) => *x == r.campaign,
                Target::Merchant(m) => *m == r.merchant,
                Target::Region(g) => g.contains_district(r.merchant_district),
                Target::Channel(ch) => r.channel == Some(ch.as_str()),
                Target::Batch(_) => false,
            }
    })
}

/// A pause's or a resumption's reason: required, one line to a paragraph.
pub fn reason(raw: &str) -> Result<String, Invalid> {
    let r = crate::invalid::no_control("reason", raw).map(|()| raw.trim().to_owned())?;
    ensure(!r.is_empty(), "reason", "required", || "say why".into())?;
    ensure(r.chars().count() <= 500, "reason", "too_long", || "at most 500 characters".into())?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pause(target: Target, stops: Stops) -> ActivePause {
        ActivePause {
            id: uuid::Uuid::nil(),
            target,
            stops,
            by: "局长".into(),
            reason: "外挂".into(),
            at: chrono::DateTime::default(),
        }
    }

    fn region(s: &str) -> Region {
        Region::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn district(s: &str) -> DistrictCode {
        DistrictCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_batch_pause_stops_its_claims_only() {
        let (b, other, c) = (
            BatchId::from_uuid(uuid::Uuid::from_u128(1)),
            BatchId::from_uuid(uuid::Uuid::from_u128(2)),
            CampaignId::from_uuid(uuid::Uuid::from_u128(3)),
        );
        let r = region("4205");
        let p = [pause(Target::Batch(b), Stops::Both)];
        let scope = |batch| ClaimScope { batch, campaign: c, campaign_region: &r, channel: None };
        assert!(stopping_claim(&p, &scope(b)).is_some());
        assert!(stopping_claim(&p, &scope(other)).is_none());
    }

    #[test]
    fn a_region_pause_covers_its_campaigns_and_merchants_and_what_it_stops_is_respected() {
        let c = CampaignId::from_uuid(uuid::Uuid::from_u128(3));
        let m = MerchantId::from_uuid(uuid::Uuid::from_u128(4));
        let city = region("4205");
        let county = region("420506");
        let claims_only = [pause(Target::Region(region("4205")), Stops::Claims)];
        let claim = ClaimScope {
            batch: BatchId::from_uuid(uuid::Uuid::nil()),
            campaign: c,
            campaign_region: &county,
            channel: None,
        };
        assert!(stopping_claim(&claims_only, &claim).is_some(), "a county's campaign lies in its city");
        let d = district("420506");
        let redeem = RedemptionScope { campaign: c, merchant: m, merchant_district: &d, channel: None };
        assert!(stopping_redemption(&claims_only, &redeem).is_none(), "claims only");
        let both = [pause(Target::Region(city), Stops::Both)];
        assert!(stopping_redemption(&both, &redeem).is_some());
        let elsewhere = district("110101");
        let far = RedemptionScope { merchant_district: &elsewhere, ..redeem };
        assert!(stopping_redemption(&both, &far).is_none());
    }

    #[test]
    fn a_merchant_or_channel_pause_stops_only_that_merchant_or_channel() {
        let c = CampaignId::from_uuid(uuid::Uuid::from_u128(3));
        let (m, n) = (MerchantId::from_uuid(uuid::Uuid::from_u128(4)), MerchantId::from_uuid(uuid::Uuid::from_u128(5)));
        let d = district("420506");
        let p = [pause(Target::Merchant(m), Stops::Redemptions), pause(Target::Channel("bank-a".into()), Stops::Both)];
        let at = |merchant, channel| RedemptionScope { campaign: c, merchant, merchant_district: &d, channel };
        assert!(stopping_redemption(&p, &at(m, None)).is_some());
        assert!(stopping_redemption(&p, &at(n, None)).is_none());
        assert!(stopping_redemption(&p, &at(n, Some("bank-a"))).is_some());
        assert!(stopping_redemption(&p, &at(n, Some("bank-b"))).is_none());
    }

    #[test]
    fn targets_read_back_from_their_kind_and_id_and_bad_ones_are_named() {
        let t = Target::Region(region("4205"));
        assert_eq!(Target::parse(t.kind(), &t.id()), Ok(t));
        assert_eq!(Target::parse("batch", "nope").map_err(|e| e.field), Err("target_id".to_owned()));
        assert_eq!(Target::parse("planet", "x").map_err(|e| e.field), Err("target".to_owned()));
        assert_eq!(reason("  ").map_err(|e| e.rule), Err("required"));
        assert_eq!(reason("a\u{7}").map_err(|e| e.field), Err("reason".to_owned()));
    }
}
