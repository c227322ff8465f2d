//! The money simulation: seeded random sequences of funding, claims,
//! redemptions (both directions' common path; a till's second of a minute
//! held by the cash-out rules), refunds, merchant suspensions, operators
//! releasing or recovering holds, expiries, settlements and finally the close-out, driven through the real engine on SQLite; after
//! every step the same checks as `quan audit verify` must pass, plus the
//! simulation's own bookkeeping (nothing redeemed twice, subsidy never above
//! face value, stock never oversold).
//!
//! `QUAN_SIM_SEEDS=N` sets how many seeds run (default 200); a failure
//! prints its seed and its steps, `QUAN_SIM_SEED=S` replays exactly that one, and
//! `QUAN_SIM_LOG=1` prints the steps of passing seeds too.

use std::collections::HashMap;
use std::sync::Arc;

use quan_domain::campaign::CampaignCommand as Cmd;
use quan_domain::merchant::{MerchantApplication, ReviewAction};
use quan_domain::{Clock, Fen, FixedClock, Region, ResidentId, Role, SessionId, Username};
use quan_engine::campaigns::CampaignFile;
use quan_engine::merchants::OwnerAccount;
use quan_engine::redemptions::OrderInput;
use quan_engine::{Actor, Engine, EngineConfig, EngineParts, MemorySmsSender, PasswordParams, PiiKey, SeededRandom};
use quan_store::Store;
use quan_store_sqlite::{SqliteOptions, SqliteStore};

/// A small deterministic generator (SplitMix64) for the simulation's choices.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn staff(engine_user: quan_store::User) -> Actor {
    Actor::Staff { session: SessionId::from_uuid(uuid::Uuid::nil()), user: engine_user }
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).unwrap_or_default()
}

/// Cash-out rules that hold often: a till's second redemption of a minute
/// (the simulation's clock stands still between its hourly jumps).
fn holding_often() -> quan_domain::cashout::Rules {
    use quan_domain::cashout::{Action, Rule, Rules, Setting};
    let mut rules = Rules { till_minute_max: 1, ..Rules::default() };
    rules.settings.insert(Rule::TillVelocity, Setting { score: 2, action: Action::Hold });
    rules
}

/// An operator releases or recovers one of the open holds.
async fn decide_a_hold(engine: &Engine, operator: &Actor, dice: &mut Dice) -> Result<String, String> {
    use quan_engine::risk::holds::HoldOutcome;
    let open = engine.risk_holds(operator).await.map_err(|x| x.to_string())?;
    if open.is_empty() {
        return Ok("no hold to decide".into());
    }
    let h = &open[usize::try_from(dice.below(open.len() as u64)).unwrap_or(0)].redemption;
    let outcome = if dice.below(2) == 0 { HoldOutcome::Release } else { HoldOutcome::Recover };
    match engine.decide_risk_hold(operator, h.id, outcome, "sim").await {
        Ok(_) => Ok(format!("{} hold of {}", outcome.as_str(), h.id)),
        Err(x) => Ok(format!("{} hold of {}: {}", outcome.as_str(), h.id, quan_engine::Rejection::code(&x))),
    }
}

