//! `quan demo --partner`: a fake bank (宜昌农商银行) against the real partner
//! API. Before the grab the official registers it (an HMAC secret, shown
//! once) and gives its app a share of the catering vouchers; the bank sets
//! its webhook endpoint (a receiver on this machine that checks every
//! signature). After the grab, residents who got nothing bind the bank's
//! app with one-time codes; the bank claims for them from its share, then
//! applies their vouchers at its payments (支付立减: quote, lock, confirm),
//! reverses one payment and refunds part of another; the events reach the
//! receiver signed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use base64::Engine as _;
use quan_http::client::Conn;
use serde_json::{Value, json};

use super::client::{call, expect};
use super::phases::{Campaign, Demo};
use super::world::Shop;

const BANK: &str = "宜昌农商银行";
/// The kind the bank's app carries, and its share of the grab's stock (%).
const KIND: &str = "c100-20";
const SHARE_PERCENT: usize = 5;
/// Residents the bank claims for, at most.
const CLAIMS_MAX: usize = 200;

/// The fake bank: its credentials, its connection, and what its webhook receiver got.
pub(super) struct Bank {
    id: String,
    serial: String,
    secret: String,
    conn: Conn,
    nonce: u64,
    /// (event type, signature verified) of every delivery received.
    received: Arc<Mutex<Vec<(String, bool)>>>,
    share: usize,
}

/// The webhook secret the receiver checks signatures with (set once the endpoint is).
type Secret = Arc<Mutex<String>>;

/// What the bank did after the grab.
#[derive(Debug, Default)]
pub(super) struct BankSeen {
    pub(super) share: usize,
    pub(super) bound: usize,
    pub(super) claims: usize,
    pub(super) refused: BTreeMap<String, usize>,
    pub(super) checkouts: usize,
    pub(super) discount_fen: i64,
    pub(super) reversed: usize,
    pub(super) refunded_fen: i64,
    pub(super) delivered: usize,
    pub(super) verified: usize,
    /// What its engineer's rehearsal in the sandbox (a test key) came to.
    pub(super) rehearsal: String,
}

impl Bank {
    /// A partner the demo signs for with an HMAC secret (no webhook receiver).
    pub(super) fn signing(id: String, serial: String, secret: String, conn: Conn) -> Bank {
        Bank { id, serial, secret, conn, nonce: 0, received: Arc::default(), share: 0 }
    }

    /// A signed call: (status, JSON answer).
    pub(super) async fn call(
        &mut self,
        now_s: i64,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        self.nonce += 1;
        let nonce = format!("demo{:016x}", self.nonce);
        let bytes = body.map(Value::to_string).unwrap_or_default();
        let message = quan_domain::partner_auth::message(method, path, now_s, &nonce, bytes.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD
            .encode(quan_domain::partner_auth::hmac_sha256(self.secret.as_bytes(), &message));
        let auth = format!(
            r#"QUAN-HMAC-SHA256 partner_id="{}",serial_no="{}",timestamp="{now_s}",nonce_str="{nonce}",signature="{sig}""#,
            self.id, self.serial
        );
        let (status, answer) = call(&mut self.conn, method, path, None, body, &[("Authorization", &auth)]).await?;
        Ok((status, serde_json::from_slice(&answer).unwrap_or(Value::Null)))
    }

    pub(super) async fn expect(
        &mut self,
        now_s: i64,
        method: &str,
        path: &str,
        body: &Value,
        want: u16,
    ) -> anyhow::Result<Value> {
        let (status, v) = self.call(now_s, method, path, Some(body)).await?;
        if status != want {
            bail!("the bank's {method} {path}: expected {want}, got {status}: {v}");
        }
        Ok(v)
    }
}

impl Demo<'_> {
    pub(super) fn now_s(&self) -> i64 {
        quan_domain::Clock::now(&*self.clock).timestamp()
    }

