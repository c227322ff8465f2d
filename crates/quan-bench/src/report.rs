//! `quan bench report`: the T+1 report at city scale. Generates a campaign
//! with millions of vouchers and redemptions (spread over 30 business days,
//! 2 000 merchants in 13 districts and 5 industries, 4 batches, refunds) on
//! SQLite and on PostgreSQL, then times building the report of the last day
//! (cumulative over everything) through the same code `serve` uses.
//! The data is generated with set-based SQL (it is not the path being
//! measured); the report is.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use quan_domain::{CampaignId, FixedClock, Role};
use quan_store::Store;
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};

#[derive(Debug, Clone)]
pub struct ReportBench {
    pub vouchers: u64,
    pub redemptions: u64,
    pub merchants: u64,
    pub sqlite: bool,
    pub postgres: bool,
    pub pg_admin_url: String,
}

/// One backend's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportRun {
    pub backend: &'static str,
    pub vouchers: u64,
    pub redemptions: u64,
    pub refunds: u64,
    pub generate_s: f64,
    /// Building and storing the last day's report from the day before's
    /// snapshot, as `serve` does each night (the measured path).
    pub build_s: f64,
    /// The slowest day, and all 31 days one after the other.
    pub slowest_day_s: f64,
    pub all_days_s: f64,
    /// Rebuilding the last day from the first, without snapshots (`--verify`).
    pub rebuild_s: f64,
    pub report_bytes: usize,
    pub cells: usize,
}

const DAYS: u64 = 30;
/// 2026-12-01 00:00 UTC+8 in milliseconds.
const START_MS: i64 = 1_796_054_400_000;
const DISTRICTS: [&str; 13] = [
    "420502", "420503", "420504", "420505", "420506", "420525", "420526", "420527", "420528", "420529", "420581",
    "420582", "420583",
];
const INDUSTRIES: [&str; 5] = ["catering", "retail", "home_appliances", "department_stores", "lodging"];
const SCALES: [&str; 4] = ["large", "medium", "small", "micro"];

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).unwrap_or_default()
}

