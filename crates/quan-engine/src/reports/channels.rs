//! The T+1 report by claim channel: quan's own H5 and each partner's app —
//! claims made through it (the day's and as of the day's end), the face
//! value it issued, the day's redemptions of its vouchers, and the
//! checkouts (支付立减) a partner confirmed that day; in the JSON, the CSV
//! and the workbook.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use quan_domain::CampaignId;
use quan_store::StoreError;
use rust_xlsxwriter::{Format, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use crate::Engine;

/// One channel's line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelLine {
    /// `h5` (quan's own) or a partner's id.
    pub channel: String,
    /// quan H5, or the partner's name.
    pub channel_name: String,
    pub claims_day: i64,
    pub claims: i64,
    pub issued_face_fen: i64,
    pub redemptions_day: i64,
    pub subsidy_day_fen: i64,
    pub checkouts_day: i64,
    pub checkout_discount_day_fen: i64,
}

impl Engine {
    /// The campaign's figures by channel over `[from, to)`, quan's own first.
    pub(crate) async fn channels_for_report(
        &self,
        id: CampaignId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ChannelLine>, StoreError> {
        let figures = self.store().channel_figures(id, from.timestamp_millis(), to.timestamp_millis()).await?;
        let names = self.channel_names().await?;
        let mut out: Vec<ChannelLine> = figures
            .into_iter()
            .map(|f| {
                let (channel, channel_name) = names.label(f.channel);
                ChannelLine {
                    channel,
                    channel_name,
                    claims_day: f.claims_day,
                    claims: f.claims,
                    issued_face_fen: f.face_fen,
                    redemptions_day: f.redemptions_day,
                    subsidy_day_fen: f.subsidy_day_fen,
                    checkouts_day: f.checkouts_day,
                    checkout_discount_day_fen: f.checkout_discount_day_fen,
                }
            })
            .collect();
        out.sort_by_key(|l| (l.channel != crate::claims::OWN_CHANNEL, l.channel_name.clone()));
        Ok(out)
    }
}

const HEAD: [&str; 9] = [
    "渠道",
    "渠道编号",
    "当日领券",
    "累计领券",
    "累计发放面额（元）",
    "当日核销（该渠道所发券）",
    "当日核销优惠（元，按核销时）",
    "当日支付立减笔数",
    "当日支付立减金额（元）",
];

fn yuan(f: i64) -> String {
    quan_domain::Fen::new(f).to_string()
}

fn cells(l: &ChannelLine) -> [String; 9] {
    [
        l.channel_name.clone(),
        l.channel.clone(),
        l.claims_day.to_string(),
        l.claims.to_string(),
        yuan(l.issued_face_fen),
        l.redemptions_day.to_string(),
        yuan(l.subsidy_day_fen),
        l.checkouts_day.to_string(),
        yuan(l.checkout_discount_day_fen),
    ]
}

/// Rows of the `渠道` view: its header, then one row a channel.
pub fn csv_rows(lines: &[ChannelLine], out: &mut String, quote: fn(&str) -> String) {
    let _ = writeln!(out, "渠道,{}", HEAD.join(","));
    for l in lines {
        let row: Vec<String> = cells(l).iter().map(|c| quote(&crate::csv_cell::cell(c))).collect();
        let _ = writeln!(out, "渠道,{}", row.join(","));
    }
}

/// The `渠道` sheet: counts as numbers, money as yuan text (exact to the fen).
pub fn sheet(
    ws: &mut Worksheet,
    title: &str,
    lines: &[ChannelLine],
    head: &Format,
    bold: &Format,
) -> Result<(), XlsxError> {
    ws.set_name("渠道")?;
    ws.write_string_with_format(0, 0, title, bold)?;
    for (c, h) in HEAD.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(0);
        ws.write_string_with_format(2, col, *h, head)?;
        ws.set_column_width(col, if c == 1 { 38 } else { 16 })?;
    }
    for (y, l) in lines.iter().enumerate() {
        let row = 3 + u32::try_from(y).unwrap_or(0);
        for (c, v) in cells(l).iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(0);
            match c {
                2 | 3 | 5 | 7 => ws.write_number(row, col, v.parse::<f64>().unwrap_or(0.0))?,
                _ => ws.write_string(row, col, v)?,
            };
        }
    }
    Ok(())
}
