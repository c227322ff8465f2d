//! Use cases: what quan does, over the domain and a store. The engine gets
//! its clock, random source and SMS gateway from the caller.

/// The most rows a list answers in one page.
pub const LIST_LEN_MAX: u32 = 500;
/// The longest search text a list takes (longer is cut, not refused).
pub const SEARCH_CHARS_MAX: usize = 64;

/// A list's search text: trimmed, at most [`SEARCH_CHARS_MAX`] characters;
/// empty means no search.
pub(crate) fn search_text(q: Option<&str>) -> Option<&str> {
    let q = q.map(str::trim).filter(|q| !q.is_empty())?;
    Some(q.char_indices().nth(SEARCH_CHARS_MAX).map_or(q, |(i, _)| &q[..i]))
}

pub mod audit;
pub mod auth;
pub mod campaign_drafts;
pub mod campaigns;
pub mod claims;
mod clock;
pub mod close_out;
pub mod committer;
pub mod complaints;
pub mod csv_cell;
pub mod district_preview;
pub mod districts;
pub mod documents;
pub mod eligibility;
pub mod expiry;
pub mod grab_stats;
pub mod identity;
mod list_memory;
pub mod lottery;
pub mod merchant_phones;
pub mod merchant_reads;
pub mod merchant_review;
pub mod merchants;
pub mod partners;
pub mod platform_key;
pub mod random;
mod rate_limit;
pub mod redemptions;
pub mod rejection;
pub mod reports;
pub mod resident_reads;
pub mod risk;
pub mod secrets;
mod service;
pub mod session_memory;
pub mod settlement;
pub mod settlement_files;
pub mod settlement_views;
pub mod sms;
pub mod till_feed;
pub mod users;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use quan_domain::{Clock, CutoffHour};
use quan_store::Store;

pub use auth::Actor;
pub use clock::SystemClock;
pub use random::{Random, SeededRandom, SystemRandom};
pub use rate_limit::RateLimiter;
pub use rejection::{Rejection, Status};
pub use secrets::{PasswordParams, PiiKey};
pub use sms::{FileSmsSender, MemorySmsSender, SmsSender};

