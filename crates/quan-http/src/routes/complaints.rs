//! Complaints through the API: a resident files and reads their tickets,
//! staff of the region work the queue, a merchant's owner answers what it
//! is asked. The pages call the same engine methods.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use quan_domain::complaint::ComplaintState;
use quan_domain::{MerchantId, UserId};
use quan_engine::complaints::{ActInput, ComplaintView, NewComplaint, QueueQuery};
use quan_store::{Complaint, ComplaintEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::merchants::merchant_id;
use super::redemptions::uuid_path;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};

/// A filing with a 2 MB photo in base64 fits.
pub const FILING_BYTES_MAX: usize = 3 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(OpenApiRouter::new().routes(routes!(file)).layer(DefaultBodyLimit::max(FILING_BYTES_MAX)))
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(photo))
        .routes(routes!(act_on_complaint))
        .routes(routes!(of_merchant))
}

/// A resident's complaint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FileRequest {
    /// `shop_refused`, `wrong_discount`, `price_raised`, `could_not_claim`, `code_problem` or `other`.
    kind: String,
    /// 1 to 1 000 characters; line breaks kept.
    text: String,
    /// One of my vouchers.
    voucher_id: Option<Uuid>,
    /// One of my payments (names its voucher and shop).
    redemption_id: Option<Uuid>,
    /// The shop complained about.
    merchant_id: Option<Uuid>,
    /// The district it happened in (six digits), when nothing linked names one.
    district: Option<String>,
    /// A JPEG or PNG of at most 2 MB, base64; checked by its content.
    photo_base64: Option<String>,
}

/// A ticket as its reader may see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComplaintOut {
    pub id: Uuid,
    /// What the resident quotes: `TS20261206-483920`.
    pub ticket: String,
    pub kind: String,
    pub kind_name: String,
    pub text: String,
    pub region: String,
    pub voucher_id: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub has_photo: bool,
    /// `open`, `in_progress`, `awaiting_merchant`, `escalated` or `closed`.
    pub state: String,
    pub state_name: String,
    /// `resolved`, `rejected` or `referred` once closed.
    pub outcome: Option<String>,
    pub assignee: Option<Uuid>,
    pub filed_at: DateTime<Utc>,
    pub answer_due: DateTime<Utc>,
    pub close_due: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<&Complaint> for ComplaintOut {
    fn from(c: &Complaint) -> Self {
        ComplaintOut {
            id: c.id,
            ticket: c.ticket.clone(),
            kind: c.kind.as_str().into(),
            kind_name: c.kind.zh().into(),
            text: c.body.clone(),
            region: c.region.as_str().into(),
            voucher_id: c.voucher,
            redemption_id: c.redemption,
            merchant_id: c.merchant.map(|m| m.as_uuid()),
            campaign_id: c.campaign.map(|m| m.as_uuid()),
            has_photo: c.photo_type.is_some(),
            state: c.state.as_str().into(),
            state_name: c.state.zh().into(),
            outcome: c.outcome.map(|o| o.as_str().into()),
            assignee: c.assignee.map(|u| u.as_uuid()),
            filed_at: c.filed_at,
            answer_due: c.answer_due,
            close_due: c.close_due,
            answered_at: c.answered_at,
            closed_at: c.closed_at,
            version: c.version,
        }
    }
}

/// One thing that happened to a ticket.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventOut {
    /// `filed`, `assign`, `reply`, `ask_merchant`, `merchant_answer`, `escalate` or `close`.
    pub action: String,
    /// The role of who did it.
    pub by: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

impl From<&ComplaintEvent> for EventOut {
    fn from(e: &ComplaintEvent) -> Self {
        EventOut { action: e.action.clone(), by: e.actor_role.as_str().into(), text: e.body.clone(), at: e.at }
    }
}

/// A ticket with what its reader may see of its history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComplaintDetail {
    pub complaint: ComplaintOut,
    pub events: Vec<EventOut>,
    pub overdue: bool,
}

impl From<&ComplaintView> for ComplaintDetail {
    fn from(v: &ComplaintView) -> Self {
        ComplaintDetail {
            complaint: (&v.complaint).into(),
            events: v.events.iter().map(EventOut::from).collect(),
            overdue: v.overdue,
        }
    }
}

/// Files a complaint; answers its ticket. At most 5 a day per resident
/// (configurable). Roles: resident.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", security(("bearer" = [])), request_body = FileRequest,
    responses((status = 201, body = ComplaintDetail),
        (status = 422, description = "`unknown_complaint_kind`, `required`, `too_long`, `photo_type`, `photo_too_large`, `not_yours`, `unknown_merchant`, `invalid_district`", body = ErrorBody),
        (status = 429, description = "`complaint_limit`", body = ErrorBody)))]
