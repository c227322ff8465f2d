//! Proof of work, rate limits and signals at the claim, through the API:
//! every refusal named, a solution taken once, signals raising the work
//! asked of a shared device, and a carrier's NAT address not punished.

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::at;
use quan_testkit::fixtures::yichang_id_number;

/// A running campaign whose grab batch asks for proof of work (no window).
async fn pow_batch(app: &TestApp, stock: u32) -> String {
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "防外挂", "region": "4205", "budget_fen": 10_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "proof_of_work": true, "limits": {"per_batch": 1},
            "kinds": [{"stock": stock, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 10_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    created["batches"][0]["id"].as_str().unwrap_or_default().to_owned()
}

async fn resident(app: &TestApp, n: usize) -> String {
    app.clock.advance(chrono::Duration::seconds(1));
    quan_testkit::fixtures::resident(app, &format!("1380000{n:04}")).await
}

async fn challenge(app: &TestApp, token: &str, batch: &str, device: &str) -> (StatusCode, Value) {
    app.post_headers(&format!("/api/v1/batches/{batch}/challenge"), Some(token), &json!({}), &[("quan-device", device)])
        .await
}

async fn claim(app: &TestApp, token: &str, batch: &str, device: &str, body: &Value) -> (StatusCode, Value) {
    app.post_headers(&format!("/api/v1/batches/{batch}/claims"), Some(token), body, &[("quan-device", device)]).await
}

fn solved(c: &Value) -> Value {
    let ch = c["challenge"].as_str().unwrap_or_default();
    let bits = u8::try_from(c["bits"].as_u64().unwrap_or(0)).unwrap_or(0);
    json!({"pow_challenge": ch, "pow_nonce": quan_domain::pow::solve(ch, bits)})
}

#[tokio::test]
async fn a_claim_carries_a_solved_challenge_taken_once_and_every_bad_one_is_refused_by_name() {
    let app = TestApp::sqlite().await;
    let batch = pow_batch(&app, 10).await;
    let (me, other) = (resident(&app, 1).await, resident(&app, 2).await);
    at(&app, "2026-12-05T09:49:00+08:00");
    let (status, body) = challenge(&app, &me, &batch, "phone-one-0001").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "challenge_too_early"), "{body}");
    at(&app, "2026-12-05T09:55:00+08:00");
    let (status, c) = challenge(&app, &me, &batch, "phone-one-0001").await;
    assert_eq!((status, c["bits"].as_u64()), (StatusCode::OK, Some(15)), "{c}");
    assert_eq!(c["signals"], json!([]), "{c}");
    let (_, theirs) = challenge(&app, &other, &batch, "phone-two-0002").await;
    at(&app, "2026-12-05T10:00:01+08:00");
    let (status, body) = claim(&app, &me, &batch, "phone-one-0001", &json!({})).await;
    assert_eq!(
        (status, error_code(&body), body["error"]["details"]["bits"].as_u64()),
        (StatusCode::FORBIDDEN, "challenge_required", Some(15))
    );
    let mut wrong = solved(&c);
    wrong["pow_nonce"] = json!("x1");
    assert_eq!(error_code(&claim(&app, &me, &batch, "phone-one-0001", &wrong).await.1), "challenge_failed");
    let mut forged = solved(&c);
    forged["pow_challenge"] = json!(c["challenge"].as_str().unwrap_or_default().replacen(".15.", ".2.", 1));
    assert_eq!(error_code(&claim(&app, &me, &batch, "phone-one-0001", &forged).await.1), "challenge_not_genuine");
    assert_eq!(
        error_code(&claim(&app, &me, &batch, "phone-one-0001", &solved(&theirs)).await.1),
        "challenge_not_yours"
    );
    let (status, body) = claim(&app, &me, &batch, "phone-one-0001", &json!({"pow_challenge": "v1"})).await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("pow_nonce"))
    );
    let good = solved(&c);
    let (status, body) = claim(&app, &me, &batch, "phone-one-0001", &good).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = claim(&app, &me, &batch, "phone-one-0001", &good).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "challenge_used"), "single use");
    // Half an hour on, the other resident's challenge has expired.
    at(&app, "2026-12-05T10:26:00+08:00");
    let (status, body) = claim(&app, &other, &batch, "phone-two-0002", &solved(&theirs)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "challenge_expired"), "{body}");
    let (status, body) = claim(&app, &other, &batch, "bad device!", &json!({})).await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("Quan-Device"))
    );
}

