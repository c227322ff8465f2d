//! What the resident's pages show, as text ready for the templates.

use chrono::{DateTime, Utc};
use quan_domain::batch::{BatchKind, BatchMode};
use quan_domain::redemption::VoucherState;
use quan_domain::voucher_kind::{Discount, Validity};
use quan_engine::resident_reads::{PublicBatch, WalletVoucher};

use crate::zh::{beijing, yuan};

/// A batch on the home page.
#[derive(Debug)]
pub struct BatchCard {
    pub id: String,
    pub name: String,
    pub campaign: String,
    pub lottery: bool,
    pub opening: String,
    pub closing: String,
    pub opening_ms: i64,
    pub open: bool,
    pub kinds: Vec<KindCard>,
    /// The claim carries a solved proof of work, fetched from this instant (ms).
    pub pow_from_ms: Option<i64>,
    /// The fair admission window's end (ms): claims sent before it wait for its draw.
    pub window_ends_ms: Option<i64>,
    /// Claimants pass a real-name check first.
    pub require_real_name: bool,
}

/// A kind of voucher in a batch.
#[derive(Debug)]
pub struct KindCard {
    pub code: String,
    pub name: String,
    pub rule: String,
    pub validity: String,
    pub scope: String,
    pub stock_left: i64,
}

impl BatchCard {
    pub fn of(p: &PublicBatch, now: DateTime<Utc>, pow_lead_s: i64) -> BatchCard {
        let b = &p.batch.spec;
        BatchCard {
            id: p.batch.id.to_string(),
            name: b.name.clone(),
            campaign: p.campaign.spec.name.clone(),
            lottery: matches!(b.mode, BatchMode::Lottery { .. }),
            opening: beijing(b.opening_at),
            closing: beijing(b.closing_at),
            opening_ms: b.opening_at.timestamp_millis(),
            open: b.opening_at <= now && now < b.closing_at,
            kinds: b.kinds.iter().map(|k| KindCard::of(k, &p.stock_left)).collect(),
            pow_from_ms: b
                .proof_of_work
                .then(|| (b.opening_at - chrono::Duration::seconds(pow_lead_s)).timestamp_millis()),
            window_ends_ms: b.admission_window_ends_at().map(|t| t.timestamp_millis()),
            require_real_name: b.require_real_name,
        }
    }
}

impl KindCard {
    fn of(k: &BatchKind, stock_left: &[(String, i64)]) -> KindCard {
        KindCard {
            code: k.kind.code.clone(),
            name: k.kind.name.clone(),
            rule: rule(&k.kind.discount),
            validity: validity(&k.kind.validity),
            scope: scope(k),
            stock_left: stock_left.iter().find(|(c, _)| *c == k.kind.code).map_or(0, |(_, n)| *n),
        }
    }
}

/// 满100减20, 立减10元, 85折 最高减500元, or a pack's tiers.
pub fn rule(d: &Discount) -> String {
    match d {
        Discount::Threshold { min_order_fen, off_fen } => {
            crate::zh::h5::threshold(&yuan(min_order_fen.as_i64()), &yuan(off_fen.as_i64()))
        }
        Discount::Instant { off_fen } => crate::zh::h5::instant(&yuan(off_fen.as_i64())),
        Discount::Percent { percent_bp, cap_fen, min_order_fen } => {
            let pct = format!("{}.{:02}", percent_bp / 100, percent_bp % 100);
            let pct = pct.trim_end_matches('0').trim_end_matches('.');
            let min = (min_order_fen.as_i64() > 0).then(|| yuan(min_order_fen.as_i64()));
            crate::zh::h5::percent(min.as_deref(), pct, &yuan(cap_fen.as_i64()))
        }
        Discount::Tiers { .. } => d.pack().iter().map(rule).collect::<Vec<_>>().join(" / "),
    }
}

fn validity(v: &Validity) -> String {
    match v {
        Validity::Fixed { from, until } => crate::zh::h5::valid_between(&from.to_string(), &until.to_string()),
        Validity::DaysAfterClaim { days } => crate::zh::h5::valid_days(*days),
    }
}

fn scope(k: &BatchKind) -> String {
    let s = &k.kind.scope;
    if s.industries.is_empty() {
        crate::zh::h5::EVERY_SHOP.into()
    } else {
        s.industries.iter().map(|i| i.zh()).collect::<Vec<_>>().join("、")
    }
}

