//! One trait per aggregate. Each method is one atomic operation: it either
//! happens completely or not at all.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use quan_domain::merchant::MerchantStatus;
use quan_domain::{BatchId, CampaignId, Fen, ResidentId as Rid};
use quan_domain::{KeyedHash, MerchantId, Region, ResidentId, SessionId, TillId, UserId, Username};

pub use crate::console_traits::{CampaignDraftStore, ComplaintStore, MerchantAlikeStore, TransferSearchStore};
use crate::{
    AccountTotals, DistrictBoundary, EligibilityList, Identity, IdentityChange, ListMember, MemberKind, Transfer,
};
use crate::{
    Batch, Campaign, CampaignEvent, CampaignTransition, LotteryRegistration, Merchant, MerchantReview, NewOtp, NewUser,
    OtpChallenge, OtpSend, OtpSendLimits, PoolStats, PriceChange, Product, Resident, Session, StoreError, Till, User,
};
use crate::{ClaimBatch, ClaimOutcome, MerchantEarned, Owed, Redemption, Refund, Settlement, Voucher};

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict { what: "username" }` when the username is taken.
    async fn insert_user(&self, user: &NewUser) -> Result<(), StoreError>;
    async fn user_by_id(&self, id: UserId) -> Result<User, StoreError>;
    async fn user_by_username(&self, username: &Username) -> Result<User, StoreError>;
    /// Users whose region lies inside `within`, ordered by id, at most
    /// `limit`, starting after `after` (keyset pagination); with `search`,
    /// only those whose username or display name contains it (any case).
    async fn list_users(
        &self,
        within: &Region,
        after: Option<UserId>,
        limit: u32,
        search: Option<&str>,
    ) -> Result<Vec<User>, StoreError>;
    /// The accounts of one merchant (its owner and cashiers), by username.
    async fn users_of_merchant(&self, merchant: MerchantId) -> Result<Vec<User>, StoreError>;
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<(), StoreError>;
    async fn set_user_password(&self, id: UserId, password_hash: &str) -> Result<(), StoreError>;
    async fn count_users(&self) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait ResidentStore: Send + Sync {
    /// Inserts the resident unless one with the same phone hash exists, and
    /// returns the stored row either way (so two racing first logins agree).
    async fn upsert_resident(&self, resident: &Resident) -> Result<Resident, StoreError>;
    async fn resident_by_id(&self, id: ResidentId) -> Result<Resident, StoreError>;
    async fn resident_by_phone(&self, phone_hash: &KeyedHash) -> Result<Resident, StoreError>;
    /// Enrols many residents with one session each, in one transaction (for
    /// a bureau's bulk enrolment, demos and load tests); a phone already
    /// enrolled is a conflict and nothing is stored.
    async fn enrol_residents(&self, residents: &[(Resident, Session)]) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session whose token hashes to `token_hash`, if it has not expired at `now`.
    async fn live_session(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<Session, StoreError>;
    /// The same, with the resident the session belongs to (`None` for a
    /// staff session) read in the same query: a grab's first request from
    /// each resident costs one read, not two.
    async fn live_session_with_resident(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<(Session, Option<Resident>), StoreError>;
    /// Ends a session before its expiry (logout): deletes it and records
    /// its token hash as ended at `at`, in one transaction, for the other
    /// nodes (`ended_sessions_since`). Returns the session's token hash.
    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<[u8; 32], StoreError>;
    /// Ends every session of a user (after a password change or disabling),
    /// recorded as `delete_session` does.
    async fn delete_user_sessions(&self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Deletes the sessions expired at `now`, and the records of sessions
    /// ended more than [`SESSION_ENDS_KEPT_MS`](crate::SESSION_ENDS_KEPT_MS)
    /// before it. Returns the sessions deleted.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// The token hashes of the sessions ended (before their expiry) at or
    /// after `since`.
    async fn ended_sessions_since(&self, since: DateTime<Utc>) -> Result<Vec<[u8; 32]>, StoreError>;
    /// Residents' sessions live at `now` and created at or after
    /// `created_from`, with their residents, newest first: at most `limit`,
    /// and only those before `before` (the `(created_at, id)` of the last
    /// row of the previous page) when it is given. A node loads them to
    /// answer their tokens from memory.
    async fn live_resident_sessions(
        &self,
        now: DateTime<Utc>,
        created_from: DateTime<Utc>,
        before: Option<(DateTime<Utc>, SessionId)>,
        limit: u32,
    ) -> Result<Vec<(Session, Resident)>, StoreError>;
}

#[async_trait]
pub trait OtpStore: Send + Sync {
    /// Replaces any pending challenge of this phone and logs the send, if
    /// the send passes `limits`; checked and written in one transaction,
    /// so racing requests for one phone get one code per limit, no more.
    async fn put_otp(&self, otp: &NewOtp, limits: OtpSendLimits) -> Result<OtpSend, StoreError>;
    /// How many codes were sent to this phone at or after `since`.
    async fn otp_sends_since(&self, phone_hash: &KeyedHash, since: DateTime<Utc>) -> Result<u32, StoreError>;
    /// Uses up one try of the live challenge atomically and returns it with
    /// the try counted; `NotFound` when there is none, it expired, or its
    /// `attempts_max` tries are used up. Concurrent callers can never get more
    /// than `attempts_max` tries in total.
    async fn take_otp_attempt(
        &self,
        phone_hash: &KeyedHash,
        now: DateTime<Utc>,
        attempts_max: u32,
    ) -> Result<OtpChallenge, StoreError>;
    /// Deletes the challenge; `NotFound` if another request consumed it first.
    async fn consume_otp(&self, id: uuid::Uuid) -> Result<(), StoreError>;
    /// Drops expired challenges and send-log rows older than `before`.
    async fn prune_otps(&self, now: DateTime<Utc>, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Inserts a campaign with its first batches in one transaction (the
    /// caller has checked their total against the budget; the store checks
    /// it again).
    async fn insert_campaign(
        &self,
        c: &Campaign,
        batches: &[Batch],
        events: &[CampaignEvent],
    ) -> Result<(), StoreError>;
    async fn campaign_by_id(&self, id: CampaignId) -> Result<Campaign, StoreError>;
    /// Campaigns whose region lies inside `within`, by id, after `after`;
    /// with `search`, only those whose name contains it.
    async fn list_campaigns(
        &self,
        within: &Region,
        after: Option<CampaignId>,
        limit: u32,
        search: Option<&str>,
    ) -> Result<Vec<Campaign>, StoreError>;
    /// `Conflict { what: "campaign_changed" }` when the campaign is no longer
    /// in `from_status` with `from_funded`.
    async fn transition_campaign(&self, t: &CampaignTransition, at: chrono::DateTime<Utc>) -> Result<(), StoreError>;
    async fn campaign_events(&self, id: CampaignId) -> Result<Vec<CampaignEvent>, StoreError>;
    /// Inserts a batch and adds its face value to the campaign's committed
    /// total in one transaction, only if the total stays within the budget
    /// (`Conflict { what: "budget" }`) and the campaign still accepts
    /// batches (`Conflict { what: "campaign_changed" }`).
    async fn insert_batch(&self, b: &Batch, event: &CampaignEvent) -> Result<(), StoreError>;
    async fn batch_by_id(&self, id: BatchId) -> Result<Batch, StoreError>;
    async fn list_batches(&self, campaign: CampaignId) -> Result<Vec<Batch>, StoreError>;
    /// Replaces a batch whose version is still `b.version - 1`, moving the
    /// committed total by `face_delta` within the budget, in one transaction.
    async fn update_batch(&self, b: &Batch, face_delta: Fen, event: &CampaignEvent) -> Result<(), StoreError>;
    /// `Conflict { what: "registration" }` if already registered.
    async fn register_for_lottery(&self, r: &LotteryRegistration) -> Result<(), StoreError>;
    async fn lottery_registrants(&self, batch: BatchId) -> Result<Vec<Rid>, StoreError>;
    /// Records the winners and marks the batch drawn, once
    /// (`Conflict { what: "already_drawn" }`).
    async fn record_draw(&self, batch: BatchId, winners: &[Rid], event: &CampaignEvent) -> Result<(), StoreError>;
    async fn lottery_winners(&self, batch: BatchId) -> Result<Vec<Rid>, StoreError>;
}

#[async_trait]
pub trait MerchantStore: Send + Sync {
    /// Inserts a merchant and, if given, its owner's account in one
    /// transaction. `Conflict { what: "credit_code" }` when a merchant with
    /// the same credit code exists, `Conflict { what: "username" }` when the
    /// owner's username is taken.
    async fn insert_merchant(&self, m: &Merchant, owner: Option<&User>) -> Result<(), StoreError>;
    /// Inserts many merchants in one transaction, skipping those whose
    /// credit code exists; returns how many were inserted.
    async fn insert_merchants(&self, ms: &[Merchant]) -> Result<u64, StoreError>;
    async fn merchant_by_id(&self, id: MerchantId) -> Result<Merchant, StoreError>;
    /// Merchants whose district lies inside `within`, by id, narrowed by
    /// `q` (search, district, industry, scale).
    async fn list_merchants(
        &self,
        within: &Region,
        status: Option<MerchantStatus>,
        after: Option<MerchantId>,
        limit: u32,
        q: &crate::MerchantQuery<'_>,
    ) -> Result<Vec<Merchant>, StoreError>;
    async fn count_merchants(&self) -> Result<u64, StoreError>;
    /// Merchants of an earlier version whose contact phone is still in
    /// clear: (id, the number), at most `limit`.
    async fn merchants_with_clear_phone(&self, limit: u32) -> Result<Vec<(MerchantId, String)>, StoreError>;
    /// Replaces a clear contact phone with its masked form, hash and sealed number.
    async fn seal_merchant_phone(
        &self,
        id: MerchantId,
        masked: &str,
        hash: &KeyedHash,
        sealed: &[u8],
    ) -> Result<(), StoreError>;
    /// Applies a review if the merchant is still in `r.from`
    /// (`Conflict { what: "merchant_changed" }` otherwise) and records it.
    async fn review_merchant(&self, r: &MerchantReview) -> Result<(), StoreError>;
    async fn merchant_reviews(&self, id: MerchantId) -> Result<Vec<MerchantReview>, StoreError>;
    /// `Conflict { what: "till_code" }` when the merchant already has the code.
    async fn insert_till(&self, t: &Till) -> Result<(), StoreError>;
    async fn till_by_id(&self, id: TillId) -> Result<Till, StoreError>;
    async fn tills(&self, merchant: MerchantId) -> Result<Vec<Till>, StoreError>;
    /// Inserts or updates a catalogue item by (merchant, sku); a new item or
    /// a changed price appends to the price history. Returns the stored item.
    async fn upsert_product(&self, p: &Product, actor: UserId) -> Result<Product, StoreError>;
    async fn products(&self, merchant: MerchantId) -> Result<Vec<Product>, StoreError>;
    async fn price_history(&self, merchant: MerchantId, sku: &str) -> Result<Vec<PriceChange>, StoreError>;
}

#[async_trait]
pub trait DistrictStore: Send + Sync {
    /// Stores boundaries in one transaction; a district already present
    /// gets the next version and its old boundary moves to the history.
    /// Returns how many districts were new and how many replaced.
    async fn import_districts(&self, ds: &[DistrictBoundary], at: DateTime<Utc>) -> Result<(u64, u64), StoreError>;
    async fn districts(&self) -> Result<Vec<DistrictBoundary>, StoreError>;
    /// Earlier boundaries of a district, oldest first.
    async fn district_history(&self, code: &quan_domain::DistrictCode) -> Result<Vec<DistrictBoundary>, StoreError>;
}

#[async_trait]
pub trait EligibilityStore: Send + Sync {
    /// Records (or replaces) a resident's verified identity.
    async fn set_identity(&self, identity: &Identity) -> Result<(), StoreError>;
    /// Records a resident's identity unless one is recorded already, and
    /// returns the stored one either way (racing requests agree).
    async fn record_identity_once(&self, identity: &Identity) -> Result<Identity, StoreError>;
    /// Replaces a recorded identity and keeps the change, in one transaction.
    async fn replace_identity(&self, identity: &Identity, change: &IdentityChange) -> Result<(), StoreError>;
    /// The changes of a resident's identity, oldest first.
    async fn identity_changes(&self, resident: ResidentId) -> Result<Vec<IdentityChange>, StoreError>;
    async fn identity(&self, resident: ResidentId) -> Result<Option<Identity>, StoreError>;
    /// Identities recorded (or replaced) at or after `since`, oldest first:
    /// at most `limit`, and only those after `after` (the `(verified_at,
    /// resident)` of the last row of the previous page) when it is given.
    /// A node loads them to decide eligibility from memory.
    async fn identities_verified_since(
        &self,
        since: DateTime<Utc>,
        after: Option<(DateTime<Utc>, ResidentId)>,
        limit: u32,
    ) -> Result<Vec<Identity>, StoreError>;
    /// The list with this name, created if new. `Conflict { what: "list_region" }`
    /// when it exists for a region the caller's does not contain.
    async fn upsert_list(
        &self,
        name: &str,
        region: &Region,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<EligibilityList, StoreError>;
    async fn list_by_name(&self, name: &str) -> Result<EligibilityList, StoreError>;
    /// Adds members in one transaction; returns how many were new.
    async fn add_list_members(
        &self,
        list: uuid::Uuid,
        members: &[(MemberKind, KeyedHash)],
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Members of a list added at or after `since`, oldest first: at most
    /// `limit`, and only those after `after` (the `(added_at, kind, hash)`
    /// of the last row of the previous page) when it is given. A node loads
    /// a list to decide claims from memory, then follows what is added.
    async fn list_members_added_since(
        &self,
        list: uuid::Uuid,
        since: DateTime<Utc>,
        after: Option<ListMember>,
        limit: u32,
    ) -> Result<Vec<ListMember>, StoreError>;
    /// Which of the named lists have any of these members.
    async fn lists_with_member(
        &self,
        names: &[String],
        members: &[(MemberKind, KeyedHash)],
    ) -> Result<Vec<String>, StoreError>;
}

#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Posts transfers in one transaction; `Conflict { what: "account_floor" }`
    /// (and nothing posted) if any account with a floor would go below zero.
    async fn post_transfers(&self, transfers: &[Transfer]) -> Result<(), StoreError>;
    /// Every account of a campaign with its running totals and the totals
    /// summed from its transfers.
    async fn account_totals(&self, campaign: CampaignId) -> Result<Vec<AccountTotals>, StoreError>;
    /// One account's balance (credits − debits); zero for one never used.
    async fn account_balance(&self, account: &quan_domain::ledger::Account) -> Result<i128, StoreError>;
    /// A campaign's transfers, oldest first, after `after`, at most `limit`.
    async fn transfers(
        &self,
        campaign: CampaignId,
        after: Option<uuid::Uuid>,
        limit: u32,
    ) -> Result<Vec<Transfer>, StoreError>;
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `(scope, key)` for a request whose body hashes to `request_hash`.
    async fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<crate::IdempotencyBegin, StoreError>;
    /// What is stored for `(scope, key)`, read only: `None` when nothing is,
    /// else `Replay`, `Mismatch` (another body) or `InFlight` (no answer yet).
    async fn find_idempotent(
        &self,
        scope: &str,
        key: &str,
        request_hash: &[u8; 32],
    ) -> Result<Option<crate::IdempotencyBegin>, StoreError>;
    /// Stores the answer to send to retries.
    async fn complete_idempotent(&self, scope: &str, key: &str, status: u16, body: &str) -> Result<(), StoreError>;
    /// Frees a key whose request failed inside quan, so a retry can run.
    async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError>;
    async fn prune_idempotent(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait ClaimStore: Send + Sync {
    /// Commits claims of one batch in ONE transaction, in order: each takes
    /// its limit slots and one unit of stock or is refused alone; the face
    /// value of all that succeed is reserved in the ledger by one transfer.
    /// Returns one outcome per request.
    async fn commit_claims(&self, b: &ClaimBatch) -> Result<Vec<ClaimOutcome>, StoreError>;
    /// How many `commit_claims` of one voucher batch are worth running at
    /// once: 1 where writers queue for one lock anyway (SQLite); more where
    /// concurrent commits on different stock buckets proceed side by side.
    fn commits_in_parallel(&self) -> usize;
    /// How often `commit_claims` ran a batch again, and why.
    fn commit_retries(&self) -> crate::CommitRetries;
    /// Stock left per kind code.
    async fn remaining_stock(&self, batch: BatchId) -> Result<Vec<(String, i64)>, StoreError>;
    async fn vouchers_of(&self, resident: ResidentId) -> Result<Vec<Voucher>, StoreError>;
    /// Every claim id of a batch (for checks after a crash).
    async fn claim_ids(&self, batch: BatchId) -> Result<Vec<uuid::Uuid>, StoreError>;
    /// How many residents hold more than `limit` claims of a batch.
    async fn residents_over_limit(&self, batch: BatchId, limit: u32) -> Result<u64, StoreError>;
    /// Σ face value of a campaign's claimed, unredeemed vouchers.
    async fn reserved_face(&self, campaign: CampaignId) -> Result<i128, StoreError>;
    /// Rows of the claim tables that disagree with what they name: vouchers
    /// of the campaign whose batch is not one of its batches or whose
    /// resident does not exist, later vouchers of a pack whose claim's first
    /// voucher does not exist or names another campaign, batch, kind or
    /// resident, and limit slots (of any campaign) whose claim has no
    /// voucher. (On PostgreSQL these are not foreign keys: each was a query
    /// and a row lock per inserted row, more than half of what a claim cost.)
    async fn claims_unlike_records(&self, campaign: CampaignId) -> Result<u64, StoreError>;
    /// Claims in a batch (for invariant checks; reads the batch's vouchers).
    async fn claim_count(&self, batch: BatchId) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// A round trip to the database.
    async fn ping(&self) -> Result<(), StoreError>;
    fn pool_stats(&self) -> PoolStats;
}

/// Everything quan keeps, behind one object the engine holds.
#[async_trait]
pub trait RedemptionStore: Send + Sync {
    async fn voucher_by_id(&self, id: uuid::Uuid) -> Result<Voucher, StoreError>;
    /// Redemptions in ONE transaction: each marks its voucher redeemed (only
    /// if it is `claimed`) and records the redemption; returns,
    /// per item, whether it was recorded (`false`: the voucher was not
    /// `claimed` any more, e.g. redeemed by another till, or earlier in this
    /// same batch). The transfers of the recorded ones are posted merged
    /// (`merge_transfers`: one transfer per pair of accounts, reason and
    /// reference) with one update per account.
    async fn redeem_batch(&self, items: &[(Redemption, Vec<Transfer>)]) -> Result<Vec<bool>, StoreError>;
    async fn redemption_by_id(&self, id: uuid::Uuid) -> Result<Redemption, StoreError>;
    /// A resident's redemptions, newest first, at most `limit`.
    async fn redemptions_of_resident(&self, resident: ResidentId, limit: u32) -> Result<Vec<Redemption>, StoreError>;
    /// A till's redemptions at or after `since`, oldest first, at most `limit`.
    async fn redemptions_at_till(
        &self,
        till: TillId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Redemption>, StoreError>;
    /// A merchant's redemptions of business days `from` to `to` (both
    /// included), at one till or all, newest first, at most `limit`.
    async fn redemptions_of_merchant(
        &self,
        merchant: MerchantId,
        days: (NaiveDate, NaiveDate),
        till: Option<TillId>,
        limit: u32,
    ) -> Result<Vec<Redemption>, StoreError>;
    /// Standing redemptions of one order of a merchant.
    async fn standing_on_order(&self, merchant: MerchantId, order_ref: &str) -> Result<u32, StoreError>;
    /// Records a refund: the redemption's refunded amount and standing
    /// subsidy change only if nobody refunded since it was read
    /// (`refunded_before`), else `Conflict { what: "refund_raced" }`; with
    /// `voucher_back` the redemption is reversed and the voucher is
    /// `claimed` again. Transfers are posted in the same transaction, and a
    /// partner's number and event (`partner`) with them.
    async fn refund(
        &self,
        f: &Refund,
        refunded_before: Fen,
        subsidy_after: Fen,
        transfers: &[Transfer],
        partner: Option<&crate::PartnerRefundTag>,
    ) -> Result<(), StoreError>;
    async fn refunds_of(&self, redemption: uuid::Uuid) -> Result<Vec<Refund>, StoreError>;
    /// Per merchant: the subsidy its standing redemptions of a campaign
    /// still earn (redeemed − refunded).
    async fn subsidy_by_merchant(&self, campaign: CampaignId) -> Result<Vec<MerchantEarned>, StoreError>;
    /// Vouchers of a campaign whose state disagrees with their history: a
    /// `redeemed` one without exactly one standing redemption, or another
    /// with one.
    async fn vouchers_inconsistent(&self, campaign: CampaignId) -> Result<u64, StoreError>;
    /// Redemptions of a campaign (by their own campaign or their voucher's)
    /// whose copy of the voucher's facts (campaign, batch, kind, resident,
    /// face value) differs from the voucher, or whose merchant, till or
    /// cashier does not exist, or whose till is another merchant's. (On
    /// PostgreSQL these are not foreign keys: each cost a query and a row
    /// lock per inserted row.)
    async fn redemptions_unlike_records(&self, campaign: CampaignId) -> Result<u64, StoreError>;
    /// How many of the campaign's redemptions were made at a merchant whose
    /// district lies outside `region` (the campaign's): each is a finding.
    async fn redemptions_outside_region(&self, campaign: CampaignId, region: &Region) -> Result<u64, StoreError>;
    /// Marks `claimed` vouchers of one kind of a batch claimed before
    /// `claimed_before` as `expired` and posts `release` for exactly their face
    /// value (its amount is replaced by that sum; nothing is posted for none),
    /// in one transaction; with `rollover_to`, as many units of stock of the
    /// same kind are added to that batch in the same transaction; for each
    /// that a resident bound to an active partner held, the event `tell`
    /// makes is written in it too. Returns how many expired and their face
    /// value.
    async fn expire_vouchers(
        &self,
        batch: BatchId,
        kind_code: &str,
        claimed_before: DateTime<Utc>,
        release: &Transfer,
        rollover_to: Option<BatchId>,
        tell: &crate::TellExpired<'_>,
    ) -> Result<(u64, Fen), StoreError>;
    /// Per voucher state of a campaign: how many, and their face value.
    async fn voucher_stats(&self, campaign: CampaignId) -> Result<Vec<(String, u64, i128)>, StoreError>;
    /// Standing redemptions of a campaign: how many, order amount, subsidy.
    async fn redemption_stats(&self, campaign: CampaignId) -> Result<(u64, i128, i128), StoreError>;
    /// Refunds of a campaign: how many, amount refunded, subsidy returned.
    async fn refund_stats(&self, campaign: CampaignId) -> Result<(u64, i128, i128), StoreError>;
    /// Redemptions whose merchant order number is one of `refs`.
    async fn redemptions_by_order_refs(&self, refs: &[String]) -> Result<Vec<Redemption>, StoreError>;
    /// Redemptions with an order number made in `[from, to]`.
    async fn redemptions_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Redemption>, StoreError>;
}

/// Settlement: what each merchant is owed, the day's rows and their
/// transfers, and the bank's confirmation.
#[async_trait]
pub trait SettlementStore: Send + Sync {
    /// Per campaign and merchant with a payable account: earned and refunded
    /// before `until`, paid ever (from the ledger's transfers).
    async fn owed_until(&self, until: DateTime<Utc>) -> Result<Vec<Owed>, StoreError>;
    /// Records settlements, each once per (day, campaign, merchant): a row
    /// already there is left alone and its transfer is not posted again.
    /// `transfers[i]` (payment, hold, recovery, release) are posted only
    /// when row `i` is new. Returns the rows newly recorded.
    async fn record_settlements(
        &self,
        rows: &[Settlement],
        transfers: &[Vec<Transfer>],
    ) -> Result<Vec<Settlement>, StoreError>;
    /// Per campaign and merchant, what happened on business day `day`.
    async fn day_activity(&self, day: chrono::NaiveDate) -> Result<Vec<crate::DayActivity>, StoreError>;
    async fn settlements_of_day(&self, day: chrono::NaiveDate) -> Result<Vec<Settlement>, StoreError>;
    /// A merchant's settlement lines, newest business day first, at most `limit`.
    async fn settlements_of_merchant(&self, merchant: MerchantId, limit: u32) -> Result<Vec<Settlement>, StoreError>;
    /// Per merchant: what its settlements of a campaign told the bank to pay.
    async fn paid_by_settlements(&self, campaign: CampaignId) -> Result<Vec<(MerchantId, i128)>, StoreError>;
    async fn settlement_by_id(&self, id: uuid::Uuid) -> Result<Settlement, StoreError>;
    /// The bank's confirmation of a paid settlement: `confirmed` when the
    /// amount matches, `mismatch` otherwise. `NotFound` for an unknown id;
    /// `Conflict { what: "not_paid" }` for one held or already confirmed.
    async fn confirm_settlement(
        &self,
        id: uuid::Uuid,
        paid: Fen,
        bank_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<Settlement, StoreError>;
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// A campaign's activity on business day `day` (`[from, to)` in time),
    /// with the earlier history of the residents active that day.
    async fn report_day(
        &self,
        campaign: CampaignId,
        day: chrono::NaiveDate,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<crate::ReportDay, StoreError>;
    /// Every merchant's (id, industry, district, scale), for grouping.
    async fn merchant_attributes(&self) -> Result<Vec<(MerchantId, String, String, String)>, StoreError>;
    /// Stores a snapshot unless one for the same campaign, day and kind is
    /// there; returns the stored one (the earlier, if any).
    async fn save_report(&self, r: &crate::ReportSnapshot) -> Result<crate::ReportSnapshot, StoreError>;
    async fn report_snapshot(
        &self,
        campaign: CampaignId,
        day: chrono::NaiveDate,
        kind: &str,
    ) -> Result<crate::ReportSnapshot, StoreError>;
    /// Business days with a stored snapshot of `kind`, oldest first.
    async fn report_days(&self, campaign: CampaignId, kind: &str) -> Result<Vec<chrono::NaiveDate>, StoreError>;
    /// The live view's figures from running totals (stock, ledger) and a count.
    async fn live_figures(&self, campaign: CampaignId) -> Result<crate::LiveFigures, StoreError>;
    /// Writes (or overwrites) nodes' answer counts per batch and second.
    async fn put_grab_seconds(&self, rows: &[crate::GrabSecond]) -> Result<(), StoreError>;
    /// A batch's rows of every node from second `since` on, by second.
    async fn grab_seconds(&self, batch: BatchId, since: i64) -> Result<Vec<crate::GrabSecond>, StoreError>;
}

pub trait Store:
    UserStore
    + ResidentStore
    + SessionStore
    + OtpStore
    + CampaignStore
    + CampaignDraftStore
    + crate::RiskStore
    + crate::CashoutStore
    + crate::CaseStore
    + crate::PartnerStore
    + crate::PartnerOrderStore
    + crate::BindingStore
    + crate::WebhookStore
    + crate::ChannelStore
    + MerchantStore
    + RedemptionStore
    + SettlementStore
    + ReportStore
    + DistrictStore
    + EligibilityStore
    + LedgerStore
    + IdempotencyStore
    + ClaimStore
    + ComplaintStore
    + MerchantAlikeStore
    + TransferSearchStore
    + HealthStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: UserStore
        + ResidentStore
        + SessionStore
        + OtpStore
        + CampaignStore
        + CampaignDraftStore
        + crate::RiskStore
        + crate::CashoutStore
        + crate::CaseStore
        + crate::PartnerStore
        + crate::PartnerOrderStore
        + crate::BindingStore
        + crate::WebhookStore
        + crate::ChannelStore
        + MerchantStore
        + RedemptionStore
        + SettlementStore
        + ReportStore
        + DistrictStore
        + EligibilityStore
        + LedgerStore
        + IdempotencyStore
        + ClaimStore
        + ComplaintStore
        + MerchantAlikeStore
        + TransferSearchStore
        + TransferSearchStore
        + MerchantAlikeStore
        + TransferSearchStore
        + TransferSearchStore
        + HealthStore
        + std::fmt::Debug
{
}
