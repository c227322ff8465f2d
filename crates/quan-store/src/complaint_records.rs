//! What the store keeps of complaints.

use chrono::{DateTime, Utc};
use quan_domain::complaint::{ComplaintAction, ComplaintKind, ComplaintState, Outcome};
use quan_domain::{CampaignId, MerchantId, Region, ResidentId, Role, UserId};

/// A resident's ticket as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Complaint {
    pub id: uuid::Uuid,
    /// What the resident quotes on the phone: `TS20261206-483920`.
    pub ticket: String,
    pub resident: ResidentId,
    pub kind: ComplaintKind,
    pub body: String,
    /// Who may see it: staff whose region contains this (the merchant's
    /// district, else the district the resident chose, else the campaign's).
    pub region: Region,
    pub voucher: Option<uuid::Uuid>,
    pub redemption: Option<uuid::Uuid>,
    pub merchant: Option<MerchantId>,
    pub campaign: Option<CampaignId>,
    /// `image/jpeg` or `image/png` when a photo is attached.
    pub photo_type: Option<String>,
    pub state: ComplaintState,
    pub outcome: Option<Outcome>,
    pub assignee: Option<UserId>,
    /// Whether the merchant was ever asked (its owner sees the ticket from then on).
    pub merchant_asked: bool,
    pub filed_at: DateTime<Utc>,
    pub answer_due: DateTime<Utc>,
    pub close_due: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Starts at 1; each action adds one (optimistic concurrency).
    pub version: i64,
}

/// One thing that happened to a ticket, with who may read its text.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintEvent {
    pub id: uuid::Uuid,
    pub complaint: uuid::Uuid,
    /// `filed` or a [`ComplaintAction`]'s name.
    pub action: String,
    pub actor_user: Option<UserId>,
    pub actor_role: Role,
    pub body: String,
    pub resident_reads: bool,
    pub merchant_reads: bool,
    pub at: DateTime<Utc>,
}

impl ComplaintEvent {
    pub fn action(&self) -> Option<ComplaintAction> {
        ComplaintAction::parse(&self.action)
    }
}

/// Which tickets a staff list shows.
#[derive(Debug, Clone)]
pub struct ComplaintFilter {
    pub within: Region,
    pub state: Option<ComplaintState>,
    /// Only tickets not closed (any state but `closed`).
    pub open_only: bool,
    pub merchant: Option<MerchantId>,
    /// Only tickets the merchant was asked about.
    pub merchant_asked: bool,
    /// Only those overdue at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
}

impl ComplaintFilter {
    pub fn within(region: &Region) -> ComplaintFilter {
        ComplaintFilter {
            within: region.clone(),
            state: None,
            open_only: false,
            merchant: None,
            merchant_asked: false,
            overdue_at: None,
        }
    }
}
