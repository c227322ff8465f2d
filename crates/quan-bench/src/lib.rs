//! `quan bench …`: the benchmarks, each against the peer approach in the
//! same run, with the invariants checked after each leg. Reached through
//! the `quan` binary (the HTTP legs start `quan serve` from it).
// Rates, latencies and CPU shares are measurements, never money.
#![allow(clippy::float_arithmetic)]

mod claim;
pub mod cli;
mod cpu;
mod crash;
mod defended;
mod districts;
mod floor;
mod fraud_sim;
mod grab_sim;
mod http;
mod load;
mod partner;
mod redeem;
mod report;
mod run;
mod setup;

pub use cli::{BenchCmd, SimulateCmd};
use cli::{ClaimArgs, DistrictsArgs, PartnerArgs, RedeemArgs, ReportArgs};

/// Runs one benchmark; its report (text, or JSON with `--json`).
pub async fn run(cmd: BenchCmd) -> anyhow::Result<String> {
    match cmd {
        BenchCmd::Claim(a) => claim(a).await,
        BenchCmd::Redeem(a) => redeem(a).await,
        BenchCmd::Partner(a) => partner(a).await,
        BenchCmd::Report(a) => report(a).await,
        BenchCmd::HttpFloor { listen } => floor::floor_server(listen).await.map(|()| String::new()),
        BenchCmd::Districts(DistrictsArgs { json, points, geojson_dir, seed }) => {
            districts::districts(&geojson_dir, points, seed, json)
        }
    }
}

/// Runs one simulation; its report (text, or JSON with `--json`).
pub async fn simulate(cmd: SimulateCmd) -> anyhow::Result<String> {
    match cmd {
        SimulateCmd::Grab(a) => {
            let mix = grab_sim::GrabMix {
                humans: a.humans,
                farm: a.farm,
                card: a.card,
                replay: a.replay,
                gpu: a.gpu,
                human_press_max_s: a.human_press_max_s,
                nat_share: a.nat_share,
                phones_per_nat_address: a.phones_per_nat_address,
                human_virtual_share: a.human_virtual_share,
                retry_share: a.retry_share,
            };
            anyhow::ensure!(
                a.seeds >= 1 && a.stock >= 1 && a.humans >= 1,
                "--seeds, --stock and --humans are at least 1"
            );
            anyhow::ensure!(
                a.window_s <= quan_domain::admission::WINDOW_S_MAX,
                "--window-s is at most {}",
                quan_domain::admission::WINDOW_S_MAX
            );
            let sim = grab_sim::GrabSim {
                mix,
                stock: a.stock,
                window_s: a.window_s,
                pow: !a.no_pow,
                real_name: a.real_name.then_some(a.bot_real_name_share),
                seed: a.seed,
                seeds: a.seeds,
                http: a.http,
            };
            let r = grab_sim::run(sim, !a.json).await?;
            Ok(if a.json { serde_json::to_string_pretty(&r)? + "\n" } else { grab_sim::text(&r) })
        }
        SimulateCmd::Fraud(a) => fraud(a).await,
    }
}

async fn fraud(a: cli::FraudArgs) -> anyhow::Result<String> {
    let pairs = |s: &str| -> anyhow::Result<Vec<(usize, usize)>> {
        s.split(',')
            .filter(|x| !x.trim().is_empty())
            .map(|x| {
                let (r, m) = x
                    .trim()
                    .split_once('x')
                    .ok_or_else(|| anyhow::anyhow!("--rings takes RESIDENTSxSHOPS,…, e.g. 5x1,200x7, not `{x}`"))?;
                let (r, m): (usize, usize) = (r.parse()?, m.parse()?);
                anyhow::ensure!(
                    r >= 2 && m >= 1 && m <= r,
                    "a ring has at least 2 residents and 1 to that many shops, not `{x}`"
                );
                Ok((r, m))
            })
            .collect()
    };
    let farms: Vec<usize> = a
        .farms
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| x.trim().parse().map_err(|_| anyhow::anyhow!("--farms takes sizes, e.g. 12,25,50, not `{x}`")))
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!((1..=60).contains(&a.days), "--days is 1 to 60");
    anyhow::ensure!((1..=20).contains(&a.vouchers), "--vouchers is 1 to 20");
    anyhow::ensure!(
        a.honest_residents >= 100 && a.honest_shops >= 10,
        "--honest-residents is at least 100, --honest-shops at least 10"
    );
    for (name, v) in [("--ring-inside", a.ring_inside), ("--ring-hug", a.ring_hug), ("--honest-idle", a.honest_idle)] {
        anyhow::ensure!((0.0..=1.0).contains(&v), "{name} is a share from 0 to 1");
    }
    let mix = fraud_sim::FraudMix {
        honest_residents: a.honest_residents,
        honest_shops: a.honest_shops,
        vouchers: a.vouchers,
        rings: pairs(&a.rings)?,
        ring_inside: a.ring_inside,
        ring_hug: a.ring_hug,
        farms,
        price_raisers: a.price_raisers,
        honest_idle: a.honest_idle,
        days: a.days,
    };
    let sim =
        fraud_sim::FraudSim { mix, seed: a.seed, hold_rules: a.hold_rules, hold_settlement: !a.no_settlement_hold };
    let r = fraud_sim::run(sim, !a.json).await?;
    Ok(if a.json { serde_json::to_string_pretty(&r)? + "\n" } else { fraud_sim::text(&r) })
}

