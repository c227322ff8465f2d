//! The demo's phases, in the order they happen: the world is set up, the
//! campaign created and funded, merchants and residents arrive, the grab,
//! two business days with their T+1 closes, and the close-out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use quan_domain::geo::Crs;
use quan_domain::{FixedClock, PhoneNumber, Region, Role, Username};
use quan_engine::{Engine, EngineParts, MemorySmsSender, Random, SeededRandom, SystemRandom};
use quan_http::client::Conn;
use serde_json::{Value, json};

use super::client::{call_json, connect_many, expect, futures_join, relogin, relogin_with};
use super::grab::{GrabSeen, run_grab};
use super::world::{Shop, id_number, inside_point, open_shops, prepare_dir, write_merchants_csv};
use super::{DemoOptions, YICHANG, bar, t};
use crate::commands::prose::{grouped, tally};
use crate::config::Config;
use crate::setup;

/// One run of the demo: its world and the conversation with its server.
pub(super) struct Demo<'a> {
    pub(super) o: &'a DemoOptions,
    pub(super) config: Config,
    pub(super) started: Instant,
    pub(super) rng: SeededRandom,
    pub(super) clock: Arc<FixedClock>,
    pub(super) sms: Arc<MemorySmsSender>,
    pub(super) engine: Engine,
    sqlite: Arc<quan_store_sqlite::SqliteStore>,
    pub(super) districts: Vec<(String, f64, f64)>,
    pub(super) addr: SocketAddr,
    pub(super) c: Conn,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub(super) passwords: Vec<(&'static str, String)>,
    pub(super) reports: PathBuf,
    pub(super) payouts: PathBuf,
}

/// The file in the data folder where the demo's login codes are written
/// (one JSON line each), for a person logging in to the pages.
pub(super) const SMS_OUTBOX: &str = "sms-outbox.jsonl";

/// The campaign the demo runs: its ids and stock.
pub(super) struct Campaign {
    pub(super) cid: String,
    pub(super) grab: String,
    pub(super) lottery: String,
    /// Catering, retail, home appliances.
    pub(super) stocks: [usize; 3],
}

