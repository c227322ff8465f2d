//! Webhooks in the store: partners' endpoints and the outbox of events,
//! claimed by delivery workers (several nodes share them on PostgreSQL).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// A partner's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub partner_id: uuid::Uuid,
    pub url: String,
    /// The `whsec_` secret, sealed under the deployment's key.
    pub sealed_secret: Vec<u8>,
    /// `active` or `disabled`.
    pub status: String,
    pub status_reason: String,
    pub updated_at: DateTime<Utc>,
}

/// An event for the outbox, written with the change it tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub id: uuid::Uuid,
    pub partner_id: uuid::Uuid,
    /// `redemption.confirmed`, `redemption.reversed`, `webhook.test`, …
    pub kind: String,
    /// What the event is about (a voucher's id): delivered in order per subject.
    pub subject: String,
    /// The body sent, JSON.
    pub payload: String,
    pub at: DateTime<Utc>,
}

/// A voucher that just expired, held by a resident bound to an active
/// partner: what its `voucher.expired` event is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredBound {
    pub voucher_id: uuid::Uuid,
    pub face: quan_domain::Fen,
    pub partner_id: uuid::Uuid,
    pub openid: String,
}

/// Makes the event telling a partner of an expired voucher (the engine's
/// shape and ids), written in the expiry's transaction.
pub type TellExpired<'a> = dyn Fn(&ExpiredBound) -> NewEvent + Send + Sync + 'a;

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub seq: i64,
    pub id: uuid::Uuid,
    pub partner_id: uuid::Uuid,
    pub kind: String,
    pub subject: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<u16>,
    pub last_error: String,
    pub done_at: Option<DateTime<Utc>>,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        status: u16,
    },
    /// Tried again at `next_at`.
    Retry {
        status: Option<u16>,
        error: String,
        next_at: DateTime<Utc>,
    },
    /// Given up: the endpoint is disabled with `reason` (a 410, or the schedule spent).
    Dead {
        status: Option<u16>,
        error: String,
        reason: String,
    },
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Sets (or replaces) a partner's endpoint, active.
    async fn set_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError>;
    async fn webhook_endpoint(&self, partner: uuid::Uuid) -> Result<Option<WebhookEndpoint>, StoreError>;
    /// Writes an event on its own (a test event, a settlement's); one whose
    /// id is stored already is not written again.
    async fn add_webhook_event(&self, e: &NewEvent) -> Result<(), StoreError>;
    /// Claims up to `limit` due events of active partners with active
    /// endpoints, each the earliest pending of its subject, until
    /// `lease_until` (another worker skips them meanwhile): with their endpoint.
    async fn claim_webhook_events(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(WebhookEvent, WebhookEndpoint)>, StoreError>;
    /// Records an attempt (and, for `Dead`, disables the endpoint).
    async fn record_webhook_attempt(
        &self,
        event: &WebhookEvent,
        outcome: &AttemptOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// A partner's events, oldest first.
    async fn webhook_events(&self, partner: uuid::Uuid) -> Result<Vec<WebhookEvent>, StoreError>;
}
