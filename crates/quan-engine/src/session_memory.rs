//! A node's memory of bearer tokens, so that a grab's requests (and a
//! till's scans) do not each read the session and the account from the
//! database.
//!
//! Two ways a token is trusted from memory:
//! - for a short window (`resident_session_cache_s`, `cashier_session_cache_s`)
//!   after it was read from the database: a logout on another node takes
//!   effect here within that window;
//! - for residents, while the node *follows* the sessions
//!   ([`Engine::follow_sessions`], every [`FOLLOW_INTERVAL_MS`] in `quan
//!   serve`): each round reads the sessions ended (on any node) since the
//!   previous round and forgets their tokens, and loads the residents'
//!   sessions opened since, so that even a resident's first tap at the
//!   opening second is answered from memory. Such a token is trusted until
//!   its session expires, as long as the last successful round is less than
//!   `resident_session_cache_s` old: when the database cannot be read, the
//!   node falls back to reading each token again.
//!
//! The same rounds keep every resident's verified identity (household
//! region, birth date, ID hash) in memory, so that a batch with a household,
//! age or per-person rule decides a claim without reading it; an identity
//! recorded on another node is here by the next round. They also follow the
//! eligibility lists claims needed (`list_memory`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use quan_domain::{ResidentId, SessionId};
use quan_store::{Identity, Principal, StoreError};

use crate::Engine;
use crate::auth::Actor;

/// Tokens remembered at most by default (`residents_remembered_max`).
pub const SESSION_CACHE_LEN_MAX: usize = 1_000_000;

/// How often [`Engine::follow_sessions_in_background`] runs a round.
pub const FOLLOW_INTERVAL_MS: u64 = 1_000;

/// How far back each round reads the sessions ended before the previous
/// round began: covers clocks of nodes that disagree by up to this much and
/// a logout committed that long after it was stamped.
pub const FOLLOW_OVERLAP_MS: i64 = 10_000;

/// How far back each round loads the sessions opened before the previous
/// round began. Short: a session missed (a node's clock behind, a slow
/// commit) is only read from the database at its first use, and a mass
/// enrolment is not loaded again and again.
pub const LOAD_OVERLAP_MS: i64 = 2_000;

/// Sessions loaded per query when following.
const LOAD_PAGE_LEN: u32 = 10_000;

/// A token's actor, until when it may be answered from memory, and whether
/// that also needs the node to be following the sessions.
#[derive(Debug)]
struct Remembered {
    actor: Actor,
    until: DateTime<Utc>,
    followed: bool,
}

#[derive(Debug)]
pub(crate) struct SessionCache {
    map: Mutex<HashMap<[u8; 32], Remembered>>,
    /// When the last successful round of following began (none: never).
    last_round: Mutex<Option<DateTime<Utc>>>,
    /// Until when (ms since the epoch) tokens trusted through following may
    /// be answered; `i64::MIN` before the first round.
    trusted_until_ms: AtomicI64,
    identities: Mutex<Identities>,
    /// Tokens, and apart identities, kept at most.
    cap: usize,
}

/// Residents' identities, as far as the rounds of following loaded them.
#[derive(Debug, Default)]
struct Identities {
    map: HashMap<ResidentId, Identity>,
    /// Every identity recorded up to the last round is in `map` (none was
    /// left out for want of room): a resident missing there has none.
    complete: bool,
}

impl SessionCache {
    pub(crate) fn new(cap: usize) -> SessionCache {
        SessionCache {
            map: Mutex::new(HashMap::new()),
            last_round: Mutex::new(None),
            trusted_until_ms: AtomicI64::new(i64::MIN),
            identities: Mutex::new(Identities::default()),
            cap,
        }
    }

    pub(crate) fn get(&self, hash: &[u8; 32], now: DateTime<Utc>) -> Option<Actor> {
        let followed_ok = self.following(now);
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(hash).filter(|r| now < r.until && (!r.followed || followed_ok)).map(|r| r.actor.clone())
    }

