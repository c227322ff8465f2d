//! `quan demo --partner`, before the bank goes live: its engineer rehearses
//! with a test key in the sandbox (test mode). The official registers the
//! bank's test credentials; the engineer reads the sandbox, mints a test
//! resident and binds them with the minted code, mints a voucher, and runs
//! a checkout (quote, lock, confirm) at the sandbox's shop — none of it in
//! the city's live data. The sandbox's audit is checked after.

use anyhow::Context;
use quan_http::client::Conn;
use serde_json::json;

use super::client::expect;
use super::partner::Bank;
use super::phases::Demo;

impl Demo<'_> {
    /// The rehearsal; what it came to, in one line of the summary.
    pub(super) async fn rehearse(&mut self) -> anyhow::Result<String> {
        let official = self.token("demo.official").await?;
        let body = json!({"name": "宜昌农商银行（测试）", "kind": "bank", "mode": "test", "scopes": ["checkout"], "key": {"scheme": "hmac"}});
        let created = expect(&mut self.c, "POST", "/api/v1/partners", Some(&official), Some(&body), 201).await?;
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let mut bank = Bank::signing(
            text(&created["partner"]["id"]),
            text(&created["key"]["serial_no"]),
            text(&created["key"]["secret"]),
            Conn::connect(self.addr).await.context("the test bank's connection")?,
        );
        let world = bank.call(self.now_s(), "GET", "/partner/v1/sandbox", None).await?.1;
        let r = bank.expect(self.now_s(), "POST", "/partner/v1/sandbox/residents", &json!({}), 201).await?;
        let code = json!({"binding_code": r["binding_code"]});
        let openid =
            bank.expect(self.now_s(), "POST", "/partner/v1/bindings", &code, 200).await?["resident_openid"].clone();
        // The sandbox's batch opens a second after it is made.
        self.clock.set(quan_domain::Clock::now(&*self.clock) + chrono::Duration::seconds(2));
        let mint = json!({"resident_openid": openid, "kind": "sbx100-20"});
        let v = bank.expect(self.now_s(), "POST", "/partner/v1/sandbox/vouchers", &mint, 201).await?;
        let order = json!({"voucher_code": v["voucher_code"], "merchant_id": world["merchant_id"],
            "till_id": world["till_id"], "amount_fen": 12_800, "out_trade_no": "SBX000001"});
        let mut quote = order.clone();
        quote.as_object_mut().map(|o| o.remove("out_trade_no"));
        let q = bank.expect(self.now_s(), "POST", "/partner/v1/checkout/quotes", &quote, 200).await?;
        bank.expect(self.now_s(), "POST", "/partner/v1/checkout/orders", &order, 200).await?;
        let confirm = json!({"transaction_id": "SBXTX000001"});
        let path = "/partner/v1/checkout/orders/SBX000001/confirm";
        let done = bank.expect(self.now_s(), "POST", path, &confirm, 200).await?;
        let sandbox = self.engine.sandbox().context("the demo's server runs a sandbox")?;
        let mut clean = true;
        for id in sandbox.all_campaign_ids().await? {
            clean &= sandbox.audit_campaign_unchecked(id).await?.is_clean();
        }
        let off = quan_domain::Fen::new(q["discount_fen"].as_i64().unwrap_or(0));
        let line = format!(
            "1 test resident bound, 1 voucher minted, checkout {} ({off} 元 off); sandbox audit {}",
            done["status"].as_str().unwrap_or("?"),
            if clean { "clean" } else { "NOT clean" }
        );
        self.say(&format!("the bank's engineer rehearsed with a test key in the sandbox: {line}"));
        Ok(line)
    }
}
