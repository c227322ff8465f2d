//! Residents bound to partners without their identity: a resident makes a
//! one-time code for a partner in quan (10 minutes, used once) and gives it
//! to the partner's app; the partner redeems it for a pairwise
//! `resident_openid` (a keyed hash of partner and resident: another partner
//! gets another id for the same person) and from then on quotes over the
//! resident's vouchers and locks one by id. No phone number, ID number or
//! position ever goes to a partner. The resident lists and ends bindings.

use chrono::{DateTime, Utc};
use quan_domain::ResidentId;
use quan_domain::partner::PartnerStatus;
use quan_domain::redemption::{Refusal, VoucherState};
use quan_store::{Binding, StoreError, Voucher};
use serde::Serialize;
use sha2::Digest;

use super::auth::Authed;
use super::{CheckoutError, CheckoutInput, QuoteView};
use crate::Engine;
use crate::auth::Actor;
use crate::redemptions::{OrderInput, RedemptionError};

/// How long a binding code lives.
const CODE_TTL_S: i64 = 600;

/// A code the resident gives the partner's app.
#[derive(Debug, Clone, Serialize)]
pub struct BindingCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

fn resident(actor: &Actor) -> Result<ResidentId, CheckoutError> {
    match actor {
        Actor::Resident { resident, .. } => Ok(resident.id),
        Actor::Staff { .. } => Err(CheckoutError::Redemption(RedemptionError::Forbidden)),
    }
}

pub(super) fn code_hash(partner: uuid::Uuid, code: &str) -> Vec<u8> {
    sha2::Sha256::digest(format!("{partner}:{}", code.trim()).as_bytes()).to_vec()
}

impl Engine {
    /// A resident makes a one-time code binding them to an active partner.
    pub async fn new_binding_code(&self, actor: &Actor, partner: uuid::Uuid) -> Result<BindingCode, CheckoutError> {
        let me = resident(actor)?;
        match self.store().partner(partner).await {
            // Test partners live in the sandbox, with test residents only.
            Ok(p) if p.status == PartnerStatus::Active && p.mode == quan_domain::partner::Mode::Live => {}
            Ok(_) | Err(StoreError::NotFound) => return Err(CheckoutError::PartnerNotFound),
            Err(e) => return Err(e.into()),
        }
        let expires_at = self.now() + chrono::Duration::seconds(CODE_TTL_S);
        for _ in 0..3 {
            let code = format!("{:08}", self.inner.random.u64() % 100_000_000);
            match self.store().add_binding_code(&code_hash(partner, &code), partner, me, expires_at).await {
                Ok(()) => return Ok(BindingCode { code, expires_at }),
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(CheckoutError::Redemption(RedemptionError::Busy))
    }

    /// The partner redeems a resident's code: the resident's id for it.
    pub async fn bind_with_code(&self, a: &Authed, code: &str) -> Result<String, CheckoutError> {
        let now = self.now();
        let Some(me) = self.store().use_binding_code(&code_hash(a.partner.id, code), a.partner.id, now).await? else {
            return Err(CheckoutError::BindingCodeInvalid);
        };
        let mark = self.inner.pii_key.hash("partner-openid", format!("{}:{}", a.partner.id, me).as_bytes());
        let openid = format!("ro_{}", hex::encode(&mark.as_bytes()[..16]));
        self.store().bind_resident(a.partner.id, me, &openid, now).await?;
        tracing::info!(partner_id = %a.partner.id, "a resident bound to a partner");
        Ok(openid)
    }

    /// The partners a resident may bind: active and live, by name.
    pub async fn bindable_partners(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(uuid::Uuid, String, &'static str)>, CheckoutError> {
        resident(actor)?;
        let all = self.store().partners().await?;
        Ok(all
            .into_iter()
            .filter(|p| p.status == PartnerStatus::Active && p.mode == quan_domain::partner::Mode::Live)
            .map(|p| (p.id, p.name, p.kind.as_str()))
            .collect())
    }

    /// The resident's bindings.
    pub async fn my_bindings(&self, actor: &Actor) -> Result<Vec<Binding>, CheckoutError> {
        Ok(self.store().bindings_of(resident(actor)?).await?)
    }

    /// The resident ends a binding: the partner no longer finds them.
    pub async fn unbind(&self, actor: &Actor, partner: uuid::Uuid) -> Result<(), CheckoutError> {
        if self.store().unbind_resident(partner, resident(actor)?, self.now()).await? {
            Ok(())
        } else {
            Err(CheckoutError::PartnerNotFound)
        }
    }

    /// What each of a bound resident's usable vouchers takes off the order, the best first.
    pub async fn partner_quote_bound(
        &self,
        a: &Authed,
        resident_openid: &str,
        input: CheckoutInput,
    ) -> Result<Vec<QuoteView>, CheckoutError> {
        let me = self.bound(a, resident_openid).await?;
        let channel = a.partner.id.to_string();
        let now = self.now();
        let order = OrderInput { amount: input.amount, items: input.items.clone(), ..OrderInput::default() };
        let mut out = Vec::new();
        for v in self.store().vouchers_of(me).await? {
            if v.state != VoucherState::Claimed {
                continue;
            }
            if let Ok(d) = self.decide_redemption_via(&v, input.merchant_id, &order, Some(&channel), now).await {
                let discount = d.decision.discount.as_i64();
                out.push(QuoteView {
                    voucher_id: v.id,
                    kind_name: d.kind_name,
                    face_fen: v.face.as_i64(),
                    amount_fen: input.amount.as_i64(),
                    discount_fen: discount,
                    payable_fen: input.amount.as_i64() - discount,
                });
            }
        }
        out.sort_by(|x, y| y.discount_fen.cmp(&x.discount_fen).then(x.voucher_id.cmp(&y.voucher_id)));
        Ok(out)
    }

    /// A bound resident's voucher, by id: theirs, and not used.
    pub(super) async fn bound_voucher(
        &self,
        a: &Authed,
        openid: &str,
        id: uuid::Uuid,
    ) -> Result<Voucher, CheckoutError> {
        let me = self.bound(a, openid).await?;
        let v = match self.store().voucher_by_id(id).await {
            Ok(v) if v.resident_id == me => v,
            Ok(_) | Err(StoreError::NotFound) => return Err(CheckoutError::Redemption(RedemptionError::NotFound)),
            Err(e) => return Err(e.into()),
        };
        if v.state == VoucherState::Redeemed {
            return Err(CheckoutError::Redemption(RedemptionError::Refused(Refusal::AlreadyRedeemed)));
        }
        Ok(v)
    }

    pub(super) async fn bound_resident_id(&self, a: &Authed, openid: &str) -> Result<ResidentId, CheckoutError> {
        self.bound(a, openid).await
    }

    async fn bound(&self, a: &Authed, openid: &str) -> Result<ResidentId, CheckoutError> {
        self.store().bound_resident(a.partner.id, openid.trim()).await?.ok_or(CheckoutError::ResidentNotBound)
    }
}
