//! Campaign files in the console: create a campaign by uploading (or
//! pasting) its file, edit a draft as its file, delete a draft. Errors are
//! said with the field's path, its name and the rule, as for the form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quan_engine::campaigns::{CampaignError, CampaignFile};
use quan_engine::documents::{self, DocumentError};
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use super::campaigns::{campaign_id, field_error};
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{Console, Signed};
use crate::tickets::Form;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/campaigns/upload", get(upload_page).post(upload).layer(DefaultBodyLimit::max(2 * 1024 * 1024)))
        .route("/console/campaigns/{id}/edit", get(edit_page).post(edit))
        .route("/console/campaigns/{id}/delete", post(delete))
}

#[derive(Template, WebTemplate)]
#[template(path = "console/campaign_file.html")]
struct FilePage {
    c: Chrome,
    me: Me,
    /// Empty for a new campaign.
    id: String,
    text: String,
}

async fn upload_page(signed: Signed<Console>) -> FilePage {
    FilePage { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), id: String::new(), text: String::new() }
}

fn go(to: &str, status: StatusCode) -> Response {
    let mut r = status.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert("hx-redirect", v);
    }
    r
}

fn unreadable(e: &DocumentError) -> Response {
    field_error(&e.path, "format", &e.message)
}

/// A file chosen (TOML, or JSON by its name or content) else the pasted text.
fn document(f: &Form) -> Result<CampaignFile, DocumentError> {
    let (text, json) = match &f.photo {
        Some(bytes) => {
            let text = String::from_utf8(bytes.clone())
                .map_err(|_| DocumentError { path: String::new(), message: "the file is not UTF-8 text".into() })?;
            let json = f.get("file_name").to_ascii_lowercase().ends_with(".json") || documents::looks_like_json(&text);
            (text, json)
        }
        None => (f.get("text").to_owned(), documents::looks_like_json(f.get("text"))),
    };
    documents::parse(&text, json)
}

fn refused(e: CampaignError) -> Result<Response, Msg> {
    match e {
        CampaignError::Invalid(i) => Ok(field_error(&i.field, i.rule, &i.message)),
        e => Err(Msg::of(e)),
    }
}

async fn upload(State(state): State<AppState>, signed: Signed<Console>, m: Multipart) -> Result<Response, Msg> {
    let f = Form::read_file(m, "file").await?;
    let file = match document(&f) {
        Ok(file) => file,
        Err(e) => return Ok(unreadable(&e)),
    };
    match state.engine.create_campaign(&signed.actor, file).await {
        Ok((c, _)) => Ok(go(&format!("/console/campaigns/{}", c.id), StatusCode::CREATED)),
        Err(e) => refused(e),
    }
}

async fn edit_page(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<FilePage, Msg> {
    let cid = campaign_id(&id)?;
    let c = state.engine.get_campaign(&signed.actor, cid).await.map_err(Msg::of)?;
    let batches = state.engine.list_batches(&signed.actor, cid).await.map_err(Msg::of)?;
    let file = CampaignFile { campaign: c.spec, batches: batches.into_iter().map(|b| b.spec).collect() };
    let text = documents::to_toml(&file).map_err(|e| Msg::internal(&e))?;
    Ok(FilePage { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), id, text })
}

#[derive(Debug, Deserialize)]
struct TextForm {
    text: String,
}

async fn edit(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<TextForm>,
) -> Result<Response, Msg> {
    let cid = campaign_id(&id)?;
    let file = match documents::parse::<CampaignFile>(&f.text, documents::looks_like_json(&f.text)) {
        Ok(file) => file,
        Err(e) => return Ok(unreadable(&e)),
    };
    match state.engine.edit_draft(&signed.actor, cid, file).await {
        Ok(_) => Ok(go(&format!("/console/campaigns/{cid}"), StatusCode::OK)),
        Err(e) => refused(e),
    }
}

async fn delete(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    state.engine.delete_draft(&signed.actor, campaign_id(&id)?).await.map_err(Msg::of)?;
    Ok(go("/console/", StatusCode::OK))
}
