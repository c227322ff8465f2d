//! The flash claim through the API: the promises, on both backends, and
//! with two server nodes on one PostgreSQL.

use std::collections::HashMap;

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A running campaign with one open grab batch of `stock` ¥10 vouchers,
/// `per_batch` per resident. Returns the batch id and the official's token.
async fn open_batch(app: &TestApp, stock: u32, per_batch: u32) -> (String, String, String) {
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "抢券", "region": "4205", "budget_fen": 10_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "limits": {"per_batch": per_batch},
            "kinds": [{"stock": stock, "kind": {"code": "k10", "name": "立减10元", "discount": {"type": "instant", "off_fen": 1000}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 10_000_000})).await;
    let (_, c) = app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    assert_eq!(c["status"], "running", "{c}");
    (cid, bid, official)
}

async fn residents(app: &TestApp, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        // Twenty code requests a minute per client address: pace them.
        app.clock.advance(chrono::Duration::seconds(3));
        let phone = format!("1370000{i:04}");
        app.post("/api/v1/auth/sms-codes", None, &json!({"phone": phone})).await;
        let code = app.sms.last_code(&phone).unwrap_or_default();
        let (_, s) = app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": phone, "code": code})).await;
        out.push(s["token"].as_str().unwrap_or_default().to_owned());
    }
    out
}

fn at_ten(app: &TestApp) {
    app.clock
        .set(chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00+08:00").map(|d| d.to_utc()).unwrap_or_default());
}

async fn claim(app: &TestApp, token: &str, batch: &str) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/batches/{batch}/claims"), Some(token), &json!({})).await
}

async fn audit_is_clean(app: &TestApp, official: &str, campaign: &str, reserved_fen: i64) {
    let (_, audit) = app.get(&format!("/api/v1/campaigns/{campaign}/audit"), Some(official)).await;
    assert_eq!(audit["clean"], true, "{audit}");
    assert_eq!(audit["reserved_fen"], reserved_fen.to_string(), "{audit}");
}

async fn a_grab_never_oversells_and_reserves_exactly_the_claimed_face_value(app: TestApp) {
    let (cid, bid, _) = open_batch(&app, 20, 1).await;
    let tokens = residents(&app, 60).await;
    let (status, body) = claim(&app, &tokens[0], &bid).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "not_open"));
    assert!(body["error"]["details"]["server_time"].is_string(), "the page can count down: {body}");
    at_ten(&app);
    let official = app.login("yichang.official", "yichang.official-password-123").await;
    let mut tasks = Vec::new();
    for t in tokens.clone() {
        let (url, client) = (app.url(&format!("/api/v1/batches/{bid}/claims")), app.client.clone());
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(t).json(&json!({})).send().await.map(|r| r.status())
        }));
    }
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for t in tasks {
        let s = t.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        *by_status.entry(s.as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&201), Some(&20), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&40), "the rest are told sold_out: {by_status:?}");
    let (status, body) = claim(&app, &tokens[59], &bid).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "sold_out"));
    audit_is_clean(&app, &official, &cid, 20 * 1000).await;
}

#[tokio::test]
async fn a_grab_never_oversells_on_sqlite() {
    a_grab_never_oversells_and_reserves_exactly_the_claimed_face_value(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_grab_never_oversells_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    a_grab_never_oversells_and_reserves_exactly_the_claimed_face_value(app).await;
}

async fn one_resident_on_many_connections_gets_only_their_limit(app: TestApp) {
    let (cid, bid, _) = open_batch(&app, 100, 2).await;
    let token = residents(&app, 1).await.remove(0);
    at_ten(&app);
    let official = app.login("yichang.official", "yichang.official-password-123").await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (url, client, t) = (app.url(&format!("/api/v1/batches/{bid}/claims")), app.client.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(t).json(&json!({})).send().await.map(|r| r.status().as_u16())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}")) == 201);
    }
    assert_eq!(ok, 2);
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    assert_eq!(wallet.as_array().map(Vec::len), Some(2));
    audit_is_clean(&app, &official, &cid, 2 * 1000).await;
}

