//! The storage interface of quan: one trait per aggregate, one error type,
//! the migration type both backends use, and a conformance suite that every
//! backend must pass.

mod campaign_records;
mod case_traits;
mod cashout_traits;
mod channel_traits;
mod claim_plan;
mod claim_records;
mod complaint_records;
#[cfg(feature = "conformance")]
pub mod conformance;
mod console_traits;
mod district_records;
mod eligibility_records;
mod error;
mod ledger_records;
mod merchant_records;
mod migration;
mod partner_traits;
mod records;
mod redemption_records;
mod report_records;
mod risk_records;
mod risk_traits;
pub mod sql;
mod traits;
mod webhook_traits;

pub use campaign_records::{Batch, Campaign, CampaignEvent, CampaignTransition, LotteryRegistration, LotteryState};
pub use case_traits::{
    CaseAction, CaseEffect, CaseMember, CaseStore, ClaimFact, EffectDone, HoldFact, NewCase, ProductPrices,
    RedemptionFact, RiskCase,
};
pub use cashout_traits::{CashoutStore, HoldDecision};
pub use channel_traits::{ChannelFigures, ChannelStock, ChannelStore};
pub use claim_plan::{ClaimPlan, FirstVoucherRounds, SlotRounds, Unstored};
pub use claim_records::{
    ClaimBatch, ClaimKey, ClaimOutcome, ClaimRequest, CommitRetries, CommitRetryCounters, STOCK_BUCKETS, Voucher,
};
pub use complaint_records::{Complaint, ComplaintEvent, ComplaintFilter};
pub use district_records::DistrictBoundary;
pub use eligibility_records::{EligibilityList, Identity, IdentityChange, ListMember, MemberKind};
pub use error::StoreError;
pub use ledger_records::{AccountTotals, Transfer, merge_transfers};
pub use merchant_records::{Merchant, MerchantQuery, MerchantReview, PriceChange, Product, Till};
pub use migration::{Migration, check_applied};
pub use partner_traits::{
    Binding, BindingStore, ConfirmItem, ConfirmOutcome, LockItem, LockOutcome, Partner, PartnerKey, PartnerOrder,
    PartnerOrderStore, PartnerRefund, PartnerRefundTag, PartnerStore,
};
pub use records::{
    IdempotencyBegin, NewOtp, NewUser, OtpChallenge, OtpSend, OtpSendLimits, PoolStats, Principal, Resident,
    SESSION_ENDS_KEPT_MS, Session, User,
};
pub use redemption_records::{Direction, MerchantEarned, Owed, Redemption, Refund, RiskMark, Settlement};
pub use report_records::{
    DayActivity, DayRedemption, DayRefund, DayVoucher, EarlierRedemption, EarlierVoucher, GrabSecond, LiveFigures,
    ReportDay, ReportSnapshot,
};
pub use risk_records::{AdmissionEntry, ConflictOutcome, IdentityConflict, PauseRecord, Resumption, RiskSignal};
pub use risk_traits::RiskStore;
pub use traits::{
    CampaignDraftStore, CampaignStore, ClaimStore, ComplaintStore, DistrictStore, EligibilityStore, HealthStore,
    IdempotencyStore, LedgerStore, MerchantAlikeStore, MerchantStore, OtpStore, RedemptionStore, ReportStore,
    ResidentStore, SessionStore, SettlementStore, Store, TransferSearchStore, UserStore,
};
pub use webhook_traits::{
    AttemptOutcome, ExpiredBound, NewEvent, TellExpired, WebhookEndpoint, WebhookEvent, WebhookStore,
};
