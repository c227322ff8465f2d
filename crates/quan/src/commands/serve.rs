//! `quan serve`: the HTTP server until a signal, then a graceful stop.

use anyhow::Context;
use quan_http::HttpConfig;

use crate::config::Config;
use crate::setup;

/// Seconds between runs of the expiry job.
pub const EXPIRY_INTERVAL_S: u64 = 60;
/// Expiry runs between runs of the settlement job.
pub const SETTLE_EVERY_TICKS: u64 = 10;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let engine = setup::engine(config).await?;
    // Test partners' calls go to the sandbox, a store of its own; without
    // one (say, no right to create its schema) they are refused `test_mode`.
    match setup::open_sandbox_store(config).await {
        Ok(store) => {
            engine.attach_sandbox(store);
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the partner sandbox could not be opened; test partners are refused")
        }
    }
    let http = http_config(config)?;
    load_memory(&engine).await;
    engine.follow_sessions_in_background();
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        database = %setup::describe_database(config),
        docs = %format!("http://{addr}/docs/"),
        "quan is serving"
    );
    let jobs = Jobs {
        engine: engine.clone(),
        payouts: config.data_dir.join("payouts"),
        reports: config.data_dir.join("reports"),
        cutoff: quan_domain::CutoffHour::new(config.business.day_cutoff_hour)?,
        settled: None,
        analysed: None,
    };
    tokio::spawn(jobs.run());
    // Partners' webhooks: due events posted every second (several nodes share the outbox).
    tokio::spawn(engine.clone().run_webhook_worker(std::time::Duration::from_secs(1)));
    let metrics_listener = metrics_listener(config).await?;
    quan_http::serve_with_metrics_listener(engine, &http, listener, metrics_listener, shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("stopped: requests in flight were finished");
    Ok(())
}

fn http_config(config: &Config) -> anyhow::Result<HttpConfig> {
    Ok(HttpConfig {
        body_bytes_max: usize::try_from(config.server.body_bytes_max).unwrap_or(usize::MAX),
        request_timeout_s: config.server.request_timeout_s,
        trusted_proxies: quan_http::TrustedProxies::parse(&config.server.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
        metrics: quan_http::MetricsAccess {
            on_api_listener_off: !config.server.metrics_listen.is_empty(),
            token: Some(config.server.metrics_token.clone()).filter(|t| !t.is_empty()),
        },
        pages: Some(quan_web::router),
    })
}

/// Residents' live sessions into memory before the first request (then
/// every second: the sessions ended on any node and opened since), and the
/// lists the open and coming batches are restricted to. A failure is
/// logged: tokens and lists are then read as they come.
async fn load_memory(engine: &quan_engine::Engine) {
    match engine.follow_sessions().await {
        Ok(f) => tracing::info!(loaded = f.loaded, "residents' live sessions loaded"),
        Err(e) => {
            tracing::error!(error = %e, "the residents' sessions could not be loaded; tokens are read as they come")
        }
    }
    match engine.load_lists_of_open_batches().await {
        Ok((lists, members)) if lists > 0 => tracing::info!(lists, members, "eligibility lists loaded"),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "the eligibility lists could not be loaded; claims read them as they come")
        }
    }
}

/// `server.metrics_listen`'s listener, when one is configured.
async fn metrics_listener(config: &Config) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    match config.server.metrics_listen.as_str() {
        "" => Ok(None),
        at => {
            let l = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen on {at} for metrics"))?;
            tracing::info!(address = %l.local_addr()?, "metrics on their own listener");
            Ok(Some(l))
        }
    }
}

/// The server's own jobs. Every minute: vouchers past their validity
/// expire and release their budget, expired sessions are deleted. Every
/// ten: the last business day's reports are built (files under
/// `<data_dir>/reports`), the risk analysis runs (once a day) and the day is settled (once; a run that records
/// nothing new writes nothing) with its payout file under
/// `<data_dir>/payouts`.
struct Jobs {
    engine: quan_engine::Engine,
    payouts: std::path::PathBuf,
    reports: std::path::PathBuf,
    cutoff: quan_domain::CutoffHour,
    /// The last day settled by this process: the owed amounts are read
    /// from the whole ledger, so a settled day is not read again.
    settled: Option<chrono::NaiveDate>,
    /// The business day in which this process last ran the risk analysis.
    analysed: Option<chrono::NaiveDate>,
}

impl Jobs {
    async fn run(mut self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(EXPIRY_INTERVAL_S));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            if let Err(e) = self.engine.expire_all().await {
                tracing::error!(error = %e, "the expiry job failed; it runs again in a minute");
            }
            if let Some(s) = self.engine.sandbox()
                && let Err(e) = s.expire_all().await
            {
                tracing::error!(error = %e, "the sandbox's expiry job failed; it runs again in a minute");
            }
            if let Err(e) = self.engine.delete_expired_sessions().await {
                tracing::error!(error = %e, "deleting expired sessions failed; it runs again in a minute");
            }
            n += 1;
            if n % SETTLE_EVERY_TICKS == 1 {
                self.build_reports().await;
                self.analyse().await;
                self.settle().await;
            }
        }
    }

    /// Once a business day is over, each campaign's T+1 report of it is
    /// built and stored (once), and its files written.
    async fn build_reports(&self) {
        let built = match self.engine.build_due_reports().await {
            Ok(built) => built,
            Err(e) => return tracing::error!(error = %e, "the report job failed; it runs again in ten minutes"),
        };
        for (id, day) in built {
            match self.engine.daily_report_unchecked(id, day).await {
                Ok((r, s)) => match super::report::write_files(&r, &s.content, &self.reports) {
                    Ok(_) => tracing::info!(campaign_id = %id, %day, sha256 = %s.sha256, "daily report built"),
                    Err(e) => {
                        tracing::error!(campaign_id = %id, %day, error = %e, "the report is stored, its files could not be written")
                    }
                },
                Err(e) => {
                    tracing::error!(campaign_id = %id, %day, error = %e, "the stored report does not read back")
                }
            }
        }
    }

    /// The nightly risk analysis, once a business day is over and before
    /// it is settled, so a ring's merchants are held before they are paid.
    async fn analyse(&mut self) {
        let today = quan_domain::BusinessDay::of(self.engine.now(), self.cutoff).date();
        if self.analysed == Some(today) {
            return;
        }
        match self.engine.analyse().await {
            Ok(run) => {
                self.analysed = Some(today);
                tracing::info!(cases_opened = run.cases_opened, found_again = run.found_again, "risk analysis");
            }
            Err(e) => tracing::error!(error = %e, "the risk analysis failed; it runs again in ten minutes"),
        }
    }

    /// The last business day, settled once.
    async fn settle(&mut self) {
        let today = quan_domain::BusinessDay::of(self.engine.now(), self.cutoff).date();
        let Some(day) = today.pred_opt() else { return };
        if self.settled == Some(day) {
            return;
        }
        match super::settle::settle_day(&self.engine, day, &self.payouts).await {
            Ok((run, (csv, _))) => {
                self.settled = Some(day);
                tracing::info!(%day, new = run.new.len(), file = %csv.display(), "settled");
            }
            Err(e) => {
                tracing::error!(%day, error = %e, "the settlement job failed (or its payout file could not be written); it runs again in ten minutes")
            }
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
