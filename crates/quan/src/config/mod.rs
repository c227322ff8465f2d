//! Typed, layered configuration: defaults, then `quan.toml`, then `QUAN_…`
//! environment variables, then command-line flags. Unknown keys and
//! variables are reported by name; secrets are never printed.

mod checks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where the SQLite database, the key file and the SMS outbox live.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub security: SecurityConfig,
    /// `[accounts]`: the engine's account rules, read as they are (sessions,
    /// tokens remembered, one-time codes, login limits, passwords).
    pub accounts: quan_engine::EngineConfig,
    pub business: BusinessConfig,
    pub eligibility: EligibilityConfig,
    pub codes: CodesConfig,
    /// `[complaints]`: time limits in working days, the calendar's
    /// holidays and exchanged working days, filings per resident per day.
    pub complaints: quan_domain::complaint::ComplaintLimits,
    /// `[risk]`: the proof of work's bits and timing, the rate limits per
    /// account, device, address and address block, and the signals' rules.
    pub risk: quan_engine::risk::config::RiskConfig,
    /// `[cashout]`: the rules at redemption against cash-out — limits, and
    /// each rule's score and action (`allow`, `hold`, `refuse`).
    pub cashout: quan_domain::cashout::Rules,
    /// `[analysis]`: the nightly analysis — what makes a ring, a merchant
    /// hugging thresholds, a hoarding cohort, a raised price; and whether a
    /// ring's case holds its merchants' settlement at once.
    pub analysis: quan_engine::risk::analysis::AnalysisConfig,
    /// `[identity]`: where real-name checks (三要素) go.
    pub identity: IdentityConfig,
}

/// Real-name checks: a CSV file of accepted `name,id_number,phone` triples
/// (for the demo, tests and trials); empty: no verifier, checks answer 503.
/// A payment institution's or carrier's service plugs in behind the same
/// trait (`quan_engine::risk::real_name::IdentityVerifier`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    pub verifier_file: String,
}

/// Dynamic codes at the till (QR codes refreshed every `refresh_s`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CodesConfig {
    /// Seconds between refreshes, 15–60.
    pub refresh_s: u32,
    /// Seconds a code is still accepted after its window.
    pub grace_s: u32,
    /// `hmac-sha256` or `hmac-sm3`.
    pub algorithm: String,
    /// The key (0–255, derived from `security.pii_key`) that signs new codes.
    pub key_id: u32,
    /// Earlier keys that still verify until their retirement, e.g.
    /// `[{ id = 1, retires_at = "2027-01-01T00:00:00+08:00" }]`.
    pub retiring_keys: Vec<RetiringKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiringKey {
    pub id: u32,
    pub retires_at: String,
}

impl Default for CodesConfig {
    fn default() -> Self {
        CodesConfig { refresh_s: 30, grace_s: 5, algorithm: "hmac-sha256".into(), key_id: 1, retiring_keys: Vec::new() }
    }
}

