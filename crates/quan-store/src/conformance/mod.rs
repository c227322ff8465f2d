//! The behaviour every backend must have, written once. Each backend's
//! integration tests expand [`conformance_tests!`] with a function that opens
//! a fresh, empty, migrated store; each case then runs against it.

mod campaigns;
mod cases;
mod claims;
mod complaints;
mod drafts;
mod merchants;
mod partners;
mod redemptions;
mod risk;
mod settlement;
pub use campaigns::*;
pub use cases::*;
pub use claims::*;
pub use complaints::*;
pub use drafts::*;
pub use merchants::*;
pub use partners::*;
pub use redemptions::*;
pub use risk::*;
pub use settlement::*;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use quan_domain::{KeyedHash, Region, ResidentId, Role, SessionId, UserId, Username};
use uuid::Uuid;

use crate::{NewOtp, Principal, Resident, Session, Store, StoreError, User};

/// Expands to one `#[tokio::test]` per conformance case. `$open` is an async
/// expression (evaluated once per case) that yields `Some((store, guard))`,
/// where `guard` is kept alive until the case ends (a temporary folder, a
/// database to drop), or `None` to skip (the backend decides whether a skip
/// is allowed).
#[macro_export]
macro_rules! conformance_tests {
    ($open:expr) => {
        $crate::conformance_tests!(@cases $open;
            users_read_back_as_written,
            a_taken_username_is_a_conflict,
            an_unknown_user_is_not_found,
            listing_users_stays_inside_the_region_and_pages_by_id,
            disabling_and_changing_a_password_are_stored,
            sessions_live_until_they_expire_or_are_deleted,
            residents_live_sessions_load_newest_first_page_by_page,
            a_resident_is_created_once_per_phone_even_when_raced,
            residents_are_enrolled_in_bulk_with_live_sessions_or_not_at_all,
            one_time_codes_allow_a_bounded_number_of_tries,
            concurrent_tries_never_exceed_the_limit,
            parallel_sends_to_one_phone_get_one_code_per_limit,
            a_code_is_consumed_once_and_a_new_code_replaces_the_old,
            expired_codes_and_old_send_logs_are_pruned,
            the_store_answers_a_ping,
            campaigns_read_back_as_written_and_stay_in_their_region,
            a_transition_applies_only_to_the_state_it_was_decided_on,
            batches_are_refused_beyond_the_budget_even_when_raced,
            a_batch_reads_back_and_amends_only_from_its_current_version,
            a_closed_campaign_takes_no_batches,
            lottery_registrations_are_unique_and_a_draw_happens_once,
            a_campaign_is_created_with_its_batches_atomically,
            the_ledger_refuses_to_overdraw_and_never_changes_a_transfer,
            claims_never_oversell_never_exceed_a_limit_and_reserve_their_face_value,
            a_packs_first_voucher_holds_its_claims_slot_and_a_refused_pack_leaves_no_voucher,
            a_large_commit_stores_each_claim_once_even_with_residents_in_it_twice,
            a_person_claims_up_to_the_batch_limit_whichever_accounts_they_use,
            racing_claim_batches_share_the_stock_exactly,
            racing_redemption_batches_post_to_shared_accounts_without_deadlock,
            a_commit_of_redemptions_posts_one_transfer_per_pair_of_accounts_under_its_reference,
            redemptions_naming_another_resident_than_their_voucher_or_another_merchants_till_are_found,
            claims_agree_with_their_records_and_a_claim_on_another_campaigns_batch_is_found,
            batches_meeting_on_the_same_residents_limits_keep_them_without_deadlock,
            batches_meeting_on_the_same_persons_through_several_accounts_keep_the_limit_without_deadlock,
            an_idempotency_key_stored_with_a_claim_stands_for_that_claim_alone,
            a_voucher_is_redeemed_once_even_twice_in_one_batch_and_a_full_refund_returns_it,
            a_settlement_row_and_its_transfers_are_recorded_once_per_day_and_merchant,
            a_merchant_and_its_owner_are_stored_together_or_not_at_all,
            a_bulk_insert_skips_credit_codes_already_present,
            merchants_are_listed_by_region_and_status,
            identities_are_read_in_the_order_recorded_page_by_page_and_a_replaced_one_moves_last,
            a_lists_members_are_read_in_the_order_added_page_by_page,
            a_review_applies_to_the_status_it_was_decided_on_and_is_kept,
            tills_are_unique_per_merchant,
            a_catalogue_keeps_every_price_an_item_had,
            reimporting_a_district_keeps_the_old_boundary_in_history,
            identities_and_list_members_are_found_by_keyed_hash_only,
            an_idempotency_key_replays_refuses_other_bodies_and_reports_work_in_flight,
            complaints_read_back_with_photo_and_events_and_stay_in_their_region,
            a_residents_complaints_per_day_are_limited_even_when_raced,
            a_draft_is_rewritten_or_deleted_only_while_it_holds_no_money,
            grab_seconds_of_every_node_are_kept_and_a_rewrite_replaces_a_nodes_second,
            an_admission_draw_reads_back_by_rank_and_a_rewrite_replaces_a_rank,
            a_pause_is_on_until_it_is_resumed_once_and_the_days_it_covered_find_it,
            a_signal_is_kept_once_per_batch_resident_and_signal_with_its_first_instant,
            an_identity_conflict_is_resolved_once_and_the_other_loses_the_number,
            a_case_is_opened_once_per_subject_worked_and_closed,
            partners_are_registered_once_per_name_and_keys_revoked_once,
            nonces_are_taken_once_until_they_expire,
            webhook_events_are_claimed_in_order_per_subject_and_leased,
            a_channels_share_is_sold_out_on_its_own_and_unclaimed_stock_moves_between_channels,
            merchants_sharing_an_account_phone_or_address_are_found_with_what_they_share,
        );
    };
    (@cases $open:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, guard)) = $open.await else { return };
                $crate::conformance::$case(store).await;
                drop(guard);
            }
        )*
    };
}