async fn file(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(r): ApiJson<FileRequest>,
) -> ApiResult<(StatusCode, Json<ComplaintDetail>)> {
    let photo = match r.photo_base64.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(base64::engine::general_purpose::STANDARD.decode(p).map_err(|_| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "photo_type", "photo_base64 is not base64")
                .on_field("photo_base64")
        })?),
        None => None,
    };
    let input = NewComplaint {
        kind: r.kind,
        text: r.text,
        voucher_id: r.voucher_id,
        redemption_id: r.redemption_id,
        merchant_id: r.merchant_id.map(MerchantId::from_uuid),
        district: r.district,
        photo,
    };
    let c = state.engine.file_complaint(&auth.0, input).await?;
    let v = state.engine.complaint(&auth.0, c.id).await?;
    Ok((StatusCode::CREATED, Json((&v).into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Staff: only tickets in this state.
    state: Option<String>,
    /// Staff: only tickets not closed.
    open: Option<bool>,
    /// Staff: only overdue tickets.
    overdue: Option<bool>,
    /// Staff: only tickets naming this merchant.
    merchant_id: Option<Uuid>,
    /// Staff: the next page, after the last id of the previous one.
    before: Option<Uuid>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Residents: my tickets. Staff of a region (operator, official, auditor):
/// the queue, newest first. Roles: resident, operator, official, auditor.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "complaints", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<ComplaintOut>)))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<ComplaintOut>>> {
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=500) => n,
        Some(n) => {
            return Err(ApiError::bad_request("limit_out_of_range", format!("limit must be 1 to 500, not {n}"))
                .on_field("limit"));
        }
    };
    let st = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => {
            Some(ComplaintState::parse(s).ok_or_else(|| ApiError::invalid_field("state", "not a ticket state"))?)
        }
    };
    let list = if matches!(auth.0, quan_engine::Actor::Resident { .. }) {
        state.engine.my_complaints(&auth.0).await?
    } else {
        let query = QueueQuery {
            state: st,
            open_only: q.open.unwrap_or(false),
            overdue_only: q.overdue.unwrap_or(false),
            merchant: q.merchant_id.map(MerchantId::from_uuid),
            before: q.before,
            limit,
        };
        state.engine.complaint_queue(&auth.0, &query).await?
    };
    Ok(Json(list.iter().map(ComplaintOut::from).collect()))
}

/// One ticket with the history its reader may see. Roles: its resident,
/// staff of its region, the owner of the merchant once asked.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "complaints", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ComplaintDetail), (status = 404, body = ErrorBody)))]
async fn one(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<ComplaintDetail>> {
    let v = state.engine.complaint(&auth.0, uuid_path(&id)?).await?;
    Ok(Json((&v).into()))
}

/// The ticket's photo (image/jpeg or image/png). Roles: as for the ticket.
#[utoipa::path(get, path = "/api/v1/complaints/{id}/photo", tag = "complaints", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the photo", content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
async fn photo(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let (mime, bytes) = state.engine.complaint_photo(&auth.0, uuid_path(&id)?).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg")));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(r)
}

/// One action on a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ActRequest {
    /// `assign`, `reply`, `ask_merchant`, `merchant_answer`, `escalate` or `close`.
    action: String,
    /// Required for all but `assign`: 1 to 1 000 characters.
    text: Option<String>,
    /// For `close`: `resolved`, `rejected` or `referred`.
    outcome: Option<String>,
    /// For `assign`: the operator or official to take it (default: me).
    assignee: Option<Uuid>,
    /// The version read; refused with 409 if the ticket changed since.
    version: Option<i64>,
}

/// Works a ticket. Operators: every action but the merchant's answer;
/// officials: reply, assign and close once escalated; the merchant's owner:
/// `merchant_answer` when asked. Auditors: none. Roles: operator, official,
/// merchant_owner.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/actions", tag = "complaints", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ActRequest,
    responses((status = 200, body = ComplaintDetail), (status = 403, body = ErrorBody),
        (status = 409, description = "`concurrent_change`", body = ErrorBody),
        (status = 422, description = "`unknown_action`, `invalid_transition`, `no_merchant`, `required`, `too_long`, `not_staff_here`", body = ErrorBody)))]
async fn act_on_complaint(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ActRequest>,
) -> ApiResult<Json<ComplaintDetail>> {
    let input = ActInput {
        action: r.action,
        text: r.text,
        outcome: r.outcome,
        assignee: r.assignee.map(UserId::from_uuid),
        version: r.version,
    };
    let v = state.engine.act_on_complaint(&auth.0, uuid_path(&id)?, &input).await?;
    Ok(Json((&v).into()))
}

/// The tickets the merchant was asked about, newest first. Roles:
/// merchant_owner (own merchant).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/complaints", tag = "complaints", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Vec<ComplaintOut>)))]
async fn of_merchant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ComplaintOut>>> {
    let list = state.engine.merchant_complaints(&auth.0, merchant_id(&id)?).await?;
    Ok(Json(list.iter().map(ComplaintOut::from).collect()))
}
