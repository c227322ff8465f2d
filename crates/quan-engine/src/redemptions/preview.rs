//! What a redemption would give, before the cashier or the resident
//! confirms it: the same checks and the domain's decision as a
//! redemption, nothing recorded.

use quan_domain::code::{self, CodeError, Subject};

use quan_domain::{Fen, Role, TillId};
use std::sync::Arc;

use quan_store::{StoreError, Till, Voucher};
use serde::Serialize;

use super::redeem::Decided;
use super::{OrderInput, RedemptionError};
use crate::Engine;
use crate::auth::Actor;

/// A redemption as it would be: where (shop · till), the voucher's kind and
/// face, the discount and what the resident pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub voucher_id: uuid::Uuid,
    pub shop: String,
    pub kind_name: String,
    pub face: Fen,
    pub order: Fen,
    pub discount: Fen,
    pub pays: Fen,
}

impl Preview {
    fn of(v: &Voucher, till: &Till, order: Fen, d: Decided) -> Preview {
        Preview {
            voucher_id: v.id,
            shop: format!("{} · {}", d.merchant_name, till.name),
            kind_name: d.kind_name,
            face: v.face,
            order,
            discount: d.decision.discount,
            pays: d.decision.pays,
        }
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
        self.check_scanned_voucher(&parsed, &v)?;
        let d = self.decide_redemption(&v, t.merchant_id, order, self.now()).await?;
        Ok(Preview::of(&v, &t, order.amount, d))
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
        let d = self.decide_redemption(&v, t.merchant_id, order, self.now()).await?;
        Ok(Preview::of(&v, &t, order.amount, d))
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
