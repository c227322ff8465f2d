//! What a redemption would give, before the cashier or the resident
//! confirms it: the same checks and the domain's decision as a
//! redemption, nothing recorded.

use quan_domain::code::{self, CodeError, Subject};
use quan_domain::redemption::{Decision, Refusal, VoucherState};
use quan_domain::{Fen, Role, TillId};
use std::sync::Arc;

use quan_store::{StoreError, Till};
use serde::Serialize;

use super::{OrderInput, RedemptionError};
use crate::Engine;
use crate::auth::Actor;

/// A redemption as it would be: the voucher's kind and face, the discount
/// and what the resident pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub voucher_id: uuid::Uuid,
    pub kind_name: String,
    pub face: Fen,
    pub order: Fen,
    pub discount: Fen,
    pub pays: Fen,
}

impl Preview {
    fn of(voucher_id: uuid::Uuid, face: Fen, order: Fen, kind_name: String, d: &Decision) -> Preview {
        Preview { voucher_id, kind_name, face, order, discount: d.discount, pays: d.pays }
    }
}

impl Engine {
    /// 用户出示、商家扫码, before confirming: what the scanned voucher code
    /// would give on this order at the cashier's till.
    pub async fn preview_scanned(
        &self,
        actor: &Actor,
        raw_code: &str,
        order: &OrderInput,
    ) -> Result<Preview, RedemptionError> {
        let Actor::Staff { user, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let (Role::Cashier, Some(till)) = (user.role, user.till) else { return Err(RedemptionError::Forbidden) };
        let t = self.till_for_redemption(till).await?;
        let parsed = code::parse(raw_code).map_err(RedemptionError::Code)?;
        let Subject::Voucher(voucher_id) = parsed.subject else {
            return Err(RedemptionError::Code(CodeError::WrongSubject { expected: "voucher", found: "till" }));
        };
        let v = match self.store().voucher_by_id(voucher_id).await {
            Ok(v) => v,
            Err(StoreError::NotFound) => return Err(RedemptionError::Code(CodeError::BadMac)),
            Err(e) => return Err(e.into()),
        };
        self.check_mac(&parsed, v.resident_id.as_uuid()).map_err(RedemptionError::Code)?;
        if v.state == VoucherState::Redeemed {
            return Err(RedemptionError::Refused(Refusal::AlreadyRedeemed));
        }
        self.check_window(&parsed).map_err(RedemptionError::Code)?;
        let (name, d) = self.decide_redemption(&v, t.merchant_id, order, self.now()).await?;
        Ok(Preview::of(v.id, v.face, order.amount, name, &d))
    }

    /// 商家出示、用户扫码, before confirming: what one of the resident's
    /// vouchers would give on this order at the till whose code they scanned.
    pub async fn preview_at_scanned_till(
        &self,
        actor: &Actor,
        raw_code: &str,
        voucher_id: uuid::Uuid,
        order: &OrderInput,
    ) -> Result<Preview, RedemptionError> {
        let Actor::Resident { resident, .. } = actor else { return Err(RedemptionError::Forbidden) };
        let t = self.scanned_till(raw_code).await?;
        let v = self.store().voucher_by_id(voucher_id).await?;
        if v.resident_id != resident.id {
            return Err(RedemptionError::NotFound);
        }
        let (name, d) = self.decide_redemption(&v, t.merchant_id, order, self.now()).await?;
        Ok(Preview::of(v.id, v.face, order.amount, name, &d))
    }

    /// The name of the till a scanned till code names, for the resident to
    /// see where they are paying before choosing a voucher.
    pub async fn scanned_till_name(&self, actor: &Actor, raw_code: &str) -> Result<String, RedemptionError> {
        let Actor::Resident { .. } = actor else { return Err(RedemptionError::Forbidden) };
        let t = self.scanned_till(raw_code).await?;
        let m = self.merchant_for_redemption(t.merchant_id).await?;
        Ok(format!("{} · {}", m.app.legal_name, t.name))
    }

    /// The till a scanned till code names, its code checked (signature and window).
    pub(super) async fn scanned_till(&self, raw_code: &str) -> Result<Arc<Till>, RedemptionError> {
        let parsed = code::parse(raw_code).map_err(RedemptionError::Code)?;
        let Subject::Till(till) = parsed.subject else {
            return Err(RedemptionError::Code(CodeError::WrongSubject { expected: "till", found: "voucher" }));
        };
        let t = match self.till_for_redemption(TillId::from_uuid(till)).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => return Err(RedemptionError::Code(CodeError::BadMac)),
            Err(e) => return Err(e.into()),
        };
        self.check_mac(&parsed, t.merchant_id.as_uuid()).map_err(RedemptionError::Code)?;
        self.check_window(&parsed).map_err(RedemptionError::Code)?;
        Ok(t)
    }
}