pub(crate) type S = Arc<dyn Store>;

pub(crate) fn t(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(1_790_000_000_000 + ms).unwrap_or_default()
}

pub(crate) fn uid(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n))
}

pub(crate) fn hash(n: u8) -> KeyedHash {
    KeyedHash::from_bytes([n; 32])
}

pub(crate) fn user(n: u128, name: &str, region: &str) -> User {
    User {
        id: uid(n),
        username: Username::parse(name).unwrap_or_else(|e| panic!("{e}")),
        role: Role::Official,
        region: Region::parse(region).unwrap_or_else(|e| panic!("{e}")),
        display_name: format!("官员 {name}"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        disabled: false,
        created_at: t(n as i64),
        created_by: None,
        merchant: None,
        till: None,
    }
}

/// Stores a code with no send limit in the way.
async fn put(s: &S, o: &NewOtp) -> Result<(), StoreError> {
    let later = t(1_000_000_000_000);
    let none = crate::OtpSendLimits { resend_since: later, hour_since: later, per_hour_max: u32::MAX };
    s.put_otp(o, none).await.map(|r| assert_eq!(r, crate::OtpSend::Stored))
}

fn otp(n: u8, phone: u8, expires_ms: i64) -> NewOtp {
    NewOtp {
        id: Uuid::from_u128(u128::from(n) + 1000),
        phone_hash: hash(phone),
        code_hash: [n; 32],
        attempts: 0,
        created_at: t(0),
        expires_at: t(expires_ms),
    }
}

pub(crate) fn ok<T>(r: Result<T, StoreError>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

pub async fn users_read_back_as_written(s: S) {
    let mut u = user(1, "alice", "4205");
    u.created_by = Some(uid(99));
    ok(s.insert_user(&u).await, "insert");
    assert_eq!(ok(s.user_by_id(u.id).await, "by id"), u);
    assert_eq!(ok(s.user_by_username(&u.username).await, "by name"), u);
    assert_eq!(ok(s.count_users().await, "count"), 1);
}

pub async fn a_taken_username_is_a_conflict(s: S) {
    ok(s.insert_user(&user(1, "alice", "4205")).await, "first");
    let again = s.insert_user(&user(2, "alice", "3301")).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "username" })), "{again:?}");
    assert_eq!(ok(s.count_users().await, "count"), 1, "the refused row must not be stored");
}

pub async fn an_unknown_user_is_not_found(s: S) {
    assert!(matches!(s.user_by_id(uid(7)).await, Err(StoreError::NotFound)));
    let name = Username::parse("nobody").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(s.user_by_username(&name).await, Err(StoreError::NotFound)));
    assert!(matches!(s.set_user_disabled(uid(7), true).await, Err(StoreError::NotFound)));
}

