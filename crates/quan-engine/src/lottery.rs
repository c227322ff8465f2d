//! Lottery batches: residents register in a window; after it closes an
//! official runs the draw, whose seed was committed to when the batch was
//! created. Winners get their vouchers through the claim path.

use quan_domain::batch::BatchMode;
use quan_domain::campaign::CampaignStatus;
use quan_domain::{BatchId, ResidentId, lottery};
use quan_store::{CampaignEvent, LotteryRegistration, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::campaigns::{CampaignError, LotteryRecord};

/// A resident's place in a lottery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyLottery {
    pub opens: chrono::DateTime<chrono::Utc>,
    pub closes: chrono::DateTime<chrono::Utc>,
    pub registered: bool,
    /// `None` before the draw.
    pub won: Option<bool>,
    pub registrants: usize,
    pub winners_max: usize,
}

impl Engine {
    /// A resident registers for a lottery batch inside its window, if the
    /// batch's eligibility rule admits them now (household, age, lists, and
    /// the position when the rule names districts): the draw gives winners
    /// their vouchers at once, so nobody ineligible may enter it.
    pub async fn register_for_lottery(
        &self,
        actor: &Actor,
        id: BatchId,
        position: Option<crate::districts::Position>,
    ) -> Result<(), CampaignError> {
        let Actor::Resident { resident, .. } = actor else { return Err(CampaignError::Forbidden) };
        let b = self.store().batch_by_id(id).await?;
        let BatchMode::Lottery { registration_opens_at: opens, registration_closes_at: closes } = b.spec.mode else {
            return Err(CampaignError::NotALottery);
        };
        let now = self.now();
        let c = self.store().campaign_by_id(b.campaign_id).await?;
        if now < opens || now >= closes || c.status != CampaignStatus::Running {
            return Err(CampaignError::RegistrationClosed { opens, closes });
        }
        let (failures, _, _) = self.eligibility_failures(resident, &b, position).await.map_err(|e| match e {
            crate::claims::ClaimRejection::Position(p) => CampaignError::Invalid(quan_domain::Invalid::new(
                "lat",
                crate::rejection::Rejection::code(&p),
                p.to_string(),
            )),
            crate::claims::ClaimRejection::Store(s) => CampaignError::Store(s),
            other => CampaignError::Store(StoreError::message(other.to_string())),
        })?;
        if !failures.is_empty() {
            return Err(CampaignError::NotEligible(failures));
        }
        let r = LotteryRegistration { batch_id: id, resident_id: resident.id, at: now };
        match self.store().register_for_lottery(&r).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict { .. }) => Err(CampaignError::AlreadyRegistered),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs the draw once registration has closed. Each winner gets one
    /// voucher of every kind in the batch, so there are as many winners as
    /// the smallest stock among the kinds.
    pub async fn draw_lottery(&self, actor: &Actor, id: BatchId) -> Result<LotteryRecord, CampaignError> {
        let (b, c) = self.get_batch(actor, id).await?;
        let Actor::Staff { user, .. } = actor else { return Err(CampaignError::Forbidden) };
        if user.role != quan_domain::Role::Official {
            return Err(CampaignError::Forbidden);
        }
        let (BatchMode::Lottery { registration_closes_at, .. }, Some(state)) = (&b.spec.mode, &b.lottery) else {
            return Err(CampaignError::NotALottery);
        };
        if state.drawn_at.is_some() {
            return Err(CampaignError::AlreadyDrawn);
        }
        if self.now() < *registration_closes_at {
            return Err(CampaignError::DrawTooEarly(*registration_closes_at));
        }
        let registrants = self.store().lottery_registrants(id).await?;
        let winners_max = b.spec.kinds.iter().map(|k| k.stock as usize).min().unwrap_or(0);
        let tickets: Vec<[u8; 16]> = registrants.iter().map(|r| *r.as_uuid().as_bytes()).collect();
        let winners: Vec<ResidentId> = lottery::draw(&state.seed, &tickets, winners_max)
            .into_iter()
            .map(|b| ResidentId::from_uuid(uuid::Uuid::from_bytes(b)))
            .collect();
        let event = CampaignEvent {
            id: self.new_uuid(),
            campaign_id: c.id,
            kind: "lottery_drawn".into(),
            amount: None,
            batch_id: Some(id),
            note: format!("{} registrants, {} winners", registrants.len(), winners.len()),
            actor: Some(user.id),
            at: self.now(),
        };
        match self.store().record_draw(id, &winners, &event).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Err(CampaignError::AlreadyDrawn),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(batch_id = %id, registrants = registrants.len(), winners = winners.len(), "lottery drawn");
        // The winners' vouchers, now. Should this fail part way (a store
        // error), the draw stands and winners claim theirs in the window.
        if let Err(e) = self.issue_to_winners(id, &winners).await {
            tracing::error!(batch_id = %id, error = %e, "issuing the winners' vouchers failed; winners can still claim");
        }
        self.lottery_record(id).await
    }

    /// Where the calling resident stands in a lottery batch: the window,
    /// whether they registered, and after the draw whether they won.
    pub async fn my_lottery(&self, actor: &Actor, id: BatchId) -> Result<MyLottery, CampaignError> {
        let Actor::Resident { resident, .. } = actor else { return Err(CampaignError::Forbidden) };
        let r = self.lottery_record(id).await?;
        let BatchMode::Lottery { registration_opens_at, registration_closes_at } = r.batch.spec.mode else {
            return Err(CampaignError::NotALottery);
        };
        let drawn = r.batch.lottery.as_ref().is_some_and(|l| l.drawn_at.is_some());
        Ok(MyLottery {
            opens: registration_opens_at,
            closes: registration_closes_at,
            registered: r.registrants.contains(&resident.id),
            won: drawn.then(|| r.winners.contains(&resident.id)),
            registrants: r.registrants.len(),
            winners_max: r.winners_max,
        })
    }

    /// The public record of a lottery. The seed is withheld until the draw.
    pub async fn lottery_record(&self, id: BatchId) -> Result<LotteryRecord, CampaignError> {
        let mut batch = self.store().batch_by_id(id).await?;
        let lottery_mode = matches!(batch.spec.mode, BatchMode::Lottery { .. });
        let Some(state) = batch.lottery.as_mut().filter(|_| lottery_mode) else {
            return Err(CampaignError::NotALottery);
        };
        if state.drawn_at.is_none() {
            state.seed = [0; 32];
        }
        let registrants = self.store().lottery_registrants(id).await?;
        let winners = self.store().lottery_winners(id).await?;
        let winners_max = batch.spec.kinds.iter().map(|k| k.stock as usize).min().unwrap_or(0);
        let issued_claims = self.store().claim_count(id).await?;
        Ok(LotteryRecord { batch, registrants, winners, winners_max, issued_claims })
    }
}
