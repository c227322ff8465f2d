//! Risk control at the grab through the API: the fair admission window
//! (its draw re-checked from the revealed seed with an independent
//! SHA-256), and the kill switch on one node and across two.

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api_redemptions::{Shop, at, code_of, holder, shop};

/// A running campaign with one grab batch of `stock` ¥10 vouchers and a
/// `window_s` admission window. Returns (campaign, batch, official's token).
async fn windowed_batch(app: &TestApp, stock: u32, window_s: u32) -> (String, String, String) {
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "公平开抢", "region": "4205", "budget_fen": 10_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": window_s,
            "kinds": [{"stock": stock, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 10_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    (cid, bid, official)
}

async fn residents(app: &TestApp, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        app.clock.advance(chrono::Duration::seconds(3));
        out.push(quan_testkit::fixtures::resident(app, &format!("1390000{i:04}")).await);
    }
    out
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).filter_map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn claims_in_the_window_are_admitted_by_ticket_and_anyone_can_check_the_draw_from_the_revealed_seed() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = windowed_batch(&app, 4, 2).await;
    let tokens = residents(&app, 10).await;
    let (_, before) = app.get(&format!("/api/v1/batches/{bid}/admission"), None).await;
    assert_eq!((before["window_s"].as_u64(), before["seed"].is_null()), (Some(2), true), "{before}");
    let commitment = before["commitment"].as_str().unwrap_or_default().to_owned();
    at(&app, "2026-12-05T10:00:00.300+08:00");
    // Everyone presses inside the window, in this order; the answers come at its draw.
    let started = std::time::Instant::now();
    let (path, empty) = (format!("/api/v1/batches/{bid}/claims"), json!({}));
    let claims = tokens.iter().map(|t| app.post(&path, Some(t), &empty));
    let answers: Vec<(StatusCode, Value)> = futures_util::future::join_all(claims).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(1_500), "answered at the draw, not at once");
    let won: Vec<usize> = (0..10).filter(|&i| answers[i].0 == StatusCode::CREATED).collect();
    assert_eq!(won.len(), 4, "{answers:?}");
    assert!(answers.iter().all(|(s, b)| *s == StatusCode::CREATED || error_code(b) == "sold_out"), "{answers:?}");

    let (_, during) = app.get(&format!("/api/v1/batches/{bid}/admission"), None).await;
    assert!(during["seed"].is_null(), "the seed stays secret until the window is over: {during}");
    at(&app, "2026-12-05T10:00:02+08:00");
    // The draw is published once every answer is out.
    let mut rec = Value::Null;
    for _ in 0..100 {
        let (status, r) = app.get(&format!("/api/v1/batches/{bid}/admission"), None).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        rec = r;
        if rec["draws"].as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seed = unhex(rec["seed"].as_str().unwrap_or_default());
    let committed = Sha256::new().chain_update(b"quan-lottery-seed:").chain_update(&seed).finalize();
    assert_eq!(hex(&committed), commitment, "the revealed seed is the committed one");
    // Every ticket recomputed here; the stock went to the four lowest.
    let claims = rec["draws"][0]["claims"].as_array().cloned().unwrap_or_default();
    assert_eq!(claims.len(), 10, "{rec}");
    let mut tickets: Vec<(String, String, String)> = claims
        .iter()
        .map(|c| {
            let id = uuid::Uuid::parse_str(c["resident_id"].as_str().unwrap_or_default()).unwrap_or_default();
            let t = hex(&Sha256::new().chain_update(&seed).chain_update(id.as_bytes()).finalize());
            assert_eq!(c["ticket"].as_str(), Some(t.as_str()), "published ticket");
            (t, c["outcome"].as_str().unwrap_or_default().to_owned(), c["rank"].to_string())
        })
        .collect();
    let by_rank: Vec<String> = tickets.iter().map(|t| t.0.clone()).collect();
    tickets.sort();
    assert_eq!(by_rank, tickets.iter().map(|t| t.0.clone()).collect::<Vec<_>>(), "offered in ticket order");
    let outcomes: Vec<&str> = tickets.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(outcomes, [["claimed"; 4].as_slice(), ["sold_out"; 6].as_slice()].concat());

    // `quan admission verify` re-checks the published record, and catches a doctored one.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let verify = |v: &Value| {
        let f = dir.path().join("admission.json");
        std::fs::write(&f, v.to_string()).unwrap_or_else(|e| panic!("{e}"));
        std::process::Command::new(env!("CARGO_BIN_EXE_quan"))
            .args(["admission", "verify"])
            .arg(&f)
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let ok = verify(&rec);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("verified"), "{}", String::from_utf8_lossy(&ok.stdout));
    let mut doctored = rec.clone();
    let (r0, r1) =
        (doctored["draws"][0]["claims"][0]["rank"].clone(), doctored["draws"][0]["claims"][1]["rank"].clone());
    doctored["draws"][0]["claims"][0]["rank"] = r1;
    doctored["draws"][0]["claims"][1]["rank"] = r0;
    assert!(!verify(&doctored).status.success(), "two claims swapped in the order are caught");

    // After the draw it is first come, first served again.
    let late = residents(&app, 1).await;
    at(&app, "2026-12-05T10:00:05+08:00");
    let (status, body) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&late[0]), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "sold_out"));
}

