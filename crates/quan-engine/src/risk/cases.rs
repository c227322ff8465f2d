//! Risk cases: what the nightly analysis (or an operator) found about a
//! merchant, a resident, a product or a ring, with its evidence; operators
//! of the region work it — hold or release the merchants' settlement,
//! suspend them, freeze or release the residents' unused vouchers — and
//! close it with an outcome. Officials of the region read cases. Every
//! action is recorded with who, when and why, with its effect, in one
//! transaction.

use quan_domain::merchant::{MerchantStatus, ReviewAction};
use quan_domain::{MerchantId, ResidentId, Role};
use quan_store::{CaseAction, CaseEffect, EffectDone, NewCase, RiskCase, StoreError};

use super::RiskError;
use crate::Engine;
use crate::auth::Actor;

/// How a case ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOutcome {
    FraudConfirmed,
    FalseAlarm,
}

impl CaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::FraudConfirmed => "fraud_confirmed",
            CaseOutcome::FalseAlarm => "false_alarm",
        }
    }

    pub fn parse(s: &str) -> Option<CaseOutcome> {
        [CaseOutcome::FraudConfirmed, CaseOutcome::FalseAlarm].into_iter().find(|o| o.as_str() == s)
    }
}

/// What an operator does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseCommand {
    /// Settlement pays the case's merchants nothing until released.
    HoldSettlement,
    ReleaseSettlement,
    /// Suspends every merchant the case names (through the merchants' review).
    SuspendMerchants,
    /// Freezes the unused vouchers of every resident the case names.
    FreezeVouchers,
    ReleaseVouchers,
    /// A note for the record.
    Note,
    /// Closes it; a false alarm also releases what the case holds and freezes.
    Close(CaseOutcome),
}

impl CaseCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseCommand::HoldSettlement => "hold_settlement",
            CaseCommand::ReleaseSettlement => "release_settlement",
            CaseCommand::SuspendMerchants => "suspend_merchants",
            CaseCommand::FreezeVouchers => "freeze_vouchers",
            CaseCommand::ReleaseVouchers => "release_vouchers",
            CaseCommand::Note => "note",
            CaseCommand::Close(_) => "closed",
        }
    }
}

/// Cases an operator or official reads at most at once.
const CASES_LISTED_MAX: u32 = 500;

fn members<T>(c: &RiskCase, kind: &str, f: fn(uuid::Uuid) -> T) -> Vec<T> {
    c.members.iter().filter(|m| m.kind == kind).filter_map(|m| m.id.parse().ok()).map(f).collect()
}

impl Engine {
    /// Cases of the staff member's region, newest first.
    pub async fn risk_cases(&self, actor: &Actor, open_only: bool) -> Result<Vec<RiskCase>, RiskError> {
        let region = case_reader(actor)?;
        let all = self.store().risk_cases(open_only, CASES_LISTED_MAX).await?;
        Ok(all.into_iter().filter(|c| c.district.starts_with(region.as_str())).collect())
    }

    /// Every case, newest first (the command line, which has no actor).
    pub async fn risk_cases_unchecked(&self, open_only: bool) -> Result<Vec<RiskCase>, RiskError> {
        Ok(self.store().risk_cases(open_only, CASES_LISTED_MAX).await?)
    }

    /// One case with its members and actions (the command line and simulations).
    pub async fn risk_case_unchecked(&self, id: uuid::Uuid) -> Result<RiskCase, RiskError> {
        Ok(self.store().risk_case(id).await?)
    }

    /// One case of the staff member's region, with its members and actions.
    pub async fn risk_case(&self, actor: &Actor, id: uuid::Uuid) -> Result<RiskCase, RiskError> {
        let region = case_reader(actor)?;
        let c = self.store().risk_case(id).await?;
        if !c.district.starts_with(region.as_str()) {
            return Err(RiskError::NotFound);
        }
        Ok(c)
    }

