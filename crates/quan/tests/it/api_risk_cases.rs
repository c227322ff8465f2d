//! Risk cases through the API: a ring of residents who spend their vouchers
//! at one shop on orders just over the threshold is found by the nightly
//! analysis, its case opened with the shop's settlement held (settlement
//! pays the honest shop, not the ring's); an operator freezes the ring's
//! unused vouchers (their codes are refused), releases them, closes the
//! case as a false alarm (the next settlement pays what was held); every
//! action is in the case's record; a closed case takes no action; the
//! evidence package downloads as a ZIP whose manifest verifies under the
//! deployment's key (and under gmssl, an independent SM2 implementation);
//! the audit stays clean. On SQLite and PostgreSQL.

use std::io::Read as _;

use quan_domain::Role;
use quan_testkit::fixtures::{Shop, at, resident, shop};
use quan_testkit::{TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::code_of;

#[tokio::test]
async fn a_ring_is_found_held_worked_and_closed_on_sqlite() {
    ring_case(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_ring_is_found_held_worked_and_closed_on_postgres() {
    let opts = TestOptions { backend: quan_testkit::Backend::Postgres, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    ring_case(app).await;
}

/// A running campaign of 满100减20 vouchers, three per resident.
pub(crate) async fn campaign(app: &TestApp) -> (String, String) {
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "餐饮券", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "limits": {"per_batch": 3},
            "kinds": [{"stock": 100, "kind": {"code": "c100-20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": 10000, "off_fen": 2000},
                "validity": {"type": "days_after_claim", "days": 10}}}]
        }]
    });
    let (cid, bid) = app.running_campaign(&official, &doc).await;
    (cid, bid)
}

/// A resident's token and the vouchers they claimed.
pub(crate) async fn claims(app: &TestApp, batch: &str, phone: &str, n: usize) -> (String, Vec<String>) {
    let token = resident(app, phone).await;
    let mut vouchers = Vec::new();
    for _ in 0..n {
        let (status, c) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        vouchers.push(c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned());
    }
    (token, vouchers)
}

async fn redeem(app: &TestApp, token: &str, voucher: &str, cashier: &str, amount: i64) {
    let code = code_of(app, token, voucher).await;
    let (status, r) =
        app.post("/api/v1/redemptions", Some(cashier), &json!({"code": code, "order_amount_fen": amount})).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
}

async fn settle(app: &TestApp, day: &str, shop: &str) -> String {
    let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap_or_default();
    let run = app.engine.settle(date).await.unwrap_or_else(|e| panic!("{e}"));
    let row = run.all.iter().find(|(s, _)| s.merchant_id.to_string() == shop);
    row.map(|(s, _)| s.status.clone()).unwrap_or_default()
}

async fn act(app: &TestApp, op: &str, case: &str, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/risk-cases/{case}/actions"), Some(op), &body).await
}

