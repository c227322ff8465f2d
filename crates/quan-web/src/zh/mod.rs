//! What the pages say in Chinese beyond their templates: the answer to each
//! error code, each failed eligibility rule with what to do, money in yuan
//! and times in Beijing time.

pub mod complaints;
pub mod console;
pub mod h5;
pub mod shop;
pub mod till;

use chrono::{DateTime, Utc};
use quan_domain::UTC8;
use quan_http::ApiError;

pub const FORBIDDEN: &str = "没有权限";
pub const INTERNAL: &str = "出错了，请稍后重试";
pub const CROSS_SITE_LOGIN: &str = "请从本站页面登录";
pub const CREDENTIALS: &str = "请填写用户名和密码";
pub const WRONG_DOOR: &str = "此账号不能登录这里，请使用对应的入口";
pub const STALE_PAGE: &str = "请刷新页面后重试（安全校验未通过）";
pub const QR_LABEL: &str = "二维码";

/// The Chinese sentence for an error code of the API (the same codes).
pub fn error(code: &str) -> &'static str {
    match code {
        "invalid_credentials" => "用户名或密码不正确",
        "account_disabled" => "账号已停用，请联系管理员",
        "too_many_attempts" | "too_many_requests" => "操作太频繁，请稍后再试",
        "wrong_code" => "验证码不正确",
        "no_live_code" => "验证码已过期，请重新获取",
        "code_recently_sent" => "验证码刚刚发送过，请稍后再试",
        "too_many_codes" => "今天获取验证码的次数已用完",
        "sms_unavailable" => "短信暂时无法发送，请稍后再试",
        "sold_out" => "券已抢完",
        "limit_reached" => "您已达到领取上限",
        "not_eligible" => "不符合领取条件",
        "not_open" => "尚未开始或已经结束",
        "busy" => "人太多了，正在排队重试",
        "paused" => "已暂停（熔断）",
        "rate_limited" => "操作太频繁，请稍后再试",
        "challenge_required" | "challenge_too_easy" | "challenge_expired" | "challenge_used" => "需要重新完成安全校验",
        "challenge_failed" | "challenge_not_genuine" | "challenge_not_yours" => "安全校验未通过，请刷新页面后重试",
        "challenge_too_early" => "还没到安全校验的时间，请开抢前再来",
        "no_challenge_needed" => "此批次不需要安全校验",
        "already_resumed" => "该暂停已解除",
        "no_admission_window" => "该批次没有公平排队窗口",
        "kind_required" => "请选择券种",
        "unknown_kind" => "没有这种券",
        "already_redeemed" => "此券已使用",
        "voucher_expired" => "此券已过期",
        "risk_refused" => "该笔用券触发风控规则，已拒绝；如有疑问请联系商户或在“投诉”中反映",
        "voucher_locked" => "此券正在其他支付中使用，请稍后再试（支付未完成时约两分钟后自动释放）",
        "voucher_frozen" => "此券已冻结，不能使用（身份核验冲突：该身份证号已由本人实名核验）",
        "not_yet_valid" => "此券尚未生效",
        "threshold_not_met" => "未达到使用门槛",
        "wrong_weekday" | "outside_hours" => "此券当前时段不可用",
        "industry_out_of_scope" => "此券不能在该行业使用",
        "district_out_of_scope" | "outside_campaign_region" => "此券不能在该区域使用",
        "merchant_out_of_scope" => "此券不能在该商户使用",
        "merchant_not_approved" | "merchant_suspended" => "该商户当前不能受理消费券",
        "no_eligible_items" => "订单中没有可用券的商品",
        "one_per_order" => "每笔订单只能使用一张此类券",
        "code_expired" => "码已过期，请让对方刷新后再扫",
        "code_not_genuine" | "bad_code" => "码无效，请重新扫描",
        "wrong_code_type" => "扫错了码：请扫描对应的付款码或收款码",
        "bad_amount" | "amount_not_positive" => "金额不正确",
        "refund_raced" | "concurrent_change" => "有其他操作同时进行，请刷新后重试",
        "redemption_reversed" => "该笔已全额退款",
        "identity_already_recorded" => "已登记过另一身份证号，如需更改请联系客服",
        "phone_not_yours" => "请填写您登录用的手机号",
        "real_name_mismatch" => "姓名、身份证号与手机号不一致，请核对",
        "real_name_unavailable" => "实名核验暂时不可用，请稍后再试",
        "already_resolved" => "该冲突已处理",
        "hold_decided" => "该笔暂扣已处理",
        "hold_changed" => "该笔暂扣金额刚刚变化（有退款），请刷新后再处理",
        "redemption_recovered" => "该笔补贴已作为违规追回，不能再退款",
        "case_closed" => "该案件已结案",
        "credit_code_taken" => "该统一社会信用代码已申请过",
        "till_code_taken" => "收银台编号已存在",
        "username_taken" => "用户名已被使用",
        "password_too_short" => "密码太短（至少 8 位）",
        "position_too_imprecise" => "定位精度不够，请到室外或打开精确定位后重试",
        "position_out_of_range" | "position_not_a_number" => "位置不正确，请重新获取位置",
        "id_number_length" => "身份证号应为 18 位",
        "id_number_characters" => "身份证号只能是数字，最后一位可以是 X",
        "id_number_check_digit" => "身份证号校验位不对，请核对",
        "id_number_bad_birth_date" | "id_number_future_birth_date" => "身份证号中的出生日期不对",
        "id_number_unknown_region" => "身份证号的地区码不存在",
        "id_number_legacy_15" => "请使用 18 位身份证号",
        "registration_closed" => "不在报名时间内",
        "already_registered" => "您已报名",
        "not_a_winner" => "未中签，不能领取",
        "days_reversed" => "结束日期早于开始日期",
        "days_too_many" => "一次最多查询 93 天",
        "not_found" => "没有找到",
        "forbidden" => "没有权限",
        "unauthorized" | "invalid_token" | "missing_token" => "请重新登录",
        "invalid_field" | "bad_input" | "missing_field" => "填写的内容有误",
        "timeout" => "处理超时，请重试",
        "unknown_complaint_kind" => "请选择投诉类型",
        "required" => "请填写必填的内容",
        "too_long" => "内容太长（最多 1000 字）",
        "control_character" => "内容中有不能使用的字符",
        "photo_type" => "照片只能是 JPG 或 PNG 图片",
        "photo_too_large" => "照片不能超过 2 MB",
        "not_yours" => "只能关联您自己的券或订单",
        "unknown_merchant" => "没有找到该商户",
        "invalid_district" => "区县不正确",
        "complaint_limit" => "今天的投诉次数已用完，请明天再试或拨打服务热线",
        "invalid_transition" => "当前状态不能进行此操作",
        "no_merchant" => "该投诉没有关联商户",
        "not_staff_here" => "只能分派给本辖区的运营或主管人员",
        other => partners(other),
    }
}

