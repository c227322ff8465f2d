//! Turning a configuration into running parts: logging, the store, the
//! personal-data key, the engine.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use quan_domain::CutoffHour;
use quan_engine::{Engine, EngineConfig, EngineParts, FileSmsSender, PiiKey, SystemRandom};
use quan_store::Store;
use quan_store_postgres::{PgOptions, PgStore};
use quan_store_sqlite::{SqliteOptions, SqliteStore};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, redact_url};

/// Logs go to stderr (stdout is for command output such as `quan openapi`).
pub fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let result = if config.log.format == "json" {
        builder.json().with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
    // Already initialised (tests call this more than once): keep the first.
    drop(result);
}

/// A human-readable name of the database, with any password hidden.
pub fn describe_database(config: &Config) -> String {
    if config.database.url.is_empty() {
        format!("SQLite at {}", config.data_dir.join("quan.db").display())
    } else {
        redact_url(&config.database.url)
    }
}

/// Opens the configured database and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database.url.trim();
    let what = describe_database(config);
    let store: Arc<dyn Store> = if url.is_empty() {
        ensure_data_dir(&config.data_dir)?;
        let opts = SqliteOptions {
            pool_connections_max: config.database.pool_connections_max.min(8),
            ..SqliteOptions::default()
        };
        Arc::new(
            SqliteStore::open(&config.data_dir.join("quan.db"), opts)
                .await
                .with_context(|| format!("cannot open the database ({what})"))?,
        )
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let opts = PgOptions {
            pool_connections_max: config.database.pool_connections_max,
            connect_timeout_ms: config.database.connect_timeout_ms,
            schema: None,
        };
        Arc::new(PgStore::open(url, opts).await.with_context(|| format!("cannot open the database ({what})"))?)
    } else if url.starts_with("sqlite:") {
        Arc::new(
            SqliteStore::open_url(url, SqliteOptions::default())
                .await
                .with_context(|| format!("cannot open the database ({what})"))?,
        )
    } else {
        bail!("database.url must start with postgres://, postgresql:// or sqlite: (got `{what}`)");
    };
    Ok(store)
}

/// The partner sandbox's store (test partners' data, apart from the live
/// data): `sandbox.db` in the data folder beside SQLite's `quan.db`, the
/// `quan_sandbox` schema of the same PostgreSQL database.
pub async fn open_sandbox_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database.url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let opts = PgOptions {
            pool_connections_max: (config.database.pool_connections_max / 4).max(2),
            connect_timeout_ms: config.database.connect_timeout_ms,
            schema: Some("quan_sandbox".into()),
        };
        let what = describe_database(config);
        return Ok(Arc::new(
            PgStore::open(url, opts).await.with_context(|| format!("cannot open the sandbox schema ({what})"))?,
        ));
    }
    ensure_data_dir(&config.data_dir)?;
    let path = config.data_dir.join("sandbox.db");
    let opts = SqliteOptions { pool_connections_max: 2, ..SqliteOptions::default() };
    Ok(Arc::new(
        SqliteStore::open(&path, opts)
            .await
            .with_context(|| format!("cannot open the sandbox at {}", path.display()))?,
    ))
}

/// Creates the data folder (0700: it holds the database and its key) if it is missing.
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).with_context(|| format!("cannot create the data folder {}", dir.display()))
}

/// The configured key: `security.pii_key`, else the file `security.pii_key_file`,
/// else `<data_dir>/pii.key` (made on first use, 0600). A key file that
/// others may read is refused: with it and a copy of the database anyone
/// reverses every phone hash (there are only about 10^10 numbers).
pub fn pii_key(config: &Config) -> anyhow::Result<PiiKey> {
    if !config.security.pii_key.is_empty() {
        return PiiKey::from_hex(&config.security.pii_key).context("security.pii_key must be 64 hex digits");
    }
    let path = if config.security.pii_key_file.is_empty() {
        ensure_data_dir(&config.data_dir)?;
        config.data_dir.join("pii.key")
    } else {
        let p = std::path::PathBuf::from(&config.security.pii_key_file);
        if !p.exists() {
            bail!("security.pii_key_file {} does not exist (write 64 hex digits into it, mode 0600)", p.display());
        }
        p
    };
    if path.exists() {
        owner_only(&path)?;
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        return PiiKey::from_hex(&text).with_context(|| format!("{} must hold 64 hex digits", path.display()));
    }
    let mut b = [0u8; 32];
    quan_engine::Random::fill(&SystemRandom, &mut b);
    let key = PiiKey::from_bytes(b);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut f, key.to_hex().as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new personal-data key; back it up, keep it apart from the database (security.pii_key_file), and set the same key on every node");
    Ok(key)
}

/// Refuses a secret file that its group or others may read or write.
fn owner_only(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} may be read by others (mode {:o}): the personal-data key must be its owner's only; run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    Ok(())
}

pub fn engine_config(config: &Config) -> anyhow::Result<EngineConfig> {
    // The account rules as configured (their ranges checked at load);
    // the rest from their own sections.
    Ok(EngineConfig {
        password: quan_engine::PasswordParams::default(),
        business_day_cutoff: CutoffHour::new(config.business.day_cutoff_hour)?,
        border_margin_m: f64::from(config.eligibility.border_margin_m),
        position_accuracy_m_max: f64::from(config.eligibility.position_accuracy_m_max),
        codes: config.codes.to_engine()?,
        complaints: config.complaints.clone(),
        risk: config.risk,
        cashout: config.cashout.clone(),
        analysis: config.analysis.clone(),
        ..config.accounts.clone()
    })
}

/// The engine with the system clock and random source, and the file SMS outbox.
pub async fn engine(config: &Config) -> anyhow::Result<Engine> {
    let store = open_store(config).await?;
    ensure_data_dir(&config.data_dir)?;
    let engine = Engine::new(EngineParts {
        store,
        clock: Arc::new(quan_engine::SystemClock),
        random: Arc::new(SystemRandom),
        sms: Arc::new(FileSmsSender::new(&config.data_dir.join("sms-outbox.jsonl"))),
        pii_key: pii_key(config)?,
        config: engine_config(config)?,
    });
    engine.reload_districts().await.map_err(|e| anyhow::anyhow!("cannot load the district boundaries: {e}"))?;
    let file = &config.identity.verifier_file;
    if !file.is_empty() {
        let text = std::fs::read_to_string(file).with_context(|| format!("identity.verifier_file {file}"))?;
        let v = quan_engine::risk::real_name::FileVerifier::from_csv(&text)
            .map_err(|e| anyhow::anyhow!("identity.verifier_file {file}: {e}"))?;
        engine.use_identity_verifier(Arc::new(v));
    }
    let sealed =
        engine.seal_merchant_phones().await.map_err(|e| anyhow::anyhow!("cannot seal merchants' phones: {e}"))?;
    if sealed > 0 {
        tracing::info!(sealed, "merchants' contact phones stored in clear by an earlier version are sealed now");
    }
    Ok(engine)
}

/// The account a command acts as (`--as USERNAME`): enabled staff only.
pub(crate) async fn actor(engine: &Engine, username: &str) -> anyhow::Result<quan_engine::Actor> {
    let u = quan_domain::Username::parse(username).context("--as")?;
    engine.actor_for_username(&u).await.map_err(|_| anyhow::anyhow!("no enabled account `{username}`"))
}
