//! T+1 reports (统计报表) for officials: a snapshot per campaign and
//! business day (UTC+8), per batch, industry, district, merchant scale and
//! batch × industry × district, with the day's and the cumulative figures;
//! stored once with its SHA-256 (a rebuild from the database gives the
//! same bytes), served as JSON, CSV and XLSX. And the live view. Residents
//! are counted, never listed.

pub mod channels;
mod complaints_sheet;
mod fold;
pub(crate) mod labels;
mod live;
pub mod render;

pub use labels::{ATTRIBUTION, district_name, industry_name, scale_name};
pub(crate) use live::LiveCache;
pub use live::{LIVE_TTL, LiveView};

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::{BusinessDay, CampaignId, Role};
use quan_store::{ReportSnapshot, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::CampaignError;
use crate::rejection::{Rejection, Status};

/// The version of the report's JSON; changes only with its shape.
pub const FORMAT: &str = "quan.daily-report/4";

/// One row's figures for the day or cumulative to its end. Amounts in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Vouchers issued, their face value, and residents who got one
    /// (抢券用户数): only on the campaign and batch rows (a voucher has no
    /// industry or district until it is used).
    pub issued: Option<u64>,
    pub issued_face_fen: Option<i64>,
    pub claimers: Option<u64>,
    /// Residents who redeemed (核销用户数), redemptions (笔数), and their
    /// order amount and subsidy (核销金额) as redeemed.
    pub redeemers: u64,
    pub redemptions: u64,
    pub order_fen: i64,
    pub subsidy_fen: i64,
    /// Matching discounts from the payment platform and from merchants.
    pub platform_match_fen: i64,
    pub merchant_match_fen: i64,
    /// Refunds by their own business day: count, amount, subsidy taken back.
    pub refunds: u64,
    pub refunded_fen: i64,
    pub subsidy_returned_fen: i64,
    /// Full refunds that returned the voucher to the wallet.
    pub vouchers_back: u64,
    /// After refunds.
    pub net_order_fen: i64,
    pub net_subsidy_fen: i64,
    /// Redeemed vouchers (less those a full refund returned) per voucher
    /// issued, in basis points; cumulative campaign and batch rows only.
    pub redemption_rate_bp: Option<i64>,
    /// 拉动比: net order amount per yuan of net subsidy, ×100 (none without subsidy).
    pub leverage_x100: Option<i64>,
    /// Merchants with a redemption.
    pub merchants: u64,
}

/// One row of a view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub batch_id: Option<String>,
    pub batch_name: Option<String>,
    pub industry: Option<String>,
    pub industry_name: Option<String>,
    pub district: Option<String>,
    pub district_name: Option<String>,
    pub scale: Option<String>,
    pub scale_name: Option<String>,
    pub day: Figures,
    pub cumulative: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub day: NaiveDate,
    pub redemptions: u64,
    pub order_fen: i64,
    pub subsidy_fen: i64,
}

/// One batch's redemptions on one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchTrendPoint {
    pub batch_id: String,
    pub day: NaiveDate,
    pub redemptions: u64,
    pub order_fen: i64,
    pub subsidy_fen: i64,
}

/// What officials write up, computed: leaders, peak, leverage, what is left.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// Up to five, by cumulative net subsidy: (code, name, fen).
    pub top_industries: Vec<(String, String, i64)>,
    pub top_districts: Vec<(String, String, i64)>,
    /// The day with the most subsidy redeemed, and that subsidy.
    pub peak_day: Option<(NaiveDate, i64)>,
    pub days_with_redemptions: u64,
    pub leverage_x100: Option<i64>,
    /// Budget not spent on net subsidy to date: at close-out, what returns to the treasury.
    pub budget_unspent_fen: i64,
    /// Face value issued to date less the net subsidy it turned into (未核销金额).
    pub issued_not_spent_fen: i64,
}

