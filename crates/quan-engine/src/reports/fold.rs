//! How a daily report is computed: one business day at a time. The
//! cumulative figures of day D are those of day D−1 plus what happened on
//! D; a resident (or merchant) counts as new in a row the first day they
//! appear in it. A day costs what happened that day (its rows, and the
//! earlier history of the residents active that day, by index), so the
//! report of a city-scale campaign builds in seconds from the previous
//! day's snapshot. A rebuild from the first day folds every day in turn and
//! must give the same bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use quan_domain::{BatchId, MerchantId, ResidentId};
use quan_store::ReportDay;

use super::{BatchTrendPoint, DailyReport, Figures, Row, TrendPoint};

/// The views of a report: what rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Total,
    Batch,
    Industry,
    District,
    Scale,
    /// Batch × industry × district.
    Cell,
}

pub(crate) const VIEWS: [View; 6] = [View::Total, View::Batch, View::Industry, View::District, View::Scale, View::Cell];

/// A row's key; the parts its view does not use are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    pub batch: Option<BatchId>,
    pub industry: Option<String>,
    pub district: Option<String>,
    pub scale: Option<String>,
}

/// A merchant's industry, district and scale.
pub(crate) type Attributes = HashMap<MerchantId, (String, String, String)>;

/// The industry a voucher kind is for: its scope's one industry, else
/// `general` (通用: valid across industries).
pub(crate) type KindIndustries = HashMap<(BatchId, String), String>;

/// The row key of an issued voucher: its kind's industry, and the district
/// its resident claimed from (`unknown`: no position was given).
fn issue_key(v: View, batch: BatchId, kind: &str, district: Option<&String>, kinds: &KindIndustries) -> Key {
    let industry = || kinds.get(&(batch, kind.to_owned())).cloned().unwrap_or_else(|| "general".to_owned());
    let district = || district.cloned().unwrap_or_else(|| "unknown".to_owned());
    match v {
        View::Total => Key::default(),
        View::Batch => Key { batch: Some(batch), ..Key::default() },
        View::Industry => Key { industry: Some(industry()), ..Key::default() },
        View::District => Key { district: Some(district()), ..Key::default() },
        View::Scale => Key { scale: Some("unknown".to_owned()), ..Key::default() },
        View::Cell => Key { batch: Some(batch), industry: Some(industry()), district: Some(district()), scale: None },
    }
}

fn key(v: View, batch: BatchId, m: Option<&(String, String, String)>) -> Key {
    let unknown = || "unknown".to_owned();
    let industry = || m.map_or_else(unknown, |a| a.0.clone());
    let district = || m.map_or_else(unknown, |a| a.1.clone());
    match v {
        View::Total => Key::default(),
        View::Batch => Key { batch: Some(batch), ..Key::default() },
        View::Industry => Key { industry: Some(industry()), ..Key::default() },
        View::District => Key { district: Some(district()), ..Key::default() },
        View::Scale => Key { scale: Some(m.map_or_else(unknown, |a| a.2.clone())), ..Key::default() },
        View::Cell => Key { batch: Some(batch), industry: Some(industry()), district: Some(district()), scale: None },
    }
}

/// Which views count vouchers issued: all but merchant scale (a voucher
/// has no merchant until it is used).
fn has_issue(v: View) -> bool {
    !matches!(v, View::Scale)
}

/// The raw sums a row's figures are derived from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Raw {
    pub redemptions: u64,
    pub order: i128,
    pub subsidy: i128,
    pub pm: i128,
    pub mm: i128,
    pub redeemers: u64,
    pub merchants: u64,
    pub refunds: u64,
    pub refunded: i128,
    pub returned: i128,
    pub backs: u64,
    pub issued: u64,
    pub face: i128,
    pub claimers: u64,
}

