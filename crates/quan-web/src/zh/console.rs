//! The console for officials, operators and auditors: what its handlers say
//! (the pages' own text is in `templates/console/`).

pub const TITLE: &str = "管理控制台";
pub const NO_CAMPAIGN: &str = "没有这个活动";
pub const FUND_AMOUNT: &str = "请输入到账金额（元）";

/// A campaign's status.
pub fn status(s: quan_domain::campaign::CampaignStatus) -> &'static str {
    use quan_domain::campaign::CampaignStatus;
    match s {
        CampaignStatus::Draft => "草稿",
        CampaignStatus::Funded => "已到账",
        CampaignStatus::Running => "进行中",
        CampaignStatus::Closing => "结束中",
        CampaignStatus::Closed => "已结束",
    }
}

/// A form field's name, for an error shown beside it.
pub fn field(path: &str) -> &'static str {
    match path {
        "campaign.name" => "活动名称",
        "target" => "暂停对象",
        "target_id" => "对象编号",
        "reason" => "原因",
        "campaign.region" => "行政区划",
        "campaign.budget_fen" => "预算",
        "campaign.funding_source" => "资金来源",
        "campaign.starts_on" => "开始日期",
        "campaign.ends_on" => "结束日期",
        p if p.contains("opening_at") => "开抢时间",
        p if p.contains("closing_at") => "截止时间",
        p if p.contains("stock") => "数量",
        p if p.contains("discount") => "优惠规则",
        p if p.contains("validity") => "有效期",
        p if p.contains("code") => "券种代码",
        _ => "活动",
    }
}

pub const USERNAME: &str = "用户名：3–64 位小写字母、数字、点、横线或下划线";
pub const ROLE: &str = "请选择角色";
pub const REGION: &str = "行政区划：2、4 或 6 位数字";
pub const NO_ACCOUNT: &str = "没有这个账号";

/// A staff role's Chinese name.
pub fn role(r: quan_domain::Role) -> &'static str {
    use quan_domain::Role;
    match r {
        Role::Official => "官员",
        Role::Operator => "运营",
        Role::Auditor => "审计",
        Role::Partner => "合作机构",
        Role::MerchantOwner => "商户",
        Role::Cashier => "收银员",
        Role::Resident => "居民",
    }
}

pub const NO_MERCHANT: &str = "没有这个商户";
pub const NO_BATCH: &str = "没有这个批次";
pub const PAUSE_TARGET_UNKNOWN: &str = "没有找到这个对象，或它不在您的辖区";
pub const ACTION: &str = "请选择审核操作";

/// A merchant's scale.
pub fn scale(s: quan_domain::merchant::Scale) -> &'static str {
    use quan_domain::merchant::Scale;
    match s {
        Scale::Large => "大型",
        Scale::Medium => "中型",
        Scale::Small => "小型",
        Scale::Micro => "微型",
    }
}

/// A review decision.
pub fn action(a: quan_domain::merchant::ReviewAction) -> &'static str {
    use quan_domain::merchant::ReviewAction;
    match a {
        ReviewAction::Approve => "通过",
        ReviewAction::Reject => "驳回",
        ReviewAction::Suspend => "暂停",
        ReviewAction::Reinstate => "恢复",
    }
}

/// A review decision by its form value.
pub fn action_named(a: &str) -> &'static str {
    match a {
        "approve" => "通过",
        "reject" => "驳回",
        "suspend" => "暂停",
        _ => "恢复",
    }
}

pub const REPORT_DAY: &str = "请选择业务日（YYYY-MM-DD）";
pub const ALL_BATCHES: &str = "全部批次";

/// A map's figure: its title and unit.
pub fn map_metric(metric: &str) -> (&'static str, &'static str) {
    match metric {
        "order" => ("各区县拉动消费（净订单金额）", "元"),
        "leverage" => ("各区县拉动比", "倍"),
        "rate" => ("各区县核销率", "%"),
        _ => ("各区县核销金额（净补贴）", "元"),
    }
}

pub const SAME_ACCOUNT: &str = "同一结算账号";
pub const SAME_PHONE: &str = "同一联系电话";
pub const SAME_ADDRESS: &str = "同一地址";
pub const ADD_STOCK: &str = "追加数量应为正整数";
pub const CLOSING_AT: &str = "请填写新的截止时间";
pub const NOTHING_TO_AMEND: &str = "请填写追加库存或新的截止时间";
pub const CRS: &str = "请选择坐标系";
pub const GEOJSON_FILE: &str = "请选择 GeoJSON 文件（UTF-8）";
pub const LIST_FILE: &str = "名单文件应为 UTF-8 文本，每行一个";

