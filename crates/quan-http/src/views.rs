//! The JSON shapes of the API (what clients send and get back).

use chrono::{DateTime, Utc};
use quan_domain::Role;
use quan_engine::Actor;
use quan_store::{Resident, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The role of an account.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleView {
    Official,
    Auditor,
    Operator,
    MerchantOwner,
    Cashier,
    Resident,
    Partner,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> RoleView {
        match r {
            Role::Official => RoleView::Official,
            Role::Auditor => RoleView::Auditor,
            Role::Operator => RoleView::Operator,
            Role::MerchantOwner => RoleView::MerchantOwner,
            Role::Cashier => RoleView::Cashier,
            Role::Resident => RoleView::Resident,
            Role::Partner => RoleView::Partner,
        }
    }
}

impl From<RoleView> for Role {
    fn from(r: RoleView) -> Role {
        match r {
            RoleView::Official => Role::Official,
            RoleView::Auditor => Role::Auditor,
            RoleView::Operator => Role::Operator,
            RoleView::MerchantOwner => Role::MerchantOwner,
            RoleView::Cashier => Role::Cashier,
            RoleView::Resident => Role::Resident,
            RoleView::Partner => Role::Partner,
        }
    }
}

/// A staff, merchant or partner account. The password hash is never sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub role: RoleView,
    /// GB/T 2260 prefix this account is confined to.
    pub region: String,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    /// For merchant owners and cashiers.
    pub merchant_id: Option<Uuid>,
    /// For cashiers.
    pub till_id: Option<Uuid>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.as_uuid(),
            username: u.username.to_string(),
            role: u.role.into(),
            region: u.region.to_string(),
            display_name: u.display_name.clone(),
            disabled: u.disabled,
            created_at: u.created_at,
            created_by: u.created_by.map(|c| c.as_uuid()),
            merchant_id: u.merchant.map(|m| m.as_uuid()),
            till_id: u.till.map(|t| t.as_uuid()),
        }
    }
}

/// A resident as the resident sees themself: the phone number is masked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResidentView {
    pub id: Uuid,
    /// e.g. `138****5678`.
    pub phone_masked: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Resident> for ResidentView {
    fn from(r: &Resident) -> ResidentView {
        ResidentView { id: r.id.as_uuid(), phone_masked: r.phone_masked.clone(), created_at: r.created_at }
    }
}

/// Who is logged in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeView {
    Staff(UserView),
    Resident(ResidentView),
}

impl From<&Actor> for MeView {
    fn from(a: &Actor) -> MeView {
        match a {
            Actor::Staff { user, .. } => MeView::Staff(user.into()),
            Actor::Resident { resident, .. } => MeView::Resident(resident.into()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A new session. The token is shown only here; send it as
/// `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    pub account: MeView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsCodeRequest {
    /// A mainland mobile number, e.g. `13812345678`.
    pub phone: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SmsCodeSent {
    pub expires_at: DateTime<Utc>,
    /// Seconds before another code may be requested for this number.
    pub resend_after_s: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsCodeVerify {
    pub phone: String,
    /// The 6 digits from the SMS.
    pub code: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub role: RoleView,
    /// GB/T 2260 prefix inside the creator's own region.
    pub region: String,
    pub display_name: String,
    /// Omit to have quan generate one (returned once in the answer).
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    /// Present only when quan generated the password; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// A list's page size: 1 to [`quan_engine::LIST_LEN_MAX`] (default 100); any
/// other is a 400 `limit_out_of_range`, never silently changed.
pub fn page_limit(limit: Option<u32>) -> Result<u32, crate::ApiError> {
    let max = quan_engine::LIST_LEN_MAX;
    match limit {
        None => Ok(100),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => {
            Err(crate::ApiError::bad_request("limit_out_of_range", format!("limit must be 1 to {max}, not {n}"))
                .on_field("limit"))
        }
    }
}

/// A list's search text, at most [`quan_engine::SEARCH_CHARS_MAX`]
/// characters (a longer one is a 400 `search_too_long`).
pub fn search(q: Option<&str>) -> Result<Option<&str>, crate::ApiError> {
    let max = quan_engine::SEARCH_CHARS_MAX;
    match q {
        Some(t) if t.chars().count() > max => {
            Err(crate::ApiError::bad_request("search_too_long", format!("q has at most {max} characters"))
                .on_field("q"))
        }
        q => Ok(q),
    }
}
