//! Campaigns and batches through the API: kinds, limits, budget, region
//! scoping, amendments, lotteries.

use chrono::Duration;
use quan_domain::Role;
use quan_engine::campaigns::CampaignFile;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn example(name: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
    let file: CampaignFile = quan::files::read(&path).unwrap_or_else(|e| panic!("{e:#}"));
    serde_json::to_value(file).unwrap_or_default()
}

fn small_campaign(region: &str, budget_fen: i64) -> Value {
    json!({
        "campaign": {
            "name": "测试活动", "region": region, "budget_fen": budget_fen, "funding_source": "财政",
            "starts_on": "2026-12-01", "ends_on": "2026-12-31"
        },
        "batches": []
    })
}

fn batch(stock: u32, off_fen: i64) -> Value {
    json!({
        "name": "批次",
        "opening_at": "2026-12-05T10:00:00+08:00",
        "closing_at": "2026-12-06T22:00:00+08:00",
        "kinds": [{"stock": stock, "kind": {
            "code": "k", "name": "立减", "discount": {"type": "instant", "off_fen": off_fen},
            "validity": {"type": "days_after_claim", "days": 3}
        }}]
    })
}

#[tokio::test]
async fn every_example_city_campaign_is_created_with_all_its_kinds_and_limits() {
    let app = TestApp::sqlite().await;
    let cases = [
        ("420500-yichang.toml", "4205", 600_000_000_i64),
        ("511500-yibin.toml", "5115", 345_000_000),
        ("320700-lianyungang.toml", "3207", 200_000_000),
        ("330100-hangzhou.toml", "3301", 2_840_000_000),
        ("440300-shenzhen.toml", "4403", 1_000_000_000),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for (file, region, committed) in cases {
        let (_, token) = app.staff(&format!("official.{region}"), Role::Official, region).await;
        let doc = example(file);
        for b in doc["batches"].as_array().into_iter().flatten() {
            for k in b["kinds"].as_array().into_iter().flatten() {
                kinds.insert(k["kind"]["discount"]["type"].as_str().unwrap_or_default().to_owned());
            }
        }
        let (status, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
        assert_eq!(status, StatusCode::CREATED, "{file}: {body}");
        assert_eq!(body["campaign"]["committed_fen"], committed, "{file}");
        assert_eq!(body["campaign"]["status"], "draft");
        let id = body["campaign"]["id"].as_str().unwrap_or_default();
        let (_, batches) = app.get(&format!("/api/v1/campaigns/{id}/batches"), Some(&token)).await;
        assert_eq!(batches.as_array().map(Vec::len), doc["batches"].as_array().map(Vec::len));
        assert_eq!(batches[0]["spec"]["limits"], doc["batches"][0]["limits"], "limits are kept as given");
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), vec!["instant", "percent", "threshold", "tiers"]);
}

#[tokio::test]
async fn a_campaign_whose_batches_exceed_its_budget_is_refused_at_creation() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let mut doc = small_campaign("4205", 100_000);
    doc["batches"] = json!([batch(50, 1000), batch(51, 1000)]);
    let (status, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "budget_exceeded"));
    assert_eq!(body["error"]["details"]["field"], "batches[1].kinds");
    let msg = body["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("1010.00") && msg.contains("1000.00"), "the amounts are named: {msg}");
    let (_, list) = app.get("/api/v1/campaigns", Some(&token)).await;
    assert_eq!(list["campaigns"].as_array().map(Vec::len), Some(0), "nothing was stored");
}

