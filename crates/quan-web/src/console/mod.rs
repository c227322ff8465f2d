//! The console (`/console/`) for officials, operators and auditors, on the
//! pages' stack: sign-in, the campaigns of my region, a campaign created
//! from a form that mirrors the campaign file (each error beside its field
//! with the rule's name), funding and starting. What a role may not do is
//! not offered (an auditor sees no write control), and the engine refuses it
//! anyway.

mod amend;
mod audit;
mod campaigns;
mod cases;
mod complaints;
mod dashboard;
mod districts;
mod drafts;
mod holds;
mod identities;
mod merchants;
mod partners;
mod pauses;
mod reports;
mod settlement;
mod staff;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::{get, post};
use quan_domain::Role;
use quan_engine::Actor;
use quan_http::AppState;

use crate::Chrome;
use crate::login::{StaffLogin, staff_login};
use crate::msg::Msg;
use crate::session::{Console, Signed};
use crate::zh::{self, yuan};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(home))
        .route("/console/login", get(login_page).post(staff_login::<Console>))
        .route("/console/logout", post(crate::login::logout::<Console>))
        .merge(campaigns::router())
        .merge(staff::router())
        .merge(merchants::router())
        .merge(complaints::router())
        .merge(drafts::router())
        .merge(dashboard::router())
        .merge(reports::router())
        .merge(amend::router())
        .merge(districts::router())
        .merge(settlement::router())
        .merge(audit::router())
        .merge(pauses::router())
        .merge(partners::router())
        .merge(identities::router())
        .merge(holds::router())
        .merge(cases::router())
}

async fn login_page() -> StaffLogin {
    StaffLogin { c: Chrome::public(), title: zh::console::TITLE, action: "/console/login" }
}

/// Who is signed in, as the console's header shows them.
pub(crate) struct Me {
    pub name: String,
    pub role: &'static str,
    pub region: String,
    /// Officials create, fund and start campaigns.
    pub official: bool,
    /// Operators review merchants and work complaints.
    pub operator: bool,
}

impl Me {
    pub fn of(actor: &Actor) -> Me {
        match actor {
            Actor::Staff { user, .. } => Me {
                name: user.display_name.clone(),
                role: match user.role {
                    Role::Official => "官员",
                    Role::Operator => "运营",
                    Role::Auditor => "审计",
                    _ => "",
                },
                region: user.region.to_string(),
                official: user.role == Role::Official,
                operator: user.role == Role::Operator,
            },
            Actor::Resident { .. } => {
                Me { name: String::new(), role: "", region: String::new(), official: false, operator: false }
            }
        }
    }
}

/// A campaign in the list.
#[derive(Debug)]
pub(crate) struct Row {
    pub id: String,
    pub name: String,
    pub region: String,
    pub status: &'static str,
    pub budget: String,
    pub funded: String,
    pub dates: String,
}

impl Row {
    pub fn of(c: &quan_store::Campaign) -> Row {
        Row {
            id: c.id.to_string(),
            name: c.spec.name.clone(),
            region: c.spec.region.to_string(),
            status: zh::console::status(c.status),
            budget: yuan(c.spec.budget_fen.as_i64()),
            funded: yuan(c.funded.as_i64()),
            dates: format!("{} 至 {}", c.spec.starts_on, c.spec.ends_on),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/home.html")]
struct Home {
    c: Chrome,
    me: Me,
    rows: Vec<Row>,
}

async fn home(State(state): State<AppState>, signed: Signed<Console>) -> Result<Home, Msg> {
    let list =
        state.engine.list_campaigns(&signed.actor, None, quan_engine::LIST_LEN_MAX, None).await.map_err(Msg::of)?;
    Ok(Home { c: Chrome::signed(&signed.csrf), me: Me::of(&signed.actor), rows: list.iter().map(Row::of).collect() })
}
