//! `quan simulate grab`: a seeded city grab through the real engine, with
//! humans and bot operators, every account labelled; per kind the share of
//! attempts and of vouchers won, humans who met a refusal for a risk
//! signal, and the fairness figure (humans' share of the stock with bots,
//! over their share without).

mod drive;
mod population;

use std::collections::{HashMap, HashSet};

use population::{Dice, Kind, Mix, population};
use serde::Serialize;

pub use population::Mix as GrabMix;

/// Refusals that come from risk control, not from the stock or the rules.
const RISK_CODES: [&str; 6] = [
    "rate_limited",
    "challenge_required",
    "challenge_failed",
    "challenge_too_easy",
    "identity_unverified",
    "risk_refused",
];

/// What `quan simulate grab` runs.
#[derive(Debug, Clone, Serialize)]
pub struct GrabSim {
    pub mix: Mix,
    pub stock: u32,
    pub window_s: u32,
    pub seed: u64,
    pub seeds: u32,
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
    /// Accounts refused at least once for a risk signal.
    pub risk_refused: usize,
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
            f.risk_refused += with.risk_refused.get(&k).copied().unwrap_or(0);
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
        humans_refused_share: ratio(human.risk_refused as f64, human.accounts as f64),
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
    risk_refused: HashMap<Kind, usize>,
    humans_in_window: usize,
    humans_in_window_won: usize,
}

async fn one(sim: &GrabSim, mix: &Mix, seed: u64) -> anyhow::Result<Tally> {
    let random = quan_engine::SeededRandom::new(seed);
    let (accounts, attempts) = population(mix, &Dice(&random));
    let answers = drive::grab(seed, sim.stock, sim.window_s, &accounts, &attempts).await?;
    let mut t = Tally {
        accounts: HashMap::new(),
        attempts: HashMap::new(),
        won: HashMap::new(),
        risk_refused: HashMap::new(),
        humans_in_window: 0,
        humans_in_window_won: 0,
    };
    for a in &accounts {
        *t.accounts.entry(a.kind).or_default() += 1;
    }
    let window_ms = i64::from(sim.window_s) * 1000;
    let mut first_press: HashMap<usize, i64> = HashMap::new();
    let (mut winners, mut refused) = (HashSet::new(), HashSet::new());
    for a in &attempts {
        let e = first_press.entry(a.account).or_insert(a.at_ms);
        *e = (*e).min(a.at_ms);
    }
    for ans in &answers {
        let kind = accounts[ans.attempt.account].kind;
        *t.attempts.entry(kind).or_default() += 1;
        if ans.code == "claimed" && winners.insert(ans.attempt.account) {
            *t.won.entry(kind).or_default() += 1;
        }
        if RISK_CODES.contains(&ans.code.as_str()) && refused.insert(ans.attempt.account) {
            *t.risk_refused.entry(kind).or_default() += 1;
        }
    }
    for (i, a) in accounts.iter().enumerate() {
        if a.kind == Kind::Human && first_press.get(&i).is_some_and(|t| *t < window_ms) {
            t.humans_in_window += 1;
            t.humans_in_window_won += usize::from(winners.contains(&i));
        }
    }
    Ok(t)
}

/// The report as text.
pub fn text(r: &GrabReport) -> String {
    let m = &r.sim.mix;
    let mut out = format!(
        "quan simulate grab: {} seeds from {}, stock {}, window {} s; {} humans (press 0.2–{} s, {:.0} % behind NAT, {:.0} % virtual numbers, {:.0} % tap twice), bots: {} farm, {} card, {} replay, {} GPU ({:.1} s)\n\n",
        r.sim.seeds,
        r.sim.seed,
        r.sim.stock,
        r.sim.window_s,
        m.humans,
        m.human_press_max_s,
        m.nat_share * 100.0,
        m.human_virtual_share * 100.0,
        m.retry_share * 100.0,
        m.farm,
        m.card,
        m.replay,
        m.gpu,
        r.seconds
    );
    out.push_str(&format!(
        "{:<14} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>10}\n",
        "who", "accounts", "attempts", "% tries", "won", "% stock", "won/acct", "risk-refd"
    ));
    for f in &r.kinds {
        out.push_str(&format!(
            "{:<14} {:>9} {:>9} {:>8.1}% {:>8} {:>8.1}% {:>9.4} {:>10}\n",
            f.kind,
            f.accounts,
            f.attempts,
            f.attempt_share * 100.0,
            f.won,
            f.stock_share * 100.0,
            f.win_rate,
            f.risk_refused
        ));
    }
    out.push_str(&format!(
        "\nhumans pressing inside the window: {} (won/acct {:.4})\nbest bot kind's won/acct ÷ humans': {:.3} (all humans), {:.3} (humans inside the window)\nhumans refused for a risk signal: {:.2} %\nfairness (humans' share of the stock with bots ÷ without): {:.3}\n",
        r.humans_in_window, r.human_in_window_win_rate, r.bot_over_human, r.bot_over_window_human,
        r.humans_refused_share * 100.0, r.fairness
    ));
    out
}
