//! Partners managed by staff: an official registers a bank, payment
//! institution or city app with its scopes, mode and first key (an SM2
//! public key, or an HMAC secret shown once), adds and revokes keys, and
//! cuts a partner off (熔断) or lets it back; staff read them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quan_engine::partners::{KeyIssued, NewKey, NewPartner, PartnerView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::redemptions::uuid_path;
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_partner, list_partners))
        .routes(routes!(partner))
        .routes(routes!(add_partner_key))
        .routes(routes!(revoke_partner_key))
        .routes(routes!(suspend_partner))
        .routes(routes!(resume_partner))
}

/// A key to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    /// `sm2` (give `public_key`) or `hmac` (a secret is made and shown once).
    #[schema(pattern = "^(sm2|hmac)$")]
    scheme: String,
    /// SM2 public key in hex: `04‖x‖y` (130 digits), `x‖y` (128) or compressed (66).
    #[serde(default)]
    #[schema(max_length = 200)]
    public_key: Option<String>,
    /// The key's serial number as the partner names it (SM2; derived from the key when absent).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,40}$")]
    serial_no: Option<String>,
}

fn new_key(b: KeyBody) -> Result<NewKey, crate::error::ApiError> {
    match b.scheme.as_str() {
        "hmac" if b.public_key.is_none() => Ok(NewKey::Hmac),
        "hmac" => Err(crate::error::ApiError::invalid_field("public_key", "an HMAC key has no public key")),
        "sm2" => match b.public_key {
            Some(public_key) => Ok(NewKey::Sm2 { public_key, serial_no: b.serial_no }),
            None => Err(crate::error::ApiError::invalid_field("public_key", "an SM2 key needs its public key")),
        },
        _ => Err(crate::error::ApiError::invalid_field("scheme", "`sm2` or `hmac`")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    /// 1 to 60 characters, unique.
    #[schema(min_length = 1, max_length = 60)]
    name: String,
    /// `bank`, `payment`, `city_app` or `mini_program`.
    #[schema(pattern = "^(bank|payment|city_app|mini_program)$")]
    kind: String,
    /// `test` or `live`.
    #[schema(pattern = "^(test|live)$")]
    mode: String,
    /// Any of `checkout`, `claim`, `bill`.
    scopes: Vec<String>,
    key: KeyBody,
}

/// A partner as staff read it (never a secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerDoc {
    id: Uuid,
    name: String,
    kind: String,
    mode: String,
    scopes: Vec<String>,
    /// `active` or `suspended` (cut off).
    status: String,
    status_reason: String,
    status_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
    keys: Vec<KeyDoc>,
    /// Its webhook endpoint, when set: an endpoint disabled by a 410 or by three days of failures
    /// says why here (the partner must set it again).
    webhook: Option<WebhookDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDoc {
    url: String,
    /// `active` or `disabled`.
    status: String,
    status_reason: String,
    updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyDoc {
    serial_no: String,
    /// `sm2` or `hmac`.
    scheme: String,
    public_key: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A key just added: its serial number and, for HMAC, the secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedDoc {
    serial_no: String,
    secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDoc {
    partner: PartnerDoc,
    key: IssuedDoc,
}

impl From<PartnerView> for PartnerDoc {
    fn from(p: PartnerView) -> PartnerDoc {
        PartnerDoc {
            id: p.id,
            name: p.name,
            kind: p.kind.into(),
            mode: p.mode.into(),
            scopes: p.scopes.iter().map(|s| (*s).to_owned()).collect(),
            status: p.status.into(),
            status_reason: p.status_reason,
            status_at: p.status_at,
            created_at: p.created_at,
            keys: p
                .keys
                .into_iter()
                .map(|k| KeyDoc {
                    serial_no: k.serial_no,
                    scheme: k.scheme.into(),
                    public_key: k.public_key,
                    created_at: k.created_at,
                    revoked_at: k.revoked_at,
                })
                .collect(),
            webhook: p.webhook.map(|w| WebhookDoc {
                url: w.url,
                status: w.status,
                status_reason: w.status_reason,
                updated_at: w.updated_at,
            }),
        }
    }
}

impl From<KeyIssued> for IssuedDoc {
    fn from(k: KeyIssued) -> IssuedDoc {
        IssuedDoc { serial_no: k.serial_no, secret: k.secret }
    }
}

/// Registers a partner with its first key; an HMAC secret is in this answer only.
/// Roles: official.
#[utoipa::path(post, path = "/api/v1/partners", tag = "partners", security(("bearer" = [])), request_body = CreateBody,
    responses((status = 201, body = CreatedDoc), (status = 403, body = ErrorBody), (status = 409, description = "`name_taken`", body = ErrorBody),
        (status = 422, description = "`public_key_invalid`, `unknown_scope`, …", body = ErrorBody)))]
async fn create_partner(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<CreatedDoc>)> {
    let req = NewPartner { name: b.name, kind: b.kind, mode: b.mode, scopes: b.scopes, key: new_key(b.key)? };
    let (p, k) = state.engine.create_partner(&auth.0, req).await?;
    Ok((StatusCode::CREATED, Json(CreatedDoc { partner: p.into(), key: k.into() })))
}

/// Every partner, by name. Roles: official, operator, auditor.
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = Vec<PartnerDoc>), (status = 403, body = ErrorBody)))]
async fn list_partners(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<PartnerDoc>>> {
    Ok(Json(state.engine.partners(&auth.0).await?.into_iter().map(Into::into).collect()))
}

/// One partner with its keys. Roles: official, operator, auditor.
#[utoipa::path(get, path = "/api/v1/partners/{id}", tag = "partners", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PartnerDoc), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn partner(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<PartnerDoc>> {
    Ok(Json(state.engine.partner_view(&auth.0, uuid_path(&id)?).await?.into()))
}

