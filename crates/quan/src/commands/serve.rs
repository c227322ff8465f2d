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
    let http = HttpConfig {
        body_bytes_max: usize::try_from(config.server.body_bytes_max).unwrap_or(usize::MAX),
        request_timeout_s: config.server.request_timeout_s,
        trusted_proxies: quan_http::TrustedProxies::parse(&config.server.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
        metrics: quan_http::MetricsAccess {
            on_api_listener_off: !config.server.metrics_listen.is_empty(),
            token: Some(config.server.metrics_token.clone()).filter(|t| !t.is_empty()),
        },
    };
    // Residents' live sessions into memory before the first request, then
    // every second: the sessions ended (on any node) and opened since.
    match engine.follow_sessions().await {
        Ok(f) => tracing::info!(loaded = f.loaded, "residents' live sessions loaded"),
        Err(e) => {
            tracing::error!(error = %e, "the residents' sessions could not be loaded; tokens are read as they come")
        }
    }
    // The lists the open and coming batches are restricted to, too.
    match engine.load_lists_of_open_batches().await {
        Ok((lists, members)) if lists > 0 => tracing::info!(lists, members, "eligibility lists loaded"),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "the eligibility lists could not be loaded; claims read them as they come")
        }
    }
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
    // Every minute: vouchers past their validity expire and release their
    // budget. Every ten: the last business day's reports are built and it is settled (once; a run
    // that records nothing new writes nothing) and its payout file written
    // under <data_dir>/payouts.
    let jobs = engine.clone();
    let payouts = config.data_dir.join("payouts");
    let reports = config.data_dir.join("reports");
    let cutoff = quan_domain::CutoffHour::new(config.business.day_cutoff_hour)?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(EXPIRY_INTERVAL_S));
        let mut n: u64 = 0;
        // The last day settled by this process: the owed amounts are read
        // from the whole ledger, so a settled day is not read again.
        let mut settled: Option<chrono::NaiveDate> = None;
        loop {
            tick.tick().await;
            if let Err(e) = jobs.expire_all().await {
                tracing::error!(error = %e, "the expiry job failed; it runs again in a minute");
            }
            if let Err(e) = jobs.store().delete_expired_sessions(jobs.now()).await {
                tracing::error!(error = %e, "deleting expired sessions failed; it runs again in a minute");
            }
            n += 1;
            if n % SETTLE_EVERY_TICKS == 1 {
                // Once a business day is over, each campaign's T+1 report of it
                // is built and stored (once; the files go under <data_dir>/reports).
                match jobs.build_due_reports().await {
                    Ok(built) => {
                        for (id, day) in built {
                            match jobs.daily_report_unchecked(id, day).await {
                                Ok((r, s)) => match super::report::write_files(&r, &s.content, &reports) {
                                    Ok(_) => {
                                        tracing::info!(campaign_id = %id, %day, sha256 = %s.sha256, "daily report built")
                                    }
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
                    Err(e) => tracing::error!(error = %e, "the report job failed; it runs again in ten minutes"),
                }
                let today = quan_domain::BusinessDay::of(jobs.now(), cutoff).date();
                let Some(day) = today.pred_opt() else { continue };
                if settled == Some(day) {
                    continue;
                }
                let result = super::settle::settle_day(&jobs, day, &payouts).await;
                if result.is_ok() {
                    settled = Some(day);
                }
                match result {
                    Ok((run, (csv, _))) => {
                        tracing::info!(%day, new = run.new.len(), file = %csv.display(), "settled");
                    }
                    Err(e) => {
                        tracing::error!(%day, error = %e, "the settlement job failed (or its payout file could not be written); it runs again in ten minutes")
                    }
                }
            }
        }
    });
    let metrics_listener = match config.server.metrics_listen.as_str() {
        "" => None,
        at => {
            let l = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen on {at} for metrics"))?;
            tracing::info!(address = %l.local_addr()?, "metrics on their own listener");
            Some(l)
        }
    };
    quan_http::serve_with_metrics_listener(engine, &http, listener, metrics_listener, shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("stopped: requests in flight were finished");
    Ok(())
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
