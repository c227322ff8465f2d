//! Drafts: an official rewrites a campaign (name, dates, budget, batches)
//! or deletes it while it holds no money. Every change is kept as an event.

use quan_domain::campaign::CampaignStatus;
use quan_domain::{CampaignId, Fen, Invalid};
use quan_store::{Batch, Campaign, CampaignEvent, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::{CampaignError, CampaignFile, check_campaign_batches, official};

fn not_a_draft(c: &Campaign) -> Option<CampaignError> {
    (c.status != CampaignStatus::Draft || c.funded != Fen::ZERO).then_some(CampaignError::NotADraft)
}

fn stored(e: StoreError) -> CampaignError {
    match e {
        StoreError::Conflict { what: "not_a_draft" } => CampaignError::NotADraft,
        StoreError::Conflict { what: "budget" } => CampaignError::Invalid(Invalid::new(
            "batches",
            "budget_exceeded",
            "the batches' face value exceeds the budget",
        )),
        e => e.into(),
    }
}

impl Engine {
    /// Replaces a draft with `file` (checked as a new campaign is); its
    /// batches are replaced whole. Roles: official of its region.
    pub async fn edit_draft(
        &self,
        actor: &Actor,
        id: CampaignId,
        file: CampaignFile,
    ) -> Result<(Campaign, Vec<Batch>), CampaignError> {
        let me = official(actor)?;
        let c = self.get_campaign(actor, id).await?;
        if let Some(e) = not_a_draft(&c) {
            return Err(e);
        }
        self.check_campaign_spec(me, &file.campaign)?;
        let now = self.now();
        let edited = Campaign { spec: file.campaign, updated_at: now, ..c.clone() };
        check_campaign_batches(&edited, &file.batches, now).map_err(CampaignError::Invalid)?;
        let mut events = vec![CampaignEvent {
            note: format!(
                "name {:?}, budget {}, {} batches",
                edited.spec.name,
                edited.spec.budget_fen,
                file.batches.len()
            ),
            ..self.event(id, "edited", Some(me.id))
        }];
        let batches = self.new_batches(id, file.batches, me.id, &mut events);
        self.store().replace_draft(&edited, &batches, &events).await.map_err(stored)?;
        tracing::info!(campaign_id = %id, batches = batches.len(), by = %me.id, "draft edited");
        Ok((self.store().campaign_by_id(id).await?, batches))
    }

    /// Deletes a draft holding no money: it is no longer listed or found;
    /// its events stay. Roles: official of its region.
    pub async fn delete_draft(&self, actor: &Actor, id: CampaignId) -> Result<(), CampaignError> {
        let me = official(actor)?;
        let c = self.get_campaign(actor, id).await?;
        if let Some(e) = not_a_draft(&c) {
            return Err(e);
        }
        let event = CampaignEvent { note: c.spec.name.clone(), ..self.event(id, "deleted", Some(me.id)) };
        self.store().delete_draft(id, &event).await.map_err(stored)?;
        tracing::info!(campaign_id = %id, by = %me.id, "draft deleted");
        Ok(())
    }
}
