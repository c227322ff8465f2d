//! The HTTP face of quan: axum routers (one per area), the error shape,
//! authentication, metrics, and the OpenAPI document with its docs page.

pub mod client;
mod client_addr;
pub mod error;
pub mod extract;
pub mod idempotency;
mod metrics;
mod middleware;
mod openapi_errors;
mod openapi_text;
pub mod qr;
pub mod routes;
mod text;
pub mod views;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use quan_engine::Engine;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use client_addr::TrustedProxies;
pub use error::{ApiError, ErrorBody};
pub use metrics::Metrics;
pub use middleware::REQUEST_ID_HEADER;

/// HTTP limits. Units last in each name.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub body_bytes_max: usize,
    pub request_timeout_s: u64,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    /// Reverse proxies whose forwarding headers name the real client.
    pub trusted_proxies: TrustedProxies,
    /// The pages served beside the API (`quan_web::router`), if any.
    pub pages: Option<fn() -> Router<AppState>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_bytes_max: 1024 * 1024,
            request_timeout_s: 30,
            metrics: MetricsAccess::default(),
            trusted_proxies: TrustedProxies::default(),
            pages: None,
        }
    }
}

/// Where `/metrics` is served and who may read it.
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// Serve `/metrics` on the API's listener too (off when a separate
    /// metrics listener is given: the API's then answers 404).
    pub on_api_listener_off: bool,
    /// When set, a scrape must send `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("on_api_listener_off", &self.on_api_listener_off)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Engine,
    pub metrics: Arc<Metrics>,
    /// Turns true when the server starts shutting down, so that long-lived
    /// responses (a till's event stream) end and the shutdown can finish.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    pub metrics_access: Arc<MetricsAccess>,
    pub trusted_proxies: Arc<TrustedProxies>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "quan",
        description = "The open platform for government consumption-voucher campaigns. Every error has the shape `{\"error\": {\"code\", \"message\", \"request_id\", \"details\"}}`; `code` is stable.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "auth", description = "Login and sessions"),
        (name = "users", description = "Staff accounts"),
        (name = "campaigns", description = "Campaigns: budget, funding, life cycle"),
        (name = "batches", description = "Batches, voucher kinds, lotteries"),
        (name = "merchants", description = "Merchant applications, review, tills, cashiers, catalogue"),
        (name = "complaints", description = "Complaints: filed by residents, worked by operators, answered by merchants"),
        (name = "districts", description = "District boundaries and positions"),
        (name = "eligibility", description = "Identities, lists, and who may claim"),
        (name = "claims", description = "Claiming vouchers, and the wallet"),
        (name = "redemptions", description = "Dynamic codes, redemption at the till in both directions, refunds"),
        (name = "reports", description = "T+1 daily reports (JSON, CSV, XLSX) and the live view"),
        (name = "risk", description = "Risk control at the grab: the fair admission window, the kill switch (熔断)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("an opaque token from a login"))
                    .build(),
            ),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    use utoipa::OpenApi as _;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::ops::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::campaigns::router())
        .merge(routes::batches::router())
        .merge(routes::merchants::router())
        .merge(routes::merchant_contact::router())
        .merge(routes::merchant_books::router())
        .merge(routes::districts::router())
        .merge(routes::eligibility::router())
        .merge(routes::claims::router())
        .merge(routes::redemptions::router())
        .merge(routes::reports::router())
        .merge(routes::resident::router())
        .merge(routes::till_events::router())
        .merge(routes::complaints::router())
        .merge(routes::risk::router())
        .merge(routes::holds::router())
        .merge(routes::cases::router())
        .merge(routes::partners::router())
        .merge(routes::partner::router())
        .merge(routes::partner_bindings::router())
        .merge(routes::partner_refunds::router())
        .merge(routes::partner_sandbox::router())
        .merge(routes::partner_claims::router())
        .merge(routes::channels::router())
}

/// The OpenAPI document, as served at `/openapi.json` and committed as `openapi.json`.
pub fn openapi() -> OpenApi {
    let (_, doc) = api_router().split_for_parts();
    finished(doc)
}

/// The document as published: version, every status, text patterns, closed unions.
fn finished(mut doc: OpenApi) -> OpenApi {
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    openapi_errors::complete_responses(&mut doc);
    openapi_text::forbid_control_characters(&mut doc);
    openapi_text::close_body_unions(&mut doc);
    doc
}

/// The OpenAPI document as pretty JSON with a final newline.
pub fn openapi_json() -> String {
    let doc = openapi();
    let mut s = doc.to_pretty_json().unwrap_or_else(|e| panic!("the OpenAPI document serialises: {e}"));
    s.push('\n');
    s
}

/// The whole application: API routes, docs page, middleware.
pub fn app(engine: Engine, config: &HttpConfig) -> Router {
    app_with(state(engine, config, Arc::new(tokio::sync::watch::channel(false).0)), config)
}

fn state(engine: Engine, config: &HttpConfig, closing: Arc<tokio::sync::watch::Sender<bool>>) -> AppState {
    AppState {
        metrics: Arc::new(Metrics::new(engine.backend())),
        engine,
        closing,
        metrics_access: Arc::new(config.metrics.clone()),
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
    }
}

/// The application over `state`; its long-lived responses end once `state.closing` turns true.
fn app_with(state: AppState, config: &HttpConfig) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let doc = finished(doc);
    let docs: Router<AppState> = SwaggerUi::new("/docs").url("/openapi.json", doc).into();
    let pages = config.pages.map(|p| p()).unwrap_or_default();
    api.merge(docs)
        .merge(pages)
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(state.clone(), routes::partner::sign_answers))
        .layer(DefaultBodyLimit::max(config.body_bytes_max))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(config.request_timeout_s),
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}

/// Serves until `shutdown` completes, then stops accepting connections and
/// finishes the requests in flight. Tests pass a listener on port 0.
pub async fn serve(
    engine: Engine,
    config: &HttpConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_metrics_listener(engine, config, listener, None, shutdown).await
}

/// [`serve`], with `/metrics` also (or only, when
/// `config.metrics.on_api_listener_off`) on `metrics_listener`: a port that
/// only the monitoring network reaches.
pub async fn serve_with_metrics_listener(
    engine: Engine,
    config: &HttpConfig,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = Arc::new(tokio::sync::watch::channel(false).0);
    let state = state(engine, config, closing.clone());
    if let Some(ml) = metrics_listener {
        let metrics_only = Router::new()
            .route("/metrics", axum::routing::get(routes::ops::scrape))
            .fallback(|| async { ApiError::not_found() })
            .with_state(state.clone());
        let mut stop = closing.subscribe();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|c| *c).await;
            };
            if let Err(e) = axum::serve(ml, metrics_only).with_graceful_shutdown(stopped).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let app = app_with(state, config);
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