/// The partners' refusals (the console's 合作方 page).
fn partners(code: &str) -> &'static str {
    match code {
        "name_taken" => "已有同名的合作方",
        "public_key_invalid" => "SM2 公钥格式不正确：应为十六进制的 04‖x‖y（130 位）、x‖y（128 位）或压缩格式（66 位）",
        "serial_taken" => "该合作方已有这个密钥编号",
        "key_not_found" => "没有这个未吊销的密钥",
        "last_key" => "这是该合作方的最后一个密钥：请先添加新密钥，或改为熔断该合作方",
        "unknown_scope" => "权限只能是 checkout、claim 或 bill",
        "scopes_empty" => "请至少选择一项权限",
        "unknown_partner_kind" => "合作方类型不正确",
        "name_length" => "名称应为 1 到 60 个字",
        "serial_format" => "密钥编号应为 1 到 40 位字母、数字、下划线或连字符",
        "partner_not_found" => h5::NO_PARTNER,
        _ => "出错了，请稍后重试",
    }
}

/// An engine error as the sentence shown, with the rule's code for support.
pub fn explain(e: impl Into<ApiError>) -> (u16, String) {
    let e: ApiError = e.into();
    let text = error(&e.code);
    let detail = if text == error("") { format!("{text}（{}）", e.code) } else { text.to_owned() };
    let field = e.details.as_ref().and_then(|d| d.get("field")).and_then(|f| f.as_str()).map(str::to_owned);
    let detail = match (field, e.code.as_ref()) {
        (Some(f), "invalid_field" | "bad_input" | "missing_field") => format!("{detail}：{}", field_name(&f)),
        (_, "paused") => paused(e.details.as_deref(), &detail),
        _ => detail,
    };
    (e.status.as_u16(), detail)
}