pub async fn listing_users_stays_inside_the_region_and_pages_by_id(s: S) {
    let regions = ["4205", "420502", "420503", "3301", "42", "4206"];
    for (i, r) in regions.iter().enumerate() {
        ok(s.insert_user(&user(i as u128 + 1, &format!("user{i}"), r)).await, "insert");
    }
    let within = Region::parse("4205").unwrap_or_else(|e| panic!("{e}"));
    let all = ok(s.list_users(&within, None, 100, None).await, "list");
    let names: Vec<_> = all.iter().map(|u| u.region.as_str()).collect();
    assert_eq!(names, vec!["4205", "420502", "420503"]);
    let first = ok(s.list_users(&within, None, 2, None).await, "page 1");
    assert_eq!(first.len(), 2);
    let rest = ok(s.list_users(&within, first.last().map(|u| u.id), 2, None).await, "page 2");
    assert_eq!(rest.iter().map(|u| u.id).collect::<Vec<_>>(), vec![uid(3)]);
    // A search matches any case, and `%` and `_` only themselves.
    let found = ok(s.list_users(&within, None, 100, Some("USER2")).await, "search");
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), vec![uid(3)]);
    assert!(ok(s.list_users(&within, None, 100, Some("user_")).await, "underscore").is_empty());
    assert!(ok(s.list_users(&within, None, 100, Some("%")).await, "percent").is_empty());
}

pub async fn disabling_and_changing_a_password_are_stored(s: S) {
    let u = user(1, "alice", "4205");
    ok(s.insert_user(&u).await, "insert");
    ok(s.set_user_disabled(u.id, true).await, "disable");
    ok(s.set_user_password(u.id, "$argon2id$new").await, "password");
    let back = ok(s.user_by_id(u.id).await, "read");
    assert!(back.disabled);
    assert_eq!(back.password_hash, "$argon2id$new");
}

pub async fn sessions_live_until_they_expire_or_are_deleted(s: S) {
    let u = user(1, "alice", "4205");
    ok(s.insert_user(&u).await, "user");
    let r = ok(s.upsert_resident(&resident(5, 1)).await, "resident");
    let mk = |n: u8, p: Principal, exp: i64| Session {
        id: SessionId::from_uuid(Uuid::from_u128(u128::from(n) + 500)),
        token_hash: [n; 32],
        principal: p,
        created_at: t(0),
        expires_at: t(exp),
    };
    let a = mk(1, Principal::User(u.id), 1000);
    let b = mk(2, Principal::Resident(r.id), 5000);
    let c = mk(3, Principal::User(u.id), 5000);
    for x in [&a, &b, &c] {
        ok(s.insert_session(x).await, "insert session");
    }
    assert_eq!(ok(s.live_session(&[1; 32], t(999)).await, "live"), a);
    assert!(
        matches!(s.live_session(&[1; 32], t(1000)).await, Err(StoreError::NotFound)),
        "expired at its expiry instant"
    );
    assert_eq!(ok(s.live_session(&[2; 32], t(10)).await, "resident"), b);
    assert_eq!(ok(s.live_session_with_resident(&[2; 32], t(10)).await, "with resident"), (b.clone(), Some(r.clone())));
    assert_eq!(ok(s.live_session_with_resident(&[1; 32], t(999)).await, "staff"), (a.clone(), None));
    assert!(matches!(s.live_session_with_resident(&[1; 32], t(1000)).await, Err(StoreError::NotFound)));
    assert_eq!(ok(s.delete_expired_sessions(t(2000)).await, "expire"), 1);
    assert_eq!(ok(s.ended_sessions_since(t(0)).await, "nothing ended yet"), Vec::<[u8; 32]>::new(), "expiry is no end");
    assert_eq!(ok(s.delete_session(b.id, t(3000)).await, "delete"), [2; 32], "the ended session's token hash");
    assert!(matches!(s.live_session(&[2; 32], t(10)).await, Err(StoreError::NotFound)));
    assert_eq!(ok(s.delete_user_sessions(u.id, t(4000)).await, "user sessions"), 1);
    assert!(matches!(s.live_session(&[3; 32], t(10)).await, Err(StoreError::NotFound)));
    assert!(matches!(s.delete_session(b.id, t(5000)).await, Err(StoreError::NotFound)));
    let mut ended = ok(s.ended_sessions_since(t(3000)).await, "ended since 3000");
    ended.sort_unstable();
    assert_eq!(ended, vec![[2; 32], [3; 32]], "a logout and a user's sessions are recorded as ended, a miss is not");
    assert_eq!(ok(s.ended_sessions_since(t(3001)).await, "ended since 3001"), vec![[3; 32]]);
    // The record of an end is kept a day after it, then pruned with the expired sessions.
    ok(s.delete_expired_sessions(t(3000 + crate::SESSION_ENDS_KEPT_MS)).await, "prune at a day");
    assert_eq!(ok(s.ended_sessions_since(t(0)).await, "kept a day").len(), 2);
    ok(s.delete_expired_sessions(t(4001 + crate::SESSION_ENDS_KEPT_MS)).await, "prune after a day");
    assert_eq!(ok(s.ended_sessions_since(t(0)).await, "pruned"), Vec::<[u8; 32]>::new());
}