impl CodesConfig {
    pub fn to_engine(&self) -> anyhow::Result<quan_engine::redemptions::CodeConfig> {
        use quan_domain::code::{MacAlgorithm, REFRESH_S_MAX, REFRESH_S_MIN};
        if !(REFRESH_S_MIN..=REFRESH_S_MAX).contains(&self.refresh_s) {
            bail!("codes.refresh_s must be {REFRESH_S_MIN} to {REFRESH_S_MAX}, not {}", self.refresh_s);
        }
        if self.grace_s > self.refresh_s {
            bail!("codes.grace_s must be at most codes.refresh_s ({}), not {}", self.refresh_s, self.grace_s);
        }
        let algorithm = MacAlgorithm::parse(&self.algorithm).with_context(|| {
            format!("codes.algorithm must be `hmac-sha256` or `hmac-sm3`, not `{}`", self.algorithm)
        })?;
        let id = |n: u32, what: &str| u8::try_from(n).with_context(|| format!("{what} must be 0 to 255, not {n}"));
        let key_id = id(self.key_id, "codes.key_id")?;
        let mut retiring_keys = Vec::new();
        for k in &self.retiring_keys {
            let at = chrono::DateTime::parse_from_rfc3339(&k.retires_at).with_context(|| {
                format!("codes.retiring_keys: `{}` is not a time like 2027-01-01T00:00:00+08:00", k.retires_at)
            })?;
            let kid = id(k.id, "codes.retiring_keys id")?;
            if kid == key_id {
                bail!("codes.retiring_keys lists the signing key {key_id}");
            }
            retiring_keys.push((kid, at.to_utc()));
        }
        Ok(quan_engine::redemptions::CodeConfig {
            refresh_s: self.refresh_s,
            grace_s: self.grace_s,
            algorithm,
            key_id,
            retiring_keys,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EligibilityConfig {
    /// Positions closer than this to a district border are "uncertain".
    pub border_margin_m: u32,
    /// Positions reported with a larger accuracy radius are refused.
    pub position_accuracy_m_max: u32,
}

impl Default for EligibilityConfig {
    fn default() -> Self {
        EligibilityConfig { border_margin_m: 100, position_accuracy_m_max: 500 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    pub listen: String,
    pub body_bytes_max: u64,
    pub request_timeout_s: u64,
    /// Empty: `/metrics` on `listen`. Else an address such as
    /// `10.0.0.5:9090` that serves only `/metrics` (and `listen` does not).
    pub metrics_listen: String,
    /// Empty: `/metrics` is public. Else scrapes must send `Authorization:
    /// Bearer <token>` (a secret: never printed).
    pub metrics_token: String,
    /// Reverse proxies (addresses or CIDR blocks, comma-separated, e.g.
    /// `10.0.0.0/8, ::1`) whose `X-Forwarded-For` / `Forwarded` headers name
    /// the real client. Empty: the peer's address is the client's.
    pub trusted_proxies: String,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// Empty: SQLite at `<data_dir>/quan.db`. Else `postgres://…` or `sqlite://…`.
    pub url: String,
    pub pool_connections_max: u32,
    pub connect_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `quan=debug,sqlx=warn`; `RUST_LOG` wins.
    pub level: String,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityConfig {
    /// 64 hex digits (or `QUAN_SECURITY_PII_KEY`). Empty: read from
    /// `pii_key_file`, else generated once into `<data_dir>/pii.key`. Every
    /// node of a multi-node deployment must share the same key.
    pub pii_key: String,
    /// A file holding the key, kept outside the data folder (so a copy of
    /// the folder cannot reverse the phone hashes); it must be readable by
    /// its owner only (mode 0600), or quan refuses to start.
    pub pii_key_file: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessConfig {
    /// Local hour (UTC+8) at which a business day ends: 0 is midnight.
    pub day_cutoff_hour: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./quan-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            security: SecurityConfig { pii_key: String::new(), pii_key_file: String::new() },
            accounts: quan_engine::EngineConfig::default(),
            business: BusinessConfig { day_cutoff_hour: 0 },
            eligibility: EligibilityConfig::default(),
            codes: CodesConfig::default(),
            complaints: quan_domain::complaint::ComplaintLimits::default(),
            risk: quan_engine::risk::config::RiskConfig::default(),
            cashout: quan_domain::cashout::Rules::default(),
            analysis: quan_engine::risk::analysis::AnalysisConfig::default(),
            identity: IdentityConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            body_bytes_max: 1024 * 1024,
            request_timeout_s: 30,
            metrics_listen: String::new(),
            metrics_token: String::new(),
            trusted_proxies: String::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: String::new(), pool_connections_max: 16, connect_timeout_ms: 5_000 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: "text".into(), level: "info".into() }
    }
}

/// Hides the password in a database URL: `postgres://quan:***@db/quan`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("pool_connections_max", &self.pool_connections_max)
            .finish()
    }
}

impl std::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("pii_key", &"<redacted>")
            .field("pii_key_file", &self.pii_key_file)
            .finish()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_redacted_toml())
    }
}

impl Config {
    /// The effective configuration as TOML, with secrets replaced.
    pub fn to_redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database.url = redact_url(&c.database.url);
        if !c.security.pii_key.is_empty() {
            c.security.pii_key = "<redacted>".into();
        }
        if !c.server.metrics_token.is_empty() {
            c.server.metrics_token = "<redacted>".into();
        }
        toml::to_string_pretty(&c).unwrap_or_default()
    }
}

/// Flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// A loaded configuration and the warnings met on the way (unknown keys).
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Loads defaults → the file (`path`, or `./quan.toml` if it exists) →
/// environment → overrides.
pub fn load(path: Option<&Path>, env: &[(String, String)], overrides: &Overrides) -> anyhow::Result<Loaded> {
    let mut warnings = Vec::new();
    let mut merged = toml::Table::try_from(Config::default()).context("default configuration")?;
    let file = match path {
        Some(p) => Some(p.to_owned()),
        None => Some(PathBuf::from("quan.toml")).filter(|p| p.exists()),
    };
    if let Some(p) = &file {
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read config file {}", p.display()))?;
        let table: toml::Table = text.parse().with_context(|| format!("{} is not valid TOML", p.display()))?;
        merge(&mut merged, table, "", &mut warnings, &p.display().to_string());
    }
    apply_env(&mut merged, env, &mut warnings)?;
    let mut config: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("invalid configuration: {}", e.message()))?;
    if let Some(l) = &overrides.listen {
        config.server.listen.clone_from(l);
    }
    if let Some(u) = &overrides.database_url {
        config.database.url.clone_from(u);
    }
    if let Some(d) = &overrides.data_dir {
        config.data_dir.clone_from(d);
    }
    validate(&config)?;
    Ok(Loaded { config, warnings })
}

fn merge(into: &mut toml::Table, from: toml::Table, prefix: &str, warnings: &mut Vec<String>, source: &str) {
    for (k, v) in from {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match (into.get_mut(&k), v) {
            (None, _) => warnings.push(format!("{source}: unknown key `{path}` ignored")),
            (Some(toml::Value::Table(inner)), toml::Value::Table(t)) => merge(inner, t, &path, warnings, source),
            (Some(slot), v) => *slot = v,
        }
    }
}

/// Every leaf of the defaults, by its environment variable name:
/// `server.listen` is `QUAN_SERVER_LISTEN`, `data_dir` is `QUAN_DATA_DIR`.
fn env_names(table: &toml::Table, prefix: &[String], out: &mut BTreeMap<String, Vec<String>>) {
    for (k, v) in table {
        let mut path = prefix.to_vec();
        path.push(k.clone());
        match v {
            toml::Value::Table(t) => env_names(t, &path, out),
            _ => {
                out.insert(format!("QUAN_{}", path.join("_").to_uppercase()), path);
            }
        }
    }
}

fn apply_env(merged: &mut toml::Table, env: &[(String, String)], warnings: &mut Vec<String>) -> anyhow::Result<()> {
    let mut names = BTreeMap::new();
    env_names(merged, &[], &mut names);
    for (name, raw) in env {
        if !name.starts_with("QUAN_") || name.starts_with("QUAN_TEST_") {
            continue;
        }
        let Some(path) = names.get(name) else {
            warnings.push(format!("unknown environment variable `{name}` ignored"));
            continue;
        };
        let mut slot = &mut *merged;
        for seg in &path[..path.len() - 1] {
            match slot.get_mut(seg) {
                Some(toml::Value::Table(t)) => slot = t,
                _ => bail!("configuration layout changed under {name}"),
            }
        }
        let leaf = &path[path.len() - 1];
        let value = match slot.get(leaf) {
            Some(toml::Value::Integer(_)) => {
                toml::Value::Integer(raw.trim().parse().with_context(|| format!("{name}=`{raw}` is not an integer"))?)
            }
            Some(toml::Value::Boolean(_)) => toml::Value::Boolean(
                raw.trim().parse().with_context(|| format!("{name}=`{raw}` is not true or false"))?,
            ),
            _ => toml::Value::String(raw.clone()),
        };
        slot.insert(leaf.clone(), value);
    }
    Ok(())
}