impl Raw {
    fn from_figures(f: &Figures) -> Raw {
        Raw {
            redemptions: f.redemptions,
            order: i128::from(f.order_fen),
            subsidy: i128::from(f.subsidy_fen),
            pm: i128::from(f.platform_match_fen),
            mm: i128::from(f.merchant_match_fen),
            redeemers: f.redeemers,
            merchants: f.merchants,
            refunds: f.refunds,
            refunded: i128::from(f.refunded_fen),
            returned: i128::from(f.subsidy_returned_fen),
            backs: f.vouchers_back,
            issued: f.issued.unwrap_or(0),
            face: i128::from(f.issued_face_fen.unwrap_or(0)),
            claimers: f.claimers.unwrap_or(0),
        }
    }

    /// Adds the additive sums (not the distinct counts).
    fn add(&mut self, d: &Raw) {
        self.redemptions += d.redemptions;
        self.order += d.order;
        self.subsidy += d.subsidy;
        self.pm += d.pm;
        self.mm += d.mm;
        self.refunds += d.refunds;
        self.refunded += d.refunded;
        self.returned += d.returned;
        self.backs += d.backs;
        self.issued += d.issued;
        self.face += d.face;
    }

    pub(crate) fn figures(&self, issue: bool, rate: bool) -> Figures {
        let net_order = self.order - self.refunded;
        let net_subsidy = self.subsidy - self.returned;
        let redeemed = i128::from(self.redemptions) - i128::from(self.backs);
        Figures {
            issued: issue.then_some(self.issued),
            issued_face_fen: issue.then(|| super::clamp(self.face)),
            claimers: issue.then_some(self.claimers),
            redeemers: self.redeemers,
            redemptions: self.redemptions,
            order_fen: super::clamp(self.order),
            subsidy_fen: super::clamp(self.subsidy),
            platform_match_fen: super::clamp(self.pm),
            merchant_match_fen: super::clamp(self.mm),
            refunds: self.refunds,
            refunded_fen: super::clamp(self.refunded),
            subsidy_returned_fen: super::clamp(self.returned),
            vouchers_back: self.backs,
            net_order_fen: super::clamp(net_order),
            net_subsidy_fen: super::clamp(net_subsidy),
            redemption_rate_bp: if issue && rate {
                super::ratio(redeemed, i128::from(self.issued), 10_000)
            } else {
                None
            },
            leverage_x100: super::ratio(net_order, net_subsidy, 100),
            merchants: self.merchants,
        }
    }
}

/// Everything carried from one day to the next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acc {
    /// Cumulative sums per view and key.
    pub cumulative: Vec<BTreeMap<Key, Raw>>,
    /// The last folded day's own sums.
    pub day: Vec<BTreeMap<Key, Raw>>,
    /// (batch, merchant) pairs with a redemption to date.
    pub merchants_seen: BTreeSet<(BatchId, MerchantId)>,
    pub trend: Vec<TrendPoint>,
    pub batch_trend: Vec<BatchTrendPoint>,
}

fn view_index(v: View) -> usize {
    VIEWS.iter().position(|x| *x == v).unwrap_or(0)
}

impl Acc {
    pub fn new() -> Acc {
        let mut a = Acc {
            cumulative: vec![BTreeMap::new(); VIEWS.len()],
            day: vec![BTreeMap::new(); VIEWS.len()],
            ..Acc::default()
        };
        a.cumulative[view_index(View::Total)].insert(Key::default(), Raw::default());
        a
    }

    /// The state a stored report left (its cumulative figures and state).
    pub fn from_report(r: &DailyReport) -> Acc {
        let mut a = Acc::new();
        let parse = |row: &Row| Key {
            batch: row.batch_id.as_deref().and_then(|b| b.parse().ok()),
            industry: row.industry.clone(),
            district: row.district.clone(),
            scale: row.scale.clone(),
        };
        for (v, rows) in [
            (View::Total, std::slice::from_ref(&r.total)),
            (View::Batch, r.batches.as_slice()),
            (View::Industry, r.industries.as_slice()),
            (View::District, r.districts.as_slice()),
            (View::Scale, r.scales.as_slice()),
            (View::Cell, r.cells.as_slice()),
        ] {
            for row in rows {
                a.cumulative[view_index(v)].insert(parse(row), Raw::from_figures(&row.cumulative));
            }
        }
        a.merchants_seen =
            r.state.merchants_seen.iter().filter_map(|(b, m)| Some((b.parse().ok()?, m.parse().ok()?))).collect();
        a.trend.clone_from(&r.trend);
        a.batch_trend.clone_from(&r.batch_trend);
        a
    }

