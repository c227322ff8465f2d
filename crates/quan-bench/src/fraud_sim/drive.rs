//! The month through the real engine, on a fresh SQLite store in simulated
//! time: shops apply, are approved and list their catalogue (with its price
//! history); residents register and claim at the opening; each day's
//! visits are redeemed at the shops' tills in five-minute slices; every
//! night the analysis runs at 00:30 and settlement at 01:00 (Beijing).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use quan_domain::merchant::{MerchantApplication, ReviewAction};
use quan_domain::{FixedClock, MerchantId, ResidentId, Role, SessionId};
use quan_engine::merchants::{OwnerAccount, ProductSpec};
use quan_engine::redemptions::OrderInput;
use quan_engine::{Actor, Engine, EngineConfig, EngineParts, MemorySmsSender, PiiKey, SeededRandom};
use quan_store::Store;
use quan_store_sqlite::{SqliteOptions, SqliteStore};

use super::city::{City, MODELS, OFF_FEN, THRESHOLD_FEN};

/// The opening of both batches.
pub fn opening() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default()
}

fn at_min(m: i64) -> DateTime<Utc> {
    opening() + Duration::minutes(m)
}

/// One visit's redemption.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    pub visit: usize,
    pub subsidy_fen: i64,
    pub day: NaiveDate,
    /// Its subsidy went to the risk-held account at the redemption.
    pub risk_held: bool,
}

/// A case as the scoring reads it.
#[derive(Debug, Clone)]
pub struct SeenCase {
    pub id: uuid::Uuid,
    /// The finding: `graph_ring`, `threshold_hugging`, `hoarding`, `price_raise`.
    pub source: String,
    /// Shops it names, each with the night it first named it (minutes after the opening).
    pub shops: Vec<(usize, i64)>,
    pub people: Vec<usize>,
    pub products: Vec<String>,
}

/// What the month left.
#[derive(Debug, Default)]
pub struct Month {
    pub done: Vec<Done>,
    pub refused: usize,
    /// Per shop and business day: the settlement row's status.
    pub settled: HashMap<(usize, NaiveDate), String>,
    pub cases: Vec<SeenCase>,
    pub audit_clean: bool,
    pub analysis_ms: Vec<u128>,
}

struct World {
    engine: Engine,
    clock: Arc<FixedClock>,
    residents: Vec<Actor>,
    cashiers: Vec<Actor>,
    shop_of: HashMap<MerchantId, usize>,
    person_of: HashMap<ResidentId, usize>,
    vouchers: Vec<Vec<uuid::Uuid>>,
    /// Per person, vouchers spent so far.
    used: Vec<usize>,
    campaign: quan_domain::CampaignId,
}

fn e(x: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{x}")
}

/// Runs the month.
pub async fn month(c: &City, seed: u64, config: EngineConfig, bar: &indicatif::ProgressBar) -> anyhow::Result<Month> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("quan.db"), SqliteOptions::default()).await?;
    let pool = store.pool().clone();
    let clock = Arc::new(FixedClock::new(opening() - Duration::days(61)));
    let engine = Engine::new(EngineParts {
        store: Arc::new(store) as Arc<dyn Store>,
        clock: clock.clone(),
        random: Arc::new(SeededRandom::new(seed)),
        sms: Arc::new(MemorySmsSender::default()),
        pii_key: PiiKey::from_bytes([7; 32]),
        config: EngineConfig {
            password: quan_engine::PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 },
            ..config
        },
    });
    let mut w = setup(engine, clock, &pool, c).await?;
    let mut out = Month::default();
    let days = c.visits.iter().map(|v| v.at_min / 1_440 + 1).max().unwrap_or(1);
    let mut next = 0;
    for day in 0..days {
        while next < c.visits.len() && c.visits[next].at_min < (day + 1) * 1_440 - 600 {
            let slice = c.visits[next].at_min / 5;
            let end = c.visits[next..].iter().position(|v| v.at_min / 5 != slice).map_or(c.visits.len(), |k| next + k);
            w.clock.set(at_min(slice * 5));
            redeem_slice(&mut w, c, next..end, &mut out).await?;
            next = end;
        }
        night(&mut w, day, &mut out).await?;
        bar.inc(1);
    }
    let audit = w.engine.audit_campaign_unchecked(w.campaign).await.map_err(e)?;
    out.audit_clean = audit.is_clean();
    drop(w);
    pool.close().await;
    Ok(out)
}