#[tokio::test]
async fn one_resident_gets_only_their_limit_on_sqlite() {
    one_resident_on_many_connections_gets_only_their_limit(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn one_resident_gets_only_their_limit_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    one_resident_on_many_connections_gets_only_their_limit(app).await;
}

#[tokio::test]
async fn two_nodes_on_one_postgres_neither_oversell_nor_exceed_a_limit() {
    let Some(a) = TestApp::postgres().await else { return };
    let (cid, bid, _) = open_batch(&a, 15, 1).await;
    let tokens = residents(&a, 30).await;
    let Some(b) = a.second_node().await else { return };
    at_ten(&a);
    let official = a.login("yichang.official", "yichang.official-password-123").await;
    let mut tasks = Vec::new();
    // Every resident tries on both nodes at once.
    for t in &tokens {
        for node in [&a, &b] {
            let (url, client, t) = (node.url(&format!("/api/v1/batches/{bid}/claims")), node.client.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                client.post(url).bearer_auth(t).json(&json!({})).send().await.map(|r| r.status().as_u16())
            }));
        }
    }
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}")) == 201);
    }
    assert_eq!(ok, 15, "exactly the stock, across both nodes");
    let mut held = 0;
    for t in &tokens {
        let (_, w) = a.get("/api/v1/me/vouchers", Some(t)).await;
        let n = w.as_array().map_or(0, Vec::len);
        assert!(n <= 1, "a resident over the limit: {w}");
        held += n;
    }
    assert_eq!(held, 15);
    audit_is_clean(&a, &official, &cid, 15 * 1000).await;
}

#[tokio::test]
async fn a_retried_claim_with_the_same_key_returns_the_first_voucher() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = open_batch(&app, 10, 3).await;
    let token = residents(&app, 1).await.remove(0);
    at_ten(&app);
    let send = || {
        app.client
            .post(app.url(&format!("/api/v1/batches/{bid}/claims")))
            .bearer_auth(&token)
            .header("idempotency-key", "tap-1")
            .json(&json!({}))
            .send()
    };
    let first: Value = send().await.unwrap_or_else(|e| panic!("{e}")).json().await.unwrap_or_default();
    let again: Value = send().await.unwrap_or_else(|e| panic!("{e}")).json().await.unwrap_or_default();
    assert_eq!(first["claim_id"], again["claim_id"], "{first} {again}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    assert_eq!(wallet.as_array().map(Vec::len), Some(1), "one voucher, not two");
}

#[tokio::test]
async fn a_granted_claims_retry_is_replayed_even_after_the_batch_sold_out_and_a_new_key_is_told_sold_out() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = open_batch(&app, 1, 1).await;
    let mut tokens = residents(&app, 2).await;
    let (a, b) = (tokens.remove(0), tokens.remove(0));
    at_ten(&app);
    let (status, replayed, first) = keyed_claim(&app, &a, &bid, "tap-1", &json!({})).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, _, sold) = keyed_claim(&app, &b, &bid, "tap-9", &json!({})).await;
    assert_eq!((status, error_code(&sold)), (409, "sold_out"), "{sold}");
    // The node now answers "sold out" from memory; the retry is looked up and replayed.
    let (status, replayed, again) = keyed_claim(&app, &a, &bid, "tap-1", &json!({})).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["claim_id"], first["claim_id"]);
    let (status, _, reused) = keyed_claim(&app, &a, &bid, "tap-1", &json!({"kind": "other"})).await;
    assert_eq!((status, error_code(&reused)), (422, "idempotency_key_reused"), "{reused}");
    let (status, _, fresh) = keyed_claim(&app, &a, &bid, "tap-2", &json!({})).await;
    assert_eq!((status, error_code(&fresh)), (409, "sold_out"), "a new key is decided: {fresh}");
}

