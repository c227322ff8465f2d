//! Webhooks to a partner, against a real receiver on this machine: events
//! written with the confirm and the reverse, delivered in order per voucher
//! (the reverse waits behind a confirm its receiver keeps failing), retried
//! after a 500 honouring `Retry-After`, picked up by another node (as after
//! a restart), signatures checked by Python's standardwebhooks and gmssl; a
//! 410 disables the endpoint until it is set again; a cut-off partner gets
//! nothing until let back; three days of failures give up and disable. On
//! SQLite and PostgreSQL.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as Http};
use quan_testkit::fixtures::{at, shop};
use quan_testkit::{TestApp, TestOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_partner::{Bank, call, has_gmssl, register};
use crate::api_redemptions::code_of;
use crate::api_risk_cases::{campaign, claims};

/// What the receiver got and how it answers.
#[derive(Default)]
pub(crate) struct Receiver {
    got: Vec<Value>,
    /// Answers for bodies containing the key, in turn (then 200).
    script: HashMap<String, Vec<u16>>,
}

pub(crate) type Shared = Arc<Mutex<Receiver>>;

async fn hook(State(r): State<Shared>, headers: HeaderMap, body: String) -> (Http, HeaderMap) {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut r = r.lock().unwrap_or_else(|p| p.into_inner());
    let status = r
        .script
        .iter_mut()
        .find(|(k, _)| body.contains(k.as_str()))
        .and_then(|(_, answers)| (!answers.is_empty()).then(|| answers.remove(0)))
        .unwrap_or(200);
    r.got.push(json!({"id": h("webhook-id"), "timestamp": h("webhook-timestamp"), "signature": h("webhook-signature"),
        "quan_signature": h("quan-signature"), "body": body, "answered": status}));
    let mut out = HeaderMap::new();
    if status == 500 {
        out.insert("retry-after", axum::http::HeaderValue::from_static("7"));
    }
    (Http::from_u16(status).unwrap_or(Http::OK), out)
}

pub(crate) async fn receiver() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = axum::Router::new().route("/hooks", axum::routing::post(hook)).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hooks"), shared)
}

pub(crate) fn got(r: &Shared) -> Vec<Value> {
    r.lock().unwrap_or_else(|p| p.into_inner()).got.clone()
}

fn answer(r: &Shared, key: &str, answers: &[u16]) {
    r.lock().unwrap_or_else(|p| p.into_inner()).script.insert(key.into(), answers.to_vec());
}

