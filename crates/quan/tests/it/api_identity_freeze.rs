//! An identity conflict resolved for the verified holder: the other
//! account's claims under the number give their per-person slots back (the
//! holder claims), and its unused vouchers are frozen: the wallet says so, no
//! code is issued, a till refuses a code issued before, and the ledger still
//! balances.

use quan_domain::Role;
use quan_testkit::fixtures::{Shop, shop};
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::json;

use crate::api_redemptions::{at, code_of};
use quan_testkit::fixtures::yichang_id_number;

/// A running campaign with one grab batch counted per person, once per
/// batch and once per campaign (the second limit kept in `claim_slots`).
async fn per_person_campaign(app: &TestApp) -> (String, String, String) {
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "按人限领", "region": "4205", "budget_fen": 10_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "admission_window_s": 0, "limits": {"per_batch": 1, "per_campaign": 1, "count_by": "person"},
            "kinds": [{"stock": 10, "kind": {"code": "k20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": 10000, "off_fen": 2000}, "validity": {"type": "days_after_claim", "days": 7}}}]
        }]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 10_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    (cid, created["batches"][0]["id"].as_str().unwrap_or_default().to_owned(), official)
}

#[tokio::test]
async fn resolving_a_conflict_freezes_the_impostors_unused_voucher_and_gives_the_holder_their_slot() {
    resolved_for_the_holder(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn resolving_a_conflict_on_postgres_freezes_and_gives_back_the_same() {
    let Some(app) = TestApp::postgres().await else { return };
    resolved_for_the_holder(app).await;
}

async fn resolved_for_the_holder(app: TestApp) {
    let victim_id = yichang_id_number("23");
    let csv = format!("name,id_number,phone\n王小明,{victim_id},13800000002\n");
    let v = quan_engine::risk::real_name::FileVerifier::from_csv(&csv).unwrap_or_else(|e| panic!("{e}"));
    app.engine.use_identity_verifier(std::sync::Arc::new(v));
    let (cid, batch, official) = per_person_campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 1, "catering").await;
    let stranger = quan_testkit::fixtures::resident(&app, "13800000001").await;
    let victim = quan_testkit::fixtures::resident(&app, "13800000002").await;
    let claims = format!("/api/v1/batches/{batch}/claims");

    // The stranger records the victim's number on their word and claims.
    let (status, _) = app.post("/api/v1/me/identity", Some(&stranger), &json!({"id_number": victim_id})).await;
    assert_eq!(status, StatusCode::OK);
    at(&app, "2026-12-05T10:00:01+08:00");
    let (status, body) = app.post(&claims, Some(&stranger), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let taken = body["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();
    let early_code = code_of(&app, &stranger, &taken).await;

    // The victim checks their real name; their claim still meets the limit.
    let check = json!({"name": "王小明", "id_number": victim_id, "phone": "13800000002"});
    let (status, body) = app.post("/api/v1/me/identity/real-name", Some(&victim), &check).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&claims, Some(&victim), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "limit_reached"), "{body}");

    let (_, operator) = app.staff("yichang.operator", Role::Operator, "4205").await;
    let (_, open) = app.get("/api/v1/identity-conflicts", Some(&operator)).await;
    let conflict = open[0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/identity-conflicts/{conflict}/resolve"),
            Some(&operator),
            &json!({"note": "本人到柜台核实"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["frozen_vouchers"].as_u64(), body["frozen_fen"].as_i64()), (Some(1), Some(2000)), "{body}");
    assert_eq!(body["slots_released"].as_u64(), Some(2), "the batch's slot and the campaign's: {body}");
    let (_, all) = app.get("/api/v1/identity-conflicts?all=true", Some(&operator)).await;
    assert_eq!(all[0]["frozen_vouchers"].as_u64(), Some(1), "kept with the conflict: {all}");

    // The holder claims now; the impostor's voucher is frozen everywhere.
    let (status, body) = app.post(&claims, Some(&victim), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "the holder's slot is back: {body}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&stranger)).await;
    assert_eq!(
        (wallet[0]["state"].as_str(), wallet[0]["frozen"].as_str()),
        (Some("claimed"), Some("identity_conflict"))
    );
    let (status, body) = app.get(&format!("/api/v1/me/vouchers/{taken}/code"), Some(&stranger)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "voucher_frozen"), "{body}");
    let order = json!({"code": early_code, "order_amount_fen": 12_000});
    let (status, body) = app.post("/api/v1/redemptions", Some(&cashier), &order).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "voucher_frozen"), "a code issued before: {body}");
    let (_, audit) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(audit["clean"], true, "{audit}");
}

#[tokio::test]
async fn a_second_node_forgets_the_losing_claims_at_its_next_round() {
    let Some(a) = TestApp::postgres().await else { return };
    let Some(b) = a.second_node().await else { return };
    let victim_id = yichang_id_number("45");
    let csv = format!("name,id_number,phone\n李小红,{victim_id},13800000012\n");
    let v = quan_engine::risk::real_name::FileVerifier::from_csv(&csv).unwrap_or_else(|e| panic!("{e}"));
    a.engine.use_identity_verifier(std::sync::Arc::new(v));
    let (_, batch, _) = per_person_campaign(&a).await;
    let stranger = quan_testkit::fixtures::resident(&a, "13800000011").await;
    let victim = quan_testkit::fixtures::resident(&a, "13800000012").await;
    let claims = format!("/api/v1/batches/{batch}/claims");
    a.post("/api/v1/me/identity", Some(&stranger), &json!({"id_number": victim_id})).await;
    at(&a, "2026-12-05T10:00:01+08:00");
    assert!(b.engine.follow_sessions().await.is_ok(), "node b follows the sessions and identities");
    let (status, body) = b.post(&claims, Some(&stranger), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "claimed through node b: {body}");
    let check = json!({"name": "李小红", "id_number": victim_id, "phone": "13800000012"});
    assert_eq!(a.post("/api/v1/me/identity/real-name", Some(&victim), &check).await.0, StatusCode::OK);
    assert!(b.engine.follow_sessions().await.is_ok());
    let (status, body) = b.post(&claims, Some(&victim), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "limit_reached"), "{body}");

    let (_, operator) = a.staff("yichang.operator", Role::Operator, "4205").await;
    let (_, open) = a.get("/api/v1/identity-conflicts", Some(&operator)).await;
    let path = format!("/api/v1/identity-conflicts/{}/resolve", open[0]["id"].as_str().unwrap_or_default());
    assert_eq!(a.post(&path, Some(&operator), &json!({"note": "核实"})).await.0, StatusCode::OK);
    let round = b.engine.follow_sessions().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(round.conflicts_resolved, 1, "{round:?}");
    let (status, body) = b.post(&claims, Some(&victim), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "node b let the holder claim: {body}");
    let (status, _) = b.post(&claims, Some(&stranger), &json!({})).await;
    assert_ne!(status, StatusCode::CREATED, "node b no longer takes the number as the stranger's");
}
