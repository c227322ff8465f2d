//! Campaigns: one programme, one budget, one strict life cycle
//! (draft → funded → running → closing → closed).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Region;
use crate::invalid::{Invalid, ensure, text};
use crate::money::Fen;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being set up; money may be received.
    Draft,
    /// The whole budget has been received from the treasury.
    Funded,
    /// Batches may open and vouchers may be claimed and redeemed.
    Running,
    /// No new claims; redemptions and settlement finish.
    Closing,
    /// Final: nothing can change.
    Closed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Funded => "funded",
            CampaignStatus::Running => "running",
            CampaignStatus::Closing => "closing",
            CampaignStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<CampaignStatus> {
        [Self::Draft, Self::Funded, Self::Running, Self::Closing, Self::Closed].into_iter().find(|c| c.as_str() == s)
    }

    /// Whether batches may still be added or amended.
    pub fn accepts_batches(self) -> bool {
        matches!(self, CampaignStatus::Draft | CampaignStatus::Funded | CampaignStatus::Running)
    }
}

/// What an official submits to create a campaign (TOML or JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    pub name: String,
    /// GB/T 2260 prefix the campaign serves: `4205` for all of Yichang.
    pub region: Region,
    pub budget_fen: Fen,
    /// Where the money comes from, e.g. "市级财政 2026 年促消费专项资金".
    pub funding_source: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// Campaign budgets are at most ¥10 billion.
pub const BUDGET_MAX: Fen = Fen::new(1_000_000_000_000);

impl CampaignSpec {
    pub fn validate(&self, today: NaiveDate) -> Result<(), Invalid> {
        text("name", &self.name, 100)?;
        text("funding_source", &self.funding_source, 200)?;
        ensure(self.budget_fen > Fen::ZERO, "budget_fen", "not_positive", || {
            "the budget must be more than zero".into()
        })?;
        ensure(self.budget_fen <= BUDGET_MAX, "budget_fen", "too_large", || format!("at most {BUDGET_MAX} yuan"))?;
        ensure(self.ends_on >= self.starts_on, "ends_on", "ends_before_it_starts", || {
            format!("{} is before {}", self.ends_on, self.starts_on)
        })?;
        ensure(self.ends_on >= today, "ends_on", "ends_in_past", || format!("{} has passed", self.ends_on))
    }
}

/// A campaign's money so far, kept with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignMoney {
    pub budget: Fen,
    pub funded: Fen,
}

/// A change of a campaign's life cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignCommand {
    /// Money received from the treasury.
    Fund {
        amount: Fen,
    },
    Start,
    BeginClosing,
    Close,
}