pub async fn residents_live_sessions_load_newest_first_page_by_page(s: S) {
    let u = user(1, "alice", "4205");
    ok(s.insert_user(&u).await, "user");
    let mut residents = Vec::new();
    for i in 0..5u8 {
        residents.push(ok(s.upsert_resident(&resident(u128::from(i) + 10, i + 20)).await, "resident"));
    }
    // Created at 100, 100, 200, 300, 400; the one created at 300 has expired at 1000.
    let created = [100, 100, 200, 300, 400];
    let expires = [5000, 5000, 5000, 1000, 5000];
    let mut sessions = Vec::new();
    for (i, r) in residents.iter().enumerate() {
        let x = Session {
            id: SessionId::from_uuid(Uuid::from_u128(700 + i as u128)),
            token_hash: [40 + i as u8; 32],
            principal: Principal::Resident(r.id),
            created_at: t(created[i]),
            expires_at: t(expires[i]),
        };
        ok(s.insert_session(&x).await, "resident session");
        sessions.push(x);
    }
    let staff = Session {
        id: SessionId::from_uuid(Uuid::from_u128(799)),
        token_hash: [99; 32],
        principal: Principal::User(u.id),
        created_at: t(500),
        expires_at: t(5000),
    };
    ok(s.insert_session(&staff).await, "staff session");
    let ids = |page: &[(Session, Resident)]| page.iter().map(|(x, _)| x.id).collect::<Vec<_>>();
    // Everything live at 1000, two at a time, newest first (ties by id, highest first).
    let first = ok(s.live_resident_sessions(t(1000), t(0), None, 2).await, "page 1");
    assert_eq!(
        ids(&first),
        vec![sessions[4].id, sessions[2].id],
        "newest first, the expired and the staff session left out"
    );
    assert_eq!(first[0].1, residents[4], "with its resident");
    let (x, _) = &first[1];
    let second = ok(s.live_resident_sessions(t(1000), t(0), Some((x.created_at, x.id)), 2).await, "page 2");
    assert_eq!(ids(&second), vec![sessions[1].id, sessions[0].id], "the tie at 100 split by id");
    let (x, _) = &second[1];
    assert!(ok(s.live_resident_sessions(t(1000), t(0), Some((x.created_at, x.id)), 2).await, "page 3").is_empty());
    // Only those created since 200; at 999 the one created at 300 still lives.
    let since = ok(s.live_resident_sessions(t(999), t(200), None, 10).await, "since 200");
    assert_eq!(ids(&since), vec![sessions[4].id, sessions[3].id, sessions[2].id]);
}

fn resident(id: u128, phone: u8) -> Resident {
    Resident {
        id: ResidentId::from_uuid(Uuid::from_u128(id + 300)),
        phone_hash: hash(phone),
        phone_masked: "138****5678".into(),
        created_at: t(id as i64),
    }
}

pub async fn a_resident_is_created_once_per_phone_even_when_raced(s: S) {
    let mut tasks = Vec::new();
    for i in 0..8u128 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.upsert_resident(&resident(i, 9)).await }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let r = task.await.unwrap_or_else(|e| panic!("{e}"));
        ids.push(ok(r, "upsert").id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "all racing sign-ups must get the same resident: {ids:?}");
    let back = ok(s.resident_by_id(ids[0]).await, "read");
    assert_eq!(back.phone_hash, hash(9));
    assert!(matches!(s.resident_by_id(ResidentId::from_uuid(Uuid::nil())).await, Err(StoreError::NotFound)));
}