async fn ring_case(app: TestApp) {
    let (cid, bid) = campaign(&app).await;
    let ring: Shop = shop(&app, 1, "catering").await;
    let honest: Shop = shop(&app, 2, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let mut members = Vec::new();
    for i in 0..4 {
        let (token, v) = claims(&app, &bid, &format!("1370004000{i}"), 3).await;
        for voucher in &v[..2] {
            redeem(&app, &token, voucher, &ring.cashier, 10_050 + i).await;
        }
        members.push((token, v[2].clone()));
    }
    for i in 0..6 {
        let (token, v) = claims(&app, &bid, &format!("1370005000{i}"), 1).await;
        redeem(&app, &token, &v[0], &honest.cashier, 15_000 + i * 700).await;
    }

    // The night's analysis finds the ring and holds its shop's settlement.
    at(&app, "2026-12-06T00:30:00+08:00");
    let run = app.engine.analyse().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((run.rings, run.cases_opened), (1, 1), "{run:?}");
    let (_, op) = app.staff("yichang.risk.op", Role::Operator, "4205").await;
    let (status, list) = app.get("/api/v1/risk-cases", Some(&op)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let case = list[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!((list[0]["source"].as_str(), list[0]["status"].as_str()), (Some("graph_ring"), Some("open")));
    assert_eq!(list[0]["settlement_held"], json!([ring.id]));
    assert!(list[0]["summary"].as_str().unwrap_or_default().contains("4 名居民"), "{list}");
    assert_eq!(list[0]["amount_fen"], 16_000, "8 redemptions × ¥20");
    let (_, auditor) = app.staff("yichang.auditor", Role::Auditor, "4205").await;
    let (_, auditor_view) = app.get("/api/v1/risk-cases", Some(&auditor)).await;
    assert_eq!(error_code(&auditor_view), "forbidden");
    let (_, resident_view) = app.get("/api/v1/risk-cases", Some(&members[0].0)).await;
    assert_eq!(error_code(&resident_view), "forbidden");
    let (_, wuhan) = app.staff("wuhan.risk.op", Role::Operator, "4201").await;
    assert_eq!(
        app.get(&format!("/api/v1/risk-cases/{case}"), Some(&wuhan)).await.0,
        StatusCode::NOT_FOUND,
        "another region's"
    );

    // Settlement at 01:00 pays the honest shop and holds the ring's.
    at(&app, "2026-12-06T01:00:00+08:00");
    assert_eq!(settle(&app, "2026-12-05", &honest.id).await, "paid");
    assert_eq!(settle(&app, "2026-12-05", &ring.id).await, "held");

    work_the_case(&app, &op, &case, &members).await;
    evidence(&app, &op, &case).await;

    // Released: the next day's settlement pays what was held.
    at(&app, "2026-12-07T01:00:00+08:00");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
    let run = app.engine.settle(date).await.unwrap_or_else(|e| panic!("{e}"));
    let row = run.all.iter().find(|(s, _)| s.merchant_id.to_string() == ring.id).map(|(s, _)| s.clone());
    assert_eq!(row.map(|s| (s.status, s.released.as_i64())), Some(("paid".into(), 16_000)));
    let id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|_| panic!("a campaign id"));
    let a = app.engine.audit_campaign_unchecked(id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(a.is_clean(), "{:?}", a.findings);
    // The T+1 report of the day the case was opened and closed counts it.
    let (r, _) = app.engine.daily_report_unchecked(id, date).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((r.risk.cases_opened_today, r.risk.cases_open, r.risk.false_alarms), (1, 0, 1), "{:?}", r.risk);
    assert_eq!(r.risk.rows.len(), 1, "{:?}", r.risk);
    assert_eq!((r.risk.rows[0].district.as_str(), r.risk.rows[0].industry.as_str()), ("420502", "catering"));
    let csv = quan_engine::reports::render::csv(&r);
    assert!(csv.contains("风控,当日立案 1，日终处理中 0，已结案：确认违规 0、误报 1"), "{csv}");
}

async fn work_the_case(app: &TestApp, op: &str, case: &str, members: &[(String, String)]) {
    let (status, e) = act(app, op, case, json!({"action": "freeze_vouchers", "note": ""})).await;
    assert_eq!(
        (status, e["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note")),
        "{e}"
    );
    let (status, e) = act(app, op, case, json!({"action": "close", "note": "查实"})).await;
    assert_eq!(
        (status, e["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")),
        "{e}"
    );
    let (status, e) = act(app, op, case, json!({"action": "shred", "note": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, c) = act(app, op, case, json!({"action": "freeze_vouchers", "note": "团伙成员的未用券先冻结"})).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!((c["frozen_vouchers"].as_u64(), c["frozen_fen"].as_i64()), (Some(4), Some(8_000)), "{c}");
    let (token, voucher) = &members[0];
    let (status, e) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(token)).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "voucher_frozen"), "{e}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(token)).await;
    let frozen: Vec<&Value> = wallet.as_array().into_iter().flatten().filter(|v| v["frozen"] == "risk_case").collect();
    assert_eq!(frozen.len(), 1, "{wallet}");
    let (status, c) =
        act(app, op, case, json!({"action": "close", "outcome": "false_alarm", "note": "核实为真实消费"})).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!((c["status"].as_str(), c["outcome"].as_str()), (Some("closed"), Some("false_alarm")));
    assert_eq!(
        (c["settlement_held"].clone(), c["frozen_vouchers"].as_u64()),
        (json!([]), Some(0)),
        "a false alarm releases both"
    );
    let actions: Vec<&str> =
        c["actions"].as_array().into_iter().flatten().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["opened", "hold_settlement", "freeze_vouchers", "release_settlement", "release_vouchers", "closed"]
    );
    assert!(c["actions"][0]["by"].is_null() && c["actions"][2]["by"].is_string(), "the analysis, then the operator");
    assert_eq!(c["actions"][2]["note"], "团伙成员的未用券先冻结");
    let (status, _) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "released");
    let (status, e) = act(app, op, case, json!({"action": "note", "note": "补充"})).await;
    assert_eq!((status, error_code(&e)), (StatusCode::CONFLICT, "case_closed"), "{e}");
}

/// The evidence ZIP: its manifest verifies under the deployment's key, by
/// quan's verifier and by gmssl; a changed file does not.
async fn evidence(app: &TestApp, op: &str, case: &str) {
    let resp = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/risk-cases/{case}/evidence")))
        .bearer_auth(op)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/zip"));
    let bytes = resp.bytes().await.unwrap_or_default();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap_or_else(|e| panic!("{e}"));
        let full = f.name().map(|n| n.into_owned()).unwrap_or_default();
        let name = full.rsplit('/').next().unwrap_or_default().to_owned();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join(&name), b).unwrap_or_else(|e| panic!("{e}"));
        names.push(name);
    }
    for n in ["summary.txt", "case.json", "redemptions.csv", "graph.json", "graph.svg", "manifest.json", "manifest.sig"]
    {
        assert!(names.contains(&n.to_owned()), "{n} in {names:?}");
    }
    let summary = std::fs::read_to_string(dir.path().join("summary.txt")).unwrap_or_default();
    assert!(summary.contains("疑似套现团伙") && summary.contains("已结案（误报）"), "{summary}");
    let csv = std::fs::read_to_string(dir.path().join("redemptions.csv")).unwrap_or_default();
    assert_eq!(csv.lines().count(), 9, "a header and the 8 redemptions: {csv}");
    let key = app.engine.platform_key().public_hex();
    let read = |n: &str| std::fs::read(dir.path().join(n)).ok();
    assert_eq!(quan_engine::risk::evidence::verify(&read, &key), Vec::<String>::new());
    crate::cli_risk::gmssl_verifies(dir.path(), &key, true);
    std::fs::write(dir.path().join("redemptions.csv"), csv.replace("100.5", "200.5")).unwrap_or_else(|e| panic!("{e}"));
    let read = |n: &str| std::fs::read(dir.path().join(n)).ok();
    assert_eq!(
        quan_engine::risk::evidence::verify(&read, &key),
        vec!["redemptions.csv differs from its SHA-256 in the manifest".to_owned()]
    );
    crate::cli_risk::gmssl_verifies(dir.path(), &key, false);
}
