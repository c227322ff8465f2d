//! The shop's pages (`/merchant/`): the public application form (credit
//! code checked as it is typed), then, signed in as the owner, the
//! application's status, tills and cashiers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use quan_domain::merchant::{CreditCode, LatLng, MerchantApplication, MerchantStatus, Scale, SettlementAccount};
use quan_domain::{Industry, MerchantId, TillId};
use quan_engine::Actor;
use quan_engine::merchants::OwnerAccount;
use quan_http::AppState;
use quan_http::extract::ClientAddr;
use serde::Deserialize;

use crate::Chrome;
use crate::login::{StaffLogin, staff_login};
use crate::msg::Msg;
use crate::session::{self, Shop, Signed};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/merchant", get(|| async { Redirect::permanent("/merchant/") }))
        .route("/merchant/", get(home))
        .route("/merchant/login", get(login_page).post(staff_login::<Shop>))
        .route("/merchant/logout", post(crate::login::logout::<Shop>))
        .route("/merchant/apply", get(apply_page).post(apply))
        .route("/merchant/apply/credit-code", post(check_credit_code))
        .route("/merchant/tills", post(create_till))
        .route("/merchant/cashiers", post(create_cashier))
}

async fn login_page() -> StaffLogin {
    StaffLogin { c: Chrome::public(), title: "商户管理", action: "/merchant/login" }
}

/// A choice in a select.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/apply.html")]
struct ApplyPage {
    c: Chrome,
    industries: Vec<Choice>,
    districts: Vec<Choice>,
}

async fn apply_page(State(state): State<AppState>) -> Result<ApplyPage, Msg> {
    let industries =
        Industry::ALL.iter().map(|i| Choice { value: i.as_str().to_owned(), label: i.zh().to_owned() }).collect();
    let districts = state
        .engine
        .districts()
        .await
        .map_err(|e| Msg::internal(&e))?
        .into_iter()
        .map(|d| Choice { value: d.code.to_string(), label: format!("{}（{}）", d.name, d.code) })
        .collect();
    Ok(ApplyPage { c: Chrome::public(), industries, districts })
}

#[derive(Debug, Deserialize)]
struct CreditForm {
    credit_code: String,
}

/// The credit code as it is typed: its length, characters and check digit.
async fn check_credit_code(axum::Form(f): axum::Form<CreditForm>) -> Msg {
    let raw = f.credit_code.trim();
    if raw.is_empty() {
        return Msg::ok("");
    }
    match CreditCode::parse(raw) {
        Ok(_) => Msg::ok("统一社会信用代码校验通过"),
        Err(e) => Msg::field(match e.rule() {
            "credit_code_length" => "统一社会信用代码是 18 位",
            "credit_code_character" => "含有不允许的字符（不能有 I、O、Z、S、V）",
            _ => "校验位不对，请核对",
        }),
    }
}

#[derive(Debug, Deserialize)]
struct ApplyForm {
    legal_name: String,
    credit_code: String,
    industry: String,
    scale: String,
    address: String,
    address_district: String,
    lat: Option<String>,
    lng: Option<String>,
    contact_name: String,
    contact_phone: String,
    bank_name: String,
    account_name: String,
    account_number: String,
    username: String,
    password: String,
}

fn location(f: &ApplyForm) -> Result<Option<LatLng>, Msg> {
    let num = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::parse::<f64>);
    match (num(&f.lat), num(&f.lng)) {
        (None, None) => Ok(None),
        (Some(Ok(lat)), Some(Ok(lng))) => Ok(Some(LatLng { lat, lng })),
        _ => Err(Msg::field("位置：请同时填写纬度和经度（数字），或点“使用我的位置”")),
    }
}