/// Limits and durations of the account rules. Units are last in each name.
/// The account rules are read from configuration as they are (the `quan`
/// binary's `[accounts]` section); the fields marked `skip` come from
/// other sections.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    pub staff_session_ttl_s: i64,
    pub resident_session_ttl_s: i64,
    /// How long a node answers a resident's token from memory before asking
    /// the database again (0: always ask). A logout on this node takes effect
    /// at once; on other nodes within this many seconds. While the node
    /// follows the sessions (`follow_sessions`, each second in `quan serve`)
    /// a token is remembered until its session expires, and this is how
    /// long the last successful round is trusted.
    pub resident_session_cache_s: i64,
    /// The same for cashiers' tokens (a till scans all day); disabling a
    /// cashier or changing their password takes effect on this node at once,
    /// on other nodes within this many seconds. Other staff tokens are always
    /// checked in the database.
    pub cashier_session_cache_s: i64,
    /// Residents' tokens (and, apart, identities) a node keeps in memory at
    /// most; about 500 bytes each (1 000 000 tokens: ~550 MB).
    pub residents_remembered_max: usize,
    /// Dynamic codes at the till.
    #[serde(skip)]
    pub codes: redemptions::CodeConfig,
    pub otp_ttl_s: i64,
    pub otp_attempts_max: u32,
    pub otp_resend_interval_s: i64,
    pub otp_sends_per_hour_max: u32,
    /// Failed logins per client address per minute (a burst of three times
    /// this many, then spaced); failures of one username from one address
    /// also wait longer and longer after the fifth.
    pub login_attempts_per_minute_max: u32,
    /// Code requests per client address per minute.
    pub otp_requests_per_minute_per_client_max: u32,
    pub password_len_min: usize,
    #[serde(skip)]
    pub password: PasswordParams,
    #[serde(skip)]
    pub business_day_cutoff: CutoffHour,
    /// Positions closer than this to a district border are "uncertain".
    #[serde(skip)]
    pub border_margin_m: f64,
    /// Positions reported with a larger accuracy radius are refused.
    #[serde(skip)]
    pub position_accuracy_m_max: f64,
    /// Complaints: time limits, the working-day calendar, filings per resident per day.
    #[serde(skip)]
    pub complaints: quan_domain::complaint::ComplaintLimits,
    /// Admission windows are drawn only when the caller asks
    /// (`draw_admission_window`), never by a timer: for a seeded simulation
    /// whose clock runs apart from the wall clock.
    #[serde(skip)]
    pub admission_drawn_by_caller: bool,
    /// Rate limits, proof of work and signals at the grab (`[risk]`).
    #[serde(skip)]
    pub risk: risk::config::RiskConfig,
    /// The cash-out rules at redemption (`[cashout]`).
    #[serde(skip)]
    pub cashout: quan_domain::cashout::Rules,
    /// The nightly analysis (`[analysis]`).
    pub analysis: risk::analysis::AnalysisConfig,
    /// Webhooks may go to private, loopback and link-local addresses (tests
    /// and a partner inside the deployment's own network only).
    #[serde(skip)]
    pub webhooks_allow_private: bool,
    /// Roots (PEM) webhook deliveries trust beside the system's (a test's
    /// own certificate authority).
    #[serde(skip)]
    pub webhooks_roots_pem: Option<String>,
    /// This engine is the partner sandbox: test partners' calls, over a
    /// store of its own (`Engine::attach_sandbox`).
    #[serde(skip)]
    pub sandbox: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            staff_session_ttl_s: 12 * 3600,
            resident_session_ttl_s: 30 * 24 * 3600,
            resident_session_cache_s: 5,
            cashier_session_cache_s: 5,
            residents_remembered_max: session_memory::SESSION_CACHE_LEN_MAX,
            codes: redemptions::CodeConfig::default(),
            otp_ttl_s: 300,
            otp_attempts_max: 5,
            otp_resend_interval_s: 60,
            otp_sends_per_hour_max: 10,
            login_attempts_per_minute_max: 10,
            otp_requests_per_minute_per_client_max: 120,
            password_len_min: 12,
            password: PasswordParams::default(),
            business_day_cutoff: CutoffHour::default(),
            border_margin_m: 100.0,
            position_accuracy_m_max: 500.0,
            complaints: quan_domain::complaint::ComplaintLimits::default(),
            admission_drawn_by_caller: false,
            risk: risk::config::RiskConfig::default(),
            cashout: quan_domain::cashout::Rules::default(),
            analysis: risk::analysis::AnalysisConfig::default(),
            webhooks_allow_private: false,
            webhooks_roots_pem: None,
            sandbox: false,
        }
    }
}

/// Everything a use case needs, shared by all requests.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    sms: Arc<dyn SmsSender>,
    pii_key: PiiKey,
    config: EngineConfig,
    /// A real hash of a random password, verified against when a username is
    /// unknown, so that unknown users take as long to refuse as wrong passwords.
    dummy_password_hash: String,
    login_limiter: RateLimiter,
    login_backoff: rate_limit::Backoff,
    otp_client_limiter: RateLimiter,
    application_limiter: RateLimiter,
    ids: random::IdGen,
    districts: std::sync::RwLock<Arc<quan_domain::geo::DistrictIndex>>,
    sequencers: claims::Sequencers,
    remembered_sessions: session_memory::SessionCache,
    lists: list_memory::ListMemory,
    redeemer: redemptions::Redeemer,
    read_cache: redemptions::ReadCache,
    live_cache: reports::LiveCache,
    till_bell: till_feed::TillBell,
    grab_counter: grab_stats::GrabCounter,
    pauses: risk::pauses::PauseMemory,
    risk_gate: risk::gate::RiskGate,
    cashout: risk::cashout::CashoutMemory,
    verifier: std::sync::RwLock<Arc<dyn risk::real_name::IdentityVerifier>>,
    partners: partners::PartnerMemory,
    partner_batches: partners::Batches,
    sandbox: partners::SandboxSlot,
}

