//! The resident's H5: what its handlers say (the pages' own text is in
//! `templates/h5/`).

pub const PHONE: &str = "请输入 11 位手机号";
pub const OTP_FORMAT: &str = "验证码是 6 位数字";
pub const NO_BATCH: &str = "没有这个批次";
pub const NO_VOUCHER: &str = "没有这张券";
pub const POSITION_NUMBER: &str = "位置不是数字，请重新获取位置";
pub const NO_PARTNER: &str = "没有找到该机构，或它已暂停服务";
pub const UNBOUND: &str = "已解除授权，该机构不能再使用您的券";
pub const REGISTERED: &str = "报名成功，开奖后请回来查看结果";
pub const WON: &str = "已中签，券已发到“我的券”";
pub const LOST: &str = "未中签";
pub const NEAR_BORDER: &str = "您在区域边界附近";
pub const OUTSIDE: &str = "您不在任何活动区域内";
pub const TILL_CODE: &str = "请扫描或输入收款码";
pub const PICK_VOUCHER: &str = "请选择一张券";
pub const USABLE: &str = "可使用";
pub const USED: &str = "已使用";
pub const EXPIRED: &str = "已过期";
pub const FROZEN: &str = "已冻结";

/// Why a voucher is frozen, as its page explains it.
pub fn frozen_why(why: quan_domain::redemption::FreezeReason) -> &'static str {
    match why {
        quan_domain::redemption::FreezeReason::IdentityConflict => {
            "领取时登记的身份证号已由本人完成实名核验，经工作人员处理后此券冻结，不能使用。如有异议，请在“投诉”中提出。"
        }
        quan_domain::redemption::FreezeReason::RiskCase => {
            "此券因风险核查暂时冻结，核查结束后将解冻或另行告知。如有异议，请在“投诉”中提出。"
        }
    }
}
pub const REDEEMED: &str = "已核销";
pub const REFUNDED: &str = "已退款";
pub const EVERY_SHOP: &str = "所有参与商户";

pub fn code_sent(wait_s: i64) -> String {
    format!("验证码已发送，{wait_s} 秒后可重新获取")
}

pub fn inside(district: &str) -> String {
    format!("您在 {district} 区域内")
}

pub fn identity_recorded(masked: &str) -> String {
    format!("已登记身份证号 {masked}")
}

pub fn real_name_checked(masked: &str) -> String {
    format!("实名核验通过：{masked}。现在可以领取了")
}

pub fn paid(order: &str, discount: &str, pays: &str) -> String {
    format!("支付成功：订单 ¥{order}，优惠 ¥{discount}，实付 ¥{pays}")
}

pub fn threshold(min: &str, off: &str) -> String {
    format!("满{min}元减{off}元")
}

pub fn instant(off: &str) -> String {
    format!("立减{off}元")
}

pub fn percent(min: Option<&str>, pct: &str, cap: &str) -> String {
    let min = min.map(|m| format!("满{m}元 ")).unwrap_or_default();
    format!("{min}优惠{pct}%，最高{cap}元")
}

pub fn valid_between(from: &str, until: &str) -> String {
    format!("{from} 至 {until} 可用")
}

pub fn valid_days(days: u16) -> String {
    format!("领取后 {days} 天内可用")
}

pub fn metres(m: i64) -> String {
    format!("{m} 米")
}

pub fn kilometres(km: &str) -> String {
    format!("{km} 公里")
}
