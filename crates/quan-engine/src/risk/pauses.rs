//! The kill switch (熔断): an official of the region pauses claims,
//! redemptions or both for a batch, a campaign, a merchant, a partner
//! channel or a region; resuming is one action. Every node re-reads the
//! pauses that are on at most every `PAUSES_READ_MS` while it answers
//! claims and redemptions, so a pause made on one node holds on all of
//! them within that and one read (measured in docs/RISK.md).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use quan_domain::Role;
use quan_domain::pause::{ActivePause, Stops, Target, reason};
use quan_store::{PauseRecord, Resumption, User};
use serde::Serialize;

use super::RiskError;
use crate::Engine;
use crate::auth::Actor;

/// How old this node's copy of the pauses may be before a request reads
/// them again (one request does; the others answer from the copy).
pub const PAUSES_READ_MS: u64 = 250;

/// This node's copy of the pauses that are on.
#[derive(Debug, Default)]
pub struct PauseMemory {
    copy: Mutex<(Arc<Vec<ActivePause>>, Option<std::time::Instant>)>,
    reading: AtomicBool,
}

/// Who stopped a request, and why: what a refusal says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PausedBy {
    pub pause_id: uuid::Uuid,
    pub target: &'static str,
    pub target_id: String,
    pub stops: &'static str,
    pub by: String,
    pub reason: String,
    pub since: DateTime<Utc>,
}

impl PausedBy {
    pub fn of(p: &ActivePause) -> PausedBy {
        PausedBy {
            pause_id: p.id,
            target: p.target.kind(),
            target_id: p.target.id(),
            stops: p.stops.as_str(),
            by: p.by.clone(),
            reason: p.reason.clone(),
            since: p.at,
        }
    }
    pub fn details(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl std::fmt::Display for PausedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "paused by {} since {}: {}", self.by, quan_domain::beijing(self.since), self.reason)
    }
}

/// What an official asks to pause.
#[derive(Debug, Clone)]
pub struct PauseRequest {
    pub target: Target,
    pub stops: Stops,
    pub reason: String,
}

fn active(r: &PauseRecord) -> Option<ActivePause> {
    Some(ActivePause {
        id: r.id,
        target: Target::parse(&r.target_kind, &r.target_id).ok()?,
        stops: Stops::parse(&r.stops)?,
        by: r.by_name.clone(),
        reason: r.reason.clone(),
        at: r.at,
    })
}

impl Engine {
    /// The pauses that are on, from this node's copy while it is fresh.
    pub async fn active_pauses(&self) -> Arc<Vec<ActivePause>> {
        let memory = &self.inner.pauses;
        let (list, read_at) = memory.copy.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let fresh = read_at.is_some_and(|t| t.elapsed().as_millis() < u128::from(PAUSES_READ_MS));
        // With a copy, one request reads again while the others answer from
        // it; with none yet, every request waits for a read.
        if fresh || (read_at.is_some() && memory.reading.swap(true, Ordering::AcqRel)) {
            return list;
        }
        let read = self.store().active_pauses().await;
        memory.reading.store(false, Ordering::Release);
        match read {
            Ok(rows) => {
                let list: Arc<Vec<ActivePause>> = Arc::new(rows.iter().filter_map(active).collect());
                *memory.copy.lock().unwrap_or_else(|p| p.into_inner()) =
                    (list.clone(), Some(std::time::Instant::now()));
                list
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the pauses failed; the last copy stands");
                list
            }
        }
    }

    fn forget_pauses(&self) {
        self.inner.pauses.copy.lock().unwrap_or_else(|p| p.into_inner()).1 = None;
    }

    /// An official of the target's region pauses it.
    pub async fn pause(&self, actor: &Actor, req: PauseRequest) -> Result<PauseRecord, RiskError> {
        let user = self.switcher(actor, &req.target).await?;
        let p = PauseRecord {
            id: self.new_uuid(),
            target_kind: req.target.kind().into(),
            target_id: req.target.id(),
            stops: req.stops.as_str().into(),
            reason: reason(&req.reason)?,
            by: user.id,
            by_name: user.display_name.clone(),
            at: self.now(),
            resumed: None,
        };
        let events = self.pause_events(&p, "campaign.paused").await?;
        self.store().insert_pause(&p, &events).await?;
        self.forget_pauses();
        tracing::warn!(pause_id = %p.id, target = %p.target_kind, target_id = %p.target_id, stops = %p.stops, "paused");
        Ok(p)
    }

    /// An official of the target's region lifts a pause.
    pub async fn resume(&self, actor: &Actor, id: uuid::Uuid, why: &str) -> Result<PauseRecord, RiskError> {
        let p = self.store().pause_by_id(id).await?;
        let target = Target::parse(&p.target_kind, &p.target_id)?;
        let user = self.switcher(actor, &target).await?;
        let r = Resumption { by: user.id, by_name: user.display_name.clone(), at: self.now(), reason: reason(why)? };
        let resumed = PauseRecord { resumed: Some(r.clone()), ..p.clone() };
        let events = self.pause_events(&resumed, "campaign.resumed").await?;
        self.store().resume_pause(id, &r, &events).await?;
        self.forget_pauses();
        tracing::warn!(pause_id = %id, "pause lifted");
        Ok(self.store().pause_by_id(id).await?)
    }

    /// The pauses on now and those of the last `days` days, newest first,
    /// for staff (officials, operators, auditors) of any region: a pause
    /// says nothing personal and every desk must see what is stopped.
    pub async fn pauses(&self, actor: &Actor, days: i64) -> Result<Vec<PauseRecord>, RiskError> {
        let Actor::Staff { user, .. } = actor else { return Err(RiskError::Forbidden) };
        if !matches!(user.role, Role::Official | Role::Operator | Role::Auditor) {
            return Err(RiskError::Forbidden);
        }
        let now = self.now();
        let from = now - chrono::Duration::days(days.clamp(1, 366));
        let mut list = self.store().pauses_between(from, now + chrono::Duration::milliseconds(1)).await?;
        list.reverse();
        Ok(list)
    }

    /// The official who may switch `target`: of a region containing it.
    async fn switcher<'a>(&self, actor: &'a Actor, target: &Target) -> Result<&'a User, RiskError> {
        let Actor::Staff { user, .. } = actor else { return Err(RiskError::Forbidden) };
        if user.role != Role::Official {
            return Err(RiskError::Forbidden);
        }
        let inside = match target {
            Target::Batch(b) => {
                let b = self.store().batch_by_id(*b).await?;
                user.region.contains(&self.store().campaign_by_id(b.campaign_id).await?.spec.region)
            }
            Target::Campaign(c) => user.region.contains(&self.store().campaign_by_id(*c).await?.spec.region),
            Target::Merchant(m) => user.region.contains_district(&self.store().merchant_by_id(*m).await?.app.district),
            Target::Region(r) => user.region.contains(r),
            // A partner's channel serves every region it was opened for:
            // any official may stop it.
            Target::Channel(_) => true,
        };
        // Outside the official's region the target is as good as unknown.
        if inside { Ok(user) } else { Err(RiskError::NotFound) }
    }
}
