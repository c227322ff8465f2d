//! Health, readiness and metrics, for load balancers and monitoring.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
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
    let store = state.engine.store();
    match store.ping().await {
        Ok(()) => Ok(Json(Readiness { status: "ready".into(), database: store.backend().into() })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "the database does not answer"))
        }
    }
}

/// Prometheus metrics in the text exposition format. Roles: none (public;
/// restrict it at the proxy if needed).
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.engine.store();
    let body = state.metrics.render(store.pool_stats(), store.commit_retries(), state.engine.remembered_sessions());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}
