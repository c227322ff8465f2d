//! `quan bench …`: the subcommands and their flags.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Claims at the opening second: quan's engine on SQLite and on PostgreSQL (durable
    /// commits), each beside the database alone writing the same rows in transactions as large
    /// as the claims in flight allow, against the naive PostgreSQL hot row and the Redis Lua
    /// script (with `appendfsync always` and without persistence), with the invariants checked
    /// after each and, on each line, how busy the machine's cores were and its CPU per claim.
    Claim(ClaimArgs),
    /// Redemptions at the till: durable redemptions per second through the engine on SQLite and
    /// PostgreSQL (one transaction each: voucher state, redemption row, ledger transfers), and
    /// over HTTP on loopback paced at `--http-rate`, with the ledger checked after each run.
    Redeem(RedeemArgs),
    /// The partner API's checkout: signed quote → lock → confirm per second over HTTP (HMAC-SHA256
    /// and SM2-with-SM3) beside the till's redemption over HTTP in the same run, their ratios,
    /// the signature checks alone per second, and webhook deliveries per second to a local
    /// receiver. SQLite always; PostgreSQL too with --backend both.
    Partner(PartnerArgs),
    /// The HTTP floor's server, started by `quan bench claim --http`: axum answering every
    /// claim with a fixed 409 sold_out, with nothing of quan behind it. Runs until killed.
    #[command(hide = true)]
    HttpFloor {
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
    /// Point-in-district lookups: the grid + prepared-polygon index against a plain linear
    /// scan of the polygons, on the shipped boundaries (single thread).
    Districts(DistrictsArgs),
    /// The T+1 report at city scale: generates a campaign with this many vouchers and
    /// redemptions over 30 business days (2 000 merchants, 13 districts, 5 industries, 4 batches,
    /// refunds) on SQLite and PostgreSQL, and times building the last day's report.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// Print one JSON object of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 100_000)]
    pub stock: u32,
    /// Distinct residents (each tries once; a fifth of them try again) [default: 1000000;
    /// 200000 with `--crash`, whose server loads every resident's session again at each
    /// restart].
    #[arg(long)]
    pub residents: Option<usize>,
    /// Claims in flight at once against the engine.
    #[arg(long, default_value_t = 1_000)]
    pub concurrency: usize,
    /// How long each peer approach runs.
    #[arg(long, default_value_t = 5)]
    pub peer_seconds: u64,
    /// PostgreSQL server (a database is created and dropped).
    #[arg(long, env = "QUAN_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
    #[arg(long, default_value = "127.0.0.1:6379")]
    pub redis: String,
    /// Only quan's engine (and the HTTP runs, with `--http`).
    #[arg(long)]
    pub skip_peers: bool,
    /// Also run the grab end to end: the real server in its own process, claims over
    /// HTTP/1.1 keep-alive connections from a load generator, then sold-out answers, and
    /// the same sold-out load against a bare axum route with nothing of quan behind it
    /// (the HTTP floor of this machine).
    #[arg(long)]
    pub http: bool,
    /// HTTP connections of the load generator (`--http`, `--crash`).
    #[arg(long, default_value_t = 1_000)]
    pub connections: usize,
    /// Seconds of sold-out answers measured after the stock is gone, and of the HTTP
    /// floor (`--http`; 0 skips both).
    #[arg(long, default_value_t = 3)]
    pub memory_seconds: u64,
    /// Instead of measuring: run the grab against the real server, kill it with SIGKILL at
    /// random moments N times, restart it each time, then check that every acknowledged
    /// claim is on disk, nothing is oversold, nobody is over the limit and the ledger's
    /// reservation equals the claimed face value. Exit status 1 on any violation.
    #[arg(long, value_name = "N")]
    pub crash: Option<u32>,
    /// Backends for `--http` and `--crash`: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// Every HTTP claim carries its own `Idempotency-Key` (`--http`, `--crash`), as apps
    /// that retry safely send it.
    #[arg(long)]
    pub idempotency_keys: bool,
    /// The batch's limit counts claims per `account` (default) or per `person`: with
    /// `person` every resident has a verified identity (its ID hash), and each claim needs
    /// it, as in a campaign for registered households.
    #[arg(long, default_value = "account")]
    pub count_by: String,
    /// The batch is open only to the members of an imported list (by phone number), and
    /// every resident is on it, as in a campaign for a target group.
    #[arg(long)]
    pub on_list: bool,
    /// With `--http`: also the grab with the defences in the load, on each backend: the
    /// batch opens during the run with a 3 s fair admission window and proof of work (the
    /// server asks for 4 bits); every resident fetches and solves its challenge before the
    /// opening and presses at it. Claims per second from the window's end, and the ratio to
    /// the grab without them.
    #[arg(long)]
    pub defences: bool,
}

