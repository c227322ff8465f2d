//! Logging in and out through the API, staff and residents.

use std::time::{Duration, Instant};

use quan_domain::Role;
use quan_testkit::{Backend, TestApp, TestOptions, error_code};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_staff_member_logs_in_sees_themself_and_logs_out() {
    let app = TestApp::sqlite().await;
    let (user, token) = app.staff("yichang.official", Role::Official, "4205").await;
    let (status, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["id"], user.id.to_string());
    assert_eq!(me["role"], "official");
    let (status, _) = app.post("/api/v1/auth/logout", Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let (status, body) = app.get("/api/v1/me", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "missing_token"));
}

#[tokio::test]
async fn a_session_expires_after_its_time_to_live() {
    let app = TestApp::sqlite().await;
    let (_, token) = app.staff("yichang.official", Role::Official, "4205").await;
    app.clock.advance(chrono::Duration::hours(12) - chrono::Duration::seconds(1));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::UNAUTHORIZED);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer_and_timing() {
    let app =
        TestApp::start(TestOptions { backend: Backend::Sqlite, real_password_hashing: true, ..TestOptions::default() })
            .await
            .unwrap_or_else(|| panic!("sqlite"));
    app.create_staff("yichang.official", Role::Official, "4205").await;
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    let mut bodies = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        let (s1, b1) = app
            .post("/api/v1/auth/login", None, &json!({"username": "yichang.official", "password": "not the password"}))
            .await;
        wrong.push(t.elapsed());
        let t = Instant::now();
        let (s2, b2) = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": format!("nobody{i}"), "password": "not the password"}),
            )
            .await;
        unknown.push(t.elapsed());
        assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
        bodies.push((
            b1["error"]["code"].clone(),
            b1["error"]["message"].clone(),
            b2["error"]["code"].clone(),
            b2["error"]["message"].clone(),
        ));
    }
    for (c1, m1, c2, m2) in bodies {
        assert_eq!((c1, m1), (c2, m2));
    }
    let (w, u) = (median(wrong), median(unknown));
    // Both run one full argon2id hash; without the dummy hash an unknown user
    // would answer in well under a millisecond.
    let ratio = w.as_secs_f64() / u.as_secs_f64();
    assert!((0.5..2.0).contains(&ratio), "wrong password {w:?} vs unknown user {u:?}");
}