/// A voucher in the wallet.
#[derive(Debug)]
pub struct VoucherCard {
    pub id: String,
    pub name: String,
    pub rule: String,
    pub face: String,
    pub validity: String,
    pub scope: String,
    pub state: &'static str,
    pub usable: bool,
    /// Unused but frozen: why, in Chinese (empty when not frozen).
    pub frozen: &'static str,
    pub claimed: String,
}

impl VoucherCard {
    pub fn of(w: &WalletVoucher) -> VoucherCard {
        let v = &w.voucher;
        let (name, rule_text, validity_text, scope_text) = match &w.kind {
            Some(k) => {
                let tier = k.kind.discount.pack().get(v.tier as usize).cloned().unwrap_or(k.kind.discount.clone());
                (k.kind.name.clone(), rule(&tier), validity(&k.kind.validity), scope(k))
            }
            None => (v.kind_code.clone(), String::new(), String::new(), String::new()),
        };
        VoucherCard {
            id: v.id.to_string(),
            name,
            rule: rule_text,
            face: yuan(v.face.as_i64()),
            validity: validity_text,
            scope: scope_text,
            state: if v.frozen.is_some() && v.state == VoucherState::Claimed {
                crate::zh::h5::FROZEN
            } else {
                state_zh(v.state)
            },
            usable: v.state == VoucherState::Claimed && v.frozen.is_none(),
            frozen: match v.frozen {
                Some((_, why)) if v.state == VoucherState::Claimed => crate::zh::h5::frozen_why(why),
                _ => "",
            },
            claimed: beijing(v.created_at),
        }
    }
}

/// The wallet's tab a voucher is under.
pub fn state_zh(s: VoucherState) -> &'static str {
    match s {
        VoucherState::Claimed => crate::zh::h5::USABLE,
        VoucherState::Redeemed => crate::zh::h5::USED,
        VoucherState::Expired => crate::zh::h5::EXPIRED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quan_domain::Fen;

    #[test]
    fn each_discount_reads_as_residents_know_it() {
        assert_eq!(
            rule(&Discount::Threshold { min_order_fen: Fen::new(10_000), off_fen: Fen::new(2_000) }),
            "满100.00元减20.00元"
        );
        assert_eq!(rule(&Discount::Instant { off_fen: Fen::new(500) }), "立减5.00元");
        let p = Discount::Percent { percent_bp: 1500, cap_fen: Fen::new(200_000), min_order_fen: Fen::ZERO };
        assert_eq!(rule(&p), "优惠15%，最高2000.00元");
    }

    #[test]
    fn a_frozen_unused_voucher_reads_as_frozen_and_shows_no_code_but_a_used_one_reads_as_used() {
        use quan_domain::redemption::FreezeReason;
        let at = chrono::DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default();
        let v = quan_store::Voucher {
            id: uuid::Uuid::from_u128(1),
            claim_id: uuid::Uuid::from_u128(2),
            campaign_id: quan_domain::CampaignId::from_uuid(uuid::Uuid::from_u128(3)),
            batch_id: quan_domain::BatchId::from_uuid(uuid::Uuid::from_u128(4)),
            kind_code: "k20".into(),
            tier: 0,
            resident_id: quan_domain::ResidentId::from_uuid(uuid::Uuid::from_u128(5)),
            face: Fen::new(2_000),
            state: VoucherState::Claimed,
            created_at: at,
            frozen: Some((at, FreezeReason::IdentityConflict)),
            lock: None,
        };
        let card = VoucherCard::of(&WalletVoucher { voucher: v.clone(), kind: None });
        assert_eq!((card.state, card.usable), (crate::zh::h5::FROZEN, false));
        assert!(card.frozen.contains("实名核验"), "{}", card.frozen);
        let by_case = quan_store::Voucher { frozen: Some((at, FreezeReason::RiskCase)), ..v.clone() };
        let card = VoucherCard::of(&WalletVoucher { voucher: by_case, kind: None });
        assert!(card.frozen.contains("风险核查"), "{}", card.frozen);
        let used = quan_store::Voucher { state: VoucherState::Redeemed, ..v };
        let card = VoucherCard::of(&WalletVoucher { voucher: used, kind: None });
        assert_eq!((card.state, card.usable, card.frozen), (crate::zh::h5::USED, false, ""));
    }
}
