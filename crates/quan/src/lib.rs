//! The `quan` command: parses the command line and configuration, then hands
//! over to the engine and the HTTP server.

pub mod cli;
pub mod commands;
pub mod config;
pub mod files;
pub mod setup;

use std::io::Write;
use std::path::PathBuf;

use cli::{AdminCommand, AdmissionCmd, AuditCmd, BatchCmd, Cli, Command, ImportCmd, LotteryCmd, ReportCmd, SettleCmd};
use config::Overrides;

/// Runs one command line; the caller turns an error into exit status 1.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let demo_dir = cli.global.data_dir.clone();
    let overrides =
        Overrides { listen, database_url: cli.global.database_url.clone(), data_dir: cli.global.data_dir.clone() };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let mut loaded = config::load(cli.global.config.as_deref(), &env, &overrides)?;
    if matches!(cli.command, Command::Demo { .. }) && std::env::var_os("RUST_LOG").is_none() {
        // The demo prints its own progress; only warnings and errors are logged
        // (not each statement that waited for SQLite's one writer during the grab).
        loaded.config.log.level = "warn,sqlx::query=error".into();
    }
    setup::init_logging(&loaded.config);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let printed = execute(&loaded.config, cli.command, demo_dir).await?;
    std::io::stdout().lock().write_all(printed.text.as_bytes())?;
    match printed.failed {
        Some(why) => anyhow::bail!("{why}"),
        None => Ok(()),
    }
}

/// What a command prints, and why it fails after printing (exit status 1).
struct Printed {
    text: String,
    failed: Option<&'static str>,
}

impl Printed {
    fn ok(text: String) -> anyhow::Result<Printed> {
        Ok(Printed { text, failed: None })
    }

    /// `text`, failing with `why` unless `ok`.
    fn unless(text: String, ok: bool, why: &'static str) -> anyhow::Result<Printed> {
        Ok(Printed { text, failed: (!ok).then_some(why) })
    }
}

/// Runs one subcommand with its configuration.
async fn execute(config: &config::Config, command: Command, demo_dir: Option<PathBuf>) -> anyhow::Result<Printed> {
    match command {
        Command::Serve { .. } => commands::serve::run(config).await.and_then(|()| Printed::ok(String::new())),
        Command::Migrate => {
            setup::open_store(config).await?;
            Printed::ok(format!("the schema of {} is up to date\n", setup::describe_database(config)))
        }
        Command::Campaign(c) => Printed::ok(commands::campaign::dispatch(config, c).await?),
        Command::Batch(BatchCmd::Draw { id, as_user }) => {
            Printed::ok(commands::campaign::draw(config, &id, &as_user).await?)
        }
        Command::Lottery(LotteryCmd::Verify { file }) => Printed::ok(commands::campaign::verify(&file)?),
        Command::Admission(AdmissionCmd::Verify { file }) => Printed::ok(commands::admission::verify(&file)?),
        Command::Import(c) => import(config, c).await,
        Command::Bench(cmd) => Printed::ok(quan_bench::run(cmd).await?),
        Command::Simulate(cmd) => Printed::ok(quan_bench::simulate(cmd).await?),
        Command::Settle { cmd, date, out } => settle(config, cmd, date, &out).await,
        Command::Audit(AuditCmd::Verify { campaign }) => {
            let (out, clean) = commands::audit::verify(config, campaign.as_deref()).await?;
            Printed::unless(out, clean, "the audit found differences")
        }
        Command::Demo { residents, merchants, shops, connections, seed, serve, listen, quiet, partner } => {
            let o = commands::demo::DemoOptions {
                data_dir: demo_dir.unwrap_or_else(|| PathBuf::from("./quan-demo")),
                residents: residents.max(100),
                merchants: merchants.max(20),
                shops: shops.clamp(3, 1_000),
                connections: connections.max(1),
                seed,
                serve: serve.then_some(listen),
                progress: !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
                steps: !quiet,
                partner,
            };
            Printed::ok(commands::demo::run(config, &o).await?)
        }
        Command::Report(c) => report(config, c).await,
        Command::Risk(c) => {
            let (text, ok) = commands::risk::dispatch(config, c).await?;
            Printed::unless(text, ok, "the evidence package does not verify (above)")
        }
        Command::Partner(c) => Printed::ok(commands::partner::dispatch(config, c).await?),
        Command::Openapi => Printed::ok(quan_http::openapi_json()),
        Command::Config => Printed::ok(config.to_redacted_toml()),
        Command::Admin(AdminCommand::CreateUser { role, region, username, display_name, password_stdin }) => {
            let args = commands::admin::CreateUser { role, region, username, display_name, password_stdin };
            Printed::ok(commands::admin::create_user(config, args, &mut std::io::stdin().lock()).await?)
        }
    }
}

async fn import(config: &config::Config, c: ImportCmd) -> anyhow::Result<Printed> {
    match c {
        ImportCmd::Merchants { file, as_user, approve, quiet } => {
            let progress = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
            Printed::ok(commands::import::merchants(config, &file, &as_user, approve, progress).await?.0)
        }
        ImportCmd::List { file, name, batch, as_user } => {
            Printed::ok(commands::import::list(config, &file, &name, batch.as_deref(), &as_user).await?)
        }
        ImportCmd::Districts { files, crs } => Printed::ok(commands::import::districts(config, &files, &crs).await?),
    }
}

async fn settle(
    config: &config::Config,
    cmd: Option<SettleCmd>,
    date: Option<String>,
    out: &std::path::Path,
) -> anyhow::Result<Printed> {
    match cmd {
        Some(SettleCmd::Confirm { file }) => {
            let (text, ok) = commands::settle::confirm(config, &file).await?;
            Printed::unless(text, ok, "the bank's confirmation differs from the settlements (above)")
        }
        Some(SettleCmd::Reconcile { file }) => {
            let (text, ok) = commands::settle::reconcile(config, &file).await?;
            Printed::unless(text, ok, "the bill differs from the redemptions (above)")
        }
        None => {
            let Some(date) = date else { anyhow::bail!("say which business day: quan settle --date 2026-12-05") };
            Printed::ok(commands::settle::run(config, &date, out).await?)
        }
    }
}

async fn report(config: &config::Config, c: ReportCmd) -> anyhow::Result<Printed> {
    match c {
        ReportCmd::Daily { campaign, date, out, verify } => {
            let (text, ok) = commands::report::daily(config, &campaign, &date, &out, verify).await?;
            Printed::unless(text, ok, "the stored report differs from a rebuild (above)")
        }
        ReportCmd::Final { batch, date, as_user, out } => {
            Printed::ok(commands::report::batch_final(config, &batch, &date, &as_user, &out).await?)
        }
    }
}
