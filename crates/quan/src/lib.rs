//! The `quan` command: parses the command line and configuration, then hands
//! over to the engine and the HTTP server.

pub mod cli;
pub mod commands;
pub mod config;
mod config_checks;
pub mod files;
pub mod setup;

use std::io::Write;

use cli::{AdminCommand, AuditCmd, BatchCmd, Cli, Command, ImportCmd, LotteryCmd, ReportCmd, SettleCmd};
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
    let config = loaded.config;
    let mut stdout = std::io::stdout().lock();
    match cli.command {
        Command::Serve { .. } => commands::serve::run(&config).await?,
        Command::Migrate => {
            setup::open_store(&config).await?;
            writeln!(stdout, "the schema of {} is up to date", setup::describe_database(&config))?;
        }
        Command::Campaign(c) => {
            let out = commands::campaign::dispatch(&config, c).await?;
            stdout.write_all(out.as_bytes())?;
        }
        Command::Batch(BatchCmd::Draw { id, as_user }) => {
            stdout.write_all(commands::campaign::draw(&config, &id, &as_user).await?.as_bytes())?;
        }
        Command::Lottery(LotteryCmd::Verify { file }) => {
            stdout.write_all(commands::campaign::verify(&file)?.as_bytes())?
        }
        Command::Import(ImportCmd::Merchants { file, as_user, approve, quiet }) => {
            let progress = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let (out, _) = commands::import::merchants(&config, &file, &as_user, approve, progress).await?;
            stdout.write_all(out.as_bytes())?;
        }
        Command::Import(ImportCmd::List { file, name, batch, as_user }) => {
            stdout.write_all(
                commands::import::list(&config, &file, &name, batch.as_deref(), &as_user).await?.as_bytes(),
            )?;
        }
        Command::Import(ImportCmd::Districts { files, crs }) => {
            stdout.write_all(commands::import::districts(&config, &files, &crs).await?.as_bytes())?;
        }
        Command::Bench(cmd) => stdout.write_all(quan_bench::run(cmd).await?.as_bytes())?,
        Command::Settle { cmd: Some(SettleCmd::Confirm { file }), .. } => {
            let (out, ok) = commands::settle::confirm(&config, &file).await?;
            stdout.write_all(out.as_bytes())?;
            if !ok {
                anyhow::bail!("the bank's confirmation differs from the settlements (above)");
            }
        }
        Command::Settle { cmd: Some(SettleCmd::Reconcile { file }), .. } => {
            let (out, ok) = commands::settle::reconcile(&config, &file).await?;
            stdout.write_all(out.as_bytes())?;
            if !ok {
                anyhow::bail!("the bill differs from the redemptions (above)");
            }
        }
        Command::Settle { cmd: None, date, out } => {
            let Some(date) = date else { anyhow::bail!("say which business day: quan settle --date 2026-12-05") };
            stdout.write_all(commands::settle::run(&config, &date, &out).await?.as_bytes())?;
        }
        Command::Audit(AuditCmd::Verify { campaign }) => {
            let (out, clean) = commands::audit::verify(&config, campaign.as_deref()).await?;
            stdout.write_all(out.as_bytes())?;
            if !clean {
                anyhow::bail!("the audit found differences");
            }
        }
        Command::Demo { residents, merchants, shops, connections, seed, serve, listen, quiet } => {
            let o = commands::demo::DemoOptions {
                data_dir: demo_dir.clone().unwrap_or_else(|| std::path::PathBuf::from("./quan-demo")),
                residents: residents.max(100),
                merchants: merchants.max(20),
                shops: shops.clamp(3, 1_000),
                connections: connections.max(1),
                seed,
                serve: serve.then_some(listen),
                progress: !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
                steps: !quiet,
            };
            stdout.write_all(commands::demo::run(&config, &o).await?.as_bytes())?;
        }
        Command::Report(ReportCmd::Daily { campaign, date, out, verify }) => {
            let (text, ok) = commands::report::daily(&config, &campaign, &date, &out, verify).await?;
            stdout.write_all(text.as_bytes())?;
            if !ok {
                anyhow::bail!("the stored report differs from a rebuild (above)");
            }
        }
        Command::Report(ReportCmd::Final { batch, date, as_user, out }) => {
            stdout
                .write_all(commands::report::batch_final(&config, &batch, &date, &as_user, &out).await?.as_bytes())?;
        }
        Command::Openapi => stdout.write_all(quan_http::openapi_json().as_bytes())?,
        Command::Config => stdout.write_all(config.to_redacted_toml().as_bytes())?,
        Command::Admin(AdminCommand::CreateUser { role, region, username, display_name, password_stdin }) => {
            let args = commands::admin::CreateUser { role, region, username, display_name, password_stdin };
            let out = commands::admin::create_user(&config, args, &mut std::io::stdin().lock()).await?;
            stdout.write_all(out.as_bytes())?;
        }
    }
    Ok(())
}