/// The campaign, its four batches and the merchants, through the engine.
async fn setup(store: Arc<dyn Store>, merchants: u64) -> anyhow::Result<(CampaignId, Vec<quan_domain::BatchId>)> {
    let engine = crate::setup::engine(store.clone(), Arc::new(FixedClock::new(at("2026-11-30T09:00:00+08:00"))));
    let official = crate::setup::staff(&engine, "bench.official", Role::Official).await?;
    let kinds = |stock: u64| {
        serde_json::json!([{"stock": stock, "kind": {"code": "k", "name": "满100减20",
            "discount": {"type": "threshold", "min_order_fen": 10_000, "off_fen": 2_000}, "validity": {"type": "days_after_claim", "days": 30}}}])
    };
    let per_batch = 10_000_000u64;
    let batches: Vec<serde_json::Value> = (0..4)
        .map(|i| {
            serde_json::json!({"name": format!("第{}批", i + 1), "opening_at": format!("2026-12-0{}T10:00:00+08:00", i + 1),
                "closing_at": "2026-12-30T22:00:00+08:00", "limits": {"per_batch": 100}, "kinds": kinds(per_batch)})
        })
        .collect();
    let budget = 4 * per_batch * 2_000;
    let file: quan_engine::campaigns::CampaignFile = serde_json::from_value(serde_json::json!({
        "campaign": {"name": "报表压测", "region": "4205", "budget_fen": budget, "funding_source": "bench", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": batches
    }))?;
    let e = |x: &dyn std::fmt::Display| anyhow::anyhow!("{x}");
    let (c, batches) = engine.create_campaign(&official, file).await.map_err(|x| e(&x))?;
    let mut import = engine.start_import(&official, true).map_err(|x| e(&x))?;
    let mut rows = Vec::new();
    for i in 0..merchants {
        let n = u32::try_from(i + 1).unwrap_or(0);
        rows.push((
            usize::try_from(i + 2).unwrap_or(0),
            Ok(serde_json::from_value(serde_json::json!({
                "legal_name": format!("压测商户{n}"), "credit_code": quan_domain::merchant::CreditCode::sample(n).to_string(),
                "industry": INDUSTRIES[(i % 5) as usize], "scale": SCALES[(i / 5 % 4) as usize], "address": "宜昌",
                "address_district": DISTRICTS[(i % 13) as usize], "contact_name": "王", "contact_phone": "13800000000",
                "settlement_account": {"bank_name": "银行", "account_name": "商户", "account_number": "6222000000000000"}
            }))?),
        ));
        if rows.len() == 1_000 || i + 1 == merchants {
            engine.import_chunk(&mut import, std::mem::take(&mut rows)).await.map_err(|x| e(&x))?;
        }
    }
    Ok((c.id, batches.iter().map(|b| b.id).collect()))
}

/// Set-based inserts of residents, vouchers (a claim's only row), redemptions and refunds.
fn generation_sql(postgres: bool, o: &ReportBench, campaign: &str, batches: &[String], merchants: u64) -> Vec<String> {
    let id = |tag: &str, n: &str| {
        if postgres {
            format!("(lpad(to_hex({tag}), 4, '0') || lpad(to_hex({n}), 28, '0'))::uuid")
        } else {
            format!("unhex(printf('%04x%028x', {tag}, {n}))")
        }
    };
    let blob = |hex: &str| if postgres { format!("'{hex}'::uuid") } else { format!("unhex('{hex}')") };
    let series = |n: u64| {
        if postgres {
            format!("generate_series(0::bigint, {}) AS s(n)", n - 1)
        } else {
            format!(
                "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) AS s",
                n - 1
            )
        }
    };
    let day = |ms: &str| {
        if postgres {
            format!("to_char(to_timestamp(({ms}) / 1000.0) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")
        } else {
            format!("strftime('%Y-%m-%d', ({ms}) / 1000, 'unixepoch', '+8 hours')")
        }
    };
    let pick = |list: &[String], n: &str| {
        let arms: String = list.iter().enumerate().map(|(i, v)| format!(" WHEN {i} THEN {}", blob(v))).collect();
        format!("CASE ({n}) % {}{arms} END", list.len())
    };
    let residents = o.vouchers / 2;
    let hash = if postgres { "decode(lpad(to_hex(n), 64, '0'), 'hex')" } else { "unhex(printf('%064x', n))" };
    let claimed_ms = format!("{START_MS} + (n % {DAYS}) * 86400000 + 36000000 + (n % 3600000)");
    let redeemed_ms =
        format!("{START_MS} + ((n % {DAYS}) + (n / 7 % 2)) % {DAYS} * 86400000 + 43200000 + (n % 3600000)");
    let c = blob(campaign);
    vec![
        format!(
            "INSERT INTO residents (id, phone_hash, phone_masked, created_at_ms) SELECT {}, {hash}, '139****0000', {START_MS} FROM {}",
            id("1", "n"),
            series(residents)
        ),
        format!(
            "INSERT INTO vouchers (id, claim_id, campaign_id, batch_id, kind_code, tier, resident_id, face_fen, state, created_at_ms)
             SELECT {}, {}, {c}, {}, 'k', 0, {}, 2000, CASE WHEN n < {} THEN 'redeemed' ELSE 'claimed' END, {claimed_ms} FROM {}",
            id("3", "n"),
            id("2", "n"),
            pick(batches, "n / 3"),
            id("1", &format!("n % {residents}")),
            o.redemptions,
            series(o.vouchers)
        ),
        "CREATE TABLE bench_merchant_index AS SELECT id, CAST(ROW_NUMBER() OVER (ORDER BY id) - 1 AS BIGINT) AS idx FROM merchants"
            .to_owned(),
        "CREATE UNIQUE INDEX bench_merchant_index_idx ON bench_merchant_index (idx)".to_owned(),
        format!(
            "INSERT INTO redemptions (id, voucher_id, campaign_id, batch_id, kind_code, resident_id, merchant_id, till_id, cashier_id, direction,
                order_ref, order_fen, basis_fen, discount_fen, face_fen, subsidy_fen, refunded_fen, state, business_day, redeemed_at_ms,
                platform_match_fen, merchant_match_fen)
             SELECT {}, {}, {c}, {}, 'k', {}, {}, NULL, NULL, 'resident_shows', '', 10000 + n % 20000, 10000 + n % 20000, 2000, 2000, 2000, 0,
                'standing', {}, {redeemed_ms}, CASE WHEN n % 10 = 0 THEN 300 ELSE 0 END, CASE WHEN n % 5 = 0 THEN 500 ELSE 0 END
             FROM {} JOIN bench_merchant_index m ON m.idx = (n / 11) % {merchants}",
            id("4", "n"),
            id("3", "n"),
            pick(batches, "n / 3"),
            id("1", &format!("n % {residents}")),
            "m.id",
            day(&redeemed_ms),
            series(o.redemptions)
        ),
        format!(
            "INSERT INTO refunds (id, redemption_id, amount_fen, subsidy_returned_fen, voucher_back, actor_id, business_day, refunded_at_ms)
             SELECT {}, {}, 5000, 0, 0, (SELECT id FROM users LIMIT 1), {}, {redeemed_ms} + 3600000 FROM {} WHERE n % 100 = 0",
            id("5", "n"),
            id("4", "n"),
            day(&format!("{redeemed_ms} + 3600000")),
            series(o.redemptions)
        ),
    ]
}

