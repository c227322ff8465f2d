//! Partners: registered once per name with a disabled account of their
//! own, keys revoked once; nonces taken once until they expire (a batch's
//! duplicate included); webhook events claimed in order per subject,
//! leased from other workers, and none claimed once the endpoint is
//! disabled or the partner cut off.

use quan_domain::UserId;
use quan_domain::partner::{KeyScheme, Mode, PartnerKind, PartnerStatus, Scope};

use super::{S, ok, t, uid, user};
use crate::{AttemptOutcome, NewEvent, Partner, PartnerKey, StoreError, WebhookEndpoint};

fn partner(n: u128, name: &str) -> Partner {
    Partner {
        id: uuid::Uuid::from_u128(n),
        name: name.into(),
        kind: PartnerKind::Bank,
        mode: Mode::Live,
        scopes: vec![Scope::Checkout],
        region: "4205".into(),
        status: PartnerStatus::Active,
        status_reason: String::new(),
        status_by: None,
        status_at: None,
        created_by: uid(1),
        created_at: t(1_000),
        keys: vec![PartnerKey {
            serial_no: format!("S{n}"),
            scheme: KeyScheme::Hmac,
            public_key: None,
            sealed_secret: Some(vec![1, 2, 3]),
            created_at: t(1_000),
            revoked_at: None,
        }],
    }
}

pub async fn partners_are_registered_once_per_name_and_keys_revoked_once(s: S) {
    ok(s.insert_user(&user(1, "official", "4205")).await, "official");
    let p = partner(100, "宜昌银行");
    ok(s.create_partner(&p).await, "create");
    assert!(matches!(s.create_partner(&partner(101, "宜昌银行")).await, Err(StoreError::Conflict { what: "name" })));
    let read = ok(s.partner(p.id).await, "read");
    assert_eq!(read, p);
    let account = ok(s.user_by_id(UserId::from_uuid(p.id)).await, "its account");
    assert!(account.disabled, "a partner's account never logs in");
    assert!(ok(s.revoke_partner_key(p.id, "S100", t(2_000)).await, "revoke"));
    assert!(!ok(s.revoke_partner_key(p.id, "S100", t(2_100)).await, "again"), "revoked once");
    ok(s.set_partner_status(p.id, PartnerStatus::Suspended, "熔断", uid(1), t(3_000)).await, "suspend");
    let list = ok(s.partners().await, "list");
    assert_eq!((list.len(), list[0].status, list[0].keys[0].revoked_at), (1, PartnerStatus::Suspended, Some(t(2_000))));
}

pub async fn nonces_are_taken_once_until_they_expire(s: S) {
    let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
    let n = |p, nonce: &str, until| (p, nonce.to_owned(), t(until));
    let first = ok(
        s.take_nonces(&[n(a, "x", 10_000), n(b, "x", 10_000), n(a, "x", 10_000), n(a, "y", 10_000)], t(0)).await,
        "take",
    );
    assert_eq!(first, vec![true, true, false, true], "per partner; the batch's duplicate refused");
    assert_eq!(ok(s.take_nonces(&[n(a, "x", 20_000)], t(9_999)).await, "again"), vec![false]);
    assert_eq!(ok(s.take_nonces(&[n(a, "x", 20_000)], t(10_000)).await, "expired"), vec![true]);
}

fn event(n: u128, partner: uuid::Uuid, subject: &str, at: i64) -> NewEvent {
    NewEvent {
        id: uuid::Uuid::from_u128(n),
        partner_id: partner,
        kind: "webhook.test".into(),
        subject: subject.into(),
        payload: "{}".into(),
        at: t(at),
    }
}

