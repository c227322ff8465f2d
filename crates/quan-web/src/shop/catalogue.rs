//! The product catalogue for trade-in kinds: items with their list prices;
//! add an item, change a price (every price an item had is kept and shown).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use quan_domain::Fen;
use quan_engine::merchants::ProductSpec;
use quan_http::AppState;
use serde::Deserialize;

use super::merchant_of;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Shop, Signed};
use crate::zh::{beijing, parse_yuan, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant/catalogue", get(page).post(save))
        .route("/merchant/catalogue/{sku}/prices", get(prices))
}

/// An item as listed.
#[derive(Debug)]
struct Item {
    sku: String,
    brand: String,
    model: String,
    category: String,
    energy_class: String,
    price: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/catalogue.html")]
struct Page {
    c: Chrome,
    items: Vec<Item>,
}

async fn page(State(state): State<AppState>, signed: Signed<Shop>) -> Result<Page, Msg> {
    let merchant = merchant_of(&signed.actor)?;
    let list = state.engine.products(&signed.actor, merchant).await.map_err(Msg::of)?;
    let items = list
        .iter()
        .map(|p| Item {
            sku: p.sku.clone(),
            brand: p.brand.clone(),
            model: p.model.clone(),
            category: p.category.clone(),
            energy_class: p.energy_class.clone(),
            price: yuan(p.list_price.as_i64()),
        })
        .collect();
    Ok(Page { c: Chrome::signed(&signed.csrf), items })
}

#[derive(Debug, Deserialize)]
struct ItemForm {
    sku: String,
    brand: String,
    model: String,
    category: String,
    energy_class: String,
    price: String,
}

/// Adds an item, or changes one (its price history grows).
async fn save(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    axum::Form(f): axum::Form<ItemForm>,
) -> Result<Response, Msg> {
    let merchant = merchant_of(&signed.actor)?;
    let price = parse_yuan(&f.price).ok_or_else(|| Msg::field(crate::zh::shop::PRICE))?;
    let spec = ProductSpec {
        brand: f.brand.trim().to_owned(),
        model: f.model.trim().to_owned(),
        category: f.category.trim().to_owned(),
        energy_class: f.energy_class.trim().to_owned(),
        list_price_fen: Fen::new(price),
    };
    state.engine.upsert_product(&signed.actor, merchant, f.sku.trim(), &spec).await.map_err(Msg::of)?;
    Ok(refreshed(StatusCode::OK))
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/_prices.html")]
struct Prices {
    lines: Vec<(String, String)>,
}

async fn prices(State(state): State<AppState>, signed: Signed<Shop>, Path(sku): Path<String>) -> Result<Prices, Msg> {
    let merchant = merchant_of(&signed.actor)?;
    let list = state.engine.price_history(&signed.actor, merchant, &sku).await.map_err(Msg::of)?;
    Ok(Prices { lines: list.iter().map(|p| (beijing(p.at), yuan(p.price.as_i64()))).collect() })
}