    /// Whether the node follows the sessions at `now` (its last round is
    /// recent enough).
    pub(crate) fn following(&self, now: DateTime<Utc>) -> bool {
        now.timestamp_millis() < self.trusted_until_ms.load(Ordering::Acquire)
    }

    /// Remembers a token. When the map is full, expired entries are dropped
    /// first; if it is still full, the token is not remembered (it is read
    /// from the database next time), so a full memory never empties in the
    /// middle of a grab. Returns whether the token is remembered.
    pub(crate) fn put(
        &self,
        hash: [u8; 32],
        actor: Actor,
        until: DateTime<Utc>,
        followed: bool,
        now: DateTime<Utc>,
    ) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.cap && !map.contains_key(&hash) {
            map.retain(|_, r| now < r.until);
            if map.len() >= self.cap {
                return false;
            }
        }
        map.insert(hash, Remembered { actor, until, followed });
        true
    }

    /// Forgets tokens by their hashes.
    pub(crate) fn forget_tokens(&self, hashes: &[[u8; 32]]) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for h in hashes {
            map.remove(h);
        }
    }

    /// Forgets every remembered token of a staff account (disabled, or its
    /// password changed).
    pub(crate) fn forget_user(&self, id: quan_domain::UserId) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, r| !matches!(&r.actor, Actor::Staff { user, .. } if user.id == id));
    }

    fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Forgets a resident's identity if it is still this number (an
    /// identity conflict resolved against them removed it).
    pub(crate) fn forget_identity(&self, resident: ResidentId, id_hash: &quan_domain::KeyedHash) {
        let mut ids = self.identities.lock().unwrap_or_else(|p| p.into_inner());
        if ids.map.get(&resident).is_some_and(|i| i.id_hash == *id_hash) {
            ids.map.remove(&resident);
        }
    }

    /// Keeps identities; `false` when one was left out for want of room.
    fn remember_identities(&self, found: Vec<Identity>) -> bool {
        let mut ids = self.identities.lock().unwrap_or_else(|p| p.into_inner());
        let mut all = true;
        for i in found {
            if ids.map.len() >= self.cap && !ids.map.contains_key(&i.resident_id) {
                all = false;
                continue;
            }
            ids.map.insert(i.resident_id, i);
        }
        all
    }
}

/// What one round of following did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Followed {
    /// Tokens of sessions ended elsewhere, forgotten.
    pub ended: usize,
    /// Residents' live sessions loaded into memory.
    pub loaded: usize,
    /// Tokens in memory after the round.
    pub remembered: usize,
    /// Identities recorded since the previous round (all, on the first), loaded.
    pub identities: usize,
    /// Identity conflicts resolved since the previous round, applied.
    pub conflicts_resolved: usize,
    /// Members added to the lists this node keeps (see `list_memory`), read.
    pub list_members: usize,
}

