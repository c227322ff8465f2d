//! `quan campaign report ID`: the close-out report as XLSX (one sheet of
//! totals, one per merchant paid) and as PDF-ready HTML (print it to PDF).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use quan_domain::{CampaignId, Fen};
use quan_engine::close_out::CloseOutReport;
use rust_xlsxwriter::{Format, Workbook};

use crate::config::Config;
use crate::setup;

fn yuan(fen: i64) -> String {
    Fen::new(fen).to_string()
}

/// The report's rows: (label with unit, value in fen or a count, is money).
fn rows(r: &CloseOutReport) -> Vec<(String, i64, bool)> {
    let mut v = vec![
        ("预算 budget（元）".to_owned(), r.budget_fen, true),
        ("到位资金 funded（元）".to_owned(), r.funded_fen, true),
    ];
    for (state, n, face) in &r.vouchers {
        let zh = match state.as_str() {
            "claimed" => "未使用 claimed",
            "redeemed" => "已核销 redeemed",
            "expired" => "已过期 expired",
            other => other,
        };
        v.push((format!("券 {zh}（张）"), i64::try_from(*n).unwrap_or(i64::MAX), false));
        v.push((format!("券 {zh} 面值（元）"), *face, true));
    }
    v.extend([
        ("核销笔数 redemptions（笔）".to_owned(), i64::try_from(r.redemptions).unwrap_or(i64::MAX), false),
        ("核销订单金额 order amount（元）".to_owned(), r.order_fen, true),
        ("核销补贴 subsidy（元）".to_owned(), r.subsidy_fen, true),
        ("退款笔数 refunds（笔）".to_owned(), i64::try_from(r.refunds).unwrap_or(i64::MAX), false),
        ("退款金额 refunded（元）".to_owned(), r.refunded_fen, true),
        ("退回补贴 subsidy returned（元）".to_owned(), r.subsidy_returned_fen, true),
        ("已支付商户 paid to merchants（元）".to_owned(), r.paid_fen, true),
        ("暂缓支付 held（元）".to_owned(), r.held_fen, true),
        ("商户应退 owed back by merchants（元）".to_owned(), r.owed_back_fen, true),
        ("平台配套优惠 platform matching（元）".to_owned(), r.platform_matching_fen, true),
        ("商户让利 merchant matching（元）".to_owned(), r.merchant_matching_fen, true),
        ("应付未付 payable（元）".to_owned(), r.payable_fen, true),
        ("冻结 reserved（元）".to_owned(), r.reserved_fen, true),
        ("可用 available（元）".to_owned(), r.available_fen, true),
        ("退回国库 returned to the treasury（元）".to_owned(), r.returned_fen, true),
    ]);
    v
}

