//! Health, readiness and metrics, for load balancers and monitoring.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::views::{Health, Readiness};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics))
}

/// The process is up. Roles: none (public).
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// The process can serve: its database answers. Roles: none (public).
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Readiness),
    (status = 503, description = "the database does not answer", body = ErrorBody),
))]
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Readiness>> {
    match state.engine.ping().await {
        Ok(()) => Ok(Json(Readiness { status: "ready".into(), database: state.engine.backend().into() })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "the database does not answer"))
        }
    }
}

/// Prometheus metrics in the text exposition format. Roles: none, unless
/// the server is configured with a metrics token (`Authorization: Bearer
/// <token>`, else 401) or serves metrics on a separate listener (404 here).
#[utoipa::path(get, path = "/metrics", tag = "ops", security((), ("bearer" = [])), responses(
    (status = 200, content_type = "text/plain", body = String),
    (status = 401, description = "a metrics token is configured and was not sent", body = ErrorBody),
    (status = 404, description = "metrics are served on a separate listener", body = ErrorBody),
))]
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if state.metrics_access.on_api_listener_off {
        return Err(ApiError::not_found());
    }
    scrape(State(state), headers).await
}

/// The metrics page, behind the token when one is configured.
pub(crate) async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = &state.metrics_access.token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), token.as_bytes())) {
            return Err(ApiError::from_status(StatusCode::UNAUTHORIZED));
        }
    }
    let e = &state.engine;
    let body = state.metrics.render(e.pool_stats(), e.commit_retries(), e.remembered_sessions());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}