pub async fn residents_are_enrolled_in_bulk_with_live_sessions_or_not_at_all(s: S) {
    let row = |i: u8| {
        let r = resident(1000 + u128::from(i), i);
        let session = Session {
            id: SessionId::from_uuid(Uuid::from_u128(0x5e55_0000 + u128::from(i))),
            token_hash: [i; 32],
            principal: Principal::Resident(r.id),
            created_at: t(0),
            expires_at: t(60_000),
        };
        (r, session)
    };
    // 70 rows: one 64-row statement and six single ones.
    let rows: Vec<_> = (0..70u8).map(row).collect();
    ok(s.enrol_residents(&rows).await, "enrol");
    let live = ok(s.live_session(&[69; 32], t(1)).await, "session");
    assert_eq!(live.principal, Principal::Resident(rows[69].0.id));
    assert_eq!(ok(s.resident_by_id(rows[3].0.id).await, "resident").phone_hash, hash(3));
    // A phone already enrolled: a conflict, and the new one beside it is not kept.
    let again = s.enrol_residents(&[row(200), row(5)]).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "{again:?}");
    assert!(matches!(s.resident_by_id(row(200).0.id).await, Err(StoreError::NotFound)), "all or nothing");
}

pub async fn one_time_codes_allow_a_bounded_number_of_tries(s: S) {
    ok(put(&s, &otp(1, 7, 300_000)).await, "put");
    for n in 1..=5 {
        let c = ok(s.take_otp_attempt(&hash(7), t(10), 5).await, "try");
        assert_eq!(c.attempts, n);
        assert_eq!(c.code_hash, [1; 32]);
    }
    assert!(matches!(s.take_otp_attempt(&hash(7), t(10), 5).await, Err(StoreError::NotFound)), "a sixth try");
    ok(put(&s, &otp(2, 8, 300_000)).await, "put");
    assert!(matches!(s.take_otp_attempt(&hash(8), t(300_000), 5).await, Err(StoreError::NotFound)), "expired");
    assert!(matches!(s.take_otp_attempt(&hash(3), t(0), 5).await, Err(StoreError::NotFound)), "none sent");
}

pub async fn concurrent_tries_never_exceed_the_limit(s: S) {
    ok(put(&s, &otp(1, 7, 300_000)).await, "put");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move { s.take_otp_attempt(&hash(7), t(10), 5).await.is_ok() }));
    }
    let mut granted = 0;
    for task in tasks {
        granted += u32::from(task.await.unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(granted, 5);
}

pub async fn parallel_sends_to_one_phone_get_one_code_per_limit(s: S) {
    // One a minute: 20 racing requests, one code, and no reset of the tries.
    let limits = |now: i64| crate::OtpSendLimits {
        resend_since: t(now - 60_000),
        hour_since: t(now - 3_600_000),
        per_hour_max: 3,
    };
    let mut tasks = Vec::new();
    for i in 0..20u8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut o = otp(i, 7, 300_000);
            o.created_at = t(100_000);
            s.put_otp(&o, limits(100_000)).await
        }));
    }
    let mut stored = 0;
    for task in tasks {
        let r = task.await.unwrap_or_else(|e| panic!("{e}"));
        stored += u32::from(ok(r, "send") == crate::OtpSend::Stored);
    }
    assert_eq!(stored, 1, "one code a minute however many requests race");
    assert_eq!(ok(s.otp_sends_since(&hash(7), t(0)).await, "sends"), 1);
    let tried = ok(s.take_otp_attempt(&hash(7), t(100_001), 5).await, "try");
    let mut again = otp(99, 7, 400_000);
    again.created_at = t(130_000);
    assert_eq!(ok(s.put_otp(&again, limits(130_000)).await, "too soon"), crate::OtpSend::TooSoon);
    let same = ok(s.take_otp_attempt(&hash(7), t(130_001), 5).await, "try");
    assert_eq!((same.id, same.attempts), (tried.id, 2), "a refused send leaves the code and its tries alone");
    // Three an hour: the fourth, a minute after the third, is refused.
    for (n, at) in [(100u8, 170_000), (101, 240_000)] {
        let mut o = otp(n, 7, 900_000);
        o.created_at = t(at);
        assert_eq!(ok(s.put_otp(&o, limits(at)).await, "send"), crate::OtpSend::Stored);
    }
    let mut fourth = otp(102, 7, 900_000);
    fourth.created_at = t(310_000);
    assert_eq!(ok(s.put_otp(&fourth, limits(310_000)).await, "fourth"), crate::OtpSend::TooMany);
}

