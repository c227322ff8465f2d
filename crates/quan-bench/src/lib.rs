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
mod grab_sim;
mod http;
mod load;
mod redeem;
mod report;
mod run;
mod setup;

pub use cli::{BenchCmd, SimulateCmd};
use cli::{ClaimArgs, DistrictsArgs, RedeemArgs, ReportArgs};

/// Runs one benchmark; its report (text, or JSON with `--json`).
pub async fn run(cmd: BenchCmd) -> anyhow::Result<String> {
    match cmd {
        BenchCmd::Claim(a) => claim(a).await,
        BenchCmd::Redeem(a) => redeem(a).await,
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
    }
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
