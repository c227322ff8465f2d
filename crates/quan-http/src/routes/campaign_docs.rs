//! How the campaign, batch and catalogue bodies look in the OpenAPI
//! document: mirrors of the domain's types (which carry no OpenAPI derive),
//! field for field, with their enums, defaults and required parts, so a
//! client (and a fuzzer) sends what the server parses. Rules JSON Schema
//! cannot say (a batch opens in the future, fits the budget) are answered
//! 422 with the rule's name.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::routes::merchant_docs::IndustryDoc;

/// A campaign file (`examples/*.toml` as JSON).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignFileDoc {
    pub campaign: CampaignSpecDoc,
    #[serde(default)]
    pub batches: Vec<BatchSpecDoc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpecDoc {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// GB/T 2260 prefix the campaign serves: `4205` for all of Yichang.
    #[schema(
        pattern = "^(11|12|13|14|15|21|22|23|31|32|33|34|35|36|37|41|42|43|44|45|46|50|51|52|53|54|61|62|63|64|65|71|81|82)([0-9]{2}){0,2}$"
    )]
    pub region: String,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub budget_fen: i64,
    #[schema(min_length = 1, max_length = 200)]
    pub funding_source: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSpecDoc {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub opening_at: DateTime<Utc>,
    pub closing_at: DateTime<Utc>,
    #[schema(min_items = 1, max_items = 20)]
    pub kinds: Vec<BatchKindDoc>,
    #[serde(default)]
    pub eligibility: EligibilityRuleDoc,
    #[serde(default)]
    pub limits: LimitsDoc,
    #[serde(default)]
    pub mode: BatchModeDoc,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchKindDoc {
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub stock: u32,
    pub kind: VoucherKindDoc,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoucherKindDoc {
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub discount: DiscountDoc,
    #[serde(default)]
    pub scope: ScopeDoc,
    pub validity: ValidityDoc,
    /// ISO weekdays (1 = Monday … 7 = Sunday); empty: every day.
    #[serde(default)]
    pub weekdays: Vec<WeekdayDoc>,
    #[serde(default)]
    pub hours: Option<HourWindowDoc>,
    #[serde(default)]
    pub stacking: StackingDoc,
    #[serde(default)]
    pub rollover: bool,
}

/// 1–7.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(value_type = u8, minimum = 1, maximum = 7)]
pub struct WeekdayDoc(pub u8);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DiscountDoc {
    /// 满减.
    Threshold {
        #[schema(minimum = 1)]
        min_order_fen: i64,
        #[schema(minimum = 1)]
        off_fen: i64,
    },
    /// 立减.
    Instant {
        #[schema(minimum = 1)]
        off_fen: i64,
    },
    /// 折扣 with a cap (trade-in).
    Percent {
        #[schema(minimum = 1, maximum = 10_000)]
        percent_bp: u32,
        #[schema(minimum = 1)]
        cap_fen: i64,
        #[serde(default)]
        #[schema(minimum = 0)]
        min_order_fen: i64,
    },
    /// A pack of threshold vouchers claimed together.
    Tiers {
        #[schema(min_items = 1, max_items = 10)]
        tiers: Vec<TierDoc>,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierDoc {
    #[schema(minimum = 1)]
    pub min_order_fen: i64,
    #[schema(minimum = 1)]
    pub off_fen: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeDoc {
    #[serde(default)]
    pub industries: Vec<IndustryDoc>,
    #[serde(default)]
    #[schema(value_type = Vec<String>, pattern = "^(11|12|13|14|15|21|22|23|31|32|33|34|35|36|37|41|42|43|44|45|46|50|51|52|53|54|61|62|63|64|65|71|81|82)[0-9]{4}$")]
    pub districts: Vec<String>,
    #[serde(default)]
    pub merchants: Vec<Uuid>,
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ValidityDoc {
    Fixed {
        from: NaiveDate,
        until: NaiveDate,
    },
    DaysAfterClaim {
        #[schema(minimum = 0, maximum = 366)]
        days: u16,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HourWindowDoc {
    #[schema(minimum = 0, maximum = 23)]
    pub from: u8,
    #[schema(minimum = 1, maximum = 24)]
    pub until: u8,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StackingDoc {
    #[default]
    OnePerOrder,
    Stackable,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRuleDoc {
    #[serde(default)]
    #[schema(value_type = Vec<String>, pattern = "^(11|12|13|14|15|21|22|23|31|32|33|34|35|36|37|41|42|43|44|45|46|50|51|52|53|54|61|62|63|64|65|71|81|82)[0-9]{4}$")]
    pub gps_districts: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>, pattern = "^(11|12|13|14|15|21|22|23|31|32|33|34|35|36|37|41|42|43|44|45|46|50|51|52|53|54|61|62|63|64|65|71|81|82)([0-9]{2}){0,2}$")]
    pub household_prefixes: Vec<String>,
    #[serde(default)]
    pub lists: Vec<String>,
    #[serde(default)]
    #[schema(maximum = 150)]
    pub age_min: Option<u8>,
    #[serde(default)]
    #[schema(maximum = 150)]
    pub age_max: Option<u8>,
    #[serde(default)]
    pub uncertain_position: UncertainPolicyDoc,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UncertainPolicyDoc {
    Allow,
    #[default]
    Deny,
    Recheck,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsDoc {
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub per_batch: u32,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub per_campaign: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub per_kind: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub per_day: Option<u32>,
    #[serde(default)]
    pub count_by: CountByDoc,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountByDoc {
    Account,
    Person,
    #[default]
    Both,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BatchModeDoc {
    #[default]
    Grab,
    Lottery {
        registration_opens_at: DateTime<Utc>,
        registration_closes_at: DateTime<Utc>,
    },
}

/// Changes to an existing batch (each optional).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAmendmentDoc {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub opening_at: Option<DateTime<Utc>>,
    pub closing_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub add_stock: Vec<StockIncreaseDoc>,
    pub limits: Option<LimitsDoc>,
    pub eligibility: Option<EligibilityRuleDoc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockIncreaseDoc {
    pub kind: String,
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub stock: u32,
}

/// A catalogue item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductSpecDoc {
    #[schema(min_length = 1, max_length = 100)]
    pub brand: String,
    #[schema(min_length = 1, max_length = 100)]
    pub model: String,
    #[schema(min_length = 1, max_length = 64)]
    pub category: String,
    #[schema(max_length = 16)]
    pub energy_class: String,
    #[schema(minimum = 1)]
    pub list_price_fen: i64,
}