async fn redeem_slice(w: &mut World, c: &City, range: std::ops::Range<usize>, out: &mut Month) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for i in range {
        let v = c.visits[i];
        // Each visit spends the person's next unused voucher (a refused one is lost to the month).
        let k = w.used[v.person];
        let Some(&voucher) = w.vouchers[v.person].get(k) else { continue };
        w.used[v.person] += 1;
        let (engine, resident, cashier) = (w.engine.clone(), w.residents[v.person].clone(), w.cashiers[v.shop].clone());
        tasks.push(tokio::spawn(async move {
            let code = engine.voucher_code(&resident, voucher).await.map_err(e)?.code;
            let order = OrderInput { amount: quan_domain::Fen::new(v.order_fen), ..OrderInput::default() };
            Ok::<_, anyhow::Error>((i, engine.redeem_scanned(&cashier, &code, order).await))
        }));
    }
    for t in tasks {
        let (i, r) = t.await??;
        match r {
            Ok(r) => out.done.push(Done {
                visit: i,
                subsidy_fen: r.subsidy.as_i64(),
                day: r.business_day,
                risk_held: r.risk.as_ref().is_some_and(|m| m.held > quan_domain::Fen::ZERO),
            }),
            Err(_) => out.refused += 1,
        }
    }
    Ok(())
}

async fn night(w: &mut World, day: i64, out: &mut Month) -> anyhow::Result<()> {
    w.clock.set(at_min(day * 1_440 + 870));
    let t = std::time::Instant::now();
    w.engine.analyse().await.map_err(e)?;
    out.analysis_ms.push(t.elapsed().as_millis());
    let now = day * 1_440 + 870;
    for case in w.engine.risk_cases_unchecked(false).await.map_err(e)? {
        let full = w.engine.risk_case_unchecked(case.id).await.map_err(e)?;
        let k = match out.cases.iter().position(|s| s.id == case.id) {
            Some(k) => k,
            None => {
                out.cases.push(SeenCase {
                    id: case.id,
                    source: case.source.clone(),
                    shops: Vec::new(),
                    people: Vec::new(),
                    products: Vec::new(),
                });
                out.cases.len() - 1
            }
        };
        let seen = &mut out.cases[k];
        for m in &full.members {
            match m.kind {
                "merchant" => {
                    let shop = m.id.parse::<MerchantId>().ok().and_then(|id| w.shop_of.get(&id).copied());
                    if let Some(shop) = shop.filter(|s| !seen.shops.iter().any(|(x, _)| x == s)) {
                        seen.shops.push((shop, now));
                    }
                }
                "resident" => {
                    let p = m.id.parse::<ResidentId>().ok().and_then(|id| w.person_of.get(&id).copied());
                    if let Some(p) = p.filter(|p| !seen.people.contains(p)) {
                        seen.people.push(p);
                    }
                }
                _ if !seen.products.contains(&m.id) => seen.products.push(m.id.clone()),
                _ => {}
            }
        }
    }
    w.clock.set(at_min(day * 1_440 + 900));
    let date = opening().with_timezone(&quan_domain::UTC8).date_naive() + Duration::days(day);
    let run = w.engine.settle(date).await.map_err(e)?;
    for s in run.new {
        if let Some(&shop) = w.shop_of.get(&s.merchant_id) {
            out.settled.insert((shop, date), s.status);
        }
    }
    Ok(())
}

async fn setup(engine: Engine, clock: Arc<FixedClock>, pool: &sqlx::SqlitePool, c: &City) -> anyhow::Result<World> {
    let official = crate::setup::staff(&engine, "sim.official", Role::Official).await?;
    let operator = crate::setup::staff(&engine, "sim.operator", Role::Operator).await?;
    let (mut cashiers, mut owners, mut shop_of) = (Vec::new(), Vec::new(), HashMap::new());
    for (i, s) in c.shops.iter().enumerate() {
        let app: MerchantApplication = serde_json::from_value(serde_json::json!({
            "legal_name": format!("宜昌模拟商户{i}"), "credit_code": quan_domain::merchant::CreditCode::sample(u32::try_from(i)? + 1).to_string(),
            "industry": if s.appliances { "home_appliances" } else { "catering" }, "scale": s.scale.as_str(), "address": "西陵区", "address_district": "420502",
            "contact_name": "张三", "contact_phone": "13812345678",
            "settlement_account": {"bank_name": "中国银行", "account_name": "模拟", "account_number": "6222020200112233"}
        }))?;
        let owner = OwnerAccount {
            username: format!("owner{i}"),
            password: crate::setup::PASSWORD.into(),
            display_name: "老板".into(),
        };
        let (m, owner) = engine.apply_merchant(&app, &owner, &format!("sim-{i}")).await.map_err(e)?;
        engine.review_merchant(&operator, m.id, ReviewAction::Approve, "").await.map_err(e)?;
        let owner = Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user: owner };
        let till = engine.create_till(&owner, m.id, "T01", "一号").await.map_err(e)?;
        let (cashier, _) = engine
            .create_cashier(&owner, m.id, &format!("cashier{i}"), "收银", till.id, Some(crate::setup::PASSWORD.into()))
            .await
            .map_err(e)?;
        cashiers.push(Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user: cashier });
        owners.push(owner);
        shop_of.insert(m.id, i);
    }
    catalogue(&engine, &clock, &owners, &shop_of, c).await?;
    clock.set(opening() - Duration::days(5));
    let campaign = campaign(&engine, &official, c).await?;
    let (residents, person_of) = residents(pool, c).await?;
    clock.set(opening());
    let vouchers = claims(&engine, &residents, campaign.1, c).await?;
    let used = vec![0; vouchers.len()];
    Ok(World { engine, clock, residents, cashiers, shop_of, person_of, vouchers, used, campaign: campaign.0 })
}

