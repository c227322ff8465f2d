//! What a cashier or a resident types to redeem — a code and an order
//! amount — and the preview of the discount, shared by the till and the H5.

use quan_domain::Fen;
use quan_engine::redemptions::{OrderInput, Preview};

use crate::msg::Msg;
use crate::zh::{self, parse_yuan, yuan};

/// The code (spaces a reader or a person put in removed) and the order of
/// the typed amount; `code_missing` says which code is asked for.
pub fn order(code: &str, amount: &str, code_missing: &'static str) -> Result<(String, OrderInput), Msg> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() {
        return Err(Msg::field(code_missing));
    }
    let amount = parse_yuan(amount).filter(|a| *a > 0).ok_or_else(|| Msg::field(zh::till::ORDER_AMOUNT))?;
    let order = OrderInput {
        amount: Fen::new(amount),
        order_ref: String::new(),
        items: Vec::new(),
        platform_match: Fen::ZERO,
        merchant_match: Fen::ZERO,
    };
    Ok((code, order))
}

/// A preview as shown: where, which voucher, the order, the discount, what is paid.
#[derive(Debug)]
pub struct Shown {
    pub shop: String,
    pub kind: String,
    pub order: String,
    pub discount: String,
    pub pays: String,
}

impl Shown {
    pub fn of(p: Preview) -> Shown {
        Shown {
            shop: p.shop,
            kind: p.kind_name,
            order: yuan(p.order.as_i64()),
            discount: yuan(p.discount.as_i64()),
            pays: yuan(p.pays.as_i64()),
        }
    }
}

/// A redemption's figures in yuan, for the answer after confirming:
/// (order, discount, what is paid).
pub fn settled(r: &quan_store::Redemption) -> (String, String, String) {
    (yuan(r.order.as_i64()), yuan(r.discount.as_i64()), yuan(r.order.as_i64() - r.discount.as_i64()))
}
