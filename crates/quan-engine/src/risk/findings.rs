//! A finding of the nightly analysis as a case: its subject (one open case
//! per subject), members, evidence (JSON: what an official hands over) and
//! a summary in Chinese.

use chrono::{DateTime, Utc};
use quan_domain::{CampaignId, Fen, MerchantId, ResidentId, collusion, hoarding, price_guard};
use quan_store::{CaseMember, Merchant, NewCase, ProductPrices, RedemptionFact};
use serde_json::json;

/// ¥ with two decimals (`Fen`'s display), for summaries.
pub(crate) fn yuan(f: Fen) -> String {
    format!("¥{f}")
}

fn redemption_rows(rs: &[&RedemptionFact]) -> serde_json::Value {
    rs.iter()
        .map(|f| {
            json!({"id": f.id, "resident": f.resident, "merchant": f.merchant, "order_fen": f.order.as_i64(),
                   "subsidy_fen": f.subsidy.as_i64(), "redeemed_at": f.redeemed_at.to_rfc3339()})
        })
        .collect()
}

fn subsidy(rs: &[&RedemptionFact]) -> Fen {
    Fen::new(rs.iter().map(|f| f.subsidy.as_i64()).sum())
}

/// A case member naming a merchant.
fn merchant_member(m: MerchantId) -> CaseMember {
    CaseMember { kind: "merchant", id: m.to_string() }
}

fn resident_member(r: &ResidentId) -> CaseMember {
    CaseMember { kind: "resident", id: r.to_string() }
}

/// A ring's case: its merchants (with names), residents, the graph's edges
/// between them and every redemption inside it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ring_case(
    id: uuid::Uuid,
    campaign: CampaignId,
    district: &str,
    (merchants, names, residents): (&[MerchantId], &[String], &[ResidentId]),
    ring: &collusion::Ring,
    inside: &[&RedemptionFact],
    edges: &[(ResidentId, MerchantId, u32, u32)],
    at: DateTime<Utc>,
) -> NewCase {
    let amount = subsidy(inside);
    let mut sorted: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
    sorted.sort();
    let evidence = json!({
        "finding": "ring", "campaign": campaign,
        "merchants": merchants.iter().zip(names).map(|(m, n)| json!({"id": m, "name": n})).collect::<Vec<_>>(),
        "residents": residents,
        "edges": edges.iter().map(|(r, m, n, h)| json!({"resident": r, "merchant": m, "redemptions": n, "hugging": h})).collect::<Vec<_>>(),
        "redemptions": redemption_rows(inside),
        "scores": {"redemptions": ring.redemptions, "hugging": ring.hugging, "inside_pct": ring.inside_pct, "density_q16": ring.density_q16},
    });
    let summary = format!(
        "疑似套现团伙：{} 名居民在 {} 家商户（{}）共核销 {} 笔，其中 {} 笔订单金额仅略高于使用门槛；这些居民 {}% 的核销发生在这几家商户，涉及补贴 {}。",
        residents.len(),
        merchants.len(),
        names.join("、"),
        ring.redemptions,
        ring.hugging,
        ring.inside_pct,
        yuan(amount)
    );
    let mut members: Vec<CaseMember> = merchants.iter().map(|m| merchant_member(*m)).collect();
    members.extend(residents.iter().map(resident_member));
    NewCase {
        id,
        kind: "ring",
        subject: format!("ring:{}", sorted.first().cloned().unwrap_or_default()),
        source: "graph_ring".into(),
        district: district.to_owned(),
        campaign: Some(campaign),
        score: ring.score(),
        summary,
        evidence: evidence.to_string(),
        amount,
        members,
        at,
    }
}

/// A merchant whose threshold orders hug the threshold again and again.
pub(crate) fn hugging_case(
    id: uuid::Uuid,
    campaign: CampaignId,
    m: &Merchant,
    (n, hugged): (u32, u32),
    (mine, residents): (&[&RedemptionFact], &[ResidentId]),
    at: DateTime<Utc>,
) -> NewCase {
    let amount = subsidy(mine);
    let mut members = vec![merchant_member(m.id)];
    members.extend(residents.iter().map(resident_member));
    let evidence = json!({
        "finding": "threshold_hugging", "campaign": campaign,
        "merchants": [{"id": m.id, "name": m.app.legal_name}],
        "residents": residents,
        "redemptions": redemption_rows(mine),
        "scores": {"threshold_orders": n, "hugging": hugged},
    });
    NewCase {
        id,
        kind: "merchant",
        subject: format!("merchant:{}:hugging", m.id),
        source: "threshold_hugging".into(),
        district: m.app.district.as_str().to_owned(),
        campaign: Some(campaign),
        score: i64::from(hugged),
        summary: format!(
            "门槛凑单：商户「{}」的 {} 笔满减核销中有 {} 笔订单金额仅略高于使用门槛，其中 {} 名居民各有两笔以上，涉及补贴 {}。",
            m.app.legal_name,
            n,
            hugged,
            residents.len(),
            yuan(amount)
        ),
        evidence: evidence.to_string(),
        amount,
        members,
        at,
    }
}