async fn run_seed(seed: u64) -> Result<(), String> {
    let mut dice = Dice(seed);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("sim.db"), SqliteOptions::default()).await.map_err(|e| e.to_string())?,
    );
    let clock = Arc::new(FixedClock::new(at("2026-12-05T08:00:00+08:00")));
    let engine = Engine::new(EngineParts {
        store: store.clone(),
        clock: clock.clone(),
        random: Arc::new(SeededRandom::new(seed)),
        sms: Arc::new(MemorySmsSender::default()),
        pii_key: PiiKey::from_bytes([7; 32]),
        config: EngineConfig {
            password: PasswordParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 },
            cashout: holding_often(),
            ..EngineConfig::default()
        },
    });
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let account = |name: &str, role: Role| quan_engine::users::NewAccount {
        username: Username::parse(name).unwrap_or_else(|_| unreachable!()),
        role,
        region: Region::parse("4205").unwrap_or_else(|_| unreachable!()),
        display_name: "sim".into(),
        password: Some("sim password 12".into()),
    };
    let official =
        staff(engine.create_user_unchecked(account("sim.official", Role::Official), None).await.map_err(|x| e(&x))?.0);
    let operator =
        staff(engine.create_user_unchecked(account("sim.operator", Role::Operator), None).await.map_err(|x| e(&x))?.0);
    // A campaign whose budget may fall short of the stock (claims then stop at the budget).
    let stock = 5 + dice.below(30);
    let off = 500 + 500 * i64::try_from(dice.below(4)).unwrap_or(0);
    let threshold = dice.below(2) == 0;
    let budget = i64::try_from(stock).unwrap_or(0) * off;
    let discount = if threshold {
        serde_json::json!({"type": "threshold", "min_order_fen": off * 5, "off_fen": off})
    } else {
        serde_json::json!({"type": "instant", "off_fen": off})
    };
    let file: CampaignFile = serde_json::from_value(serde_json::json!({
        "campaign": {"name": "sim", "region": "4205", "budget_fen": budget, "funding_source": "sim", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "b", "opening_at": "2026-12-05T10:00:00+08:00", "admission_window_s": 0, "closing_at": "2026-12-07T22:00:00+08:00",
            "limits": {"per_batch": 1 + dice.below(2), "count_by": "account"},
            "kinds": [{"stock": stock, "kind": {"code": "k", "name": "k", "discount": discount, "validity": {"type": "days_after_claim", "days": 1 + dice.below(2)}}}]}]
    }))
    .map_err(|x| e(&x))?;
    let (c, batches) = engine.create_campaign(&official, file).await.map_err(|x| e(&x))?;
    let batch = batches[0].id;
    // Funding in one or two parts.
    let first = if dice.below(2) == 0 { budget } else { budget / 2 };
    engine.change_campaign(&official, c.id, Cmd::Fund { amount: Fen::new(first) }, "").await.map_err(|x| e(&x))?;
    if first < budget {
        engine
            .change_campaign(&official, c.id, Cmd::Fund { amount: Fen::new(budget - first) }, "")
            .await
            .map_err(|x| e(&x))?;
    }
    engine.change_campaign(&official, c.id, Cmd::Start, "").await.map_err(|x| e(&x))?;
    // Merchants, each with a cashier.
    let mut cashiers = Vec::new();
    let mut merchants = Vec::new();
    for i in 0..(1 + dice.below(3)) {
        let n = u32::try_from(i).unwrap_or(0);
        let app: MerchantApplication = serde_json::from_value(serde_json::json!({
            "legal_name": format!("模拟商户{i}"), "credit_code": quan_store::conformance::credit_code(n + 1).to_string(),
            "industry": "catering", "scale": "small", "address": "西陵区", "address_district": "420502",
            "contact_name": "张三", "contact_phone": "13812345678",
            "settlement_account": {"bank_name": "中国银行", "account_name": "模拟", "account_number": "6222020200112233"}
        }))
        .map_err(|x| e(&x))?;
        let owner = OwnerAccount {
            username: format!("simowner{i}"),
            password: "sim password 12".into(),
            display_name: "o".into(),
        };
        let (m, owner) = engine.apply_merchant(&app, &owner, &format!("sim-{i}")).await.map_err(|x| e(&x))?;
        engine.review_merchant(&operator, m.id, ReviewAction::Approve, "").await.map_err(|x| e(&x))?;
        let owner = staff(owner);
        let till = engine.create_till(&owner, m.id, "T1", "t").await.map_err(|x| e(&x))?;
        let (cashier, _) = engine
            .create_cashier(&owner, m.id, &format!("simcashier{i}"), "c", till.id, Some("sim password 12".into()))
            .await
            .map_err(|x| e(&x))?;
        cashiers.push((staff(cashier), owner));
        merchants.push(m.id);
    }
    // Residents.
    let mut residents = Vec::new();
    for i in 0..(stock + 10) {
        let mut h = [0u8; 32];
        h[..8].copy_from_slice(&i.to_le_bytes());
        let r = quan_store::Resident {
            id: ResidentId::from_uuid(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(i))),
            phone_hash: quan_domain::KeyedHash::from_bytes(h),
            phone_masked: "x".into(),
            created_at: clock.now(),
        };
        let r = store.upsert_resident(&r).await.map_err(|x| e(&x))?;
        residents.push(Actor::Resident { session: SessionId::from_uuid(uuid::Uuid::nil()), resident: r });
    }
    clock.set(at("2026-12-05T10:00:00+08:00"));
    // The simulation's own books.
    let mut held: Vec<(usize, uuid::Uuid)> = Vec::new(); // (resident, voucher)
    let mut redeemed_ids: HashMap<uuid::Uuid, uuid::Uuid> = HashMap::new(); // redemption -> voucher
    let mut claims = 0u64;
    let mut log = Vec::new();
    for step in 0..40 {
        let roll = dice.below(100);
        let what = if roll < 35 {
            let r = usize::try_from(dice.below(residents.len() as u64)).unwrap_or(0);
            match engine.claim(&residents[r], batch, None, None).await {
                Ok(cl) => {
                    claims += 1;
                    held.push((r, cl.vouchers[0].id));
                    format!("claim by {r}: ok")
                }
                Err(x) => format!("claim by {r}: {}", quan_engine::Rejection::code(&x)),
            }
        } else if roll < 65 && !held.is_empty() {
            let k = usize::try_from(dice.below(held.len() as u64)).unwrap_or(0);
            let (r, v) = held[k];
            let m = usize::try_from(dice.below(cashiers.len() as u64)).unwrap_or(0);
            let amount = i64::try_from(dice.below(u64::try_from(off * 8).unwrap_or(1))).unwrap_or(0) + 1;
            match engine.voucher_code(&residents[r], v).await {
                Ok(code) => {
                    // Matching discounts on some orders: within what the voucher leaves of the order.
                    let room = u64::try_from((amount - off).max(0) / 2).unwrap_or(0);
                    let (pm, mm) = if room > 0 && dice.below(2) == 0 {
                        (dice.below(room + 1), dice.below(room + 1))
                    } else {
                        (0, 0)
                    };
                    let order = OrderInput {
                        amount: Fen::new(amount),
                        platform_match: Fen::new(i64::try_from(pm).unwrap_or(0)),
                        merchant_match: Fen::new(i64::try_from(mm).unwrap_or(0)),
                        ..OrderInput::default()
                    };
                    match engine.redeem_scanned(&cashiers[m].0, &code.code, order).await {
                        Ok(red) => {
                            if red.subsidy > red.face || red.subsidy.as_i64() > amount {
                                return Err(format!(
                                    "step {step}: subsidy {} above face {} or order {amount}",
                                    red.subsidy, red.face
                                ));
                            }
                            // Any earlier redemption of this voucher must have been reversed.
                            for (id, x) in &redeemed_ids {
                                if *x == v && store.redemption_by_id(*id).await.map_err(|x| e(&x))?.state == "standing"
                                {
                                    return Err(format!("step {step}: voucher {v} redeemed while {id} still stands"));
                                }
                            }
                            redeemed_ids.insert(red.id, v);
                            format!("redeem {v} at {m} for {amount}: subsidy {}", red.subsidy)
                        }
                        Err(x) => format!("redeem {v} at {m} for {amount}: {}", quan_engine::Rejection::code(&x)),
                    }
                }
                Err(x) => format!("code of {v}: {}", quan_engine::Rejection::code(&x)),
            }
        } else if roll < 78 && !redeemed_ids.is_empty() {
            let ids: Vec<uuid::Uuid> = {
                let mut v: Vec<_> = redeemed_ids.keys().copied().collect();
                v.sort();
                v
            };
            let id = ids[usize::try_from(dice.below(ids.len() as u64)).unwrap_or(0)];
            let red = store.redemption_by_id(id).await.map_err(|x| e(&x))?;
            let m = merchants.iter().position(|x| *x == red.merchant_id).unwrap_or(0);
            let left = red.order.as_i64() - red.refunded.as_i64();
            let amount = if dice.below(3) == 0 {
                left
            } else {
                i64::try_from(dice.below(u64::try_from(left.max(1)).unwrap_or(1))).unwrap_or(0) + 1
            };
            match engine.refund(&cashiers[m].1, id, Fen::new(amount)).await {
                Ok((after, f)) => format!(
                    "refund {amount} of {id}: returned {} back {} now {}",
                    f.subsidy_returned, f.voucher_back, after.state
                ),
                Err(x) => format!("refund {amount} of {id}: {}", quan_engine::Rejection::code(&x)),
            }
        } else if roll < 84 {
            let m = usize::try_from(dice.below(merchants.len() as u64)).unwrap_or(0);
            let action = if dice.below(2) == 0 { ReviewAction::Suspend } else { ReviewAction::Reinstate };
            match engine.review_merchant(&operator, merchants[m], action, "sim").await {
                Ok(_) => format!("{action:?} merchant {m}"),
                Err(x) => format!("{action:?} merchant {m}: {}", quan_engine::Rejection::code(&x)),
            }
        } else if roll < 92 {
            let hours = 1 + dice.below(30);
            clock.advance(chrono::Duration::hours(i64::try_from(hours).unwrap_or(1)));
            let ex = engine.expire_campaign(c.id).await.map_err(|x| e(&x))?;
            format!("+{hours} h, expired {}", ex.vouchers)
        } else if roll < 96 {
            decide_a_hold(&engine, &operator, &mut dice).await?
        } else {
            let today = clock.now().with_timezone(&quan_domain::UTC8).date_naive();
            let day = today - chrono::Duration::days(1);
            match engine.settle(day).await {
                Ok(run) => format!("settle {day}: {} new", run.new.len()),
                Err(x @ quan_engine::settlement::SettlementError::DayNotOver(..)) => format!("settle {day}: {x}"),
                Err(x) => return Err(format!("step {step}: settling {day} failed: {x}\n{}", log.join("\n"))),
            }
        };
        log.push(format!("{step}: {what}"));
        let audit = engine.audit_campaign_unchecked(c.id).await.map_err(|x| e(&x))?;
        if !audit.is_clean() {
            return Err(format!("after step {step} the audit found {:?}\n{}", audit.findings, log.join("\n")));
        }
        if claims > stock || store.claim_count(batch).await.map_err(|x| e(&x))? != claims {
            return Err(format!(
                "after step {step}: {claims} claims acknowledged for stock {stock}\n{}",
                log.join("\n")
            ));
        }
        if store.residents_over_limit(batch, 2).await.map_err(|x| e(&x))? > 0 {
            return Err(format!("after step {step}: a resident is over the limit\n{}", log.join("\n")));
        }
    }
    // Close-out: every merchant reinstated, every voucher past validity,
    // every day settled; then the campaign closes and returns the rest.
    for m in &merchants {
        let _ = engine.review_merchant(&operator, *m, ReviewAction::Reinstate, "sim end").await;
    }
    clock.advance(chrono::Duration::days(5));
    let official =
        staff(store.user_by_username(&Username::parse("sim.official").map_err(|x| e(&x))?).await.map_err(|x| e(&x))?);
    engine.change_campaign(&official, c.id, Cmd::BeginClosing, "").await.map_err(|x| e(&x))?;
    // Open holds keep the campaign from closing until each is decided.
    let open = engine.risk_holds(&operator).await.map_err(|x| e(&x))?;
    if !open.is_empty() {
        match engine.change_campaign(&official, c.id, Cmd::Close, "").await {
            Err(x) if x.to_string().contains("risk review") => {}
            other => return Err(format!("closing with {} open holds: {other:?}\n{}", open.len(), log.join("\n"))),
        }
        for h in &open {
            let outcome = quan_engine::risk::holds::HoldOutcome::Release;
            engine.decide_risk_hold(&operator, h.redemption.id, outcome, "sim end").await.map_err(|x| e(&x))?;
        }
    }
    let today = clock.now().with_timezone(&quan_domain::UTC8).date_naive();
    let mut day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    while day < today {
        engine.settle(day).await.map_err(|x| format!("settling {day} at the end: {x}\n{}", log.join("\n")))?;
        day = day.succ_opt().unwrap_or(day);
    }
    let closed = engine.change_campaign(&official, c.id, Cmd::Close, "").await;
    if let Err(x) = closed {
        return Err(format!("close-out refused: {x}\n{}", log.join("\n")));
    }
    let audit = engine.audit_campaign_unchecked(c.id).await.map_err(|x| e(&x))?;
    let b = audit.balances;
    if !audit.is_clean()
        || b.available != 0
        || b.reserved != 0
        || b.payable != 0
        || b.held != 0
        || b.risk_held != 0
        || b.recoverable > 0
        || b.returned + b.paid + b.recoverable != i128::from(budget)
    {
        return Err(format!("after close-out: {:?} findings {:?}\n{}", b, audit.findings, log.join("\n")));
    }
    if std::env::var("QUAN_SIM_LOG").is_ok() {
        eprintln!("seed {seed}:\n{}", log.join("\n"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sequences_of_money_movements_always_balance_to_the_fen() {
    let seeds: Vec<u64> = match std::env::var("QUAN_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(one) => vec![one],
        None => {
            let n: u64 = std::env::var("QUAN_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
            (1..=n).collect()
        }
    };
    let mut failed = Vec::new();
    for seed in &seeds {
        if let Err(why) = run_seed(*seed).await {
            failed.push(format!(
                "seed {seed} (replay: QUAN_SIM_SEED={seed} cargo test -p quan --test it simulation): {why}"
            ));
            break;
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    eprintln!("{} seeds balanced", seeds.len());
}
