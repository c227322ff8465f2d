//! Flow 2: during a small grab driven by the test, the batch's dashboard
//! shows new figures every second (claims, outcomes, stock left), pushed
//! over server-sent events and drawn with ECharts.

use quan_domain::Role;
use quan_testkit::TestApp;
use quan_testkit::fixtures::{at, resident};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Browser, available, sign_in, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_new_figures_every_second_of_a_grab() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, pw) = app.create_staff("yichang.official", Role::Official, "4205").await;
    let official = app.login("yichang.official", &pw).await;
    let doc = json!({
        "campaign": {"name": "实况测试", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "十点开抢", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "limits": {"per_batch": 1},
            "kinds": [{"stock": 5, "kind": {"code": "c50-10", "name": "满50减10", "discount": {"type": "threshold", "min_order_fen": 5000, "off_fen": 1000},
                "validity": {"type": "days_after_claim", "days": 3}}}]}]
    });
    let (cid, batch) = app.running_campaign(&official, &doc).await;
    let mut residents = Vec::new();
    for n in 0..8 {
        residents.push(resident(&app, &format!("1390000{:04}", 7000 + n)).await);
    }

    at(&app, "2026-12-05T10:00:00+08:00");
    let b = Browser::start().await;
    sign_in(&app, &b, "yichang.official", &pw).await;
    b.go(&app.url(&format!("/console/campaigns/{cid}"))).await;
    b.click("#batches a.dashboard-link").await;
    b.find("#chart-rate canvas", 10).await;
    within(5, "the first figures arrive", || async { b.text("#fig-stock", 1).await == "5" }).await;

    // Each second a few residents claim; the page follows within the next push.
    let (mut claimed, mut answered) = (0, 0);
    for (second, group) in residents.chunks(3).enumerate() {
        app.clock.advance(chrono::Duration::seconds(1));
        for token in group {
            let (status, body) = app.post(&format!("/api/v1/batches/{batch}/claims"), Some(token), &json!({})).await;
            if status == StatusCode::CREATED {
                claimed += 1;
            } else {
                assert_eq!(body["error"]["code"], "sold_out", "{body}");
            }
        }
        answered += group.len();
        let want = format!("{claimed}/{}", answered - claimed);
        let took = within(3, "the new figures show", || async {
            let c = b.text("#fig-claimed", 1).await;
            let s = b.text("#outcomes tr[data-outcome='sold_out'] td:last-child", 1).await;
            format!("{c}/{s}") == want
        })
        .await;
        assert!(took.as_millis() <= 2_500, "second {second}: the page waited {took:?}");
        let left = (5 - claimed).to_string();
        assert_eq!(b.text("#fig-stock", 1).await, left, "stock left follows");
    }
    assert_eq!(claimed, 5, "five claimed, the rest sold out");
    let sold_out = b.text("#outcomes tr[data-outcome='sold_out'] td:last-child", 2).await;
    assert_eq!(sold_out, "3", "three answered sold out");
    let updates = b.script("return window.quanCharts.updates;").await.as_i64().unwrap_or(0);
    assert!(updates >= 3, "pushed every second: {updates} updates");
    let series = b.script("return window.quanCharts.rate.getOption().series[0].data.reduce((a, b) => a + b, 0);").await;
    assert_eq!(series.as_i64(), Some(5), "the chart's claimed series sums to the claims");
    b.check_page(&app.base).await;
    b.screenshot("dashboard").await;
    b.quit().await;
}
