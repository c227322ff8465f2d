//! Partners of the partner API in the store: the partners and their keys,
//! the nonces they have used, and their payment orders locking and
//! redeeming vouchers (支付立减).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::partner::{KeyScheme, Mode, PartnerKind, PartnerStatus, Scope};
use quan_domain::{Fen, MerchantId, ResidentId, TillId, UserId};

use crate::{Redemption, StoreError, Transfer};

/// One of a partner's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerKey {
    pub serial_no: String,
    pub scheme: KeyScheme,
    /// SM2: the SEC1 public key in hex.
    pub public_key: Option<String>,
    /// HMAC: the secret, sealed under the deployment's key.
    pub sealed_secret: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A partner as registered, with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: uuid::Uuid,
    pub name: String,
    pub kind: PartnerKind,
    pub mode: Mode,
    pub scopes: Vec<Scope>,
    /// The region of the official who registered it.
    pub region: String,
    pub status: PartnerStatus,
    pub status_reason: String,
    pub status_by: Option<UserId>,
    pub status_at: Option<DateTime<Utc>>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub keys: Vec<PartnerKey>,
}

/// A partner's payment order using a voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerOrder {
    pub id: uuid::Uuid,
    pub partner_id: uuid::Uuid,
    pub out_trade_no: String,
    pub voucher_id: uuid::Uuid,
    pub merchant_id: MerchantId,
    pub till_id: Option<TillId>,
    pub order: Fen,
    /// The discount quoted when it was locked.
    pub discount: Fen,
    /// The order's lines as JSON (`[{"sku","quantity","unit_price_fen"}]`).
    pub items: String,
    /// `locked`, `confirmed` or `reversed` as stored (a lock past its time
    /// reads as expired: `quan_domain::partner::OrderStatus::at`).
    pub status: String,
    pub locked_until: DateTime<Utc>,
    pub transaction_id: Option<String>,
    pub redemption_id: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// What a lock came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    Locked,
    /// The partner already has an order with this `out_trade_no`.
    Exists(Box<PartnerOrder>),
    /// The voucher is used, frozen, expired or locked by another order.
    VoucherTaken,
}

/// What a confirm came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Confirmed,
    /// The order is no longer locked (confirmed, reversed): as it is now.
    NotLocked(Box<PartnerOrder>),
    /// The lock ended and the voucher has been used or locked elsewhere since.
    VoucherTaken,
}

/// A lock to record: the order, and the moment it is decided at.
#[derive(Debug, Clone)]
pub struct LockItem {
    pub order: PartnerOrder,
    pub now: DateTime<Utc>,
}

/// A confirm to record: the order, the channel's transaction, the
/// redemption with its transfers (referenced as their commit's), the event.
#[derive(Debug, Clone)]
pub struct ConfirmItem {
    pub order: PartnerOrder,
    pub transaction_id: String,
    pub redemption: Redemption,
    pub transfers: Vec<Transfer>,
    pub event: crate::NewEvent,
    pub now: DateTime<Utc>,
}

/// A refund a partner asked for by its own number (`out_refund_no`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRefund {
    pub partner_id: uuid::Uuid,
    pub out_refund_no: String,
    pub order_id: uuid::Uuid,
    pub refund_id: uuid::Uuid,
    pub amount: Fen,
    pub created_at: DateTime<Utc>,
}

/// What a refund of a partner's payment writes beside the refund, in its
/// transaction: the partner's number when it asked (`Conflict { what:
/// "out_refund_no_taken" }` when the partner used it already; none for a
/// refund the merchant's till made) and the `refund.succeeded` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRefundTag {
    pub refund: Option<PartnerRefund>,
    pub event: crate::NewEvent,
}

