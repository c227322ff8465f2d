//! `quan simulate grab`'s report as text.

use super::GrabReport;

/// The report as text: the run's settings, one line per kind, the figures.
pub fn text(r: &GrabReport) -> String {
    let m = &r.sim.mix;
    let mut out = format!(
        "quan simulate grab{}: {} seeds from {}, stock {}, window {} s, proof of work {}{}; {} humans (press 0.2–{} s, \
         {:.0} % behind NAT, {:.0} % virtual numbers, {:.0} % tap twice), bots: {} farm, {} card, {} replay, {} GPU ({:.1} s)\n\n",
        if r.sim.http { " over HTTP" } else { "" },
        r.sim.seeds,
        r.sim.seed,
        r.sim.stock,
        r.sim.window_s,
        if r.sim.pow { "on" } else { "off" },
        r.sim
            .real_name
            .map_or_else(String::new, |s| format!(", real-name check (bots passing it: {:.0} %)", s * 100.0)),
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
        "{:<14} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
        "who", "accounts", "attempts", "% tries", "won", "% stock", "won/acct", "÷ window", "hindered"
    ));
    for f in &r.kinds {
        out.push_str(&format!(
            "{:<14} {:>9} {:>9} {:>8.1}% {:>8} {:>8.1}% {:>9.4} {:>9.3} {:>9}\n",
            f.kind,
            f.accounts,
            f.attempts,
            f.attempt_share * 100.0,
            f.won,
            f.stock_share * 100.0,
            f.win_rate,
            f.over_window_human,
            f.hindered
        ));
    }
    out.push_str(&format!(
        "\n(÷ window: won/acct over that of the humans who pressed inside the window, the ones a bot races)\n\
         humans pressing inside the window: {} (won/acct {:.4})\n\
         best bot kind's won/acct ÷ humans': {:.3} (all humans), {:.3} (humans inside the window)\n\
         humans who met a harder challenge or a rate limit: {:.2} %\n\
         fairness (humans' share of the stock with bots ÷ without): {:.3}\n",
        r.humans_in_window,
        r.human_in_window_win_rate,
        r.bot_over_human,
        r.bot_over_window_human,
        r.humans_refused_share * 100.0,
        r.fairness
    ));
    out
}
