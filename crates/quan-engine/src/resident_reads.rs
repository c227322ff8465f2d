//! What a resident may read to find their way: the batches open or coming
//! in their city, one batch's public details, where a voucher of theirs can
//! be used near them, and their own redemptions. Nothing here is a staff
//! record: campaigns in draft, merchants' accounts and other residents stay out.
#![allow(clippy::float_arithmetic)]

use quan_domain::campaign::CampaignStatus;
use quan_domain::merchant::MerchantStatus;
use quan_domain::{BatchId, Region};
use quan_store::{Batch, Campaign, Merchant, Redemption, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::districts::{Located, Position, PositionRejection};
use crate::rejection::{Rejection, Status};

/// How many approved merchants a search for places to use a voucher reads at most.
pub const MERCHANTS_SCANNED_MAX: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum ResidentReadError {
    #[error("only residents read this")]
    Forbidden,
    #[error("no such batch or voucher")]
    NotFound,
    #[error("{0}")]
    Position(PositionRejection),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ResidentReadError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ResidentReadError::NotFound,
            e => ResidentReadError::Store(e),
        }
    }
}

impl Rejection for ResidentReadError {
    fn status(&self) -> Status {
        match self {
            ResidentReadError::Forbidden => Status::Forbidden,
            ResidentReadError::NotFound => Status::NotFound,
            ResidentReadError::Position(_) => Status::Unprocessable,
            ResidentReadError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ResidentReadError::Forbidden => "forbidden",
            ResidentReadError::NotFound => "not_found",
            ResidentReadError::Position(p) => p.code(),
            ResidentReadError::Store(_) => "internal",
        }
    }
}

/// A batch as residents see it, with the stock left per kind.
#[derive(Debug, Clone)]
pub struct PublicBatch {
    pub campaign: Campaign,
    pub batch: Batch,
    pub stock_left: Vec<(String, i64)>,
}

/// Whether residents may see a campaign's batches: funded or running.
fn public(c: &Campaign) -> bool {
    matches!(c.status, CampaignStatus::Funded | CampaignStatus::Running)
}

/// Metres between two WGS-84/GCJ-02 positions (haversine; the two systems
/// differ by a few hundred metres at most, which a shop list can bear).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let (dlat, dlng) = ((b.0 - a.0).to_radians(), (b.1 - a.1).to_radians());
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

impl Engine {
    fn resident_of(actor: &Actor) -> Result<&quan_store::Resident, ResidentReadError> {
        match actor {
            Actor::Resident { resident, .. } => Ok(resident),
            _ => Err(ResidentReadError::Forbidden),
        }
    }

    /// The city (four digits) a resident is looked at for: where the
    /// position is, else their household registration, else none (all).
    async fn resident_city(&self, actor: &Actor, near: Option<&Position>) -> Result<Option<Region>, ResidentReadError> {
        let resident = Self::resident_of(actor)?;
        let code = match near {
            Some(p) => match self.locate(p).map_err(ResidentReadError::Position)? {
                Located::Inside(c) | Located::Uncertain { inside: Some(c), .. } => Some(c.as_str()[..4].to_owned()),
                _ => None,
            },
            None => None,
        };
        let code = match code {
            Some(c) => Some(c),
            None => self.store().identity(resident.id).await?.map(|i| i.household_region[..4].to_owned()),
        };
        Ok(code.and_then(|c| Region::parse(&c).ok()))
    }

    /// The batches not yet closed of funded or running campaigns in the
    /// resident's city (all cities when it is unknown), soonest first.
    pub async fn resident_batches(
        &self,
        actor: &Actor,
        near: Option<&Position>,
    ) -> Result<Vec<PublicBatch>, ResidentReadError> {
        let city = self.resident_city(actor, near).await?;
        let now = self.now();
        let mut out = Vec::new();
        for c in self.every_campaign().await? {
            let here = city.as_ref().is_none_or(|r| c.spec.region.contains(r) || r.contains(&c.spec.region));
            if !public(&c) || !here {
                continue;
            }
            for b in self.store().list_batches(c.id).await? {
                if b.spec.closing_at > now {
                    let stock_left = self.store().remaining_stock(b.id).await?;
                    out.push(PublicBatch { campaign: c.clone(), batch: b, stock_left });
                }
            }
        }
        out.sort_by_key(|p| (p.batch.spec.opening_at, p.batch.id));
        Ok(out)
    }

