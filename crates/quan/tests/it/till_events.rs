//! The till's live stream (server-sent events): every redemption at the till
//! arrives once, in order, from either direction; a reconnect with
//! `Last-Event-ID` gets exactly what it missed; a redemption through another
//! node arrives too; only the till's own staff may listen; a shutdown ends
//! the stream instead of waiting for it.

use std::time::Duration;

use quan_testkit::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::{Shop, at, campaign, code_of, holder, shop};

/// An open event stream and what is left of its last chunk.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    async fn open(app: &TestApp, till: &str, token: &str, last_event_id: Option<&str>) -> Events {
        let mut req = app.client.get(app.url(&format!("/api/v1/tills/{till}/events"))).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(res.status(), StatusCode::OK);
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Events { res, buf: String::new() }
    }

    /// The next `redemption` event: (id, data). Panics after 10 s without one.
    async fn next(&mut self) -> (String, Value) {
        tokio::time::timeout(Duration::from_secs(10), self.next_any())
            .await
            .unwrap_or_else(|_| panic!("no event within 10 s; have {:?}", self.buf))
            .unwrap_or_else(|| panic!("the stream ended"))
    }

    /// The next `redemption` event, or None when the stream ends.
    async fn next_any(&mut self) -> Option<(String, Value)> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |name: &str| {
                    block.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim_start().to_owned()))
                };
                if field("event").as_deref() == Some("redemption") {
                    let data = serde_json::from_str(&field("data").unwrap_or_default()).unwrap_or_default();
                    return Some((field("id").unwrap_or_default(), data));
                }
            }
            let chunk = self.res.chunk().await.unwrap_or_else(|e| panic!("{e}"))?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// The resident pays at the till by scanning its code.
async fn pay_at_till(app: &TestApp, token: &str, voucher: &str, till_code: &str, fen: i64) -> Value {
    let body = json!({"code": till_code, "order_amount_fen": fen, "voucher_id": voucher});
    let (status, r) = app.post("/api/v1/me/redemptions", Some(token), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    r
}

async fn till_code(app: &TestApp, till: &str, cashier: &str) -> String {
    let (status, tc) = app.get(&format!("/api/v1/tills/{till}/code"), Some(cashier)).await;
    assert_eq!(status, StatusCode::OK, "{tc}");
    tc["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_till_sees_each_redemption_live_once_and_a_reconnect_gets_exactly_what_it_missed() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = campaign(&app).await;
    let Shop { till, owner, cashier, .. } = shop(&app, 11, "catering").await;
    let other = shop(&app, 12, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (alice, a1) = holder(&app, &bid, "13700000111").await;
    let (bob, b1) = holder(&app, &bid, "13700000112").await;
    let (_, a2) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&alice), &json!({})).await;
    let a2 = a2["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();

    // Only the till's cashier and its merchant's owner may listen.
    let url = app.url(&format!("/api/v1/tills/{till}/events"));
    for (token, want) in [
        (&other.cashier, StatusCode::NOT_FOUND),
        (&other.owner, StatusCode::NOT_FOUND),
        (&alice, StatusCode::FORBIDDEN),
    ] {
        let res = app.client.get(&url).bearer_auth(token).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(res.status(), want);
    }
    let res = app.client.get(&url).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let mut events = Events::open(&app, &till, &cashier, None).await;
    let mut by_owner = Events::open(&app, &till, &owner, None).await;
    // A redemption at another till is not this till's.
    let code = code_of(&app, &bob, &b1).await;
    let (status, r) =
        app.post("/api/v1/redemptions", Some(&other.cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    // The resident scans the till (商家出示): the cashier sees it live.
    let tc = till_code(&app, &till, &cashier).await;
    let first = pay_at_till(&app, &alice, &a1, &tc, 15_000).await;
    let (id, data) = events.next().await;
    assert_eq!(id, first["id"].as_str().unwrap_or_default());
    assert_eq!((data["id"].clone(), data["resident_pays_fen"].as_i64()), (first["id"].clone(), Some(13_000)), "{data}");
    assert_eq!(data["direction"], "merchant_shows");
    assert_eq!(by_owner.next().await.0, id, "the owner's stream sees it too");
    // The cashier scans the resident's code (用户出示) at the same till.
    let code = code_of(&app, &alice, &a2).await;
    let (status, second) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 10_000})).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (id2, data) = events.next().await;
    assert_eq!(
        (id2.as_str(), data["direction"].as_str()),
        (second["id"].as_str().unwrap_or_default(), Some("resident_shows"))
    );

    // Disconnected, the till misses one; reconnecting after the last event it
    // saw gets exactly that one, not the earlier two again.
    drop(events);
    app.clock.advance(chrono::Duration::seconds(5));
    let (carol, c1) = holder(&app, &bid, "13700000113").await;
    let tc = till_code(&app, &till, &cashier).await;
    let third = pay_at_till(&app, &carol, &c1, &tc, 20_000).await;
    let mut events = Events::open(&app, &till, &cashier, Some(&id2)).await;
    let (id3, _) = events.next().await;
    assert_eq!(id3, third["id"].as_str().unwrap_or_default());
    // Nothing more arrives (no repeats) within a re-read interval and a half.
    let quiet = tokio::time::timeout(Duration::from_millis(1_500), events.next_any()).await;
    assert!(quiet.is_err(), "no other event: {quiet:?}");

    // A shutdown ends the open stream instead of waiting for it.
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stop()).await;
    assert!(stopped.is_ok(), "the server stopped with a stream open");
    let end = tokio::time::timeout(Duration::from_secs(5), events.next_any()).await;
    assert!(matches!(end, Ok(None)), "the stream ended: {end:?}");
}

#[tokio::test]
async fn a_redemption_through_another_node_reaches_the_tills_stream_on_postgresql() {
    let Some(app) = TestApp::postgres().await else { return };
    let Some(node2) = app.second_node().await else { return };
    at(&node2, "2026-12-05T09:00:00+08:00");
    let (_, bid, _) = campaign(&app).await;
    let Shop { till, cashier_pw, .. } = shop(&app, 13, "catering").await;
    let cashier2 = node2.login("cashier13", &cashier_pw).await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000131").await;
    // The till listens on node 2; the resident pays through node 1.
    let mut events = Events::open(&node2, &till, &cashier2, None).await;
    let tc = till_code(&app, &till, &cashier2).await;
    let r = pay_at_till(&app, &token, &voucher, &tc, 15_000).await;
    let (id, data) = events.next().await;
    assert_eq!(id, r["id"].as_str().unwrap_or_default());
    assert_eq!(data["subsidy_fen"].as_i64(), Some(2_000), "{data}");
}