/// The T+1 report of one campaign for one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyReport {
    pub format: String,
    pub campaign_id: String,
    pub campaign_name: String,
    pub region: String,
    pub budget_fen: i64,
    pub business_day: NaiveDate,
    pub day_starts_at: DateTime<Utc>,
    pub day_ends_at: DateTime<Utc>,
    pub total: Row,
    pub batches: Vec<Row>,
    pub industries: Vec<Row>,
    pub districts: Vec<Row>,
    pub scales: Vec<Row>,
    /// Batch × industry × district.
    pub cells: Vec<Row>,
    pub trend: Vec<TrendPoint>,
    pub batch_trend: Vec<BatchTrendPoint>,
    pub analysis: Analysis,
    /// What the next day's report continues from.
    /// How each figure is attributed (said in the CSV and XLSX too).
    #[serde(default)]
    pub attribution: Vec<String>,
    /// Complaints as of the day's end (filed, answered and closed in time,
    /// overdue; by type, district and merchant).
    #[serde(default)]
    pub complaints: crate::complaints::figures::ComplaintFigures,
    /// The kill switch: every pause that touched the campaign during the day.
    #[serde(default)]
    pub pauses: Vec<crate::risk::report::PauseLine>,
    /// Risk cases and the subsidy the rules at redemption held, released and recovered.
    #[serde(default)]
    pub risk: crate::risk::figures::RiskFigures,
    /// By claim channel: quan's own H5 and each partner's app.
    #[serde(default)]
    pub channels: Vec<channels::ChannelLine>,
    pub state: ReportState,
}

/// Carried from one day's report to the next (no personal data: merchants
/// are businesses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportState {
    /// (batch, merchant) pairs with a redemption to date, sorted.
    pub merchants_seen: Vec<(String, String)>,
}

/// A batch's final report (批次总结): what officials write up once a batch
/// is over, derived from a stored daily report (so it is as immutable as
/// that snapshot): the batch's figures, its trend and peak day, its leading
/// industries and districts, leverage, and what it leaves unspent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFinal {
    pub campaign_id: String,
    pub campaign_name: String,
    pub batch_id: String,
    pub batch_name: String,
    /// The daily report it is derived from, and that report's SHA-256.
    pub as_of: NaiveDate,
    pub source_sha256: String,
    pub figures: Figures,
    pub trend: Vec<BatchTrendPoint>,
    pub peak_day: Option<(NaiveDate, i64)>,
    pub top_industries: Vec<(String, String, i64)>,
    pub top_districts: Vec<(String, String, i64)>,
    /// Face value issued in the batch less the net subsidy it turned into:
    /// what it leaves of the budget (returned at close-out unless reused).
    pub unspent_face_fen: i64,
}

impl DailyReport {
    /// The final report of one batch, from this day's snapshot.
    pub fn batch_final(&self, batch_id: &str, source_sha256: &str) -> Option<BatchFinal> {
        let row = self.batches.iter().find(|r| r.batch_id.as_deref() == Some(batch_id))?;
        let mut industries: BTreeMap<String, (String, i64)> = BTreeMap::new();
        let mut districts: BTreeMap<String, (String, i64)> = BTreeMap::new();
        for c in self.cells.iter().filter(|c| c.batch_id.as_deref() == Some(batch_id)) {
            let i = industries
                .entry(c.industry.clone().unwrap_or_default())
                .or_insert((c.industry_name.clone().unwrap_or_default(), 0));
            i.1 += c.cumulative.net_subsidy_fen;
            let d = districts
                .entry(c.district.clone().unwrap_or_default())
                .or_insert((c.district_name.clone().unwrap_or_default(), 0));
            d.1 += c.cumulative.net_subsidy_fen;
        }
        let leaders = |m: BTreeMap<String, (String, i64)>| {
            let mut v: Vec<(String, String, i64)> = m.into_iter().map(|(k, (n, f))| (k, n, f)).collect();
            v.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
            v.truncate(5);
            v
        };
        let trend: Vec<BatchTrendPoint> = self.batch_trend.iter().filter(|p| p.batch_id == batch_id).cloned().collect();
        Some(BatchFinal {
            campaign_id: self.campaign_id.clone(),
            campaign_name: self.campaign_name.clone(),
            batch_id: batch_id.to_owned(),
            batch_name: row.batch_name.clone().unwrap_or_default(),
            as_of: self.business_day,
            source_sha256: source_sha256.to_owned(),
            figures: row.cumulative.clone(),
            peak_day: trend
                .iter()
                .max_by(|a, b| a.subsidy_fen.cmp(&b.subsidy_fen).then_with(|| b.day.cmp(&a.day)))
                .map(|p| (p.day, p.subsidy_fen)),
            trend,
            top_industries: leaders(industries),
            top_districts: leaders(districts),
            unspent_face_fen: row.cumulative.issued_face_fen.unwrap_or(0) - row.cumulative.net_subsidy_fen,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("business day {0} has not ended yet (it ends at {ends}); its report is built after", ends = quan_domain::beijing(*.1))]
    DayNotOver(NaiveDate, DateTime<Utc>),
    #[error("business day {0} is before the campaign's first day {1}: there is no report of it")]
    DayBeforeCampaign(NaiveDate, NaiveDate),
    #[error("no such campaign or report")]
    NotFound,
    #[error("your role may not do this")]
    Forbidden,
    #[error("the stored report of {0} has SHA-256 {1} but a rebuild gives {2}")]
    Differs(NaiveDate, String, String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ReportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ReportError::NotFound,
            e => ReportError::Store(e),
        }
    }
}

impl From<CampaignError> for ReportError {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::NotFound => ReportError::NotFound,
            CampaignError::Forbidden => ReportError::Forbidden,
            CampaignError::Store(e) => ReportError::Store(e),
            other => ReportError::Store(StoreError::message(other.to_string())),
        }
    }
}

