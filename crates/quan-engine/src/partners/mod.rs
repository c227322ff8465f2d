//! The partner API's partners (banks, payment institutions, city apps):
//! registered by an official with their scopes, mode and first key, keys
//! rotated and revoked, cut off (熔断) and let back. Signed requests are
//! checked in `auth.rs`, the checkout (支付立减) is `checkout.rs`.

mod auth;
mod batches;
mod bill;
mod bindings;
mod checkout;
mod claims;
mod error;
mod refunds;
mod sandbox;
mod webhooks;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use quan_domain::partner::{self, KeyScheme, Mode, PartnerKind, PartnerStatus};
use quan_domain::{Invalid, Role};
use quan_store::{Partner, PartnerKey, StoreError, User};
use serde::Serialize;
use sha2::Digest;

pub use auth::{Authed, PartnerMemory, ResponseSignature};
pub(crate) use batches::Batches;
pub use bill::BILL_HEADER;
pub use bindings::BindingCode;
pub use checkout::{CheckoutInput, OrderView, QuoteView, VoucherBy};
pub use claims::PartnerClaimInput;
pub use error::{CheckoutError, PartnerAuthError, PartnerClaimError, PartnerError};
pub(crate) use refunds::RefundAsk;
pub use refunds::RefundView;
pub(crate) use sandbox::SandboxSlot;
pub use sandbox::{EVENT_TYPES, SandboxError, SandboxKind, SandboxResident, SandboxVoucher, SandboxWorld};
pub(crate) use webhooks::client as webhook_client;
pub use webhooks::{DeliveryRound, EndpointSet};

use crate::Engine;
use crate::auth::Actor;

/// The label HMAC secrets are sealed under.
const SECRET_LABEL: &str = "partner-hmac";
/// Prefix of an HMAC secret, so a leaked one is easy to spot.
pub const SECRET_PREFIX: &str = "qps_";

/// A new partner as an official asks for it.
#[derive(Debug, Clone)]
pub struct NewPartner {
    pub name: String,
    pub kind: String,
    pub mode: String,
    pub scopes: Vec<String>,
    pub key: NewKey,
}

/// A key to add: an SM2 public key (hex, SEC1) with an optional serial
/// number, or a new HMAC secret.
#[derive(Debug, Clone)]
pub enum NewKey {
    Sm2 { public_key: String, serial_no: Option<String> },
    Hmac,
}

/// A partner as staff read it (never a secret).
#[derive(Debug, Clone, Serialize)]
pub struct PartnerView {
    pub id: uuid::Uuid,
    pub name: String,
    pub kind: &'static str,
    pub mode: &'static str,
    pub scopes: Vec<&'static str>,
    pub status: &'static str,
    pub status_reason: String,
    pub status_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub keys: Vec<KeyView>,
    /// Where its webhooks go and whether they still do (an endpoint a 410 or
    /// three days of failures disabled says why): what the operator watches.
    pub webhook: Option<WebhookView>,
}

/// A partner's webhook endpoint as staff see it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    pub url: String,
    /// `active` or `disabled`.
    pub status: String,
    pub status_reason: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub serial_no: String,
    pub scheme: &'static str,
    /// SM2: the public key (hex).
    pub public_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just added: its serial number, and an HMAC secret shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct KeyIssued {
    pub serial_no: String,
    pub secret: Option<String>,
}

impl PartnerView {
    pub fn of(p: &Partner) -> PartnerView {
        PartnerView {
            id: p.id,
            name: p.name.clone(),
            kind: p.kind.as_str(),
            mode: p.mode.as_str(),
            scopes: p.scopes.iter().map(|s| s.as_str()).collect(),
            status: p.status.as_str(),
            status_reason: p.status_reason.clone(),
            status_at: p.status_at,
            created_at: p.created_at,
            keys: p
                .keys
                .iter()
                .map(|k| KeyView {
                    serial_no: k.serial_no.clone(),
                    scheme: k.scheme.as_str(),
                    public_key: k.public_key.clone(),
                    created_at: k.created_at,
                    revoked_at: k.revoked_at,
                })
                .collect(),
            webhook: None,
        }
    }
}