fn validate(c: &Config) -> anyhow::Result<()> {
    c.codes.to_engine()?;
    quan_http::TrustedProxies::parse(&c.server.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))?;
    if !matches!(c.log.format.as_str(), "text" | "json") {
        bail!("log.format must be `text` or `json`, not `{}`", c.log.format);
    }
    if c.business.day_cutoff_hour > 23 {
        bail!("business.day_cutoff_hour must be 0 to 23, not {}", c.business.day_cutoff_hour);
    }
    if !c.security.pii_key.is_empty() && quan_engine::PiiKey::from_hex(&c.security.pii_key).is_none() {
        bail!("security.pii_key must be 64 hex digits (32 bytes)");
    }
    checks::check_ranges(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn defaults_then_file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("quan.toml");
        std::fs::write(&p, "data_dir = \"/from/file\"\n[server]\nlisten = \"0.0.0.0:1\"\nrequest_timeout_s = 5\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let e = env(&[("QUAN_SERVER_LISTEN", "0.0.0.0:2"), ("QUAN_ACCOUNTS_OTP_TTL_S", "120")]);
        let o = Overrides { data_dir: Some("/from/flag".into()), ..Overrides::default() };
        let l = load(Some(&p), &e, &o).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.config.server.listen, "0.0.0.0:2");
        assert_eq!(l.config.server.request_timeout_s, 5);
        assert_eq!(l.config.accounts.otp_ttl_s, 120);
        assert_eq!(l.config.data_dir, PathBuf::from("/from/flag"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn the_cashout_rules_read_as_the_readme_shows_them_and_the_rest_keep_their_defaults() {
        use quan_domain::cashout::{Action, Rule};
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("quan.toml");
        let text = "[cashout]\ntill_minute_max = 6\nsettings.till_velocity = { score = 2, action = \"hold\" }\n\
                    settings.threshold_hugging = { score = 3, action = \"hold\" }\n";
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        let l = load(Some(&p), &env(&[]), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let c = &l.config.cashout;
        assert_eq!(c.setting(Rule::TillVelocity).action, Action::Hold);
        assert_eq!(c.setting(Rule::RepeatPair).score, 2, "a rule left out keeps its default");
        assert!(c.act() && c.check().is_ok());
    }

    #[test]
    fn the_analysis_reads_as_the_readme_shows_it_and_a_share_over_a_hundred_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("quan.toml");
        let text = "[analysis]\ndays = 30\nring_min_residents = 3\nmerchant_hug_pct = 60\nmerchant_hug_min = 20\n\
                    hold_settlement = true\nprice = { window_days = 30, rise_bp = 1000, peer_bp = 2000, peers_min = 3 }\n";
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        let l = load(Some(&p), &env(&[]), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.config.analysis, quan_engine::risk::analysis::AnalysisConfig::default());
        std::fs::write(&p, "[analysis]\nmerchant_hug_pct = 160\n").unwrap_or_else(|e| panic!("{e}"));
        let e = load(Some(&p), &env(&[]), &Overrides::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("at most 100"), "{e}");
    }

    #[test]
    fn unknown_keys_and_variables_are_named_in_warnings() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("quan.toml");
        std::fs::write(&p, "[server]\nlisten_addr = \"x\"\n[nonsense]\na = 1\n").unwrap_or_else(|e| panic!("{e}"));
        let l = load(Some(&p), &env(&[("QUAN_SERVR_LISTEN", "x"), ("QUAN_TEST_PG_URL", "y")]), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let w = l.warnings.join("\n");
        assert!(
            w.contains("`server.listen_addr`") && w.contains("`nonsense`") && w.contains("`QUAN_SERVR_LISTEN`"),
            "{w}"
        );
        assert!(!w.contains("QUAN_TEST_PG_URL"));
    }

    #[test]
    fn negative_or_absurd_numbers_are_refused_by_name() {
        for (var, value, name) in [
            ("QUAN_ACCOUNTS_STAFF_SESSION_TTL_S", "-5", "accounts.staff_session_ttl_s"),
            ("QUAN_ACCOUNTS_OTP_ATTEMPTS_MAX", "0", "accounts.otp_attempts_max"),
            ("QUAN_SERVER_REQUEST_TIMEOUT_S", "999999", "server.request_timeout_s"),
        ] {
            let err = load(None, &env(&[(var, value)]), &Overrides::default()).err().map(|e| format!("{e:#}"));
            assert!(err.as_deref().is_some_and(|e| e.contains(name)), "{var}={value}: {err:?}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_with_its_name() {
        let err = load(None, &env(&[("QUAN_SERVER_REQUEST_TIMEOUT_S", "soon")]), &Overrides::default()).err();
        assert!(err.is_some_and(|e| format!("{e:#}").contains("QUAN_SERVER_REQUEST_TIMEOUT_S")));
        let err = load(None, &env(&[("QUAN_LOG_FORMAT", "xml")]), &Overrides::default()).err();
        assert!(err.is_some_and(|e| e.to_string().contains("log.format")));
    }

    #[test]
    fn secrets_are_redacted_when_the_config_is_shown() {
        let mut c = Config::default();
        c.database.url = "postgres://quan:hunter2@db:5432/quan".into();
        c.security.pii_key = "ab".repeat(32);
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(shown.contains("postgres://quan:***@db:5432/quan"));
    }
}
