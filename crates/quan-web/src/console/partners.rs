//! Partners in the console (合作方): officials register a bank, payment
//! institution or city app with its first key (an HMAC secret shown once,
//! or an SM2 public key), add and revoke keys, and cut a partner off
//! (熔断) or let it back; officials, operators and auditors read the list.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use quan_engine::partners::{NewKey, NewPartner, PartnerError, PartnerView};
use quan_http::AppState;
use serde::Deserialize;

use super::Me;
use super::campaigns::field_error;
use crate::Chrome;
use crate::msg::{Msg, refreshed};
use crate::session::{Console, Signed};
use crate::zh::beijing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/partners", get(page).post(create))
        .route("/console/partners/{id}/keys", post(add_key))
        .route("/console/partners/{id}/keys/{serial}/revoke", post(revoke))
        .route("/console/partners/{id}/status", post(status))
}

/// A key as a line.
#[derive(Debug)]
struct KeyLine {
    serial: String,
    scheme: &'static str,
    since: String,
    revoked: String,
}

/// A partner as a card.
#[derive(Debug)]
struct Card {
    id: String,
    name: String,
    kind: &'static str,
    mode: &'static str,
    scopes: String,
    suspended: bool,
    reason: String,
    keys: Vec<KeyLine>,
    /// The webhook endpoint: its URL, and why it stopped when it did.
    hook_url: String,
    hook_off: String,
}

/// Why an endpoint stopped, as the operator reads it.
fn hook_reason(r: &str) -> String {
    let why = if r.contains("410") {
        "接收地址答复 410 Gone".to_owned()
    } else if r.contains("three days") {
        "连续约三天推送失败".to_owned()
    } else {
        r.to_owned()
    };
    format!("{why}，需合作方修复后重新设置推送地址（之后的事件会补发）")
}

fn kind_zh(k: &str) -> &'static str {
    match k {
        "bank" => "银行",
        "payment" => "支付机构",
        "city_app" => "城市 App",
        "mini_program" => "小程序",
        _ => "",
    }
}

impl Card {
    fn of(p: &PartnerView) -> Card {
        Card {
            id: p.id.to_string(),
            name: p.name.clone(),
            kind: kind_zh(p.kind),
            mode: if p.mode == "test" { "测试（沙箱数据）" } else { "正式" },
            scopes: p.scopes.join("、"),
            suspended: p.status == "suspended",
            reason: p.status_reason.clone(),
            hook_url: p.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
            hook_off: p
                .webhook
                .as_ref()
                .filter(|w| w.status == "disabled")
                .map(|w| format!("{} 起停止推送：{}", beijing(w.updated_at), hook_reason(&w.status_reason)))
                .unwrap_or_default(),
            keys: p
                .keys
                .iter()
                .map(|k| KeyLine {
                    serial: k.serial_no.clone(),
                    scheme: if k.scheme == "sm2" { "SM2" } else { "HMAC-SHA256" },
                    since: beijing(k.created_at),
                    revoked: k.revoked_at.map(beijing).unwrap_or_default(),
                })
                .collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/partners.html")]
struct Page {
    c: Chrome,
    me: Me,
    partners: Vec<Card>,
    platform_serial: String,
    platform_key: String,
}

async fn page(State(state): State<AppState>, signed: Signed<Console>) -> Result<Page, Msg> {
    let list = state.engine.partners(&signed.actor).await.map_err(Msg::of)?;
    let (platform_serial, platform_key) = state.engine.platform_certificate();
    Ok(Page {
        c: Chrome::signed(&signed.csrf),
        me: Me::of(&signed.actor),
        partners: list.iter().map(Card::of).collect(),
        platform_serial,
        platform_key,
    })
}

/// A refusal beside its field when it names one.
fn refused(e: PartnerError) -> Response {
    match e {
        PartnerError::Invalid(i) => field_error(&i.field, i.rule, &i.message),
        e => Msg::of(e).into_response(),
    }
}

fn key(scheme: &str, public_key: &str) -> NewKey {
    if scheme == "sm2" {
        NewKey::Sm2 { public_key: public_key.trim().to_owned(), serial_no: None }
    } else {
        NewKey::Hmac
    }
}

/// The key just made: its serial and, for HMAC, the secret, said once.
fn issued(name: &str, k: &quan_engine::partners::KeyIssued) -> Response {
    let text = match &k.secret {
        Some(s) => {
            format!("已为「{name}」生成密钥 {}。HMAC 密钥只显示这一次，请经安全渠道交给合作方：{s}", k.serial_no)
        }
        None => format!("已为「{name}」登记 SM2 公钥，密钥编号 {}", k.serial_no),
    };
    let mut r = Msg::ok(text).into_response();
    *r.status_mut() = StatusCode::CREATED;
    r
}

#[derive(Debug, Deserialize)]
struct CreateForm {
    name: String,
    kind: String,
    mode: String,
    #[serde(default)]
    checkout: Option<String>,
    #[serde(default)]
    claim: Option<String>,
    #[serde(default)]
    bill: Option<String>,
    scheme: String,
    #[serde(default)]
    public_key: String,
}

async fn create(
    State(state): State<AppState>,
    signed: Signed<Console>,
    axum::Form(f): axum::Form<CreateForm>,
) -> Response {
    let scopes = [("checkout", &f.checkout), ("claim", &f.claim), ("bill", &f.bill)]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(s, _)| s.to_owned())
        .collect();
    let req =
        NewPartner { name: f.name.clone(), kind: f.kind, mode: f.mode, scopes, key: key(&f.scheme, &f.public_key) };
    match state.engine.create_partner(&signed.actor, req).await {
        Ok((p, k)) => issued(&p.name, &k),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    scheme: String,
    #[serde(default)]
    public_key: String,
}

fn not_found() -> Response {
    Msg::of(PartnerError::NotFound).into_response()
}

async fn add_key(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<KeyForm>,
) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return not_found() };
    match state.engine.add_partner_key(&signed.actor, id, key(&f.scheme, &f.public_key)).await {
        Ok(k) => issued("合作方", &k),
        Err(e) => refused(e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path((id, serial)): Path<(String, String)>,
) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return not_found() };
    match state.engine.revoke_partner_key(&signed.actor, id, &serial).await {
        Ok(_) => refreshed(StatusCode::OK),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    /// `suspend` or `resume`.
    action: String,
    #[serde(default)]
    reason: String,
}

async fn status(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<StatusForm>,
) -> Response {
    let Ok(id) = uuid::Uuid::parse_str(&id) else { return not_found() };
    match state.engine.set_partner_status(&signed.actor, id, f.action == "suspend", &f.reason).await {
        Ok(_) => refreshed(StatusCode::OK),
        Err(e) => refused(e),
    }
}
