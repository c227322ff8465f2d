//! The shop's pages: what their handlers say (the pages' own text is in
//! `templates/shop/`).

pub const TITLE: &str = "商户管理";
pub const CREDIT_OK: &str = "统一社会信用代码校验通过";
pub const CREDIT_LENGTH: &str = "统一社会信用代码是 18 位";
pub const CREDIT_CHARACTER: &str = "含有不允许的字符（不能有 I、O、Z、S、V）";
pub const CREDIT_CHECK: &str = "校验位不对，请核对";
pub const LOCATION: &str = "位置：请同时填写纬度和经度（数字），或点“使用我的位置”";
pub const CROSS_SITE: &str = "请从本站页面提交";
pub const INDUSTRY: &str = "请选择行业";
pub const SCALE: &str = "请选择规模";
pub const PICK_TILL: &str = "请选择收银台";
pub const BAD_TILL: &str = "收银台不对";
pub const NO_CASHIER: &str = "没有这个收银员";
pub const PRICE: &str = "价格（元，最多两位小数）";
pub const FROM: &str = "开始日期";
pub const TO: &str = "结束日期";
pub const STANDING: &str = "有效";
pub const REVERSED: &str = "已全额退款";
pub const CSV_HEADER: &str = "核销时间（北京时间）,营业日,收银台,券种,订单金额,优惠金额,补贴金额,已退款,状态";

pub fn bad_date(what: &str) -> String {
    format!("{what}：请用 2026-12-05 这样的日期")
}

pub fn applied(id: &str, username: &str) -> String {
    format!("申请已提交（编号 {id}），审核结果请用账号 {username} 登录查看")
}

/// A merchant's review status.
pub fn status(s: quan_domain::merchant::MerchantStatus) -> &'static str {
    use quan_domain::merchant::MerchantStatus;
    match s {
        MerchantStatus::Pending => "审核中",
        MerchantStatus::Approved => "已通过，可受理消费券",
        MerchantStatus::Rejected => "未通过",
        MerchantStatus::Suspended => "已暂停",
    }
}

/// A settlement line's status.
pub fn settlement(s: &str) -> &'static str {
    match s {
        "paid" => "已发起付款",
        "held" => "暂缓支付",
        "recovered" => "已抵扣应退款",
        "confirmed" => "银行已确认到账",
        "mismatch" => "银行回执不符，核查中",
        _ => "处理中",
    }
}
