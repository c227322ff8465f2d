//! `quan demo`: a whole city campaign for Yichang on this machine, on a
//! fresh SQLite file, through the real engine and the real HTTP API on a
//! local port, in compressed time (the demo moves the server's clock).
//!
//! An official funds a ¥10 000 000 campaign with a first-come grab and a
//! trade-in lottery; merchants are imported from a CSV (bad rows reported)
//! and reviewed; shops open tills and cashiers; residents (inside and
//! outside the city, some with invalid ID numbers, bots, retries) grab at
//! the opening second; vouchers are redeemed with dynamic codes in both
//! directions, some refunded; each day closes with its T+1 report and
//! settlement; at the end the campaign closes and the rest returns to the
//! treasury. Every voucher, redemption and ledger entry goes through the
//! production code; residents are enrolled in bulk (a sample logs in by SMS).
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::prose::{grouped, tally, yuan};
use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::geo::Crs;
use quan_domain::{FixedClock, PhoneNumber, Region, Role, Username};
use quan_engine::districts::{Located, Position};
use quan_engine::{Engine, EngineParts, MemorySmsSender, Random, SeededRandom, SystemRandom};
use serde_json::{Value, json};

use crate::config::Config;
use crate::setup;
use quan_http::client::Conn;

const YICHANG: &str = include_str!("../../../../data/regions/geojson/420500-yichang.geojson");
const MARKER: &str = ".quan-demo";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub residents: usize,
    pub merchants: usize,
    pub shops: usize,
    pub connections: usize,
    pub seed: u64,
    /// Keep serving on this address when done.
    pub serve: Option<String>,
    /// Progress bars (on a terminal).
    pub progress: bool,
    /// One line per step on stderr.
    pub steps: bool,
}

/// The local time (UTC+8) `s` (`2026-12-05T10:00:00`) as an instant.
fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+08:00")).map(|d| d.to_utc()).unwrap_or_default()
}

/// A JSON request over a keep-alive connection: (status, body).
async fn call(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: quan\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        raw.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        let _ = write!(raw, "Authorization: Bearer {t}\r\n");
    }
    for (k, v) in headers {
        let _ = write!(raw, "{k}: {v}\r\n");
    }
    raw.push_str("\r\n");
    raw.push_str(&body);
    conn.request(&raw).await.with_context(|| format!("{method} {path}"))
}

async fn call_json(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let (status, bytes) = call(conn, method, path, token, body, &[]).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Fails with the answer unless the status is `want`.
async fn expect(
    conn: &mut Conn,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    want: u16,
) -> anyhow::Result<Value> {
    let (status, v) = call_json(conn, method, path, token, body).await?;
    if status != want {
        bail!("{method} {path}: expected {want}, got {status}: {v}");
    }
    Ok(v)
}

fn bar(show: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    let b = if show { indicatif::ProgressBar::new(len) } else { indicatif::ProgressBar::hidden() };
    b.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg:<34} [{bar:30}] {pos}/{len} {per_sec} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(what.to_owned());
    b
}

/// A valid GB 11643 ID number for a county code, or one with a wrong check character.
fn id_number(county: &str, n: u64, valid: bool) -> String {
    let year = 1950 + n % 55;
    let month = 1 + (n / 55) % 12;
    let day = 1 + (n / 660) % 28;
    let body = format!("{county}{year:04}{month:02}{day:02}{:03}", n % 1000);
    let check = quan_domain::id_number::check_char(body.as_bytes()).unwrap_or('0');
    let check = if valid {
        check
    } else if check == '0' {
        '1'
    } else {
        '0'
    };
    format!("{body}{check}")
}