    /// Before the grab: the bank registered, its share given, its webhook endpoint set.
    pub(super) async fn bank(&mut self, camp: &Campaign) -> anyhow::Result<Bank> {
        let official = self.token("demo.official").await?;
        let body = json!({"name": BANK, "kind": "bank", "mode": "live", "scopes": ["claim", "checkout", "bill"], "key": {"scheme": "hmac"}});
        let created = expect(&mut self.c, "POST", "/api/v1/partners", Some(&official), Some(&body), 201).await?;
        let id = created["partner"]["id"].as_str().unwrap_or_default().to_owned();
        let share = camp.stocks[0] * SHARE_PERCENT / 100;
        let moves = format!("/api/v1/batches/{}/channel-moves", camp.grab);
        let mv = json!({"kind_code": KIND, "from": "h5", "to": id, "count": share});
        expect(&mut self.c, "POST", &moves, Some(&official), Some(&mv), 200).await?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut bank = Bank {
            id,
            serial: created["key"]["serial_no"].as_str().unwrap_or_default().to_owned(),
            secret: created["key"]["secret"].as_str().unwrap_or_default().to_owned(),
            conn: Conn::connect(self.addr).await.context("the bank's connection")?,
            nonce: 0,
            received: received.clone(),
            share,
        };
        let secret: Secret = Arc::default();
        let url = receiver(received, secret.clone()).await?;
        let set = bank.expect(self.now_s(), "PUT", "/partner/v1/webhook-endpoint", &json!({"url": url}), 200).await?;
        *secret.lock().unwrap_or_else(|p| p.into_inner()) = set["secret"].as_str().unwrap_or_default().to_owned();
        self.say(&format!(
            "partner {BANK} registered (HMAC), its app given {share} of the {KIND} vouchers; its webhooks go to {url}"
        ));
        Ok(bank)
    }

