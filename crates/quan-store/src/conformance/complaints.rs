//! Complaints: a ticket with its photo and events, the staff's lists, the
//! version check, and the per-resident limit under a race.

use chrono::Duration;
use quan_domain::complaint::{ComplaintKind, ComplaintState, Outcome};
use quan_domain::{Region, Role};
use uuid::Uuid;

use super::{S, ok, resident, t};
use crate::{Complaint, ComplaintEvent, ComplaintFilter, StoreError};

fn region(s: &str) -> Region {
    Region::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn ticket(n: u128, resident_n: u128, district: &str) -> Complaint {
    let filed = t(n as i64 * 1000);
    Complaint {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n),
        ticket: format!("TS20261206-{n:06}"),
        resident: resident(resident_n, resident_n as u8).id,
        kind: ComplaintKind::ShopRefused,
        body: "收银员说不能用券\n第二行".into(),
        region: region(district),
        voucher: None,
        redemption: None,
        merchant: None,
        campaign: None,
        photo_type: None,
        state: ComplaintState::Open,
        outcome: None,
        assignee: None,
        merchant_asked: false,
        filed_at: filed,
        answer_due: filed + Duration::days(1),
        close_due: filed + Duration::days(3),
        answered_at: None,
        closed_at: None,
        version: 1,
    }
}

fn event(c: &Complaint, n: u128, action: &str, at_ms: i64) -> ComplaintEvent {
    ComplaintEvent {
        id: Uuid::from_u128(0x0190_0000_0000_7000_9000_0000_0000_0000 + n),
        complaint: c.id,
        action: action.into(),
        actor_user: None,
        actor_role: Role::Resident,
        body: c.body.clone(),
        resident_reads: true,
        merchant_reads: false,
        at: t(at_ms),
    }
}

async fn file(s: &S, c: &Complaint, photo: Option<&[u8]>) -> Result<(), StoreError> {
    s.insert_complaint(c, photo, &event(c, c.id.as_u128() & 0xFFFF, "filed", 0), t(-1_000_000), 100).await
}

pub async fn complaints_read_back_with_photo_and_events_and_stay_in_their_region(s: S) {
    for n in [1, 2] {
        ok(s.upsert_resident(&resident(n, n as u8)).await, "resident");
    }
    let m = super::merchant(1, "420502");
    ok(s.insert_merchant(&m, None).await, "merchant");
    let mut a = ticket(1, 1, "420502");
    a.merchant = Some(m.id);
    a.photo_type = Some("image/png".into());
    ok(file(&s, &a, Some(b"\x89PNG...")).await, "file a");
    let b = ticket(2, 2, "420503");
    ok(file(&s, &b, None).await, "file b");
    let c = ticket(3, 1, "330102");
    ok(file(&s, &c, None).await, "file c");
    assert_eq!(ok(s.complaint_by_id(a.id).await, "by id"), a);
    assert_eq!(ok(s.complaint_photo(a.id).await, "photo"), b"\x89PNG...".to_vec());
    assert!(matches!(s.complaint_photo(b.id).await, Err(StoreError::NotFound)));
    let mine = ok(s.complaints_of_resident(a.resident, 10).await, "mine");
    assert_eq!(mine.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c.id, a.id], "newest first");
    let dup = file(&s, &Complaint { id: Uuid::from_u128(99), ..a.clone() }, None).await;
    assert!(matches!(dup, Err(StoreError::Conflict { what: "ticket" })), "{dup:?}");

    let yichang = ComplaintFilter::within(&region("4205"));
    let listed = ok(s.list_complaints(&yichang, None, 10).await, "list");
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![b.id, a.id]);
    let page = ok(s.list_complaints(&yichang, Some(b.id), 10).await, "page 2");
    assert_eq!(page.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a.id]);
    let of_m = ComplaintFilter { merchant: Some(m.id), ..yichang.clone() };
    assert_eq!(ok(s.list_complaints(&of_m, None, 10).await, "of merchant").len(), 1);
    let asked = ComplaintFilter { merchant_asked: true, ..of_m.clone() };
    assert!(ok(s.list_complaints(&asked, None, 10).await, "asked").is_empty());
    let late = ComplaintFilter { overdue_at: Some(a.answer_due + Duration::milliseconds(1)), ..yichang.clone() };
    assert_eq!(
        ok(s.list_complaints(&late, None, 10).await, "overdue").iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![a.id]
    );

    // An action applies to the version it was decided on, and is kept.
    let mut next = a.clone();
    next.state = ComplaintState::Closed;
    next.outcome = Some(Outcome::Resolved);
    next.merchant_asked = true;
    next.answered_at = Some(t(5000));
    next.closed_at = Some(t(5000));
    next.version = 2;
    let mut close = event(&a, 50, "close", 5000);
    close.merchant_reads = true;
    ok(s.update_complaint(&next, &close).await, "close");
    let stale = s.update_complaint(&next, &event(&a, 51, "reply", 6000)).await;
    assert!(matches!(stale, Err(StoreError::Conflict { what: "complaint_changed" })), "{stale:?}");
    assert_eq!(ok(s.complaint_by_id(a.id).await, "closed"), next);
    let events = ok(s.complaint_events(a.id).await, "events");
    assert_eq!(events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), vec!["filed", "close"]);
    assert_eq!(events[1], close);
    assert_eq!(ok(s.list_complaints(&asked, None, 10).await, "asked now").len(), 1);
    let open = ComplaintFilter { open_only: true, ..yichang.clone() };
    assert_eq!(
        ok(s.list_complaints(&open, None, 10).await, "open").iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    let closed = ComplaintFilter { state: Some(ComplaintState::Closed), ..yichang.clone() };
    assert_eq!(ok(s.list_complaints(&closed, None, 10).await, "closed").len(), 1);
    assert!(ok(s.list_complaints(&late, None, 10).await, "late after close").is_empty());

    assert_eq!(ok(s.count_complaints_of_merchant(m.id).await, "count"), 1);
    let before = ok(s.complaints_filed_before(&region("4205"), t(2000)).await, "before");
    assert_eq!(before.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a.id]);
}

pub async fn a_residents_complaints_per_day_are_limited_even_when_raced(s: S) {
    ok(s.upsert_resident(&resident(1, 1)).await, "resident");
    let mut tasks = Vec::new();
    for n in 0..10u128 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let c = ticket(100 + n, 1, "420502");
            let e = event(&c, 100 + n, "filed", 0);
            s.insert_complaint(&c, None, &e, t(0), 5).await
        }));
    }
    let mut filed = 0;
    for task in tasks {
        match task.await.unwrap_or_else(|e| panic!("{e}")) {
            Ok(()) => filed += 1,
            Err(StoreError::Conflict { what: "complaint_limit" }) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(filed, 5);
    assert_eq!(ok(s.complaints_of_resident(resident(1, 1).id, 100).await, "stored").len(), 5);
    // Filings before `since` do not count.
    let later = ticket(200, 1, "420502");
    let e = event(&later, 200, "filed", 0);
    ok(s.insert_complaint(&later, None, &e, t(1_000_000), 5).await, "a new day");
}