async fn catalogue(
    engine: &Engine,
    clock: &FixedClock,
    owners: &[Actor],
    shop_of: &HashMap<MerchantId, usize>,
    c: &City,
) -> anyhow::Result<()> {
    let ids: HashMap<usize, MerchantId> = shop_of.iter().map(|(m, s)| (*s, *m)).collect();
    let mut changes: Vec<(f64, usize, i64)> =
        c.items.iter().enumerate().flat_map(|(k, it)| it.prices.iter().map(move |(d, p)| (*d, k, *p))).collect();
    changes.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (days_before, k, price) in changes {
        let it = &c.items[k];
        clock.set(opening() - Duration::minutes((days_before * 1_440.0) as i64));
        let spec = ProductSpec {
            brand: format!("品牌{}", it.model % 7),
            model: format!("型号-{:03}", it.model % MODELS),
            category: "空调".into(),
            energy_class: "1".into(),
            list_price_fen: quan_domain::Fen::new(price),
        };
        engine.upsert_product(&owners[it.shop], ids[&it.shop], &it.sku, &spec).await.map_err(e)?;
    }
    Ok(())
}

async fn campaign(
    engine: &Engine,
    official: &Actor,
    c: &City,
) -> anyhow::Result<(quan_domain::CampaignId, quan_domain::BatchId)> {
    use quan_engine::campaigns::CampaignFile;
    let stock = u32::try_from(c.people.len())? * c.vouchers;
    let budget = i64::from(stock) * OFF_FEN + 1_000 * 200_000;
    let file: CampaignFile = serde_json::from_value(serde_json::json!({
        "campaign": {"name": "模拟月", "region": "4205", "budget_fen": budget, "funding_source": "simulation", "starts_on": "2026-12-01", "ends_on": "2027-01-31"},
        "batches": [
            {"name": "满100减20", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2027-01-20T22:00:00+08:00",
             "limits": {"per_batch": c.vouchers, "count_by": "account"},
             "kinds": [{"stock": stock, "kind": {"code": "c100-20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": THRESHOLD_FEN, "off_fen": OFF_FEN}, "validity": {"type": "days_after_claim", "days": 40}}}]},
            {"name": "家电以旧换新", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2027-01-20T22:00:00+08:00",
             "kinds": [{"stock": 1_000, "kind": {"code": "trade-in", "name": "以旧换新 15%", "discount": {"type": "percent", "percent_bp": 1500, "cap_fen": 200_000, "min_order_fen": 100_000}, "validity": {"type": "days_after_claim", "days": 40}}}]}
        ]
    }))?;
    let (campaign, batches) = engine.create_campaign(official, file).await.map_err(e)?;
    use quan_domain::campaign::CampaignCommand as Cmd;
    engine
        .change_campaign(official, campaign.id, Cmd::Fund { amount: quan_domain::Fen::new(budget) }, "simulation")
        .await
        .map_err(e)?;
    engine.change_campaign(official, campaign.id, Cmd::Start, "").await.map_err(e)?;
    Ok((campaign.id, batches[0].id))
}

async fn residents(pool: &sqlx::SqlitePool, c: &City) -> anyhow::Result<(Vec<Actor>, HashMap<ResidentId, usize>)> {
    let rows: Vec<crate::setup::ResidentRow> = c
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + i as u128);
            let created = (opening() - Duration::minutes(p.registered_min_before)).timestamp_millis();
            (id, crate::setup::phone_hash(i).to_vec(), format!("138****{:04}", i % 10_000), created)
        })
        .collect();
    let person_of = rows.iter().enumerate().map(|(i, r)| (ResidentId::from_uuid(r.0), i)).collect();
    let actors = crate::setup::resident_actors(pool, rows).await?;
    Ok((actors, person_of))
}

/// Every account claims its vouchers at the opening, 200 at a time.
async fn claims(
    engine: &Engine,
    residents: &[Actor],
    batch: quan_domain::BatchId,
    c: &City,
) -> anyhow::Result<Vec<Vec<uuid::Uuid>>> {
    let mut out = vec![Vec::new(); residents.len()];
    let n = c.vouchers;
    for chunk in (0..residents.len()).collect::<Vec<_>>().chunks(200) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let (engine, actor) = (engine.clone(), residents[i].clone());
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..n {
                    loop {
                        match engine.claim(&actor, batch, None, None).await {
                            Err(quan_engine::claims::ClaimRejection::Busy) => {
                                tokio::time::sleep(std::time::Duration::from_millis(2)).await
                            }
                            Ok(c) => {
                                got.extend(c.vouchers.iter().map(|v| v.id));
                                break;
                            }
                            Err(x) => return Err(anyhow::anyhow!("claim: {x}")),
                        }
                    }
                }
                Ok::<_, anyhow::Error>((i, got))
            }));
        }
        for t in tasks {
            let (i, got) = t.await??;
            out[i] = got;
        }
    }
    Ok(out)
}
