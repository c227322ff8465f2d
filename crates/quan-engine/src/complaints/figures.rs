//! Complaint figures as of the end of a business day: filed, closed, open,
//! overdue, answered and closed in time, by type, district and merchant.
//! Only what happened before the day's end counts, so a report built later
//! gives the same figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use quan_domain::CampaignId;
use quan_domain::complaint::{ComplaintKind, overdue};
use quan_store::Complaint;
use serde::{Deserialize, Serialize};

use super::ComplaintError;
use crate::Engine;

/// One group's count: code, name, filed that day, filed to date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub code: String,
    pub name: String,
    pub day: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintFigures {
    pub filed_day: u64,
    pub filed_total: u64,
    pub closed_total: u64,
    pub open_at_day_end: u64,
    /// Open at the day's end with its first answer or its close late.
    pub overdue_at_day_end: u64,
    pub answered_in_time: u64,
    pub answered_late: u64,
    pub closed_in_time: u64,
    pub closed_late: u64,
    pub by_kind: Vec<CountRow>,
    pub by_district: Vec<CountRow>,
    pub by_merchant: Vec<CountRow>,
}

/// Names of districts and merchants for the rows.
pub type Names = BTreeMap<String, String>;

fn before(t: Option<DateTime<Utc>>, end: DateTime<Utc>) -> Option<DateTime<Utc>> {
    t.filter(|t| *t < end)
}

fn bump(map: &mut BTreeMap<String, CountRow>, code: String, names: &Names, today: bool) {
    let row = map.entry(code.clone()).or_insert_with(|| CountRow {
        name: names.get(&code).cloned().unwrap_or_default(),
        code,
        ..CountRow::default()
    });
    row.total += 1;
    row.day += u64::from(today);
}

/// The figures of the tickets filed before `end`, the day being `[start, end)`.
pub fn fold(tickets: &[Complaint], start: DateTime<Utc>, end: DateTime<Utc>, names: &Names) -> ComplaintFigures {
    let mut f = ComplaintFigures::default();
    let (mut kinds, mut districts, mut merchants) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let kind_names: Names = ComplaintKind::ALL.iter().map(|k| (k.as_str().to_owned(), k.zh().to_owned())).collect();
    for c in tickets.iter().filter(|c| c.filed_at < end) {
        let today = c.filed_at >= start;
        f.filed_total += 1;
        f.filed_day += u64::from(today);
        let answered = before(c.answered_at, end);
        let closed = before(c.closed_at, end);
        match answered {
            Some(a) if a <= c.answer_due => f.answered_in_time += 1,
            Some(_) => f.answered_late += 1,
            None => {}
        }
        match closed {
            Some(t) if t <= c.close_due => f.closed_in_time += 1,
            Some(_) => f.closed_late += 1,
            None => {
                f.open_at_day_end += 1;
                f.overdue_at_day_end += u64::from(overdue(end, c.answer_due, answered, c.close_due, None));
            }
        }
        f.closed_total += u64::from(closed.is_some());
        bump(&mut kinds, c.kind.as_str().to_owned(), &kind_names, today);
        bump(&mut districts, c.region.as_str().to_owned(), names, today);
        if let Some(m) = c.merchant {
            bump(&mut merchants, m.to_string(), names, today);
        }
    }
    let sorted = |m: BTreeMap<String, CountRow>| {
        let mut v: Vec<CountRow> = m.into_values().collect();
        v.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.code.cmp(&b.code)));
        v
    };
    f.by_kind = sorted(kinds);
    f.by_district = sorted(districts);
    f.by_merchant = sorted(merchants);
    f
}

impl Engine {
    /// A campaign's complaint figures as of the end of `[start, end)`: the
    /// tickets naming the campaign, and those naming none filed in its region.
    pub async fn complaint_figures(
        &self,
        campaign: CampaignId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<ComplaintFigures, ComplaintError> {
        let c = self.store().campaign_by_id(campaign).await?;
        let tickets: Vec<Complaint> = self
            .store()
            .complaints_filed_before(&c.spec.region, end)
            .await?
            .into_iter()
            .filter(|t| t.campaign.is_none_or(|id| id == campaign))
            .collect();
        let mut names: Names =
            self.store().districts().await?.into_iter().map(|d| (d.code.as_str().to_owned(), d.name)).collect();
        let mut merchants: Vec<_> = tickets.iter().filter_map(|t| t.merchant).collect();
        merchants.sort();
        merchants.dedup();
        for m in merchants {
            if let Ok(found) = self.store().merchant_by_id(m).await {
                names.insert(m.to_string(), found.app.legal_name);
            }
        }
        Ok(fold(&tickets, start, end, &names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use quan_domain::complaint::ComplaintState;
    use quan_domain::{MerchantId, Region, ResidentId};

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap_or_default()
    }

    fn ticket(filed_h: i64, answered_h: Option<i64>, closed_h: Option<i64>, kind: ComplaintKind) -> Complaint {
        Complaint {
            id: uuid::Uuid::from_u128(filed_h as u128),
            ticket: String::new(),
            resident: ResidentId::from_uuid(uuid::Uuid::from_u128(1)),
            kind,
            body: String::new(),
            region: Region::parse("420502").unwrap_or_else(|e| panic!("{e}")),
            voucher: None,
            redemption: None,
            merchant: Some(MerchantId::from_uuid(uuid::Uuid::from_u128(7))),
            campaign: None,
            photo_type: None,
            state: if closed_h.is_some() { ComplaintState::Closed } else { ComplaintState::Open },
            outcome: None,
            assignee: None,
            merchant_asked: false,
            filed_at: t(filed_h),
            answer_due: t(filed_h) + Duration::hours(24),
            close_due: t(filed_h) + Duration::hours(72),
            answered_at: answered_h.map(t),
            closed_at: closed_h.map(t),
            version: 1,
        }
    }

    #[test]
    fn figures_count_only_what_happened_before_the_days_end() {
        use ComplaintKind as K;
        let tickets = [
            ticket(0, Some(2), Some(3), K::ShopRefused), // answered and closed in time
            ticket(10, Some(40), None, K::ShopRefused),  // answered late, still open
            ticket(20, None, None, K::WrongDiscount),    // unanswered: overdue at the end (hour 50)
            ticket(49, Some(60), Some(61), K::Other),    // filed today; answered after the end
            ticket(55, None, None, K::Other),            // after the end: not counted
        ];
        let names: Names = [("420502".to_owned(), "西陵区".to_owned())].into_iter().collect();
        let f = fold(&tickets, t(26), t(50), &names);
        assert_eq!((f.filed_total, f.filed_day), (4, 1));
        assert_eq!((f.answered_in_time, f.answered_late), (1, 1));
        assert_eq!((f.closed_in_time, f.closed_late, f.closed_total), (1, 0, 1));
        assert_eq!((f.open_at_day_end, f.overdue_at_day_end), (3, 1));
        assert_eq!(
            f.by_kind[0],
            CountRow { code: "shop_refused".into(), name: "商户拒收消费券".into(), day: 0, total: 2 }
        );
        assert_eq!(f.by_district[0].name, "西陵区");
        assert_eq!(f.by_merchant[0].total, 4);
    }
}