pub async fn webhook_events_are_claimed_in_order_per_subject_and_leased(s: S) {
    ok(s.insert_user(&user(1, "official", "4205")).await, "official");
    let p = partner(100, "推送银行");
    ok(s.create_partner(&p).await, "create");
    let endpoint = WebhookEndpoint {
        partner_id: p.id,
        url: "http://hooks.example/h".into(),
        sealed_secret: vec![9],
        status: "active".into(),
        status_reason: String::new(),
        updated_at: t(1_000),
    };
    ok(s.set_webhook_endpoint(&endpoint).await, "endpoint");
    for e in [event(1, p.id, "v1", 1_000), event(2, p.id, "v1", 1_001), event(3, p.id, "v2", 1_002)] {
        ok(s.add_webhook_event(&e).await, "event");
    }
    let ids = |c: &[(crate::WebhookEvent, WebhookEndpoint)]| c.iter().map(|(e, _)| e.id.as_u128()).collect::<Vec<_>>();
    let claimed = ok(s.claim_webhook_events(t(2_000), t(62_000), 10).await, "claim");
    assert_eq!(ids(&claimed), vec![1, 3], "the second of v1 waits behind the first");
    assert!(
        ok(s.claim_webhook_events(t(3_000), t(63_000), 10).await, "leased").is_empty(),
        "leased to the first worker"
    );
    ok(
        s.record_webhook_attempt(&claimed[0].0, &AttemptOutcome::Delivered { status: 200 }, t(4_000)).await,
        "delivered",
    );
    let retry = AttemptOutcome::Retry { status: Some(500), error: "answered 500".into(), next_at: t(70_000) };
    ok(s.record_webhook_attempt(&claimed[1].0, &retry, t(4_000)).await, "retry");
    assert_eq!(ids(&ok(s.claim_webhook_events(t(5_000), t(65_000), 10).await, "next")), vec![2]);
    let dead = AttemptOutcome::Dead { status: Some(410), error: "answered 410".into(), reason: "410 Gone".into() };
    let third = ok(s.webhook_events(p.id).await, "list").into_iter().find(|e| e.id.as_u128() == 3);
    let third = third.unwrap_or_else(|| panic!("event 3"));
    ok(s.record_webhook_attempt(&third, &dead, t(80_000)).await, "dead");
    let w = ok(s.webhook_endpoint(p.id).await, "endpoint").unwrap_or_else(|| panic!("endpoint"));
    assert_eq!((w.status.as_str(), w.status_reason.as_str()), ("disabled", "410 Gone"));
    ok(s.add_webhook_event(&event(4, p.id, "v3", 90_000)).await, "event");
    assert!(ok(s.claim_webhook_events(t(100_000), t(160_000), 10).await, "disabled").is_empty());
    ok(s.set_webhook_endpoint(&endpoint).await, "set again");
    ok(s.set_partner_status(p.id, PartnerStatus::Suspended, "熔断", uid(1), t(100_000)).await, "cut off");
    assert!(ok(s.claim_webhook_events(t(100_000), t(160_000), 10).await, "cut off").is_empty());
    ok(s.set_partner_status(p.id, PartnerStatus::Active, "", uid(1), t(100_001)).await, "back");
    assert_eq!(ids(&ok(s.claim_webhook_events(t(100_002), t(160_000), 10).await, "back")), vec![2, 4]);
    let events = ok(s.webhook_events(p.id).await, "list");
    let states: Vec<(&str, u32)> = events.iter().map(|e| (e.status.as_str(), e.attempts)).collect();
    assert_eq!(states, vec![("delivered", 1), ("pending", 0), ("dead", 2), ("pending", 0)]);
}

pub async fn a_channels_share_is_sold_out_on_its_own_and_unclaimed_stock_moves_between_channels(s: S) {
    use crate::ClaimOutcome as O;
    let (c, b, rs) = super::funded_batch(&s, 6).await;
    let bank = "0190b000-0000-7000-8000-000000000001";
    // 4 of the 6 to the bank; quan's own keeps 2.
    ok(s.move_channel_stock(b.id, "k1", "", bank, 4).await, "share");
    let short = s.move_channel_stock(b.id, "k1", "", bank, 3).await;
    assert!(matches!(short, Err(StoreError::Conflict { what: "stock_short" })), "{short:?}");
    assert!(matches!(s.move_channel_stock(b.id, "nope", "", bank, 1).await, Err(StoreError::NotFound)));
    let own: Vec<_> = (0..3).map(|i| super::claim_request(i, rs[i as usize], "b", 1)).collect();
    let out = ok(s.commit_claims(&super::claim_batch(c.id, b.id, 10, 0x71, own)).await, "own");
    assert_eq!(out, vec![O::Claimed, O::Claimed, O::SoldOut], "quan's own share is 2");
    let mut via = super::claim_batch(
        c.id,
        b.id,
        11,
        0x72,
        (3..6).map(|i| super::claim_request(i, rs[i as usize], "b", 1)).collect(),
    );
    via.channel = bank.into();
    let event = |n: u128| NewEvent {
        id: uuid::Uuid::from_u128(0xe0 + n),
        partner_id: uuid::Uuid::from_u128(7),
        kind: "voucher.claimed".into(),
        subject: format!("v{n}"),
        payload: "{}".into(),
        at: t(11),
    };
    via.requests[0].event = Some(event(0));
    assert_eq!(ok(s.commit_claims(&via).await, "bank"), vec![O::Claimed; 3], "the bank's share is 4");
    let shares = ok(s.channel_stock(b.id).await, "shares");
    let of = |ch: &str| shares.iter().find(|x| x.channel == ch).map(|x| (x.remaining, x.claimed, x.redeemed));
    assert_eq!((of(""), of(bank)), (Some((0, 2, 0)), Some((1, 3, 0))), "{shares:?}");
    // The bank's last unit back to quan's own: it sells there.
    ok(s.move_channel_stock(b.id, "k1", bank, "", 1).await, "back");
    let last = super::claim_batch(c.id, b.id, 12, 0x73, vec![super::claim_request(6, rs[6], "b", 1)]);
    assert_eq!(ok(s.commit_claims(&last).await, "own again"), vec![O::Claimed]);
    assert_eq!(ok(s.remaining_stock(b.id).await, "left"), vec![("k1".to_owned(), 0)]);
    let events = ok(s.webhook_events(uuid::Uuid::from_u128(7)).await, "events");
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["voucher.claimed"],
        "written with the granted claim"
    );
}
