//! The words a report shows people: districts', industries' and scales'
//! names (通用 and 未定位 for what has none), and how each figure is attributed.

use std::collections::HashMap;
use std::sync::LazyLock;

use quan_domain::industry::Industry;
use quan_domain::merchant::Scale;

/// How each figure of a row is attributed, said in every report (JSON, CSV
/// and XLSX): issuance and redemption are attributed differently.
pub const ATTRIBUTION: [&str; 4] = [
    "发券数、发券面值、抢券用户数：行业按券种适用范围（仅限一个行业的券计入该行业，跨行业通用的券计入“通用”）；区县按居民领券时所在位置（领券时未提供位置的计入“未定位”）；商户规模不适用。",
    "核销、订单、配套优惠、退款、参与商户：按核销商户的行业、所在区县和规模。",
    "核销率 = (核销张数 − 全额退款退回的张数) ÷ 发券数；行业、区县行的核销按商户归属，发券按上一条归属，二者口径不同时仅供参考。",
    "拉动比 = 净订单金额 ÷ 净核销金额。",
];

/// GB/T 2260 names of counties (current and retired), for the reports.
static DISTRICT_NAMES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    [
        include_str!("../../../../data/regions/divisions/areas.csv"),
        include_str!("../../../../data/regions/divisions/retired.csv"),
    ]
    .iter()
    .flat_map(|f| f.lines().skip(1))
    .filter_map(|l| {
        let mut cols = l.split(',');
        let code = cols.next()?.trim().trim_matches('"').to_owned();
        let name = cols.next()?.trim().trim_matches('"').to_owned();
        Some((code, name))
    })
    .collect()
});

pub fn district_name(code: &str) -> String {
    if code == "unknown" {
        return "未定位".into();
    }
    DISTRICT_NAMES.get(code).cloned().unwrap_or_else(|| code.to_owned())
}

pub fn industry_name(code: &str) -> String {
    if code == "general" {
        return "通用".into();
    }
    const ZH: [&str; 9] = ["餐饮", "零售", "住宿", "文旅", "家电", "汽车", "百货", "娱乐", "其他"];
    Industry::ALL
        .iter()
        .zip(ZH)
        .find(|(i, _)| i.as_str() == code)
        .map_or_else(|| code.to_owned(), |(_, z)| z.to_owned())
}

pub fn scale_name(code: &str) -> String {
    match Scale::parse(code) {
        Some(Scale::Large) => "大型".into(),
        Some(Scale::Medium) => "中型".into(),
        Some(Scale::Small) => "小型".into(),
        Some(Scale::Micro) => "微型".into(),
        None => code.to_owned(),
    }
}
