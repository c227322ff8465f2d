//! A bank's app as a claim channel: an official gives the bank a share of a
//! batch's stock; the bank claims for residents bound to it, under the
//! batch's limits (which count claims through every channel together), from
//! its own share — which sells out on its own while quan's H5 still has
//! stock, and the other way round; the official moves unclaimed units back;
//! the same `out_request_no` answers the same claim; each claim is a
//! `voucher.claimed` event; a pause of the bank's channel stops its claims
//! only; the audit stays clean. On SQLite and PostgreSQL.

use quan_testkit::fixtures::{at, resident};
use quan_testkit::{TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_partner::{Bank, call, register};
use crate::api_risk_cases::campaign;

#[tokio::test]
async fn a_banks_app_claims_from_its_own_share_for_bound_residents_on_sqlite() {
    claims(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_banks_app_claims_from_its_own_share_for_bound_residents_on_postgres() {
    let opts = TestOptions { backend: quan_testkit::Backend::Postgres, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    claims(app).await;
}

/// A resident bound to the bank: (their token, their id for the bank).
async fn bound(app: &TestApp, bank: &Bank, phone: &str) -> (String, String) {
    let token = resident(app, phone).await;
    let (status, c) = app.post("/api/v1/me/partner-bindings", Some(&token), &json!({"partner_id": bank.id})).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let (status, b) = call(app, bank, "POST", "/partner/v1/bindings", Some(&json!({"binding_code": c["code"]}))).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    (token, b["resident_openid"].as_str().unwrap_or_default().to_owned())
}

fn share(shares: &Value, channel: &str) -> (i64, i64) {
    let row = shares.as_array().into_iter().flatten().find(|s| s["channel"] == channel);
    row.map_or((-1, -1), |s| (s["remaining"].as_i64().unwrap_or(-1), s["claimed"].as_i64().unwrap_or(-1)))
}

async fn claims(app: TestApp) {
    let (cid, batch) = campaign(&app).await;
    let (official, bank) = register(&app, "宜昌银行", &["claim", "checkout"]).await;
    let moves = format!("/api/v1/batches/{batch}/channel-moves");
    let mv = |from: &str, to: &str, count: i64| json!({"kind_code": "c100-20", "from": from, "to": to, "count": count});
    // Before opening: 98 of the 100 to the bank, 2 left in quan's own H5.
    let (status, shares) = app.post(&moves, Some(&official), &mv("h5", &bank.id, 98)).await;
    assert_eq!(status, StatusCode::OK, "{shares}");
    assert_eq!((share(&shares, "h5"), share(&shares, &bank.id)), ((2, 0), (98, 0)), "{shares}");
    for (body, code) in [
        (mv("h5", &bank.id, 3), "stock_short"),
        (mv("h5", "nobody", 1), "unknown_channel"),
        (mv("h5", "h5", 1), "same_channel"),
        (mv("h5", &bank.id, 0), "count_positive"),
        (json!({"kind_code": "x", "from": "h5", "to": bank.id, "count": 1}), "unknown_kind"),
    ] {
        let (status, e) = app.post(&moves, Some(&official), &body).await;
        assert_eq!((status, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, code), "{e}");
    }
    let (_, auditor) = app.staff("channels.auditor", quan_domain::Role::Auditor, "4205").await;
    let (status, _) = app.post(&moves, Some(&auditor), &mv(&bank.id, "h5", 1)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "officials move stock; auditors read it");
    let (status, _) = app.get(&format!("/api/v1/batches/{batch}/channels"), Some(&auditor)).await;
    assert_eq!(status, StatusCode::OK);

    let (alice, alice_id) = bound(&app, &bank, "13800000011").await;
    let ask = |openid: &str, no: &str| json!({"resident_openid": openid, "batch_id": batch, "out_request_no": no});
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask(&alice_id, "Q0"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "not_open"), "{e}");
    at(&app, "2026-12-05T10:00:01+08:00");
    let (status, c) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask(&alice_id, "Q1"))).await;
    assert_eq!((status, c["resident_openid"].as_str()), (StatusCode::CREATED, Some(alice_id.as_str())), "{c}");
    let (status, again) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask(&alice_id, "Q1"))).await;
    assert_eq!((status, &again["claim_id"]), (StatusCode::CREATED, &c["claim_id"]), "the same number: {again}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask("ro_nobody", "Q2"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::NOT_FOUND, "resident_not_bound"), "{e}");
    // The voucher is in the resident's wallet, usable as any.
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&alice)).await;
    assert!(wallet.to_string().contains(c["vouchers"][0]["voucher_id"].as_str().unwrap_or("?")), "{wallet}");
    // The batch's limit (3 per resident) counts both channels together.
    for no in ["Q3", "Q4"] {
        let (status, c) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask(&alice_id, no))).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
    }
    let (status, e) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&alice), &json!({})).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "limit_reached"), "{e}");
    // quan's own share (2) sells out on its own while the bank's has stock.
    let mut late = String::new();
    for phone in ["13800000021", "13800000022", "13800000023"] {
        let t = resident(&app, phone).await;
        late.clone_from(&t);
        let (status, r) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&t), &json!({})).await;
        let want = if phone.ends_with("23") { StatusCode::CONFLICT } else { StatusCode::CREATED };
        assert_eq!(status, want, "{phone}: {r}");
    }
    let (_, shares) = app.get(&format!("/api/v1/batches/{batch}/channels"), Some(&official)).await;
    assert_eq!((share(&shares, "h5"), share(&shares, &bank.id)), ((0, 2), (95, 3)), "{shares}");
    // The official moves the bank's units back: quan's H5 sells again.
    let (status, shares) = app.post(&moves, Some(&official), &mv(&bank.id, "h5", 95)).await;
    assert_eq!((status, share(&shares, &bank.id)), (StatusCode::OK, (0, 3)), "{shares}");
    let bob_id = bound(&app, &bank, "13800000013").await.1;
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask(&bob_id, "Q5"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "sold_out"), "the bank's share is gone: {e}");
    let (status, r) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&late), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    // A pause of the bank's channel stops its claims, not quan's own.
    let (status, _) = app.post(&moves, Some(&official), &mv("h5", &bank.id, 10)).await;
    assert_eq!(status, StatusCode::OK);
    let pause = json!({"target": "channel", "target_id": bank.id, "stops": "claims", "reason": "该行渠道异常"});
    let (status, p) = app.post("/api/v1/pauses", Some(&official), &pause).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, e) = call(&app, &bank, "POST", "/partner/v1/claims", Some(&ask(&bob_id, "Q6"))).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "paused"), "{e}");
    let t = resident(&app, "13800000024").await;
    let (status, r) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&t), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "quan's own channel goes on: {r}");

    // Each claim through the bank is an event, with the bank's numbers.
    let (_, events) = call(&app, &bank, "GET", "/partner/v1/webhooks/events", None).await;
    let claimed: Vec<&str> = events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "voucher.claimed")
        .filter_map(|e| e["payload"]["data"]["out_request_no"].as_str())
        .collect();
    assert_eq!(claimed, ["Q1", "Q3", "Q4"], "{events}");
    // The pause of its channel reached it as an event, written with the pause.
    let paused: Vec<&Value> =
        events.as_array().into_iter().flatten().filter(|e| e["type"] == "campaign.paused").collect();
    assert_eq!(paused.len(), 1, "{events}");
    let data = &paused[0]["payload"]["data"];
    assert_eq!(
        (data["target"].as_str(), data["target_id"].as_str(), data["stops"].as_str()),
        (Some("channel"), Some(bank.id.as_str()), Some("claims")),
        "{data}"
    );
    assert_eq!(
        (data["pause_id"].as_str(), data["reason"].as_str()),
        (p["id"].as_str(), Some("该行渠道异常")),
        "{data}"
    );
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(a["clean"], true, "{a}");

    // The T+1 report by channel.
    at(&app, "2026-12-06T01:00:00+08:00");
    let (_, official) = app.staff("channels.official2", quan_domain::Role::Official, "4205").await;
    let (status, r) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let line = |ch: &str| {
        let l =
            r["channels"].as_array().into_iter().flatten().find(|l| l["channel"] == ch).cloned().unwrap_or_default();
        (l["claims_day"].as_i64(), l["issued_face_fen"].as_i64(), l["channel_name"].as_str().map(str::to_owned))
    };
    assert_eq!(line("h5"), (Some(4), Some(8_000), Some("quan H5".to_owned())), "{}", r["channels"]);
    assert_eq!(line(&bank.id), (Some(3), Some(6_000), Some("宜昌银行".to_owned())), "{}", r["channels"]);
}