#[derive(Debug, Args)]
pub struct RedeemArgs {
    /// Print one JSON object of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    /// Vouchers claimed, then redeemed (per run).
    #[arg(long, default_value_t = 40_000)]
    pub vouchers: usize,
    #[arg(long, default_value_t = 20)]
    pub merchants: usize,
    /// Redemptions in flight at once against the engine (tills scanning at the same moment).
    #[arg(long, default_value_t = 1_024)]
    pub concurrency: usize,
    /// Redemptions per second sent over HTTP.
    #[arg(long, default_value_t = 5_000)]
    pub http_rate: u32,
    #[arg(long, default_value_t = 100)]
    pub http_connections: usize,
    /// Which backends to run: sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// Which legs to run: engine, http or both.
    #[arg(long, default_value = "both")]
    pub legs: String,
    /// Also the engine leg with the cash-out rules judging every redemption (counting and
    /// scoring; holding or refusing none of the benchmark's), and its ratio to the leg without.
    #[arg(long)]
    pub cashout: bool,
    /// PostgreSQL server (a database is created and dropped).
    #[arg(long, env = "QUAN_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
}

#[derive(Debug, Args)]
pub struct PartnerArgs {
    /// Print one JSON object of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    /// Vouchers each leg redeems (the till, HMAC, SM2).
    #[arg(long, default_value_t = 5_000)]
    pub vouchers: usize,
    #[arg(long, default_value_t = 20)]
    pub merchants: usize,
    /// Keep-alive connections per leg, each a closed loop.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// sqlite or both.
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    /// PostgreSQL server (a database is created and dropped).
    #[arg(long, env = "QUAN_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
}

#[derive(Debug, Args)]
pub struct DistrictsArgs {
    /// Print one JSON object of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    /// Random positions to look up.
    #[arg(long, default_value_t = 1_000_000)]
    pub points: usize,
    /// Folder of GeoJSON files (GCJ-02).
    #[arg(long, default_value = "data/regions/geojson")]
    pub geojson_dir: PathBuf,
    /// Seed of the random positions.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Print one JSON array of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 10_000_000)]
    pub vouchers: u64,
    #[arg(long, default_value_t = 5_000_000)]
    pub redemptions: u64,
    #[arg(long, default_value_t = 2_000)]
    pub merchants: u64,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// PostgreSQL server (a database is created and dropped).
    #[arg(long, env = "QUAN_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
}

/// `quan simulate …`: seeded simulations through the real engine.
#[derive(Debug, Subcommand)]
pub enum SimulateCmd {
    /// A city's grab with humans and bot operators (account farms on virtual numbers, card
    /// farms, replayers of device tokens, GPU solvers of the proof of work), every account
    /// labelled: per kind the share of attempts and of vouchers won, humans refused for a
    /// risk signal, and the fairness figure (humans' share of the stock with bots ÷ without).
    /// Each seed runs twice: with the bots and without.
    Grab(GrabArgs),
    /// A month of a city through the real engine with labelled fraud mixed into honest trade:
    /// cash-out rings (residents who spend their vouchers at a few complicit shops on orders
    /// just over the threshold), hoarding farms (accounts registered within minutes that claim
    /// and never redeem) and shops that raise a product's price before the trade-in batch.
    /// Every night the analysis runs and settlement pays; per pattern it prints recall,
    /// precision, honest actors flagged, the fraudulent subsidy held before it was paid and
    /// the hours from a ring's first fraudulent redemption to its hold.
    Fraud(FraudArgs),
}