#[tokio::test]
async fn a_batch_without_a_window_answers_at_once_and_has_no_admission_record() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = windowed_batch(&app, 4, 0).await;
    let tokens = residents(&app, 1).await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let started = std::time::Instant::now();
    let (status, _) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&tokens[0]), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let (status, body) = app.get(&format!("/api/v1/batches/{bid}/admission"), None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "no_admission_window"));
}

async fn pause(app: &TestApp, token: &str, target: &str, id: &str, stops: &str) -> (StatusCode, Value) {
    let body = json!({"target": target, "target_id": id, "stops": stops, "reason": "发现外挂批量抢券"});
    app.post("/api/v1/pauses", Some(token), &body).await
}

#[tokio::test]
async fn a_paused_batch_refuses_claims_naming_who_and_why_and_one_action_resumes_it() {
    let app = TestApp::sqlite().await;
    let (cid, bid, official) = windowed_batch(&app, 5, 0).await;
    let tokens = residents(&app, 2).await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (_, operator) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let (_, elsewhere) = app.staff("hangzhou.official", Role::Official, "3301").await;
    assert_eq!(pause(&app, &operator, "batch", &bid, "claims").await.0, StatusCode::FORBIDDEN, "officials only");
    assert_eq!(pause(&app, &elsewhere, "batch", &bid, "claims").await.0, StatusCode::NOT_FOUND, "not their region");
    let (status, body) = pause(&app, &official, "batch", "not-an-id", "claims").await;
    assert_eq!(
        (status, error_code(&body), body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid", Some("target_id"))
    );
    let (status, body) =
        app.post("/api/v1/pauses", Some(&official), &json!({"target": "batch", "target_id": bid, "reason": " "})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "required"), "a reason is required");

    let (status, p) = pause(&app, &official, "batch", &bid, "claims").await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, body) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&tokens[0]), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "paused"), "{body}");
    assert_eq!(body["error"]["details"]["reason"], "发现外挂批量抢券", "{body}");
    assert_eq!(body["error"]["details"]["target"], "batch", "{body}");
    assert!(body["error"]["details"]["by"].as_str().is_some_and(|b| !b.is_empty()), "{body}");
    let (_, list) = app.get("/api/v1/pauses", Some(&operator)).await;
    assert_eq!((list[0]["id"].clone(), list[0]["active"].clone()), (p["id"].clone(), json!(true)), "{list}");

    let pid = p["id"].as_str().unwrap_or_default();
    let (status, r) =
        app.post(&format!("/api/v1/pauses/{pid}/resume"), Some(&official), &json!({"reason": "已封禁外挂账号"})).await;
    assert_eq!((status, r["active"].clone()), (StatusCode::OK, json!(false)), "{r}");
    let (status, again) =
        app.post(&format!("/api/v1/pauses/{pid}/resume"), Some(&official), &json!({"reason": "再来"})).await;
    assert_eq!((status, error_code(&again)), (StatusCode::CONFLICT, "already_resumed"));
    let (status, body) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&tokens[0]), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "claims go on: {body}");
    // The next morning the day's report shows the switch: who, why, when, and who lifted it.
    at(&app, "2026-12-06T09:00:00+08:00");
    let official = app.login("yichang.official", "yichang.official-password-123").await;
    let (status, r) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let p = &r["pauses"][0];
    assert_eq!(
        (p["target"].as_str(), p["stops"].as_str(), p["reason"].as_str()),
        (Some("批次"), Some("领券"), Some("发现外挂批量抢券")),
        "{r}"
    );
    assert_eq!(p["resume_reason"], "已封禁外挂账号", "{r}");
    assert_eq!(r["format"], "quan.daily-report/4");
}