    /// An operator's action on a case, with a note; the case as it is after.
    pub async fn act_on_case(
        &self,
        actor: &Actor,
        id: uuid::Uuid,
        cmd: CaseCommand,
        note: &str,
    ) -> Result<(RiskCase, EffectDone), RiskError> {
        let Actor::Staff { user, .. } = actor else { return Err(RiskError::Forbidden) };
        if user.role != Role::Operator {
            return Err(RiskError::Forbidden);
        }
        let note = quan_domain::invalid::text("note", note, 500)?;
        let c = self.risk_case(actor, id).await?;
        if c.status != "open" {
            return Err(RiskError::CaseClosed);
        }
        let action = |a: &str, detail: String| CaseAction {
            seq: 0,
            action: a.into(),
            by: Some(user.id),
            at: self.now(),
            note: note.clone(),
            detail,
        };
        let merchants = members(&c, "merchant", MerchantId::from_uuid);
        let effect = match cmd {
            CaseCommand::HoldSettlement => CaseEffect::HoldSettlement(merchants),
            CaseCommand::ReleaseSettlement => CaseEffect::ReleaseSettlement,
            CaseCommand::FreezeVouchers => CaseEffect::FreezeVouchers(members(&c, "resident", ResidentId::from_uuid)),
            CaseCommand::ReleaseVouchers => CaseEffect::ReleaseVouchers,
            CaseCommand::Note => CaseEffect::Record,
            CaseCommand::SuspendMerchants => {
                let done = self.suspend_case_merchants(actor, &merchants, &note).await?;
                let detail = serde_json::json!({ "suspended": done }).to_string();
                self.case_step(id, &action(cmd.as_str(), detail), &CaseEffect::Record).await?;
                return Ok((self.store().risk_case(id).await?, EffectDone::default()));
            }
            CaseCommand::Close(outcome) => {
                if outcome == CaseOutcome::FalseAlarm {
                    for (a, e) in [
                        ("release_settlement", CaseEffect::ReleaseSettlement),
                        ("release_vouchers", CaseEffect::ReleaseVouchers),
                    ] {
                        self.case_step(id, &action(a, String::new()), &e).await?;
                    }
                }
                CaseEffect::Close(outcome.as_str())
            }
        };
        let done = self.case_step(id, &action(cmd.as_str(), String::new()), &effect).await?;
        tracing::warn!(case = %id, action = cmd.as_str(), by = %user.id, merchants = done.merchants, vouchers = done.vouchers, "risk case action");
        Ok((self.store().risk_case(id).await?, done))
    }

    async fn case_step(&self, id: uuid::Uuid, a: &CaseAction, e: &CaseEffect) -> Result<EffectDone, RiskError> {
        match self.store().act_on_case(id, a, e).await {
            Err(StoreError::Conflict { what: "case_closed" }) => Err(RiskError::CaseClosed),
            other => Ok(other?),
        }
    }

    /// Suspends the approved ones of `merchants`; their ids.
    async fn suspend_case_merchants(
        &self,
        actor: &Actor,
        merchants: &[MerchantId],
        note: &str,
    ) -> Result<Vec<String>, RiskError> {
        let mut done = Vec::new();
        for &m in merchants {
            if self.store().merchant_by_id(m).await?.status != MerchantStatus::Approved {
                continue;
            }
            self.review_merchant(actor, m, ReviewAction::Suspend, note)
                .await
                .map_err(|e| RiskError::Store(StoreError::message(e.to_string())))?;
            done.push(m.to_string());
        }
        Ok(done)
    }

    /// Opens a case the analysis found (or records it found again, adding
    /// the members it did not name), and, when `hold`, holds the settlement
    /// of the merchants new to it at once. `(id, newly opened)`.
    pub(crate) async fn open_found_case(&self, c: NewCase, hold: bool) -> Result<(uuid::Uuid, bool), RiskError> {
        let mut tries = 0;
        let (id, added) = loop {
            match self.store().open_case(&c).await {
                // Two openings took the same number or subject at once: again.
                Err(StoreError::Conflict { what: "case_subject" }) if tries < 3 => tries += 1,
                other => break other?,
            }
        };
        let opened = id == c.id;
        let merchants: Vec<MerchantId> =
            added.iter().filter(|m| m.kind == "merchant").filter_map(|m| m.id.parse().ok()).collect();
        if hold && !merchants.is_empty() {
            let a = CaseAction {
                seq: 0,
                action: "hold_settlement".into(),
                by: None,
                at: self.now(),
                note: "分析发现后自动暂停结算".into(),
                detail: String::new(),
            };
            self.case_step(id, &a, &CaseEffect::HoldSettlement(merchants)).await?;
        }
        if opened {
            tracing::warn!(case = %id, kind = c.kind, source = %c.source, score = c.score, "risk case opened");
        }
        Ok((id, opened))
    }
}

/// The region of an operator or official who may read cases.
fn case_reader(actor: &Actor) -> Result<&quan_domain::Region, RiskError> {
    match actor {
        Actor::Staff { user, .. } if matches!(user.role, Role::Operator | Role::Official) => Ok(&user.region),
        _ => Err(RiskError::Forbidden),
    }
}

impl Engine {
    /// A refund soon after its redemption, with the rule set to hold: the
    /// merchant's case (one per merchant while open) names the redemption
    /// and its settlement is held. The refund stands whatever happens here.
    pub(crate) async fn quick_refund_case(&self, r: &quan_store::Redemption, refund: &quan_store::Refund) {
        let m = match self.store().merchant_by_id(r.merchant_id).await {
            Ok(m) => m,
            Err(e) => return tracing::error!(error = %e, redemption = %r.id, "the quick refund's case was not opened"),
        };
        let case = super::findings::quick_refund_case(self.new_uuid(), &m, r, refund, self.now());
        if let Err(e) = self.open_found_case(case, true).await {
            tracing::error!(error = %e, redemption = %r.id, "the quick refund's case was not opened");
        }
    }
}