impl Engine {
    /// One round of following the sessions (see the module's text): forgets
    /// the tokens of sessions ended since the previous round (on any node),
    /// loads the residents' live sessions opened since (all of them, newest
    /// first, on the first round, as far as the memory holds), and extends
    /// the trust in what is remembered by `resident_session_cache_s` from
    /// the round's start. Does nothing when `resident_session_cache_s` is 0.
    /// On an error nothing is extended: the node's trust lapses on its own.
    pub async fn follow_sessions(&self) -> Result<Followed, StoreError> {
        let window = self.inner.config.resident_session_cache_s;
        if window <= 0 {
            return Ok(Followed::default());
        }
        let cache = &self.inner.remembered_sessions;
        let started = self.now();
        let last = *cache.last_round.lock().unwrap_or_else(|p| p.into_inner());
        let overlap = Duration::milliseconds(FOLLOW_OVERLAP_MS);
        let mut out = Followed::default();
        if let Some(last) = last {
            let ended = self.store().ended_sessions_since(last - overlap).await?;
            cache.forget_tokens(&ended);
            out.ended = ended.len();
        }
        let from = last.map_or(DateTime::<Utc>::MIN_UTC, |l| l - Duration::milliseconds(LOAD_OVERLAP_MS));
        let mut before: Option<(DateTime<Utc>, SessionId)> = None;
        loop {
            if cache.len() >= cache.cap {
                break;
            }
            let page = self.store().live_resident_sessions(started, from, before, LOAD_PAGE_LEN).await?;
            let Some((last_of_page, _)) = page.last() else { break };
            before = Some((last_of_page.created_at, last_of_page.id));
            let full = page.len() == LOAD_PAGE_LEN as usize;
            for (session, resident) in page {
                if let Principal::Resident(id) = session.principal
                    && id == resident.id
                {
                    let actor = Actor::Resident { session: session.id, resident };
                    if cache.put(session.token_hash, actor, session.expires_at, true, started) {
                        out.loaded += 1;
                    }
                }
            }
            if !full {
                break;
            }
        }
        // Identities recorded since the previous round, with the same
        // overlap as the ends: one missed would decide claims on stale facts.
        let since = last.map_or(DateTime::<Utc>::MIN_UTC, |l| l - overlap);
        let mut after: Option<(DateTime<Utc>, ResidentId)> = None;
        let mut all = true;
        loop {
            let page = self.store().identities_verified_since(since, after, LOAD_PAGE_LEN).await?;
            let Some(last_of_page) = page.last() else { break };
            after = Some((last_of_page.verified_at, last_of_page.resident_id));
            let full = page.len() == LOAD_PAGE_LEN as usize;
            out.identities += page.len();
            all &= cache.remember_identities(page);
            if !full {
                break;
            }
        }
        // Members added to the lists this node keeps, with the same overlap.
        out.list_members = self.follow_lists(since).await?;
        // Conflicts resolved elsewhere: the other account's number and the
        // person's claims this node counted are forgotten.
        out.conflicts_resolved = self.follow_identity_conflicts(since).await?;
        {
            let mut ids = cache.identities.lock().unwrap_or_else(|p| p.into_inner());
            // Complete after a first round that kept them all, as long as
            // every later round keeps all it reads.
            ids.complete = all && (last.is_none() || ids.complete);
        }
        *cache.last_round.lock().unwrap_or_else(|p| p.into_inner()) = Some(started);
        cache.trusted_until_ms.store((started + Duration::seconds(window)).timestamp_millis(), Ordering::Release);
        out.remembered = cache.len();
        Ok(out)
    }

    /// Runs a round of [`Engine::follow_sessions`] every
    /// [`FOLLOW_INTERVAL_MS`] until the engine is dropped (the task holds no
    /// reference to it). A failing round is logged once per outage; the
    /// node reads tokens from the database meanwhile.
    pub fn follow_sessions_in_background(&self) -> tokio::task::JoinHandle<()> {
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(FOLLOW_INTERVAL_MS));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let engine = Engine { inner };
                if let Err(e) = engine.flush_grab_stats().await {
                    tracing::warn!(error = %e, "writing the grab dashboard's counts failed; they are written with the next");
                }
                match engine.follow_sessions().await {
                    Ok(_) if failing => {
                        failing = false;
                        tracing::info!("following the sessions again");
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::error!(error = %e, "following the sessions failed; tokens are read from the database until it works again");
                    }
                    Err(_) => {}
                }
            }
        })
    }

    /// A resident's verified identity (none: not verified): from memory
    /// while this node follows the sessions, else read from the database.
    pub async fn identity_of(&self, resident: ResidentId) -> Result<Option<Identity>, StoreError> {
        let cache = &self.inner.remembered_sessions;
        if cache.following(self.now()) {
            let ids = cache.identities.lock().unwrap_or_else(|p| p.into_inner());
            if ids.complete {
                return Ok(ids.map.get(&resident).cloned());
            }
        }
        self.store().identity(resident).await
    }

    /// Keeps an identity just recorded on this node (the other nodes read
    /// it at their next round).
    pub(crate) fn remember_identity(&self, identity: Identity) {
        self.inner.remembered_sessions.remember_identities(vec![identity]);
    }

    /// Tokens this node answers from memory (for `/metrics`).
    pub fn remembered_sessions(&self) -> usize {
        self.inner.remembered_sessions.len()
    }
}