async fn round(app: &TestApp) -> quan_engine::partners::DeliveryRound {
    app.engine.deliver_webhooks().await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn webhooks_are_delivered_in_order_retried_and_given_up_on_sqlite() {
    let opts = TestOptions { webhooks_allow_private: true, ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    webhooks(&app, None).await;
}

#[tokio::test]
async fn webhooks_are_delivered_in_order_retried_and_given_up_on_postgres() {
    let opts = TestOptions {
        backend: quan_testkit::Backend::Postgres,
        webhooks_allow_private: true,
        ..TestOptions::default()
    };
    let Some(app) = TestApp::start(opts).await else { return };
    let node2 = app.second_node().await;
    webhooks(&app, node2.as_ref()).await;
}

async fn webhooks(app: &TestApp, other_node: Option<&TestApp>) {
    let (_, batch) = campaign(app).await;
    let s = shop(app, 1, "catering").await;
    at(app, "2026-12-05T10:00:01+08:00");
    let (resident, vouchers) = claims(app, &batch, "13800000005", 1).await;
    let (official, bank) = register(app, "推送银行", &["checkout"]).await;
    let (url, rx) = receiver().await;
    let (status, set) = call(app, &bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": url}))).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let secret = set["secret"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("whsec_"), "{set}");

    // The confirm's event fails twice; the reverse's waits behind it.
    answer(&rx, "redemption.confirmed", &[500, 500]);
    let code = code_of(app, &resident, &vouchers[0]).await;
    let lock = json!({"voucher_code": code, "merchant_id": s.id, "amount_fen": 12_000, "out_trade_no": "W1"});
    assert_eq!(call(app, &bank, "POST", "/partner/v1/checkout/orders", Some(&lock)).await.0, StatusCode::OK);
    let path = "/partner/v1/checkout/orders/W1";
    assert_eq!(
        call(app, &bank, "POST", &format!("{path}/confirm"), Some(&json!({"transaction_id": "TX"}))).await.0,
        StatusCode::OK
    );
    assert_eq!(call(app, &bank, "POST", &format!("{path}/reverse"), Some(&json!({}))).await.0, StatusCode::OK);
    let (status, _) = call(app, &bank, "POST", "/partner/v1/webhooks/test", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let r = round(app).await;
    assert_eq!(
        (r.attempted, r.delivered, r.retried),
        (2, 1, 1),
        "the confirm failed, the test event went; the reverse waits"
    );
    assert_eq!(round(app).await.attempted, 0, "nothing is due before Retry-After (7 s)");
    app.clock.advance(chrono::Duration::seconds(8));
    assert_eq!(round(app).await.retried, 1);
    app.clock.advance(chrono::Duration::seconds(400));
    // Another node picks the outbox up (as a restarted process would).
    let deliverer = other_node.unwrap_or(app);
    assert_eq!(round(deliverer).await.delivered, 1, "the confirm at last");
    assert_eq!(round(deliverer).await.delivered, 1, "then the reverse");
    let kinds: Vec<(String, u64)> = got(&rx)
        .iter()
        .filter(|d| !d["body"].as_str().unwrap_or_default().contains("webhook.test"))
        .map(|d| {
            let body: Value = serde_json::from_str(d["body"].as_str().unwrap_or_default()).unwrap_or_default();
            (body["type"].as_str().unwrap_or_default().to_owned(), d["answered"].as_u64().unwrap_or(0))
        })
        .collect();
    let want = [
        ("redemption.confirmed", 500),
        ("redemption.confirmed", 500),
        ("redemption.confirmed", 200),
        ("redemption.reversed", 200),
    ];
    assert_eq!(kinds, want.map(|(k, s)| (k.to_owned(), s)), "in order per voucher");
    signatures_verify(app, &rx, &secret);

    gone_and_cut_off(app, &official, &bank, &rx, &url).await;
    three_days(app, &bank, &rx).await;
}

/// Python's standardwebhooks and gmssl check every delivery's two signatures.
fn signatures_verify(app: &TestApp, rx: &Shared, secret: &str) {
    let has =
        Command::new("python3").args(["-c", "import standardwebhooks"]).output().is_ok_and(|o| o.status.success());
    if !has || !has_gmssl() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "standardwebhooks is missing in CI: pip install standardwebhooks"
        );
        eprintln!("skipped: pip install standardwebhooks gmssl");
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("deliveries.json");
    std::fs::write(&file, serde_json::to_vec(&got(rx)).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    let (_, platform) = app.engine.platform_certificate();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/verify_webhooks.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .arg(secret)
        .arg(&platform)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && text.starts_with("ok "), "{text}{}", String::from_utf8_lossy(&out.stderr));
}

/// A 410 disables the endpoint (later events wait) until it is set again;
/// a cut-off partner's events wait until it is let back.
async fn gone_and_cut_off(app: &TestApp, official: &str, bank: &Bank, rx: &Shared, url: &str) {
    answer(rx, "webhook.test", &[410]);
    let empty = json!({});
    let fire = || call(app, bank, "POST", "/partner/v1/webhooks/test", Some(&empty));
    assert_eq!(fire().await.0, StatusCode::ACCEPTED);
    assert_eq!(round(app).await.dead, 1, "410 Gone gives up and disables");
    assert_eq!(fire().await.0, StatusCode::ACCEPTED);
    assert_eq!(round(app).await.attempted, 0, "a disabled endpoint gets nothing");
    // The operator is told: the partner's record says the endpoint stopped, and why.
    let (_, seen) = app.get(&format!("/api/v1/partners/{}", bank.id), Some(official)).await;
    assert_eq!(seen["webhook"]["status"], "disabled", "{seen}");
    assert!(seen["webhook"]["status_reason"].as_str().unwrap_or_default().contains("410"), "{seen}");
    assert!(!seen.to_string().contains("whsec_"), "never the secret: {seen}");
    let (status, _) = call(app, bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": url}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(round(app).await.delivered, 1, "set again, it gets what waited");

    assert_eq!(fire().await.0, StatusCode::ACCEPTED);
    let p = format!("/api/v1/partners/{}", bank.id);
    assert_eq!(
        app.post(&format!("{p}/suspend"), Some(official), &json!({"reason": "熔断演练"})).await.0,
        StatusCode::OK
    );
    assert_eq!(round(app).await.attempted, 0, "a cut-off partner's webhooks stop");
    assert_eq!(app.post(&format!("{p}/resume"), Some(official), &json!({})).await.0, StatusCode::OK);
    assert_eq!(round(app).await.delivered, 1);
}

/// Ten failed attempts over about three days: the event is dead, the endpoint disabled.
async fn three_days(app: &TestApp, bank: &Bank, rx: &Shared) {
    answer(rx, "webhook.test", &[503; 20]);
    assert_eq!(call(app, bank, "POST", "/partner/v1/webhooks/test", Some(&json!({}))).await.0, StatusCode::ACCEPTED);
    let start = app.engine.now();
    let mut attempts = 0;
    while attempts < 20 {
        let r = round(app).await;
        attempts += r.attempted;
        if r.dead == 1 {
            break;
        }
        app.clock.advance(chrono::Duration::hours(25));
    }
    assert_eq!(attempts, 10, "the first try and nine retries");
    let (_, events) = call(app, bank, "GET", "/partner/v1/webhooks/events", None).await;
    let last = events.as_array().and_then(|e| e.last()).cloned().unwrap_or_default();
    assert_eq!(
        (last["status"].as_str(), last["attempts"].as_u64(), last["last_status"].as_u64()),
        (Some("dead"), Some(10), Some(503)),
        "{last}"
    );
    assert!(app.engine.now() - start >= chrono::Duration::days(3), "given up after three days, not before");
}
