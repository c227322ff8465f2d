//! One batch: its kinds, the eligibility check before the opening (the
//! browser's position, the ID number), and the claim.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use quan_domain::BatchId;
use quan_engine::claims::PowSolution;
use quan_engine::districts::Position;
use quan_http::AppState;
use quan_http::extract::ClientAddr;
use serde::Deserialize;

use super::views::BatchCard;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{H5, Signed};
use crate::zh;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/h5/batches/{id}", get(page))
        .route("/h5/batches/{id}/eligibility", get(eligibility))
        .route("/h5/batches/{id}/claim", post(claim))
        .route("/h5/batches/{id}/challenge", post(challenge))
        .route("/h5/batches/{id}/register", post(register))
        .route("/h5/identity", post(identity))
        .route("/h5/identity/real-name", post(real_name))
}

fn batch_id(raw: &str) -> Result<BatchId, Msg> {
    raw.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::h5::NO_BATCH))
}

/// A position as the browser gave it (WGS-84), all fields optional.
#[derive(Debug, Default, Deserialize)]
pub struct Where {
    pub lat: Option<String>,
    pub lng: Option<String>,
    pub accuracy_m: Option<String>,
}

impl Where {
    /// The position, or none when not given; a bad number is named.
    pub fn position(&self) -> Result<Option<Position>, Msg> {
        let num = |s: &Option<String>| -> Result<Option<f64>, Msg> {
            match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(v) => v.parse::<f64>().map(Some).map_err(|_| Msg::field(zh::h5::POSITION_NUMBER)),
            }
        };
        let (lat, lng, acc) = (num(&self.lat)?, num(&self.lng)?, num(&self.accuracy_m)?);
        quan_http::routes::claims::position(lat, lng, None, acc).map_err(Msg::of)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/batch.html")]
struct Page {
    c: Chrome,
    b: BatchCard,
    now_ms: i64,
    id_masked: Option<String>,
    /// The recorded number passed a real-name check.
    real_name_checked: bool,
    lottery: Option<Lottery>,
}

/// A lottery batch as the resident sees it.
#[derive(Debug)]
struct Lottery {
    opens: String,
    closes: String,
    open_now: bool,
    registered: bool,
    /// 已中签 / 未中签 after the draw; empty before.
    result: &'static str,
    won: bool,
    registrants: usize,
    winners_max: usize,
}

impl Lottery {
    fn of(m: &quan_engine::lottery::MyLottery, now: chrono::DateTime<chrono::Utc>) -> Lottery {
        Lottery {
            opens: zh::beijing(m.opens),
            closes: zh::beijing(m.closes),
            open_now: m.opens <= now && now < m.closes,
            registered: m.registered,
            result: match m.won {
                None => "",
                Some(true) => zh::h5::WON,
                Some(false) => zh::h5::LOST,
            },
            won: m.won == Some(true),
            registrants: m.registrants,
            winners_max: m.winners_max,
        }
    }
}

async fn page(State(state): State<AppState>, signed: Signed<H5>, Path(id): Path<String>) -> Result<Page, Msg> {
    let p = state.engine.resident_batch(&signed.actor, batch_id(&id)?).await.map_err(Msg::of)?;
    let identity = state.engine.my_identity(&signed.actor).await.map_err(Msg::of)?;
    let now = state.engine.now();
    let b = BatchCard::of(&p, now, state.engine.config().risk.pow_lead_s);
    let lottery = if b.lottery {
        let m = state.engine.my_lottery(&signed.actor, p.batch.id).await.map_err(Msg::of)?;
        Some(Lottery::of(&m, now))
    } else {
        None
    };
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        b,
        now_ms: now.timestamp_millis(),
        real_name_checked: identity.as_ref().is_some_and(|i| i.real_name_checked_at.is_some()),
        id_masked: identity.map(|i| i.id_masked),
        lottery,
    })
}

