//! Risk control at the grab: admission draws read back as published;
//! pauses are on until resumed once, and a day's report finds every pause
//! that was on during it.

use quan_domain::ResidentId;

use super::campaigns::bid;
use super::{S, ok, t, uid, user};
use crate::{AdmissionEntry, PauseRecord, Resumption, StoreError};

pub async fn an_admission_draw_reads_back_by_rank_and_a_rewrite_replaces_a_rank(s: S) {
    let draw = uuid::Uuid::from_u128(77);
    let e = |rank: u32, resident: u128, outcome: &str| AdmissionEntry {
        batch_id: bid(1),
        draw_id: draw,
        rank,
        resident_id: ResidentId::from_uuid(uuid::Uuid::from_u128(resident)),
        kind_code: "c100-20".into(),
        in_window: rank < 2,
        outcome: outcome.into(),
        at: t(5),
    };
    ok(s.put_admission_entries(&[e(1, 11, "claimed"), e(0, 10, "claimed"), e(2, 12, "busy")]).await, "put");
    ok(s.put_admission_entries(&[e(2, 12, "sold_out")]).await, "the same rank again");
    let back = ok(s.admission_entries(bid(1)).await, "read");
    assert_eq!(back, vec![e(0, 10, "claimed"), e(1, 11, "claimed"), e(2, 12, "sold_out")]);
    assert!(ok(s.admission_entries(bid(2)).await, "other batch").is_empty());
}

pub async fn a_pause_is_on_until_it_is_resumed_once_and_the_days_it_covered_find_it(s: S) {
    ok(s.insert_user(&user(1, "chief", "4205")).await, "official");
    let p = |n: u128, at: i64| PauseRecord {
        id: uuid::Uuid::from_u128(n),
        target_kind: "region".into(),
        target_id: "4205".into(),
        stops: "both".into(),
        reason: "外挂抢券".into(),
        by: uid(1),
        by_name: "官员 chief".into(),
        at: t(at),
        resumed: None,
    };
    ok(s.insert_pause(&p(1, 100), &[]).await, "first");
    ok(s.insert_pause(&p(2, 200), &[]).await, "second");
    assert_eq!(ok(s.active_pauses().await, "active"), vec![p(1, 100), p(2, 200)]);
    let r = Resumption { by: uid(1), by_name: "官员 chief".into(), at: t(300), reason: "已处置".into() };
    ok(s.resume_pause(p(1, 100).id, &r, &[]).await, "resume");
    let again = s.resume_pause(p(1, 100).id, &r, &[]).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "resumed" })), "{again:?}");
    let missing = s.resume_pause(uuid::Uuid::from_u128(9), &r, &[]).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(ok(s.active_pauses().await, "active").iter().map(|x| x.id).collect::<Vec<_>>(), vec![p(2, 200).id]);
    assert_eq!(ok(s.pause_by_id(p(1, 100).id).await, "read").resumed, Some(r));
    let ids = |v: Vec<PauseRecord>| v.into_iter().map(|x| x.id.as_u128()).collect::<Vec<_>>();
    assert_eq!(ids(ok(s.pauses_between(t(0), t(150)).await, "early")), vec![1]);
    assert_eq!(ids(ok(s.pauses_between(t(250), t(400)).await, "both on then")), vec![1, 2]);
    assert_eq!(ids(ok(s.pauses_between(t(301), t(400)).await, "after the resumption")), vec![2]);
    assert!(ok(s.pauses_between(t(0), t(100)).await, "before").is_empty());
}

