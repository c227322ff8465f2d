//! Test mode: a sandbox for test partners. A second engine over a store of
//! its own (`sandbox.db` beside `quan.db`, or the `quan_sandbox` schema on
//! PostgreSQL) answers every call a test partner makes, after the live
//! engine checked its signature, nonce, standing and scope. Its campaign,
//! shop and residents are made by the same use cases as live ones, so a
//! bank's engineer meets the real rules, refusals and events; nothing a
//! test partner does reaches live vouchers, money or reports, and a live
//! partner never reaches the sandbox.
//!
//! A test partner mints residents (each with a one-time binding code, bound
//! through `POST /partner/v1/bindings` as in production), mints vouchers for
//! them (claims through its own channel, which gets a share of the sandbox
//! batch when it first comes), asks a voucher's current dynamic code (what
//! the resident's phone would show) and fires sample events of any type.

mod world;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use quan_domain::partner::Mode;
use quan_domain::{Invalid, PhoneNumber};
use quan_store::{Resident, Store, StoreError};
use serde::Serialize;

pub use world::{SandboxKind, SandboxWorld};

use super::auth::Authed;
use super::{CheckoutError, PartnerAuthError, PartnerClaimError, PartnerClaimInput};
use crate::rejection::{Rejection, Status};
use crate::{Engine, EngineParts, MemorySmsSender};

/// How long a minted resident's binding code lives.
const CODE_TTL_S: i64 = 600;
/// Units of each kind a test partner's channel gets when it first comes.
const SHARE: i64 = 10_000;

/// The live engine's sandbox (once attached); the sandbox engine's world
/// and the partners it has copied in.
#[derive(Debug, Default)]
pub(crate) struct SandboxSlot {
    engine: OnceLock<Engine>,
    world: tokio::sync::Mutex<Option<SandboxWorld>>,
    /// Partners given their share, by the batch they got it in (a new
    /// world, made when the last one is about to close, shares again).
    partners: Mutex<HashSet<(uuid::Uuid, quan_domain::BatchId)>>,
}

/// Why a sandbox call was refused.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox is for test partners: a live partner's calls reach live data only")]
    LiveMode,
    #[error("{0}")]
    Invalid(Invalid),
    #[error("the sandbox could not be made ready: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Claim(PartnerClaimError),
    #[error("{0}")]
    Checkout(CheckoutError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for SandboxError {
    fn status(&self) -> Status {
        match self {
            SandboxError::LiveMode => Status::Forbidden,
            SandboxError::Invalid(_) => Status::Unprocessable,
            SandboxError::Unavailable(_) => Status::Unavailable,
            SandboxError::Claim(e) => e.status(),
            SandboxError::Checkout(e) => e.status(),
            SandboxError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            SandboxError::LiveMode => "live_mode",
            SandboxError::Invalid(i) => i.rule,
            SandboxError::Unavailable(_) => "sandbox_unavailable",
            SandboxError::Claim(e) => e.code(),
            SandboxError::Checkout(e) => e.code(),
            SandboxError::Store(_) => "internal",
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            SandboxError::Invalid(i) => Some(&i.field),
            SandboxError::Claim(e) => e.field(),
            SandboxError::Checkout(e) => e.field(),
            _ => None,
        }
    }
    fn retry_after_s(&self) -> Option<u64> {
        match self {
            SandboxError::Claim(e) => e.retry_after_s(),
            _ => None,
        }
    }
}

/// A test resident: the code that binds them to the partner.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxResident {
    pub binding_code: String,
    pub expires_at: DateTime<Utc>,
    /// The made-up phone number, masked as anywhere else.
    pub phone_masked: String,
}

/// A test voucher and the code the resident's phone would show now.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxVoucher {
    pub voucher_id: uuid::Uuid,
    pub claim_id: uuid::Uuid,
    pub kind_code: String,
    pub face_fen: i64,
    pub voucher_code: String,
    pub code_expires_at: DateTime<Utc>,
}

impl Engine {
    /// Gives this (live) engine a sandbox over `store`: the same clock,
    /// key and rules, SMS never sent, the districts this engine knows.
    /// Test partners' calls go there from now on.
    pub fn attach_sandbox(&self, store: Arc<dyn Store>) -> Engine {
        let sandbox = Engine::new(EngineParts {
            store,
            clock: self.inner.clock.clone(),
            random: self.inner.random.clone(),
            sms: Arc::new(MemorySmsSender::default()),
            pii_key: self.inner.pii_key.clone(),
            config: crate::EngineConfig { sandbox: true, ..self.inner.config.clone() },
        });
        sandbox.set_district_index(self.district_index());
        let _ = self.inner.sandbox.engine.set(sandbox);
        self.sandbox().cloned().unwrap_or_else(|| self.clone())
    }

    /// The sandbox, when one is attached.
    pub fn sandbox(&self) -> Option<&Engine> {
        self.inner.sandbox.engine.get()
    }

