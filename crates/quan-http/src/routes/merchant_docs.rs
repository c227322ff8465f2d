//! How the merchant bodies look in the OpenAPI document: mirrors of the
//! domain's types (which carry no OpenAPI derive), field for field, so a
//! client knows every field, enum and required part the server checks.
#![allow(dead_code)]

use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndustryDoc {
    Catering,
    Retail,
    Lodging,
    CultureTourism,
    HomeAppliances,
    Cars,
    DepartmentStores,
    Entertainment,
    Other,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScaleDoc {
    Large,
    Medium,
    Small,
    Micro,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewActionDoc {
    Approve,
    Reject,
    Suspend,
    Reinstate,
}

/// WGS-84 or GCJ-02 degrees, inside China.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LatLngDoc {
    #[schema(minimum = 3.0, maximum = 54.0)]
    pub lat: f64,
    #[schema(minimum = 73.0, maximum = 136.0)]
    pub lng: f64,
}

/// The bank account subsidies are paid to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementAccountDoc {
    #[schema(min_length = 1, max_length = 100)]
    pub bank_name: String,
    #[schema(min_length = 1, max_length = 100)]
    pub account_name: String,
    /// 8–32 digits.
    #[schema(pattern = "^[0-9]{8,32}$")]
    pub account_number: String,
}

/// What a merchant submits to join.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantApplicationDoc {
    #[schema(min_length = 1, max_length = 100)]
    pub legal_name: String,
    /// The 18-character unified social credit code (GB 32100, with its check character).
    #[schema(pattern = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")]
    pub credit_code: String,
    pub industry: IndustryDoc,
    pub scale: ScaleDoc,
    #[schema(min_length = 1, max_length = 200)]
    pub address: String,
    /// The GB/T 2260 code of the address.
    #[schema(
        pattern = "^(11|12|13|14|15|21|22|23|31|32|33|34|35|36|37|41|42|43|44|45|46|50|51|52|53|54|61|62|63|64|65|71|81|82)[0-9]{4}$"
    )]
    pub address_district: String,
    pub location: Option<LatLngDoc>,
    #[schema(min_length = 1, max_length = 50)]
    pub contact_name: String,
    /// A mainland mobile number.
    #[schema(pattern = "^(\\+?86)?1[3-9][0-9]{9}$")]
    pub contact_phone: String,
    pub settlement_account: SettlementAccountDoc,
}

/// The owner's login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerAccountDoc {
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{2,31}$")]
    pub username: String,
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    #[schema(min_length = 1, max_length = 50)]
    pub display_name: String,
}