pub async fn a_signal_is_kept_once_per_batch_resident_and_signal_with_its_first_instant(s: S) {
    let r = |n: u128| ResidentId::from_uuid(uuid::Uuid::from_u128(n));
    let sig = |resident: u128, signal: &str, at: i64| crate::RiskSignal {
        batch_id: bid(1),
        resident_id: r(resident),
        signal: signal.into(),
        at: t(at),
    };
    let many: Vec<crate::RiskSignal> = (0..250).map(|n| sig(100 + n, "shared_device", 1)).collect();
    ok(s.put_risk_signals(&many).await, "a grab's worth at once");
    ok(
        s.put_risk_signals(&[sig(1, "new_account", 5), sig(1, "shared_device", 5), sig(1, "new_account", 9)]).await,
        "put",
    );
    ok(s.put_risk_signals(&[sig(1, "new_account", 20)]).await, "again, from another node");
    let back = ok(s.risk_signals(bid(1)).await, "read");
    assert_eq!(back.len(), 252);
    assert_eq!(
        back[..2].to_vec(),
        vec![sig(1, "new_account", 5), sig(1, "shared_device", 5)],
        "the first instant stays"
    );
    assert!(ok(s.risk_signals(bid(2)).await, "other batch").is_empty());
}

pub async fn an_identity_conflict_is_resolved_once_and_the_other_loses_the_number(s: S) {
    use crate::{ConflictOutcome, Identity, IdentityConflict, Resident};
    use quan_domain::KeyedHash;
    ok(s.insert_user(&user(1, "desk", "4205")).await, "operator");
    let number = KeyedHash::from_bytes([7; 32]);
    let mut who = Vec::new();
    for n in [61u8, 62] {
        let r = Resident {
            id: ResidentId::from_uuid(uuid::Uuid::from_u128(u128::from(n))),
            phone_hash: KeyedHash::from_bytes([n; 32]),
            phone_masked: "x".into(),
            created_at: t(0),
        };
        ok(s.upsert_resident(&r).await, "resident");
        let id = Identity {
            resident_id: r.id,
            id_hash: number,
            id_masked: "4****************3".into(),
            household_region: "420502".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
            verified_at: t(i64::from(n)),
            real_name_checked_at: None,
        };
        ok(s.set_identity(&id).await, "identity");
        who.push(r.id);
    }
    assert_eq!(ok(s.residents_with_id(&number).await, "both"), who);
    ok(s.mark_real_name_checked(who[1], &number, t(70)).await, "checked");
    let c = IdentityConflict {
        id: uuid::Uuid::from_u128(88),
        id_hash: number,
        id_masked: "4****************3".into(),
        holder: who[1],
        other: who[0],
        opened_at: t(70),
        resolved: None,
        outcome: ConflictOutcome::default(),
    };
    ok(s.open_identity_conflict(&c).await, "open");
    ok(s.open_identity_conflict(&IdentityConflict { id: uuid::Uuid::from_u128(89), ..c.clone() }).await, "again");
    assert_eq!(ok(s.identity_conflicts(true).await, "open ones"), vec![c.clone()], "one per holder and other");
    assert!(ok(s.conflicts_resolved_since(t(0)).await, "none resolved").is_empty());
    let done = ok(s.resolve_identity_conflict(c.id, uid(1), t(80), "到柜台核实").await, "resolve");
    assert_eq!(done.resolved, Some((uid(1), t(80), "到柜台核实".to_owned())));
    assert_eq!(done.outcome, ConflictOutcome::default(), "no claims under the number");
    let again = s.resolve_identity_conflict(c.id, uid(1), t(81), "again").await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "resolved" })), "{again:?}");
    assert!(matches!(
        s.resolve_identity_conflict(uuid::Uuid::from_u128(5), uid(1), t(81), "x").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(ok(s.residents_with_id(&number).await, "holder only"), vec![who[1]]);
    assert_eq!(ok(s.identity(who[0]).await, "gone"), None);
    assert!(ok(s.identity_conflicts(true).await, "open").is_empty());
    assert_eq!(ok(s.conflicts_resolved_since(t(80)).await, "since 80"), vec![done.clone()]);
    assert!(ok(s.conflicts_resolved_since(t(81)).await, "since 81").is_empty());
}