/// What the engine is built from.
#[derive(Debug)]
pub struct EngineParts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub sms: Arc<dyn SmsSender>,
    pub pii_key: PiiKey,
    pub config: EngineConfig,
}

impl Engine {
    pub fn new(p: EngineParts) -> Engine {
        let mut pw = [0u8; 24];
        p.random.fill(&mut pw);
        let dummy_password_hash = secrets::hash_password(&hex::encode(pw), p.config.password, p.random.as_ref());
        // Each node starts at its own stock bucket, so nodes rarely meet.
        let bucket_hint = u32::try_from(p.random.u64() % 1024).unwrap_or(0);
        // Per client address: failed attempts, whatever the username (no spraying).
        let login_limiter = RateLimiter::new(
            p.config.login_attempts_per_minute_max,
            Duration::minutes(1),
            p.config.login_attempts_per_minute_max.saturating_mul(3),
            100_000,
        );
        // Per (username, client address): five free failures, then 1 s, 2 s, … up to 15 minutes.
        let login_backoff = rate_limit::Backoff::new(5, Duration::minutes(15), 100_000);
        let otp_client_limiter = RateLimiter::new(
            p.config.otp_requests_per_minute_per_client_max,
            Duration::minutes(1),
            p.config.otp_requests_per_minute_per_client_max,
            100_000,
        );
        let remembered_max = p.config.residents_remembered_max;
        // This node, for the rows it writes that all nodes share (the grab dashboard).
        let node = {
            let mut b = [0u8; 16];
            p.random.fill(&mut b);
            uuid::Uuid::from_bytes(b)
        };
        let risk_gate = risk::gate::RiskGate::new(&p.config.risk);
        let pii_for_partners = p.pii_key.clone();
        let allow_private = p.config.webhooks_allow_private;
        let roots = p.config.webhooks_roots_pem.clone();
        Engine {
            inner: Arc::new(Inner {
                store: p.store,
                clock: p.clock,
                random: p.random,
                sms: p.sms,
                pii_key: p.pii_key,
                config: p.config,
                dummy_password_hash,
                login_limiter,
                login_backoff,
                otp_client_limiter,
                application_limiter: RateLimiter::new(20, Duration::hours(1), 20, 100_000),
                ids: random::IdGen::default(),
                districts: std::sync::RwLock::new(Arc::new(quan_domain::geo::DistrictIndex::build(&[], 0.0))),
                sequencers: claims::Sequencers::new(bucket_hint),
                remembered_sessions: session_memory::SessionCache::new(remembered_max),
                lists: list_memory::ListMemory::new(remembered_max),
                redeemer: redemptions::Redeemer::default(),
                read_cache: redemptions::ReadCache::default(),
                live_cache: reports::LiveCache::default(),
                till_bell: till_feed::TillBell::default(),
                grab_counter: grab_stats::GrabCounter::new(node),
                pauses: risk::pauses::PauseMemory::default(),
                risk_gate,
                cashout: risk::cashout::CashoutMemory::default(),
                verifier: std::sync::RwLock::new(Arc::new(risk::real_name::NoVerifier)),
                partners: partners::PartnerMemory::new(
                    platform_key::PlatformKey::derive(&pii_for_partners),
                    partners::webhook_client(allow_private, roots.as_deref()),
                ),
                partner_batches: partners::Batches::default(),
                sandbox: partners::SandboxSlot::default(),
            }),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn live_cache(&self) -> &reports::LiveCache {
        &self.inner.live_cache
    }

    pub(crate) fn new_uuid(&self) -> uuid::Uuid {
        self.inner.ids.next(self.inner.clock.as_ref(), self.inner.random.as_ref())
    }
}
