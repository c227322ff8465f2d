//! `quan simulate grab`: a seeded city grab through the real engine, with
//! humans and bot operators, every account labelled; per kind the share of
//! attempts and of vouchers won, humans who met a refusal for a risk
//! signal, and the fairness figure (humans' share of the stock with bots,
//! over their share without).

mod actors;
mod drive;
mod population;
mod report;
mod wire;

pub use report::text;

use std::collections::{HashMap, HashSet};

use population::{Dice, Kind, Mix, population};
use quan_engine::Random as _;
use serde::Serialize;

pub use population::Mix as GrabMix;

/// What `quan simulate grab` runs.
#[derive(Debug, Clone, Serialize)]
pub struct GrabSim {
    pub mix: Mix,
    pub stock: u32,
    pub window_s: u32,
    /// The batch asks for proof of work.
    pub pow: bool,
    /// The batch asks for a real-name check, which every human passed and
    /// this share of the card farm's and the GPU solver's accounts (SIM
    /// cards registered to people whose names and ID numbers they hold).
    pub real_name: Option<f64>,
    pub seed: u64,
    pub seeds: u32,
    /// Every challenge and claim as an HTTP request to the real server
    /// (else straight into the engine).
    pub http: bool,
}

/// One kind's figures over every seed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindFigures {
    pub kind: String,
    pub accounts: usize,
    pub attempts: usize,
    pub attempt_share: f64,
    pub won: usize,
    pub stock_share: f64,
    /// Vouchers won per account.
    pub win_rate: f64,
    /// `win_rate` over the win rate of humans who pressed inside the window.
    pub over_window_human: f64,
    /// Accounts that met a harder challenge (signals) or a rate limit.
    pub hindered: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrabReport {
    pub sim: GrabSim,
    pub kinds: Vec<KindFigures>,
    /// Humans whose first press came inside the window, and their win rate.
    pub humans_in_window: usize,
    pub human_in_window_win_rate: f64,
    /// Humans' share of the stock with bots / without bots.
    pub fairness: f64,
    /// The best bot kind's win rate over the humans' (all) and over the
    /// humans' who pressed inside the window (same timing chance).
    pub bot_over_human: f64,
    pub bot_over_window_human: f64,
    /// Share of humans who met a refusal for a risk signal.
    pub humans_refused_share: f64,
    pub seconds: f64,
}

/// Runs `seeds` grabs with the bots and as many without, through the engine.
pub async fn run(sim: GrabSim, progress: bool) -> anyhow::Result<GrabReport> {
    let started = std::time::Instant::now();
    let bar = crate::cli::bar(progress, u64::from(sim.seeds) * 2, "grabs simulated");
    let (mut per_kind, mut human_alone, mut stock_total) = (HashMap::<Kind, KindFigures>::new(), 0usize, 0u64);
    let (mut in_window, mut in_window_won) = (0usize, 0usize);
    for s in 0..u64::from(sim.seeds) {
        let seed = sim.seed.wrapping_add(s);
        let with = one(&sim, &sim.mix, seed).await?;
        bar.inc(1);
        let alone = one(&sim, &sim.mix.without_bots(), seed).await?;
        bar.inc(1);
        human_alone += alone.won.get(&Kind::Human).copied().unwrap_or(0);
        stock_total += u64::from(sim.stock);
        in_window += with.humans_in_window;
        in_window_won += with.humans_in_window_won;
        for k in Kind::ALL {
            let f =
                per_kind.entry(k).or_insert_with(|| KindFigures { kind: k.name().into(), ..KindFigures::default() });
            f.accounts += with.accounts.get(&k).copied().unwrap_or(0);
            f.attempts += with.attempts.get(&k).copied().unwrap_or(0);
            f.won += with.won.get(&k).copied().unwrap_or(0);
            f.hindered += with.hindered.get(&k).copied().unwrap_or(0);
        }
    }
    bar.finish_and_clear();
    Ok(report(sim, per_kind, human_alone, stock_total, (in_window, in_window_won), started.elapsed().as_secs_f64()))
}

fn report(
    sim: GrabSim,
    per_kind: HashMap<Kind, KindFigures>,
    human_alone: usize,
    stock_total: u64,
    (in_window, in_window_won): (usize, usize),
    seconds: f64,
) -> GrabReport {
    let attempts: usize = per_kind.values().map(|f| f.attempts).sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let mut kinds: Vec<KindFigures> = Kind::ALL.iter().filter_map(|k| per_kind.get(k).cloned()).collect();
    for f in &mut kinds {
        f.attempt_share = ratio(f.attempts as f64, attempts as f64);
        f.stock_share = ratio(f.won as f64, stock_total as f64);
        f.win_rate = ratio(f.won as f64, f.accounts as f64);
        f.over_window_human = ratio(f.win_rate, ratio(in_window_won as f64, in_window as f64));
    }
    let human = kinds.first().cloned().unwrap_or_default();
    let best_bot = kinds.iter().skip(1).filter(|f| f.accounts > 0).map(|f| f.win_rate).fold(0.0, f64::max);
    let window_rate = ratio(in_window_won as f64, in_window as f64);
    GrabReport {
        fairness: ratio(human.won as f64, human_alone as f64),
        bot_over_human: ratio(best_bot, human.win_rate),
        bot_over_window_human: ratio(best_bot, window_rate),
        humans_in_window: in_window,
        human_in_window_win_rate: window_rate,
        humans_refused_share: ratio(human.hindered as f64, human.accounts as f64),
        kinds,
        sim,
        seconds,
    }
}

