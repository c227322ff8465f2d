//! The pages over HTTP without a browser: security headers, the cookie's
//! flags, CSRF refusals, the credit-code check as typed, and the areas
//! closed to the wrong role.

use quan_domain::Role;
use quan_store::conformance::credit_code;
use quan_testkit::TestApp;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, SET_COOKIE, X_FRAME_OPTIONS};

#[tokio::test]
async fn every_page_forbids_other_origins_inline_scripts_and_framing() {
    let app = TestApp::sqlite().await;
    for path in ["/", "/h5/login", "/till/login", "/merchant/login", "/merchant/apply"] {
        let r = app.client.get(app.url(path)).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let csp = r.headers().get(CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(csp.starts_with("default-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(r.headers().get(X_FRAME_OPTIONS).and_then(|v| v.to_str().ok()), Some("DENY"), "{path}");
        let html = r.text().await.unwrap_or_default();
        assert!(!html.contains("<script>") && !html.contains(" onclick="), "{path} has an inline script");
    }
}

#[tokio::test]
async fn the_credit_code_is_checked_as_it_is_typed() {
    let app = TestApp::sqlite().await;
    let good = credit_code(7).to_string();
    let r =
        app.client.post(app.url("/merchant/apply/credit-code")).form(&[("credit_code", good.as_str())]).send().await;
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap_or_default().contains("校验通过"));
    let mut bad = good.clone();
    let last = if bad.ends_with('1') { '2' } else { '1' };
    bad.pop();
    bad.push(last);
    let r = app.client.post(app.url("/merchant/apply/credit-code")).form(&[("credit_code", bad.as_str())]).send().await;
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = r.text().await.unwrap_or_default();
    assert!(said.contains("校验位"), "{said}");
}

#[tokio::test]
async fn a_cashier_signs_in_with_a_strict_http_only_cookie_and_a_post_without_the_csrf_token_is_refused() {
    let app = TestApp::sqlite().await;
    let (_, _) = app.create_staff("ops.one", Role::Operator, "4205").await;
    let (_, pw) = app.create_staff("till.wrong", Role::Official, "4205").await;
    let r = app
        .client
        .post(app.url("/till/login"))
        .form(&[("username", "till.wrong"), ("password", pw.as_str())])
        .send()
        .await;
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "an official cannot sign in at a till");
    assert!(r.headers().get(SET_COOKIE).is_none());

    let shop = quan_testkit::fixtures::shop(&app, 3, "catering").await;
    let r = app
        .client
        .post(app.url("/till/login"))
        .form(&[("username", "cashier3"), ("password", shop.cashier_pw.as_str())])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let cookie = r.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/till"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap_or("").to_owned();
    let home = app.client.get(app.url("/till/")).header("cookie", &pair).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(home.status(), StatusCode::OK);
    let refund = app
        .client
        .post(app.url("/till/redeem"))
        .header("cookie", &pair)
        .form(&[("code", "x"), ("amount", "1")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refund.status(), StatusCode::FORBIDDEN, "no CSRF token, no change");
    // The till's cookie opens nothing of the resident's or the shop's.
    let other = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default();
    for path in ["/h5/wallet", "/merchant/"] {
        let r = other.get(app.url(path)).header("cookie", &pair).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    }
}