#[tokio::test]
async fn a_resident_logs_in_with_an_sms_code() {
    let app = TestApp::sqlite().await;
    let (status, body) = app.post("/api/v1/auth/sms-codes", None, &json!({"phone": "+86 138 1234 5678"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["resend_after_s"], 60);
    let (status, body) = app.post("/api/v1/auth/sms-codes", None, &json!({"phone": "13812345678"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::TOO_MANY_REQUESTS, "code_recently_sent"));
    let code = app.sms.last_code("13812345678").unwrap_or_default();
    let (status, body) =
        app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": "13812345678", "code": "12345"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
    assert_eq!(body["error"]["details"]["path"], "code");
    let (status, s) =
        app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": "13812345678", "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["account"]["kind"], "resident");
    assert_eq!(s["account"]["phone_masked"], "138****5678");
    let token = s["token"].as_str().unwrap_or_default();
    let (status, me) = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!me.to_string().contains("13812345678"), "the full number is never shown: {me}");
}

#[tokio::test]
async fn a_bad_phone_number_is_refused_without_echoing_it() {
    let app = TestApp::sqlite().await;
    let (status, body) = app.post("/api/v1/auth/sms-codes", None, &json!({"phone": "02787654321"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
    assert!(!body.to_string().contains("02787654321"));
    assert_eq!(app.sms.count(), 0);
}

#[tokio::test]
async fn changing_a_password_ends_every_session() {
    let app = TestApp::sqlite().await;
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let t1 = app.login("yichang.official", &pw).await;
    let t2 = app.login("yichang.official", &pw).await;
    let (status, body) = app
        .post(
            "/api/v1/me/password",
            Some(&t1),
            &json!({"current_password": "wrong", "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "wrong_password"));
    let (status, body) =
        app.post("/api/v1/me/password", Some(&t1), &json!({"current_password": pw, "new_password": "short"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "password_too_short"));
    let (status, _) = app
        .post(
            "/api/v1/me/password",
            Some(&t1),
            &json!({"current_password": pw, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", Some(&t2)).await.0, StatusCode::UNAUTHORIZED);
    app.login("yichang.official", "a brand new password").await;
}

async fn resident_token(app: &TestApp, phone: &str) -> String {
    app.post("/api/v1/auth/sms-codes", None, &json!({"phone": phone})).await;
    let code = app.sms.last_code(phone).unwrap_or_default();
    let (_, s) = app.post("/api/v1/auth/sms-codes/verify", None, &json!({"phone": phone, "code": code})).await;
    s["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_residents_logout_on_this_node_takes_effect_at_once_and_on_another_within_the_cache_window() {
    let app = TestApp::sqlite().await;
    let token = resident_token(&app, "13700001111").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::OK);
    let (status, _) = app.post("/api/v1/auth/logout", Some(&token), &json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::UNAUTHORIZED, "logged out here: at once");

    // A logout on another node deletes the session row; this node trusts its
    // memory of the token for at most `resident_session_cache_s` (5 s).
    app.clock.advance(chrono::Duration::seconds(61));
    let token = resident_token(&app, "13700002222").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::OK);
    app.exec_sql("DELETE FROM sessions WHERE resident_id IS NOT NULL").await;
    app.clock.advance(chrono::Duration::seconds(4));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::OK, "inside the window");
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, StatusCode::UNAUTHORIZED, "after the window");
}

/// Sends a code request as if through a proxy for `client`.
async fn sms_via(app: &TestApp, phone: &str, forwarded_for: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/sms-codes"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"phone": phone}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_address_and_a_stranger_cannot_pick_one() {
    let trusted = quan_http::TrustedProxies::parse("127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
    let opts = quan_testkit::TestOptions { trusted_proxies: trusted, ..quan_testkit::TestOptions::default() };
    let app = TestApp::start(opts).await.unwrap_or_else(|| panic!("SQLite is always available"));
    // Thirty people of a city behind the one proxy: nobody is throttled for the others.
    for i in 0..30 {
        assert_eq!(sms_via(&app, &format!("1380000{i:04}"), &format!("203.0.113.{i}")).await, StatusCode::ACCEPTED);
    }
    // One client asking for many numbers still meets its own limit (120 a minute).
    let mut limited = 0;
    for i in 0..125 {
        if sms_via(&app, &format!("1390000{i:04}"), "198.51.100.1").await == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert_eq!(limited, 5);
    // Without a trusted proxy the header is ignored: every request is the peer's.
    let plain = TestApp::sqlite().await;
    let mut limited = 0;
    for i in 0..125 {
        if sms_via(&plain, &format!("1370000{i:04}"), &format!("203.0.113.{i}")).await == StatusCode::TOO_MANY_REQUESTS
        {
            limited += 1;
        }
    }
    assert_eq!(limited, 5, "a client cannot escape its limit by writing a header");
}

#[tokio::test]
async fn failed_logins_from_one_address_cannot_lock_the_owner_out_elsewhere() {
    let trusted = quan_http::TrustedProxies::parse("127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
    let opts = quan_testkit::TestOptions { trusted_proxies: trusted, ..quan_testkit::TestOptions::default() };
    let app = TestApp::start(opts).await.unwrap_or_else(|| panic!("SQLite is always available"));
    let (_, _) = app.staff("yichang.official", Role::Official, "4205").await;
    let login = |pw: &'static str, from: &'static str| {
        let req = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": "yichang.official", "password": pw}));
        async move { req.send().await.unwrap_or_else(|e| panic!("{e}")).status() }
    };
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(login("wrong password!!", "6.6.6.6").await);
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "the guesser is slowed: {statuses:?}");
    assert_eq!(login("yichang.official-password-123", "10.0.0.8").await, StatusCode::OK, "the owner is not locked out");
}

#[tokio::test]
async fn an_official_resets_a_password_in_their_region_only_and_the_old_one_stops_working() {
    let app = TestApp::sqlite().await;
    let (_, official) = app.staff("yichang.official", Role::Official, "4205").await;
    let (op, op_pw) = app.create_staff("yichang.op", Role::Operator, "4205").await;
    let (far, _) = app.create_staff("hangzhou.op", Role::Operator, "3301").await;
    let op_token = app.login("yichang.op", &op_pw).await;
    let (status, body) = app.post(&format!("/api/v1/users/{}/password", far.id), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "outside the region: {body}");
    let (status, body) = app.post(&format!("/api/v1/users/{}/password", op.id), Some(&op_token), &json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an operator resets nobody: {body}");
    let (status, body) = app.post(&format!("/api/v1/users/{}/password", op.id), Some(&official), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["generated_password"].as_str().unwrap_or_default().to_owned();
    assert!(fresh.len() >= 12);
    let (status, _) = app.get("/api/v1/me", Some(&op_token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session ended");
    let (status, _) = app.post("/api/v1/auth/login", None, &json!({"username": "yichang.op", "password": op_pw})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!app.login("yichang.op", &fresh).await.is_empty());
}
