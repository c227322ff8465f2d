//! Webhooks over HTTPS to a receiver written apart from quan (Python's
//! http.server and ssl, with a certificate openssl made for `localhost`):
//! delivered when the certificate chains to a root the deployment trusts;
//! not delivered — tried again later, the reason kept — by a node that does
//! not trust it: the certificate is verified, never waved through.

use std::process::{Command, Stdio};
use std::time::Duration;

use quan_testkit::{TestApp, TestOptions};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::api_partner::{call, register};

/// A certificate authority of the test's own and a server certificate it
/// signed for `localhost`: (certificate file, key file, the authority's PEM).
fn certificate(dir: &std::path::Path) -> Option<(String, String, String)> {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let ext = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    std::fs::write(p("leaf.ext"), ext).unwrap_or_else(|e| panic!("{e}"));
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let steps: [Vec<String>; 3] = [
        ["req", "-x509"]
            .iter()
            .chain(&ec)
            .map(|s| (*s).to_owned())
            .chain(
                ["-days", "2", "-subj", "/CN=quan test CA", "-keyout", &p("ca.key"), "-out", &p("ca.pem")]
                    .map(str::to_owned),
            )
            .collect(),
        ["req"]
            .iter()
            .chain(&ec)
            .map(|s| (*s).to_owned())
            .chain(["-subj", "/CN=localhost", "-keyout", &p("key.pem"), "-out", &p("leaf.csr")].map(str::to_owned))
            .collect(),
        ["x509", "-req", "-in", &p("leaf.csr"), "-CA", &p("ca.pem"), "-CAkey", &p("ca.key"), "-CAcreateserial"]
            .iter()
            .chain(["-days", "2", "-extfile", &p("leaf.ext"), "-out", &p("cert.pem")].iter())
            .map(|s| (*s).to_owned())
            .collect(),
    ];
    for args in steps {
        let ok = Command::new("openssl")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "openssl is missing or failed in CI: {args:?}");
            eprintln!("skipped: openssl is not installed");
            return None;
        }
    }
    let pem = std::fs::read_to_string(p("ca.pem")).unwrap_or_default();
    Some((p("cert.pem"), p("key.pem"), pem))
}

#[tokio::test]
async fn webhooks_go_over_https_to_a_certificate_the_deployment_trusts_and_no_other() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Some((cert, key, pem)) = certificate(dir.path()) else { return };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/tls_receiver.py");
    let mut receiver = tokio::process::Command::new("python3")
        .args([script, &cert, &key])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    let mut lines = BufReader::new(receiver.stdout.take().unwrap_or_else(|| panic!("its output"))).lines();
    let port = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
    let port = port.ok().and_then(Result::ok).flatten().unwrap_or_else(|| panic!("the receiver's port"));
    let url = format!("https://localhost:{}/hooks", port.trim());

    // A deployment that trusts the receiver's certificate: delivered.
    let opts = TestOptions { webhooks_allow_private: true, webhooks_roots_pem: Some(pem), ..TestOptions::default() };
    let Some(app) = TestApp::start(opts).await else { return };
    let (_, bank) = register(&app, "加密银行", &["checkout"]).await;
    let (status, set) = call(&app, &bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": url}))).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let (status, fired) = call(&app, &bank, "POST", "/partner/v1/webhooks/test", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{fired}");
    let round = app.engine.deliver_webhooks().await.unwrap_or_else(|e| panic!("{e}"));
    let (_, events) = call(&app, &bank, "GET", "/partner/v1/webhooks/events", None).await;
    assert_eq!((round.attempted, round.delivered), (1, 1), "{round:?} {events}");
    let got = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
    let got = got.ok().and_then(Result::ok).flatten().unwrap_or_default();
    assert!(got.contains("webhook.test") && got.contains("\"path\": \"/hooks\""), "{got}");

    // A deployment that does not: not delivered, tried again later, and the partner is told why.
    let opts = TestOptions { webhooks_allow_private: true, ..TestOptions::default() };
    let Some(other) = TestApp::start(opts).await else { return };
    let (_, bank) = register(&other, "加密银行", &["checkout"]).await;
    let (status, _) = call(&other, &bank, "PUT", "/partner/v1/webhook-endpoint", Some(&json!({"url": url}))).await;
    assert_eq!(status, StatusCode::OK);
    call(&other, &bank, "POST", "/partner/v1/webhooks/test", Some(&json!({}))).await;
    let round = other.engine.deliver_webhooks().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((round.attempted, round.delivered, round.retried), (1, 0, 1), "{round:?}");
    let (_, events) = call(&other, &bank, "GET", "/partner/v1/webhooks/events", None).await;
    let e = &events[0];
    assert_eq!((e["status"].as_str(), e["attempts"].as_i64()), (Some("pending"), Some(1)), "{events}");
    assert!(!e["last_error"].as_str().unwrap_or_default().is_empty(), "the reason is kept: {events}");
    let nothing = tokio::time::timeout(Duration::from_millis(300), lines.next_line()).await;
    assert!(nothing.is_err(), "the untrusting node sent nothing: {nothing:?}");
}