#[tokio::test]
async fn accounts_sharing_one_device_get_harder_challenges_and_an_easy_one_solved_early_is_refused() {
    let app = TestApp::sqlite().await;
    let batch = pow_batch(&app, 100).await;
    let mut tokens = Vec::new();
    for n in 0..5 {
        tokens.push(resident(&app, n).await);
    }
    at(&app, "2026-12-05T09:55:00+08:00");
    let (_, early) = challenge(&app, &tokens[0], &batch, "farm-device-01").await;
    assert_eq!(early["bits"].as_u64(), Some(15), "{early}");
    let mut last = Value::Null;
    for t in &tokens[1..] {
        last = challenge(&app, t, &batch, "farm-device-01").await.1;
    }
    // Registered within the hour before the opening (weight 1) and five on one device (weight 2):
    // score 3, threshold 2, two points of three bits.
    assert_eq!(last["signals"], json!(["new_account", "shared_device"]), "five accounts on one device: {last}");
    assert_eq!(last["bits"].as_u64(), Some(21), "{last}");
    at(&app, "2026-12-05T10:00:01+08:00");
    let (status, body) = claim(&app, &tokens[0], &batch, "farm-device-01", &solved(&early)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "challenge_too_easy"), "{body}");
    assert_eq!(body["error"]["details"]["signals"], json!(["new_account", "shared_device"]), "{body}");
    assert_eq!(body["error"]["details"]["bits"].as_u64(), Some(21), "{body}");
    // A fresh, harder challenge does it.
    let (_, hard) = challenge(&app, &tokens[0], &batch, "farm-device-01").await;
    let (status, body) = claim(&app, &tokens[0], &batch, "farm-device-01", &solved(&hard)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn one_account_is_rate_limited_by_name_while_many_phones_behind_one_address_are_not() {
    let app = TestApp::sqlite().await;
    let batch = pow_batch(&app, 500).await;
    let me = resident(&app, 1).await;
    at(&app, "2026-12-05T09:55:00+08:00");
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(challenge(&app, &me, &batch, "phone-one-0001").await);
    }
    assert!(answers[..6].iter().all(|(s, _)| *s == StatusCode::OK), "a burst of six: {answers:?}");
    let (status, body) = &answers[6];
    assert_eq!(
        (*status, error_code(body), body["error"]["details"]["rule"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited", Some("per_account"))
    );
    // Sixty accounts, each its own phone, all from this test's one address.
    let mut refused = 0;
    for n in 0..60 {
        let t = resident(&app, 100 + n).await;
        let (s, _) = challenge(&app, &t, &batch, &format!("phone-{n:010}")).await;
        refused += usize::from(s != StatusCode::OK);
    }
    assert_eq!(refused, 0, "a carrier's NAT address is not punished");
}

#[tokio::test]
async fn a_number_recorded_by_a_stranger_does_not_stop_its_checked_holder_and_the_conflict_is_resolved_for_them() {
    let app = TestApp::sqlite().await;
    let victim_id = yichang_id_number("23");
    let csv = format!("name,id_number,phone\n王小明,{victim_id},13800000002\n");
    let v = quan_engine::risk::real_name::FileVerifier::from_csv(&csv).unwrap_or_else(|e| panic!("{e}"));
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "实名", "region": "4205", "budget_fen": 10_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "实名开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "require_real_name": true, "limits": {"per_batch": 1, "count_by": "person"},
            "kinds": [{"stock": 10, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (_, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let batch = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 10_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    let (stranger, victim) = (resident(&app, 1).await, resident(&app, 2).await);
    // The stranger records the victim's number first, on their word.
    let (status, _) = app.post("/api/v1/me/identity", Some(&stranger), &json!({"id_number": victim_id})).await;
    assert_eq!(status, StatusCode::OK);
    at(&app, "2026-12-05T10:00:01+08:00");
    let (status, body) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&stranger), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "not_eligible"), "{body}");
    assert_eq!(body["error"]["details"]["failures"][0]["code"], "real_name_required", "{body}");

    let check = |name: &str, phone: &str| json!({"name": name, "id_number": victim_id, "phone": phone});
    let (status, body) =
        app.post("/api/v1/me/identity/real-name", Some(&victim), &check("王小明", "13800000002")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "real_name_unavailable"),
        "no verifier yet"
    );
    app.engine.use_identity_verifier(std::sync::Arc::new(v));
    let (status, body) =
        app.post("/api/v1/me/identity/real-name", Some(&victim), &check("王大明", "13800000002")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "real_name_mismatch"), "{body}");
    let (status, body) =
        app.post("/api/v1/me/identity/real-name", Some(&victim), &check("王小明", "13800000001")).await;
    assert_eq!(
        (status, error_code(&body), body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "phone_not_yours", Some("phone"))
    );
    let (status, body) =
        app.post("/api/v1/me/identity/real-name", Some(&victim), &check("王小明", "13800000002")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["id_masked"].as_str().is_some_and(|m| !m.contains(&victim_id[6..14])), "masked: {body}");
    let (status, body) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&victim), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "the checked holder claims: {body}");

    let (_, operator) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let (_, open) = app.get("/api/v1/identity-conflicts", Some(&operator)).await;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    let conflict = open[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.get("/api/v1/identity-conflicts", Some(&official)).await.0,
        StatusCode::FORBIDDEN,
        "operators work them"
    );
    let path = format!("/api/v1/identity-conflicts/{conflict}/resolve");
    let (status, body) = app.post(&path, Some(&operator), &json!({"note": "本人持证到柜台核实"})).await;
    assert_eq!((status, body["note"].as_str()), (StatusCode::OK, Some("本人持证到柜台核实")), "{body}");
    let (status, body) = app.post(&path, Some(&operator), &json!({"note": "again"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "already_resolved"));
    let (_, mine) = app.get("/api/v1/me/identity", Some(&stranger)).await;
    assert!(mine.is_null() || mine["id_masked"].is_null(), "the stranger no longer holds the number: {mine}");
}