    /// One batch of a funded or running campaign, for a resident.
    pub async fn resident_batch(&self, actor: &Actor, id: BatchId) -> Result<PublicBatch, ResidentReadError> {
        Self::resident_of(actor)?;
        let batch = self.store().batch_by_id(id).await?;
        let campaign = self.store().campaign_by_id(batch.campaign_id).await?;
        if !public(&campaign) {
            return Err(ResidentReadError::NotFound);
        }
        let stock_left = self.store().remaining_stock(id).await?;
        Ok(PublicBatch { campaign, batch, stock_left })
    }

    /// Where one of the resident's vouchers can be used: approved merchants
    /// inside its campaign's region and its kind's scope, nearest first
    /// when a position is given (merchants without a position last), at most `limit`.
    pub async fn merchants_for_voucher(
        &self,
        actor: &Actor,
        voucher: uuid::Uuid,
        near: Option<&Position>,
        limit: usize,
    ) -> Result<Vec<(Merchant, Option<f64>)>, ResidentReadError> {
        let resident = Self::resident_of(actor)?;
        if let Some(p) = near {
            self.locate(p).map_err(ResidentReadError::Position)?;
        }
        let v = self.store().vouchers_of(resident.id).await?.into_iter().find(|v| v.id == voucher);
        let v = v.ok_or(ResidentReadError::NotFound)?;
        let batch = self.store().batch_by_id(v.batch_id).await?;
        let campaign = self.store().campaign_by_id(v.campaign_id).await?;
        let kind = batch.spec.kinds.iter().find(|k| k.kind.code == v.kind_code).ok_or(ResidentReadError::NotFound)?;
        let scope = &kind.kind.scope;
        let mut found = Vec::new();
        let (mut after, mut scanned) = (None, 0usize);
        loop {
            let page = self
                .store()
                .list_merchants(
                    &campaign.spec.region,
                    Some(MerchantStatus::Approved),
                    after,
                    crate::LIST_LEN_MAX,
                    &quan_store::MerchantQuery::default(),
                )
                .await?;
            after = page.last().map(|m| m.id);
            scanned += page.len();
            let last = page.len() < crate::LIST_LEN_MAX as usize || scanned >= MERCHANTS_SCANNED_MAX;
            found.extend(page.into_iter().filter(|m| {
                (scope.industries.is_empty() || scope.industries.contains(&m.app.industry))
                    && (scope.districts.is_empty() || scope.districts.contains(&m.app.district))
                    && (scope.merchants.is_empty() || scope.merchants.contains(&m.id))
            }));
            if last {
                break;
            }
        }
        let here = near.map(|p| (p.lat, p.lng));
        let mut out: Vec<(Merchant, Option<f64>)> = found
            .into_iter()
            .map(|m| {
                let d = here.zip(m.app.location).map(|(h, l)| distance_m(h, (l.lat, l.lng)).round());
                (m, d)
            })
            .collect();
        out.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.id.cmp(&b.0.id),
        });
        out.truncate(limit);
        Ok(out)
    }

    /// The resident's redemptions, newest first, at most `limit`.
    pub async fn my_redemptions(&self, actor: &Actor, limit: u32) -> Result<Vec<Redemption>, ResidentReadError> {
        let resident = Self::resident_of(actor)?;
        Ok(self.store().redemptions_of_resident(resident.id, limit.clamp(1, crate::LIST_LEN_MAX)).await?)
    }

    /// The resident's vouchers, each with its kind in its batch (for its
    /// rule, scope and validity).
    pub async fn wallet(&self, actor: &Actor) -> Result<Vec<WalletVoucher>, ResidentReadError> {
        let resident = Self::resident_of(actor)?;
        let list = self.store().vouchers_of(resident.id).await?;
        let mut batches = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(list.len());
        for v in list {
            if let std::collections::hash_map::Entry::Vacant(slot) = batches.entry(v.batch_id) {
                slot.insert(self.store().batch_by_id(v.batch_id).await.map_err(ResidentReadError::Store)?);
            }
            let kind = batches
                .get(&v.batch_id)
                .and_then(|b: &Batch| b.spec.kinds.iter().find(|k| k.kind.code == v.kind_code))
                .cloned();
            out.push(WalletVoucher { voucher: v, kind });
        }
        Ok(out)
    }
}

/// A voucher in a resident's wallet, with its kind in its batch.
#[derive(Debug, Clone)]
pub struct WalletVoucher {
    pub voucher: quan_store::Voucher,
    pub kind: Option<quan_domain::batch::BatchKind>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distance_between_two_points_of_yichang_is_in_metres() {
        // About 0.01° of latitude: 1.11 km.
        let d = distance_m((30.70, 111.29), (30.71, 111.29));
        assert!((d - 1_112.0).abs() < 5.0, "{d}");
        assert!(distance_m((30.7, 111.29), (30.7, 111.29)) < 1e-6);
    }
}
