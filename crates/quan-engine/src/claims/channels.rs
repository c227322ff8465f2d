//! A batch's stock split between claim channels: quan's own H5 and API
//! (`h5`) and partners' apps (by the partner's id). An official gives a
//! partner a share (before or after opening), takes unclaimed units back or
//! moves them to another channel; each share sells out on its own.

use quan_domain::{BatchId, Invalid};
use quan_store::StoreError;
use serde::Serialize;

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::{CampaignError, official};

/// How quan's own channel is named to people and in the API.
pub const OWN_CHANNEL: &str = "h5";

/// One kind's share of a batch for one channel.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelShare {
    pub kind_code: String,
    /// `h5` (quan's own) or a partner's id.
    pub channel: String,
    /// quan's own H5, or the partner's name.
    pub channel_name: String,
    /// Units not yet claimed.
    pub remaining: i64,
    /// Claims made through the channel (a pack counted once).
    pub claimed: i64,
    /// Of those claims' vouchers, the ones redeemed now.
    pub redeemed: i64,
}

/// A move of unclaimed units between channels.
#[derive(Debug, Clone)]
pub struct ChannelMove {
    pub kind_code: String,
    pub from: String,
    pub to: String,
    pub count: i64,
}

fn invalid(field: &str, rule: &'static str, message: String) -> CampaignError {
    CampaignError::Invalid(Invalid::new(field, rule, message))
}

impl Engine {
    /// Every channel's share of a batch's stock. Staff who may read the campaign.
    pub async fn channel_shares(&self, actor: &Actor, id: BatchId) -> Result<Vec<ChannelShare>, CampaignError> {
        let _ = self.get_batch(actor, id).await?;
        let names = self.channel_names().await?;
        let mut out: Vec<ChannelShare> = self
            .store()
            .channel_stock(id)
            .await?
            .into_iter()
            .map(|s| {
                let (channel, channel_name) = names.label(s.channel);
                ChannelShare {
                    channel,
                    channel_name,
                    kind_code: s.kind_code,
                    remaining: s.remaining,
                    claimed: s.claimed,
                    redeemed: s.redeemed,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (a.channel != OWN_CHANNEL, &a.channel, &a.kind_code).cmp(&(
                b.channel != OWN_CHANNEL,
                &b.channel,
                &b.kind_code,
            ))
        });
        Ok(out)
    }

    /// Moves unclaimed units of a kind between channels (an official of the
    /// campaign's region): `h5` is quan's own, any other a registered
    /// partner's id. Refused when the source has fewer left.
    pub async fn move_channel_stock(
        &self,
        actor: &Actor,
        id: BatchId,
        m: &ChannelMove,
    ) -> Result<Vec<ChannelShare>, CampaignError> {
        let me = official(actor)?.clone();
        let (b, c) = self.get_batch(actor, id).await?;
        if !c.status.accepts_batches() {
            return Err(invalid(
                "batch_id",
                "campaign_not_running",
                "the campaign no longer takes changes to its batches".into(),
            ));
        }
        if !b.spec.kinds.iter().any(|k| k.kind.code == m.kind_code) {
            return Err(invalid("kind_code", "unknown_kind", format!("the batch has no kind {:?}", m.kind_code)));
        }
        if m.count <= 0 {
            return Err(invalid("count", "count_positive", "move at least one unit".into()));
        }
        let from = self.channel_of(&m.from, "from").await?;
        let to = self.channel_of(&m.to, "to").await?;
        if from == to {
            return Err(invalid("to", "same_channel", "the units are in that channel already".into()));
        }
        match self.store().move_channel_stock(id, &m.kind_code, &from, &to, m.count).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "stock_short" }) => {
                return Err(invalid(
                    "count",
                    "stock_short",
                    format!("{} has fewer than {} unclaimed units of {}", m.from, m.count, m.kind_code),
                ));
            }
            Err(StoreError::Conflict { .. }) => return Err(CampaignError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        self.forget_sold_out(id);
        tracing::info!(batch_id = %id, official = %me.id, kind = %m.kind_code, from = %m.from, to = %m.to, count = m.count, "stock moved between channels");
        self.channel_shares(actor, id).await
    }

    /// The partners' names, to label stored channels with.
    pub(crate) async fn channel_names(&self) -> Result<ChannelNames, StoreError> {
        Ok(ChannelNames(self.store().partners().await?.into_iter().map(|p| (p.id.to_string(), p.name)).collect()))
    }

    /// The stored channel for a name: `""` for `h5`, else a partner's id.
    async fn channel_of(&self, name: &str, field: &str) -> Result<String, CampaignError> {
        if name == OWN_CHANNEL {
            return Ok(String::new());
        }
        let unknown = || invalid(field, "unknown_channel", format!("{name:?} is neither h5 nor a partner's id"));
        let id = uuid::Uuid::parse_str(name).map_err(|_| unknown())?;
        match self.store().partner(id).await {
            Ok(p) => Ok(p.id.to_string()),
            Err(StoreError::NotFound) => Err(unknown()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Partners' names by id, to label stored channels.
pub(crate) struct ChannelNames(std::collections::HashMap<String, String>);

impl ChannelNames {
    /// A stored channel (`""` quan's own, else a partner's id) as shown:
    /// (`h5` or the id, `quan H5` or the partner's name).
    pub(crate) fn label(&self, stored: String) -> (String, String) {
        if stored.is_empty() {
            return (OWN_CHANNEL.into(), "quan H5".into());
        }
        let name = self.0.get(&stored).cloned().unwrap_or_else(|| stored.clone());
        (stored, name)
    }
}