async fn an_official_of_4205_cannot_create_or_see_a_campaign_of_3301(app: TestApp) {
    let (_, yichang) = app.staff("yichang.official", Role::Official, "4205").await;
    let (_, hangzhou) = app.staff("hangzhou.official", Role::Official, "3301").await;
    let (status, body) = app.post("/api/v1/campaigns", Some(&yichang), &small_campaign("3301", 1000)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "region_outside_yours"));
    assert_eq!(body["error"]["details"]["field"], "campaign.region");
    let (status, body) = app.post("/api/v1/campaigns", Some(&hangzhou), &small_campaign("3301", 1000)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    for path in [
        format!("/api/v1/campaigns/{id}"),
        format!("/api/v1/campaigns/{id}/batches"),
        format!("/api/v1/campaigns/{id}/events"),
    ] {
        let (status, body) = app.get(&path, Some(&yichang)).await;
        assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{path}");
    }
    let (status, _) =
        app.post(&format!("/api/v1/campaigns/{id}/funding"), Some(&yichang), &json!({"amount_fen": 1})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.post(&format!("/api/v1/campaigns/{id}/batches"), Some(&yichang), &batch(1, 100)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/api/v1/campaigns", Some(&yichang)).await;
    assert_eq!(list["campaigns"].as_array().map(Vec::len), Some(0));
    let (status, _) = app.get(&format!("/api/v1/campaigns/{id}"), Some(&hangzhou)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_official_of_4205_cannot_create_or_see_a_campaign_of_3301_on_sqlite() {
    an_official_of_4205_cannot_create_or_see_a_campaign_of_3301(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn an_official_of_4205_cannot_create_or_see_a_campaign_of_3301_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    an_official_of_4205_cannot_create_or_see_a_campaign_of_3301(app).await;
}

#[tokio::test]
async fn funding_and_the_life_cycle_are_strict_and_recorded() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let (_, auditor) = app.staff("yichang.auditor", Role::Auditor, "4205").await;
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &small_campaign("4205", 100_000)).await;
    let id = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let p = |s: &str| format!("/api/v1/campaigns/{id}/{s}");
    let (status, body) = app.post(&p("start"), Some(&token), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_transition"));
    let (_, body) = app.post(&p("funding"), Some(&token), &json!({"amount_fen": 60_000, "note": "国库拨款 1"})).await;
    assert_eq!((body["status"].as_str(), body["funded_fen"].as_i64()), (Some("draft"), Some(60_000)));
    let (status, body) = app.post(&p("funding"), Some(&token), &json!({"amount_fen": 40_001})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "overfunded"));
    let (status, body) = app.post(&p("funding"), Some(&auditor), &json!({"amount_fen": 40_000})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "auditors only read");
    let (_, body) = app.post(&p("funding"), Some(&token), &json!({"amount_fen": 40_000})).await;
    assert_eq!(body["status"], "funded");
    for (step, status) in [("start", "running"), ("begin-closing", "closing"), ("close", "closed")] {
        let (_, body) = app.post(&p(step), Some(&token), &json!({})).await;
        assert_eq!(body["status"], status, "{step}: {body}");
    }
    let (status, body) = app.post(&p("batches"), Some(&token), &batch(1, 100)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_transition"));
    let (_, events) = app.get(&p("events"), Some(&auditor)).await;
    let kinds: Vec<_> = events.as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["created", "funded", "funded", "started", "closing", "closed"]);
    assert_eq!(events[1]["note"], "国库拨款 1");
}

#[tokio::test]
async fn a_batch_added_later_must_fit_what_is_left_of_the_budget() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let mut doc = small_campaign("4205", 100_000);
    doc["batches"] = json!([batch(60, 1000)]);
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
    let id = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = app.post(&format!("/api/v1/campaigns/{id}/batches"), Some(&token), &batch(41, 1000)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "budget_exceeded"), "{body}");
    let (status, body) = app.post(&format!("/api/v1/campaigns/{id}/batches"), Some(&token), &batch(40, 1000)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, c) = app.get(&format!("/api/v1/campaigns/{id}"), Some(&token)).await;
    assert_eq!((c["committed_fen"].as_i64(), c["uncommitted_fen"].as_i64()), (Some(100_000), Some(0)));
}

#[tokio::test]
async fn after_opening_a_batch_only_closes_later_or_grows_within_the_budget() {
    let app = TestApp::sqlite().await;
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let token = app.login("yichang.official", &pw).await;
    let mut doc = small_campaign("4205", 100_000);
    doc["batches"] = json!([batch(50, 1000)]);
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
    let bid = body["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v1/batches/{bid}");
    let r = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&token)
        .json(&json!({"name": "改名"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::OK, "before opening anything goes");
    // 2026-12-05 10:30 in Beijing: the batch is open.
    app.clock
        .set(chrono::DateTime::parse_from_rfc3339("2026-12-05T10:30:00+08:00").map(|d| d.to_utc()).unwrap_or_default());
    let token = app.login("yichang.official", &pw).await;
    let patch = |v: Value| app.client.patch(app.url(&path)).bearer_auth(&token).json(&v).send();
    let r: Value = patch(json!({"limits": {"per_batch": 2}}))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!((error_code(&r), r["error"]["details"]["field"].as_str()), ("locked_after_opening", Some("limits")));
    let r: Value = patch(json!({"closing_at": "2026-12-06T20:00:00+08:00"}))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(error_code(&r), "closing_time_shortened");
    let r: Value = patch(json!({"add_stock": [{"kind": "k", "stock": 51}]}))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(error_code(&r), "budget_exceeded");
    let r: Value = patch(json!({"closing_at": "2026-12-07T22:00:00+08:00", "add_stock": [{"kind": "k", "stock": 50}]}))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(
        (r["version"].as_i64(), r["face_total_fen"].as_i64(), r["phase"].as_str()),
        (Some(3), Some(100_000), Some("open")),
        "{r}"
    );
}

#[tokio::test]
async fn bad_batch_documents_name_the_field_and_the_rule() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let cases = [
        (json!({"opening_at": "2026-11-01T10:00:00+08:00"}), "opening_time_in_past", "batches[0].opening_at"),
        (
            json!({"kinds": [{"stock": 1, "kind": {"code": "k", "name": "x", "discount": {"type": "threshold", "min_order_fen": 100, "off_fen": 100}, "validity": {"type": "days_after_claim", "days": 3}}}]}),
            "threshold_not_above_discount",
            "batches[0].kinds[0].kind.discount.min_order_fen",
        ),
        (
            json!({"kinds": [{"stock": 1, "kind": {"code": "k", "name": "x", "discount": {"type": "percent", "percent_bp": 20000, "cap_fen": 100}, "validity": {"type": "days_after_claim", "days": 3}}}]}),
            "percent_out_of_range",
            "batches[0].kinds[0].kind.discount.percent_bp",
        ),
        (
            json!({"eligibility": {"gps_districts": ["330109"]}}),
            "district_outside_region",
            "batches[0].eligibility.gps_districts[0]",
        ),
        (json!({"limits": {"per_batch": 0}}), "out_of_range", "batches[0].limits.per_batch"),
    ];
    for (patch, rule, field) in cases {
        let mut b = batch(1, 100);
        for (k, v) in patch.as_object().into_iter().flatten() {
            b[k] = v.clone();
        }
        let mut doc = small_campaign("4205", 100_000);
        doc["batches"] = json!([b]);
        let (status, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, rule), "{body}");
        assert_eq!(body["error"]["details"]["field"], field);
    }
    let mut doc = small_campaign("4205", 100_000);
    doc["batches"] = json!([{"name": "x", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-06T10:00:00+08:00", "kinds": [], "colour": "red"}]);
    let (status, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"));
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("colour"), "{body}");
}

async fn resident(app: &TestApp, phone: &str) -> String {
    app.post("/api/v1/auth/sms-codes", None, &json!({"phone": phone})).await;
    let code = app.sms.last_code(phone).unwrap_or_default();
    let (_, s) = app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": phone, "code": code})).await;
    s["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_lottery_draw_can_be_rerun_by_anyone_from_the_published_seed() {
    let app = TestApp::sqlite().await;
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let token = app.login("yichang.official", &pw).await;
    let mut b = batch(3, 1000);
    b["mode"] = json!({"type": "lottery", "registration_opens_at": "2026-12-01T09:00:00+08:00", "registration_closes_at": "2026-12-04T18:00:00+08:00"});
    let mut doc = small_campaign("4205", 100_000);
    doc["batches"] = json!([b]);
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
    let cid = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = body["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    let commitment = body["batches"][0]["lottery_commitment"].as_str().unwrap_or_default().to_owned();
    assert_eq!(commitment.len(), 64);
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&token), &json!({"amount_fen": 100_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&token), &json!({})).await;
    let (_, before) = app.get(&format!("/api/v1/batches/{bid}/lottery"), None).await;
    assert!(before["seed"].is_null(), "the seed stays secret until the draw");

    let mut residents = Vec::new();
    for i in 0..8 {
        residents.push(resident(&app, &format!("1390000{i:04}")).await);
    }
    let (status, body) =
        app.post(&format!("/api/v1/batches/{bid}/registrations"), Some(&residents[0]), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "registration_closed"), "before the window");
    app.clock
        .set(chrono::DateTime::parse_from_rfc3339("2026-12-02T12:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default());
    let token = app.login("yichang.official", &pw).await;
    for r in &residents {
        let (status, body) = app.post(&format!("/api/v1/batches/{bid}/registrations"), Some(r), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) =
        app.post(&format!("/api/v1/batches/{bid}/registrations"), Some(&residents[0]), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "already_registered"));
    let (status, body) = app.post(&format!("/api/v1/batches/{bid}/draw"), Some(&token), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "draw_too_early"));
    app.clock.advance(Duration::days(3));
    let token = app.login("yichang.official", &pw).await;
    let (status, drawn) = app.post(&format!("/api/v1/batches/{bid}/draw"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{drawn}");
    assert_eq!(drawn["winners"].as_array().map(Vec::len), Some(3), "as many winners as the stock");
    assert_eq!(drawn["issued_claims"], 3, "the winners' vouchers are issued at the draw: {drawn}");
    let (status, _) = app.post(&format!("/api/v1/batches/{bid}/draw"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a draw happens once");
    // Exactly the winners hold a voucher; claiming again adds nothing.
    let mut reserved = 0i64;
    for r in &residents {
        let (_, me) = app.get("/api/v1/me", Some(r)).await;
        let won = drawn["winners"].as_array().is_some_and(|w| w.contains(&me["id"]));
        let (_, wallet) = app.get("/api/v1/me/vouchers", Some(r)).await;
        let held = wallet.as_array().cloned().unwrap_or_default();
        assert_eq!(held.len(), usize::from(won), "winner {won}: {wallet}");
        reserved += held.iter().map(|v| v["face_fen"].as_i64().unwrap_or(0)).sum::<i64>();
        let (status, body) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(r), &json!({})).await;
        let expected = if won { "limit_reached" } else { "not_a_winner" };
        assert_eq!((status.is_client_error(), error_code(&body)), (true, expected), "{body}");
    }
    let (_, auditor) = app.staff("yichang.auditor", Role::Auditor, "4205").await;
    let (_, audit) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&auditor)).await;
    assert_eq!(audit["clean"], true, "{audit}");
    assert_eq!(audit["reserved_fen"], reserved.to_string(), "{audit}");
    assert!(reserved > 0);

    // Anyone re-runs it with the published record.
    let (_, record) = app.get(&format!("/api/v1/batches/{bid}/lottery"), None).await;
    assert_eq!(record["commitment"], commitment.as_str(), "the commitment did not change");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = dir.path().join("lottery.json");
    std::fs::write(&good, record.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quan"))
        .args(["lottery", "verify"])
        .arg(&good)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("verified"));
    let mut forged = record.clone();
    forged["winners"][0] = record["registrants"]
        .as_array()
        .and_then(|r| r.iter().find(|x| !record["winners"].as_array().is_some_and(|w| w.contains(x))))
        .cloned()
        .unwrap_or_default();
    let bad = dir.path().join("forged.json");
    std::fs::write(&bad, forged.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quan"))
        .args(["lottery", "verify"])
        .arg(&bad)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success(), "a forged winner list fails verification");
    assert!(String::from_utf8_lossy(&out.stderr).contains("differ"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn funding_is_posted_to_the_ledger_and_the_audit_names_any_tampering() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let (_, auditor) = app.staff("yichang.auditor", Role::Auditor, "4205").await;
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &small_campaign("4205", 100_000)).await;
    let id = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{id}/funding"), Some(&token), &json!({"amount_fen": 60_000})).await;
    app.post(&format!("/api/v1/campaigns/{id}/funding"), Some(&token), &json!({"amount_fen": 40_000})).await;
    let (status, audit) = app.get(&format!("/api/v1/campaigns/{id}/audit"), Some(&auditor)).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert_eq!(
        (audit["clean"].as_bool(), audit["funded_fen"].as_str(), audit["available_fen"].as_str()),
        (Some(true), Some("100000"), Some("100000")),
        "{audit}"
    );

    // Someone edits a running total behind quan's back.
    app.exec_sql("UPDATE ledger_accounts SET credits_fen = credits_fen + 1 WHERE kind = 'available'").await;
    let (_, audit) = app.get(&format!("/api/v1/campaigns/{id}/audit"), Some(&auditor)).await;
    let checks: Vec<_> =
        audit["findings"].as_array().into_iter().flatten().filter_map(|f| f["check"].as_str()).collect();
    assert_eq!(
        checks,
        vec!["balance_differs_from_transfers", "debits_differ_from_credits", "funded_not_accounted_for"],
        "{audit}"
    );
    let (_, resident_like) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let (status, _) = app.get(&format!("/api/v1/campaigns/{id}/audit"), Some(&resident_like)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "operators do not audit");
}

#[tokio::test]
async fn a_retried_funding_with_the_same_idempotency_key_records_the_money_once() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &small_campaign("4205", 100_000)).await;
    let id = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let fund = |key: &'static str, amount: i64| {
        app.client
            .post(app.url(&format!("/api/v1/campaigns/{id}/funding")))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&json!({"amount_fen": amount, "note": "国库拨款"}))
            .send()
    };
    let first = fund("treasury-2026-001", 60_000).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.status(), StatusCode::OK);
    let first_body: Value = first.json().await.unwrap_or_default();
    let again = fund("treasury-2026-001", 60_000).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let again_body: Value = again.json().await.unwrap_or_default();
    assert_eq!(again_body, first_body, "the retry gets the first answer");
    assert_eq!(again_body["funded_fen"], 60_000, "and the money is recorded once");
    let other = fund("treasury-2026-001", 40_000).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other_body: Value = other.json().await.unwrap_or_default();
    assert_eq!(error_code(&other_body), "idempotency_key_reused");
    let over = fund("treasury-2026-002", 50_000).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(over.status(), StatusCode::UNPROCESSABLE_ENTITY, "overfunded");
    let over_again = fund("treasury-2026-002", 50_000).await.unwrap_or_else(|e| panic!("{e}"));
    let replay: Value = over_again.json().await.unwrap_or_default();
    assert_eq!(error_code(&replay), "overfunded", "a refusal is replayed too, not retried");
    let (_, audit) = app.get(&format!("/api/v1/campaigns/{id}/audit"), Some(&token)).await;
    assert_eq!((audit["clean"].as_bool(), audit["funded_fen"].as_str()), (Some(true), Some("60000")), "{audit}");
}

#[tokio::test]
async fn only_residents_the_rule_admits_may_enter_a_lottery() {
    let app = TestApp::sqlite().await;
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let token = app.login("yichang.official", &pw).await;
    let mut b = batch(3, 1000);
    b["mode"] = json!({"type": "lottery", "registration_opens_at": "2026-12-01T09:00:00+08:00", "registration_closes_at": "2026-12-04T18:00:00+08:00"});
    b["eligibility"] = json!({"household_prefixes": ["4205"]});
    let mut doc = small_campaign("4205", 100_000);
    doc["batches"] = json!([b]);
    let (_, body) = app.post("/api/v1/campaigns", Some(&token), &doc).await;
    let cid = body["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = body["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&token), &json!({"amount_fen": 100_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&token), &json!({})).await;
    app.clock
        .set(chrono::DateTime::parse_from_rfc3339("2026-12-02T12:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default());
    let path = format!("/api/v1/batches/{bid}/registrations");
    let failures = |body: &serde_json::Value| -> Vec<String> {
        body["error"]["details"]["failures"]
            .as_array()
            .map(|f| f.iter().map(|x| x["code"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    };
    let nobody = resident(&app, "13900001001").await;
    let (status, body) = app.post(&path, Some(&nobody), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "not_eligible"), "{body}");
    assert_eq!(failures(&body), vec!["identity_required"], "{body}");
    let wuhan = resident(&app, "13900001002").await;
    let id = crate::api_eligibility::id_number("42010219850101123");
    let (status, body) = app.post("/api/v1/me/identity", Some(&wuhan), &json!({"id_number": id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&path, Some(&wuhan), &json!({})).await;
    assert_eq!(
        (status, failures(&body)),
        (StatusCode::FORBIDDEN, vec!["household_prefix_mismatch".to_owned()]),
        "{body}"
    );
    let local = resident(&app, "13900001003").await;
    let id = crate::api_eligibility::id_number("42050219850101123");
    app.post("/api/v1/me/identity", Some(&local), &json!({"id_number": id})).await;
    let (status, body) = app.post(&path, Some(&local), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, record) = app.get(&format!("/api/v1/batches/{bid}/lottery"), None).await;
    assert_eq!(record["registrants"].as_array().map(Vec::len), Some(1), "only the admitted resident entered: {record}");
}

#[tokio::test]
async fn a_batch_for_a_district_that_does_not_exist_or_lies_elsewhere_is_refused_by_name() {
    let app = TestApp::sqlite().await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    for (districts, scope, field, rule) in [
        (json!(["420599"]), json!([]), "batches[0].eligibility.gps_districts[0]", "unknown_district"),
        (json!(["330106"]), json!([]), "batches[0].eligibility.gps_districts[0]", "district_outside_region"),
        (json!([]), json!(["420502", "420598"]), "batches[0].kinds[0].kind.scope.districts[1]", "unknown_district"),
    ] {
        let doc = json!({
            "campaign": {"name": "区县", "region": "4205", "budget_fen": 100_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
            "batches": [{"name": "一", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
                "eligibility": {"gps_districts": districts},
                "kinds": [{"stock": 10, "kind": {"code": "k", "name": "k", "discount": {"type": "instant", "off_fen": 1000},
                    "scope": {"districts": scope}, "validity": {"type": "days_after_claim", "days": 3}}}]}]
        });
        let (status, body) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, rule), "{body}");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn a_draft_is_moved_rewritten_and_deleted_but_not_once_money_is_in() {
    let app = TestApp::sqlite().await;
    let (_, official) = app.staff("yichang.drafts", Role::Official, "4205").await;
    let (_, auditor) = app.staff("yichang.drafts.audit", Role::Auditor, "4205").await;
    let (_, far) = app.staff("hangzhou.drafts", Role::Official, "3301").await;
    let mut doc = small_campaign("4205", 1_000_000);
    doc["batches"] = json!([batch(100, 500)]);
    let (_, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    let id = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let put = |token: String, body: Value| {
        let (app, id) = (&app, id.clone());
        async move {
            let r =
                app.client.put(app.url(&format!("/api/v1/campaigns/{id}"))).bearer_auth(token).json(&body).send().await;
            let r = r.unwrap_or_else(|e| panic!("{e}"));
            (r.status(), r.json::<Value>().await.unwrap_or_default())
        }
    };
    // Moved a month later, renamed, two batches instead of one.
    let mut moved = small_campaign("4205", 2_000_000);
    moved["campaign"]["name"] = json!("改期后的活动");
    moved["campaign"]["starts_on"] = json!("2027-01-01");
    moved["campaign"]["ends_on"] = json!("2027-01-31");
    let mut b = batch(100, 500);
    b["opening_at"] = json!("2027-01-05T10:00:00+08:00");
    b["closing_at"] = json!("2027-01-06T22:00:00+08:00");
    moved["batches"] = json!([b.clone(), b]);
    let (status, body) = put(auditor.clone(), moved.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = put(far.clone(), moved.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another city's official finds nothing");
    let mut bad = moved.clone();
    bad["campaign"]["budget_fen"] = json!(50_000);
    let (status, body) = put(official.clone(), bad).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "budget_exceeded"), "{body}");
    let (status, body) = put(official.clone(), moved.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["campaign"]["name"].as_str(), body["batches"].as_array().map(Vec::len)),
        (Some("改期后的活动"), Some(2))
    );
    let (_, batches) = app.get(&format!("/api/v1/campaigns/{id}/batches"), Some(&official)).await;
    assert_eq!(
        batches.as_array().map(Vec::len).or_else(|| batches["batches"].as_array().map(Vec::len)),
        Some(2),
        "{batches}"
    );
    let (_, events) = app.get(&format!("/api/v1/campaigns/{id}/events"), Some(&official)).await;
    assert!(events.to_string().contains("\"edited\""), "the edit is kept: {events}");

    // Money in: no longer a draft.
    let (status, _) =
        app.post(&format!("/api/v1/campaigns/{id}/funding"), Some(&official), &json!({"amount_fen": 100})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = put(official.clone(), moved).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "not_a_draft"), "{body}");
    let del = app.client.delete(app.url(&format!("/api/v1/campaigns/{id}"))).bearer_auth(&official).send().await;
    assert_eq!(del.map(|r| r.status()).ok(), Some(StatusCode::CONFLICT));

    // A fresh draft is deleted; it is gone but its trail stays.
    let (_, other) = app.post("/api/v1/campaigns", Some(&official), &small_campaign("4205", 1_000)).await;
    let other = other["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let del = app.client.delete(app.url(&format!("/api/v1/campaigns/{other}"))).bearer_auth(&auditor).send().await;
    assert_eq!(del.map(|r| r.status()).ok(), Some(StatusCode::FORBIDDEN));
    let del = app.client.delete(app.url(&format!("/api/v1/campaigns/{other}"))).bearer_auth(&official).send().await;
    assert_eq!(del.map(|r| r.status()).ok(), Some(StatusCode::NO_CONTENT));
    let (status, _) = app.get(&format!("/api/v1/campaigns/{other}"), Some(&official)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/api/v1/campaigns", Some(&official)).await;
    assert_eq!(list["campaigns"].as_array().map(Vec::len), Some(1), "{list}");
}
