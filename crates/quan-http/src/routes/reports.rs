//! T+1 reports and the live view, for officials and auditors.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use quan_domain::Role;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::routes::campaign_id;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_days))
        .routes(routes!(daily_report))
        .routes(routes!(batch_final))
        .routes(routes!(live))
        .routes(routes!(grab_dashboard))
}

/// The grab dashboard of a batch: the last 60 seconds, one point per
/// second, every node summed — answers by outcome (`claimed`, `sold_out`,
/// `limit_reached`, `not_eligible`, `busy`, `other`), the p99 of the
/// answers (upper bound of its latency bucket, ms), claims in the last full
/// second, stock left per kind, how many nodes answered. Roles: official,
/// operator, auditor.
#[utoipa::path(get, path = "/api/v1/batches/{id}/dashboard", tag = "reports", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "points, totals, p99_ms, claims_per_s, stock, nodes"), (status = 404, body = ErrorBody)))]
async fn grab_dashboard(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let batch: quan_domain::BatchId = id.parse().map_err(|_| ApiError::not_found())?;
    let d = state.engine.grab_dashboard(&auth.0, batch).await?;
    Ok(Json(d).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredReportView {
    pub business_day: NaiveDate,
    /// SHA-256 of the report's canonical JSON (the `application/json` body).
    pub sha256: String,
}

/// Business days of a campaign with a stored daily report, oldest first.
/// Roles: official, auditor.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/reports/daily", tag = "reports", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<StoredReportView>), (status = 404, body = ErrorBody)))]
async fn report_days(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<StoredReportView>>> {
    let days = state.engine.report_days(&auth.0, campaign_id(&id)?).await?;
    Ok(Json(days.into_iter().map(|(business_day, sha256)| StoredReportView { business_day, sha256 }).collect()))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The T+1 report of business day `date` (YYYY-MM-DD, UTC+8): per batch,
/// industry, district, merchant scale and batch × industry × district, the
/// day's and the cumulative figures. Built and stored once the day is over
/// (`day_not_over` before), then always the same bytes; `x-content-sha256`
/// is the hash of the JSON form. Format by suffix (`2026-12-05.xlsx`,
/// `.csv`, `.json`) or `Accept` (`text/csv`, the XLSX type, JSON by
/// default). Roles: official, auditor.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/reports/daily/{date}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ("date" = String, Path, description = "YYYY-MM-DD, optionally with .json, .csv or .xlsx")),
    responses((status = 200, body = Object, description = "the report as JSON, CSV (text/csv) or XLSX"),
        (status = 409, body = ErrorBody, description = "`day_not_over`"), (status = 404, body = ErrorBody)))]
async fn daily_report(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, date)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (day, suffix) = match date.rsplit_once('.') {
        Some((d, s)) => (d, Some(s)),
        None => (date.as_str(), None),
    };
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_field("date", "a business day as YYYY-MM-DD"))?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match suffix {
        Some("json") => "json",
        Some("csv") => "csv",
        Some("xlsx") => "xlsx",
        Some(_) => return Err(ApiError::invalid_field("date", "the suffix is .json, .csv or .xlsx")),
        None if accept.contains("text/csv") => "csv",
        None if accept.contains(XLSX) => "xlsx",
        None => "json",
    };
    let (report, snapshot) = state.engine.daily_report(&auth.0, campaign_id(&id)?, day).await?;
    let file = format!("report-{}-{day}", report.campaign_id);
    let mut r = match format {
        "csv" => {
            let body = quan_engine::reports::render::csv(&report);
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        }
        "xlsx" => {
            let body = quan_engine::reports::render::xlsx(&report).map_err(|e| ApiError::internal(&e))?;
            ([(header::CONTENT_TYPE, XLSX)], body).into_response()
        }
        _ => ([(header::CONTENT_TYPE, "application/json")], snapshot.content.clone()).into_response(),
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&snapshot.sha256) {
        h.insert("x-content-sha256", v);
    }
    if format != "json"
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.{format}\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// A batch's final report (批次总结) as of business day `date`: its
/// cumulative figures, trend and peak day, leading industries and
/// districts, leverage, and the face value it leaves unspent; derived from
/// that day's stored daily report (whose hash it names). `.xlsx` for the
/// workbook. Roles: official, auditor.
#[utoipa::path(get, path = "/api/v1/batches/{id}/final-report/{date}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ("date" = String, Path, description = "YYYY-MM-DD, optionally with .json or .xlsx")),
    responses((status = 200, body = Object, description = "JSON or XLSX"), (status = 404, body = ErrorBody)))]
async fn batch_final(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, date)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (day, xlsx) = match date.strip_suffix(".xlsx") {
        Some(d) => (d, true),
        None => (date.strip_suffix(".json").unwrap_or(&date), false),
    };
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_field("date", "a business day as YYYY-MM-DD"))?;
    let batch: quan_domain::BatchId = id.parse().map_err(|_| ApiError::not_found())?;
    let r = state.engine.batch_final_report(&auth.0, batch, day).await?;
    if xlsx {
        let body = quan_engine::reports::render::batch_final_xlsx(&r).map_err(|e| ApiError::internal(&e))?;
        let mut resp = ([(header::CONTENT_TYPE, XLSX)], body).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"batch-{id}-{day}.xlsx\"")) {
            resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        return Ok(resp);
    }
    Ok(Json(r).into_response())
}

/// The live view for the dashboard: stock, vouchers claimed, redeemed,
/// subsidy standing, by merchant district. At most a second old: many
/// officials polling cost one read per second per node. Roles: official,
/// auditor, operator.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/live", tag = "reports", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "claimed, redeemed, subsidy_fen, by_district"), (status = 404, body = ErrorBody)))]
async fn live(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    auth.require(&[Role::Official, Role::Auditor, Role::Operator])?;
    let v = state.engine.live_view(&auth.0, campaign_id(&id)?).await?;
    let mut r = Json(v.as_ref().clone()).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=1"));
    Ok(r)
}