/// What the grab's load generator saw.
#[derive(Debug, Default)]
struct GrabSeen {
    statuses: BTreeMap<u16, usize>,
    codes: BTreeMap<String, usize>,
    latencies: Vec<Duration>,
    /// (resident, voucher id, kind code) of each voucher handed out.
    vouchers: Vec<(usize, String, String)>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Shop {
    id: String,
    industry: &'static str,
    till: String,
    cashier: String,
}

/// One redemption the demo made: (redemption id, shop, order).
type Made = (String, usize, i64);

/// Runs the demo; returns the summary to print.
#[allow(clippy::too_many_lines)]
pub async fn run(base: &Config, o: &DemoOptions) -> anyhow::Result<String> {
    let started = Instant::now();
    let show = o.progress;
    let say = |what: &str| {
        if o.steps {
            eprintln!("▸ {:>5.1} s  {what}", started.elapsed().as_secs_f64());
        }
    };
    let rng = SeededRandom::new(o.seed);
    prepare_dir(&o.data_dir)?;
    let mut config = base.clone();
    config.data_dir.clone_from(&o.data_dir);
    config.database.url = String::new();
    // The demo's own SQLite store, closed before returning so that a next
    // run in the same process finds no connection to the files it replaces.
    let sqlite = Arc::new(
        quan_store_sqlite::SqliteStore::open(
            &o.data_dir.join("quan.db"),
            quan_store_sqlite::SqliteOptions {
                pool_connections_max: config.database.pool_connections_max.min(8),
                ..quan_store_sqlite::SqliteOptions::default()
            },
        )
        .await
        .context("cannot open the demo's database")?,
    );
    let store: Arc<dyn quan_store::Store> = sqlite.clone();
    let clock = Arc::new(FixedClock::new(t("2026-12-05T08:00:00")));
    let sms = Arc::new(MemorySmsSender::default());
    let engine = Engine::new(EngineParts {
        store,
        clock: clock.clone(),
        random: Arc::new(SystemRandom),
        sms: sms.clone(),
        pii_key: setup::pii_key(&config)?,
        config: setup::engine_config(&config)?,
    });

    say("Yichang's 13 district boundaries (GCJ-02) imported");
    engine
        .import_districts(YICHANG, Crs::Gcj02, "420500-yichang.geojson")
        .await
        .map_err(|e| anyhow::anyhow!("importing the districts: {e}"))?;
    let index = engine.district_index();
    let districts: Vec<(String, f64, f64)> = serde_json::from_str::<Value>(YICHANG)?["features"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| {
                    let code =
                        f["id"].as_str().map(str::to_owned).or_else(|| f["id"].as_u64().map(|n| n.to_string()))?;
                    let cp = f["properties"]["cp"].as_array()?;
                    Some((code, cp.first()?.as_f64()?, cp.get(1)?.as_f64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    if districts.len() != 13 || index.is_empty() {
        bail!("the Yichang boundaries did not load ({} districts)", districts.len());
    }

    // The server, on a local port, with the demo's clock.
    let listen = o.serve.clone().unwrap_or_else(|| "127.0.0.1:0".into());
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let http = quan_http::HttpConfig {
        body_bytes_max: usize::try_from(config.server.body_bytes_max).unwrap_or(usize::MAX),
        request_timeout_s: config.server.request_timeout_s,
        trusted_proxies: quan_http::TrustedProxies::parse(&config.server.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
        ..quan_http::HttpConfig::default()
    };
    // As `quan serve` does: residents' sessions and identities in memory,
    // followed each second (the residents are enrolled below).
    engine.follow_sessions().await?;
    engine.follow_sessions_in_background();
    let server_engine = engine.clone();
    let server = tokio::spawn(async move {
        quan_http::serve(server_engine, &http, listener, async {
            let _ = stop_rx.await;
        })
        .await
    });
    let mut c = Conn::connect(addr).await.context("connecting to the demo server")?;
    say(&format!("server listening on http://{addr}/ (API docs at /docs/)"));

    // Staff.
    let mut passwords = Vec::new();
    let mut staff_token = BTreeMap::new();
    for (name, role) in
        [("demo.official", Role::Official), ("demo.auditor", Role::Auditor), ("demo.operator", Role::Operator)]
    {
        let password = engine.generate_password();
        let new = quan_engine::users::NewAccount {
            username: Username::parse(name)?,
            role,
            region: Region::parse("4205")?,
            display_name: name.into(),
            password: Some(password.clone()),
        };
        engine.create_user_unchecked(new, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let v = expect(
            &mut c,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": name, "password": password})),
            200,
        )
        .await?;
        staff_token.insert(name, v["token"].as_str().unwrap_or_default().to_owned());
        passwords.push((name, password));
    }
    let official = staff_token["demo.official"].clone();
    let operator = staff_token["demo.operator"].clone();
    let auditor = staff_token["demo.auditor"].clone();

    // The campaign: a first-come grab and a trade-in lottery.
    let grab_stock = (o.residents * 45 / 100).max(30);
    let (s_catering, s_retail) = (grab_stock * 5 / 9, grab_stock * 3 / 9);
    let s_appliance = grab_stock - s_catering - s_retail;
    let lottery_stock = (o.residents / 100).max(10);
    let codes: Vec<&str> = districts.iter().map(|(c, _, _)| c.as_str()).collect();
    let kind = |code: &str, name: &str, min: i64, off: i64, industries: Value, stock: usize, validity: Value| {
        json!({"stock": stock, "kind": {"code": code, "name": name,
            "discount": {"type": "threshold", "min_order_fen": min, "off_fen": off},
            "scope": {"industries": industries}, "validity": validity}})
    };
    let week = json!({"type": "days_after_claim", "days": 7});
    let doc = json!({
        "campaign": {"name": "宜昌市2026年冬季消费券（演示）", "region": "4205", "budget_fen": 1_000_000_000_i64,
            "funding_source": "宜昌市财政局促消费专项资金", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [
            {"name": "第一批：餐饮零售家电（先到先得）", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
             "eligibility": {"gps_districts": codes}, "limits": {"per_batch": 1, "count_by": "account"},
             "kinds": [
                kind("c100-20", "餐饮满100减20", 10_000, 2_000, json!(["catering"]), s_catering, week.clone()),
                kind("r200-50", "零售满200减50", 20_000, 5_000, json!(["retail", "department_stores"]), s_retail, week.clone()),
                kind("h2000-300", "家电满2000减300", 200_000, 30_000, json!(["home_appliances"]), s_appliance, week.clone()),
             ]},
            {"name": "第二批：家电以旧换新（摇号）", "opening_at": "2026-12-06T18:00:00+08:00", "closing_at": "2026-12-06T22:00:00+08:00",
             "mode": {"type": "lottery", "registration_opens_at": "2026-12-05T09:00:00+08:00", "registration_closes_at": "2026-12-06T18:00:00+08:00"},
             "eligibility": {"household_prefixes": ["4205"]}, "limits": {"per_batch": 1, "count_by": "both"},
             "kinds": [kind("trade-in-600", "家电以旧换新满3000减600", 300_000, 60_000, json!(["home_appliances"]), lottery_stock,
                json!({"type": "fixed", "from": "2026-12-06", "until": "2026-12-12"}))]}
        ]
    });
    let created = expect(&mut c, "POST", "/api/v1/campaigns", Some(&official), Some(&doc), 201).await?;
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let grab = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    let lottery = created["batches"][1]["id"].as_str().unwrap_or_default().to_owned();
    expect(
        &mut c,
        "POST",
        &format!("/api/v1/campaigns/{cid}/funding"),
        Some(&official),
        Some(&json!({"amount_fen": 1_000_000_000_i64})),
        200,
    )
    .await?;
    expect(&mut c, "POST", &format!("/api/v1/campaigns/{cid}/start"), Some(&official), Some(&json!({})), 200).await?;
    say(&format!(
        "campaign {cid}: ¥10 000 000 funded; grab of {grab_stock} vouchers, lottery of {lottery_stock} trade-in vouchers"
    ));

    // Merchants from the bureau's CSV, a few rows bad; then reviewed.
    let csv_path = o.data_dir.join("merchants.csv");
    write_merchants_csv(&csv_path, o.merchants, &codes, &rng)?;
    let (import_text, totals) = super::import::merchants(&config, &csv_path, "demo.operator", false, show).await?;
    say(import_text.lines().next().unwrap_or("merchants imported"));
    let op_actor =
        engine.actor_for_username(&Username::parse("demo.operator")?).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut pending = Vec::new();
    loop {
        let page = engine
            .list_merchants(
                &op_actor,
                Some(quan_domain::merchant::MerchantStatus::Pending),
                pending.last().map(|m: &quan_store::Merchant| m.id),
                500,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let done = page.len() < 500;
        pending.extend(page);
        if done {
            break;
        }
    }
    let b = bar(show, pending.len() as u64, "reviewing imported merchants");
    let mut rejected = 0;
    for (i, m) in pending.iter().enumerate() {
        let (action, reason) =
            if i % 97 == 5 { ("reject", "营业执照与经营地址不符") } else { ("approve", "资料齐全") };
        rejected += usize::from(action == "reject");
        expect(
            &mut c,
            "POST",
            &format!("/api/v1/merchants/{}/review", m.id),
            Some(&operator),
            Some(&json!({"action": action, "reason": reason})),
            200,
        )
        .await?;
        b.inc(1);
    }
    b.finish_and_clear();
    say(&format!("{} merchants reviewed: {} approved, {rejected} rejected", pending.len(), pending.len() - rejected));

    // Shops that take vouchers in the demo: they apply, are approved, open a till with a cashier.
    let mut shops = open_shops(&engine, &mut c, &operator, o.shops, &districts, show).await?;
    say(&format!("{} shops approved, each with a till and a cashier", shops.len()));

    // Residents: a sample logs in by SMS; the rest are enrolled in bulk.
    let sms_sample = o.residents.min(300);
    let phones: Vec<PhoneNumber> = (0..o.residents)
        .map(|i| PhoneNumber::parse(&format!("139{:08}", i)).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<_>>()?;
    let mut tokens: Vec<String> = Vec::with_capacity(o.residents);
    let b = bar(show, o.residents as u64, "residents log in / are enrolled");
    for (i, p) in phones.iter().take(sms_sample).enumerate() {
        clock.set(t("2026-12-05T08:30:00") + chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0) * 10));
        engine
            .request_login_code(p, &format!("demo-phone-{i}"))
            .await
            .map_err(|e| anyhow::anyhow!("SMS code for a demo resident: {e}"))?;
        let code = sms.last_code(p.expose()).unwrap_or_default();
        let code = quan_engine::auth::OtpCode::parse(&code).map_err(|e| anyhow::anyhow!("{e}"))?;
        let issued = engine.verify_login_code(p, &code).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        tokens.push(issued.token);
        b.inc(1);
    }
    for chunk in phones[sms_sample..].chunks(20_000) {
        tokens.extend(engine.enrol_residents(chunk).await?);
        b.inc(chunk.len() as u64);
    }
    b.finish_and_clear();
    say(&format!("{} residents: {sms_sample} logged in by SMS code, the rest enrolled in bulk", o.residents));

    // Where each resident stands: 90 % inside the city, the rest in Wuhan.
    let positions: Vec<(f64, f64)> = (0..o.residents)
        .map(|i| {
            if i % 10 == 9 {
                (30.55 + rng.below(1000) as f64 / 10_000.0, 114.25 + rng.below(1000) as f64 / 10_000.0)
            } else {
                inside_point(&engine, &districts, &rng)
            }
        })
        .collect();

    // The lottery: identities (some invalid, some from outside Yichang), then registration.
    clock.set(t("2026-12-05T09:30:00"));
    let registrants = (o.residents / 25).max(20);
    let counties: Vec<&str> = codes.iter().copied().filter(|c| c.len() == 6).collect();
    let mut conns = connect_many(addr, 8).await?;
    let next = AtomicUsize::new(0);
    let outcome = Arc::new(std::sync::Mutex::new(BTreeMap::<String, usize>::new()));
    let b = bar(show, registrants as u64, "lottery: ID numbers, registrations");
    futures_join(conns.iter_mut().map(|conn| {
        let (tokens, lottery, outcome, next, b, counties) = (&tokens, &lottery, outcome.clone(), &next, &b, &counties);
        async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= registrants {
                    break;
                }
                let r = i * 7 % tokens.len();
                let county = if i % 7 == 6 { "420102" } else { counties[i % counties.len()] };
                let id = id_number(county, i as u64, i % 20 != 19);
                let (s, _) =
                    call_json(conn, "POST", "/api/v1/me/identity", Some(&tokens[r]), Some(&json!({"id_number": id})))
                        .await
                        .unwrap_or((0, Value::Null));
                let key = if s == 200 {
                    let (s, v) = call_json(
                        conn,
                        "POST",
                        &format!("/api/v1/batches/{lottery}/registrations"),
                        Some(&tokens[r]),
                        Some(&json!({})),
                    )
                    .await
                    .unwrap_or((0, Value::Null));
                    if s < 300 {
                        "registered".into()
                    } else {
                        format!("registration refused: {}", v["error"]["code"].as_str().unwrap_or("?"))
                    }
                } else {
                    "ID number refused".into()
                };
                if let Ok(mut m) = outcome.lock() {
                    *m.entry(key).or_insert(0) += 1;
                }
                b.inc(1);
            }
        }
    }))
    .await;
    b.finish_and_clear();
    let lottery_outcome = outcome.lock().map(|m| m.clone()).unwrap_or_default();
    say(&format!("lottery registration: {}", tally(&lottery_outcome)));

    // Two seconds early: refused with the server's time, for the countdown.
    clock.set(t("2026-12-05T09:59:58"));
    let (s, early) = call_json(
        &mut c,
        "POST",
        &format!("/api/v1/batches/{grab}/claims"),
        Some(&tokens[0]),
        Some(&json!({"lat": positions[0].0, "lng": positions[0].1, "crs": "gcj02", "accuracy_m": 20.0})),
    )
    .await?;
    say(&format!(
        "09:59:58, a claim: {s} {} ({})",
        early["error"]["code"].as_str().unwrap_or("?"),
        early["error"]["message"].as_str().unwrap_or("")
    ));

    // 10:00:00: the grab.
    clock.set(t("2026-12-05T10:00:00"));
    let grab_started = Instant::now();
    let seen =
        run_grab(addr, &grab, &tokens, &positions, o.connections, [s_catering, s_retail, s_appliance], &rng, show)
            .await?;
    let grab_secs = grab_started.elapsed().as_secs_f64();
    let mut lat = seen.latencies.clone();
    lat.sort();
    let claimed = seen.vouchers.len();
    say(&format!(
        "grab: {} requests in {grab_secs:.1} s ({:.0}/s), {} vouchers to first-time claimers; answers: {}",
        grouped(seen.latencies.len() as u64),
        seen.latencies.len() as f64 / grab_secs,
        grouped(claimed as u64),
        tally(&seen.codes)
    ));

    // Day 1 afternoon and evening: redemptions in both directions, some refunds.
    let mut conns = connect_many(addr, 8).await?;
    let day1: Vec<(usize, String, String)> = seen.vouchers.iter().filter(|_| rng.below(100) < 25).cloned().collect();
    clock.set(t("2026-12-05T11:55:00"));
    for (i, shop) in shops.iter_mut().enumerate() {
        shop.cashier = relogin_with(&mut c, &format!("demo.cashier{i:03}"), "demo cashier password").await?;
    }
    let red_started = Instant::now();
    let (made1, refused1) =
        redeem_all(&clock, "2026-12-05T12:00:00", 8, &mut conns, &tokens, &shops, None, &day1, &rng, show).await?;
    let red_secs = red_started.elapsed().as_secs_f64();
    let refunds1 = refund_some(&mut c, &shops, &made1, 40, false).await?;
    // A shop under review is suspended in the evening: its settlement is held
    // (and residents go elsewhere until it is cleared).
    clock.set(t("2026-12-05T21:30:00"));
    let (_, operator) = relogin(&mut c, &passwords, "demo.operator").await?;
    let suspended = shops[0].id.clone();
    expect(
        &mut c,
        "POST",
        &format!("/api/v1/merchants/{suspended}/review"),
        Some(&operator),
        Some(&json!({"action": "suspend", "reason": "疑似套现，核查中"})),
        200,
    )
    .await?;
    say(&format!(
        "12-05: {} redemptions (refused: {}), {refunds1} refunds; one shop suspended",
        grouped(made1.len() as u64),
        tally(&refused1)
    ));

    // 12-06 01:00: T+1 report and settlement of 12-05.
    let reports = o.data_dir.join("reports");
    std::fs::create_dir_all(&reports)?;
    let payouts = o.data_dir.join("payouts");
    close_day(
        &engine,
        &clock,
        &mut c,
        &passwords,
        &say,
        &cid,
        "2026-12-05",
        "2026-12-06T01:00:00",
        &reports,
        &payouts,
        show,
    )
    .await?;

    // 12-06: the lottery is drawn; more redemptions; winners use theirs.
    clock.set(t("2026-12-06T18:00:01"));
    let (_, official) = relogin(&mut c, &passwords, "demo.official").await?;
    let drawn =
        expect(&mut c, "POST", &format!("/api/v1/batches/{lottery}/draw"), Some(&official), Some(&json!({})), 200)
            .await?;
    let winners = drawn["winners"].as_array().map_or(0, Vec::len);
    say(&format!(
        "12-06 18:00: lottery drawn, {winners} winners of {} registrants",
        drawn["registrants"].as_array().map_or(0, Vec::len)
    ));
    let mut day2: Vec<(usize, String, String)> = seen
        .vouchers
        .iter()
        .filter(|v| !day1.iter().any(|d| d.1 == v.1))
        .filter(|_| rng.below(100) < 20)
        .cloned()
        .collect();
    // Winners' trade-in vouchers, from their wallets.
    for i in 0..registrants {
        let r = i * 7 % tokens.len();
        let (s, w) = call_json(&mut c, "GET", "/api/v1/me/vouchers", Some(&tokens[r]), None).await?;
        if s != 200 {
            continue;
        }
        for v in w.as_array().cloned().unwrap_or_default() {
            if v["batch_id"].as_str() == Some(lottery.as_str()) && v["state"] == "claimed" && rng.below(100) < 70 {
                day2.push((
                    r,
                    v["id"].as_str().unwrap_or_default().to_owned(),
                    v["kind"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    // The cashiers start the evening shift.
    clock.set(t("2026-12-06T18:25:00"));
    for (i, shop) in shops.iter_mut().enumerate() {
        shop.cashier = relogin_with(&mut c, &format!("demo.cashier{i:03}"), "demo cashier password").await?;
    }
    // Some of yesterday's orders, already paid to the shops, come back: the
    // shops owe that subsidy back, netted from tonight's settlement.
    let late_refunds = refund_some(&mut c, &shops, &made1, 150, true).await?;
    let (made2, refused2) =
        redeem_all(&clock, "2026-12-06T18:30:00", 5, &mut conns, &tokens, &shops, Some(0), &day2, &rng, show).await?;
    let refunds2 = refund_some(&mut c, &shops, &made2, 40, false).await?;
    say(&format!(
        "12-06: {} redemptions (refused: {}), {refunds2} refunds, and {late_refunds} refunds of orders paid yesterday",
        grouped(made2.len() as u64),
        tally(&refused2)
    ));
    close_day(
        &engine,
        &clock,
        &mut c,
        &passwords,
        &say,
        &cid,
        "2026-12-06",
        "2026-12-07T01:00:00",
        &reports,
        &payouts,
        show,
    )
    .await?;

    // Live view, as the dashboard polls it.
    let (_, official) = relogin(&mut c, &passwords, "demo.official").await?;
    let live = expect(&mut c, "GET", &format!("/api/v1/campaigns/{cid}/live"), Some(&official), None, 200).await?;

    // Close-out: the shop is cleared, validity ends, the rest returns to the treasury.
    clock.set(t("2026-12-13T09:00:00"));
    let (_, operator) = relogin(&mut c, &passwords, "demo.operator").await?;
    expect(
        &mut c,
        "POST",
        &format!("/api/v1/merchants/{suspended}/review"),
        Some(&operator),
        Some(&json!({"action": "reinstate", "reason": "核查无误"})),
        200,
    )
    .await?;
    let (_, official) = relogin(&mut c, &passwords, "demo.official").await?;
    expect(&mut c, "POST", &format!("/api/v1/campaigns/{cid}/begin-closing"), Some(&official), Some(&json!({})), 200)
        .await?;
    clock.set(t("2026-12-14T01:00:00"));
    let id: quan_domain::CampaignId = cid.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let expired = engine.expire_campaign(id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
    let last = NaiveDate::from_ymd_opt(2026, 12, 13).unwrap_or_default();
    while day <= last {
        // Every settlement that pays has its payout file, and every report its files.
        super::settle::settle_day(&engine, day, &payouts).await?;
        let (report, snapshot) =
            engine.daily_report_unchecked(id, day).await.map_err(|e| anyhow::anyhow!("report of {day}: {e}"))?;
        super::report::write_files(&report, &snapshot.content, &reports)?;
        day = day.succ_opt().unwrap_or(day);
    }
    let (_, official) = relogin(&mut c, &passwords, "demo.official").await?;
    let closed =
        expect(&mut c, "POST", &format!("/api/v1/campaigns/{cid}/close"), Some(&official), Some(&json!({})), 200)
            .await?;
    let actor = engine.authenticate(Some(&official)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let close_out = engine.close_out_report(&actor, id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let co_xlsx = reports.join(format!("close-out-{cid}.xlsx"));
    let co_html = reports.join(format!("close-out-{cid}.html"));
    super::closeout::write_xlsx(&close_out, &co_xlsx)?;
    std::fs::write(&co_html, super::closeout::html(&close_out))?;
    let (final_report, _) =
        engine.daily_report_unchecked(id, last).await.map_err(|e| anyhow::anyhow!("report of {last}: {e}"))?;
    let final_files =
        super::report::write_files(&final_report, &quan_engine::reports::canonical(&final_report)?, &reports)?;
    // Each batch's final report (批次总结) as of the last business day.
    let mut batch_finals = Vec::new();
    for b in &final_report.batches {
        let Some(bid) = b.batch_id.as_deref().and_then(|x| x.parse::<quan_domain::BatchId>().ok()) else { continue };
        let r = engine.batch_final_report(&actor, bid, last).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let path = reports.join(format!("batch-final-{bid}-{last}.xlsx"));
        let bytes = quan_engine::reports::render::batch_final_xlsx(&r).map_err(|e| anyhow::anyhow!("{e}"))?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        batch_finals.push(path);
    }
    say(&format!(
        "12-14: {} vouchers expired, campaign {}",
        expired.vouchers,
        closed["status"].as_str().unwrap_or("?")
    ));
    let (audit_text, clean) = super::audit::verify(&config, Some(&cid)).await?;
    let _ = auditor;

    // The summary.
    let f = &final_report.total.cumulative;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nquan demo — {} ({}), business days 2026-12-05 … 2026-12-13",
        final_report.campaign_name, final_report.region
    );
    let _ = writeln!(out, "{:-<78}", "");
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "  {k:<44} {v:>30}");
    };
    row(&mut out, "budget / funded (元)", format!("{} / {}", yuan(close_out.budget_fen), yuan(close_out.funded_fen)));
    row(
        &mut out,
        "merchants imported / rows refused",
        format!("{} / {}", grouped(totals.inserted), grouped(totals.errors.len() as u64)),
    );
    row(&mut out, "shops taking vouchers (till + cashier)", shops.len().to_string());
    row(
        &mut out,
        "residents (inside the city / outside)",
        format!("{} / {}", grouped((o.residents - o.residents / 10) as u64), grouped((o.residents / 10) as u64)),
    );
    row(&mut out, "vouchers issued 发券数（张）", grouped(f.issued.unwrap_or(0)));
    row(&mut out, "face value issued 发券面值（元）", yuan(f.issued_face_fen.unwrap_or(0)));
    row(&mut out, "residents who claimed 抢券用户数", grouped(f.claimers.unwrap_or(0)));
    row(&mut out, "residents who redeemed 核销用户数", grouped(f.redeemers));
    row(&mut out, "redemptions 核销笔数", grouped(f.redemptions));
    row(&mut out, "subsidy redeemed 核销金额（元）", yuan(f.subsidy_fen));
    row(&mut out, "order amount 订单金额（元）", yuan(f.order_fen));
    row(
        &mut out,
        "matching: platform / merchants（元）",
        format!("{} / {}", yuan(f.platform_match_fen), yuan(f.merchant_match_fen)),
    );
    row(&mut out, "refunds (count / amount 元)", format!("{} / {}", grouped(f.refunds), yuan(f.refunded_fen)));
    row(&mut out, "net subsidy 净核销金额（元）", yuan(f.net_subsidy_fen));
    row(
        &mut out,
        "leverage 拉动比 / redemption rate 核销率",
        format!(
            "{} / {}",
            f.leverage_x100.map_or_else(|| "-".into(), |x| format!("{}.{:02}", x / 100, x % 100)),
            f.redemption_rate_bp.map_or_else(|| "-".into(), |x| format!("{}.{:02}%", x / 100, x % 100))
        ),
    );
    row(&mut out, "paid to merchants（元）", yuan(close_out.paid_fen));
    row(&mut out, "returned to the treasury 退回国库（元）", yuan(close_out.returned_fen));
    row(&mut out, "owed back by merchants（元）", yuan(close_out.owed_back_fen));
    let _ = writeln!(out, "{:-<78}", "");
    row(
        &mut out,
        "grab over HTTP: requests/s, p50, p99",
        format!(
            "{:.0}/s, {} ms, {} ms",
            seen.latencies.len() as f64 / grab_secs,
            percentile(&lat, 0.5).as_millis(),
            percentile(&lat, 0.99).as_millis()
        ),
    );
    let _ = writeln!(out, "  grab answers (one per request; a request is one tap, retries included):");
    let _ = writeln!(out, "    {}", tally(&seen.codes));
    let _ = writeln!(
        out,
        "  (\"claimed\" answers count requests granted, retries of a granted claim included; a pack claim gives\n   several vouchers; lottery winners get theirs without a request: the report's 发券数 counts vouchers.)"
    );
    row(
        &mut out,
        "redemptions over HTTP (code + redeem), day 1",
        format!("{:.0}/s", made1.len() as f64 / red_secs.max(0.001)),
    );
    row(
        &mut out,
        "live view 12-06 18:00: vouchers claimed / redeemed",
        format!(
            "{} / {}",
            grouped(live["claimed"].as_u64().unwrap_or(0)),
            grouped(live["redeemed"].as_u64().unwrap_or(0))
        ),
    );
    let _ = writeln!(
        out,
        "  (the live view is the running count on the evening of 12-06; the report's figures above run to\n   12-13 and count redemptions made, before refunds: 核销笔数 − full refunds = redemptions standing.)"
    );
    row(
        &mut out,
        "audit verify",
        if clean { "clean: books balance to the fen".into() } else { "DIFFERENCES (below)".into() },
    );
    row(&mut out, "elapsed", format!("{:.1} s", started.elapsed().as_secs_f64()));
    let _ = writeln!(out, "{:-<78}", "");
    let _ = writeln!(out, "files:");
    let _ = writeln!(out, "  database        {}", o.data_dir.join("quan.db").display());
    let _ = writeln!(
        out,
        "  merchants CSV   {} (refused rows: {})",
        csv_path.display(),
        super::import::errors_path(&csv_path).display()
    );
    let _ = writeln!(
        out,
        "  daily reports   {}/report-{cid}-<day>.xlsx / .csv / .json, one per business day",
        reports.display()
    );
    for f in &batch_finals {
        let _ = writeln!(out, "  final report    {} (批次总结)", f.display());
    }
    for f in final_files {
        let _ = writeln!(out, "  last daily     {}", f.display());
    }
    let _ = writeln!(out, "  close-out       {}\n                  {}", co_xlsx.display(), co_html.display());
    let _ = writeln!(out, "  payout files    {}", payouts.display());
    if !clean {
        out.push_str(&audit_text);
    }
    if o.serve.is_some() {
        let _ = writeln!(
            out,
            "\nserving on http://{addr}/ (API docs: http://{addr}/docs/); the clock stays at 2026-12-14 01:00 (UTC+8)."
        );
        for (name, pw) in &passwords {
            let _ = writeln!(out, "  {name:<14} password {pw}");
        }
        let _ = writeln!(out, "Press Ctrl-C to stop.");
        {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(out.as_bytes())?;
            stdout.flush()?;
        }
        let _ = tokio::signal::ctrl_c().await;
        out.clear();
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    drop(engine);
    sqlite.close().await;
    if !clean {
        bail!("{out}the audit found differences");
    }
    Ok(out)
}

/// Runs many futures on this task, all at once.
async fn futures_join<F: std::future::Future<Output = ()>>(fs: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = fs.map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
}

async fn connect_many(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<Conn>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(Conn::connect(addr).await?);
    }
    Ok(v)
}

/// Staff sessions last a working day: each step of the demo logs in afresh.
async fn relogin(c: &mut Conn, passwords: &[(&str, String)], name: &str) -> anyhow::Result<(String, String)> {
    let pw = passwords.iter().find(|(n, _)| *n == name).map(|(_, p)| p.clone()).unwrap_or_default();
    Ok((name.to_owned(), relogin_with(c, name, &pw).await?))
}

async fn relogin_with(c: &mut Conn, name: &str, password: &str) -> anyhow::Result<String> {
    let v = expect(c, "POST", "/api/v1/auth/login", None, Some(&json!({"username": name, "password": password})), 200)
        .await?;
    Ok(v["token"].as_str().unwrap_or_default().to_owned())
}

/// Refuses to wipe a folder that is not an earlier demo's.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!("{} exists and was not made by `quan demo`; choose another folder with --data-dir", dir.display());
        }
        for entry in std::fs::read_dir(dir)? {
            let p = entry?.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p)?;
            } else {
                std::fs::remove_file(&p)?;
            }
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "made by quan demo; the next run replaces this folder\n")?;
    Ok(())
}

/// A point inside the city (not near a border), in GCJ-02.
fn inside_point(engine: &Engine, districts: &[(String, f64, f64)], rng: &SeededRandom) -> (f64, f64) {
    for _ in 0..50 {
        let (_, lng, lat) = &districts[usize::try_from(rng.below(districts.len() as u64)).unwrap_or(0)];
        let (dlat, dlng) = ((rng.below(2001) as f64 - 1000.0) / 25_000.0, (rng.below(2001) as f64 - 1000.0) / 25_000.0);
        let p = Position { lng: lng + dlng, lat: lat + dlat, crs: Crs::Gcj02, accuracy_m: Some(20.0) };
        if let Ok(Located::Inside(_)) = engine.locate(&p) {
            return (p.lat, p.lng);
        }
    }
    let (_, lng, lat) = &districts[0];
    (*lat, *lng)
}

const INDUSTRIES: [&str; 5] = ["catering", "retail", "home_appliances", "department_stores", "lodging"];
const SCALES: [&str; 4] = ["large", "medium", "small", "micro"];

/// The bureau's list: `n` merchants across the districts, and a dozen rows
/// with mistakes of the kinds a real list has.
fn write_merchants_csv(path: &Path, n: usize, districts: &[&str], rng: &SeededRandom) -> anyhow::Result<()> {
    let mut w = crate::files::CsvOut::create(path)?;
    w.record(super::import::COLUMNS)?;
    for i in 0..n {
        let code = quan_domain::merchant::CreditCode::sample(u32::try_from(i + 1).unwrap_or(0)).to_string();
        let district = districts[i % districts.len()];
        let industry = INDUSTRIES[usize::try_from(rng.below(INDUSTRIES.len() as u64)).unwrap_or(0)];
        let mut row = vec![
            format!("宜昌演示商户{:04}有限公司", i + 1),
            code,
            industry.to_owned(),
            SCALES[i % 4].to_owned(),
            format!("宜昌市演示路{}号", i + 1),
            district.to_owned(),
            String::new(),
            String::new(),
            "王经理".into(),
            format!("1380000{:04}", i % 10_000),
            "中国银行宜昌分行".into(),
            format!("宜昌演示商户{:04}", i + 1),
            format!("62220202{:011}", i + 1),
        ];
        // Every 170th row has a mistake: bad credit code, unknown industry,
        // a district of another city, a bad phone, no name, a duplicate.
        match (i % 170 == 7).then_some(i / 170 % 6) {
            Some(0) => row[1] = "91420500MA0000000X".into(),
            Some(1) => row[2] = "bakery".into(),
            Some(2) => row[5] = "110101".into(),
            Some(3) => row[9] = "12345".into(),
            Some(4) => row[0] = String::new(),
            Some(_) => row[1] = quan_domain::merchant::CreditCode::sample(1).to_string(),
            None => {}
        }
        w.record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// Shops apply (owner accounts), are approved, and open a till with a cashier.
async fn open_shops(
    engine: &Engine,
    c: &mut Conn,
    operator: &str,
    n: usize,
    districts: &[(String, f64, f64)],
    show: bool,
) -> anyhow::Result<Vec<Shop>> {
    let industries: [&'static str; 3] = ["catering", "retail", "home_appliances"];
    let b = bar(show, n as u64, "shops: apply, approve, till, cashier");
    let mut shops = Vec::with_capacity(n);
    for i in 0..n {
        let industry = industries[i % 3];
        let (district, lng, lat) = &districts[i % districts.len()];
        let app: quan_domain::merchant::MerchantApplication = serde_json::from_value(json!({
            "legal_name": format!("宜昌演示门店{:03}", i + 1),
            "credit_code": quan_domain::merchant::CreditCode::sample(u32::try_from(50_000 + i).unwrap_or(0)).to_string(),
            "industry": industry, "scale": SCALES[i % 4], "address": format!("宜昌市门店路{}号", i + 1),
            "address_district": district, "location": {"lat": lat, "lng": lng},
            "contact_name": "李店长", "contact_phone": format!("1370000{:04}", i),
            "settlement_account": {"bank_name": "湖北银行宜昌分行", "account_name": format!("宜昌演示门店{:03}", i + 1), "account_number": format!("62170000{:011}", i)}
        }))?;
        let owner_name = format!("demo.shop{i:03}");
        let owner = quan_engine::merchants::OwnerAccount {
            username: owner_name.clone(),
            password: "demo shop password".into(),
            display_name: "店长".into(),
        };
        let (m, _) =
            engine.apply_merchant(&app, &owner, &format!("demo-shop-{i}")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        expect(
            c,
            "POST",
            &format!("/api/v1/merchants/{}/review", m.id),
            Some(operator),
            Some(&json!({"action": "approve", "reason": "门店核验通过"})),
            200,
        )
        .await?;
        let owner_actor =
            engine.actor_for_username(&Username::parse(&owner_name)?).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let till =
            engine.create_till(&owner_actor, m.id, "T01", "一号收银台").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let cashier_name = format!("demo.cashier{i:03}");
        engine
            .create_cashier(&owner_actor, m.id, &cashier_name, "收银员", till.id, Some("demo cashier password".into()))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let v = expect(
            c,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": cashier_name, "password": "demo cashier password"})),
            200,
        )
        .await?;
        shops.push(Shop {
            id: m.id.to_string(),
            industry,
            till: till.id.to_string(),
            cashier: v["token"].as_str().unwrap_or_default().to_owned(),
        });
        b.inc(1);
    }
    b.finish_and_clear();
    Ok(shops)
}

/// Everyone claims at once over `connections` keep-alive connections; bots
/// hammer, some residents retry with the same Idempotency-Key.
#[allow(clippy::too_many_arguments)]
async fn run_grab(
    addr: SocketAddr,
    batch: &str,
    tokens: &[String],
    positions: &[(f64, f64)],
    connections: usize,
    stock: [usize; 3],
    rng: &SeededRandom,
    show: bool,
) -> anyhow::Result<GrabSeen> {
    let kinds = ["c100-20", "r200-50", "h2000-300"];
    let total: usize = stock.iter().sum();
    // Each resident's wish, by the stock's shares; bots (every 5 000th) send 20 requests.
    let mut order: Vec<(usize, &'static str, u32)> = Vec::with_capacity(tokens.len() + 100);
    for i in 0..tokens.len() {
        let x = usize::try_from(rng.below(total as u64)).unwrap_or(0);
        let k = if x < stock[0] {
            0
        } else if x < stock[0] + stock[1] {
            1
        } else {
            2
        };
        order.push((i, kinds[k], 0));
        if i % 5_000 == 17 {
            for n in 1..20 {
                order.push((i, kinds[k], n));
            }
        }
        if i % 50 == 3 {
            // A retry after a lost answer: the same key.
            order.push((i, kinds[k], 0));
        }
    }
    for i in (1..order.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    let order = Arc::new(order);
    let next = Arc::new(AtomicUsize::new(0));
    let b = bar(show, order.len() as u64, "10:00:00 — the grab");
    let tokens_all: Arc<Vec<String>> = Arc::new(tokens.to_vec());
    let positions_all: Arc<Vec<(f64, f64)>> = Arc::new(positions.to_vec());
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (order, next, b) = (order.clone(), next.clone(), b.clone());
        let (tokens, positions) = (tokens_all.clone(), positions_all.clone());
        let batch = batch.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut seen = GrabSeen::default();
            let mut conn = match Conn::connect(addr).await {
                Ok(c) => c,
                Err(_) => return seen,
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(who, kind, attempt)) = order.get(i) else { break };
                let (lat, lng) = positions[who];
                let body = json!({"kind": kind, "lat": lat, "lng": lng, "crs": "gcj02", "accuracy_m": 25.0});
                // Apps that retry (and the bots) send an Idempotency-Key.
                let key = format!("grab-{who}-{attempt}");
                let headers: &[(&str, &str)] =
                    if who % 50 == 3 || who % 5_000 == 17 { &[("Idempotency-Key", &key)] } else { &[] };
                let t0 = Instant::now();
                let answer = call(
                    &mut conn,
                    "POST",
                    &format!("/api/v1/batches/{batch}/claims"),
                    Some(&tokens[who]),
                    Some(&body),
                    headers,
                )
                .await;
                let Ok((status, bytes)) = answer else {
                    if let Ok(c) = Conn::connect(addr).await {
                        conn = c;
                    }
                    continue;
                };
                seen.latencies.push(t0.elapsed());
                *seen.statuses.entry(status).or_insert(0) += 1;
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let code = if status == 201 {
                    if attempt == 0 && !seen.vouchers.iter().any(|(r, _, _)| *r == who) {
                        for x in v["vouchers"].as_array().cloned().unwrap_or_default() {
                            seen.vouchers.push((
                                who,
                                x["id"].as_str().unwrap_or_default().to_owned(),
                                x["kind"].as_str().unwrap_or(kind).to_owned(),
                            ));
                        }
                    }
                    "claimed".to_owned()
                } else {
                    v["error"]["code"].as_str().unwrap_or("?").to_owned()
                };
                *seen.codes.entry(code).or_insert(0) += 1;
                b.inc(1);
            }
            seen
        }));
    }
    let mut all = GrabSeen::default();
    for task in tasks {
        let s = task.await?;
        for (k, v) in s.statuses {
            *all.statuses.entry(k).or_insert(0) += v;
        }
        for (k, v) in s.codes {
            *all.codes.entry(k).or_insert(0) += v;
        }
        all.latencies.extend(s.latencies);
        all.vouchers.extend(s.vouchers);
    }
    b.finish_and_clear();
    // A retried request answered twice from the idempotency record: one voucher.
    all.vouchers.sort();
    all.vouchers.dedup();
    Ok(all)
}

/// The voucher's kind → the industry of the shops that take it.
fn industry_of(kind: &str) -> &'static str {
    match kind {
        "c100-20" => "catering",
        "r200-50" => "retail",
        _ => "home_appliances",
    }
}

/// An order amount in fen a voucher of this kind applies to.
fn order_for(kind: &str, rng: &SeededRandom) -> i64 {
    let (min, spread) = match kind {
        "c100-20" => (10_000, 20_000),
        "r200-50" => (20_000, 40_000),
        "h2000-300" => (200_000, 600_000),
        _ => (300_000, 900_000),
    };
    min + i64::try_from(rng.below(spread)).unwrap_or(0)
}

/// Redeems `vouchers` at shops of their industry: 85 % the cashier scans
/// the resident's code, 15 % the resident scans the till's code. The clock
/// moves through the afternoon from `from`. Returns what was made and how
/// many were refused.
#[allow(clippy::too_many_arguments)]
async fn redeem_all(
    clock: &FixedClock,
    from: &str,
    hours: i64,
    conns: &mut [Conn],
    tokens: &[String],
    shops: &[Shop],
    avoid: Option<usize>,
    vouchers: &[(usize, String, String)],
    rng: &SeededRandom,
    show: bool,
) -> anyhow::Result<(Vec<Made>, BTreeMap<String, usize>)> {
    let start = t(from);
    let b = bar(show, vouchers.len() as u64, "redemptions at the tills");
    let plan: Vec<(usize, String, usize, i64, i64, i64, bool)> = vouchers
        .iter()
        .filter_map(|(r, v, kind)| {
            let ind = industry_of(kind);
            let of_industry = |s: &usize| shops[*s].industry == ind;
            let mut candidates: Vec<usize> = (0..shops.len()).filter(|s| of_industry(s) && Some(*s) != avoid).collect();
            if candidates.is_empty() {
                candidates = (0..shops.len()).filter(of_industry).collect();
            }
            let s = *candidates.get(usize::try_from(rng.below(candidates.len().max(1) as u64)).unwrap_or(0))?;
            let order = order_for(kind, rng);
            let pm = if rng.below(10) == 0 { order / 50 } else { 0 };
            let mm = if rng.below(5) == 0 { order / 20 } else { 0 };
            Some((*r, v.clone(), s, order, pm, mm, rng.below(100) < 15))
        })
        .collect();
    let per_chunk = 1_000usize;
    // The shops' hours: chunks spread over `hours` from `from`.
    let chunks = plan.len().div_ceil(per_chunk).max(1);
    let step_min = (hours * 60 / i64::try_from(chunks).unwrap_or(1)).max(1);
    let mut made = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    for (n, chunk) in plan.chunks(per_chunk).enumerate() {
        clock.set(start + chrono::Duration::minutes(step_min * i64::try_from(n).unwrap_or(0)));
        let next = AtomicUsize::new(0);
        let results = std::sync::Mutex::new(Vec::new());
        futures_join(conns.iter_mut().map(|conn| {
            let (next, results, b) = (&next, &results, &b);
            async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((r, v, s, order, pm, mm, till_shows)) = chunk.get(i) else { break };
                    let shop = &shops[*s];
                    let answer = if *till_shows {
                        match call_json(
                            conn,
                            "GET",
                            &format!("/api/v1/tills/{}/code", shop.till),
                            Some(&shop.cashier),
                            None,
                        )
                        .await
                        {
                            Ok((200, code)) => {
                                let body = json!({"code": code["code"], "voucher_id": v, "order_amount_fen": order,
                                    "platform_match_fen": pm, "merchant_match_fen": mm});
                                call_json(conn, "POST", "/api/v1/me/redemptions", Some(&tokens[*r]), Some(&body)).await
                            }
                            other => other,
                        }
                    } else {
                        match call_json(conn, "GET", &format!("/api/v1/me/vouchers/{v}/code"), Some(&tokens[*r]), None)
                            .await
                        {
                            Ok((200, code)) => {
                                let body = json!({"code": code["code"], "order_amount_fen": order,
                                    "platform_match_fen": pm, "merchant_match_fen": mm});
                                call_json(conn, "POST", "/api/v1/redemptions", Some(&shop.cashier), Some(&body)).await
                            }
                            other => other,
                        }
                    };
                    if let Ok(mut x) = results.lock() {
                        x.push(match answer {
                            Ok((201, v)) => Ok((v["id"].as_str().unwrap_or_default().to_owned(), *s, *order)),
                            Ok((status, v)) => Err(format!("{status} {}", v["error"]["code"].as_str().unwrap_or("?"))),
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

/// Refunds one in `every` redemptions: all in full with `full`, else every
/// third in full (the voucher comes back while still valid) and the others in part.
async fn refund_some(c: &mut Conn, shops: &[Shop], made: &[Made], every: usize, full: bool) -> anyhow::Result<usize> {
    let mut n = 0;
    for (k, (_, (id, s, order))) in made.iter().enumerate().filter(|(i, _)| i % every == 1).enumerate() {
        let amount = if full || k % 3 == 0 { *order } else { order / 4 };
        let (status, _) = call_json(
            c,
            "POST",
            &format!("/api/v1/redemptions/{id}/refunds"),
            Some(&shops[*s].cashier),
            Some(&json!({"amount_fen": amount})),
        )
        .await?;
        n += usize::from(status == 201);
    }
    Ok(n)
}

/// The morning after `day`: its T+1 report over HTTP (XLSX saved) and its settlement.
#[allow(clippy::too_many_arguments)]
async fn close_day(
    engine: &Engine,
    clock: &FixedClock,
    c: &mut Conn,
    passwords: &[(&str, String)],
    say: &dyn Fn(&str),
    cid: &str,
    day: &str,
    at: &str,
    reports: &Path,
    payouts: &Path,
    show: bool,
) -> anyhow::Result<()> {
    clock.set(t(at));
    let (_, official) = relogin(c, passwords, "demo.official").await?;
    let official = official.as_str();
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d")?;
    let id: quan_domain::CampaignId = cid.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    // The report over HTTP, as an official downloads it.
    let (status, xlsx) =
        call(c, "GET", &format!("/api/v1/campaigns/{cid}/reports/daily/{day}.xlsx"), Some(official), None, &[]).await?;
    if status != 200 {
        bail!("the report of {day}: {status} {}", String::from_utf8_lossy(&xlsx));
    }
    let (report, snapshot) = engine.daily_report_unchecked(id, d).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    super::report::write_files(&report, &snapshot.content, reports)?;
    let (run, _) = super::settle::settle_day(engine, d, payouts).await?;
    let held = run.all.iter().filter(|(s, _)| s.status == "held").count();
    let paid: i64 = run.all.iter().filter(|(s, _)| s.status == "paid").map(|(s, _)| s.amount.as_i64()).sum();
    let recovered: i64 = run.all.iter().map(|(s, _)| s.recovered.as_i64()).sum();
    let _ = show;
    say(&format!(
        "{day} closed: T+1 report ({} bytes XLSX, sha256 {}…); settlement paid {} 元 to {} merchants, {held} held, {} 元 netted against refunds after payment",
        xlsx.len(),
        &snapshot.sha256[..12],
        yuan(paid),
        run.all.len() - held,
        yuan(recovered)
    ));
    Ok(())
}