    /// The engine that answers this partner: the sandbox for a test
    /// partner (copied in, with its share of the sandbox batch, on its
    /// first call), this one otherwise. Without a sandbox, test partners
    /// reach this engine, which refuses them live data (`test_mode`).
    pub async fn for_partner(&self, a: &Authed) -> Result<Engine, PartnerAuthError> {
        match self.sandbox() {
            Some(s) if a.partner.mode == Mode::Test => {
                s.admit(a).await.map_err(|e| PartnerAuthError::Sandbox(e.to_string()))?;
                Ok(s.clone())
            }
            _ => Ok(self.clone()),
        }
    }

    /// The partner copied into the sandbox store with a share of each kind.
    async fn admit(&self, a: &Authed) -> Result<SandboxWorld, SandboxError> {
        let world = self.sandbox_world(&a.partner.region).await?;
        let id = a.partner.id;
        if self.inner.sandbox.partners.lock().unwrap_or_else(|p| p.into_inner()).contains(&(id, world.batch_id)) {
            return Ok(world);
        }
        match self.store().partner(id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                let copy = quan_store::Partner { keys: Vec::new(), ..a.partner.clone() };
                match self.store().create_partner(&copy).await {
                    Ok(()) | Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        let stock = self.store().channel_stock(world.batch_id).await?;
        let channel = id.to_string();
        let official = self
            .staff_actor(world::OFFICIAL)
            .await
            .ok_or_else(|| SandboxError::Unavailable("the sandbox's official is missing".into()))?;
        for k in &world.kinds {
            if stock.iter().any(|s| s.channel == channel && s.kind_code == k.code) {
                continue;
            }
            let m = crate::claims::ChannelMove {
                kind_code: k.code.clone(),
                from: "h5".into(),
                to: channel.clone(),
                count: SHARE,
            };
            self.move_channel_stock(&official, world.batch_id, &m)
                .await
                .map_err(|e| SandboxError::Unavailable(format!("the partner's share: {e}")))?;
        }
        self.inner.sandbox.partners.lock().unwrap_or_else(|p| p.into_inner()).insert((id, world.batch_id));
        Ok(world)
    }

    fn sandbox_only(&self, a: &Authed) -> Result<(), SandboxError> {
        match (a.partner.mode, self.config().sandbox) {
            (Mode::Test, true) => Ok(()),
            (Mode::Test, false) => Err(SandboxError::Unavailable("this server runs no sandbox".into())),
            (Mode::Live, _) => Err(SandboxError::LiveMode),
        }
    }

    /// What the test partner finds in the sandbox: campaign, batch, kinds, shop and till.
    pub async fn sandbox_view(&self, a: &Authed) -> Result<SandboxWorld, SandboxError> {
        self.sandbox_only(a)?;
        self.admit(a).await
    }

    /// Mints a test resident (a made-up phone number) with a binding code
    /// for the partner, redeemed at `POST /partner/v1/bindings`.
    pub async fn sandbox_resident(&self, a: &Authed) -> Result<SandboxResident, SandboxError> {
        self.sandbox_only(a)?;
        let now = self.now();
        let phone = PhoneNumber::parse(&format!("199{:08}", self.inner.random.u64() % 100_000_000))
            .map_err(|e| SandboxError::Unavailable(e.to_string()))?;
        let candidate = Resident {
            id: quan_domain::ResidentId::from_uuid(self.new_uuid()),
            phone_hash: self.phone_hash(&phone),
            phone_masked: phone.masked(),
            created_at: now,
        };
        let resident = self.store().upsert_resident(&candidate).await?;
        let expires_at = now + chrono::Duration::seconds(CODE_TTL_S);
        let code = format!("{:08}", self.inner.random.u64() % 100_000_000);
        let hash = super::bindings::code_hash(a.partner.id, &code);
        self.store().add_binding_code(&hash, a.partner.id, resident.id, expires_at).await?;
        tracing::info!(partner_id = %a.partner.id, resident_id = %resident.id, "sandbox resident minted");
        Ok(SandboxResident { binding_code: code, expires_at, phone_masked: resident.phone_masked })
    }

    /// Mints a voucher for a test resident bound to the partner: a claim
    /// through the partner's channel from the sandbox batch (its rules,
    /// limits and `voucher.claimed` event included).
    pub async fn sandbox_voucher(
        &self,
        a: &Authed,
        resident_openid: &str,
        kind_code: Option<String>,
    ) -> Result<SandboxVoucher, SandboxError> {
        self.sandbox_only(a)?;
        let world = self.admit(a).await?;
        let kind_code = kind_code.or_else(|| world.kinds.first().map(|k| k.code.clone()));
        let input = PartnerClaimInput {
            resident_openid: resident_openid.to_owned(),
            batch_id: world.batch_id,
            kind_code,
            out_request_no: format!("sandbox-{}", self.new_uuid().simple()),
            position: None,
        };
        let c = self.partner_claim(a, input).await.map_err(SandboxError::Claim)?;
        let v = c.vouchers.first().ok_or_else(|| SandboxError::Unavailable("the claim made no voucher".into()))?;
        let resident = self.bound_resident_id(a, resident_openid).await.map_err(SandboxError::Checkout)?;
        let code = self.code_of_voucher(v.id, resident);
        Ok(SandboxVoucher {
            voucher_id: v.id,
            claim_id: c.claim_id,
            kind_code: c.kind_code.clone(),
            face_fen: v.face.as_i64(),
            voucher_code: code.code,
            code_expires_at: code.expires_at,
        })
    }

    /// The current dynamic code of a test voucher of a bound resident.
    pub async fn sandbox_voucher_code(
        &self,
        a: &Authed,
        resident_openid: &str,
        voucher: uuid::Uuid,
    ) -> Result<crate::redemptions::IssuedCode, SandboxError> {
        self.sandbox_only(a)?;
        let resident = self.bound_resident_id(a, resident_openid).await.map_err(SandboxError::Checkout)?;
        match self.store().voucher_by_id(voucher).await {
            Ok(v) if v.resident_id == resident => Ok(self.code_of_voucher(voucher, resident)),
            Ok(_) | Err(StoreError::NotFound) => {
                Err(SandboxError::Checkout(CheckoutError::Redemption(crate::redemptions::RedemptionError::NotFound)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a sample event of `kind` for the partner (marked
    /// `"sandbox": true`), delivered like any other.
    pub async fn sandbox_event(&self, a: &Authed, kind: &str) -> Result<uuid::Uuid, SandboxError> {
        self.sandbox_only(a)?;
        let world = self.admit(a).await?;
        let data = sample_event(kind, &world, self.new_uuid(), self.now()).ok_or_else(|| {
            SandboxError::Invalid(Invalid::new(
                "type",
                "unknown_event_type",
                format!("one of {}", EVENT_TYPES.join(", ")),
            ))
        })?;
        let e = self.partner_event(a.partner.id, kind, "sandbox", data);
        self.store().add_webhook_event(&e).await?;
        Ok(e.id)
    }
}

/// The event types a test partner may fire.
pub const EVENT_TYPES: [&str; 9] = [
    "voucher.claimed",
    "voucher.expired",
    "redemption.confirmed",
    "redemption.reversed",
    "refund.succeeded",
    "campaign.paused",
    "campaign.resumed",
    "settlement.ready",
    "webhook.test",
];

/// A sample of the event's data, in the shape the real one has.
fn sample_event(kind: &str, w: &SandboxWorld, id: uuid::Uuid, now: DateTime<Utc>) -> Option<serde_json::Value> {
    use serde_json::json;
    let day = now.with_timezone(&quan_domain::UTC8).date_naive();
    let mut data = match kind {
        "voucher.claimed" => json!({"resident_openid": "ro_sandbox", "out_request_no": "SANDBOX-REQ-1", "claim_id": id,
            "campaign_id": w.campaign_id, "batch_id": w.batch_id, "kind_code": w.kinds.first().map(|k| k.code.clone()),
            "vouchers": [{"voucher_id": id, "tier": 0, "face_fen": 2_000}]}),
        "voucher.expired" => json!({"resident_openid": "ro_sandbox", "voucher_id": id, "campaign_id": w.campaign_id,
            "batch_id": w.batch_id, "kind_code": w.kinds.first().map(|k| k.code.clone()), "face_fen": 2_000, "expired_at": now}),
        "redemption.confirmed" | "redemption.reversed" => json!({"out_trade_no": "SANDBOX0001", "voucher_id": id,
            "merchant_id": w.merchant_id, "amount_fen": 12_000, "discount_fen": 2_000,
            "transaction_id": "SANDBOX-TX-0001", "redemption_id": id}),
        "refund.succeeded" => {
            json!({"out_trade_no": "SANDBOX0001", "out_refund_no": "SANDBOX-RF-1", "refunded_by": "partner",
            "voucher_id": id, "merchant_id": w.merchant_id, "amount_fen": 5_000, "refunded_total_fen": 5_000,
            "subsidy_returned_fen": 2_000, "voucher_back": false, "redemption_id": id, "refund_id": id})
        }
        "campaign.paused" | "campaign.resumed" => {
            json!({"pause_id": id, "target": "campaign", "target_id": w.campaign_id,
            "stops": "claims", "reason": "沙箱示例", "paused_at": now,
            "resumed_at": (kind == "campaign.resumed").then_some(now)})
        }
        "settlement.ready" => json!({"business_day": day.to_string(), "orders": 1, "discount_fen": 2_000,
            "bill": format!("/partner/v1/bills/{day}")}),
        "webhook.test" => json!({}),
        _ => return None,
    };
    data["sandbox"] = json!(true);
    Some(data)
}