/// One grab's counts per kind.
struct Tally {
    accounts: HashMap<Kind, usize>,
    attempts: HashMap<Kind, usize>,
    won: HashMap<Kind, usize>,
    hindered: HashMap<Kind, usize>,
    humans_in_window: usize,
    humans_in_window_won: usize,
}

async fn one(sim: &GrabSim, mix: &Mix, seed: u64) -> anyhow::Result<Tally> {
    let random = quan_engine::SeededRandom::new(seed);
    let (accounts, attempts) = population(mix, &Dice(&random));
    let checked: Option<Vec<bool>> = sim.real_name.map(|share| {
        accounts
            .iter()
            .map(|a| match a.kind {
                Kind::Human => true,
                Kind::Card | Kind::Gpu => random.u64() % 10_000 < (share * 10_000.0) as u64,
                Kind::Farm | Kind::Replay => false,
            })
            .collect()
    });
    let setup = drive::Setup {
        seed,
        stock: sim.stock,
        window_s: sim.window_s,
        pow: sim.pow,
        real_name: checked.as_deref(),
        http: sim.http,
    };
    let outcome = drive::grab(setup, &accounts, &attempts).await?;
    let mut t = Tally {
        accounts: HashMap::new(),
        attempts: HashMap::new(),
        won: HashMap::new(),
        hindered: HashMap::new(),
        humans_in_window: 0,
        humans_in_window_won: 0,
    };
    let window_ms = i64::from(sim.window_s) * 1000;
    let mut first_press: HashMap<usize, i64> = HashMap::new();
    for a in &attempts {
        let e = first_press.entry(a.account).or_insert(a.at_ms);
        *e = (*e).min(a.at_ms);
    }
    let mut winners = HashSet::new();
    for ans in &outcome.answers {
        let kind = accounts[ans.attempt.account].kind;
        *t.attempts.entry(kind).or_default() += 1;
        if ans.code == "claimed" && winners.insert(ans.attempt.account) {
            *t.won.entry(kind).or_default() += 1;
        }
    }
    for (i, a) in accounts.iter().enumerate() {
        *t.accounts.entry(a.kind).or_default() += 1;
        if outcome.harder[i] {
            *t.hindered.entry(a.kind).or_default() += 1;
        }
        if a.kind == Kind::Human && first_press.get(&i).is_some_and(|t| *t < window_ms) {
            t.humans_in_window += 1;
            t.humans_in_window_won += usize::from(winners.contains(&i));
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(http: bool) -> GrabSim {
        GrabSim {
            mix: Mix {
                humans: 300,
                farm: 30,
                card: 10,
                replay: 10,
                gpu: 10,
                human_press_max_s: 8.0,
                nat_share: 0.6,
                phones_per_nat_address: 50,
                human_virtual_share: 0.03,
                retry_share: 0.2,
            },
            stock: 60,
            window_s: 3,
            pow: true,
            real_name: None,
            seed: 7,
            seeds: 1,
            http,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_grab_over_http_is_answered_as_straight_into_the_engine() {
        let direct = run(small(false), false).await.unwrap_or_else(|e| panic!("{e}"));
        let wire = run(small(true), false).await.unwrap_or_else(|e| panic!("{e}"));
        // The same people at the same instants; only the order in which a
        // slice's concurrent answers come back (and so a retry's turn) may differ.
        for (d, w) in direct.kinds.iter().zip(&wire.kinds) {
            assert_eq!(d.kind, w.kind);
            assert!(d.won.abs_diff(w.won) <= 2, "{}: {} won directly, {} over HTTP", d.kind, d.won, w.won);
            assert!(
                d.attempts.abs_diff(w.attempts) * 50 <= d.attempts.max(50),
                "{}: {} vs {} attempts",
                d.kind,
                d.attempts,
                w.attempts
            );
        }
        let won: usize = wire.kinds.iter().map(|k| k.won).sum();
        assert_eq!(won, 60, "the stock is all taken");
        let humans = &wire.kinds[0];
        assert!(humans.won >= 40, "humans keep most of the stock: {:?}", wire.kinds);
        assert!(wire.humans_refused_share <= 0.02, "{}", wire.humans_refused_share);
    }
}