pub async fn a_code_is_consumed_once_and_a_new_code_replaces_the_old(s: S) {
    ok(put(&s, &otp(1, 7, 300_000)).await, "put");
    ok(put(&s, &otp(2, 7, 300_000)).await, "put again");
    let c = ok(s.take_otp_attempt(&hash(7), t(10), 5).await, "try");
    assert_eq!(c.code_hash, [2; 32], "the newest code is the live one");
    assert_eq!(c.attempts, 1, "a new code starts with fresh tries");
    assert!(matches!(s.consume_otp(otp(1, 7, 0).id).await, Err(StoreError::NotFound)), "the replaced code is gone");
    ok(s.consume_otp(c.id).await, "consume");
    assert!(matches!(s.consume_otp(c.id).await, Err(StoreError::NotFound)), "consumed twice");
    assert_eq!(ok(s.otp_sends_since(&hash(7), t(0)).await, "sends"), 2);
    assert_eq!(ok(s.otp_sends_since(&hash(7), t(1)).await, "sends later"), 0);
}

pub async fn expired_codes_and_old_send_logs_are_pruned(s: S) {
    ok(put(&s, &otp(1, 7, 1000)).await, "put");
    ok(put(&s, &otp(2, 8, 9000)).await, "put");
    ok(s.prune_otps(t(5000), t(1)).await, "prune");
    assert!(s.take_otp_attempt(&hash(8), t(5000), 5).await.is_ok(), "the live one stays");
    assert_eq!(ok(s.otp_sends_since(&hash(7), t(0)).await, "sends"), 0);
    assert!(matches!(s.consume_otp(otp(1, 7, 0).id).await, Err(StoreError::NotFound)));
}

pub async fn the_store_answers_a_ping(s: S) {
    ok(s.ping().await, "ping");
    assert!(matches!(s.backend(), "sqlite" | "postgres"));
    let stats = s.pool_stats();
    assert!(stats.max >= 1 && stats.size <= stats.max, "{stats:?}");
}

/// Statements that put one transfer in the ledger by hand, then try to
/// change it; the backends' tests run them to prove the ledger is append-only.
pub const APPEND_ONLY_SETUP: [&str; 4] = [
    "INSERT INTO campaigns (id, name, region, spec_json, budget_fen, funded_fen, committed_fen, status, created_by, created_at_ms, updated_at_ms)
     VALUES ($1, 'x', '4205', '{}', 100, 0, 0, 'draft', $1, 0, 0)",
    "INSERT INTO ledger_accounts (key, campaign_id, kind, debits_fen, credits_fen, has_floor) VALUES ('a', $1, 'treasury', 5, 0, 0)",
    "INSERT INTO ledger_accounts (key, campaign_id, kind, debits_fen, credits_fen, has_floor) VALUES ('b', $1, 'available', 0, 5, 1)",
    "INSERT INTO ledger_transfers (id, campaign_id, debit_key, credit_key, amount_fen, reason, reference, at_ms) VALUES ($1, $1, 'a', 'b', 5, 'funding', 't', 0)",
];
pub const APPEND_ONLY_CHANGES: [&str; 2] =
    ["UPDATE ledger_transfers SET amount_fen = 6", "DELETE FROM ledger_transfers"];

pub async fn an_idempotency_key_replays_refuses_other_bodies_and_reports_work_in_flight(s: S) {
    use crate::IdempotencyBegin as B;
    let (h1, h2) = ([1u8; 32], [2u8; 32]);
    assert_eq!(ok(s.begin_idempotent("user:a", "k1", &h1, t(0)).await, "first"), B::New);
    assert_eq!(ok(s.begin_idempotent("user:a", "k1", &h1, t(1)).await, "during"), B::InFlight);
    assert_eq!(ok(s.begin_idempotent("user:a", "k1", &h2, t(1)).await, "other body"), B::Mismatch);
    assert_eq!(ok(s.begin_idempotent("user:b", "k1", &h2, t(1)).await, "other scope"), B::New);
    ok(s.complete_idempotent("user:a", "k1", 201, "{\"ok\":true}").await, "complete");
    assert_eq!(
        ok(s.begin_idempotent("user:a", "k1", &h1, t(2)).await, "retry"),
        B::Replay { status: 201, body: "{\"ok\":true}".into() }
    );
    ok(s.abandon_idempotent("user:b", "k1").await, "abandon");
    assert_eq!(ok(s.begin_idempotent("user:b", "k1", &h1, t(3)).await, "after abandon"), B::New);
    assert_eq!(ok(s.prune_idempotent(t(1)).await, "prune"), 1, "only keys older than the cut are pruned");
}
