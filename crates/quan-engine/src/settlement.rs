//! Settlement (结算): what each merchant is owed for business days up to D,
//! paid once (payable → paid in the ledger, in the same transaction as the
//! settlement row), or held with the reason; the payout file for the bank;
//! and the bank's confirmation, with every mismatch reported.

use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::ledger::{Account, AccountKind, Reason};
use quan_domain::merchant::MerchantStatus;
use quan_domain::{BusinessDay, Fen};
use quan_store::{Settlement, StoreError, Transfer};

use crate::Engine;

/// A settlement run for one business day.
#[derive(Debug, Clone)]
pub struct SettlementRun {
    pub day: NaiveDate,
    /// Rows recorded by this run (a second run of the same day records none).
    pub new: Vec<Settlement>,
    /// Every row of the day, with the merchant's payout details for paid rows.
    pub all: Vec<(Settlement, Option<PayoutLine>)>,
    /// Per campaign and merchant: the day's statement.
    pub statements: Vec<Statement>,
}

/// One merchant's statement for a campaign and business day (对账单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub campaign_id: quan_domain::CampaignId,
    pub merchant_id: quan_domain::MerchantId,
    pub legal_name: String,
    /// Redemptions made that day, and their discount.
    pub redemptions: u64,
    pub discount: i128,
    /// Refunds recorded that day, and the subsidy they took back.
    pub refunds: u64,
    pub subsidy_returned: i128,
    /// What this day's settlement pays (or holds), if anything.
    pub settled: Fen,
    /// Netted against what the merchant owed back, and paid from earlier holds.
    pub recovered: Fen,
    pub released: Fen,
    /// `paid`, `held`, `recovered`, `confirmed`, `mismatch`, or empty when nothing was due.
    pub status: String,
    pub hold_reason: String,
}

impl Statement {
    /// A merchant's statement with nothing in it yet.
    fn empty(campaign_id: quan_domain::CampaignId, merchant_id: quan_domain::MerchantId) -> Statement {
        Statement {
            campaign_id,
            merchant_id,
            legal_name: String::new(),
            redemptions: 0,
            discount: 0,
            refunds: 0,
            subsidy_returned: 0,
            settled: Fen::ZERO,
            recovered: Fen::ZERO,
            released: Fen::ZERO,
            status: String::new(),
            hold_reason: String::new(),
        }
    }
}

/// One line of the payout file for the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutLine {
    pub legal_name: String,
    pub credit_code: String,
    pub bank_name: String,
    pub account_name: String,
    pub account_number: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    #[error("business day {0} has not ended yet (it ends at {ends})", ends = quan_domain::beijing(*.1))]
    DayNotOver(NaiveDate, DateTime<Utc>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line of the bank's confirmation file, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    Matched {
        id: uuid::Uuid,
        amount: Fen,
    },
    /// The bank paid another amount than instructed.
    AmountDiffers {
        id: uuid::Uuid,
        instructed: Fen,
        paid: Fen,
    },
    UnknownSettlement {
        id: uuid::Uuid,
    },
    /// Held, or confirmed before.
    NotAwaitingPayment {
        id: uuid::Uuid,
        status: String,
    },
}

impl Engine {
    /// Settles business day `day`: for every merchant and campaign, the
    /// subsidy earned by redemptions before the day's end less refunds
    /// before it, less what settlements moved before (and at most what is
    /// payable now), is due. What the merchant owes back (refunds after an
    /// earlier payment) is netted first; the rest is paid with anything held
    /// before, or held (suspended or not approved merchants, or merchants an
    /// open risk case holds) with the reason. Idempotent per day: the row and its transfers commit together.
    pub async fn settle(&self, day: NaiveDate) -> Result<SettlementRun, SettlementError> {
        let cutoff = self.config().business_day_cutoff;
        let (_, end) = BusinessDay::from_date(day).bounds(cutoff);
        let now = self.now();
        if now < end {
            return Err(SettlementError::DayNotOver(day, end));
        }
        let mut rows = Vec::new();
        let mut transfers = Vec::new();
        let held: std::collections::HashSet<_> = self.store().settlement_holds().await?.into_iter().collect();
        for o in self.store().owed_until(end).await? {
            if let Some((row, posts)) = self.settlement_of(&o, day, now, held.contains(&o.merchant_id)).await? {
                rows.push(row);
                transfers.push(posts);
            }
        }
        let new = self.store().record_settlements(&rows, &transfers).await?;
        // Partners may fetch the day's bill now.
        self.settlement_ready_events(day).await?;
        let all = self.payout_lines(day).await?;
        let statements = self.statements(day, &all).await?;
        tracing::info!(%day, new = new.len(), rows = all.len(), "settlement run");
        Ok(SettlementRun { day, new, all, statements })
    }

