//! A business day at the tills: redemptions in both directions, refunds,
//! and the day's close (T+1 report, settlement).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::bail;
use chrono::NaiveDate;
use quan_engine::{Random, SeededRandom};
use quan_http::client::Conn;
use serde_json::{Value, json};

use super::client::{call, call_json, futures_join};
use super::phases::Demo;
use super::world::Shop;
use super::{bar, t};
use crate::commands::prose::yuan;

/// One redemption the demo made: (redemption id, shop, order).
pub(super) type Made = (String, usize, i64);

/// The voucher's kind → the industry of the shops that take it.
pub(super) fn industry_of(kind: &str) -> &'static str {
    match kind {
        "c100-20" => "catering",
        "r200-50" => "retail",
        _ => "home_appliances",
    }
}

/// An order amount in fen a voucher of this kind applies to.
pub(super) fn order_for(kind: &str, rng: &SeededRandom) -> i64 {
    let (min, spread) = match kind {
        "c100-20" => (10_000, 20_000),
        "r200-50" => (20_000, 40_000),
        "h2000-300" => (200_000, 600_000),
        _ => (300_000, 900_000),
    };
    min + i64::try_from(rng.below(spread)).unwrap_or(0)
}

/// One redemption to make: the resident (index of their token), the
/// voucher, the shop, the order, its matching discounts, and whether the
/// resident scans the till's code (else the cashier scans the resident's).
struct Planned {
    resident: usize,
    voucher: String,
    shop: usize,
    order: i64,
    platform_match: i64,
    merchant_match: i64,
    till_shows: bool,
}

impl Demo<'_> {
    /// Redeems `vouchers` at shops of their industry (not at shop `avoid`
    /// while another of the industry takes them): 85 % the cashier scans
    /// the resident's code, 15 % the resident scans the till's code. The
    /// clock moves through `hours` from `from`. Returns what was made and
    /// how many were refused, by reason.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn redeem(
        &self,
        from: &str,
        hours: i64,
        conns: &mut [Conn],
        tokens: &[String],
        shops: &[Shop],
        avoid: Option<usize>,
        vouchers: &[(usize, String, String)],
    ) -> anyhow::Result<(Vec<Made>, BTreeMap<String, usize>)> {
        let start = t(from);
        let b = bar(self.o.progress, vouchers.len() as u64, "redemptions at the tills");
        let plan = self.redemption_plan(shops, avoid, vouchers);
        let per_chunk = 1_000usize;
        // The shops' hours: chunks spread over `hours` from `from`.
        let chunks = plan.len().div_ceil(per_chunk).max(1);
        let step_min = (hours * 60 / i64::try_from(chunks).unwrap_or(1)).max(1);
        let mut made = Vec::new();
        let mut refused: BTreeMap<String, usize> = BTreeMap::new();
        for (n, chunk) in plan.chunks(per_chunk).enumerate() {
            self.clock.set(start + chrono::Duration::minutes(step_min * i64::try_from(n).unwrap_or(0)));
            let next = AtomicUsize::new(0);
            let results = std::sync::Mutex::new(Vec::new());
            futures_join(conns.iter_mut().map(|conn| {
                let (next, results, b) = (&next, &results, &b);
                async move {
                    while let Some(p) = chunk.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let answer = redeem_one(conn, &tokens[p.resident], &shops[p.shop], p).await;
                        if let Ok(mut x) = results.lock() {
                            x.push(match answer {
                                Ok((201, v)) => Ok((v["id"].as_str().unwrap_or_default().to_owned(), p.shop, p.order)),
                                Ok((status, v)) => {
                                    Err(format!("{status} {}", v["error"]["code"].as_str().unwrap_or("?")))
                                }
                                Err(e) => Err(e.to_string()),
                            });
                        }
                        b.inc(1);
                    }
                }
            }))
            .await;
            for x in results.into_inner().unwrap_or_default() {
                match x {
                    Ok(m) => made.push(m),
                    Err(why) => *refused.entry(why).or_insert(0) += 1,
                }
            }
        }
        b.finish_and_clear();
        Ok((made, refused))
    }

    /// Where and how each voucher is used, drawn from the demo's seed.
    fn redemption_plan(
        &self,
        shops: &[Shop],
        avoid: Option<usize>,
        vouchers: &[(usize, String, String)],
    ) -> Vec<Planned> {
        let rng = &self.rng;
        vouchers
            .iter()
            .filter_map(|(r, v, kind)| {
                let ind = industry_of(kind);
                let of_industry = |s: &usize| shops[*s].industry == ind;
                let mut candidates: Vec<usize> =
                    (0..shops.len()).filter(|s| of_industry(s) && Some(*s) != avoid).collect();
                if candidates.is_empty() {
                    candidates = (0..shops.len()).filter(of_industry).collect();
                }
                let s = *candidates.get(usize::try_from(rng.below(candidates.len().max(1) as u64)).unwrap_or(0))?;
                let order = order_for(kind, rng);
                let pm = if rng.below(10) == 0 { order / 50 } else { 0 };
                let mm = if rng.below(5) == 0 { order / 20 } else { 0 };
                Some(Planned {
                    resident: *r,
                    voucher: v.clone(),
                    shop: s,
                    order,
                    platform_match: pm,
                    merchant_match: mm,
                    till_shows: rng.below(100) < 15,
                })
            })
            .collect()
    }
}