async fn run_one(o: &ReportBench, postgres: bool) -> anyhow::Result<ReportRun> {
    let dir = tempfile::tempdir()?;
    let name = format!("quan_report_bench_{}", std::process::id());
    let (store, pg, lite): (Arc<dyn Store>, Option<sqlx::PgPool>, Option<sqlx::SqlitePool>) = if postgres {
        let url = crate::setup::create_database(&o.pg_admin_url, &name).await?;
        let s = PgStore::open(&url, PgOptions::default()).await?;
        let pool = s.pool().clone();
        (Arc::new(s), Some(pool), None)
    } else {
        let s = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default()).await?;
        let pool = s.pool().clone();
        (Arc::new(s), None, Some(pool))
    };
    let (campaign, batches) = setup(store.clone(), o.merchants).await?;
    let hex = |u: uuid::Uuid| u.simple().to_string();
    let batch_hex: Vec<String> = batches.iter().map(|b| hex(b.as_uuid())).collect();
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(7);
    bar.set_message(format!("{}: generating", if postgres { "PostgreSQL" } else { "SQLite" }));
    for sql in generation_sql(postgres, o, &hex(campaign.as_uuid()), &batch_hex, o.merchants) {
        match (&pg, &lite) {
            (Some(p), _) => {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await?;
            }
            (_, Some(l)) => {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(l).await?;
            }
            _ => {}
        }
        bar.inc(1);
    }
    if let Some(p) = &pg {
        sqlx::query("ANALYZE").execute(p).await?;
    }
    if let Some(l) = &lite {
        sqlx::query("ANALYZE").execute(l).await?;
    }
    bar.finish_and_clear();
    let generate_s = started.elapsed().as_secs_f64();
    let engine = crate::setup::engine(store.clone(), Arc::new(FixedClock::new(at("2027-01-01T09:00:00+08:00"))));
    let last = chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap_or_default();
    let mut d = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
    let mut slowest_day_s = 0f64;
    let all = Instant::now();
    let (build_s, report, snapshot) = loop {
        let t = Instant::now();
        let (r, s) = engine.daily_report_unchecked(campaign, d).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let took = t.elapsed().as_secs_f64();
        slowest_day_s = slowest_day_s.max(took);
        if d >= last {
            break (took, r, s);
        }
        d = d.succ_opt().unwrap_or(last);
    };
    let all_days_s = all.elapsed().as_secs_f64();
    let t = Instant::now();
    engine.verify_daily_report(campaign, last).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let rebuild_s = t.elapsed().as_secs_f64();
    let refunds = report.total.cumulative.refunds;
    let run = ReportRun {
        backend: if postgres { "PostgreSQL" } else { "SQLite" },
        vouchers: report.total.cumulative.issued.unwrap_or(0),
        redemptions: report.total.cumulative.redemptions,
        refunds,
        generate_s,
        build_s,
        slowest_day_s,
        all_days_s,
        rebuild_s,
        report_bytes: snapshot.content.len(),
        cells: report.cells.len(),
    };
    drop(engine);
    drop(store);
    if let Some(p) = pg {
        p.close().await;
        crate::setup::drop_database(&o.pg_admin_url, &name).await;
    }
    if run.vouchers != o.vouchers || run.redemptions != o.redemptions {
        anyhow::bail!(
            "the report counts {} vouchers and {} redemptions; {} and {} were generated",
            run.vouchers,
            run.redemptions,
            o.vouchers,
            o.redemptions
        );
    }
    Ok(run)
}

pub async fn run(o: &ReportBench, json: bool) -> anyhow::Result<String> {
    let mut runs = Vec::new();
    if o.sqlite {
        runs.push(run_one(o, false).await?);
    }
    if o.postgres {
        runs.push(run_one(o, true).await?);
    }
    if json {
        return Ok(format!("{}\n", serde_json::to_string(&runs)?));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "T+1 report of the last of 31 business days, {} vouchers, {} redemptions, {} merchants (13 districts, 5 industries, 4 batches):",
        o.vouchers, o.redemptions, o.merchants
    );
    for r in &runs {
        let _ = writeln!(
            out,
            "  {:<10} last day built and stored in {:.2} s (slowest day {:.2} s, all 31 days {:.1} s); rebuilt from the first day and verified in {:.1} s; {} refunds, {} cells, {} KiB JSON; data generated in {:.0} s",
            r.backend,
            r.build_s,
            r.slowest_day_s,
            r.all_days_s,
            r.rebuild_s,
            r.refunds,
            r.cells,
            r.report_bytes / 1024,
            r.generate_s
        );
    }
    Ok(out)
}