impl CampaignCommand {
    pub fn name(&self) -> &'static str {
        match self {
            CampaignCommand::Fund { .. } => "fund",
            CampaignCommand::Start => "start",
            CampaignCommand::BeginClosing => "begin_closing",
            CampaignCommand::Close => "close",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignRejection {
    #[error("a {status} campaign cannot {command}")]
    InvalidTransition { status: &'static str, command: &'static str },
    #[error("a funding amount must be more than zero")]
    AmountNotPositive,
    #[error("funding {amount} would bring the campaign to {total}, above its budget {budget}")]
    Overfunded { amount: Fen, total: Fen, budget: Fen },
}

impl CampaignRejection {
    pub fn code(&self) -> &'static str {
        match self {
            CampaignRejection::InvalidTransition { .. } => "invalid_transition",
            CampaignRejection::AmountNotPositive => "amount_not_positive",
            CampaignRejection::Overfunded { .. } => "overfunded",
        }
    }
}

/// The outcome of a command: the new status and money.
pub fn decide(
    status: CampaignStatus,
    money: CampaignMoney,
    cmd: &CampaignCommand,
) -> Result<(CampaignStatus, CampaignMoney), CampaignRejection> {
    use CampaignStatus as S;
    let invalid = || CampaignRejection::InvalidTransition { status: status.as_str(), command: cmd.name() };
    match (status, cmd) {
        (S::Draft, CampaignCommand::Fund { amount }) => {
            if *amount <= Fen::ZERO {
                return Err(CampaignRejection::AmountNotPositive);
            }
            let total = money.funded.checked_add(*amount).filter(|t| *t <= money.budget).ok_or(
                CampaignRejection::Overfunded {
                    amount: *amount,
                    total: money.funded.checked_add(*amount).unwrap_or(Fen::AMOUNT_MAX),
                    budget: money.budget,
                },
            )?;
            let next = if total == money.budget { S::Funded } else { S::Draft };
            Ok((next, CampaignMoney { funded: total, ..money }))
        }
        (S::Funded, CampaignCommand::Start) => Ok((S::Running, money)),
        (S::Running, CampaignCommand::BeginClosing) => Ok((S::Closing, money)),
        (S::Closing, CampaignCommand::Close) => Ok((S::Closed, money)),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const M: CampaignMoney = CampaignMoney { budget: Fen::new(1000), funded: Fen::ZERO };

    #[test]
    fn a_campaign_is_funded_once_the_whole_budget_has_arrived() {
        let (s, m) = decide(CampaignStatus::Draft, M, &CampaignCommand::Fund { amount: Fen::new(400) })
            .unwrap_or((CampaignStatus::Closed, M));
        assert_eq!((s, m.funded), (CampaignStatus::Draft, Fen::new(400)));
        let (s, m) =
            decide(s, m, &CampaignCommand::Fund { amount: Fen::new(600) }).unwrap_or((CampaignStatus::Closed, M));
        assert_eq!((s, m.funded), (CampaignStatus::Funded, Fen::new(1000)));
    }

    #[test]
    fn funding_beyond_the_budget_or_of_nothing_is_refused() {
        let r = decide(CampaignStatus::Draft, M, &CampaignCommand::Fund { amount: Fen::new(1001) });
        assert!(matches!(r, Err(CampaignRejection::Overfunded { .. })));
        let r = decide(CampaignStatus::Draft, M, &CampaignCommand::Fund { amount: Fen::ZERO });
        assert_eq!(r, Err(CampaignRejection::AmountNotPositive));
    }

    #[test]
    fn the_life_cycle_only_moves_forward_one_step_at_a_time() {
        let r = decide(CampaignStatus::Draft, M, &CampaignCommand::Start);
        assert_eq!(r.err().map(|e| e.to_string()), Some("a draft campaign cannot start".into()));
        assert!(decide(CampaignStatus::Running, M, &CampaignCommand::Close).is_err());
        assert!(decide(CampaignStatus::Closed, M, &CampaignCommand::Fund { amount: Fen::new(1) }).is_err());
        assert_eq!(
            decide(CampaignStatus::Closing, M, &CampaignCommand::Close).map(|r| r.0),
            Ok(CampaignStatus::Closed)
        );
    }

    fn any_cmd() -> impl Strategy<Value = CampaignCommand> {
        prop_oneof![
            (-10i64..2000).prop_map(|a| CampaignCommand::Fund { amount: Fen::new(a) }),
            Just(CampaignCommand::Start),
            Just(CampaignCommand::BeginClosing),
            Just(CampaignCommand::Close),
        ]
    }

    proptest! {
        #[test]
        fn no_sequence_of_commands_overfunds_or_skips_a_state(cmds in proptest::collection::vec(any_cmd(), 0..30)) {
            let (mut s, mut m) = (CampaignStatus::Draft, M);
            for c in &cmds {
                if let Ok((s2, m2)) = decide(s, m, c) {
                    prop_assert!(m2.funded <= m2.budget && m2.funded >= m.funded);
                    prop_assert!(s2 == s || (s2 as u8) == (s as u8) + 1, "{s:?} -> {s2:?}");
                    prop_assert!(s2 == CampaignStatus::Draft || m2.funded == m2.budget);
                    (s, m) = (s2, m2);
                }
            }
        }
    }
}