async fn apply(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(f): axum::Form<ApplyForm>,
) -> Result<(StatusCode, Msg), Msg> {
    if !session::same_site(&headers) {
        return Err(Msg::warn(StatusCode::FORBIDDEN, "cross_site", "请从本站页面提交"));
    }
    let industry = Industry::parse(&f.industry).ok_or_else(|| Msg::field("请选择行业"))?;
    let scale = Scale::parse(&f.scale).ok_or_else(|| Msg::field("请选择规模"))?;
    let app = MerchantApplication {
        legal_name: f.legal_name.trim().to_owned(),
        credit_code: f.credit_code.trim().to_owned(),
        industry,
        scale,
        address: f.address.trim().to_owned(),
        address_district: f.address_district.trim().to_owned(),
        location: location(&f)?,
        contact_name: f.contact_name.trim().to_owned(),
        contact_phone: f.contact_phone.trim().to_owned(),
        settlement_account: SettlementAccount {
            bank_name: f.bank_name.trim().to_owned(),
            account_name: f.account_name.trim().to_owned(),
            account_number: f.account_number.trim().to_owned(),
        },
    };
    let owner = OwnerAccount {
        username: f.username.trim().to_owned(),
        password: f.password.clone(),
        display_name: app.contact_name.clone(),
    };
    let (m, _) = state.engine.apply_merchant(&app, &owner, &client.0).await.map_err(Msg::of)?;
    let text = format!("申请已提交（编号 {}），审核结果请用账号 {} 登录查看", m.id, owner.username);
    Ok((StatusCode::CREATED, Msg::ok(text)))
}

fn merchant_of(actor: &Actor) -> Result<MerchantId, Msg> {
    match actor {
        Actor::Staff { user, .. } => {
            user.merchant.ok_or_else(|| Msg::warn(StatusCode::FORBIDDEN, "forbidden", "没有权限"))
        }
        Actor::Resident { .. } => Err(Msg::warn(StatusCode::FORBIDDEN, "forbidden", "没有权限")),
    }
}

fn status_zh(s: MerchantStatus) -> &'static str {
    match s {
        MerchantStatus::Pending => "审核中",
        MerchantStatus::Approved => "已通过，可受理消费券",
        MerchantStatus::Rejected => "未通过",
        MerchantStatus::Suspended => "已暂停",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/home.html")]
struct Home {
    c: Chrome,
    name: String,
    status: &'static str,
    reason: String,
    approved: bool,
    tills: Vec<Choice>,
}

async fn home(State(state): State<AppState>, signed: Signed<Shop>) -> Result<Response, Msg> {
    let id = merchant_of(&signed.actor)?;
    let m = state.engine.get_merchant(&signed.actor, id).await.map_err(Msg::of)?;
    let tills = state.engine.tills(&signed.actor, id).await.map_err(Msg::of)?;
    let page = Home {
        c: Chrome::signed(&signed.csrf),
        name: m.app.legal_name.clone(),
        status: status_zh(m.status),
        reason: m.status_reason.clone(),
        approved: m.status == MerchantStatus::Approved,
        tills: tills
            .iter()
            .map(|t| Choice { value: t.id.to_string(), label: format!("{} {}", t.code, t.name) })
            .collect(),
    };
    Ok(page.into_response())
}

#[derive(Debug, Deserialize)]
struct TillForm {
    code: String,
    name: String,
}

async fn create_till(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    axum::Form(f): axum::Form<TillForm>,
) -> Result<Response, Msg> {
    let id = merchant_of(&signed.actor)?;
    state.engine.create_till(&signed.actor, id, f.code.trim(), f.name.trim()).await.map_err(Msg::of)?;
    let mut r = StatusCode::CREATED.into_response();
    r.headers_mut().insert("hx-refresh", axum::http::HeaderValue::from_static("true"));
    Ok(r)
}

#[derive(Debug, Deserialize)]
struct CashierForm {
    till: String,
    username: String,
    display_name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "shop/_cashier.html")]
struct CashierMade {
    username: String,
    password: String,
}

async fn create_cashier(
    State(state): State<AppState>,
    signed: Signed<Shop>,
    axum::Form(f): axum::Form<CashierForm>,
) -> Result<(StatusCode, CashierMade), Msg> {
    let id = merchant_of(&signed.actor)?;
    let till: TillId = f.till.parse().map_err(|_| Msg::field("请选择收银台"))?;
    let (user, generated) = state
        .engine
        .create_cashier(&signed.actor, id, f.username.trim(), f.display_name.trim(), till, None)
        .await
        .map_err(Msg::of)?;
    let made = CashierMade { username: user.username.to_string(), password: generated.unwrap_or_default() };
    Ok((StatusCode::CREATED, made))
}
