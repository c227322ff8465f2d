//! Expiry: a claimed voucher past its last valid day (UTC+8) becomes
//! `expired`, and its face value goes back from reserved to the campaign's
//! available budget, in the same transaction.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use quan_domain::campaign::CampaignStatus;
use quan_domain::ledger::{Account, AccountKind, Reason};
use quan_domain::voucher_kind::Validity;
use quan_domain::{CampaignId, Fen, UTC8};
use quan_store::{StoreError, Transfer};

use crate::Engine;

/// What one expiry run released.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub vouchers: u64,
    pub released: i128,
}

/// The instant before which a voucher of this validity must have been
/// claimed to be past its last day at `now`; `None` when none can be yet.
pub fn claimed_before(validity: &Validity, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&UTC8).date_naive();
    let midnight =
        |d: chrono::NaiveDate| UTC8.from_local_datetime(&d.and_time(NaiveTime::MIN)).single().map(|l| l.to_utc());
    match validity {
        // Every voucher of the kind, once its last day is over.
        Validity::Fixed { until, .. } => (today > *until).then_some(DateTime::<Utc>::MAX_UTC),
        // Claimed on day c, valid through c + days: expired when c + days < today.
        Validity::DaysAfterClaim { days } => midnight(today - Duration::days(i64::from(*days))),
    }
}

impl Engine {
    /// Expires what is past validity in one campaign.
    pub async fn expire_campaign(&self, id: CampaignId) -> Result<Expired, StoreError> {
        let now = self.now();
        let mut out = Expired::default();
        let batches = self.store().list_batches(id).await?;
        for b in &batches {
            for k in &b.spec.kinds {
                // Rollover: the next batch (opening later, not yet closed) with
                // the same kind takes the expired vouchers' stock.
                let rollover_to = k
                    .kind
                    .rollover
                    .then(|| {
                        batches
                            .iter()
                            .filter(|n| n.spec.opening_at > b.spec.opening_at && n.spec.closing_at > now)
                            .filter(|n| n.spec.kinds.iter().any(|nk| nk.kind.code == k.kind.code))
                            .min_by_key(|n| n.spec.opening_at)
                            .map(|n| n.id)
                    })
                    .flatten();
                let Some(before) = claimed_before(&k.kind.validity, now) else { continue };
                let release = Transfer {
                    id: self.new_uuid(),
                    debit: Account::campaign(id, AccountKind::Reserved),
                    credit: Account::campaign(id, AccountKind::Available),
                    amount: Fen::new(1),
                    reason: Reason::ExpiryRelease,
                    reference: format!("expiry:{}:{}", b.id, k.kind.code),
                    at: now,
                };
                // Partners holding the resident's binding are told, in the same transaction.
                let tell = |x: &quan_store::ExpiredBound| {
                    let data = serde_json::json!({
                        "resident_openid": x.openid,
                        "voucher_id": x.voucher_id,
                        "campaign_id": id,
                        "batch_id": b.id,
                        "kind_code": k.kind.code,
                        "face_fen": x.face.as_i64(),
                        "expired_at": now,
                    });
                    self.partner_event(x.partner_id, "voucher.expired", &x.voucher_id.to_string(), data)
                };
                let (n, face) =
                    self.store().expire_vouchers(b.id, &k.kind.code, before, &release, rollover_to, &tell).await?;
                out.vouchers += n;
                out.released += i128::from(face.as_i64());
            }
        }
        if out.vouchers > 0 {
            tracing::info!(campaign_id = %id, vouchers = out.vouchers, released_fen = out.released as i64, "vouchers expired");
        }
        Ok(out)
    }

    /// Expires what is past validity in every running or closing campaign
    /// (the job `quan serve` runs every minute).
    pub async fn expire_all(&self) -> Result<Expired, StoreError> {
        let mut total = Expired::default();
        let ids = self.all_campaign_ids().await.map_err(|e| StoreError::message(e.to_string()))?;
        for id in ids {
            let c = self.store().campaign_by_id(id).await?;
            if !matches!(c.status, CampaignStatus::Running | CampaignStatus::Closing) {
                continue;
            }
            let e = self.expire_campaign(id).await?;
            total.vouchers += e.vouchers;
            total.released += e.released;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).unwrap_or_default()
    }

    #[test]
    fn a_voucher_valid_three_days_after_its_claim_expires_at_local_midnight_after_the_third() {
        let v = Validity::DaysAfterClaim { days: 3 };
        // At 12-09 00:00:01 local, vouchers claimed before 12-06 00:00 local are past 12-08.
        assert_eq!(claimed_before(&v, at("2026-12-09T00:00:01+08:00")), Some(at("2026-12-06T00:00:00+08:00")));
    }

    #[test]
    fn a_fixed_validity_expires_everything_only_after_its_last_day() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        let v = Validity::Fixed { from: d("2026-12-01"), until: d("2026-12-31") };
        assert_eq!(claimed_before(&v, at("2026-12-31T23:59:59+08:00")), None);
        assert_eq!(claimed_before(&v, at("2027-01-01T00:00:00+08:00")), Some(DateTime::<Utc>::MAX_UTC));
    }
}
