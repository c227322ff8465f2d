//! Districts and lists in the console: the boundaries of my region with
//! their versions; importing a boundary file with a preview (drawn on a map
//! in the browser, and what the import would do, said by the server) before
//! confirming; importing an eligibility list (stored as keyed hashes) and
//! looking up a list's count.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quan_domain::geo::Crs;
use quan_engine::district_preview::PreviewRow;
use quan_http::AppState;
use quan_store::MemberKind;
use serde::Deserialize;

use super::Me;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::tickets::Form;
use crate::zh::{self, beijing};

pub fn router() -> Router<AppState> {
    let big = DefaultBodyLimit::max(16 * 1024 * 1024);
    Router::new()
        .route("/console/districts", get(page))
        .route("/console/districts/preview", post(preview).layer(big))
        .route("/console/districts/import", post(import).layer(big))
        .route("/console/lists/import", post(import_list).layer(big))
}

/// A district with its versions.
#[derive(Debug)]
struct Line {
    code: String,
    name: String,
    version: i64,
    imported: String,
    source: String,
    earlier: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    list: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/districts.html")]
struct Page {
    c: Chrome,
    me: Me,
    lines: Vec<Line>,
    list: String,
    /// The looked-up list: (name, region, members).
    found: Option<(String, String, u64)>,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>, Query(q): Query<ListQuery>) -> Result<Page, Msg> {
    let versions = state.engine.district_versions(&signed.actor).await.map_err(Msg::of)?;
    let lines = versions
        .into_iter()
        .map(|(d, history)| Line {
            code: d.code.to_string(),
            name: d.name,
            version: d.version,
            imported: beijing(d.imported_at),
            source: d.source,
            earlier: history
                .iter()
                .map(|h| format!("v{} · {} · {}", h.version, beijing(h.imported_at), h.source))
                .collect(),
        })
        .collect();
    let list = q.list.unwrap_or_default();
    let found = match list.trim() {
        "" => None,
        name => {
            state.engine.list_summary(&signed.actor, name).await.ok().map(|l| (l.name, l.region.to_string(), l.members))
        }
    };
    Ok(Page { c: Chrome::signed(&signed.csrf).charting(), me: Me::of(&signed.actor), lines, list, found })
}

fn crs(raw: &str) -> Result<Crs, Msg> {
    Crs::parse(raw).ok_or_else(|| Msg::field(zh::console::CRS))
}

fn text_of(f: &Form) -> Result<String, Msg> {
    let bytes = f.photo.as_ref().ok_or_else(|| Msg::field(zh::console::GEOJSON_FILE))?;
    String::from_utf8(bytes.clone()).map_err(|_| Msg::field(zh::console::GEOJSON_FILE))
}

#[derive(Template)]
#[template(path = "console/_district_preview.html")]
struct Preview {
    rows: Vec<PreviewRow>,
    importable: usize,
}

async fn preview(State(state): State<AppState>, signed: Signed<Console>, m: Multipart) -> Result<Response, Msg> {
    let f = Form::read_file(m, "file").await?;
    crs(f.get("crs"))?;
    let rows = state.engine.preview_districts(&signed.actor, &text_of(&f)?).await.map_err(Msg::of)?;
    let importable = rows.iter().filter(|r| !r.outside).count();
    let html = Preview { rows, importable }.render().map_err(|e| Msg::internal(&e))?;
    Ok(axum::response::Html(html).into_response())
}

async fn import(State(state): State<AppState>, signed: Signed<Console>, m: Multipart) -> Result<Response, Msg> {
    let f = Form::read_file(m, "file").await?;
    let crs = crs(f.get("crs"))?;
    let source = Some(f.get("source").trim()).filter(|s| !s.is_empty()).unwrap_or(f.get("file_name")).to_owned();
    let done = state.engine.import_districts_as(&signed.actor, &text_of(&f)?, crs, &source).await.map_err(Msg::of)?;
    if let Err(e) = state.engine.reload_districts().await {
        return Err(Msg::internal(&e));
    }
    tracing::info!(new = done.new, replaced = done.replaced, "districts imported from the console");
    Ok(refreshed(StatusCode::OK))
}

async fn import_list(State(state): State<AppState>, signed: Signed<Console>, m: Multipart) -> Result<Response, Msg> {
    let f = Form::read_file(m, "file").await?;
    let kind = match f.get("kind") {
        "phone" => MemberKind::Phone,
        _ => MemberKind::IdNumber,
    };
    let text = match &f.photo {
        Some(b) => String::from_utf8(b.clone()).map_err(|_| Msg::field(zh::console::LIST_FILE))?,
        None => f.get("values").to_owned(),
    };
    let values: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().trim_start_matches('\u{feff}').to_owned()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let r = state.engine.import_list(&signed.actor, f.get("name"), kind, &values).await.map_err(Msg::of)?;
    let mut said = zh::console::list_imported(r.rows, r.added, r.duplicates, r.invalid.len());
    for e in r.invalid.iter().take(20) {
        said.push_str(&format!("；第 {} 行：{}", e.line, zh::error(&e.rule)));
    }
    Ok(Msg::ok(said).into_response())
}