/// An SM2 public key as a partner gives it: SEC1 hex (`04‖x‖y`, 130
/// digits; or `x‖y`, 128, as gmssl prints it; or compressed, 66), checked
/// to be a point of the curve; returned as uncompressed SEC1 hex.
pub fn sm2_public_key(hex_key: &str) -> Result<String, Invalid> {
    let k = hex_key.trim();
    let bad = || {
        Invalid::new(
            "public_key",
            "public_key_invalid",
            "an SM2 public key in hex: 04‖x‖y (130 digits), x‖y (128) or compressed (66)",
        )
    };
    let bytes = hex::decode(if k.len() == 128 { format!("04{k}") } else { k.to_owned() }).map_err(|_| bad())?;
    let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(crate::platform_key::SIGNER_ID, &bytes).map_err(|_| bad())?;
    Ok(hex::encode(vk.to_sec1_bytes()))
}

/// A key's serial number from its public key: the first 20 bytes of its
/// SHA-256, in upper-case hex (40 digits, as WeChat's certificate serials).
pub fn serial_of(public_hex: &str) -> String {
    hex::encode_upper(&sha2::Sha256::digest(public_hex.as_bytes())[..20])
}

impl Engine {
    /// An official registers a partner with its first key.
    pub async fn create_partner(
        &self,
        actor: &Actor,
        req: NewPartner,
    ) -> Result<(PartnerView, KeyIssued), PartnerError> {
        let user = official(actor)?;
        partner::check_name(&req.name).map_err(PartnerError::Invalid)?;
        let kind = PartnerKind::parse(req.kind.trim()).ok_or_else(|| {
            PartnerError::Invalid(Invalid::new(
                "kind",
                "unknown_partner_kind",
                "kind is bank, payment, city_app or mini_program",
            ))
        })?;
        let mode = Mode::parse(req.mode.trim())
            .ok_or_else(|| PartnerError::Invalid(Invalid::new("mode", "unknown_mode", "mode is test or live")))?;
        let scopes = partner::parse_scopes(&req.scopes).map_err(PartnerError::Invalid)?;
        let now = self.now();
        let (key, issued) = self.new_key(&req.key, now)?;
        let p = Partner {
            id: self.new_uuid(),
            name: req.name.trim().to_owned(),
            kind,
            mode,
            scopes,
            region: user.region.as_str().to_owned(),
            status: PartnerStatus::Active,
            status_reason: String::new(),
            status_by: None,
            status_at: None,
            created_by: user.id,
            created_at: now,
            keys: vec![key],
        };
        match self.store().create_partner(&p).await {
            Err(StoreError::Conflict { what: "name" }) => return Err(PartnerError::NameTaken),
            r => r?,
        }
        tracing::info!(partner_id = %p.id, kind = kind.as_str(), mode = mode.as_str(), by = %user.id, "partner registered");
        Ok((PartnerView::of(&p), issued))
    }

    /// Partners, for officials, operators and auditors.
    pub async fn partners(&self, actor: &Actor) -> Result<Vec<PartnerView>, PartnerError> {
        staff_reader(actor)?;
        let mut out = Vec::new();
        for p in self.store().partners().await? {
            out.push(self.with_webhook(PartnerView::of(&p)).await?);
        }
        Ok(out)
    }

    pub async fn partner_view(&self, actor: &Actor, id: uuid::Uuid) -> Result<PartnerView, PartnerError> {
        staff_reader(actor)?;
        self.with_webhook(PartnerView::of(&self.store().partner(id).await?)).await
    }

    async fn with_webhook(&self, mut v: PartnerView) -> Result<PartnerView, PartnerError> {
        // A test partner's endpoint is the sandbox's.
        let store = match self.sandbox() {
            Some(s) if v.mode == Mode::Test.as_str() => s.store(),
            _ => self.store(),
        };
        v.webhook = store.webhook_endpoint(v.id).await?.map(|w| WebhookView {
            url: w.url,
            status: w.status,
            status_reason: w.status_reason,
            updated_at: w.updated_at,
        });
        Ok(v)
    }

    /// Adds a key (rotation); the old ones stay until revoked.
    pub async fn add_partner_key(&self, actor: &Actor, id: uuid::Uuid, key: NewKey) -> Result<KeyIssued, PartnerError> {
        let user = official(actor)?;
        self.managed(user, id).await?;
        let (k, issued) = self.new_key(&key, self.now())?;
        match self.store().add_partner_key(id, &k).await {
            Err(StoreError::Conflict { .. }) => return Err(PartnerError::SerialTaken),
            r => r?,
        }
        self.forget_partner(id);
        tracing::info!(partner_id = %id, serial_no = %issued.serial_no, by = %user.id, "partner key added");
        Ok(issued)
    }