/// Adds a key (rotation): the old keys keep working until revoked. Roles: official.
#[utoipa::path(post, path = "/api/v1/partners/{id}/keys", tag = "partners", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = KeyBody,
    responses((status = 201, body = IssuedDoc), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`serial_taken`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_partner_key(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<KeyBody>,
) -> ApiResult<(StatusCode, Json<IssuedDoc>)> {
    let k = state.engine.add_partner_key(&auth.0, uuid_path(&id)?, new_key(b)?).await?;
    Ok((StatusCode::CREATED, Json(k.into())))
}

/// Revokes a key: requests signed with it are refused from now on; the partner's last key
/// cannot be revoked (`last_key`). Roles: official.
#[utoipa::path(post, path = "/api/v1/partners/{id}/keys/{serial_no}/revoke", tag = "partners", security(("bearer" = [])),
    params(("id" = String, Path), ("serial_no" = String, Path)),
    responses((status = 200, body = PartnerDoc), (status = 403, body = ErrorBody), (status = 404, description = "`not_found`, `key_not_found`", body = ErrorBody),
        (status = 409, description = "`last_key`", body = ErrorBody)))]
async fn revoke_partner_key(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, serial)): Path<(String, String)>,
) -> ApiResult<Json<PartnerDoc>> {
    Ok(Json(state.engine.revoke_partner_key(&auth.0, uuid_path(&id)?, &serial).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    /// Why: 1 to 500 characters to cut off; optional to let back.
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: String,
}

/// Cuts the partner off (熔断): every node refuses its calls within a second
/// (`partner_suspended`). Roles: official.
#[utoipa::path(post, path = "/api/v1/partners/{id}/suspend", tag = "partners", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = PartnerDoc), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn suspend_partner(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> ApiResult<Json<PartnerDoc>> {
    Ok(Json(state.engine.set_partner_status(&auth.0, uuid_path(&id)?, true, &b.reason).await?.into()))
}

/// Lets a cut-off partner back. Roles: official.
#[utoipa::path(post, path = "/api/v1/partners/{id}/resume", tag = "partners", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = PartnerDoc), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn resume_partner(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReasonBody>,
) -> ApiResult<Json<PartnerDoc>> {
    Ok(Json(state.engine.set_partner_status(&auth.0, uuid_path(&id)?, false, &b.reason).await?.into()))
}
