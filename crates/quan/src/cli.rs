//! The command line: subcommands and their flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "quan",
    version,
    about = "quan (券): run government consumption-voucher campaigns",
    long_about = "quan (券) runs government consumption-voucher campaigns: budgets, batches, flash claims, \
redemption with dynamic QR codes, settlement and audit.\n\n\
Configuration comes from defaults, then quan.toml (or --config), then QUAN_* environment \
variables (QUAN_SERVER_LISTEN, QUAN_DATABASE_URL, ...), then these flags.\n\
With no database URL, data lives in SQLite under --data-dir (default ./quan-data)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Configuration file (default: ./quan.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder for the SQLite database, keys and the SMS outbox.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://user@host:5432/db to use PostgreSQL instead of SQLite.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server until SIGTERM or Ctrl-C (then finish requests in flight).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Account administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Campaigns from the files officials keep in version control (see examples/).
    #[command(subcommand)]
    Campaign(CampaignCmd),
    /// Batches of a campaign.
    #[command(subcommand)]
    Batch(BatchCmd),
    /// Check a published lottery draw.
    #[command(subcommand)]
    Lottery(LotteryCmd),
    /// Check a grab's published admission window.
    #[command(subcommand)]
    Admission(AdmissionCmd),
    /// Bulk imports.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Benchmarks: quan against the peer approach, in one run, with ratios.
    #[command(subcommand)]
    Bench(quan_bench::BenchCmd),
    /// Seeded simulations through the real engine, with labelled actors.
    #[command(subcommand)]
    Simulate(quan_bench::SimulateCmd),
    /// Audits of the money.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Risk control after the grab: the nightly analysis, cases and their evidence.
    #[command(subcommand)]
    Risk(RiskCmd),
    /// Partners of the partner API (banks, payment institutions, city apps): register one with
    /// its first key, list them, add (rotate) or revoke keys, cut one off (熔断) or let it back,
    /// and print the platform key that signs every answer. See docs/PARTNERS.md.
    #[command(subcommand)]
    Partner(PartnerCmd),
    /// Settlement: pay merchants what business day D (UTC+8) left owed, once (`--date D`), import
    /// the bank's confirmation (`confirm FILE`) and reconcile a payment channel's bill
    /// (`reconcile FILE`). Suspended merchants are held, with the reason. Running a day twice
    /// pays nothing twice.
    Settle {
        #[command(subcommand)]
        cmd: Option<SettleCmd>,
        /// The business day to settle, e.g. 2026-12-05.
        #[arg(long)]
        date: Option<String>,
        /// Folder for the payout file `payout-D.csv`.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// The whole product on this machine: a Yichang campaign (¥10 000 000, a grab and a lottery)
    /// with merchants, residents, redemptions, refunds, T+1 reports, settlement and close-out, on a
    /// fresh SQLite file through the real HTTP API in compressed time. Prints a summary; files go
    /// to --data-dir (default ./quan-demo, replaced on the next run).
    Demo {
        /// Residents taking part (the grab's stock is 45 % of them).
        #[arg(long, default_value_t = 200_000)]
        residents: usize,
        /// Merchants in the bureau's CSV.
        #[arg(long, default_value_t = 2_000)]
        merchants: usize,
        /// Shops that take vouchers in the demo (each with an owner, a till and a cashier).
        #[arg(long, default_value_t = 60)]
        shops: usize,
        /// Keep-alive connections of the grab's load generator.
        #[arg(long, default_value_t = 500)]
        connections: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Keep serving when done (on --listen), so you can look around.
        #[arg(long)]
        serve: bool,
        /// Address for --serve.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
        /// Also run a fake bank against the partner API: its app's share of the vouchers, residents
        /// bound by one-time codes, claims through the bank, payments with vouchers (支付立减), a
        /// reverse, a refund, and signed webhooks to a receiver on this machine.
        #[arg(long)]
        partner: bool,
    },
    /// T+1 reports for officials.
    #[command(subcommand)]
    Report(ReportCmd),
    /// Print the OpenAPI 3.1 document (as committed in openapi.json).
    Openapi,
    /// Print the effective configuration, secrets hidden.
    Config,
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// The daily report of business day D (UTC+8) of a campaign: built and stored once the day is
    /// over (later calls return the stored snapshot, byte for byte), written as JSON, CSV and XLSX
    /// into --out. With --verify, the stored snapshot is also rebuilt from the database and
    /// compared (exit status 1 if it differs).
    Daily {
        #[arg(long, value_name = "CAMPAIGN_ID")]
        campaign: String,
        /// The business day, e.g. 2026-12-05.
        #[arg(long)]
        date: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
        #[arg(long)]
        verify: bool,
    },
    /// A batch's final report (批次总结) as of business day D: figures, trend, leading industries
    /// and districts, leverage, unspent face value; derived from D's stored daily report. Written
    /// as JSON and XLSX into --out.
    Final {
        #[arg(long, value_name = "BATCH_ID")]
        batch: String,
        #[arg(long)]
        date: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account, e.g. the first official of a city.
    CreateUser {
        /// official, auditor, operator or partner.
        #[arg(long)]
        role: String,
        /// GB/T 2260 prefix the account is confined to: 42 (province), 4205 (city), 420502 (district).
        #[arg(long)]
        region: String,
        /// Login name: lowercase letters, digits, '.', '_', '-'.
        #[arg(long)]
        username: String,
        /// Name shown in the interface (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CampaignCmd {
    /// Check a campaign file as creation would, without storing anything;
    /// warns when a district it names has no imported boundary (nobody could
    /// be located in it).
    Check {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Record money received from the treasury (in fen; the campaign is
    /// funded once its whole budget has arrived).
    Fund {
        id: String,
        #[arg(long, value_name = "FEN")]
        amount_fen: i64,
        /// A note kept with the event (e.g. the treasury's transfer number).
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Start a funded campaign: its batches open at their times.
    Start {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Begin closing: no new claims; vouchers already held may still be used until they expire.
    BeginClosing {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Close a campaign once nothing is reserved or owed; the rest returns to the treasury.
    Close {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Create a campaign and its batches from a TOML or JSON file.
    Create {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// The official (username) the campaign is created by; it must be inside their region.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Print a campaign with its batches as JSON.
    Show {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// List the campaigns inside a staff member's region.
    List {
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Write the close-out report (budget, claimed, redeemed, refunded, paid per merchant,
    /// returned) as XLSX and as PDF-ready HTML: final once the campaign is closed.
    Report {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// Folder for close-out-ID.xlsx and close-out-ID.html.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum BatchCmd {
    /// Run the draw of a lottery batch after its registration has closed, and print the result.
    #[command(alias = "open-lottery")]
    Draw {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdmissionCmd {
    /// Re-check a grab's fair admission window from its published record (the JSON of
    /// GET /api/v1/batches/{id}/admission, after the window): the seed against its commitment,
    /// every ticket against the seed, each node's order against the tickets. Exit status 1 on
    /// any difference.
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCmd {
    /// Run the nightly analysis now: rings in the resident–merchant graph, merchants hugging
    /// thresholds, hoarding cohorts, prices raised before a batch opened. Opens a case per
    /// finding (or records it again on the open one) and, with `[analysis] hold_settlement`,
    /// holds a ring's merchants' settlement at once.
    Analyse,
    /// List the cases (open ones only with --open).
    Cases {
        #[arg(long)]
        open: bool,
    },
    /// Write a case's evidence package into a new directory: summary.txt (Chinese), case.json,
    /// redemptions.csv, graph.json, graph.svg, and manifest.json (every file's SHA-256) signed
    /// with the deployment's SM2 key in manifest.sig.
    Export {
        /// The case's number (or id).
        #[arg(value_name = "CASE")]
        case: String,
        /// The directory to create.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Check an evidence package: every file against the manifest, the manifest's signature
    /// against this deployment's key. Exit status 1 on any difference.
    Verify {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print the deployment's public SM2 key (SEC1, hex) that signs evidence packages.
    PublicKey,
}

#[derive(Debug, Subcommand)]
pub enum PartnerCmd {
    /// Register a partner. With --public-key its first key is that SM2 public key (hex); without,
    /// an HMAC-SHA256 secret is made and printed this once.
    Create {
        /// Its name (unique), e.g. "宜昌银行".
        #[arg(long)]
        name: String,
        /// bank, payment, city_app or mini_program.
        #[arg(long)]
        kind: String,
        /// live, or test: its calls are answered by the sandbox (test data only, never live vouchers or money).
        #[arg(long, default_value = "live")]
        mode: String,
        /// Comma-separated: checkout, claim, bill.
        #[arg(long, default_value = "checkout")]
        scopes: String,
        /// An SM2 public key in hex (04‖x‖y, x‖y or compressed).
        #[arg(long)]
        public_key: Option<String>,
        /// The key's serial number as the partner names it (derived from the key when absent).
        #[arg(long)]
        serial_no: Option<String>,
        /// The official registering it.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// List the partners with their keys and status.
    List {
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Add a key (an SM2 public key, or a new HMAC secret printed once); the old keys keep working
    /// until revoked with --revoke.
    Rotate {
        /// The partner's id.
        id: String,
        #[arg(long)]
        public_key: Option<String>,
        #[arg(long)]
        serial_no: Option<String>,
        /// Revoke this serial number once the new key is added.
        #[arg(long, value_name = "SERIAL")]
        revoke: Option<String>,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Cut a partner off (熔断): every node refuses its calls within a second.
    Suspend {
        id: String,
        /// Why (kept with the partner).
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Let a cut-off partner back.
    Resume {
        id: String,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Print the platform key's serial number and SM2 public key (hex), to give partners out of band.
    PlatformKey,
}

#[derive(Debug, Subcommand)]
pub enum LotteryCmd {
    /// Re-run a draw from its published record (the JSON of
    /// GET /api/v1/batches/{id}/lottery): checks the seed against the commitment
    /// and the winners against the seed. Exit status 1 on any difference.
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import a list of people (lottery winners, a target group, excluded people) that batches
    /// name in `eligibility.lists`. The CSV has a header with an `id_number` or a `phone` column;
    /// only keyed hashes are stored, invalid rows are listed in FILE.errors.csv.
    List {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// The list's name, as batches refer to it.
        #[arg(long)]
        name: String,
        /// Check that this batch refers to the list.
        #[arg(long, value_name = "BATCH_ID")]
        batch: Option<String>,
        /// The official or operator (username) importing.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Import district boundaries: a GeoJSON FeatureCollection whose features carry their
    /// GB/T 2260 code (`id` or `properties.code`) and a Polygon or MultiPolygon. A district
    /// imported again gets the new boundary; the old one is kept in history.
    Districts {
        #[arg(value_name = "FILE.geojson", required = true)]
        files: Vec<PathBuf>,
        /// The coordinate system of the file: wgs84, gcj02 (as the shipped data) or bd09.
        #[arg(long, default_value = "gcj02")]
        crs: String,
    },
    /// Import merchants from a CSV file with the header
    /// legal_name,credit_code,industry,scale,address,address_district,lat,lng,contact_name,contact_phone,bank_name,account_name,account_number.
    /// Valid rows go in; refused rows are listed in FILE.errors.csv; merchants already registered are skipped.
    Merchants {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// The official or operator (username) importing; rows outside their region are refused.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// Import as approved (a bureau's vetted list) instead of pending review.
        #[arg(long)]
        approve: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettleCmd {
    /// Import the bank's confirmation (CSV: settlement_id,paid_fen,bank_ref); every mismatch is
    /// reported and makes the exit status 1.
    Confirm { file: PathBuf },
    /// Reconcile a payment channel's bill (CSV: order_id,amount,discount,time; yuan, RFC 3339)
    /// with the redemptions (账单核对): differences go to FILE.mismatches.csv, exit status 1.
    Reconcile { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the ledger: debits = credits, no account below its floor, running totals equal to
    /// the transfers, funded = available + reserved + payable + held + paid + recoverable +
    /// returned, the campaign's recorded funding, reserved = face value of claimed vouchers, each
    /// merchant's accounts = the subsidy its redemptions earn, matching memo accounts = the
    /// redemptions' matching discounts, paid = what settlements instructed, voucher states against
    /// their history. Exit status 1 on any difference, naming it.
    Verify {
        /// Only this campaign (default: every campaign).
        #[arg(long, value_name = "CAMPAIGN_ID")]
        campaign: Option<String>,
    },
}