/// Partners' orders locked and confirmed in batches (one transaction for
/// what arrived together, as the till's redemptions).
#[async_trait]
pub trait PartnerOrderStore: Send + Sync {
    /// Locks each order's voucher for it (free, unused, unfrozen, or its last
    /// lock ended) and records the order, all in one transaction; an order
    /// whose number the partner used already is `Exists`.
    async fn lock_vouchers(&self, items: &[LockItem]) -> Result<Vec<LockOutcome>, StoreError>;
    /// Confirms each locked order: the voucher redeemed (its lock its own, or
    /// ended and the voucher still free), the redemption, its transfers
    /// (merged per pair of accounts) and its event recorded, all in one transaction.
    async fn confirm_partner_orders(&self, items: &[ConfirmItem]) -> Result<Vec<ConfirmOutcome>, StoreError>;
    /// The partner's orders confirmed in `[from, until)` and still confirmed, by time.
    async fn partner_bill(
        &self,
        partner: uuid::Uuid,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<PartnerOrder>, StoreError>;
}

#[async_trait]
pub trait PartnerStore: Send + Sync {
    /// Registers a partner with its first keys; `Conflict` when the name is taken.
    async fn create_partner(&self, p: &Partner) -> Result<(), StoreError>;
    /// Every partner with its keys, by name.
    async fn partners(&self) -> Result<Vec<Partner>, StoreError>;
    /// One partner with its keys; `NotFound`.
    async fn partner(&self, id: uuid::Uuid) -> Result<Partner, StoreError>;
    /// Adds a key; `Conflict` when the serial number is the partner's already.
    async fn add_partner_key(&self, partner: uuid::Uuid, key: &PartnerKey) -> Result<(), StoreError>;
    /// Revokes a key not revoked yet; false when there is none such.
    async fn revoke_partner_key(
        &self,
        partner: uuid::Uuid,
        serial: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Cuts a partner off or lets it back; `NotFound`.
    async fn set_partner_status(
        &self,
        partner: uuid::Uuid,
        status: PartnerStatus,
        reason: &str,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Takes each (partner, nonce) until its expiry, in one transaction: for
    /// each, false when it was taken and has not expired by `now` (or is
    /// earlier in the same list). Forgets expired nonces now and then.
    async fn take_nonces(
        &self,
        nonces: &[(uuid::Uuid, String, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError>;
    /// The partner's order by its number.
    async fn partner_order(&self, partner: uuid::Uuid, out_trade_no: &str) -> Result<Option<PartnerOrder>, StoreError>;
    /// Marks an order reversed if it is `from` (`locked`: its voucher's lock
    /// is lifted too), with its webhook event; the order as it is after,
    /// `None` when it was not `from`.
    async fn reverse_partner_order(
        &self,
        order: uuid::Uuid,
        from: &str,
        event: &crate::NewEvent,
        now: DateTime<Utc>,
    ) -> Result<Option<PartnerOrder>, StoreError>;
    /// An order by its id.
    async fn partner_order_by_id(&self, id: uuid::Uuid) -> Result<PartnerOrder, StoreError>;
    /// The confirmed order that made a redemption, if a partner's did.
    async fn partner_order_by_redemption(&self, redemption: uuid::Uuid) -> Result<Option<PartnerOrder>, StoreError>;
    /// The partner's refund by its number.
    async fn partner_refund(
        &self,
        partner: uuid::Uuid,
        out_refund_no: &str,
    ) -> Result<Option<PartnerRefund>, StoreError>;
    /// The refunds the partner asked for of one order, oldest first.
    async fn partner_refunds_of(&self, order: uuid::Uuid) -> Result<Vec<PartnerRefund>, StoreError>;
}

/// A resident's binding to a partner, as the resident reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub partner_id: uuid::Uuid,
    pub partner_name: String,
    pub created_at: DateTime<Utc>,
}

/// Residents bound to partners by one-time codes, known to them by a pairwise id.
#[async_trait]
pub trait BindingStore: Send + Sync {
    /// Keeps a code's hash for the resident and partner until `expires`.
    async fn add_binding_code(
        &self,
        code_hash: &[u8],
        partner: uuid::Uuid,
        resident: ResidentId,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Uses a code made for `partner` that is unused and live at `now`: its resident.
    async fn use_binding_code(
        &self,
        code_hash: &[u8],
        partner: uuid::Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<ResidentId>, StoreError>;
    /// Binds (or binds again) the resident to the partner under `openid`.
    async fn bind_resident(
        &self,
        partner: uuid::Uuid,
        resident: ResidentId,
        openid: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The resident a partner's live binding names.
    async fn bound_resident(&self, partner: uuid::Uuid, openid: &str) -> Result<Option<ResidentId>, StoreError>;
    /// The resident's live bindings.
    async fn bindings_of(&self, resident: ResidentId) -> Result<Vec<Binding>, StoreError>;
    /// Ends a live binding; false when there was none.
    async fn unbind_resident(
        &self,
        partner: uuid::Uuid,
        resident: ResidentId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
