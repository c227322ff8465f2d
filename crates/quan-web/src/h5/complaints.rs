//! Complaints from the H5: my tickets, filing one (type, text, what it is
//! about, an optional photo), and a ticket with the answers I may read.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quan_domain::complaint::ComplaintKind;
use quan_engine::complaints::NewComplaint;
use quan_http::AppState;
use serde::Deserialize;

use crate::Chrome;
use crate::msg::Msg;
use crate::session::{H5, Signed};
use crate::shop::Choice;
use crate::tickets::{self, Form, Line, Ticket};
use crate::zh::{beijing, complaints as zh, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/h5/complaints", get(list).post(file).layer(DefaultBodyLimit::max(3 * 1024 * 1024)))
        .route("/h5/complaints/new", get(new))
        .route("/h5/complaints/{id}", get(one))
        .route("/h5/complaints/{id}/photo", get(photo))
}

fn ticket_id(raw: &str) -> Result<uuid::Uuid, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::NO_TICKET))
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/complaints.html")]
struct List {
    c: Chrome,
    tickets: Vec<Ticket>,
}

async fn list(State(state): State<AppState>, signed: Signed<H5>) -> Result<List, Msg> {
    let mine = state.engine.my_complaints(&signed.actor).await.map_err(Msg::of)?;
    let now = state.engine.now();
    Ok(List { c: Chrome::signed(&signed.csrf), tickets: mine.iter().map(|c| Ticket::of(c, now)).collect() })
}

#[derive(Debug, Deserialize)]
struct Prefill {
    redemption: Option<String>,
    voucher: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/complaint_new.html")]
struct New {
    c: Chrome,
    kinds: Vec<Choice>,
    links: Vec<Choice>,
    picked: String,
    districts: Vec<Choice>,
}

async fn new(State(state): State<AppState>, signed: Signed<H5>, Query(q): Query<Prefill>) -> Result<New, Msg> {
    let kinds = ComplaintKind::ALL.iter().map(|k| Choice { value: k.as_str().into(), label: k.zh().into() }).collect();
    let mut links = Vec::new();
    for r in state.engine.my_redemptions(&signed.actor, 20).await.map_err(Msg::of)? {
        let label = format!(
            "{} 付款 ¥{}（优惠 ¥{}）",
            beijing(r.redeemed_at),
            yuan(r.order.as_i64()),
            yuan(r.discount.as_i64())
        );
        links.push(Choice { value: format!("r:{}", r.id), label });
    }
    for w in state.engine.wallet(&signed.actor).await.map_err(Msg::of)? {
        let name = w.kind.as_ref().map_or_else(|| w.voucher.kind_code.clone(), |k| k.kind.name.clone());
        links.push(Choice {
            value: format!("v:{}", w.voucher.id),
            label: format!("券：{name}（面额 ¥{}）", yuan(w.voucher.face.as_i64())),
        });
    }
    let picked = match (q.redemption, q.voucher) {
        (Some(r), _) => format!("r:{r}"),
        (None, Some(v)) => format!("v:{v}"),
        _ => String::new(),
    };
    let districts = state
        .engine
        .districts()
        .await
        .map_err(|e| Msg::internal(&e))?
        .into_iter()
        .map(|d| Choice { value: d.code.to_string(), label: d.name })
        .collect();
    Ok(New { c: Chrome::signed(&signed.csrf), kinds, links, picked, districts })
}

/// Files the ticket and opens it; a refusal is said beside the button.
async fn file(State(state): State<AppState>, signed: Signed<H5>, form: Multipart) -> Result<Response, Msg> {
    let f = Form::read(form).await?;
    let link = f.get("link");
    let id = |s: &str| s.parse::<uuid::Uuid>().ok();
    let input = NewComplaint {
        kind: f.get("kind").into(),
        text: f.get("text").into(),
        redemption_id: link.strip_prefix("r:").and_then(id),
        voucher_id: link.strip_prefix("v:").and_then(id),
        merchant_id: None,
        district: Some(f.get("district").into()),
        photo: f.photo,
    };
    let c = state.engine.file_complaint(&signed.actor, input).await.map_err(Msg::of)?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(to) = HeaderValue::from_str(&format!("/h5/complaints/{}", c.id)) {
        r.headers_mut().insert("hx-redirect", to);
    }
    Ok(r)
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/complaint.html")]
struct One {
    c: Chrome,
    t: Ticket,
    lines: Vec<Line>,
}

async fn one(State(state): State<AppState>, signed: Signed<H5>, Path(id): Path<String>) -> Result<One, Msg> {
    let v = state.engine.complaint(&signed.actor, ticket_id(&id)?).await.map_err(Msg::of)?;
    let (t, lines) = tickets::detail(&v, state.engine.now());
    Ok(One { c: Chrome::signed(&signed.csrf), t, lines })
}

async fn photo(State(state): State<AppState>, signed: Signed<H5>, Path(id): Path<String>) -> Result<Response, Msg> {
    let p = state.engine.complaint_photo(&signed.actor, ticket_id(&id)?).await.map_err(Msg::of)?;
    Ok(tickets::photo(p))
}