impl Rejection for ReportError {
    fn status(&self) -> Status {
        match self {
            ReportError::DayNotOver(..) => Status::Conflict,
            ReportError::DayBeforeCampaign(..) => Status::Unprocessable,
            ReportError::NotFound => Status::NotFound,
            ReportError::Forbidden => Status::Forbidden,
            ReportError::Differs(..) | ReportError::Store(_) => Status::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ReportError::DayNotOver(..) => "day_not_over",
            ReportError::DayBeforeCampaign(..) => "day_before_campaign",
            ReportError::NotFound => "not_found",
            ReportError::Forbidden => "forbidden",
            ReportError::Differs(..) => "report_differs",
            ReportError::Store(_) => "internal",
        }
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// `a / b` ×`scale`, rounded down; none when `b` is zero.
fn ratio(a: i128, b: i128, scale: i128) -> Option<i64> {
    (b > 0).then(|| clamp(a * scale / b))
}

/// Up to five rows by cumulative net subsidy, largest first (ties by code).
fn top(rows: &[Row], code: impl Fn(&Row) -> (Option<String>, Option<String>)) -> Vec<(String, String, i64)> {
    let mut v: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| {
            let (c, n) = code(r);
            (c.unwrap_or_default(), n.unwrap_or_default(), r.cumulative.net_subsidy_fen)
        })
        .collect();
    v.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    v.truncate(5);
    v
}

impl Engine {
    /// Builds the report of business day `day` (does not store it): from
    /// the latest stored report before it, folding in each day since.
    pub async fn build_daily_report(&self, id: CampaignId, day: NaiveDate) -> Result<DailyReport, ReportError> {
        let first = self.first_report_day(id).await?;
        let mut start = None;
        for d in self.store().report_days(id, "daily").await?.into_iter().rev() {
            // A report stored before the campaign's first day (by an older
            // version) is never folded on from: it would fold from year 1.
            if d < day && d >= first {
                let s = self.store().report_snapshot(id, d, "daily").await?;
                if let Ok(r) = serde_json::from_str::<DailyReport>(&s.content)
                    && r.format == FORMAT
                {
                    start = Some(r);
                }
                break;
            }
        }
        self.fold_days(id, day, start).await
    }

    /// The campaign's first business day with a report: the earlier of its
    /// first day and the day it was created (funding may come before it starts).
    pub async fn first_report_day(&self, id: CampaignId) -> Result<NaiveDate, ReportError> {
        let c = self.store().campaign_by_id(id).await?;
        let created = BusinessDay::of(c.created_at, self.config().business_day_cutoff).date();
        Ok(created.min(c.spec.starts_on))
    }

    /// Builds the report of `day` from the campaign's first day, ignoring
    /// stored reports (what `verify` compares against).
    pub async fn rebuild_daily_report(&self, id: CampaignId, day: NaiveDate) -> Result<DailyReport, ReportError> {
        self.fold_days(id, day, None).await
    }