impl<'a> Demo<'a> {
    /// A fresh folder, the demo's SQLite store and engine on a clock at
    /// 2026-12-05 08:00 (UTC+8), Yichang's districts, and the server.
    pub(super) async fn open(base: &Config, o: &'a DemoOptions) -> anyhow::Result<Demo<'a>> {
        let started = Instant::now();
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
            sms: Arc::new(quan_engine::sms::CopySmsSender::new(
                sms.clone(),
                Arc::new(quan_engine::FileSmsSender::new(&o.data_dir.join(SMS_OUTBOX))),
            )),
            pii_key: setup::pii_key(&config)?,
            // The demo's bank receives its webhooks on this machine (loopback).
            config: quan_engine::EngineConfig { webhooks_allow_private: true, ..setup::engine_config(&config)? },
        });
        // Test partners' calls go to a sandbox beside the demo's database, as with `quan serve`.
        let sandbox_opts = quan_store_sqlite::SqliteOptions { pool_connections_max: 2, ..Default::default() };
        let sandbox = quan_store_sqlite::SqliteStore::open(&o.data_dir.join("sandbox.db"), sandbox_opts).await?;
        engine.attach_sandbox(Arc::new(sandbox));
        let say = |what: &str| say_at(o, started, what);
        say("Yichang's 13 district boundaries (GCJ-02) imported");
        let districts = import_districts(&engine).await?;
        let (addr, stop, server) = start_server(&engine, &config, o).await?;
        let c = Conn::connect(addr).await.context("connecting to the demo server")?;
        say(&format!("server listening on http://{addr}/ (API docs at /docs/)"));
        Ok(Demo {
            o,
            rng: SeededRandom::new(o.seed),
            reports: o.data_dir.join("reports"),
            payouts: o.data_dir.join("payouts"),
            config,
            started,
            clock,
            sms,
            engine,
            sqlite,
            districts,
            addr,
            c,
            stop: Some(stop),
            server: Some(server),
            passwords: Vec::new(),
        })
    }

    /// One line on stderr, with the seconds since the start.
    pub(super) fn say(&self, what: &str) {
        say_at(self.o, self.started, what);
    }

    /// The bureau's staff: an official, an auditor and an operator, each
    /// logged in once; their tokens by name.
    pub(super) async fn staff(&mut self) -> anyhow::Result<BTreeMap<&'static str, String>> {
        let mut tokens = BTreeMap::new();
        for (name, role) in
            [("demo.official", Role::Official), ("demo.auditor", Role::Auditor), ("demo.operator", Role::Operator)]
        {
            let password = self.engine.generate_password();
            let new = quan_engine::users::NewAccount {
                username: Username::parse(name)?,
                role,
                region: Region::parse("4205")?,
                display_name: name.into(),
                password: Some(password.clone()),
            };
            self.engine.create_user_unchecked(new, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let body = json!({"username": name, "password": password});
            let v = expect(&mut self.c, "POST", "/api/v1/auth/login", None, Some(&body), 200).await?;
            tokens.insert(name, v["token"].as_str().unwrap_or_default().to_owned());
            self.passwords.push((name, password));
        }
        Ok(tokens)
    }

    /// The campaign: a first-come grab and a trade-in lottery, created from
    /// one document, funded with ¥10 000 000 and started.
    pub(super) async fn campaign(&mut self, official: &str) -> anyhow::Result<Campaign> {
        let o = self.o;
        let grab_stock = (o.residents * 45 / 100).max(30);
        let (s_catering, s_retail) = (grab_stock * 5 / 9, grab_stock * 3 / 9);
        let s_appliance = grab_stock - s_catering - s_retail;
        let lottery_stock = (o.residents / 100).max(10);
        let codes: Vec<&str> = self.districts.iter().map(|(c, _, _)| c.as_str()).collect();
        let doc = campaign_document(&codes, [s_catering, s_retail, s_appliance], lottery_stock);
        let created = expect(&mut self.c, "POST", "/api/v1/campaigns", Some(official), Some(&doc), 201).await?;
        let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
        let funding = json!({"amount_fen": 1_000_000_000_i64});
        let path = format!("/api/v1/campaigns/{cid}/funding");
        expect(&mut self.c, "POST", &path, Some(official), Some(&funding), 200).await?;
        let path = format!("/api/v1/campaigns/{cid}/start");
        expect(&mut self.c, "POST", &path, Some(official), Some(&json!({})), 200).await?;
        self.say(&format!(
            "campaign {cid}: ¥10 000 000 funded; grab of {grab_stock} vouchers, lottery of {lottery_stock} trade-in vouchers"
        ));
        Ok(Campaign {
            grab: created["batches"][0]["id"].as_str().unwrap_or_default().to_owned(),
            lottery: created["batches"][1]["id"].as_str().unwrap_or_default().to_owned(),
            cid,
            stocks: [s_catering, s_retail, s_appliance],
        })
    }

    /// Merchants from the bureau's CSV, a few rows bad; then reviewed by the
    /// operator (about one in a hundred rejected). The CSV's path and the
    /// import's totals.
    pub(super) async fn merchants(
        &mut self,
        operator: &str,
    ) -> anyhow::Result<(PathBuf, quan_engine::merchants::ImportTotals)> {
        let csv_path = self.o.data_dir.join("merchants.csv");
        let codes: Vec<&str> = self.districts.iter().map(|(c, _, _)| c.as_str()).collect();
        write_merchants_csv(&csv_path, self.o.merchants, &codes, &self.rng)?;
        let (import_text, totals) =
            crate::commands::import::merchants(&self.config, &csv_path, "demo.operator", false, self.o.progress)
                .await?;
        self.say(import_text.lines().next().unwrap_or("merchants imported"));
        let pending = self.pending_merchants().await?;
        let b = bar(self.o.progress, pending.len() as u64, "reviewing imported merchants");
        let mut rejected = 0;
        for (i, m) in pending.iter().enumerate() {
            let (action, reason) =
                if i % 97 == 5 { ("reject", "营业执照与经营地址不符") } else { ("approve", "资料齐全") };
            rejected += usize::from(action == "reject");
            let path = format!("/api/v1/merchants/{}/review", m.id);
            let body = json!({"action": action, "reason": reason});
            expect(&mut self.c, "POST", &path, Some(operator), Some(&body), 200).await?;
            b.inc(1);
        }
        b.finish_and_clear();
        self.say(&format!(
            "{} merchants reviewed: {} approved, {rejected} rejected",
            pending.len(),
            pending.len() - rejected
        ));
        Ok((csv_path, totals))
    }

    /// Every merchant waiting for review, page by page.
    async fn pending_merchants(&self) -> anyhow::Result<Vec<quan_store::Merchant>> {
        let op = Username::parse("demo.operator")?;
        let actor = self.engine.actor_for_username(&op).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut pending: Vec<quan_store::Merchant> = Vec::new();
        loop {
            let after = pending.last().map(|m| m.id);
            let status = Some(quan_domain::merchant::MerchantStatus::Pending);
            let page = self
                .engine
                .list_merchants(&actor, status, after, 500, &quan_store::MerchantQuery::default())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let done = page.len() < 500;
            pending.extend(page);
            if done {
                return Ok(pending);
            }
        }
    }

    /// Shops that take vouchers in the demo: they apply, are approved, open
    /// a till with a cashier.
    pub(super) async fn shops(&mut self, operator: &str) -> anyhow::Result<Vec<Shop>> {
        let shops =
            open_shops(&self.engine, &mut self.c, operator, self.o.shops, &self.districts, self.o.progress).await?;
        self.say(&format!("{} shops approved, each with a till and a cashier", shops.len()));
        Ok(shops)
    }

    /// Residents: a sample logs in by SMS code; the rest are enrolled in
    /// bulk. Their bearer tokens, in phone order.
    pub(super) async fn residents(&self) -> anyhow::Result<Vec<String>> {
        let o = self.o;
        let sms_sample = o.residents.min(300);
        let phones: Vec<PhoneNumber> = (0..o.residents)
            .map(|i| PhoneNumber::parse(&format!("139{:08}", i)).map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<anyhow::Result<_>>()?;
        let mut tokens: Vec<String> = Vec::with_capacity(o.residents);
        let b = bar(o.progress, o.residents as u64, "residents log in / are enrolled");
        for (i, p) in phones.iter().take(sms_sample).enumerate() {
            let at = t("2026-12-05T08:30:00") + chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0) * 10);
            self.clock.set(at);
            self.engine
                .request_login_code(p, &format!("demo-phone-{i}"))
                .await
                .map_err(|e| anyhow::anyhow!("SMS code for a demo resident: {e}"))?;
            let code = self.sms.last_code(p.expose()).unwrap_or_default();
            let code = quan_engine::auth::OtpCode::parse(&code).map_err(|e| anyhow::anyhow!("{e}"))?;
            let issued = self.engine.verify_login_code(p, &code).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            tokens.push(issued.token);
            b.inc(1);
        }
        for chunk in phones[sms_sample..].chunks(20_000) {
            tokens.extend(self.engine.enrol_residents(chunk).await?);
            b.inc(chunk.len() as u64);
        }
        b.finish_and_clear();
        self.say(&format!("{} residents: {sms_sample} logged in by SMS code, the rest enrolled in bulk", o.residents));
        Ok(tokens)
    }

    /// Where each resident stands: 90 % inside the city, the rest in Wuhan.
    pub(super) fn positions(&self) -> Vec<(f64, f64)> {
        let rng = &self.rng;
        (0..self.o.residents)
            .map(|i| {
                if i % 10 == 9 {
                    (30.55 + rng.below(1000) as f64 / 10_000.0, 114.25 + rng.below(1000) as f64 / 10_000.0)
                } else {
                    inside_point(&self.engine, &self.districts, rng)
                }
            })
            .collect()
    }

    /// The lottery: ID numbers (some invalid, some from outside Yichang),
    /// then registration, over eight connections. How many tried.
    pub(super) async fn lottery_registration(&self, tokens: &[String], lottery: &str) -> anyhow::Result<usize> {
        self.clock.set(t("2026-12-05T09:30:00"));
        let registrants = (self.o.residents / 25).max(20);
        let counties: Vec<&str> = self.districts.iter().map(|(c, _, _)| c.as_str()).filter(|c| c.len() == 6).collect();
        let mut conns = connect_many(self.addr, 8).await?;
        let next = AtomicUsize::new(0);
        let outcome = Arc::new(std::sync::Mutex::new(BTreeMap::<String, usize>::new()));
        let b = bar(self.o.progress, registrants as u64, "lottery: ID numbers, registrations");
        futures_join(conns.iter_mut().map(|conn| {
            let (outcome, next, b, counties) = (outcome.clone(), &next, &b, &counties);
            async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= registrants {
                        break;
                    }
                    let county = if i % 7 == 6 { "420102" } else { counties[i % counties.len()] };
                    let key = register(conn, &tokens[i * 7 % tokens.len()], lottery, county, i).await;
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
        self.say(&format!("lottery registration: {}", tally(&lottery_outcome)));
        Ok(registrants)
    }

    /// Two seconds before the opening a claim is refused with the server's
    /// time (for the countdown); at 10:00:00 the grab.
    pub(super) async fn grab(
        &mut self,
        camp: &Campaign,
        tokens: &[String],
        positions: &[(f64, f64)],
    ) -> anyhow::Result<(GrabSeen, f64)> {
        self.clock.set(t("2026-12-05T09:59:58"));
        let body = json!({"lat": positions[0].0, "lng": positions[0].1, "crs": "gcj02", "accuracy_m": 20.0});
        let path = format!("/api/v1/batches/{}/claims", camp.grab);
        let (s, early) = call_json(&mut self.c, "POST", &path, Some(&tokens[0]), Some(&body)).await?;
        self.say(&format!(
            "09:59:58, a claim: {s} {} ({})",
            early["error"]["code"].as_str().unwrap_or("?"),
            early["error"]["message"].as_str().unwrap_or("")
        ));
        self.clock.set(t("2026-12-05T10:00:00"));
        let grab_started = Instant::now();
        let (o, rng) = (self.o, &self.rng);
        let seen =
            run_grab(self.addr, &camp.grab, tokens, positions, o.connections, camp.stocks, rng, o.progress).await?;
        let grab_secs = grab_started.elapsed().as_secs_f64();
        self.say(&format!(
            "grab: {} requests in {grab_secs:.1} s ({:.0}/s), {} vouchers to first-time claimers; answers: {}",
            grouped(seen.latencies.len() as u64),
            seen.latencies.len() as f64 / grab_secs,
            grouped(seen.vouchers.len() as u64),
            tally(&seen.codes)
        ));
        Ok((seen, grab_secs))
    }

    /// The cashiers log in again for their shift.
    pub(super) async fn shift(&mut self, shops: &mut [Shop], at: &str) -> anyhow::Result<()> {
        self.clock.set(t(at));
        for (i, shop) in shops.iter_mut().enumerate() {
            shop.cashier = relogin_with(&mut self.c, &format!("demo.cashier{i:03}"), "demo cashier password").await?;
        }
        Ok(())
    }

    /// A staff member's token, logging in again.
    pub(super) async fn token(&mut self, name: &str) -> anyhow::Result<String> {
        Ok(relogin(&mut self.c, &self.passwords, name).await?.1)
    }

    /// The operator suspends or reinstates a merchant, with a reason.
    pub(super) async fn review(&mut self, merchant: &str, action: &str, reason: &str) -> anyhow::Result<()> {
        let operator = self.token("demo.operator").await?;
        let path = format!("/api/v1/merchants/{merchant}/review");
        let body = json!({"action": action, "reason": reason});
        expect(&mut self.c, "POST", &path, Some(&operator), Some(&body), 200).await?;
        Ok(())
    }

    /// The lottery's draw at 18:00:01 on 12-06: how many won.
    pub(super) async fn draw(&mut self, lottery: &str) -> anyhow::Result<usize> {
        self.clock.set(t("2026-12-06T18:00:01"));
        let official = self.token("demo.official").await?;
        let path = format!("/api/v1/batches/{lottery}/draw");
        let drawn = expect(&mut self.c, "POST", &path, Some(&official), Some(&json!({})), 200).await?;
        let winners = drawn["winners"].as_array().map_or(0, Vec::len);
        self.say(&format!(
            "12-06 18:00: lottery drawn, {winners} winners of {} registrants",
            drawn["registrants"].as_array().map_or(0, Vec::len)
        ));
        Ok(winners)
    }

    /// Winners' trade-in vouchers, from the registrants' wallets (about
    /// seven in ten of them used).
    pub(super) async fn winners_vouchers(
        &mut self,
        tokens: &[String],
        registrants: usize,
        lottery: &str,
    ) -> anyhow::Result<Vec<(usize, String, String)>> {
        let mut out = Vec::new();
        for i in 0..registrants {
            let r = i * 7 % tokens.len();
            let (s, w) = call_json(&mut self.c, "GET", "/api/v1/me/vouchers", Some(&tokens[r]), None).await?;
            if s != 200 {
                continue;
            }
            for v in w.as_array().cloned().unwrap_or_default() {
                if v["batch_id"].as_str() == Some(lottery) && v["state"] == "claimed" && self.rng.below(100) < 70 {
                    let id = v["id"].as_str().unwrap_or_default().to_owned();
                    out.push((r, id, v["kind"].as_str().unwrap_or_default().to_owned()));
                }
            }
        }
        Ok(out)
    }

    /// Stops the server and closes the store (a next run in this process
    /// finds no connection to the files it replaces).
    pub(super) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.sqlite.close().await;
    }
}

fn say_at(o: &DemoOptions, started: Instant, what: &str) {
    if o.steps {
        eprintln!("▸ {:>5.1} s  {what}", started.elapsed().as_secs_f64());
    }
}

/// Yichang's 13 districts, imported into the engine: each code with its
/// centre point (lat, lng).
async fn import_districts(engine: &Engine) -> anyhow::Result<Vec<(String, f64, f64)>> {
    engine
        .import_districts(YICHANG, Crs::Gcj02, "420500-yichang.geojson")
        .await
        .map_err(|e| anyhow::anyhow!("importing the districts: {e}"))?;
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
    if districts.len() != 13 || engine.district_index().is_empty() {
        bail!("the Yichang boundaries did not load ({} districts)", districts.len());
    }
    Ok(districts)
}

type Server = (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>);

/// The server, on a local port (or `--listen`), with the demo's clock; as
/// `quan serve` does, residents' sessions and identities in memory,
/// followed each second (the residents are enrolled later).
async fn start_server(engine: &Engine, config: &Config, o: &DemoOptions) -> anyhow::Result<Server> {
    let listen = o.serve.clone().unwrap_or_else(|| "127.0.0.1:0".into());
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let http = quan_http::HttpConfig {
        body_bytes_max: usize::try_from(config.server.body_bytes_max).unwrap_or(usize::MAX),
        request_timeout_s: config.server.request_timeout_s,
        // The demo's own load generator stands for the city's phones behind
        // a proxy on loopback (each tap names its phone's address).
        trusted_proxies: quan_http::TrustedProxies::parse(if config.server.trusted_proxies.is_empty() {
            "127.0.0.1, ::1"
        } else {
            &config.server.trusted_proxies
        })
        .map_err(anyhow::Error::msg)?,
        pages: Some(quan_web::router),
        ..quan_http::HttpConfig::default()
    };
    engine.follow_sessions().await?;
    engine.follow_sessions_in_background();
    let server_engine = engine.clone();
    let server = tokio::spawn(async move {
        quan_http::serve(server_engine, &http, listener, async {
            let _ = stop_rx.await;
        })
        .await
    });
    Ok((addr, stop_tx, server))
}

/// The campaign file: the grab (three kinds, per account, in the city's
/// districts) and the trade-in lottery (household registration in Yichang).
fn campaign_document(codes: &[&str], [s_catering, s_retail, s_appliance]: [usize; 3], lottery_stock: usize) -> Value {
    let kind = |code: &str, name: &str, min: i64, off: i64, industries: Value, stock: usize, validity: Value| {
        json!({"stock": stock, "kind": {"code": code, "name": name,
            "discount": {"type": "threshold", "min_order_fen": min, "off_fen": off},
            "scope": {"industries": industries}, "validity": validity}})
    };
    let week = json!({"type": "days_after_claim", "days": 7});
    json!({
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
    })
}

/// One registrant: their ID number (`i`th, from `county`; every 20th with
/// a wrong check character), then the lottery's registration. The outcome.
async fn register(conn: &mut Conn, token: &str, lottery: &str, county: &str, i: usize) -> String {
    let id = id_number(county, i as u64, i % 20 != 19);
    let body = json!({"id_number": id});
    let (s, _) =
        call_json(conn, "POST", "/api/v1/me/identity", Some(token), Some(&body)).await.unwrap_or((0, Value::Null));
    if s != 200 {
        return "ID number refused".into();
    }
    let path = format!("/api/v1/batches/{lottery}/registrations");
    let (s, v) = call_json(conn, "POST", &path, Some(token), Some(&json!({}))).await.unwrap_or((0, Value::Null));
    if s < 300 {
        "registered".into()
    } else {
        format!("registration refused: {}", v["error"]["code"].as_str().unwrap_or("?"))
    }
}