#[tokio::test]
async fn a_claim_has_one_instant_in_its_answer_its_replay_and_the_wallet() {
    let app = TestApp::sqlite().await;
    let (_, bid, _) = open_batch(&app, 10, 3).await;
    let token = residents(&app, 1).await.remove(0);
    at_ten(&app);
    // Every reading of the clock now moves it: an instant read twice differs.
    app.clock.tick_on_every_read(chrono::Duration::milliseconds(1));
    let (status, _, keyed) = keyed_claim(&app, &token, &bid, "tap-1", &json!({})).await;
    assert_eq!(status, 201, "{keyed}");
    let (_, replayed, again) = keyed_claim(&app, &token, &bid, "tap-1", &json!({})).await;
    assert!(replayed);
    let (status, plain) = claim(&app, &token, &bid).await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    app.clock.tick_on_every_read(chrono::Duration::zero());
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    let in_wallet =
        |id: &Value| wallet.as_array().and_then(|w| w.iter().find(|v| v["id"] == *id)).map(|v| v["claimed_at"].clone());
    for answer in [&keyed, &again, &plain] {
        let v = &answer["vouchers"][0];
        assert_eq!(in_wallet(&v["id"]), Some(v["claimed_at"].clone()), "{answer} {wallet}");
    }
}

/// Sends a claim with `key` (and `body`) through `node`: (status, replayed?, body).
async fn keyed_claim(node: &TestApp, token: &str, batch: &str, key: &str, body: &Value) -> (u16, bool, Value) {
    let res = node
        .client
        .post(node.url(&format!("/api/v1/batches/{batch}/claims")))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let replayed = res.headers().get("idempotent-replayed").is_some();
    (res.status().as_u16(), replayed, res.json().await.unwrap_or_default())
}

/// One key sent at once on many connections (and, with `other`, through a
/// second node) stands for one voucher, and every answer names it; a claim
/// refused before the opening keeps no key, so its retry claims.
async fn one_key_is_one_voucher_however_often_and_wherever_it_is_sent(app: &TestApp, other: &TestApp) {
    let (cid, bid, _) = open_batch(app, 10, 5).await;
    let token = residents(app, 1).await.remove(0);
    let early = keyed_claim(app, &token, &bid, "tap-0", &json!({})).await;
    assert_eq!((early.0, error_code(&early.2)), (409, "not_open"), "{early:?}");
    at_ten(app);
    let (status, replayed, first) = keyed_claim(other, &token, &bid, "tap-0", &json!({})).await;
    assert_eq!((status, replayed), (201, false), "the refusal was not stored: {first}");
    // Each burst below within the account's rate limit (six at once, two a second).
    app.clock.advance(chrono::Duration::seconds(5));
    let empty = json!({});
    let mut tasks = Vec::new();
    // Six taps at once: within the account's burst on one node.
    for i in 0..6 {
        let node = if i % 2 == 0 { app } else { other };
        tasks.push(keyed_claim(node, &token, &bid, "tap-1", &empty));
    }
    let answers = futures_util::future::join_all(tasks).await;
    let granted: Vec<&(u16, bool, Value)> = answers.iter().filter(|a| a.0 == 201).collect();
    assert!(!granted.is_empty(), "{answers:?}");
    for a in &answers {
        assert!(a.0 == 201 || (a.0 == 409 && error_code(&a.2) == "idempotency_key_in_flight"), "{a:?}");
    }
    let claim_id = &granted[0].2["claim_id"];
    assert!(granted.iter().all(|a| a.2["claim_id"] == *claim_id), "every answer names the one claim: {answers:?}");
    assert_eq!(granted.iter().filter(|a| !a.1).count(), 1, "one first answer, the others replayed: {answers:?}");
    app.clock.advance(chrono::Duration::seconds(5));
    let again = keyed_claim(other, &token, &bid, "tap-1", &json!({})).await;
    assert_eq!((again.0, again.1, &again.2["claim_id"]), (201, true, claim_id), "{again:?}");
    assert_eq!(again.2, granted[0].2, "the replay is the first answer");
    let reused = keyed_claim(app, &token, &bid, "tap-1", &json!({"kind": "k10"})).await;
    assert_eq!((reused.0, error_code(&reused.2)), (422, "idempotency_key_reused"), "{reused:?}");
    let (_, wallet) = app.get("/api/v1/me/vouchers", Some(&token)).await;
    assert_eq!(wallet.as_array().map(Vec::len), Some(2), "tap-0 and tap-1: two vouchers, not 13: {wallet}");
    let official = app.login("yichang.official", "yichang.official-password-123").await;
    audit_is_clean(app, &official, &cid, 2 * 1000).await;
}