    /// Folds business day `d` in.
    pub fn fold(&mut self, d: NaiveDate, rd: &ReportDay, attrs: &Attributes, kinds: &KindIndustries) {
        let n = VIEWS.len();
        let DayRows { mut day, residents, merchants, claimers } = day_rows(rd, attrs, kinds);
        // Who was there before the day, per view.
        let mut before: Vec<HashSet<(Key, ResidentId)>> = vec![HashSet::new(); n];
        for x in &rd.redemption_history {
            let a = attrs.get(&x.merchant);
            for (i, v) in VIEWS.iter().enumerate() {
                before[i].insert((key(*v, x.batch, a), x.resident));
            }
        }
        let mut claimed_before: Vec<HashSet<(Key, ResidentId)>> = vec![HashSet::new(); n];
        for x in &rd.voucher_history {
            for (i, v) in VIEWS.iter().enumerate().filter(|(_, v)| has_issue(**v)) {
                claimed_before[i]
                    .insert((issue_key(*v, x.batch, &x.kind_code, x.claim_district.as_ref(), kinds), x.resident));
            }
        }
        for (i, view) in day.iter_mut().enumerate() {
            for (k, raw) in view.iter_mut() {
                let today = residents[i].get(k);
                raw.redeemers = today.map_or(0, |s| s.len() as u64);
                raw.merchants = merchants[i].get(k).map_or(0, |s| s.len() as u64);
                let got = claimers[i].get(k);
                raw.claimers = got.map_or(0, |s| s.len() as u64);
                let cum = self.cumulative[i].entry(k.clone()).or_default();
                cum.add(raw);
                cum.redeemers +=
                    today.map_or(0, |s| s.iter().filter(|r| !before[i].contains(&(k.clone(), **r))).count() as u64);
                cum.claimers += got
                    .map_or(0, |s| s.iter().filter(|r| !claimed_before[i].contains(&(k.clone(), **r))).count() as u64);
            }
        }
        // Merchants to date, per key of every view.
        for x in &rd.redemptions {
            self.merchants_seen.insert((x.batch, x.merchant));
        }
        let mut per_key: Vec<HashMap<Key, HashSet<MerchantId>>> = vec![HashMap::new(); n];
        for (b, m) in &self.merchants_seen {
            let a = attrs.get(m);
            for (i, v) in VIEWS.iter().enumerate() {
                per_key[i].entry(key(*v, *b, a)).or_default().insert(*m);
            }
        }
        for (i, view) in self.cumulative.iter_mut().enumerate() {
            for (k, raw) in view.iter_mut() {
                raw.merchants = per_key[i].get(k).map_or(0, |s| s.len() as u64);
            }
        }
        let total = day[view_index(View::Total)].get(&Key::default()).cloned().unwrap_or_default();
        if total.redemptions > 0 {
            self.trend.push(TrendPoint {
                day: d,
                redemptions: total.redemptions,
                order_fen: super::clamp(total.order),
                subsidy_fen: super::clamp(total.subsidy),
            });
        }
        for (k, raw) in &day[view_index(View::Batch)] {
            if let (Some(b), true) = (k.batch, raw.redemptions > 0) {
                self.batch_trend.push(BatchTrendPoint {
                    batch_id: b.to_string(),
                    day: d,
                    redemptions: raw.redemptions,
                    order_fen: super::clamp(raw.order),
                    subsidy_fen: super::clamp(raw.subsidy),
                });
            }
        }
        self.batch_trend.sort_by(|a, b| a.batch_id.cmp(&b.batch_id).then(a.day.cmp(&b.day)));
        self.day = day;
    }