    async fn fold_days(
        &self,
        id: CampaignId,
        day: NaiveDate,
        start: Option<DailyReport>,
    ) -> Result<DailyReport, ReportError> {
        let c = self.store().campaign_by_id(id).await?;
        let cutoff = self.config().business_day_cutoff;
        let (mut acc, mut d) = match &start {
            Some(r) => (fold::Acc::from_report(r), r.business_day.succ_opt().unwrap_or(day)),
            None => (fold::Acc::new(), BusinessDay::of(c.created_at, cutoff).date()),
        };
        let attrs: fold::Attributes =
            self.store().merchant_attributes().await?.into_iter().map(|(m, i, d, s)| (m, (i, d, s))).collect();
        let batches_of = self.store().list_batches(id).await?;
        let kinds: fold::KindIndustries = batches_of
            .iter()
            .flat_map(|b| b.spec.kinds.iter().map(move |k| (b, k)))
            .filter_map(|(b, k)| match k.kind.scope.industries.as_slice() {
                [one] => Some(((b.id, k.kind.code.clone()), one.as_str().to_owned())),
                _ => None,
            })
            .collect();
        while d <= day {
            let (from, to) = BusinessDay::from_date(d).bounds(cutoff);
            let rd = self.store().report_day(id, d, from, to).await?;
            acc.fold(d, &rd, &attrs, &kinds);
            d = match d.succ_opt() {
                Some(n) => n,
                None => break,
            };
        }
        if start.as_ref().is_some_and(|r| r.business_day >= day) {
            // Asked for a day not after the start: nothing was folded.
            return Err(ReportError::Store(StoreError::message("a report is built from an earlier day only")));
        }
        let (from, to) = BusinessDay::from_date(day).bounds(cutoff);
        let batch_names: HashMap<_, _> = batches_of.iter().map(|b| (b.id, b.spec.name.clone())).collect();
        let total = acc.rows(fold::View::Total, &batch_names).into_iter().next().unwrap_or_default();
        let batches = acc.rows(fold::View::Batch, &batch_names);
        let industries = acc.rows(fold::View::Industry, &batch_names);
        let districts = acc.rows(fold::View::District, &batch_names);
        let scales = acc.rows(fold::View::Scale, &batch_names);
        let cells = acc.rows(fold::View::Cell, &batch_names);
        let trend = acc.trend.clone();
        let batch_trend = acc.batch_trend.clone();
        let state = ReportState {
            merchants_seen: acc.merchants_seen.iter().map(|(b, m)| (b.to_string(), m.to_string())).collect(),
        };
        let t = &total.cumulative;
        let analysis = Analysis {
            top_industries: top(&industries, |r| (r.industry.clone(), r.industry_name.clone())),
            top_districts: top(&districts, |r| (r.district.clone(), r.district_name.clone())),
            peak_day: trend
                .iter()
                .max_by(|a, b| a.subsidy_fen.cmp(&b.subsidy_fen).then_with(|| b.day.cmp(&a.day)))
                .map(|p| (p.day, p.subsidy_fen)),
            days_with_redemptions: trend.len() as u64,
            leverage_x100: t.leverage_x100,
            budget_unspent_fen: c.spec.budget_fen.as_i64() - t.net_subsidy_fen,
            issued_not_spent_fen: t.issued_face_fen.unwrap_or(0) - t.net_subsidy_fen,
        };
        Ok(DailyReport {
            format: FORMAT.into(),
            campaign_id: id.to_string(),
            campaign_name: c.spec.name.clone(),
            region: c.spec.region.as_str().to_owned(),
            budget_fen: c.spec.budget_fen.as_i64(),
            business_day: day,
            day_starts_at: from,
            day_ends_at: to,
            total,
            batches,
            industries,
            districts,
            scales,
            cells,
            trend,
            batch_trend,
            analysis,
            attribution: ATTRIBUTION.iter().map(|a| (*a).to_owned()).collect(),
            complaints: self.complaint_figures(id, from, to).await.map_err(|e| match e {
                crate::complaints::ComplaintError::Store(s) => ReportError::Store(s),
                other => ReportError::Store(StoreError::message(other.to_string())),
            })?,
            pauses: self.pauses_for_report(&c, &batches_of, from, to).await?,
            risk: self.risk_figures(&c, from, to).await?,
            channels: self.channels_for_report(id, from, to).await?,
            state,
        })
    }