#[tokio::test]
async fn one_key_is_one_voucher_on_sqlite() {
    let app = TestApp::sqlite().await;
    one_key_is_one_voucher_however_often_and_wherever_it_is_sent(&app, &app).await;
}

#[tokio::test]
async fn one_key_is_one_voucher_across_two_nodes_on_postgres() {
    let Some(app) = TestApp::postgres().await else { return };
    let Some(other) = app.second_node().await else { return };
    one_key_is_one_voucher_however_often_and_wherever_it_is_sent(&app, &other).await;
}

#[tokio::test]
async fn an_ineligible_resident_is_told_every_reason_and_a_closed_batch_says_so() {
    let app = TestApp::sqlite().await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let doc = json!({
        "campaign": {"name": "户籍券", "region": "4205", "budget_fen": 100_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{
            "name": "本地户籍", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "eligibility": {"household_prefixes": ["4205"], "lists": ["vip"]},
            "kinds": [{"stock": 5, "kind": {"code": "k", "name": "x", "discount": {"type": "instant", "off_fen": 100}, "validity": {"type": "days_after_claim", "days": 3}}}]
        }]
    });
    let (_, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    let (cid, bid) = (
        created["campaign"]["id"].as_str().unwrap_or_default().to_owned(),
        created["batches"][0]["id"].as_str().unwrap_or_default().to_owned(),
    );
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 100_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    let token = residents(&app, 1).await.remove(0);
    at_ten(&app);
    let (status, body) = claim(&app, &token, &bid).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "not_eligible"));
    let codes: Vec<_> = body["error"]["details"]["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["identity_required", "not_on_list"]);
    app.clock.advance(chrono::Duration::hours(13));
    let (status, body) = claim(&app, &token, &bid).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "closed"));
}

/// A running campaign's open batch of `stock` (one per resident) and three
/// residents at 10:00, for claims straight through the engine: the batch id
/// and their actors.
async fn engine_grab(
    app: &TestApp,
    stock: u32,
) -> (quan_domain::BatchId, Vec<quan_engine::Actor>, Vec<String>, String) {
    let (cid, bid, _) = open_batch(app, stock, 1).await;
    // Fourteen, so that forty claims together stay within each account's rate limit.
    let tokens = residents(app, 14).await;
    at_ten(app);
    let batch: quan_domain::BatchId = bid.parse().unwrap_or_else(|e| panic!("{e:?}"));
    let mut actors = Vec::new();
    for t in &tokens {
        actors.push(app.engine.authenticate(Some(t)).await.unwrap_or_else(|e| panic!("{e}")));
    }
    (batch, actors, tokens, cid)
}

