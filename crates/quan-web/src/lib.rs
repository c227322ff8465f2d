//! The pages of quan, in Chinese, served by `quan serve` itself: the
//! resident's H5 (`/h5/`), the cashier's till (`/till/`), the shop's pages
//! (`/merchant/`) and the console for staff (`/console/`). Server-rendered askama templates with htmx; the
//! front-end files are vendored and embedded (`assets/`). Like the API, the
//! pages reach the store only through the engine.
//!
//! Every word a person reads is in one of two places per page set: its
//! templates (`templates/h5/`, `templates/till/`, `templates/shop/`) and its
//! module of `zh` (`src/zh/h5.rs`, …; `src/zh/mod.rs` for what all share:
//! error codes, eligibility rules, money, Beijing time). A second language is
//! a second such set.

mod assets;
mod chrome;
mod console;
mod h5;
mod login;
mod msg;
mod qr;
mod security;
pub mod session;
mod shop;
mod tickets;
mod till;
mod typed;
mod zh;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;
use quan_http::AppState;

pub use chrome::Chrome;

/// Every page and the files they load, with the pages' security headers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .merge(h5::router())
        .merge(console::router())
        .merge(till::router())
        .merge(shop::router())
        .merge(assets::router())
        .layer(axum::middleware::from_fn(security::headers))
        // Pages and files gzip-compressed for phones (never the event streams).
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
}

#[derive(Template, WebTemplate)]
#[template(path = "landing.html")]
struct Landing {
    c: Chrome,
}

async fn landing() -> Landing {
    Landing { c: Chrome::public() }
}