/// One failed rule, said plainly, with what to do.
#[derive(Debug)]
struct Failed {
    code: &'static str,
    what: &'static str,
    todo: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/_eligibility.html")]
struct Eligibility {
    failed: Vec<Failed>,
    located: Option<String>,
}

async fn eligibility(
    State(state): State<AppState>,
    signed: Signed<H5>,
    Path(id): Path<String>,
    Query(q): Query<Where>,
) -> Result<Eligibility, Msg> {
    let d = state.engine.eligibility(&signed.actor, batch_id(&id)?, q.position()?).await.map_err(Msg::of)?;
    let located = d.located.map(|l| match l {
        quan_engine::districts::Located::Inside(c) => zh::h5::inside(c.as_str()),
        quan_engine::districts::Located::Uncertain { .. } => zh::h5::NEAR_BORDER.to_owned(),
        quan_engine::districts::Located::Outside => zh::h5::OUTSIDE.to_owned(),
    });
    let failed = d
        .failures
        .iter()
        .map(|f| {
            let (what, todo) = zh::failure(f.code);
            Failed { code: f.code, what, todo }
        })
        .collect();
    Ok(Eligibility { failed, located })
}

#[derive(Debug, Deserialize)]
struct IdForm {
    id_number: String,
}

async fn identity(
    State(state): State<AppState>,
    signed: Signed<H5>,
    axum::Form(f): axum::Form<IdForm>,
) -> Result<Msg, Msg> {
    let i = state.engine.verify_identity(&signed.actor, f.id_number.trim()).await.map_err(Msg::of)?;
    Ok(Msg::ok(zh::h5::identity_recorded(&i.id_masked)))
}

#[derive(Debug, Deserialize)]
struct RealNameForm {
    name: String,
    id_number: String,
    phone: String,
}

async fn real_name(
    State(state): State<AppState>,
    signed: Signed<H5>,
    axum::Form(f): axum::Form<RealNameForm>,
) -> Result<Msg, Msg> {
    let i = state.engine.check_real_name(&signed.actor, &f.name, &f.id_number, &f.phone).await.map_err(Msg::of)?;
    Ok(Msg::ok(zh::h5::real_name_checked(&i.id_masked)))
}

#[derive(Debug, Deserialize)]
struct ClaimForm {
    kind: Option<String>,
    #[serde(flatten)]
    at: Where,
    pow_challenge: Option<String>,
    pow_nonce: Option<String>,
}

/// A proof-of-work challenge as the page's script reads it.
#[derive(Debug, serde::Serialize)]
struct ChallengeJson {
    challenge: String,
    bits: u8,
    expires_ms: i64,
}

async fn challenge(
    State(state): State<AppState>,
    signed: Signed<H5>,
    client: ClientAddr,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<ChallengeJson>, Msg> {
    let ctx = client.claim_context(&headers).map_err(Msg::of)?;
    let c = state.engine.claim_challenge(&signed.actor, batch_id(&id)?, &ctx).await.map_err(Msg::of)?;
    Ok(axum::Json(ChallengeJson { challenge: c.challenge, bits: c.bits, expires_ms: c.expires_at.timestamp_millis() }))
}

#[derive(Template, WebTemplate)]
#[template(path = "h5/_claimed.html")]
struct Claimed {
    vouchers: Vec<String>,
}

async fn claim(
    State(state): State<AppState>,
    signed: Signed<H5>,
    client: ClientAddr,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ClaimForm>,
) -> Result<(StatusCode, Claimed), Msg> {
    let position = f.at.position()?;
    let kind = f.kind.as_deref().filter(|k| !k.is_empty());
    let mut ctx = client.claim_context(&headers).map_err(Msg::of)?;
    ctx.pow = match (f.pow_challenge.filter(|c| !c.is_empty()), f.pow_nonce.filter(|n| !n.is_empty())) {
        (Some(challenge), Some(nonce)) => Some(PowSolution { challenge, nonce }),
        _ => None,
    };
    let e = &state.engine;
    let c = e.claim_keyed(&signed.actor, batch_id(&id)?, kind, position, None, &ctx).await.map_err(Msg::of)?;
    let vouchers = c.vouchers.iter().map(|v| v.id.to_string()).collect();
    Ok((StatusCode::CREATED, Claimed { vouchers }))
}

/// Registration for a lottery batch, with the position when its rule names districts.
async fn register(
    State(state): State<AppState>,
    signed: Signed<H5>,
    Path(id): Path<String>,
    axum::Form(at): axum::Form<Where>,
) -> Result<(StatusCode, Msg), Msg> {
    let position = at.position()?;
    state.engine.register_for_lottery(&signed.actor, batch_id(&id)?, position).await.map_err(Msg::of)?;
    Ok((StatusCode::CREATED, Msg::ok(zh::h5::REGISTERED)))
}