#[tokio::test]
async fn a_stale_copy_of_a_batch_is_read_again_once_however_many_claims_find_it_stale_together() {
    let app = TestApp::sqlite().await;
    let (batch, actors, tokens, cid) = engine_grab(&app, 1).await;
    let bid = batch.to_string();
    let official = app.login("yichang.official", "yichang.official-password-123").await;
    assert_eq!(claim(&app, &tokens[0], &bid).await.0, StatusCode::CREATED);
    // A second and a half later the node's copy is stale; forty claims
    // arrive together (polled one after the other in one task: each reaches
    // the copy while the first one's read is still out).
    app.clock.advance(chrono::Duration::milliseconds(1_500));
    let before = app.engine.batch_reads();
    let claims = (0..40).map(|i| app.engine.claim(&actors[1 + i % 13], batch, None, None));
    for answer in futures_util::future::join_all(claims).await {
        // Sold out (or, for a resident's second request in one commit, at the limit).
        use quan_engine::claims::ClaimRejection as R;
        assert!(matches!(answer, Err(R::SoldOut | R::LimitReached)), "{answer:?}");
    }
    assert_eq!(app.engine.batch_reads() - before, 1, "one request read the batch again; the others used the copy");
    // Closing begun by an official: a claim a little over a second later is told so.
    let (status, closing) =
        app.post(&format!("/api/v1/campaigns/{cid}/begin-closing"), Some(&official), &json!({})).await;
    assert!(status.is_success(), "{closing}");
    app.clock.advance(chrono::Duration::milliseconds(1_100));
    let (status, body) = claim(&app, &tokens[1], &bid).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "closed"), "{body}");
}

#[tokio::test]
async fn a_nodes_first_read_of_a_batch_is_made_once_however_many_claims_arrive_together() {
    let app = TestApp::sqlite().await;
    let (batch, actors, _, _) = engine_grab(&app, 10).await;
    // As when a node restarts in the middle of a grab: its first forty
    // claims of the batch arrive together (polled one after the other in
    // one task, each before the first one's read is back).
    let before = app.engine.batch_reads();
    let claims = (0..40).map(|i| app.engine.claim(&actors[i % 14], batch, None, None));
    let answers = futures_util::future::join_all(claims).await;
    assert_eq!(app.engine.batch_reads() - before, 1, "one request read the batch; the others waited for its copy");
    use quan_engine::claims::ClaimRejection as R;
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 10, "one each until the ten are gone");
    assert!(answers.iter().all(|a| a.is_ok() || matches!(a, Err(R::LimitReached | R::SoldOut))), "{answers:?}");
}

#[tokio::test]
async fn the_grab_dashboard_counts_every_answer_by_outcome_across_two_nodes() {
    let Some(app) = TestApp::postgres().await else { return };
    let Some(node2) = app.second_node().await else { return };
    let (_, bid, _) = open_batch(&app, 3, 1).await;
    let tokens = residents(&app, 5).await;
    at_ten(&app);
    let (_, official) = app.staff("yichang.dashboard", Role::Operator, "4205").await;
    node2.clock.set(quan_domain::Clock::now(app.clock.as_ref()));
    for (i, t) in tokens.iter().enumerate() {
        let on = if i % 2 == 0 { &app } else { &node2 };
        claim(on, t, &bid).await;
    }
    claim(&app, &tokens[0], &bid).await; // a second claim, once all is gone: sold out too
    let (status, d) = app.get(&format!("/api/v1/batches/{bid}/dashboard"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    // Node 2's counts arrive with its next write; ask it to write them now, as its background loop would.
    node2.engine.flush_grab_stats().await.unwrap_or_else(|e| panic!("{e}"));
    let (_, d) = app.get(&format!("/api/v1/batches/{bid}/dashboard"), Some(&official)).await;
    assert_eq!(d["totals"], json!([3, 3, 0, 0, 0, 0]), "three claimed, three sold out, on both nodes: {d}");
    assert_eq!(d["nodes"], 2, "{d}");
    assert_eq!(d["stock"], json!([["k10", 0]]), "{d}");
    assert!(d["p99_ms"].as_f64().is_some_and(|p| p > 0.0), "{d}");
    let (status, _) = app.get(&format!("/api/v1/batches/{bid}/dashboard"), Some(&tokens[0])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "residents do not read the dashboard");
}
