//! Risk cases: one open case per subject (a finding again adds only the
//! members it lacked), actions recorded in order with their effect,
//! settlement holds kept once and released, a closed case takes no action
//! and its subject may open a new one.

use quan_domain::{Fen, MerchantId};

use super::{S, ok, t, uid};
use crate::{CaseAction, CaseEffect, CaseMember, NewCase, StoreError};

fn merchant(n: u128) -> MerchantId {
    MerchantId::from_uuid(uuid::Uuid::from_u128(n))
}

fn case(id: u128, merchants: &[u128]) -> NewCase {
    NewCase {
        id: uuid::Uuid::from_u128(id),
        kind: "ring",
        subject: "ring:m".into(),
        source: "graph_ring".into(),
        district: "420502".into(),
        campaign: None,
        score: 10,
        summary: "疑似套现团伙".into(),
        evidence: "{}".into(),
        amount: Fen::new(16_000),
        members: merchants.iter().map(|&m| CaseMember { kind: "merchant", id: merchant(m).to_string() }).collect(),
        at: t(1_000),
    }
}

fn action(a: &str, at: i64) -> CaseAction {
    CaseAction { seq: 0, action: a.into(), by: Some(uid(1)), at: t(at), note: "理由".into(), detail: String::new() }
}

pub async fn a_case_is_opened_once_per_subject_worked_and_closed(s: S) {
    let (id, added) = ok(s.open_case(&case(1, &[5, 6])).await, "open");
    assert_eq!((id, added.len()), (uuid::Uuid::from_u128(1), 2));
    let (again, added) = ok(s.open_case(&case(2, &[6, 7])).await, "found again");
    assert_eq!(again, id, "the open case of the subject");
    assert_eq!(added, vec![CaseMember { kind: "merchant", id: merchant(7).to_string() }], "only the new member");
    let held = CaseEffect::HoldSettlement(vec![merchant(5), merchant(6)]);
    assert_eq!(ok(s.act_on_case(id, &action("hold_settlement", 2_000), &held).await, "hold").merchants, 2);
    assert_eq!(ok(s.act_on_case(id, &action("hold_settlement", 2_100), &held).await, "again").merchants, 0);
    let mut holds = ok(s.settlement_holds().await, "holds");
    holds.sort();
    assert_eq!(holds, vec![merchant(5), merchant(6)]);
    let c = ok(s.risk_case(id).await, "read");
    assert_eq!((c.number, c.status.as_str(), c.members.len(), c.settlement_held.len()), (1, "open", 3, 2));
    let actions: Vec<&str> = c.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["opened", "found_again", "hold_settlement", "hold_settlement"]);
    assert_eq!(c.actions.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let released =
        ok(s.act_on_case(id, &action("release_settlement", 3_000), &CaseEffect::ReleaseSettlement).await, "release");
    assert_eq!(released.merchants, 2);
    assert!(ok(s.settlement_holds().await, "none held").is_empty());
    ok(s.act_on_case(id, &action("closed", 4_000), &CaseEffect::Close("false_alarm")).await, "close");
    let c = ok(s.risk_case(id).await, "closed");
    assert_eq!((c.status.as_str(), c.outcome.as_deref(), c.closed_at), ("closed", Some("false_alarm"), Some(t(4_000))));
    let late = s.act_on_case(id, &action("note", 5_000), &CaseEffect::Record).await;
    assert!(matches!(late, Err(StoreError::Conflict { what: "case_closed" })), "{late:?}");
    let unknown = s.act_on_case(uuid::Uuid::from_u128(99), &action("note", 5_000), &CaseEffect::Record).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    let (next, _) = ok(s.open_case(&case(3, &[5])).await, "the subject again");
    assert_eq!(next, uuid::Uuid::from_u128(3), "a closed case's subject opens a new one");
    assert_eq!(ok(s.risk_case(next).await, "read").number, 2);
    let open: Vec<i64> = ok(s.risk_cases(true, 10).await, "open").iter().map(|c| c.number).collect();
    let all: Vec<i64> = ok(s.risk_cases(false, 10).await, "all").iter().map(|c| c.number).collect();
    assert_eq!((open, all), (vec![2], vec![2, 1]));
}
