//! The live view: what a campaign has claimed, redeemed and paid out so
//! far, by district, from running totals; at most a second old.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use quan_domain::{CampaignId, Role};
use serde::Serialize;

use super::{ReportError, clamp, district_name};
use crate::Engine;
use crate::auth::Actor;

/// The live view: claimed, redeemed and subsidy, by district; at most a
/// second old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveView {
    pub campaign_id: String,
    pub as_of: DateTime<Utc>,
    pub stock: u64,
    pub claimed: u64,
    pub redeemed: u64,
    pub subsidy_fen: i64,
    /// (district code, name, net subsidy in fen).
    pub by_district: Vec<(String, String, i64)>,
}

/// Live views built in the last second, per campaign.
#[derive(Debug, Default)]
pub(crate) struct LiveCache {
    views: Mutex<HashMap<CampaignId, (std::time::Instant, Arc<LiveView>)>>,
}

/// How long a live view is served from memory.
pub const LIVE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl Engine {
    /// The live view (at most [`LIVE_TTL`] old; many officials polling cost
    /// one read per second per node). Roles: official, auditor, operator.
    pub async fn live_view(&self, actor: &Actor, id: CampaignId) -> Result<Arc<LiveView>, ReportError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor | Role::Operator) {
            return Err(ReportError::Forbidden);
        }
        self.get_campaign(actor, id).await?;
        let cache = &self.live_cache().views;
        if let Ok(v) = cache.lock()
            && let Some((at, view)) = v.get(&id)
            && at.elapsed() < LIVE_TTL
        {
            return Ok(view.clone());
        }
        let f = self.store().live_figures(id).await?;
        let view = Arc::new(LiveView {
            campaign_id: id.to_string(),
            as_of: self.now(),
            stock: f.stock,
            claimed: f.claimed,
            redeemed: f.redeemed,
            subsidy_fen: clamp(f.subsidy_fen),
            by_district: f.subsidy_by_district.iter().map(|(c, s)| (c.clone(), district_name(c), clamp(*s))).collect(),
        });
        if let Ok(mut v) = cache.lock() {
            v.insert(id, (std::time::Instant::now(), view.clone()));
        }
        Ok(view)
    }
}

impl Engine {
    /// Today's figures so far (the report of the business day in progress,
    /// built and not stored), for the redemption dashboard. Roles: official,
    /// auditor, operator.
    pub async fn today_report(&self, actor: &Actor, id: CampaignId) -> Result<super::DailyReport, ReportError> {
        if !matches!(actor.role(), Role::Official | Role::Auditor | Role::Operator) {
            return Err(ReportError::Forbidden);
        }
        self.get_campaign(actor, id).await?;
        let today = quan_domain::BusinessDay::of(self.now(), self.config().business_day_cutoff).date();
        self.build_daily_report(id, today).await
    }
}