    /// One merchant's settlement of a campaign for `day`, with its
    /// transfers; `None` when nothing is due, held or owed back.
    async fn settlement_of(
        &self,
        o: &quan_store::Owed,
        day: NaiveDate,
        now: chrono::DateTime<chrono::Utc>,
        case_hold: bool,
    ) -> Result<Option<(Settlement, Vec<Transfer>)>, SettlementError> {
        // What the day left owed, but never more than is payable now: a
        // refund after the day's end has already taken its part back.
        let due = (o.earned - o.refunded - o.paid).min(o.balance).max(0);
        if due == 0 && o.held == 0 {
            return Ok(None);
        }
        let m = self.store().merchant_by_id(o.merchant_id).await?;
        let (may_pay, reason) = match m.status {
            MerchantStatus::Approved if case_hold => (false, "held by a risk case".to_owned()),
            MerchantStatus::Approved => (true, String::new()),
            MerchantStatus::Suspended => (false, format!("merchant suspended: {}", m.status_reason)),
            s => (false, format!("merchant is {}", s.as_str())),
        };
        let plan = quan_domain::settlement::plan(quan_domain::settlement::Position {
            due,
            held: o.held,
            owed_back: -o.recoverable.min(0),
            may_pay,
        });
        if plan.is_empty() {
            return Ok(None);
        }
        let fen =
            |v: i128| i64::try_from(v).map(Fen::new).map_err(|_| StoreError::message("settlement amount overflows"));
        let id = self.new_uuid();
        let reference = format!("settlement:{id}");
        let account = |kind| Account { campaign: o.campaign_id, kind, merchant: Some(o.merchant_id) };
        let mut posts = Vec::new();
        for (amount, from, to) in [
            (plan.recover_from_payable, AccountKind::Payable, AccountKind::Recoverable),
            (plan.recover_from_held, AccountKind::Held, AccountKind::Recoverable),
            (plan.release, AccountKind::Held, AccountKind::Paid),
            (plan.pay, AccountKind::Payable, AccountKind::Paid),
            (plan.hold, AccountKind::Payable, AccountKind::Held),
        ] {
            if amount > 0 {
                posts.push(Transfer {
                    id: self.new_uuid(),
                    debit: account(from),
                    credit: account(to),
                    amount: fen(amount)?,
                    reason: Reason::Settlement,
                    reference: reference.clone(),
                    at: now,
                });
            }
        }
        let (status, amount) = if plan.hold > 0 {
            ("held", plan.hold)
        } else if plan.paid() > 0 {
            ("paid", plan.paid())
        } else {
            ("recovered", 0)
        };
        let row = Settlement {
            id,
            business_day: day,
            campaign_id: o.campaign_id,
            merchant_id: o.merchant_id,
            amount: fen(amount)?,
            status: status.into(),
            hold_reason: if status == "held" { reason } else { String::new() },
            confirmed: None,
            bank_ref: None,
            created_at: now,
            confirmed_at: None,
            recovered: fen(plan.recovered())?,
            released: fen(plan.release)?,
        };
        Ok(Some((row, posts)))
    }

    /// The day's settlements, each paid one with its payout line.
    pub(crate) async fn payout_lines(
        &self,
        day: NaiveDate,
    ) -> Result<Vec<(Settlement, Option<PayoutLine>)>, SettlementError> {
        let mut all = Vec::new();
        for s in self.store().settlements_of_day(day).await? {
            let line = if matches!(s.status.as_str(), "held" | "recovered") {
                None
            } else {
                let m = self.store().merchant_by_id(s.merchant_id).await?;
                Some(PayoutLine {
                    legal_name: m.app.legal_name.clone(),
                    credit_code: m.app.credit_code.to_string(),
                    bank_name: m.app.settlement_account.bank_name.clone(),
                    account_name: m.app.settlement_account.account_name.clone(),
                    account_number: m.app.settlement_account.account_number.clone(),
                })
            };
            all.push((s, line));
        }
        Ok(all)
    }

    /// Every merchant's statement of the day: its redemptions and refunds,
    /// and what its settlement did.
    async fn statements(
        &self,
        day: NaiveDate,
        all: &[(Settlement, Option<PayoutLine>)],
    ) -> Result<Vec<Statement>, SettlementError> {
        let mut statements: Vec<Statement> = self
            .store()
            .day_activity(day)
            .await?
            .into_iter()
            .map(|a| Statement {
                redemptions: a.redemptions,
                discount: a.discount_fen,
                refunds: a.refunds,
                subsidy_returned: a.subsidy_returned_fen,
                ..Statement::empty(a.campaign, a.merchant)
            })
            .collect();
        for (s, _) in all {
            let found =
                statements.iter().position(|x| x.campaign_id == s.campaign_id && x.merchant_id == s.merchant_id);
            let i = found.unwrap_or_else(|| {
                statements.push(Statement::empty(s.campaign_id, s.merchant_id));
                statements.len() - 1
            });
            let st = &mut statements[i];
            st.settled = s.amount;
            st.recovered = s.recovered;
            st.released = s.released;
            st.status.clone_from(&s.status);
            st.hold_reason.clone_from(&s.hold_reason);
        }
        for st in &mut statements {
            st.legal_name = self.store().merchant_by_id(st.merchant_id).await?.app.legal_name;
        }
        Ok(statements)
    }