/// `--backend`: which databases a benchmark runs on.
fn backends(backend: &str) -> anyhow::Result<(bool, bool)> {
    match backend {
        "sqlite" => Ok((true, false)),
        "postgres" => Ok((false, true)),
        "both" => Ok((true, true)),
        other => anyhow::bail!("--backend is sqlite, postgres or both, not `{other}`"),
    }
}

async fn claim(a: ClaimArgs) -> anyhow::Result<String> {
    let per_person = match a.count_by.as_str() {
        "account" => false,
        "person" => true,
        other => anyhow::bail!("--count-by is account or person, not `{other}`"),
    };
    let residents = a.residents.unwrap_or(if a.crash.is_some() { 200_000 } else { 1_000_000 });
    let (sqlite, postgres) = backends(&a.backend)?;
    let backends: Vec<http::Backend> = [(sqlite, http::Backend::Sqlite), (postgres, http::Backend::Postgres)]
        .into_iter()
        .filter_map(|(on, b)| on.then_some(b))
        .collect();
    let h = http::HttpBench {
        stock: a.stock,
        residents,
        connections: a.connections,
        pg_admin_url: a.pg_url.clone(),
        memory_seconds: a.memory_seconds,
        keys: a.idempotency_keys,
        per_person,
        on_list: a.on_list,
        defences: a.defences,
    };
    if let Some(kills) = a.crash {
        return crash::crash(&h, &backends, kills, a.json).await;
    }
    let o = claim::ClaimBench {
        stock: a.stock,
        residents,
        concurrency: a.concurrency,
        peer_seconds: a.peer_seconds,
        pg_admin_url: a.pg_url,
        redis: a.redis,
        skip_peers: a.skip_peers,
        per_person,
        on_list: a.on_list,
        http: a.http.then_some((h, backends)),
    };
    claim::run(&o, a.json).await
}

async fn redeem(a: RedeemArgs) -> anyhow::Result<String> {
    let (sqlite, postgres) = backends(&a.backend)?;
    let (engine, http) = match a.legs.as_str() {
        "engine" => (true, false),
        "http" => (false, true),
        "both" => (true, true),
        other => anyhow::bail!("--legs is engine, http or both, not `{other}`"),
    };
    let o = redeem::RedeemBench {
        sqlite,
        postgres,
        engine,
        http,
        cashout: a.cashout,
        vouchers: a.vouchers,
        merchants: a.merchants.max(1),
        concurrency: a.concurrency.max(1),
        http_rate: a.http_rate,
        http_connections: a.http_connections.max(1),
        pg_admin_url: a.pg_url,
    };
    redeem::run(&o, a.json).await
}

async fn partner(a: PartnerArgs) -> anyhow::Result<String> {
    let (_, postgres) = backends(&a.backend)?;
    let o = partner::PartnerBench {
        per_leg: a.vouchers.max(1),
        merchants: a.merchants.max(1),
        connections: a.connections.max(1),
        postgres,
        pg_admin_url: a.pg_url,
    };
    partner::run(&o, a.json).await
}

async fn report(a: ReportArgs) -> anyhow::Result<String> {
    let (sqlite, postgres) = backends(&a.backend)?;
    let o = report::ReportBench {
        vouchers: a.vouchers.max(10),
        redemptions: a.redemptions.clamp(1, a.vouchers.max(10)),
        merchants: a.merchants.clamp(1, 100_000),
        sqlite,
        postgres,
        pg_admin_url: a.pg_url,
    };
    report::run(&o, a.json).await
}
