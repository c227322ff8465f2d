//! A merchant's contact phone in full, for the staff who need to call the
//! shop. Everywhere else it is masked; quan keeps it sealed, not in clear.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(contact_phone))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactPhoneView {
    pub phone: String,
}

/// The merchant's contact phone in full (each reading is logged, with who
/// read it). Roles: operator, official (of the merchant's region).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/contact-phone", tag = "merchants", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses((status = 200, body = ContactPhoneView)))]
async fn contact_phone(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactPhoneView>> {
    let id: quan_domain::MerchantId = id.parse().map_err(|_| ApiError::not_found())?;
    let phone = state.engine.merchant_contact_phone(&auth.0, id).await?;
    Ok(Json(ContactPhoneView { phone }))
}
