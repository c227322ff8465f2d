//! One router per area of the API.

pub mod auth;
pub mod batches;
pub mod campaign_docs;
pub mod campaigns;
pub mod cases;
pub mod channels;
pub mod claims;
pub mod complaints;
pub mod districts;
pub mod eligibility;
pub mod holds;
pub mod merchant_books;
pub mod merchant_contact;
pub mod merchant_docs;
pub mod merchants;
pub mod ops;
pub mod partner;
pub mod partner_bindings;
pub mod partner_claims;
pub mod partner_refunds;
pub mod partner_sandbox;
pub mod partners;
pub mod redemptions;
pub mod reports;
pub mod resident;
pub mod risk;
pub mod till_events;
pub mod users;

/// A campaign id from a path: an id that does not parse names no campaign.
pub(crate) fn campaign_id(raw: &str) -> Result<quan_domain::CampaignId, crate::error::ApiError> {
    raw.parse().map_err(|_| crate::error::ApiError::not_found())
}
