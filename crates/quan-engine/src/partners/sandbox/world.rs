//! The sandbox's world, made through the same use cases an official, an
//! operator and a shop use: an official and an operator of the test
//! partner's region, a running, funded campaign with one batch open for a
//! year (two kinds, a million units each, up to 100 vouchers a resident),
//! and an approved shop with a till. Read back after a restart; made anew
//! when the last one is within a day of closing.

use chrono::{DateTime, Duration, Utc};
use quan_domain::campaign::{CampaignCommand, CampaignStatus};
use quan_domain::merchant::{CreditCode, ReviewAction};
use quan_domain::{BatchId, CampaignId, MerchantId, Region, Role, TillId, Username};
use serde::Serialize;
use serde_json::json;

use super::SandboxError;
use crate::Engine;
use crate::auth::Actor;
use crate::users::NewAccount;

pub(super) const OFFICIAL: &str = "sandbox.official";
const OPERATOR: &str = "sandbox.operator";
const SHOP_OWNER: &str = "sandbox.shop";
/// The sandbox campaign's name (found by it after a restart).
pub(super) const CAMPAIGN: &str = "沙箱测试活动";
/// Units of each kind per kind in the batch.
const STOCK: u32 = 1_000_000;
/// The kinds: code, name, threshold and amount off (fen).
const KINDS: [(&str, &str, i64, i64); 2] =
    [("sbx100-20", "满100减20（沙箱）", 10_000, 2_000), ("sbx50-10", "满50减10（沙箱）", 5_000, 1_000)];

/// What a test partner finds in the sandbox.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxWorld {
    pub campaign_id: CampaignId,
    pub batch_id: BatchId,
    /// The shop to quote, lock and confirm at, and its till.
    pub merchant_id: MerchantId,
    pub till_id: TillId,
    pub kinds: Vec<SandboxKind>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SandboxKind {
    pub code: String,
    pub name: String,
    pub min_order_fen: i64,
    pub off_fen: i64,
}

fn unavailable(what: &str) -> impl FnOnce(String) -> SandboxError + '_ {
    move |e| SandboxError::Unavailable(format!("{what}: {e}"))
}

impl Engine {
    /// The world, read or made once for the region of the first test partner.
    pub(super) async fn sandbox_world(&self, region: &str) -> Result<SandboxWorld, SandboxError> {
        let mut slot = self.inner.sandbox.world.lock().await;
        let fresh = |w: &SandboxWorld| w.closes_at > self.now() + Duration::days(1);
        if let Some(w) = slot.as_ref().filter(|w| fresh(w)) {
            return Ok(w.clone());
        }
        let world = match self.find_world().await? {
            Some(w) if fresh(&w) => w,
            _ => self.make_world(region).await?,
        };
        *slot = Some(world.clone());
        Ok(world)
    }

    pub(super) async fn staff_actor(&self, name: &str) -> Option<Actor> {
        self.actor_for_username(&Username::parse(name).ok()?).await.ok()
    }

    /// The newest running sandbox campaign and the shop, when they exist.
    async fn find_world(&self) -> Result<Option<SandboxWorld>, SandboxError> {
        let (Some(Actor::Staff { user: official, .. }), Some(Actor::Staff { user: owner, .. })) =
            (self.staff_actor(OFFICIAL).await, self.staff_actor(SHOP_OWNER).await)
        else {
            return Ok(None);
        };
        let campaigns = self.store().list_campaigns(&official.region, None, 1000, Some(CAMPAIGN)).await?;
        let Some(c) =
            campaigns.into_iter().filter(|c| c.status == CampaignStatus::Running).max_by_key(|c| c.created_at)
        else {
            return Ok(None);
        };
        let Some(b) = self.store().list_batches(c.id).await?.into_iter().next() else { return Ok(None) };
        let Some(merchant) = owner.merchant else { return Ok(None) };
        let Some(till) = self.store().tills(merchant).await?.into_iter().next() else { return Ok(None) };
        Ok(Some(world_of(c.id, &b, merchant, till.id)))
    }

    async fn make_world(&self, region: &str) -> Result<SandboxWorld, SandboxError> {
        let region = Region::parse(region).map_err(|e| unavailable("the test partner's region")(e.to_string()))?;
        let official = self.sandbox_staff(OFFICIAL, Role::Official, &region).await?;
        let operator = self.sandbox_staff(OPERATOR, Role::Operator, &region).await?;
        let (campaign, batch) = self.sandbox_campaign(&official, &region).await?;
        let (merchant, till) = self.sandbox_shop(&operator, &region).await?;
        tracing::info!(campaign_id = %campaign, batch_id = %batch.id, merchant_id = %merchant, "the partner sandbox's world is made");
        Ok(world_of(campaign, &batch, merchant, till))
    }

    async fn sandbox_staff(&self, name: &str, role: Role, region: &Region) -> Result<Actor, SandboxError> {
        if let Some(a) = self.staff_actor(name).await {
            return Ok(a);
        }
        let new = NewAccount {
            username: Username::parse(name).map_err(|e| unavailable(name)(e.to_string()))?,
            role,
            region: region.clone(),
            display_name: "沙箱".into(),
            password: None,
        };
        self.create_user_unchecked(new, None).await.map_err(|e| unavailable(name)(e.to_string()))?;
        self.staff_actor(name).await.ok_or_else(|| SandboxError::Unavailable(format!("{name} was not created")))
    }