#[tokio::test]
async fn a_paused_merchant_refuses_redemptions_but_not_claims_and_a_region_pause_stops_both() {
    let app = TestApp::sqlite().await;
    let (_, bid, official) = crate::api_redemptions::campaign(&app).await;
    let Shop { id: mid, cashier, .. } = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:05+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000001").await;
    let (status, _) = pause(&app, &official, "merchant", &mid, "redemptions").await;
    assert_eq!(status, StatusCode::CREATED);
    let code = code_of(&app, &token, &voucher).await;
    let order = json!({"code": code, "order_amount_fen": 12_800});
    let (status, body) = app.post("/api/v1/redemptions", Some(&cashier), &order).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "paused"), "{body}");
    assert_eq!(body["error"]["details"]["target"], "merchant", "{body}");
    let (status, _) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "claims go on");
    // The shop's district: its redemptions stop, the city's campaign still hands out vouchers.
    let (status, _) = pause(&app, &official, "region", "420502", "both").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "limit reached (2 each), not paused");
    // The whole city: claims stop too.
    let (status, _) = pause(&app, &official, "region", "4205", "claims").await;
    assert_eq!(status, StatusCode::CREATED);
    let other = quan_testkit::fixtures::resident(&app, "13700000002").await;
    let (status, body) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&other), &json!({})).await;
    assert_eq!(
        (status, error_code(&body), body["error"]["details"]["target_id"].as_str()),
        (StatusCode::CONFLICT, "paused", Some("4205"))
    );
}

#[tokio::test]
async fn a_pause_made_on_one_node_stops_claims_on_another_within_a_second() {
    let Some(app) = TestApp::postgres().await else { return };
    let Some(node2) = app.second_node().await else { return };
    let (_, bid, official) = windowed_batch(&app, 100, 0).await;
    let tokens = residents(&app, 1).await;
    at(&app, "2026-12-05T10:00:01+08:00");
    node2.clock.set(quan_domain::Clock::now(app.clock.as_ref()));
    // Node 2 has read the pauses (none) and answers from its copy.
    let (status, _) = node2.post(&format!("/api/v1/batches/{bid}/claims"), Some(&tokens[0]), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = pause(&app, &official, "batch", &bid, "claims").await;
    assert_eq!(status, StatusCode::CREATED);
    let paused_at = std::time::Instant::now();
    loop {
        let (_, body) = node2.post(&format!("/api/v1/batches/{bid}/claims"), Some(&tokens[0]), &json!({})).await;
        if error_code(&body) == "paused" {
            break;
        }
        assert!(paused_at.elapsed() < std::time::Duration::from_secs(1), "node 2 still claims after 1 s: {body}");
        // The same account asks again and again: its rate limit refills with the (shared) clock.
        app.clock.advance(chrono::Duration::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    eprintln!("the pause reached the second node in {} ms", paused_at.elapsed().as_millis());
}

#[tokio::test]
async fn the_pause_list_refuses_a_span_outside_its_range_by_name() {
    let app = TestApp::sqlite().await;
    let (_, operator) = app.staff("yichang.operator", Role::Operator, "4205").await;
    for bad in ["0", "367", "-1"] {
        let (status, body) = app.get(&format!("/api/v1/pauses?days={bad}"), Some(&operator)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "days={bad}: {body}");
    }
    let (status, _) = app.get("/api/v1/pauses?days=366", Some(&operator)).await;
    assert_eq!(status, StatusCode::OK);
}