pub fn write_xlsx(r: &CloseOutReport, path: &Path) -> anyhow::Result<()> {
    let mut wb = Workbook::new();
    let head = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let ws = wb.add_worksheet();
    ws.set_name("汇总")?;
    ws.write_string_with_format(0, 0, "项目", &head)?;
    ws.write_string_with_format(0, 1, "数值", &head)?;
    ws.set_freeze_panes(1, 0)?;
    ws.set_column_width(0, 44)?;
    ws.set_column_width(1, 18)?;
    for (i, (label, value, is_money)) in rows(r).iter().enumerate() {
        let row = u32::try_from(i + 1)?;
        ws.write_string(row, 0, label)?;
        if *is_money {
            // Fen to yuan for display only; the exact fen are in the ledger.
            #[allow(clippy::float_arithmetic, clippy::cast_precision_loss)]
            let y = *value as f64 / 100.0;
            ws.write_number_with_format(row, 1, y, &money)?;
        } else {
            #[allow(clippy::cast_precision_loss)]
            ws.write_number(row, 1, *value as f64)?;
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("商户支付")?;
    for (c, h) in ["商户 merchant", "名称 name", "已支付 paid（元）"].iter().enumerate() {
        ws.write_string_with_format(0, u16::try_from(c)?, *h, &head)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.set_column_width(0, 38)?;
    ws.set_column_width(1, 30)?;
    ws.set_column_width(2, 18)?;
    for (i, (m, name, paid)) in r.paid_by_merchant.iter().enumerate() {
        let row = u32::try_from(i + 1)?;
        ws.write_string(row, 0, m.to_string())?;
        ws.write_string(row, 1, name)?;
        #[allow(clippy::float_arithmetic, clippy::cast_precision_loss)]
        let y = *paid as f64 / 100.0;
        ws.write_number_with_format(row, 2, y, &money)?;
    }
    if !r.owed_back_by_merchant.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("商户应退")?;
        for (c, h) in ["商户 merchant", "名称 name", "应退 owed back（元）"].iter().enumerate() {
            ws.write_string_with_format(0, u16::try_from(c)?, *h, &head)?;
        }
        ws.set_freeze_panes(1, 0)?;
        ws.set_column_width(0, 38)?;
        ws.set_column_width(1, 30)?;
        ws.set_column_width(2, 18)?;
        for (i, (m, name, owed)) in r.owed_back_by_merchant.iter().enumerate() {
            let row = u32::try_from(i + 1)?;
            ws.write_string(row, 0, m.to_string())?;
            ws.write_string(row, 1, name)?;
            #[allow(clippy::float_arithmetic, clippy::cast_precision_loss)]
            let y = *owed as f64 / 100.0;
            ws.write_number_with_format(row, 2, y, &money)?;
        }
    }
    wb.save(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn html(r: &CloseOutReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>结项报告 {name}</title>\
         <style>body{{font-family:sans-serif;margin:2cm}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border:1px solid #999;padding:4px 8px}}td.n{{text-align:right}}@page{{size:A4;margin:2cm}}</style></head><body>\
         <h1>消费券活动结项报告</h1><p>{name}（{region}），活动编号 {id}，状态 {status}</p><table><tr><th>项目</th><th>数值</th></tr>",
        name = esc(&r.name),
        region = esc(&r.region),
        id = r.campaign_id,
        status = r.status
    );
    for (label, value, is_money) in rows(r) {
        let v = if is_money { yuan(value) } else { value.to_string() };
        let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{v}</td></tr>", esc(&label));
    }
    h.push_str("</table><h2>商户支付</h2><table><tr><th>商户</th><th>名称</th><th>已支付（元）</th></tr>");
    for (m, name, paid) in &r.paid_by_merchant {
        let _ = write!(h, "<tr><td>{m}</td><td>{}</td><td class=\"n\">{}</td></tr>", esc(name), yuan(*paid));
    }
    if !r.owed_back_by_merchant.is_empty() {
        h.push_str("</table><h2>商户应退（支付后退款，待追回）</h2><table><tr><th>商户</th><th>名称</th><th>应退（元）</th></tr>");
        for (m, name, owed) in &r.owed_back_by_merchant {
            let _ = write!(h, "<tr><td>{m}</td><td>{}</td><td class=\"n\">{}</td></tr>", esc(name), yuan(*owed));
        }
    }
    h.push_str("</table></body></html>\n");
    h
}

/// Writes `close-out-<id>.xlsx` and `.html` into `out` and returns what it did.
pub async fn report(config: &Config, id: &str, as_user: &str, out: &Path) -> anyhow::Result<String> {
    let id: CampaignId = id.parse()?;
    let engine = setup::engine(config).await?;
    let who = crate::setup::actor(&engine, as_user).await?;
    let r = engine.close_out_report(&who, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let xlsx: PathBuf = out.join(format!("close-out-{id}.xlsx"));
    let page: PathBuf = out.join(format!("close-out-{id}.html"));
    write_xlsx(&r, &xlsx)?;
    std::fs::write(&page, html(&r)).with_context(|| format!("cannot write {}", page.display()))?;
    Ok(format!(
        "campaign {id} ({}): paid {} yuan, returned {} yuan\n  {}\n  {}\n",
        r.status,
        yuan(r.paid_fen),
        yuan(r.returned_fen),
        xlsx.display(),
        page.display()
    ))
}
