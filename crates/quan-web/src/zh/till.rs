//! The till: what its handlers say (the page's own text is in `templates/till/`).

pub const TITLE: &str = "收银台";
pub const NO_TILL: &str = "此账号没有收银台";
pub const VOUCHER_CODE: &str = "请扫描或输入券码";
pub const ORDER_AMOUNT: &str = "请输入订单金额（元，最多两位小数）";
pub const REFUND_AMOUNT: &str = "请输入退款金额（元）";
pub const NO_REDEMPTION: &str = "没有这笔记录";
pub const SCANNED_VOUCHER: &str = "扫券";
pub const SCANNED_TILL: &str = "顾客扫码";

pub fn redeemed(order: &str, discount: &str, due: &str) -> String {
    format!("核销成功：订单 ¥{order}，优惠 ¥{discount}，应收 ¥{due}")
}

pub fn refunded(now: &str, total: &str) -> String {
    format!("已退款 ¥{now}，累计退款 ¥{total}")
}
