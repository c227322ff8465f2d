//! Drafts: rewritten whole or deleted only while they hold no money; a
//! deleted draft is not found but its events stay.

use quan_domain::Fen;
use quan_domain::campaign::CampaignStatus;

use super::campaigns::{batch, bid, campaign, event};
use super::{S, ok, t};
use crate::{CampaignTransition, StoreError};

pub async fn a_draft_is_rewritten_or_deleted_only_while_it_holds_no_money(s: S) {
    let c = campaign(1, "4205", 1_000_000);
    let b1 = batch(1, c.id, 10, 5);
    ok(s.insert_campaign(&c, std::slice::from_ref(&b1), &[event(1, c.id, "created", t(1))]).await, "insert");
    let mut edited = c.clone();
    edited.spec.name = "改过的活动".into();
    edited.spec.budget_fen = Fen::new(500_000);
    edited.updated_at = t(50);
    let (b2, b3) = (batch(2, c.id, 20, 5), batch(3, c.id, 30, 10));
    ok(s.replace_draft(&edited, &[b2.clone(), b3.clone()], &[event(2, c.id, "edited", t(50))]).await, "replace");
    let back = ok(s.campaign_by_id(c.id).await, "read");
    assert_eq!((back.spec.name.as_str(), back.spec.budget_fen), ("改过的活动", Fen::new(500_000)));
    assert_eq!(back.committed, Fen::new(20 * 500 + 30 * 1000), "committed again from zero");
    let batches: Vec<_> = ok(s.list_batches(c.id).await, "batches").iter().map(|b| b.id).collect();
    assert_eq!(batches, vec![b2.id, b3.id], "the old batch is gone");
    assert!(matches!(s.batch_by_id(bid(1)).await, Err(StoreError::NotFound)));
    let stock: i64 = ok(s.remaining_stock(b2.id).await, "stock").iter().map(|(_, n)| n).sum();
    assert_eq!(stock, 20);
    let too_big = crate::Campaign {
        spec: quan_domain::campaign::CampaignSpec { budget_fen: Fen::new(100), ..edited.spec.clone() },
        ..edited.clone()
    };
    let refused = s.replace_draft(&too_big, std::slice::from_ref(&b2), &[event(3, c.id, "edited", t(60))]).await;
    assert!(matches!(refused, Err(StoreError::Conflict { what: "budget" })), "{refused:?}");
    assert_eq!(ok(s.list_batches(c.id).await, "batches kept").len(), 2, "a refused edit changes nothing");

    // Money in: no longer a draft to rewrite or delete.
    let funded = CampaignTransition {
        id: c.id,
        from_status: CampaignStatus::Draft,
        from_funded: Fen::ZERO,
        to_status: CampaignStatus::Draft,
        to_funded: Fen::new(100),
        event: event(4, c.id, "funded", t(70)),
        transfers: vec![],
    };
    ok(s.transition_campaign(&funded, t(70)).await, "fund");
    let r = s.replace_draft(&edited, &[], &[event(5, c.id, "edited", t(80))]).await;
    assert!(matches!(r, Err(StoreError::Conflict { what: "not_a_draft" })), "{r:?}");
    let r = s.delete_draft(c.id, &event(6, c.id, "deleted", t(80))).await;
    assert!(matches!(r, Err(StoreError::Conflict { what: "not_a_draft" })), "{r:?}");

    let d = campaign(2, "4205", 1_000);
    ok(s.insert_campaign(&d, &[], &[event(7, d.id, "created", t(1))]).await, "insert d");
    ok(s.delete_draft(d.id, &event(8, d.id, "deleted", t(90))).await, "delete");
    assert!(matches!(s.campaign_by_id(d.id).await, Err(StoreError::NotFound)));
    let region = quan_domain::Region::parse("4205").unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<_> = ok(s.list_campaigns(&region, None, 10, None).await, "list").iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![c.id]);
    let kinds: Vec<_> = ok(s.campaign_events(d.id).await, "events").iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, vec!["created", "deleted"], "the audit trail stays");
    let again = s.delete_draft(d.id, &event(9, d.id, "deleted", t(95))).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "not_a_draft" })), "{again:?}");
}

pub async fn grab_seconds_of_every_node_are_kept_and_a_rewrite_replaces_a_nodes_second(s: S) {
    let b = bid(1);
    let row = |second: i64, node: u128, claimed: i64| crate::GrabSecond {
        batch: b,
        second,
        node: uuid::Uuid::from_u128(node),
        answers: [claimed, 1, 2, 3, 4, 5],
        latency: vec![claimed, 0, 7],
    };
    ok(s.put_grab_seconds(&[row(100, 1, 5), row(100, 2, 6), row(101, 1, 1)]).await, "put");
    ok(s.put_grab_seconds(&[row(101, 1, 9)]).await, "the node's second again, with more answers");
    let back = ok(s.grab_seconds(b, 100).await, "read");
    assert_eq!(back, vec![row(100, 1, 5), row(100, 2, 6), row(101, 1, 9)]);
    assert_eq!(ok(s.grab_seconds(b, 101).await, "since").len(), 1);
    assert!(ok(s.grab_seconds(bid(2), 0).await, "other batch").is_empty());
}