    async fn sandbox_campaign(
        &self,
        official: &Actor,
        region: &Region,
    ) -> Result<(CampaignId, quan_store::Batch), SandboxError> {
        let now = self.now();
        let today = now.with_timezone(&quan_domain::UTC8).date_naive();
        let ends_on = today + Duration::days(366);
        let closing = ends_on.and_hms_opt(23, 0, 0).and_then(|t| t.and_local_timezone(quan_domain::UTC8).single());
        let kinds: Vec<_> = KINDS
            .iter()
            .map(|(code, name, min, off)| {
                json!({"stock": STOCK, "kind": {"code": code, "name": name,
                "discount": {"type": "threshold", "min_order_fen": min, "off_fen": off},
                "validity": {"type": "days_after_claim", "days": 30}}})
            })
            .collect();
        let budget: i64 = KINDS.iter().map(|k| k.3 * i64::from(STOCK)).sum();
        let doc = json!({
            "campaign": {"name": CAMPAIGN, "region": region.as_str(), "budget_fen": budget, "funding_source": "沙箱（测试数据，不涉及真实资金）",
                "starts_on": today, "ends_on": ends_on},
            "batches": [{"name": "沙箱批次", "opening_at": now + Duration::seconds(1), "closing_at": closing,
                "limits": {"per_batch": quan_domain::batch::PER_RESIDENT_MAX, "count_by": "account"},
                "admission_window_s": 0, "kinds": kinds}]
        });
        let file = serde_json::from_value(doc).map_err(|e| unavailable("the campaign document")(e.to_string()))?;
        let (c, batches) =
            self.create_campaign(official, file).await.map_err(|e| unavailable("the campaign")(e.to_string()))?;
        let note = "沙箱：测试数据";
        for cmd in [CampaignCommand::Fund { amount: quan_domain::Fen::new(budget) }, CampaignCommand::Start] {
            self.change_campaign(official, c.id, cmd, note)
                .await
                .map_err(|e| unavailable("the campaign")(e.to_string()))?;
        }
        let b = batches.into_iter().next().ok_or_else(|| SandboxError::Unavailable("no batch was made".into()))?;
        Ok((c.id, b))
    }

    /// The shop: its owner account, approved by the operator, and a till.
    async fn sandbox_shop(&self, operator: &Actor, region: &Region) -> Result<(MerchantId, TillId), SandboxError> {
        let owner = match self.staff_actor(SHOP_OWNER).await {
            Some(a) => a,
            None => {
                let district = match region.as_str().len() {
                    6 => Some(region.as_str()),
                    _ => crate::eligibility::DIVISIONS.first_within(region.as_str()),
                };
                let district = district.ok_or_else(|| {
                    SandboxError::Unavailable(format!("no county of region {region} in GB/T 2260 for the test shop"))
                })?;
                let app = serde_json::from_value(json!({
                    "legal_name": "沙箱测试商户", "credit_code": CreditCode::sample(990_001).to_string(),
                    "industry": "catering", "scale": "small", "address": "沙箱路1号", "address_district": district,
                    "contact_name": "沙箱", "contact_phone": "13800000000",
                    "settlement_account": {"bank_name": "沙箱银行", "account_name": "沙箱测试商户", "account_number": "6200000000000000000"}
                }))
                .map_err(|e| unavailable("the shop's application")(e.to_string()))?;
                let mut pw = [0u8; 18];
                self.inner.random.fill(&mut pw);
                let account = crate::merchants::OwnerAccount {
                    username: SHOP_OWNER.into(),
                    password: hex::encode(pw),
                    display_name: "沙箱店长".into(),
                };
                let (m, _) = self
                    .apply_merchant(&app, &account, "partner-sandbox")
                    .await
                    .map_err(|e| unavailable("the shop")(e.to_string()))?;
                self.review_merchant(operator, m.id, ReviewAction::Approve, "沙箱商户")
                    .await
                    .map_err(|e| unavailable("the shop's review")(e.to_string()))?;
                self.staff_actor(SHOP_OWNER).await.ok_or_else(|| SandboxError::Unavailable("no shop owner".into()))?
            }
        };
        let Actor::Staff { user, .. } = &owner else { return Err(SandboxError::Unavailable("no shop owner".into())) };
        let merchant = user.merchant.ok_or_else(|| SandboxError::Unavailable("the owner has no shop".into()))?;
        if let Some(t) = self.store().tills(merchant).await?.into_iter().next() {
            return Ok((merchant, t.id));
        }
        let till = self
            .create_till(&owner, merchant, "T01", "沙箱收银台")
            .await
            .map_err(|e| unavailable("the till")(e.to_string()))?;
        Ok((merchant, till.id))
    }
}

fn world_of(campaign: CampaignId, b: &quan_store::Batch, merchant: MerchantId, till: TillId) -> SandboxWorld {
    let kinds = b
        .spec
        .kinds
        .iter()
        .map(|k| {
            let (min, off) = match k.kind.discount {
                quan_domain::voucher_kind::Discount::Threshold { min_order_fen, off_fen } => {
                    (min_order_fen.as_i64(), off_fen.as_i64())
                }
                _ => (0, k.kind.face_value().as_i64()),
            };
            SandboxKind { code: k.kind.code.clone(), name: k.kind.name.clone(), min_order_fen: min, off_fen: off }
        })
        .collect();
    SandboxWorld {
        campaign_id: campaign,
        batch_id: b.id,
        merchant_id: merchant,
        till_id: till,
        kinds,
        opens_at: b.spec.opening_at,
        closes_at: b.spec.closing_at,
    }
}