    /// Revokes a key: requests signed with it are refused from now on.
    pub async fn revoke_partner_key(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        serial: &str,
    ) -> Result<PartnerView, PartnerError> {
        let user = official(actor)?;
        let p = self.managed(user, id).await?;
        let live = p.keys.iter().filter(|k| k.revoked_at.is_none()).count();
        if !p.keys.iter().any(|k| k.serial_no == serial && k.revoked_at.is_none()) {
            return Err(PartnerError::KeyNotFound);
        }
        if live <= 1 {
            return Err(PartnerError::LastKey);
        }
        self.store().revoke_partner_key(id, serial, self.now()).await?;
        self.forget_partner(id);
        tracing::info!(partner_id = %id, serial_no = %serial, by = %user.id, "partner key revoked");
        Ok(PartnerView::of(&self.store().partner(id).await?))
    }

    /// Cuts a partner off (熔断) or lets it back: every node refuses or
    /// takes its calls within a second.
    pub async fn set_partner_status(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        suspended: bool,
        reason: &str,
    ) -> Result<PartnerView, PartnerError> {
        let user = official(actor)?;
        self.managed(user, id).await?;
        let reason = if suspended {
            quan_domain::invalid::text("reason", reason, 500).map_err(PartnerError::Invalid)?
        } else {
            quan_domain::invalid::no_control("reason", reason).map_err(PartnerError::Invalid)?;
            reason.trim().chars().take(500).collect()
        };
        let reason = reason.as_str();
        let status = if suspended { PartnerStatus::Suspended } else { PartnerStatus::Active };
        self.store().set_partner_status(id, status, reason, user.id, self.now()).await?;
        self.forget_partner(id);
        // A test partner's copy in the sandbox: its webhooks stop there too.
        if let Some(s) = self.sandbox() {
            match s.store().set_partner_status(id, status, reason, user.id, self.now()).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        tracing::warn!(partner_id = %id, status = status.as_str(), by = %user.id, "partner status changed");
        Ok(PartnerView::of(&self.store().partner(id).await?))
    }

    /// The partner, if the official's region holds the one it was registered in.
    async fn managed(&self, user: &User, id: uuid::Uuid) -> Result<Partner, PartnerError> {
        let p = self.store().partner(id).await?;
        let inside = quan_domain::Region::parse(&p.region).is_ok_and(|r| user.region.contains(&r));
        if inside { Ok(p) } else { Err(PartnerError::NotFound) }
    }

    fn new_key(&self, key: &NewKey, now: DateTime<Utc>) -> Result<(PartnerKey, KeyIssued), PartnerError> {
        Ok(match key {
            NewKey::Sm2 { public_key, serial_no } => {
                let public = sm2_public_key(public_key).map_err(PartnerError::Invalid)?;
                let serial = match serial_no.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(s) => {
                        partner::check_serial(s).map_err(PartnerError::Invalid)?;
                        s.to_owned()
                    }
                    None => serial_of(&public),
                };
                let k = PartnerKey {
                    serial_no: serial.clone(),
                    scheme: KeyScheme::Sm2,
                    public_key: Some(public),
                    sealed_secret: None,
                    created_at: now,
                    revoked_at: None,
                };
                (k, KeyIssued { serial_no: serial, secret: None })
            }
            NewKey::Hmac => {
                let mut raw = [0u8; 32];
                self.inner.random.fill(&mut raw);
                let secret = format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw));
                let mut nonce = [0u8; 12];
                self.inner.random.fill(&mut nonce);
                let mut id = [0u8; 8];
                self.inner.random.fill(&mut id);
                let serial = format!("H{}", hex::encode_upper(id));
                let k = PartnerKey {
                    serial_no: serial.clone(),
                    scheme: KeyScheme::Hmac,
                    public_key: None,
                    sealed_secret: Some(self.inner.pii_key.seal(SECRET_LABEL, secret.as_bytes(), nonce)),
                    created_at: now,
                    revoked_at: None,
                };
                (k, KeyIssued { serial_no: serial, secret: Some(secret) })
            }
        })
    }
}

fn official(actor: &Actor) -> Result<&User, PartnerError> {
    match actor {
        Actor::Staff { user, .. } if user.role == Role::Official => Ok(user),
        _ => Err(PartnerError::Forbidden),
    }
}

fn staff_reader(actor: &Actor) -> Result<(), PartnerError> {
    match actor {
        Actor::Staff { user, .. } if matches!(user.role, Role::Official | Role::Operator | Role::Auditor) => Ok(()),
        _ => Err(PartnerError::Forbidden),
    }
}

/// A partner's secrets opened once for its memory entry.
pub(crate) fn open_secret(engine: &Engine, sealed: &[u8]) -> Option<Vec<u8>> {
    engine.inner.pii_key.open(SECRET_LABEL, sealed)
}
