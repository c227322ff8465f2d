//! Risk control after the grab in the T+1 report: cases opened during the
//! day, open and closed (by outcome) at its end, and the subsidy the rules
//! at redemption held, released and recovered to date, by district and
//! industry; in the JSON, the CSV and the workbook. Every figure is as of
//! the day's end and never changes afterwards (a rebuilt report matches).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use quan_domain::MerchantId;
use quan_store::{Campaign, StoreError};
use rust_xlsxwriter::{Format, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use crate::Engine;

/// One district and industry's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRow {
    pub district: String,
    /// The industry's code (empty for cases about residents).
    pub industry: String,
    pub cases_opened: u32,
    pub held_fen: i64,
    pub released_fen: i64,
    pub recovered_fen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFigures {
    /// Cases opened during the day (findings of the night before it ended).
    pub cases_opened_today: u32,
    pub cases_open: u32,
    pub fraud_confirmed: u32,
    pub false_alarms: u32,
    /// Subsidy held by the rules at redemption to date, and of it released and recovered.
    pub held_fen: i64,
    pub released_fen: i64,
    pub recovered_fen: i64,
    pub rows: Vec<RiskRow>,
}

/// The merchant a case is about, from its subject (fixed when opened).
fn subject_merchant(subject: &str) -> Option<MerchantId> {
    let mut parts = subject.split(':');
    match parts.next()? {
        "ring" | "merchant" | "product" => parts.next()?.parse().ok(),
        _ => None,
    }
}

impl Engine {
    /// Campaign `c`'s risk figures for the day `[from, to)`.
    pub(crate) async fn risk_figures(
        &self,
        c: &Campaign,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<RiskFigures, StoreError> {
        let mut f = RiskFigures::default();
        let mut rows: BTreeMap<(String, String), RiskRow> = BTreeMap::new();
        let mut merchants: HashMap<MerchantId, (String, String)> = HashMap::new();
        for case in self.store().risk_cases(false, u32::MAX).await? {
            if case.campaign != Some(c.id) || case.opened_at >= to {
                continue;
            }
            f.cases_opened_today += u32::from(case.opened_at >= from);
            match (case.closed_at.filter(|t| *t < to), case.outcome.as_deref()) {
                (None, _) => f.cases_open += 1,
                (Some(_), Some("fraud_confirmed")) => f.fraud_confirmed += 1,
                (Some(_), _) => f.false_alarms += 1,
            }
            let key = match subject_merchant(&case.subject) {
                Some(m) => self.district_industry(m, &mut merchants).await?,
                None => (case.district.clone(), String::new()),
            };
            rows.entry(key).or_default().cases_opened += 1;
        }
        for h in self.store().hold_facts(c.id, to).await? {
            let key = self.district_industry(h.merchant, &mut merchants).await?;
            let row = rows.entry(key).or_default();
            row.held_fen += h.held.as_i64();
            f.held_fen += h.held.as_i64();
            match h.decided.filter(|(_, at)| *at < to) {
                Some((o, _)) if o == "released" => {
                    row.released_fen += h.amount.as_i64();
                    f.released_fen += h.amount.as_i64();
                }
                Some(_) => {
                    row.recovered_fen += h.amount.as_i64();
                    f.recovered_fen += h.amount.as_i64();
                }
                None => {}
            }
        }
        f.rows = rows.into_iter().map(|((district, industry), r)| RiskRow { district, industry, ..r }).collect();
        Ok(f)
    }

    async fn district_industry(
        &self,
        m: MerchantId,
        cache: &mut HashMap<MerchantId, (String, String)>,
    ) -> Result<(String, String), StoreError> {
        if let Some(k) = cache.get(&m) {
            return Ok(k.clone());
        }
        let x = self.store().merchant_by_id(m).await?;
        let k = (x.app.district.as_str().to_owned(), x.app.industry.as_str().to_owned());
        cache.insert(m, k.clone());
        Ok(k)
    }
}

const HEAD: [&str; 6] = ["区县", "行业", "立案数", "规则暂扣补贴（元）", "已放行（元）", "已追回（元）"];

fn yuan(f: i64) -> String {
    quan_domain::Fen::new(f).to_string()
}

fn cells(r: &RiskRow) -> [String; 6] {
    [
        crate::reports::labels::district_name(&r.district),
        if r.industry.is_empty() { "—".to_owned() } else { crate::reports::labels::industry_name(&r.industry) },
        r.cases_opened.to_string(),
        yuan(r.held_fen),
        yuan(r.released_fen),
        yuan(r.recovered_fen),
    ]
}

fn totals(f: &RiskFigures) -> String {
    format!(
        "当日立案 {}，日终处理中 {}，已结案：确认违规 {}、误报 {}；规则暂扣补贴累计 {} 元，已放行 {} 元，已追回 {} 元",
        f.cases_opened_today,
        f.cases_open,
        f.fraud_confirmed,
        f.false_alarms,
        yuan(f.held_fen),
        yuan(f.released_fen),
        yuan(f.recovered_fen)
    )
}

/// Rows of the `风控` view: its totals, its header, then one row a district and industry.
pub fn csv_rows(f: &RiskFigures, out: &mut String, quote: fn(&str) -> String) {
    let _ = writeln!(out, "风控,{}", quote(&totals(f)));
    let _ = writeln!(out, "风控,{}", HEAD.join(","));
    for r in &f.rows {
        let row: Vec<String> = cells(r).iter().map(|c| quote(&crate::csv_cell::cell(c))).collect();
        let _ = writeln!(out, "风控,{}", row.join(","));
    }
}

/// The `风控` sheet.
pub fn sheet(ws: &mut Worksheet, title: &str, f: &RiskFigures, head: &Format, bold: &Format) -> Result<(), XlsxError> {
    ws.set_name("风控")?;
    ws.write_string_with_format(0, 0, title, bold)?;
    ws.write_string(1, 0, totals(f))?;
    for (c, h) in HEAD.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(0);
        ws.write_string_with_format(3, col, *h, head)?;
        ws.set_column_width(col, 16)?;
    }
    for (y, r) in f.rows.iter().enumerate() {
        let row = 4 + u32::try_from(y).unwrap_or(0);
        let c = cells(r);
        ws.write_string(row, 0, &c[0])?;
        ws.write_string(row, 1, &c[1])?;
        ws.write_number(row, 2, f64::from(r.cases_opened))?;
        for (k, v) in [r.held_fen, r.released_fen, r.recovered_fen].iter().enumerate() {
            ws.write_string(row, 3 + u16::try_from(k).unwrap_or(0), yuan(*v))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_counted_under_the_merchant_its_subject_names() {
        let m = "01a2445b-0e80-7009-b85c-d75ad1414097";
        assert_eq!(subject_merchant(&format!("ring:{m}")).map(|x| x.to_string()), Some(m.to_owned()));
        assert_eq!(subject_merchant(&format!("merchant:{m}:hugging")).map(|x| x.to_string()), Some(m.to_owned()));
        assert_eq!(subject_merchant("cohort:x:1"), None);
    }
}
