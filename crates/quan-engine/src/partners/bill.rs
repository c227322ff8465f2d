//! A partner's daily bill: its orders confirmed during a business day (and
//! not reversed), as CSV in the columns `quan settle reconcile` reads
//! (`order_id,amount,discount,time`, yuan and RFC 3339 in Beijing time),
//! with the partner's own numbers beside them.

use chrono::NaiveDate;
use quan_domain::{BusinessDay, UTC8};

use super::CheckoutError;
use super::auth::Authed;
use crate::Engine;
use crate::csv_cell::{BOM, line};

/// The bill's header.
pub const BILL_HEADER: [&str; 7] =
    ["order_id", "amount", "discount", "time", "out_trade_no", "transaction_id", "redemption_id"];

impl Engine {
    /// The partner's bill of business day `day` (UTC+8, the deployment's cut-off hour).
    pub async fn partner_bill(&self, a: &Authed, day: NaiveDate) -> Result<String, CheckoutError> {
        let (from, until) = BusinessDay::from_date(day).bounds(self.config().business_day_cutoff);
        let orders = self.store().partner_bill(a.partner.id, from, until).await?;
        let mut out = format!("{BOM}{}", line(&BILL_HEADER));
        for o in orders {
            let at = o.done_at.unwrap_or(o.created_at).with_timezone(&UTC8).to_rfc3339();
            out.push_str(&line(&[
                super::checkout::order_ref(o.partner_id, &o.out_trade_no),
                o.order.to_string(),
                o.discount.to_string(),
                at,
                o.out_trade_no.clone(),
                o.transaction_id.clone().unwrap_or_default(),
                o.redemption_id.map(|r| r.to_string()).unwrap_or_default(),
            ]));
        }
        Ok(out)
    }

    /// After a day's settlement: a `settlement.ready` event to each partner
    /// with orders in that day's bill (fetch it now). Its id is the
    /// partner's and the day's, so a settlement run again writes none twice.
    pub(crate) async fn settlement_ready_events(&self, day: NaiveDate) -> Result<u32, quan_store::StoreError> {
        use sha2::Digest;
        let (from, until) = BusinessDay::from_date(day).bounds(self.config().business_day_cutoff);
        let mut written = 0;
        for p in self.store().partners().await? {
            let orders = self.store().partner_bill(p.id, from, until).await?;
            if orders.is_empty() {
                continue;
            }
            let discount: i64 = orders.iter().map(|o| o.discount.as_i64()).sum();
            let data = serde_json::json!({
                "business_day": day.to_string(),
                "orders": orders.len(),
                "discount_fen": discount,
                "bill": format!("/partner/v1/bills/{day}"),
            });
            let mut e = self.partner_event(p.id, "settlement.ready", &format!("bill:{day}"), data);
            let mark = sha2::Sha256::digest(format!("settlement.ready:{}:{day}", p.id).as_bytes());
            let mut id = [0u8; 16];
            id.copy_from_slice(&mark[..16]);
            e.id = uuid::Builder::from_custom_bytes(id).into_uuid();
            self.store().add_webhook_event(&e).await?;
            written += 1;
        }
        Ok(written)
    }
}
