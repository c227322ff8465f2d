//! Working a ticket: assign, reply, ask the merchant, the merchant's answer,
//! escalate, close — each allowed to whom the domain says, each kept.

use quan_domain::complaint::{ComplaintAction, Outcome, complaint_text, next_state};
use quan_domain::{Role, UserId};
use quan_store::{Complaint, StoreError};
use serde::{Deserialize, Serialize};

use super::{ComplaintError, ComplaintView, Reader, invalid};
use crate::Engine;
use crate::auth::Actor;

/// One action on a ticket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActInput {
    /// `assign`, `reply`, `ask_merchant`, `merchant_answer`, `escalate` or `close`.
    pub action: String,
    /// Required for every action but `assign` (1 to 1 000 characters).
    pub text: Option<String>,
    /// For `close`: `resolved`, `rejected` or `referred`.
    pub outcome: Option<String>,
    /// For `assign`: the operator or official to take it (default: me).
    pub assignee: Option<UserId>,
    /// The version read; the action is refused if the ticket changed since.
    pub version: Option<i64>,
}

impl Engine {
    pub async fn act_on_complaint(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        input: &ActInput,
    ) -> Result<ComplaintView, ComplaintError> {
        let action = ComplaintAction::parse(input.action.trim())
            .ok_or_else(|| invalid("action", "unknown_action", "must be one of the actions on a complaint"))?;
        let Actor::Staff { user, .. } = actor else { return Err(ComplaintError::Forbidden) };
        let c = self.store().complaint_by_id(id).await?;
        if Reader::of(actor, &c).is_none() {
            return Err(ComplaintError::NotFound);
        }
        if !action.allowed(user.role, c.state) {
            return Err(ComplaintError::Forbidden);
        }
        if input.version.is_some_and(|v| v != c.version) {
            return Err(ComplaintError::Concurrent);
        }
        let state = next_state(c.state, action, c.merchant.is_some()).map_err(ComplaintError::Invalid)?;
        let body = if action.needs_text() {
            complaint_text("text", input.text.as_deref().unwrap_or("")).map_err(ComplaintError::Invalid)?
        } else {
            String::new()
        };
        let outcome = match action {
            ComplaintAction::Close => {
                Some(Outcome::parse(input.outcome.as_deref().unwrap_or("").trim()).ok_or_else(|| {
                    invalid("outcome", "required", "say how it ended: resolved, rejected or referred")
                })?)
            }
            _ => None,
        };
        let mut next = Complaint { state, version: c.version + 1, ..c.clone() };
        let mut note = body.clone();
        let now = self.now();
        match action {
            ComplaintAction::Assign => {
                let to = self.assignee(&c, input.assignee.unwrap_or(user.id)).await?;
                note = format!("{} ({})", to.display_name, to.username);
                next.assignee = Some(to.id);
            }
            ComplaintAction::AskMerchant => next.merchant_asked = true,
            ComplaintAction::Close => {
                next.outcome = outcome;
                next.closed_at = Some(now);
            }
            _ => {}
        }
        if action.answers_resident() && next.answered_at.is_none() {
            next.answered_at = Some(now);
        }
        if next.assignee.is_none() && matches!(user.role, Role::Operator | Role::Official) {
            next.assignee = Some(user.id);
        }
        let event = self.complaint_event(
            &c,
            action.as_str(),
            Some(user.id),
            user.role,
            &note,
            action.resident_reads(),
            action.merchant_reads(),
        );
        match self.store().update_complaint(&next, &event).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Err(ComplaintError::Concurrent),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(complaint = %c.id, action = action.as_str(), to = next.state.as_str(), by = %user.id, "complaint acted on");
        self.complaint(actor, id).await
    }

    /// An operator or official of a region containing the ticket's, enabled.
    async fn assignee(&self, c: &Complaint, id: UserId) -> Result<quan_store::User, ComplaintError> {
        let refused = || invalid("assignee", "not_staff_here", "must be an operator or official of this region");
        let u = match self.store().user_by_id(id).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => return Err(refused()),
            Err(e) => return Err(e.into()),
        };
        let ok = matches!(u.role, Role::Operator | Role::Official) && !u.disabled && u.region.contains(&c.region);
        if ok { Ok(u) } else { Err(refused()) }
    }
}
