use chrono::Duration;
use quan_domain::{PhoneNumber, Region, Role, Username};
use quan_engine::auth::{LoginRejection, OtpCode, OtpRequestRejection, OtpVerifyRejection};
use quan_engine::users::{NewAccount, UserRejection};
use quan_engine::{Actor, Rejection};

use crate::harness;

fn account(name: &str, role: Role, region: &str, pw: Option<&str>) -> NewAccount {
    NewAccount {
        username: Username::parse(name).unwrap_or_else(|e| panic!("{e}")),
        role,
        region: Region::parse(region).unwrap_or_else(|e| panic!("{e}")),
        display_name: name.to_owned(),
        password: pw.map(str::to_owned),
    }
}

fn phone() -> PhoneNumber {
    PhoneNumber::parse("13812345678").unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let h = harness().await;
    h.engine
        .create_user_unchecked(account("alice", Role::Official, "4205", Some("a long password!")), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let unknown = h.engine.login("nobody", "a long password!", "test").await.err().map(|e| e.code());
    let wrong = h.engine.login("alice", "wrong password!!", "test").await.err().map(|e| e.code());
    assert_eq!(unknown, Some("invalid_credentials"));
    assert_eq!(wrong, unknown);
    let ok = h.engine.login("alice", "a long password!", "test").await.unwrap_or_else(|e| panic!("{e}"));
    let actor = h.engine.authenticate(Some(&ok.token)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(actor.role(), Role::Official);
}

#[tokio::test]
async fn a_token_stops_working_after_logout_expiry_or_disabling() {
    let h = harness().await;
    let (boss, _) = h
        .engine
        .create_user_unchecked(account("boss", Role::Official, "4205", Some("boss password 1")), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    h.engine
        .create_user_unchecked(account("clerk", Role::Auditor, "420502", Some("clerk password 1")), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let b = h.engine.login("boss", "boss password 1", "test").await.unwrap_or_else(|e| panic!("{e}"));
    let c = h.engine.login("clerk", "clerk password 1", "test").await.unwrap_or_else(|e| panic!("{e}"));
    let clerk = h.engine.authenticate(Some(&c.token)).await.unwrap_or_else(|e| panic!("{e}"));
    let Actor::Staff { user: clerk_user, .. } = &clerk else { panic!("staff expected") };
    h.engine.set_user_disabled(&b.actor, clerk_user.id, true).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(h.engine.authenticate(Some(&c.token)).await.is_err(), "disabled account");
    assert!(matches!(h.engine.login("clerk", "clerk password 1", "test").await, Err(LoginRejection::AccountDisabled)));
    h.engine.logout(&b.actor).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(h.engine.authenticate(Some(&b.token)).await.is_err(), "logged out");
    let again = h.engine.login("boss", "boss password 1", "test").await.unwrap_or_else(|e| panic!("{e}"));
    h.clock.advance(Duration::hours(12));
    assert!(h.engine.authenticate(Some(&again.token)).await.is_err(), "expired after 12 h");
    assert!(boss.created_by.is_none());
}

#[tokio::test]
async fn a_guesser_is_slowed_by_growing_delays_but_cannot_lock_the_owner_out_or_spray() {
    let h = harness().await;
    h.engine
        .create_user_unchecked(account("victim", Role::Official, "4205", Some("the real password")), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Five free failures from the attacker's address, then growing waits.
    for _ in 0..5 {
        let r = h.engine.login("victim", "guess guess guess", "6.6.6.6").await;
        assert!(matches!(r, Err(LoginRejection::InvalidCredentials)), "{r:?}");
    }
    let _ = h.engine.login("victim", "guess guess guess", "6.6.6.6").await;
    let r = h.engine.login("victim", "guess guess guess", "6.6.6.6").await;
    assert!(matches!(r, Err(LoginRejection::TooManyAttempts(1))), "{r:?}");
    h.clock.advance(Duration::seconds(1));
    let _ = h.engine.login("victim", "guess guess guess", "6.6.6.6").await;
    let r = h.engine.login("victim", "guess guess guess", "6.6.6.6").await;
    assert!(matches!(r, Err(LoginRejection::TooManyAttempts(2))), "the wait doubles: {r:?}");
    // The owner, from the office, is not slowed at all.
    assert!(h.engine.login("victim", "the real password", "10.0.0.8").await.is_ok());
    // One password over many usernames from one address runs out.
    let mut refused = 0;
    for i in 0..40 {
        if matches!(
            h.engine.login(&format!("user{i}"), "Spring2026!!", "7.7.7.7").await,
            Err(LoginRejection::TooManyAttempts(_))
        ) {
            refused += 1;
        }
    }
    assert_eq!(refused, 10, "thirty failures from an address, then it waits");
    assert!(h.engine.login("victim", "the real password", "10.0.0.8").await.is_ok(), "others are unaffected");
}

#[tokio::test]
async fn officials_create_accounts_only_inside_their_region_and_see_only_those() {
    let h = harness().await;
    h.engine
        .create_user_unchecked(account("yichang", Role::Official, "4205", Some("yichang password")), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (hz, _) = h
        .engine
        .create_user_unchecked(account("hangzhou", Role::Official, "3301", Some("hangzhou password")), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let yc = h.engine.login("yichang", "yichang password", "test").await.unwrap_or_else(|e| panic!("{e}")).actor;
    let outside = h.engine.create_user(&yc, account("aud1", Role::Auditor, "3301", None)).await;
    assert!(matches!(outside, Err(UserRejection::RegionOutside { .. })), "{outside:?}");
    let (aud, pw) = h
        .engine
        .create_user(&yc, account("aud2", Role::Auditor, "420502", None))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pw.as_ref().map(String::len), Some(20), "a generated password is returned once");
    assert!(matches!(h.engine.get_user(&yc, hz.id).await, Err(UserRejection::NotFound)));
    assert_eq!(h.engine.get_user(&yc, aud.id).await.ok().map(|u| u.id), Some(aud.id));
    let listed: Vec<_> = h
        .engine
        .list_users(&yc, None, 100, None)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(!listed.contains(&"hangzhou".to_owned()));
    let dup = h.engine.create_user(&yc, account("aud2", Role::Auditor, "4205", None)).await;
    assert!(matches!(dup, Err(UserRejection::UsernameTaken(_))));
    let resident = h.engine.create_user(&yc, account("res3", Role::Resident, "4205", None)).await;
    assert!(matches!(resident, Err(UserRejection::RoleNotCreatable(Role::Resident))));
}

#[tokio::test]
async fn a_resident_logs_in_with_the_code_that_was_sent() {
    let h = harness().await;
    h.engine.request_login_code(&phone(), "ip1").await.unwrap_or_else(|e| panic!("{e}"));
    let code = h.sms.last_code("13812345678").unwrap_or_default();
    let issued = h
        .engine
        .verify_login_code(&phone(), &OtpCode::parse(&code).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let Actor::Resident { resident, .. } = &issued.actor else { panic!("resident expected") };
    assert_eq!(resident.phone_masked, "138****5678");
    let reuse = h.engine.verify_login_code(&phone(), &OtpCode::parse(&code).unwrap_or_else(|e| panic!("{e}"))).await;
    assert!(matches!(reuse, Err(OtpVerifyRejection::NoLiveCode)), "a code works once");
    // Second login: same resident.
    h.clock.advance(Duration::seconds(61));
    h.engine.request_login_code(&phone(), "ip1").await.unwrap_or_else(|e| panic!("{e}"));
    let code = h.sms.last_code("13812345678").unwrap_or_default();
    let again = h
        .engine
        .verify_login_code(&phone(), &OtpCode::parse(&code).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let Actor::Resident { resident: r2, .. } = &again.actor else { panic!("resident expected") };
    assert_eq!(r2.id, resident.id);
}

#[tokio::test]
async fn a_code_allows_five_tries_and_expires_after_five_minutes() {
    let h = harness().await;
    h.engine.request_login_code(&phone(), "ip1").await.unwrap_or_else(|e| panic!("{e}"));
    let code = h.sms.last_code("13812345678").unwrap_or_default();
    let wrong = OtpCode::parse(if code == "000000" { "111111" } else { "000000" }).unwrap_or_else(|e| panic!("{e}"));
    for left in (0..5).rev() {
        let r = h.engine.verify_login_code(&phone(), &wrong).await;
        assert!(matches!(r, Err(OtpVerifyRejection::WrongCode { tries_left }) if tries_left == left), "{r:?}");
    }
    let right = OtpCode::parse(&code).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(h.engine.verify_login_code(&phone(), &right).await, Err(OtpVerifyRejection::NoLiveCode)),
        "a sixth try, even right"
    );
    h.clock.advance(Duration::seconds(61));
    h.engine.request_login_code(&phone(), "ip1").await.unwrap_or_else(|e| panic!("{e}"));
    let code = OtpCode::parse(&h.sms.last_code("13812345678").unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    h.clock.advance(Duration::seconds(300));
    assert!(
        matches!(h.engine.verify_login_code(&phone(), &code).await, Err(OtpVerifyRejection::NoLiveCode)),
        "expired"
    );
}

#[tokio::test]
async fn codes_cannot_be_requested_faster_than_the_limits_allow() {
    let h = harness().await;
    h.engine.request_login_code(&phone(), "ip1").await.unwrap_or_else(|e| panic!("{e}"));
    let r = h.engine.request_login_code(&phone(), "ip1").await;
    assert!(matches!(r, Err(OtpRequestRejection::TooSoon(60))), "{r:?}");
    for _ in 0..9 {
        h.clock.advance(Duration::seconds(61));
        h.engine.request_login_code(&phone(), "ip1").await.unwrap_or_else(|e| panic!("{e}"));
    }
    h.clock.advance(Duration::seconds(61));
    let r = h.engine.request_login_code(&phone(), "ip1").await;
    assert!(matches!(r, Err(OtpRequestRejection::TooManyCodes(_))), "an 11th code within the hour: {r:?}");
    assert_eq!(h.sms.count(), 10);
    // Many numbers from one client address.
    let mut refused = 0;
    for i in 0..150 {
        let p = PhoneNumber::parse(&format!("139{i:08}")).unwrap_or_else(|e| panic!("{e}"));
        if matches!(h.engine.request_login_code(&p, "ip2").await, Err(OtpRequestRejection::TooManyRequests(_))) {
            refused += 1;
        }
    }
    assert_eq!(refused, 30, "120 per minute per client: a carrier's NAT address has many honest phones");
}