    /// The rows of a view, in key order, with the day's and the cumulative figures.
    pub fn rows(&self, v: View, batch_names: &HashMap<BatchId, String>) -> Vec<Row> {
        let i = view_index(v);
        let none = Raw::default();
        self.cumulative[i]
            .iter()
            .map(|(k, cum)| {
                let d = self.day.get(i).and_then(|m| m.get(k)).unwrap_or(&none);
                Row {
                    batch_id: k.batch.map(|b| b.to_string()),
                    batch_name: k.batch.map(|b| batch_names.get(&b).cloned().unwrap_or_default()),
                    industry: k.industry.clone(),
                    industry_name: k.industry.as_deref().map(super::industry_name),
                    district: k.district.clone(),
                    district_name: k.district.as_deref().map(super::district_name),
                    scale: k.scale.clone(),
                    scale_name: k.scale.as_deref().map(super::scale_name),
                    day: d.figures(has_issue(v), false),
                    cumulative: cum.figures(has_issue(v), true),
                }
            })
            .collect()
    }
}

/// One view's sets of residents (or merchants) per key.
type PerKey<T> = Vec<HashMap<Key, HashSet<T>>>;

/// A day's rows summed per view and key, with who redeemed, where, and who claimed.
struct DayRows {
    day: Vec<BTreeMap<Key, Raw>>,
    residents: PerKey<ResidentId>,
    merchants: PerKey<MerchantId>,
    claimers: PerKey<ResidentId>,
}

/// The day's redemptions, refunds and vouchers, summed per view and key.
fn day_rows(rd: &ReportDay, attrs: &Attributes, kinds: &KindIndustries) -> DayRows {
    let n = VIEWS.len();
    let mut day: Vec<BTreeMap<Key, Raw>> = vec![BTreeMap::new(); n];
    let mut residents: PerKey<ResidentId> = vec![HashMap::new(); n];
    let mut merchants: PerKey<MerchantId> = vec![HashMap::new(); n];
    let mut claimers: PerKey<ResidentId> = vec![HashMap::new(); n];
    for x in &rd.redemptions {
        let a = attrs.get(&x.merchant);
        for (i, v) in VIEWS.iter().enumerate() {
            let k = key(*v, x.batch, a);
            let raw = day[i].entry(k.clone()).or_default();
            raw.redemptions += 1;
            raw.order += i128::from(x.order_fen);
            raw.subsidy += i128::from(x.discount_fen);
            raw.pm += i128::from(x.platform_match_fen);
            raw.mm += i128::from(x.merchant_match_fen);
            residents[i].entry(k.clone()).or_default().insert(x.resident);
            merchants[i].entry(k).or_default().insert(x.merchant);
        }
    }
    for x in &rd.refunds {
        let a = attrs.get(&x.merchant);
        for (i, v) in VIEWS.iter().enumerate() {
            let raw = day[i].entry(key(*v, x.batch, a)).or_default();
            raw.refunds += 1;
            raw.refunded += i128::from(x.amount_fen);
            raw.returned += i128::from(x.subsidy_returned_fen);
            raw.backs += u64::from(x.voucher_back);
        }
    }
    for x in &rd.vouchers {
        for (i, v) in VIEWS.iter().enumerate().filter(|(_, v)| has_issue(**v)) {
            let k = issue_key(*v, x.batch, &x.kind_code, x.claim_district.as_ref(), kinds);
            let raw = day[i].entry(k.clone()).or_default();
            raw.issued += 1;
            raw.face += i128::from(x.face_fen);
            claimers[i].entry(k).or_default().insert(x.resident);
        }
    }
    DayRows { day, residents, merchants, claimers }
}
