//! Operators work the redemptions the cash-out rules held: list the open
//! holds of their region, release one (its subsidy back to the merchant's
//! payable account, paid by the next settlement) or recover it (a confirmed
//! fraud: the subsidy back to the campaign's budget). Each decision is
//! recorded with who, when and why, with its posting, in one transaction.

use quan_domain::Role;
use quan_domain::postings::{self, Parties, RiskStep};
use quan_store::{HoldDecision, Redemption, StoreError};

use super::RiskError;
use crate::Engine;
use crate::auth::Actor;

/// What an operator decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOutcome {
    Release,
    Recover,
}

impl HoldOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldOutcome::Release => "released",
            HoldOutcome::Recover => "recovered",
        }
    }
}

/// A held redemption with its merchant's name.
#[derive(Debug, Clone)]
pub struct Held {
    pub redemption: Redemption,
    pub merchant_name: String,
}

/// Open holds an operator reads at most.
const HOLDS_LISTED_MAX: u32 = 500;

impl Engine {
    /// The open holds of the operator's region, oldest first.
    pub async fn risk_holds(&self, actor: &Actor) -> Result<Vec<Held>, RiskError> {
        let user = self.hold_desk(actor)?;
        let mut out = Vec::new();
        let mut names = std::collections::HashMap::new();
        for r in self.store().open_risk_holds(HOLDS_LISTED_MAX).await? {
            if let std::collections::hash_map::Entry::Vacant(e) = names.entry(r.merchant_id) {
                let m = self.store().merchant_by_id(r.merchant_id).await?;
                let mine = user.region.contains_district(&m.app.district);
                e.insert(mine.then_some(m.app.legal_name));
            }
            if let Some(Some(name)) = names.get(&r.merchant_id) {
                out.push(Held { merchant_name: name.clone(), redemption: r });
            }
        }
        Ok(out)
    }

    /// Releases or recovers one held redemption, with the operator's note.
    pub async fn decide_risk_hold(
        &self,
        actor: &Actor,
        redemption: uuid::Uuid,
        outcome: HoldOutcome,
        note: &str,
    ) -> Result<Redemption, RiskError> {
        let user = self.hold_desk(actor)?.clone();
        let note = quan_domain::invalid::text("note", note, 500)?;
        let r = self.store().redemption_by_id(redemption).await?;
        let m = self.store().merchant_by_id(r.merchant_id).await?;
        if !user.region.contains_district(&m.app.district) {
            return Err(RiskError::NotFound);
        }
        let Some(hold) = r.risk.clone() else { return Err(RiskError::NotFound) };
        if hold.outcome.is_some() {
            return Err(RiskError::HoldDecided);
        }
        let now = self.now();
        let step = match outcome {
            HoldOutcome::Release => RiskStep::Release,
            HoldOutcome::Recover => RiskStep::Recover,
        };
        let parties = Parties { campaign: r.campaign_id, merchant: r.merchant_id };
        let transfers: Vec<_> = (hold.still_held > quan_domain::Fen::ZERO)
            .then(|| self.transfer(postings::risk(parties, step, hold.still_held), &format!("risk_hold:{}", r.id), now))
            .into_iter()
            .collect();
        let d = HoldDecision {
            redemption_id: r.id,
            outcome: outcome.as_str(),
            by: user.id,
            at: now,
            note: note.clone(),
            amount: hold.still_held,
        };
        match self.store().decide_risk_hold(&d, &transfers).await {
            Ok(()) => {}
            Err(StoreError::Conflict { what: "hold_decided" }) => return Err(RiskError::HoldDecided),
            Err(StoreError::Conflict { what: "hold_changed" }) => return Err(RiskError::HoldChanged),
            Err(e) => return Err(e.into()),
        }
        tracing::warn!(redemption_id = %r.id, merchant_id = %r.merchant_id, outcome = outcome.as_str(), amount_fen = hold.still_held.as_i64(), by = %user.id, "risk hold decided");
        Ok(self.store().redemption_by_id(redemption).await?)
    }

    fn hold_desk<'a>(&self, actor: &'a Actor) -> Result<&'a quan_store::User, RiskError> {
        match actor {
            Actor::Staff { user, .. } if user.role == Role::Operator => Ok(user),
            _ => Err(RiskError::Forbidden),
        }
    }
}