/// Accounts registered together that claimed and let the vouchers lie.
pub(crate) fn hoarding_case(
    id: uuid::Uuid,
    campaign: CampaignId,
    region: &str,
    c: &hoarding::Cohort,
    idle: &[ResidentId],
    at: DateTime<Utc>,
) -> NewCase {
    let start = DateTime::from_timestamp(c.starts_s, 0).unwrap_or_default();
    let local = start.with_timezone(&quan_domain::UTC8).format("%Y-%m-%d %H:%M");
    NewCase {
        id,
        kind: "resident",
        subject: format!("cohort:{campaign}:{}", c.starts_s),
        source: "hoarding".into(),
        district: region.to_owned(),
        campaign: Some(campaign),
        score: i64::from(c.vouchers),
        summary: format!(
            "疑似囤券：{local}（北京时间）起几分钟内注册的 {} 个领券账户中，{} 个领券后从未核销，共持有 {} 张。",
            c.claiming,
            idle.len(),
            c.vouchers
        ),
        evidence: json!({"finding": "hoarding", "campaign": campaign, "registered_from": start.to_rfc3339(),
                         "claiming": c.claiming, "residents": idle, "vouchers": c.vouchers})
        .to_string(),
        amount: Fen::ZERO,
        members: idle.iter().map(resident_member).collect(),
        at,
    }
}

/// A product whose price rose before a batch opened, or stands above the
/// same model elsewhere.
#[allow(clippy::too_many_arguments)]
pub(crate) fn price_case(
    id: uuid::Uuid,
    campaign: CampaignId,
    district: &str,
    p: &ProductPrices,
    batch: quan_domain::BatchId,
    batch_name: &str,
    raise: &price_guard::Raise,
    at: DateTime<Utc>,
) -> NewCase {
    let (why, before, now, bp) = match *raise {
        price_guard::Raise::OverOwnPast { before, at_open, rise_bp } => ("开售前涨价", before, at_open, rise_bp),
        price_guard::Raise::OverPeers { peers, at_open, excess_bp } => {
            ("高于其他商户同型号", peers, at_open, excess_bp)
        }
    };
    let history: Vec<serde_json::Value> =
        p.history.iter().map(|(t, f)| json!({"at": t.to_rfc3339(), "price_fen": f.as_i64()})).collect();
    NewCase {
        id,
        kind: "product",
        subject: format!("product:{}:{}", p.merchant, p.sku),
        source: "price_raise".into(),
        district: district.to_owned(),
        campaign: Some(campaign),
        score: bp / 100,
        summary: format!(
            "先涨价后补贴：商品 {} {}（{}）在批次「{}」开放时标价 {}，比{} {} 高 {}.{:02}%。",
            p.brand,
            p.model,
            p.sku,
            batch_name,
            yuan(now),
            if why == "开售前涨价" { "开放前的标价" } else { "其他商户同型号中位价" },
            yuan(before),
            bp / 100,
            bp % 100
        ),
        evidence: json!({"finding": "price_raise", "campaign": campaign, "batch": batch, "why": why,
                         "merchants": [{"id": p.merchant}], "product": {"sku": p.sku, "brand": p.brand, "model": p.model},
                         "before_fen": before.as_i64(), "at_open_fen": now.as_i64(), "rise_bp": bp, "history": history})
        .to_string(),
        amount: Fen::ZERO,
        members: vec![merchant_member(p.merchant), CaseMember { kind: "product", id: format!("{}/{}", p.merchant, p.sku) }],
        at,
    }
}

/// A refund soon after its redemption (the rule `quick_refund` set to hold).
pub(crate) fn quick_refund_case(
    id: uuid::Uuid,
    m: &Merchant,
    r: &quan_store::Redemption,
    refund: &quan_store::Refund,
    at: DateTime<Utc>,
) -> NewCase {
    let seconds = (refund.at - r.redeemed_at).num_seconds();
    let evidence = json!({
        "finding": "quick_refund", "campaign": r.campaign_id,
        "merchants": [{"id": m.id, "name": m.app.legal_name}],
        "residents": [r.resident_id],
        "redemptions": [{"id": r.id, "resident": r.resident_id, "merchant": r.merchant_id, "order_fen": r.order.as_i64(),
            "subsidy_fen": r.subsidy.as_i64(), "redeemed_at": r.redeemed_at.to_rfc3339()}],
        "refund": {"id": refund.id, "amount_fen": refund.amount.as_i64(), "at": refund.at.to_rfc3339(), "seconds_after": seconds},
    });
    NewCase {
        id,
        kind: "merchant",
        subject: format!("merchant:{}:quick_refund", m.id),
        source: "quick_refund".into(),
        district: m.app.district.as_str().to_owned(),
        campaign: Some(r.campaign_id),
        score: 1,
        summary: format!(
            "核销后快速退款：商户「{}」在核销后 {} 秒退款 {}（订单 {}）。",
            m.app.legal_name,
            seconds,
            yuan(refund.amount),
            yuan(r.order)
        ),
        evidence: evidence.to_string(),
        amount: r.face,
        members: vec![merchant_member(m.id), resident_member(&r.resident_id)],
        at,
    }
}