/// What a list import did.
pub fn list_imported(rows: usize, added: u64, duplicates: u64, invalid: usize) -> String {
    format!("共 {rows} 行：新增 {added} 人，重复 {duplicates} 行，无效 {invalid} 行")
}
pub const CSV_FILE: &str = "请选择 UTF-8 的 CSV 文件";
pub const AMOUNT: &str = "金额";
pub const DISCOUNT: &str = "优惠";

/// A settlement line's status.
pub fn settlement_status(s: &str) -> &'static str {
    match s {
        "paid" => "已付款（待银行确认）",
        "held" => "暂扣",
        "recovered" => "已抵扣",
        "confirmed" => "银行已确认",
        "mismatch" => "金额不符",
        _ => "其他",
    }
}

pub fn unreadable(line: usize, message: &str) -> String {
    format!("第 {line} 行无法读取：{message}")
}

pub fn paid_differs(id: &str, instructed: &str, paid: &str) -> String {
    format!("结算 {id}：应付 ¥{instructed}，银行实付 ¥{paid}，金额不符")
}

pub fn unknown_settlement(id: &str) -> String {
    format!("结算 {id}：没有这笔结算（或不在您的辖区）")
}

pub fn not_awaiting(id: &str, status: &str) -> String {
    format!("结算 {id}：当前状态为“{status}”，不在待确认中")
}

pub fn confirmation_summary(lines: usize, matched: usize, problems: usize) -> String {
    format!("共 {lines} 行：确认 {matched} 笔，问题 {problems} 处")
}

pub fn not_in_quan(line: usize, order: &str) -> String {
    format!("第 {line} 行订单 {order}：账单有、平台无此核销")
}

pub fn not_in_bill(order: &str) -> String {
    format!("订单 {order}：平台有核销、账单缺失")
}

pub fn differs(line: usize, order: &str, what: &str, bill: &str, quan: &str) -> String {
    format!("第 {line} 行订单 {order}：{what}不符（账单 ¥{bill}，平台 ¥{quan}）")
}

pub fn ambiguous(line: usize, order: &str, n: usize) -> String {
    format!("第 {line} 行订单 {order}：平台有 {n} 笔同号核销，无法对应")
}

pub fn bill_summary(lines: usize, matched: usize, problems: usize) -> String {
    format!("共 {lines} 行：相符 {matched} 行，差异 {problems} 处")
}

/// A ledger account's kind.
pub fn account(kind: &str) -> &'static str {
    match kind {
        "treasury" => "国库",
        "available" => "可用",
        "reserved" => "已预留",
        "payable" => "应付商户",
        "paid" => "已付商户",
        "returned" => "已退回国库",
        "held" => "暂缓",
        "recoverable" => "应追回",
        "matching_source" => "配套资金来源",
        "platform_matching" => "平台配套",
        "merchant_matching" => "商户让利",
        _ => "其他账户",
    }
}

/// Why money moved.
pub fn reason(r: &str) -> &'static str {
    match r {
        "funding" => "资金到账",
        "claim_reservation" => "领券预留",
        "expiry_release" => "过期释放",
        "redemption" => "核销",
        "refund" => "退款",
        "settlement" => "结算",
        "close_out" => "结项退回",
        "reversal" => "冲正",
        "matching" => "配套优惠",
        _ => "其他",
    }
}

/// What a risk case is about.
pub fn case_kind(k: &str) -> &'static str {
    match k {
        "ring" => "团伙",
        "merchant" => "商户",
        "resident" => "居民",
        "product" => "商品",
        _ => "其他",
    }
}

/// The finding that opened a risk case.
pub fn case_source(s: &str) -> &'static str {
    match s {
        "graph_ring" => "疑似套现团伙",
        "threshold_hugging" => "门槛凑单",
        "hoarding" => "疑似囤券",
        "price_raise" => "先涨价后补贴",
        "quick_refund" => "核销后快速退款",
        "manual" => "人工立案",
        _ => "其他",
    }
}

/// A risk case's state, with its outcome once closed.
pub fn case_status(status: &str, outcome: Option<&str>) -> &'static str {
    match (status, outcome) {
        ("open", _) => "处理中",
        (_, Some("fraud_confirmed")) => "已结案：确认违规",
        (_, Some("false_alarm")) => "已结案：误报",
        _ => "已结案",
    }
}

/// An action recorded on a risk case.
pub fn case_action(a: &str) -> &'static str {
    match a {
        "opened" => "立案",
        "found_again" => "再次发现",
        "hold_settlement" => "暂停结算",
        "release_settlement" => "恢复结算",
        "suspend_merchants" => "暂停商户",
        "freeze_vouchers" => "冻结居民未用券",
        "release_vouchers" => "解冻消费券",
        "note" => "备注",
        "closed" => "结案",
        _ => "其他",
    }
}
