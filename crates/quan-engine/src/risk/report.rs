//! The kill switch in the T+1 report: every pause that touched the
//! campaign during the business day (its batches, itself, its region or a
//! region inside it, its region's merchants, any partner channel), who
//! made and lifted it, and why; in the JSON, the CSV and the workbook.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use quan_domain::pause::Target;
use quan_store::{Batch, Campaign, StoreError};
use rust_xlsxwriter::{Format, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use crate::Engine;

/// One pause as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseLine {
    pub id: String,
    /// 批次 / 活动 / 商户 / 合作渠道 / 地区, and the target's id.
    pub target: String,
    pub target_id: String,
    /// 领券 / 核销 / 领券和核销.
    pub stops: String,
    pub by: String,
    pub reason: String,
    pub from: DateTime<Utc>,
    /// None: still on at the day's end.
    pub until: Option<DateTime<Utc>>,
    pub resumed_by: Option<String>,
    pub resume_reason: Option<String>,
}

impl Engine {
    /// The pauses on at some instant of `[from, to)` that touched campaign `c`.
    pub(crate) async fn pauses_for_report(
        &self,
        c: &Campaign,
        batches: &[Batch],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PauseLine>, StoreError> {
        let mut out = Vec::new();
        for p in self.store().pauses_between(from, to).await? {
            let Ok(target) = Target::parse(&p.target_kind, &p.target_id) else { continue };
            let touches = match &target {
                Target::Batch(b) => batches.iter().any(|x| x.id == *b),
                Target::Campaign(x) => *x == c.id,
                Target::Region(r) => r.contains(&c.spec.region) || c.spec.region.contains(r),
                Target::Merchant(m) => match self.store().merchant_by_id(*m).await {
                    Ok(m) => c.spec.region.contains_district(&m.app.district),
                    Err(StoreError::NotFound) => false,
                    Err(e) => return Err(e),
                },
                Target::Channel(_) => true,
            };
            if !touches {
                continue;
            }
            let stops = quan_domain::pause::Stops::parse(&p.stops).map_or(p.stops.clone(), |s| s.zh().to_owned());
            out.push(PauseLine {
                id: p.id.to_string(),
                target: target.kind_zh().into(),
                target_id: p.target_id,
                stops,
                by: p.by_name,
                reason: p.reason,
                from: p.at,
                until: p.resumed.as_ref().map(|r| r.at).filter(|t| *t < to),
                resumed_by: p.resumed.as_ref().filter(|r| r.at < to).map(|r| r.by_name.clone()),
                resume_reason: p.resumed.as_ref().filter(|r| r.at < to).map(|r| r.reason.clone()),
            });
        }
        Ok(out)
    }
}

const HEAD: [&str; 9] =
    ["对象", "对象编号", "暂停", "操作人", "原因", "开始（北京时间）", "解除（北京时间）", "解除人", "解除原因"];

fn cells(p: &PauseLine) -> [String; 9] {
    [
        p.target.clone(),
        p.target_id.clone(),
        p.stops.clone(),
        p.by.clone(),
        p.reason.clone(),
        quan_domain::beijing(p.from),
        p.until.map_or_else(|| "日终仍暂停".to_owned(), quan_domain::beijing),
        p.resumed_by.clone().unwrap_or_default(),
        p.resume_reason.clone().unwrap_or_default(),
    ]
}

/// Rows of the `熔断` view: its header, then one row a pause.
pub fn csv_rows(pauses: &[PauseLine], out: &mut String, quote: fn(&str) -> String) {
    let _ = writeln!(out, "熔断,{}", HEAD.join(","));
    for p in pauses {
        let row: Vec<String> = cells(p).iter().map(|c| quote(&crate::csv_cell::cell(c))).collect();
        let _ = writeln!(out, "熔断,{}", row.join(","));
    }
}

/// The `熔断` sheet.
pub fn sheet(
    ws: &mut Worksheet,
    title: &str,
    pauses: &[PauseLine],
    head: &Format,
    bold: &Format,
) -> Result<(), XlsxError> {
    ws.set_name("熔断")?;
    ws.write_string_with_format(0, 0, title, bold)?;
    for (c, h) in HEAD.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(0);
        ws.write_string_with_format(2, col, *h, head)?;
        ws.set_column_width(col, if c == 4 || c == 8 { 30 } else { 16 })?;
    }
    if pauses.is_empty() {
        ws.write_string(3, 0, "当日无熔断")?;
    }
    for (y, p) in pauses.iter().enumerate() {
        let row = 3 + u32::try_from(y).unwrap_or(0);
        for (c, v) in cells(p).iter().enumerate() {
            ws.write_string(row, u16::try_from(c).unwrap_or(0), v)?;
        }
    }
    Ok(())
}
