//! Who is signed in to a page set: an HttpOnly, SameSite=Strict cookie
//! per set (`/h5`, `/till`, `/merchant`) holding the same opaque token the
//! API issues, and a CSRF token derived from it that every state-changing
//! request must send back in `X-CSRF-Token` (htmx sends it from
//! `hx-headers` on the page's body).

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_domain::Role;
use quan_engine::Actor;
use quan_http::AppState;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One of the page sets, each with its own cookie and login page.
pub trait Area: Send + Sync + 'static {
    const COOKIE: &'static str;
    const BASE: &'static str;
    const LOGIN: &'static str;
    const ROLES: &'static [Role];
}

#[derive(Debug)]
pub struct H5;
impl Area for H5 {
    const COOKIE: &'static str = "quan_h5";
    const BASE: &'static str = "/h5";
    const LOGIN: &'static str = "/h5/login";
    const ROLES: &'static [Role] = &[Role::Resident];
}

#[derive(Debug)]
pub struct Till;
impl Area for Till {
    const COOKIE: &'static str = "quan_till";
    const BASE: &'static str = "/till";
    const LOGIN: &'static str = "/till/login";
    const ROLES: &'static [Role] = &[Role::Cashier];
}

#[derive(Debug)]
pub struct Shop;
impl Area for Shop {
    const COOKIE: &'static str = "quan_shop";
    const BASE: &'static str = "/merchant";
    const LOGIN: &'static str = "/merchant/login";
    const ROLES: &'static [Role] = &[Role::MerchantOwner];
}

#[derive(Debug)]
pub struct Console;
impl Area for Console {
    const COOKIE: &'static str = "quan_console";
    const BASE: &'static str = "/console";
    const LOGIN: &'static str = "/console/login";
    const ROLES: &'static [Role] = &[Role::Official, Role::Operator, Role::Auditor];
}

/// The signed-in person of area `A`, and the CSRF token of their session.
#[derive(Debug)]
pub struct Signed<A: Area> {
    pub actor: Actor,
    pub csrf: String,
    _area: PhantomData<A>,
}

/// The CSRF token of a session: a hash of its secret token, which only
/// the session's own pages can know.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"quan-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())[..32].to_owned()
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Not signed in (or not allowed here): to the area's login page. An htmx
/// request is told with `HX-Redirect`, so the whole page goes there.
#[derive(Debug)]
pub struct ToLogin {
    to: &'static str,
    htmx: bool,
    bad_csrf: bool,
}

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        if self.bad_csrf {
            return (StatusCode::FORBIDDEN, crate::zh::STALE_PAGE).into_response();
        }
        if self.htmx {
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut().insert("hx-redirect", HeaderValue::from_static(self.to));
            return r;
        }
        (StatusCode::SEE_OTHER, [(header::LOCATION, self.to)]).into_response()
    }
}

impl<A: Area> FromRequestParts<AppState> for Signed<A> {
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ToLogin> {
        let htmx = parts.headers.contains_key("hx-request");
        let to_login = ToLogin { to: A::LOGIN, htmx, bad_csrf: false };
        let Some(token) = cookie(&parts.headers, A::COOKIE) else { return Err(to_login) };
        let Ok(actor) = state.engine.authenticate(Some(token)).await else { return Err(to_login) };
        if !A::ROLES.contains(&actor.role()) {
            return Err(to_login);
        }
        let csrf = csrf_token(token);
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !bool::from(sent.as_bytes().ct_eq(csrf.as_bytes())) {
                return Err(ToLogin { bad_csrf: true, ..to_login });
            }
        }
        Ok(Signed { actor, csrf, _area: PhantomData })
    }
}

/// The session token in area `A`'s cookie, if any (for logging out).
pub fn token_of<A: Area>(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, A::COOKIE)
}

/// A form posted before signing in (login, a shop's application) must come
/// from this site's own pages: the browser says so in `Sec-Fetch-Site` or
/// `Origin`.
pub fn same_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let host = host.to_str().unwrap_or("");
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        // No browser headers at all: not a browser's cross-site form.
        _ => true,
    }
}

/// [`same_site`], or the refusal a page shows (saying `text`): a form posted from elsewhere.
pub fn require_same_site(headers: &HeaderMap, text: &str) -> Result<(), crate::msg::Msg> {
    if same_site(headers) { Ok(()) } else { Err(crate::msg::Msg::warn(StatusCode::FORBIDDEN, "cross_site", text)) }
}

/// Whether the page was reached over TLS (directly or through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` that signs area `A` in with `token` until `max_age_s`.
pub fn sign_in<A: Area>(headers: &HeaderMap, token: &str, max_age_s: i64) -> HeaderValue {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    let v = format!("{}={token}; Path={}; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}", A::COOKIE, A::BASE);
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` that signs area `A` out.
pub fn sign_out<A: Area>() -> HeaderValue {
    let v = format!("{}=; Path={}; HttpOnly; SameSite=Strict; Max-Age=0", A::COOKIE, A::BASE);
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_differs_per_session_and_never_shows_the_session_token() {
        let a = csrf_token("secret-one");
        assert_eq!(a.len(), 32);
        assert_ne!(a, csrf_token("secret-two"));
        assert!(!a.contains("secret"));
        assert_eq!(a, csrf_token("secret-one"));
    }

    #[test]
    fn a_cookie_is_found_by_its_exact_name_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("quan_h5x=no; quan_h5=yes; other=1"));
        assert_eq!(cookie(&h, "quan_h5"), Some("yes"));
        assert_eq!(cookie(&h, "quan_till"), None);
    }

    #[test]
    fn a_cross_site_form_is_refused_and_a_same_origin_one_accepted() {
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_site(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_site(&h));
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("quan.example:8080"));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_site(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://quan.example:8080"));
        assert!(same_site(&h));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_only_over_tls() {
        let plain = sign_in::<H5>(&HeaderMap::new(), "t", 60);
        let s = plain.to_str().unwrap_or("");
        assert!(
            s.contains("HttpOnly") && s.contains("SameSite=Strict") && s.contains("Path=/h5") && !s.contains("Secure")
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(sign_in::<Till>(&h, "t", 60).to_str().unwrap_or("").contains("; Secure"));
    }
}
