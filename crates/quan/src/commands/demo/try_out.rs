//! With `--serve`: after the close-out, a small campaign open now, so that
//! a person can click through the pages — claim as the printed resident,
//! show the code, redeem it at the printed cashier's till.

use serde_json::json;

use super::client::expect;
use super::phases::Demo;
use super::t;

/// The instant the server's clock stays at while serving.
pub(super) const SERVE_AT: &str = "2026-12-14T01:10:00";

impl Demo<'_> {
    /// A funded, running campaign with one batch open from [`SERVE_AT`]:
    /// 满50减10 at any shop, for anyone.
    pub(super) async fn try_out(&mut self) -> anyhow::Result<()> {
        let official = self.token("demo.official").await?;
        let doc = json!({
            "campaign": {"name": "演示体验券", "region": "4205", "budget_fen": 100_000, "funding_source": "演示", "starts_on": "2026-12-14", "ends_on": "2026-12-31"},
            "batches": [{
                "name": "体验批次", "opening_at": "2026-12-14T01:05:00+08:00", "closing_at": "2026-12-20T22:00:00+08:00",
                "limits": {"per_batch": 2},
                "kinds": [{"stock": 100, "kind": {"code": "t50-10", "name": "满50减10", "discount": {"type": "threshold", "min_order_fen": 5000, "off_fen": 1000},
                    "validity": {"type": "days_after_claim", "days": 5}}}]
            }]
        });
        let created = expect(&mut self.c, "POST", "/api/v1/campaigns", Some(&official), Some(&doc), 201).await?;
        let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
        let path = format!("/api/v1/campaigns/{cid}/funding");
        expect(&mut self.c, "POST", &path, Some(&official), Some(&json!({"amount_fen": 100_000})), 200).await?;
        let path = format!("/api/v1/campaigns/{cid}/start");
        expect(&mut self.c, "POST", &path, Some(&official), Some(&json!({})), 200).await?;
        self.complaints().await?;
        self.clock.set(t(SERVE_AT));
        Ok(())
    }

    /// Two complaints for the console's queue: one filed days ago and
    /// overdue, one just filed.
    async fn complaints(&mut self) -> anyhow::Result<()> {
        let phone = quan_domain::PhoneNumber::parse("13900000002").map_err(|e| anyhow::anyhow!("{e}"))?;
        for (at, kind, text) in [
            ("2026-12-10T15:00:00", "shop_refused", "12月10日在西陵区一家餐馆结账，收银员说不收消费券。"),
            ("2026-12-14T01:00:00", "price_raised", "同一款电饭煲，用券前一天标价299元，今天变成了349元。"),
        ] {
            self.clock.set(t(at));
            self.engine.request_login_code(&phone, "demo-complaints").await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let code = self.sms.last_code(phone.expose()).unwrap_or_default();
            let code = quan_engine::auth::OtpCode::parse(&code).map_err(|e| anyhow::anyhow!("{e}"))?;
            let token = self.engine.verify_login_code(&phone, &code).await.map_err(|e| anyhow::anyhow!("{e}"))?.token;
            let body = json!({"kind": kind, "text": text, "district": "420502"});
            expect(&mut self.c, "POST", "/api/v1/complaints", Some(&token), Some(&body), 201).await?;
        }
        Ok(())
    }
}