    /// Imports the bank's confirmation: `(settlement id, amount paid)` per line.
    pub async fn confirm_payouts(
        &self,
        lines: &[(uuid::Uuid, Fen, String)],
    ) -> Result<Vec<Confirmation>, SettlementError> {
        let mut out = Vec::new();
        for (id, paid, bank_ref) in lines {
            let c = match self.store().confirm_settlement(*id, *paid, bank_ref, self.now()).await {
                Ok(s) if s.status == "confirmed" => Confirmation::Matched { id: *id, amount: *paid },
                Ok(s) => Confirmation::AmountDiffers { id: *id, instructed: s.amount, paid: *paid },
                Err(StoreError::NotFound) => Confirmation::UnknownSettlement { id: *id },
                Err(StoreError::Conflict { .. }) => {
                    let status = self.store().settlement_by_id(*id).await?.status;
                    Confirmation::NotAwaitingPayment { id: *id, status }
                }
                Err(e) => return Err(e.into()),
            };
            out.push(c);
        }
        Ok(out)
    }
}

/// One line of a payment channel's bill (账单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    /// Line number in the file, for the report.
    pub line: usize,
    pub order_id: String,
    pub amount: Fen,
    pub discount: Fen,
    pub at: DateTime<Utc>,
}

/// A difference between the bill and quan's redemptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The bill has an order quan has no redemption for.
    NotInQuan {
        line: usize,
        order_id: String,
    },
    /// quan has a redemption (in the bill's time span) the bill lacks.
    NotInBill {
        redemption: uuid::Uuid,
        order_id: String,
    },
    AmountDiffers {
        line: usize,
        order_id: String,
        bill: Fen,
        quan: Fen,
    },
    DiscountDiffers {
        line: usize,
        order_id: String,
        bill: Fen,
        quan: Fen,
    },
    /// Several redemptions carry this order number (several merchants or vouchers).
    Ambiguous {
        line: usize,
        order_id: String,
        redemptions: usize,
    },
}

impl Engine {
    /// Reconciliation (账单核对): each bill line is matched to quan's
    /// redemption by the merchant's order number; amounts and discounts are
    /// compared, and redemptions made in the bill's time span that the bill
    /// lacks are listed. Returns the number of matched lines and every difference.
    pub async fn reconcile(&self, bill: &[BillLine]) -> Result<(usize, Vec<Mismatch>), StoreError> {
        let refs: Vec<String> = bill.iter().map(|b| b.order_id.clone()).collect();
        let found = self.store().redemptions_by_order_refs(&refs).await?;
        let mut by_ref: std::collections::HashMap<&str, Vec<&quan_store::Redemption>> =
            std::collections::HashMap::new();
        for r in &found {
            by_ref.entry(r.order_ref.as_str()).or_default().push(r);
        }
        let mut matched = 0;
        let mut out = Vec::new();
        for b in bill {
            match by_ref.get(b.order_id.as_str()).map(Vec::as_slice) {
                None | Some([]) => out.push(Mismatch::NotInQuan { line: b.line, order_id: b.order_id.clone() }),
                Some([r]) => {
                    let mut ok = true;
                    if r.order != b.amount {
                        ok = false;
                        out.push(Mismatch::AmountDiffers {
                            line: b.line,
                            order_id: b.order_id.clone(),
                            bill: b.amount,
                            quan: r.order,
                        });
                    }
                    if r.discount != b.discount {
                        ok = false;
                        out.push(Mismatch::DiscountDiffers {
                            line: b.line,
                            order_id: b.order_id.clone(),
                            bill: b.discount,
                            quan: r.discount,
                        });
                    }
                    if ok {
                        matched += 1;
                    }
                }
                Some(many) => out.push(Mismatch::Ambiguous {
                    line: b.line,
                    order_id: b.order_id.clone(),
                    redemptions: many.len(),
                }),
            }
        }
        if let (Some(from), Some(to)) = (bill.iter().map(|b| b.at).min(), bill.iter().map(|b| b.at).max()) {
            let billed: std::collections::HashSet<&str> = bill.iter().map(|b| b.order_id.as_str()).collect();
            for r in self.store().redemptions_between(from, to).await? {
                if !billed.contains(r.order_ref.as_str()) {
                    out.push(Mismatch::NotInBill { redemption: r.id, order_id: r.order_ref.clone() });
                }
            }
        }
        Ok((matched, out))
    }
}