/// One redemption over HTTP, in the direction planned: the answer.
async fn redeem_one(conn: &mut Conn, token: &str, shop: &Shop, p: &Planned) -> anyhow::Result<(u16, Value)> {
    let (order, pm, mm) = (p.order, p.platform_match, p.merchant_match);
    if p.till_shows {
        let path = format!("/api/v1/tills/{}/code", shop.till);
        match call_json(conn, "GET", &path, Some(&shop.cashier), None).await {
            Ok((200, code)) => {
                let body = json!({"code": code["code"], "voucher_id": p.voucher, "order_amount_fen": order,
                    "platform_match_fen": pm, "merchant_match_fen": mm});
                call_json(conn, "POST", "/api/v1/me/redemptions", Some(token), Some(&body)).await
            }
            other => other,
        }
    } else {
        let path = format!("/api/v1/me/vouchers/{}/code", p.voucher);
        match call_json(conn, "GET", &path, Some(token), None).await {
            Ok((200, code)) => {
                let body = json!({"code": code["code"], "order_amount_fen": order,
                    "platform_match_fen": pm, "merchant_match_fen": mm});
                call_json(conn, "POST", "/api/v1/redemptions", Some(&shop.cashier), Some(&body)).await
            }
            other => other,
        }
    }
}

impl Demo<'_> {
    /// Refunds one in `every` redemptions: all in full with `full`, else
    /// every third in full (the voucher comes back while still valid) and
    /// the others in part. How many were refunded.
    pub(super) async fn refund(
        &mut self,
        shops: &[Shop],
        made: &[Made],
        every: usize,
        full: bool,
    ) -> anyhow::Result<usize> {
        let mut n = 0;
        for (k, (_, (id, s, order))) in made.iter().enumerate().filter(|(i, _)| i % every == 1).enumerate() {
            let amount = if full || k % 3 == 0 { *order } else { order / 4 };
            let path = format!("/api/v1/redemptions/{id}/refunds");
            let body = json!({"amount_fen": amount});
            let (status, _) = call_json(&mut self.c, "POST", &path, Some(&shops[*s].cashier), Some(&body)).await?;
            n += usize::from(status == 201);
        }
        Ok(n)
    }

    /// The morning after `day`, at `at`: its T+1 report over HTTP (as an
    /// official downloads it), its files, and its settlement.
    pub(super) async fn close_day(&mut self, cid: &str, day: &str, at: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.reports)?;
        self.clock.set(t(at));
        let official = self.token("demo.official").await?;
        let d = NaiveDate::parse_from_str(day, "%Y-%m-%d")?;
        let id: quan_domain::CampaignId = cid.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let path = format!("/api/v1/campaigns/{cid}/reports/daily/{day}.xlsx");
        let (status, xlsx) = call(&mut self.c, "GET", &path, Some(&official), None, &[]).await?;
        if status != 200 {
            bail!("the report of {day}: {status} {}", String::from_utf8_lossy(&xlsx));
        }
        let (report, snapshot) = self.engine.daily_report_unchecked(id, d).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::commands::report::write_files(&report, &snapshot.content, &self.reports)?;
        let (run, _) = crate::commands::settle::settle_day(&self.engine, d, &self.payouts).await?;
        let held = run.all.iter().filter(|(s, _)| s.status == "held").count();
        let paid: i64 = run.all.iter().filter(|(s, _)| s.status == "paid").map(|(s, _)| s.amount.as_i64()).sum();
        let recovered: i64 = run.all.iter().map(|(s, _)| s.recovered.as_i64()).sum();
        self.say(&format!(
            "{day} closed: T+1 report ({} bytes XLSX, sha256 {}…); settlement paid {} 元 to {} merchants, {held} held, {} 元 netted against refunds after payment",
            xlsx.len(),
            &snapshot.sha256[..12],
            yuan(paid),
            run.all.len() - held,
            yuan(recovered)
        ));
        Ok(())
    }
}