    /// The stored report of `day`, built and stored first if the day is
    /// over and it is not there yet. Roles: official, auditor (their region).
    pub async fn daily_report(
        &self,
        actor: &Actor,
        id: CampaignId,
        day: NaiveDate,
    ) -> Result<(DailyReport, ReportSnapshot), ReportError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor) {
            return Err(ReportError::Forbidden);
        }
        self.get_campaign(actor, id).await?;
        self.daily_report_unchecked(id, day).await
    }

    /// As [`Engine::daily_report`], without an acting user (CLI, jobs).
    pub async fn daily_report_unchecked(
        &self,
        id: CampaignId,
        day: NaiveDate,
    ) -> Result<(DailyReport, ReportSnapshot), ReportError> {
        // Checked before any read: a day outside the campaign is refused
        // whether or not an older version stored a report of it.
        let first = self.first_report_day(id).await?;
        if day < first {
            return Err(ReportError::DayBeforeCampaign(day, first));
        }
        match self.store().report_snapshot(id, day, "daily").await {
            Ok(s) => {
                let r: DailyReport = serde_json::from_str(&s.content)
                    .map_err(|e| StoreError::message(format!("stored report of {day} does not read back: {e}")))?;
                return Ok((r, s));
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let (_, end) = BusinessDay::from_date(day).bounds(self.config().business_day_cutoff);
        if self.now() < end {
            return Err(ReportError::DayNotOver(day, end));
        }
        let r = self.build_daily_report(id, day).await?;
        let content = canonical(&r)?;
        let snapshot = ReportSnapshot {
            campaign_id: id,
            business_day: day,
            kind: "daily".into(),
            sha256: hex::encode(Sha256::digest(content.as_bytes())),
            content,
            built_at: self.now(),
        };
        let stored = self.store().save_report(&snapshot).await?;
        tracing::info!(campaign_id = %id, %day, sha256 = %stored.sha256, "daily report stored");
        let r: DailyReport = serde_json::from_str(&stored.content)
            .map_err(|e| StoreError::message(format!("stored report of {day} does not read back: {e}")))?;
        Ok((r, stored))
    }

    /// Rebuilds day `day` from the database and checks it against the stored
    /// snapshot, byte for byte; returns the hash.
    pub async fn verify_daily_report(&self, id: CampaignId, day: NaiveDate) -> Result<String, ReportError> {
        let stored = self.store().report_snapshot(id, day, "daily").await?;
        let rebuilt = canonical(&self.rebuild_daily_report(id, day).await?)?;
        let hash = hex::encode(Sha256::digest(rebuilt.as_bytes()));
        if rebuilt != stored.content {
            return Err(ReportError::Differs(day, stored.sha256, hash));
        }
        Ok(hash)
    }

    /// A batch's final report as of business day `day`, from that day's
    /// stored daily report (built first if the day is over). Roles:
    /// official, auditor.
    pub async fn batch_final_report(
        &self,
        actor: &Actor,
        batch: quan_domain::BatchId,
        day: NaiveDate,
    ) -> Result<BatchFinal, ReportError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor) {
            return Err(ReportError::Forbidden);
        }
        let (b, _) = self.get_batch(actor, batch).await?;
        let (r, s) = self.daily_report_unchecked(b.campaign_id, day).await?;
        r.batch_final(&batch.to_string(), &s.sha256).ok_or(ReportError::NotFound)
    }

    /// Business days with a stored report.
    pub async fn report_days(&self, actor: &Actor, id: CampaignId) -> Result<Vec<(NaiveDate, String)>, ReportError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor) {
            return Err(ReportError::Forbidden);
        }
        self.get_campaign(actor, id).await?;
        let mut out = Vec::new();
        for d in self.store().report_days(id, "daily").await? {
            out.push((d, self.store().report_snapshot(id, d, "daily").await?.sha256));
        }
        Ok(out)
    }

    /// The job inside `serve`: once business day D is over, every campaign
    /// that is running, closing or closed (and not closed before D) gets its
    /// report of D. Returns the reports built.
    pub async fn build_due_reports(&self) -> Result<Vec<(CampaignId, NaiveDate)>, ReportError> {
        let cutoff = self.config().business_day_cutoff;
        let Some(day) = BusinessDay::of(self.now(), cutoff).date().pred_opt() else { return Ok(Vec::new()) };
        let mut built = Vec::new();
        for id in self.all_campaign_ids().await? {
            let c = self.store().campaign_by_id(id).await?;
            if matches!(
                c.status,
                quan_domain::campaign::CampaignStatus::Draft | quan_domain::campaign::CampaignStatus::Funded
            ) {
                continue;
            }
            let (start, end) = BusinessDay::from_date(day).bounds(cutoff);
            let closed_before = c.status == quan_domain::campaign::CampaignStatus::Closed && c.updated_at < start;
            if c.created_at >= end || closed_before {
                continue;
            }
            if matches!(self.store().report_snapshot(id, day, "daily").await, Err(StoreError::NotFound)) {
                self.daily_report_unchecked(id, day).await?;
                built.push((id, day));
            }
        }
        Ok(built)
    }
}

/// The report's canonical JSON: fields in declaration order, rows in key order.
pub fn canonical(r: &DailyReport) -> Result<String, StoreError> {
    serde_json::to_string(r).map_err(|e| StoreError::message(format!("report does not serialise: {e}")))
}
