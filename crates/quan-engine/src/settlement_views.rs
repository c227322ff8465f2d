//! Settlement for staff in the console: a business day's lines in my
//! region (paid, held and why, confirmed, mismatched), the bank's
//! confirmation (operators), and a channel bill's reconciliation.

use chrono::NaiveDate;
use quan_domain::Role;
use quan_store::{Settlement, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::rejection::{Rejection, Status};
use crate::settlement::{BillLine, Confirmation, Mismatch};

#[derive(Debug, thiserror::Error)]
pub enum SettlementViewError {
    #[error("your role may not do this")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for SettlementViewError {
    fn status(&self) -> Status {
        match self {
            SettlementViewError::Forbidden => Status::Forbidden,
            SettlementViewError::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            SettlementViewError::Forbidden => "forbidden",
            SettlementViewError::Store(_) => "internal",
        }
    }
}

/// A settlement line with its merchant's name.
#[derive(Debug, Clone)]
pub struct DayLine {
    pub settlement: Settlement,
    pub merchant: String,
    pub district: String,
}

fn staff_region(actor: &Actor, roles: &[Role]) -> Result<quan_domain::Region, SettlementViewError> {
    match actor {
        Actor::Staff { user, .. } if roles.contains(&user.role) => Ok(user.region.clone()),
        _ => Err(SettlementViewError::Forbidden),
    }
}

const READERS: [Role; 3] = [Role::Operator, Role::Official, Role::Auditor];

impl Engine {
    /// The lines of business day `day` for merchants in my region.
    pub async fn settlement_day_as(&self, actor: &Actor, day: NaiveDate) -> Result<Vec<DayLine>, SettlementViewError> {
        let region = staff_region(actor, &READERS)?;
        let mut out = Vec::new();
        for s in self.store().settlements_of_day(day).await? {
            let m = self.store().merchant_by_id(s.merchant_id).await?;
            if region.contains_district(&m.app.district) {
                out.push(DayLine { settlement: s, merchant: m.app.legal_name, district: m.app.district.to_string() });
            }
        }
        Ok(out)
    }

    /// The bank's confirmation, by an operator: a line naming a settlement
    /// outside the operator's region is answered as unknown.
    pub async fn confirm_payouts_as(
        &self,
        actor: &Actor,
        lines: &[(uuid::Uuid, quan_domain::Fen, String)],
    ) -> Result<Vec<Confirmation>, SettlementViewError> {
        let region = staff_region(actor, &[Role::Operator])?;
        let mut mine = Vec::new();
        let mut out = Vec::new();
        for l in lines {
            let inside = match self.store().settlement_by_id(l.0).await {
                Ok(s) => region.contains_district(&self.store().merchant_by_id(s.merchant_id).await?.app.district),
                Err(StoreError::NotFound) => true,
                Err(e) => return Err(e.into()),
            };
            if inside { mine.push(l.clone()) } else { out.push(Confirmation::UnknownSettlement { id: l.0 }) }
        }
        let confirmed = self.confirm_payouts(&mine).await.map_err(|e| match e {
            crate::settlement::SettlementError::Store(s) => SettlementViewError::Store(s),
            other => SettlementViewError::Store(StoreError::message(other.to_string())),
        })?;
        out.extend(confirmed);
        Ok(out)
    }

    /// A channel bill against the redemptions (reads only). Roles: operator, official, auditor.
    pub async fn reconcile_as(
        &self,
        actor: &Actor,
        bill: &[BillLine],
    ) -> Result<(usize, Vec<Mismatch>), SettlementViewError> {
        let region = staff_region(actor, &READERS)?;
        let (matched, all) = self.reconcile(bill).await?;
        // Redemptions the bill lacks are listed only for merchants in my region.
        let mut out = Vec::with_capacity(all.len());
        for m in all {
            if let Mismatch::NotInBill { redemption, .. } = &m {
                let r = self.store().redemption_by_id(*redemption).await?;
                if !region.contains_district(&self.store().merchant_by_id(r.merchant_id).await?.app.district) {
                    continue;
                }
            }
            out.push(m);
        }
        Ok((matched, out))
    }
}

impl Engine {
    /// The payout file's rows of business day `day` for merchants in my
    /// region (full account numbers: for the bank). Roles: operator.
    pub async fn payout_of_day_as(
        &self,
        actor: &Actor,
        day: NaiveDate,
    ) -> Result<Vec<[String; 10]>, SettlementViewError> {
        let region = staff_region(actor, &[Role::Operator])?;
        let all = self.payout_lines(day).await.map_err(|e| match e {
            crate::settlement::SettlementError::Store(s) => SettlementViewError::Store(s),
            other => SettlementViewError::Store(StoreError::message(other.to_string())),
        })?;
        let mut mine = Vec::new();
        for (s, line) in all {
            if region.contains_district(&self.store().merchant_by_id(s.merchant_id).await?.app.district) {
                mine.push((s, line));
            }
        }
        Ok(crate::settlement_files::payout_rows(&mine))
    }
}