#[derive(Debug, Args)]
pub struct FraudArgs {
    /// Print one JSON object of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[arg(long, default_value_t = 6_000)]
    pub honest_residents: usize,
    #[arg(long, default_value_t = 300)]
    pub honest_shops: usize,
    /// Vouchers (满100减20) each account claims.
    #[arg(long, default_value_t = 6)]
    pub vouchers: u32,
    /// Cash-out rings as RESIDENTSxSHOPS, comma-separated.
    #[arg(long, default_value = "5x1,12x2,30x3,80x5,200x7")]
    pub rings: String,
    /// Share of a ring member's vouchers spent at the ring's shops.
    #[arg(long, default_value_t = 0.85)]
    pub ring_inside: f64,
    /// Share of a ring's orders just over the threshold (within 2 %).
    #[arg(long, default_value_t = 0.9)]
    pub ring_hug: f64,
    /// Hoarding farms' sizes in accounts, comma-separated (the last one signs up in the
    /// opening rush, among honest sign-ups).
    #[arg(long, default_value = "12,25,50")]
    pub farms: String,
    /// Appliance shops that raise one to three products' prices 12–35 % in the three weeks
    /// before the trade-in batch opens.
    #[arg(long, default_value_t = 5)]
    pub price_raisers: usize,
    /// Share of honest residents who claim and never redeem.
    #[arg(long, default_value_t = 0.25)]
    pub honest_idle: f64,
    /// The rules at redemption hold (threshold hugging, repeat pair) instead of the default allow.
    #[arg(long)]
    pub hold_rules: bool,
    /// Cases do not hold their merchants' settlement (`[analysis] hold_settlement = false`).
    #[arg(long)]
    pub no_settlement_hold: bool,
}

#[derive(Debug, Args)]
pub struct GrabArgs {
    /// Print one JSON object of the figures on stdout.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seeds run (from `--seed` on).
    #[arg(long, default_value_t = 3)]
    pub seeds: u32,
    #[arg(long, default_value_t = 2_000)]
    pub stock: u32,
    /// The batch's fair admission window in seconds (0: first come, first served).
    #[arg(long, default_value_t = 3)]
    pub window_s: u32,
    /// The batch asks for no proof of work (and so no signal raises it).
    #[arg(long)]
    pub no_pow: bool,
    /// Send every challenge and claim to the real server over HTTP (loopback, one bearer
    /// token per account, its address in X-Forwarded-For and its device in Quan-Device),
    /// instead of straight into the engine.
    #[arg(long)]
    pub http: bool,
    /// The batch asks for a real-name check (三要素), which every human has passed.
    #[arg(long)]
    pub real_name: bool,
    /// With `--real-name`: the share of the card farm's and the GPU solver's accounts that
    /// pass it too (SIM cards registered to people whose names and ID numbers they hold).
    #[arg(long, default_value_t = 0.0)]
    pub bot_real_name_share: f64,
    #[arg(long, default_value_t = 20_000)]
    pub humans: usize,
    /// Accounts of a scripted farm on virtual numbers (fired at the opening millisecond).
    #[arg(long, default_value_t = 1_000)]
    pub farm: usize,
    /// Accounts of a card farm (real-looking numbers, a device each).
    #[arg(long, default_value_t = 500)]
    pub card: usize,
    /// Accounts of a replayer sharing five device tokens.
    #[arg(long, default_value_t = 200)]
    pub replay: usize,
    /// Accounts of a GPU solver behind residential proxies.
    #[arg(long, default_value_t = 300)]
    pub gpu: usize,
    /// Humans press uniformly from 0.2 s to this many seconds after the opening.
    #[arg(long, default_value_t = 8.0)]
    pub human_press_max_s: f64,
    /// Share of humans behind a carrier-grade NAT address.
    #[arg(long, default_value_t = 0.6)]
    pub nat_share: f64,
    /// Phones behind one NAT address on average.
    #[arg(long, default_value_t = 200)]
    pub phones_per_nat_address: usize,
    /// Share of humans whose number is in a virtual operator's range.
    #[arg(long, default_value_t = 0.03)]
    pub human_virtual_share: f64,
    /// Share of humans who tap twice.
    #[arg(long, default_value_t = 0.2)]
    pub retry_share: f64,
}

/// A progress bar on stderr when it is a terminal and `show`; hidden otherwise.
pub fn bar(show: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(len);
    b.set_message(what.to_owned());
    b
}
