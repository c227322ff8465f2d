//! The standard list of industries a voucher's scope and a merchant refer to.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    /// 餐饮
    Catering,
    /// 零售
    Retail,
    /// 住宿
    Lodging,
    /// 文旅
    CultureTourism,
    /// 家电
    HomeAppliances,
    /// 汽车
    Cars,
    /// 百货
    DepartmentStores,
    /// 娱乐
    Entertainment,
    /// 其他
    Other,
}

impl Industry {
    pub const ALL: [Industry; 9] = [
        Industry::Catering,
        Industry::Retail,
        Industry::Lodging,
        Industry::CultureTourism,
        Industry::HomeAppliances,
        Industry::Cars,
        Industry::DepartmentStores,
        Industry::Entertainment,
        Industry::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Industry::Catering => "catering",
            Industry::Retail => "retail",
            Industry::Lodging => "lodging",
            Industry::CultureTourism => "culture_tourism",
            Industry::HomeAppliances => "home_appliances",
            Industry::Cars => "cars",
            Industry::DepartmentStores => "department_stores",
            Industry::Entertainment => "entertainment",
            Industry::Other => "other",
        }
    }

    /// The Chinese name, as residents and officials read it (`餐饮`).
    pub fn zh(self) -> &'static str {
        match self {
            Industry::Catering => "餐饮",
            Industry::Retail => "零售",
            Industry::Lodging => "住宿",
            Industry::CultureTourism => "文旅",
            Industry::HomeAppliances => "家电",
            Industry::Cars => "汽车",
            Industry::DepartmentStores => "百货",
            Industry::Entertainment => "娱乐",
            Industry::Other => "其他",
        }
    }

    /// Accepts the code (`catering`) or the Chinese name (`餐饮`).
    pub fn parse(s: &str) -> Option<Industry> {
        let s = s.trim();
        Industry::ALL.into_iter().find(|i| i.as_str() == s || i.zh() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_industry_parses_from_its_code_or_its_chinese_name() {
        assert_eq!(Industry::parse("home_appliances"), Some(Industry::HomeAppliances));
        assert_eq!(Industry::parse("餐饮"), Some(Industry::Catering));
        assert_eq!(Industry::parse("bakery"), None);
        for i in Industry::ALL {
            assert_eq!(Industry::parse(i.as_str()), Some(i));
        }
    }
}