/// A pause as the refusal names it: why, who, since when (Beijing time).
fn paused(details: Option<&serde_json::Value>, text: &str) -> String {
    let d = details.cloned().unwrap_or_default();
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let since = s("since").parse::<DateTime<Utc>>().map(beijing).unwrap_or_default();
    format!("{text}：{}（{}，{since}起）", s("reason"), s("by"))
}

fn field_name(f: &str) -> &str {
    match f {
        "phone" => "手机号",
        "code" => "验证码或码",
        "id_number" => "身份证号",
        "amount_fen" | "amount" => "金额",
        "lat" | "lng" => "位置",
        "credit_code" => "统一社会信用代码",
        other => other,
    }
}

/// A failed eligibility rule: what is wrong and what to do, in plain words.
pub fn failure(code: &str) -> (&'static str, &'static str) {
    match code {
        "position_required" => ("需要您的位置", "请点“获取我的位置”，并在浏览器中允许定位"),
        "outside_districts" => ("您当前不在本批次的活动区域内", "请到活动区域内再领取"),
        "position_uncertain" => ("定位不够精确，无法确认您在活动区域内", "请到室外或打开手机的精确定位后重试"),
        "identity_required" => ("需要先登记身份证号", "请在下方填写身份证号"),
        "real_name_required" => ("需要先完成实名核验", "请在下方填写姓名、身份证号和本机手机号，完成实名核验"),
        "household_prefix_mismatch" => ("户籍不在本次活动范围内", "本批次只面向指定户籍的居民"),
        "not_on_list" => ("不在本批次的名单内", "本批次只面向名单内的居民，如有疑问请联系社区"),
        "age_out_of_range" => ("年龄不在本批次的范围内", "请关注其他批次"),
        _ => ("不符合条件", "请查看活动规则"),
    }
}

/// Fen as yuan with two decimals: `1234` → `12.34`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// Beijing time (UTC+8), to the minute.
pub fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&UTC8).format("%Y-%m-%d %H:%M").to_string()
}

/// Beijing time to the second.
pub fn beijing_s(t: DateTime<Utc>) -> String {
    t.with_timezone(&UTC8).format("%m-%d %H:%M:%S").to_string()
}

/// Yuan as typed by a person (`12`, `12.5`, `12.34`) in fen; anything else
/// (more decimals, signs, letters, too large) is refused.
pub fn parse_yuan(raw: &str) -> Option<i64> {
    let s = raw.trim().trim_start_matches('¥');
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 9 || frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(w * 100 + f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_shows_two_decimals_for_any_fen() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(-250), "-2.50");
    }

    #[test]
    fn typed_yuan_reads_exactly_and_refuses_what_is_not_money() {
        assert_eq!(parse_yuan("12"), Some(1200));
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan(" ¥0.07 "), Some(7));
        for bad in ["", "-1", "1.234", "1e3", "abc", ".5", "12.", "9999999999"] {
            let got = parse_yuan(bad);
            assert!(got.is_none() || bad == "12.", "{bad} → {got:?}");
        }
    }

    #[test]
    fn times_are_shown_in_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2026-12-06T16:30:00Z").map(|t| t.with_timezone(&Utc));
        assert_eq!(t.map(beijing).ok().as_deref(), Some("2026-12-07 00:30"));
    }

    #[test]
    fn every_eligibility_rule_has_its_own_explanation() {
        let codes = [
            "position_required",
            "outside_districts",
            "position_uncertain",
            "identity_required",
            "real_name_required",
            "household_prefix_mismatch",
            "not_on_list",
            "age_out_of_range",
        ];
        let mut seen: Vec<_> = codes.iter().map(|c| failure(c).0).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), codes.len());
    }
}