    /// After the grab: bindings, claims through the bank, payments with vouchers, a reverse, a refund, webhooks.
    pub(super) async fn bank_day(
        &mut self,
        bank: &mut Bank,
        camp: &Campaign,
        tokens: &[String],
        positions: &[(f64, f64)],
        got: &std::collections::HashSet<usize>,
        shops: &[Shop],
    ) -> anyhow::Result<BankSeen> {
        self.clock.set(super::t("2026-12-05T10:30:00"));
        let mut seen = BankSeen { share: bank.share, ..BankSeen::default() };
        let wanting: Vec<usize> = (0..tokens.len())
            .filter(|i| !got.contains(i) && i % 10 != 9)
            .take(bank.share.min(CLAIMS_MAX) + 5)
            .collect();
        let mut vouchers = Vec::new();
        for (n, i) in wanting.iter().enumerate() {
            let Some(openid) = self.bind(bank, &tokens[*i]).await? else { continue };
            seen.bound += 1;
            let (lat, lng) = positions[*i];
            let ask = json!({"resident_openid": openid, "batch_id": camp.grab, "kind": KIND,
                "out_request_no": format!("Q{n:06}"), "lat": lat, "lng": lng, "crs": "gcj02"});
            let (status, c) = bank.call(self.now_s(), "POST", "/partner/v1/claims", Some(&ask)).await?;
            if status == 201 {
                seen.claims += 1;
                vouchers.push((openid, c["vouchers"][0]["voucher_id"].as_str().unwrap_or_default().to_owned()));
            } else {
                *seen.refused.entry(c["error"]["code"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
            }
        }
        self.clock.set(super::t("2026-12-05T11:30:00"));
        let shop = shops.iter().find(|s| s.industry == "catering").context("a catering shop")?;
        for (n, (openid, voucher)) in vouchers.iter().enumerate() {
            let no = format!("T{n:06}");
            let lock = json!({"out_trade_no": no, "resident_openid": openid, "voucher_id": voucher,
                "merchant_id": shop.id, "amount_fen": 12_800});
            let o = bank.expect(self.now_s(), "POST", "/partner/v1/checkout/orders", &lock, 200).await?;
            if n == 1 {
                // The card payment failed: the discount is reversed (冲正), the voucher stays the resident's.
                bank.expect(
                    self.now_s(),
                    "POST",
                    &format!("/partner/v1/checkout/orders/{no}/reverse"),
                    &json!({}),
                    200,
                )
                .await?;
                seen.reversed += 1;
                continue;
            }
            let confirm = json!({"transaction_id": format!("RCB{n:010}")});
            bank.expect(self.now_s(), "POST", &format!("/partner/v1/checkout/orders/{no}/confirm"), &confirm, 200)
                .await?;
            seen.checkouts += 1;
            seen.discount_fen += o["discount_fen"].as_i64().unwrap_or(0);
        }
        if seen.checkouts > 0 {
            self.clock.set(super::t("2026-12-05T14:00:00"));
            let refund = json!({"out_refund_no": "R000000", "amount_fen": 2_800});
            let r =
                bank.expect(self.now_s(), "POST", "/partner/v1/checkout/orders/T000000/refunds", &refund, 200).await?;
            seen.refunded_fen += r["amount_fen"].as_i64().unwrap_or(0);
        }
        for _ in 0..20 {
            let round = self.engine.deliver_webhooks().await?;
            if round.attempted == 0 {
                break;
            }
        }
        let got = bank.received.lock().unwrap_or_else(|p| p.into_inner()).clone();
        (seen.delivered, seen.verified) = (got.len(), got.iter().filter(|(_, ok)| *ok).count());
        self.say(&format!(
            "partner {BANK}: {} residents bound, {} claims through its app (refused: {}), {} payments with vouchers (支付立减) taking {} 元 off, {} reversed, {} 元 refunded; {} webhooks received, {} signatures verified",
            seen.bound,
            seen.claims,
            super::prose::tally(&seen.refused),
            seen.checkouts,
            quan_domain::Fen::new(seen.discount_fen),
            seen.reversed,
            quan_domain::Fen::new(seen.refunded_fen),
            seen.delivered,
            seen.verified
        ));
        Ok(seen)
    }

    /// The resident asks quan for a one-time code; the bank redeems it for their id.
    async fn bind(&mut self, bank: &mut Bank, token: &str) -> anyhow::Result<Option<String>> {
        let body = json!({"partner_id": bank.id});
        let (status, c) =
            super::client::call_json(&mut self.c, "POST", "/api/v1/me/partner-bindings", Some(token), Some(&body))
                .await?;
        if status != 201 {
            return Ok(None);
        }
        let b =
            bank.expect(self.now_s(), "POST", "/partner/v1/bindings", &json!({"binding_code": c["code"]}), 200).await?;
        Ok(b["resident_openid"].as_str().map(str::to_owned))
    }
}

/// The bank's webhook receiver on this machine: checks each delivery's
/// Standard Webhooks signature and answers 200. Its URL.
async fn receiver(received: Arc<Mutex<Vec<(String, bool)>>>, secret: Secret) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("the bank's webhook receiver")?;
    let url = format!("http://{}/quan/hooks", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/quan/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let (received, secret) = (received.clone(), secret.clone());
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let secret = secret.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let ts = h("webhook-timestamp").parse::<i64>().unwrap_or(0);
                let want = quan_domain::webhook::signature(&secret, &h("webhook-id"), ts, &body);
                let ok = want.is_some_and(|w| h("webhook-signature").split(' ').any(|s| s == w));
                let kind =
                    serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["type"].as_str().map(str::to_owned));
                received.lock().unwrap_or_else(|p| p.into_inner()).push((kind.unwrap_or_default(), ok));
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// The summary's lines for the bank.
pub(super) fn summary(b: &BankSeen) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{:-<78}\n", "");
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "{k:<44} {v}");
    };
    let _ = writeln!(out, "partner API: a fake bank, {BANK} (signed calls, HMAC-SHA256)");
    row(&mut out, "  rehearsal in the sandbox (a test key)", b.rehearsal.clone());
    row(&mut out, &format!("  its app's share of {KIND} (units)"), b.share.to_string());
    row(&mut out, "  residents bound (one-time codes)", b.bound.to_string());
    row(
        &mut out,
        "  claims through its app / refused",
        format!("{} / {}", b.claims, b.refused.values().sum::<usize>()),
    );
    row(
        &mut out,
        "  payments with vouchers 支付立减 (元 off)",
        format!("{} ({})", b.checkouts, quan_domain::Fen::new(b.discount_fen)),
    );
    row(
        &mut out,
        "  reversed 冲正 / refunded (元)",
        format!("{} / {}", b.reversed, quan_domain::Fen::new(b.refunded_fen)),
    );
    row(&mut out, "  webhooks received / signatures verified", format!("{} / {}", b.delivered, b.verified));
    out
}
