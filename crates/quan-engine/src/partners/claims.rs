//! Claims through a partner's app (its channel): the partner claims for a
//! resident bound to it, under the batch's rules and limits as in quan's
//! own H5, from the partner's share of the stock; its `out_request_no`
//! makes the claim once; a `voucher.claimed` event is written in the
//! claim's commit.

use quan_domain::BatchId;
use quan_domain::partner;
use sha2::Digest;

use super::auth::Authed;
use super::{CheckoutError, PartnerClaimError};
use crate::Engine;
use crate::claims::{ClaimContext, ClaimKeying, ClaimRejection, Claimed, KeyedAnswer, Via};
use crate::districts::Position;

/// What a partner asks to claim.
#[derive(Debug, Clone)]
pub struct PartnerClaimInput {
    pub resident_openid: String,
    pub batch_id: BatchId,
    pub kind_code: Option<String>,
    /// The partner's own request number: the same one again answers the same claim.
    pub out_request_no: String,
    /// Where the resident's phone is, when the batch asks for a district.
    pub position: Option<Position>,
}

impl Engine {
    /// Claims a voucher of the batch for a resident bound to the partner,
    /// counted against the batch's limits and the partner's share of its
    /// stock. The same `out_request_no` again answers the same claim; for
    /// another resident, batch or kind it is refused.
    pub async fn partner_claim(&self, a: &Authed, input: PartnerClaimInput) -> Result<Claimed, PartnerClaimError> {
        partner::check_order_no("out_request_no", &input.out_request_no, partner::REFUND_NO_MAX)
            .map_err(|e| PartnerClaimError::Checkout(CheckoutError::Invalid(e)))?;
        if a.partner.mode == partner::Mode::Test && !self.config().sandbox {
            return Err(PartnerClaimError::Checkout(CheckoutError::TestMode));
        }
        let openid = input.resident_openid.trim();
        let resident_id = self.bound_resident_id(a, openid).await.map_err(PartnerClaimError::Checkout)?;
        let resident =
            self.store().resident_by_id(resident_id).await.map_err(|e| PartnerClaimError::Claim(e.into()))?;
        let mut fingerprint = sha2::Sha256::new();
        for part in [openid, &input.batch_id.to_string(), input.kind_code.as_deref().unwrap_or("")] {
            fingerprint.update(part.as_bytes());
            fingerprint.update([0]);
        }
        let keying = ClaimKeying {
            scope: format!("partner-claim:{}", a.partner.id),
            key: input.out_request_no.clone(),
            request_hash: fingerprint.finalize().into(),
        };
        let via =
            Via { partner: a.partner.id, openid: openid.to_owned(), out_request_no: input.out_request_no.clone() };
        let ask = (input.kind_code.as_deref(), input.position);
        let ctx = ClaimContext::default();
        let started = std::time::Instant::now();
        let answer = self.claim_by(&resident, input.batch_id, ask, Some(keying.clone()), &ctx, Some(via)).await;
        // Counted on the grab dashboard with quan's own claims.
        if !matches!(answer, Err(ClaimRejection::NotFound | ClaimRejection::Forbidden)) {
            self.count_claim(input.batch_id, crate::grab_stats::outcome_of(&answer), started.elapsed());
        }
        match answer {
            Ok(c) => {
                tracing::info!(partner_id = %a.partner.id, claim_id = %c.claim_id, batch_id = %c.batch_id, "claimed through a partner");
                Ok(c)
            }
            // Refused as new: was the number used before?
            Err(e) => match self.claim_answer(&keying).await.map_err(PartnerClaimError::Claim)? {
                Some(KeyedAnswer::Claimed(c)) => Ok(c),
                Some(KeyedAnswer::Mismatch) => Err(PartnerClaimError::RequestNoReused),
                Some(KeyedAnswer::InFlight) => Err(PartnerClaimError::Claim(ClaimRejection::Busy)),
                Some(KeyedAnswer::Stored { .. }) | None => Err(PartnerClaimError::Claim(e)),
            },
        }
    }

    /// The `voucher.claimed` event of a claim through a partner.
    pub(crate) fn claim_event(&self, via: &Via, b: &quan_store::Batch, c: &Claimed) -> quan_store::NewEvent {
        let vouchers: Vec<serde_json::Value> = c
            .vouchers
            .iter()
            .map(|v| serde_json::json!({"voucher_id": v.id, "tier": v.tier, "face_fen": v.face.as_i64()}))
            .collect();
        let data = serde_json::json!({
            "resident_openid": via.openid,
            "out_request_no": via.out_request_no,
            "claim_id": c.claim_id,
            "campaign_id": b.campaign_id,
            "batch_id": b.id,
            "kind_code": c.kind_code,
            "vouchers": vouchers,
        });
        let subject = c.vouchers.first().map_or_else(|| c.claim_id.to_string(), |v| v.id.to_string());
        self.partner_event(via.partner, "voucher.claimed", &subject, data)
    }
}
