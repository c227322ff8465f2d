//! What the console and complaints add to the store: drafts that may be
//! rewritten or deleted, and complaint tickets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::{CampaignId, MerchantId, Region, ResidentId};

use crate::{Batch, Campaign, CampaignEvent, Complaint, ComplaintEvent, ComplaintFilter, StoreError};

/// Drafts: a campaign not yet funded may be rewritten or deleted.
#[async_trait]
pub trait CampaignDraftStore: Send + Sync {
    /// Replaces a draft's campaign and all its batches (their total
    /// committed again from zero within the budget) and records the events,
    /// in one transaction, only while it is a draft holding no money
    /// (`Conflict { what: "not_a_draft" }` otherwise).
    async fn replace_draft(&self, c: &Campaign, batches: &[Batch], events: &[CampaignEvent]) -> Result<(), StoreError>;
    /// Marks a draft holding no money deleted (it is no longer found; its
    /// events stay) and records the event; `Conflict { what: "not_a_draft" }` otherwise.
    async fn delete_draft(&self, id: CampaignId, event: &CampaignEvent) -> Result<(), StoreError>;
}

/// Complaints: tickets, their photos and what happened to them.
#[async_trait]
pub trait ComplaintStore: Send + Sync {
    /// Files a ticket with its first event and photo in one transaction,
    /// unless its resident filed `per_day_max` or more at or after `since`
    /// (`Conflict { what: "complaint_limit" }`: racing filings of one
    /// resident are counted one after the other). `Conflict { what:
    /// "ticket" }` when the ticket number is taken.
    async fn insert_complaint(
        &self,
        c: &Complaint,
        photo: Option<&[u8]>,
        event: &ComplaintEvent,
        since: DateTime<Utc>,
        per_day_max: u32,
    ) -> Result<(), StoreError>;
    async fn complaint_by_id(&self, id: uuid::Uuid) -> Result<Complaint, StoreError>;
    /// The photo's bytes; `NotFound` when the ticket has none.
    async fn complaint_photo(&self, id: uuid::Uuid) -> Result<Vec<u8>, StoreError>;
    /// A resident's tickets, newest first, at most `limit`.
    async fn complaints_of_resident(&self, resident: ResidentId, limit: u32) -> Result<Vec<Complaint>, StoreError>;
    /// Tickets matching `f`, newest filed first, only those after the
    /// ticket `before` in that order when given, at most `limit`.
    async fn list_complaints(
        &self,
        f: &ComplaintFilter,
        before: Option<uuid::Uuid>,
        limit: u32,
    ) -> Result<Vec<Complaint>, StoreError>;
    /// What happened to a ticket, oldest first.
    async fn complaint_events(&self, id: uuid::Uuid) -> Result<Vec<ComplaintEvent>, StoreError>;
    /// Replaces a ticket whose stored version is still `c.version - 1` and
    /// records the event, in one transaction
    /// (`Conflict { what: "complaint_changed" }` otherwise).
    async fn update_complaint(&self, c: &Complaint, event: &ComplaintEvent) -> Result<(), StoreError>;
    /// Tickets filed before `until` whose region lies inside `within`, by filing time.
    async fn complaints_filed_before(
        &self,
        within: &Region,
        until: DateTime<Utc>,
    ) -> Result<Vec<Complaint>, StoreError>;
    /// How many tickets name the merchant.
    async fn count_complaints_of_merchant(&self, merchant: MerchantId) -> Result<u64, StoreError>;
}

/// What a reviewer is shown beside an application.
#[async_trait]
pub trait MerchantAlikeStore: Send + Sync {
    /// Other merchants sharing the merchant's settlement account number,
    /// contact phone (by its keyed hash) or address (case and spaces at
    /// the ends ignored), each with which of the three it shares; at most 20.
    async fn merchants_alike(&self, id: MerchantId) -> Result<Vec<(crate::Merchant, [bool; 3])>, StoreError>;
}

/// What an auditor searches.
#[async_trait]
pub trait TransferSearchStore: Send + Sync {
    /// A campaign's transfers whose reference starts with `reference`, oldest first, at most `limit`.
    async fn transfers_by_reference(
        &self,
        campaign: CampaignId,
        reference: &str,
        limit: u32,
    ) -> Result<Vec<crate::Transfer>, StoreError>;
}
