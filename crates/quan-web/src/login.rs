//! Signing in and out of a page set: staff (till, shop) with a password,
//! residents with an SMS code (in `h5`). The session is the API's; the
//! pages keep its token in their area's cookie.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_engine::auth::Issued;
use quan_http::AppState;
use quan_http::extract::ClientAddr;
use serde::Deserialize;

use crate::Chrome;
use crate::msg::Msg;
use crate::session::{self, Area};

/// The answer to a successful login: the cookie, and the area's home.
pub fn signed_in<A: Area>(state: &AppState, headers: &HeaderMap, issued: &Issued) -> Response {
    let max_age = (issued.expires_at - state.engine.now()).num_seconds().max(0);
    let home = format!("{}/", A::BASE);
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(header::SET_COOKIE, session::sign_in::<A>(headers, &issued.token, max_age));
    if let Ok(v) = home.parse() {
        h.insert("hx-redirect", v);
    }
    r
}

/// Ends the session of area `A` (the same as the API's logout) and goes to its login page.
pub async fn logout<A: Area>(State(state): State<AppState>, signed: session::Signed<A>) -> Response {
    if let Err(e) = state.engine.logout(&signed.actor).await {
        tracing::warn!(error = %e, "a page logout failed; the cookie is cleared anyway");
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::SET_COOKIE, session::sign_out::<A>());
    if let Ok(v) = A::LOGIN.parse() {
        r.headers_mut().insert("hx-redirect", v);
    }
    r
}

#[derive(Template, WebTemplate)]
#[template(path = "staff_login.html")]
pub struct StaffLogin {
    pub c: Chrome,
    pub title: &'static str,
    pub action: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    pub username: String,
    pub password: String,
}

/// A staff login from a page of area `A`; only the area's roles get in.
pub async fn staff_login<A: Area>(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(f): axum::Form<PasswordForm>,
) -> Result<Response, Msg> {
    session::require_same_site(&headers, crate::zh::CROSS_SITE_LOGIN)?;
    if f.username.trim().is_empty() || f.password.is_empty() {
        return Err(Msg::field(crate::zh::CREDENTIALS));
    }
    let issued = state.engine.login(&f.username, &f.password, &client.0).await.map_err(Msg::of)?;
    if !A::ROLES.contains(&issued.actor.role()) {
        let _ = state.engine.logout(&issued.actor).await;
        return Err(Msg::warn(StatusCode::FORBIDDEN, "forbidden_role", crate::zh::WRONG_DOOR));
    }
    Ok(signed_in::<A>(&state, &headers, &issued))
}
