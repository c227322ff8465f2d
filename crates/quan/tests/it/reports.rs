//! T+1 reports: the figures against expectations computed here from the
//! raw events the API answered; a stored day rebuilt later gives the same
//! bytes; the XLSX read back with a spreadsheet reader; the live view.

use std::collections::{BTreeMap, BTreeSet};

use quan_domain::Role;
use quan_testkit::{TestApp, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_redemptions::{Shop, at, code_of, resident, shop_in};

/// One redemption or refund as the API answered it.
#[derive(Debug, Clone)]
struct Event {
    day: &'static str,
    batch: String,
    industry: &'static str,
    district: &'static str,
    resident: usize,
    merchant: usize,
    /// Redemption: order, subsidy, platform and merchant matching. Refund:
    /// amount refunded, subsidy returned, voucher back.
    refund: bool,
    amount: i64,
    subsidy: i64,
    pm: i64,
    mm: i64,
    back: bool,
}

/// What the report must say, computed from the events alone.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expect {
    redemptions: u64,
    order: i64,
    subsidy: i64,
    pm: i64,
    mm: i64,
    redeemers: u64,
    merchants: u64,
    refunds: u64,
    refunded: i64,
    returned: i64,
    backs: u64,
}

fn expect(events: &[Event], day: &str, cumulative: bool, keep: impl Fn(&Event) -> bool) -> Expect {
    let mut e = Expect::default();
    let (mut residents, mut merchants) = (BTreeSet::new(), BTreeSet::new());
    for x in events.iter().filter(|x| (if cumulative { x.day <= day } else { x.day == day }) && keep(x)) {
        if x.refund {
            e.refunds += 1;
            e.refunded += x.amount;
            e.returned += x.subsidy;
            e.backs += u64::from(x.back);
        } else {
            e.redemptions += 1;
            e.order += x.amount;
            e.subsidy += x.subsidy;
            e.pm += x.pm;
            e.mm += x.mm;
            residents.insert(x.resident);
            merchants.insert(x.merchant);
        }
    }
    e.redeemers = residents.len() as u64;
    e.merchants = merchants.len() as u64;
    e
}

fn got(f: &Value) -> Expect {
    let n = |k: &str| f[k].as_u64().unwrap_or(u64::MAX);
    let y = |k: &str| f[k].as_i64().unwrap_or(i64::MIN);
    Expect {
        redemptions: n("redemptions"),
        order: y("order_fen"),
        subsidy: y("subsidy_fen"),
        pm: y("platform_match_fen"),
        mm: y("merchant_match_fen"),
        redeemers: n("redeemers"),
        merchants: n("merchants"),
        refunds: n("refunds"),
        refunded: y("refunded_fen"),
        returned: y("subsidy_returned_fen"),
        backs: 0,
    }
}

fn without_backs(mut e: Expect) -> Expect {
    e.backs = 0;
    e
}

/// Checks every view of a report against the events.
fn check(report: &Value, events: &[Event], day: &str) {
    for cumulative in [false, true] {
        let part = if cumulative { "cumulative" } else { "day" };
        assert_eq!(
            got(&report["total"][part]),
            without_backs(expect(events, day, cumulative, |_| true)),
            "total {part}"
        );
        let rows = |view: &str, key: &str| -> BTreeMap<String, Value> {
            report[view]
                .as_array()
                .unwrap_or(&Vec::new())
                .iter()
                .map(|r| (r[key].as_str().unwrap_or_default().to_owned(), r[part].clone()))
                .collect()
        };
        for (view, key) in [("batches", "batch_id"), ("industries", "industry"), ("districts", "district")] {
            let rows = rows(view, key);
            // Every key with activity to date has a row, in the day's view too.
            let keys: BTreeSet<String> = events
                .iter()
                .filter(|x| x.day <= day)
                .map(|x| match view {
                    "batches" => x.batch.clone(),
                    "industries" => x.industry.to_owned(),
                    _ => x.district.to_owned(),
                })
                .collect();
            for k in keys {
                let want = expect(events, day, cumulative, |x| match view {
                    "batches" => x.batch == k,
                    "industries" => x.industry == k,
                    _ => x.district == k,
                });
                let row = rows.get(&k).unwrap_or_else(|| panic!("{view} lacks {k} on {day}: {report}"));
                assert_eq!(got(row), without_backs(want), "{view} {k} {part} on {day}");
            }
        }
    }
}

async fn get_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .header("accept", accept)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
}

#[tokio::test]
async fn the_daily_report_matches_the_raw_events_and_a_stored_day_never_changes() {
    let app = TestApp::sqlite().await;
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.report.official", Role::Official, "4205").await;
    let kind = |code: &str, discount: Value| json!({"stock": 100, "kind": {"code": code, "name": code, "discount": discount, "validity": {"type": "days_after_claim", "days": 3}}});
    let doc = json!({
        "campaign": {"name": "宜昌消费券", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [
            {"name": "第一批", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
             "limits": {"per_batch": 2}, "kinds": [kind("i10", json!({"type": "instant", "off_fen": 1000}))]},
            {"name": "第二批", "opening_at": "2026-12-06T10:00:00+08:00", "closing_at": "2026-12-06T22:00:00+08:00",
             "limits": {"per_batch": 1}, "kinds": [kind("t100-20", json!({"type": "threshold", "min_order_fen": 10000, "off_fen": 2000}))]}
        ]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let batch = |i: usize| created["batches"][i]["id"].as_str().unwrap_or_default().to_owned();
    let (a, b) = (batch(0), batch(1));
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 1_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    let shops_spec: [(&str, &str, &str); 3] =
        [("catering", "420502", "small"), ("retail", "420503", "medium"), ("retail", "420502", "micro")];
    let mut shops: Vec<Shop> = Vec::new();
    for (i, (industry, district, scale)) in shops_spec.iter().enumerate() {
        shops.push(shop_in(&app, 60 + u32::try_from(i).unwrap_or(0), industry, district, scale).await);
    }

    // 12-05: six residents claim from the first batch (resident 0 twice).
    at(&app, "2026-12-05T11:00:00+08:00");
    let phones: Vec<String> = (0..6).map(|i| format!("1390000{i:04}")).collect();
    let mut tokens = Vec::new();
    let mut vouchers: Vec<Vec<String>> = vec![Vec::new(); 6];
    for (i, p) in phones.iter().enumerate() {
        let t = resident(&app, p).await;
        for _ in 0..(if i == 0 { 2 } else { 1 }) {
            let (status, c) = app.post(&format!("/api/v1/batches/{a}/claims"), Some(&t), &json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{c}");
            vouchers[i].push(c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned());
        }
        tokens.push(t);
    }
    let mut events: Vec<Event> = Vec::new();
    let mut redemption_ids = Vec::new();
    let redeem = |r: usize, v: String, s: usize, order: i64, pm: i64, mm: i64, day: &'static str, batch: String| {
        (r, v, s, order, pm, mm, day, batch)
    };
    let plan_05 = vec![
        redeem(0, vouchers[0][0].clone(), 0, 5_000, 200, 100, "2026-12-05", a.clone()),
        redeem(1, vouchers[1][0].clone(), 1, 3_000, 0, 0, "2026-12-05", a.clone()),
        redeem(2, vouchers[2][0].clone(), 2, 8_000, 0, 500, "2026-12-05", a.clone()),
        redeem(3, vouchers[3][0].clone(), 0, 1_200, 0, 0, "2026-12-05", a.clone()),
    ];
    at(&app, "2026-12-05T12:00:00+08:00");
    for (r, v, s, order, pm, mm, day, batch) in plan_05 {
        let code = code_of(&app, &tokens[r], &v).await;
        let body = json!({"code": code, "order_amount_fen": order, "platform_match_fen": pm, "merchant_match_fen": mm});
        let (status, x) = app.post("/api/v1/redemptions", Some(&shops[s].cashier), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{x}");
        redemption_ids.push((x["id"].as_str().unwrap_or_default().to_owned(), s));
        let (industry, district, _) = shops_spec[s];
        events.push(Event {
            day,
            batch,
            industry,
            district,
            resident: r,
            merchant: s,
            refund: false,
            amount: order,
            subsidy: x["subsidy_fen"].as_i64().unwrap_or(0),
            pm,
            mm,
            back: false,
        });
    }
    // The day is not over: no report yet.
    let (status, body) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "day_not_over"), "{body}");

    // 12-06 01:00: the report of 12-05 is built and stored.
    at(&app, "2026-12-06T01:00:00+08:00");
    let (_, official) = app.staff("yichang.report.official2", Role::Official, "4205").await;
    let (status, r05) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r05}");
    check(&r05, &events, "2026-12-05");
    assert_eq!(
        (
            r05["total"]["day"]["issued"].as_u64(),
            r05["total"]["day"]["issued_face_fen"].as_i64(),
            r05["total"]["day"]["claimers"].as_u64()
        ),
        (Some(7), Some(7_000), Some(6))
    );
    assert_eq!(r05["total"]["cumulative"]["redemption_rate_bp"], 4 * 10_000 / 7, "4 of 7 vouchers redeemed");
    let (_, h05, bytes05) =
        get_raw(&app, &format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), &official, "application/json")
            .await;
    let sha05 = h05.get("x-content-sha256").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(sha05.len(), 64);
    {
        use sha2::Digest;
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes05)), sha05, "the hash is of the bytes served");
    }
    assert!(!String::from_utf8_lossy(&bytes05).contains("1390000"), "residents are counted, never listed");

    // 12-06: the second batch, more redemptions, and refunds of 12-05's orders.
    at(&app, "2026-12-06T11:00:00+08:00");
    let mut tokens2 = Vec::new();
    for p in &phones {
        app.clock.advance(chrono::Duration::minutes(2));
        tokens2.push(resident(&app, p).await);
    }
    let mut vb = Vec::new();
    for r in [0usize, 4] {
        let (status, c) = app.post(&format!("/api/v1/batches/{b}/claims"), Some(&tokens2[r]), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        vb.push(c["vouchers"][0]["id"].as_str().unwrap_or_default().to_owned());
    }
    at(&app, "2026-12-06T12:00:00+08:00");
    let cashiers: Vec<String> = {
        let mut v = Vec::new();
        for (i, s) in shops.iter().enumerate() {
            v.push(app.login(&format!("cashier{}", 60 + i), &s.cashier_pw).await);
        }
        v
    };
    for (r, v, s, order, pm, mm, batch) in [
        (0usize, vouchers[0][1].clone(), 1usize, 6_000i64, 300i64, 0i64, a.clone()),
        (4, vb[1].clone(), 0, 15_000, 0, 1_000, b.clone()),
    ] {
        let code = code_of(&app, &tokens2[r], &v).await;
        let body = json!({"code": code, "order_amount_fen": order, "platform_match_fen": pm, "merchant_match_fen": mm});
        let (status, x) = app.post("/api/v1/redemptions", Some(&cashiers[s]), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{x}");
        let (industry, district, _) = shops_spec[s];
        events.push(Event {
            day: "2026-12-06",
            batch,
            industry,
            district,
            resident: r,
            merchant: s,
            refund: false,
            amount: order,
            subsidy: x["subsidy_fen"].as_i64().unwrap_or(0),
            pm,
            mm,
            back: false,
        });
    }
    for (k, amount, owner) in [(2usize, 8_000i64, "owner62"), (1, 1_000, "owner61")] {
        let (id, s) = redemption_ids[k].clone();
        let o = app.login(owner, "owner password 1").await;
        let (status, f) =
            app.post(&format!("/api/v1/redemptions/{id}/refunds"), Some(&o), &json!({"amount_fen": amount})).await;
        assert_eq!(status, StatusCode::CREATED, "{f}");
        let (industry, district, _) = shops_spec[s];
        events.push(Event {
            day: "2026-12-06",
            batch: a.clone(),
            industry,
            district,
            resident: k,
            merchant: s,
            refund: true,
            amount,
            subsidy: f["refund"]["subsidy_returned_fen"].as_i64().unwrap_or(0),
            pm: 0,
            mm: 0,
            back: f["refund"]["voucher_back"].as_bool().unwrap_or(false),
        });
    }
    // The live view sees it all at once.
    let (status, live) = app.get(&format!("/api/v1/campaigns/{cid}/live"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(
        (live["claimed"].as_u64(), live["stock"].as_u64(), live["redeemed"].as_u64()),
        (Some(9), Some(200), Some(5)),
        "{live}"
    );
    let net: i64 = events.iter().map(|e| if e.refund { -e.subsidy } else { e.subsidy }).sum();
    assert_eq!(live["subsidy_fen"].as_i64(), Some(net), "{live}");

    // 12-07: day 12-06 is reported, and day 12-05 is the same bytes as before.
    at(&app, "2026-12-07T01:00:00+08:00");
    let (_, official) = app.staff("yichang.report.official3", Role::Official, "4205").await;
    let (status, r06) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-06"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r06}");
    check(&r06, &events, "2026-12-06");
    let t = &r06["total"]["cumulative"];
    assert_eq!(
        (t["issued"].as_u64(), t["issued_face_fen"].as_i64(), t["claimers"].as_u64()),
        (Some(9), Some(11_000), Some(6))
    );
    let refunded: i64 = events.iter().filter(|e| e.refund).map(|e| e.amount).sum();
    let orders: i64 = events.iter().filter(|e| !e.refund).map(|e| e.amount).sum();
    assert_eq!(t["leverage_x100"].as_i64(), Some((orders - refunded) * 100 / net), "{t}");
    let (_, h, again) =
        get_raw(&app, &format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05.json"), &official, "*/*").await;
    assert_eq!(
        (again, h.get("x-content-sha256").and_then(|v| v.to_str().ok())),
        (bytes05.clone(), Some(sha05.as_str()))
    );
    let id: quan_domain::CampaignId = cid.parse().unwrap_or_else(|e| panic!("{e:?}"));
    let d05 = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
    assert_eq!(
        app.engine.verify_daily_report(id, d05).await.ok(),
        Some(sha05.clone()),
        "a rebuild from the database gives the same bytes"
    );
    let (status, days) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily"), Some(&official)).await;
    assert_eq!((status, days.as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{days}");
    // The job inside `serve`: once 12-07 is over its report is built, once.
    at(&app, "2026-12-08T00:30:00+08:00");
    let d07 = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
    let built = app.engine.build_due_reports().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(built, vec![(id, d07)]);
    assert!(app.engine.build_due_reports().await.map(|b| b.is_empty()).unwrap_or(false), "built once");
    at(&app, "2026-12-07T01:00:00+08:00");

    // The first batch's final report: its own figures, leaders, what it leaves unspent.
    let (status, fin) = app.get(&format!("/api/v1/batches/{a}/final-report/2026-12-06"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{fin}");
    let batch_events: Vec<Event> = events.iter().filter(|e| e.batch == a).cloned().collect();
    assert_eq!(got(&fin["figures"]), without_backs(expect(&batch_events, "2026-12-06", true, |_| true)), "{fin}");
    let a_net: i64 = batch_events.iter().map(|e| if e.refund { -e.subsidy } else { e.subsidy }).sum();
    assert_eq!(fin["unspent_face_fen"].as_i64(), Some(7_000 - a_net), "{fin}");
    assert_eq!(fin["top_industries"][0][0], "catering", "{fin}");
    assert_eq!(fin["trend"].as_array().map(Vec::len), Some(2), "{fin}");
    let (status, _, fin_xlsx) =
        get_raw(&app, &format!("/api/v1/batches/{a}/final-report/2026-12-06.xlsx"), &official, "*/*").await;
    assert_eq!(status, StatusCode::OK);
    {
        use calamine::Reader;
        let wb: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(fin_xlsx)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(wb.sheet_names(), vec!["总结".to_owned(), "趋势".to_owned()]);
    }

    // CSV and XLSX of 12-06: the same figures, read back with a spreadsheet reader.
    let (status, h, csv) =
        get_raw(&app, &format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-06"), &official, "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/csv")));
    let csv = String::from_utf8(csv).unwrap_or_default();
    assert!(
        csv.lines().next().is_some_and(|l| l.starts_with("\u{feff}视图,批次,行业,区县代码,区县,规模,当日发券数（张）")),
        "{csv}"
    );
    assert!(csv.contains("汇总,,,,,,") && csv.contains("西陵区") && csv.contains("伍家岗区"), "{csv}");
    let (status, _, xlsx) =
        get_raw(&app, &format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-06.xlsx"), &official, "*/*").await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, xlsx_again) =
        get_raw(&app, &format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-06.xlsx"), &official, "*/*").await;
    assert_eq!(xlsx, xlsx_again, "the workbook is the same bytes every time");
    {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            wb.sheet_names(),
            ["汇总", "行业", "区县", "商户规模", "明细", "趋势", "分析", "投诉", "熔断", "风控", "渠道", "图表"]
                .map(String::from)
                .to_vec()
        );
        let sheet = wb.worksheet_range("汇总").unwrap_or_else(|e| panic!("{e}"));
        let header: Vec<String> =
            sheet.rows().nth(1).map(|r| r.iter().map(ToString::to_string).collect()).unwrap_or_default();
        let col = header.iter().position(|h| h == "累计净核销金额（元）").unwrap_or_else(|| panic!("{header:?}"));
        let total: Vec<String> =
            sheet.rows().nth(2).map(|r| r.iter().map(ToString::to_string).collect()).unwrap_or_default();
        assert_eq!(total[0], "全部批次");
        assert_eq!(total[col], format!("{}", f64::from(i32::try_from(net).unwrap_or(0)) / 100.0), "{total:?}");
        let districts = wb.worksheet_range("区县").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            districts.rows().count(),
            2 + 3,
            "title, header, the two districts, and 未定位 (vouchers claimed without a position)"
        );
    }
}

#[tokio::test]
async fn a_day_before_the_campaign_is_refused_by_name_and_stores_nothing_later_reports_fold_from() {
    let app = TestApp::sqlite().await;
    let (cid, _, official) = crate::api_redemptions::campaign(&app).await;
    for day in ["0001-01-01", "2026-11-30"] {
        let (status, body) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/{day}"), Some(&official)).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "day_before_campaign"), "{body}");
    }
    let (status, body) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2027-01-01"), Some(&official)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "day_not_over"), "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("2027-01-02 00:00:00 Beijing time"), "people read Beijing time: {message}");
    let (_, days) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily"), Some(&official)).await;
    assert_eq!(days, json!([]), "a refused read stores nothing");
}

#[tokio::test]
async fn issuance_is_reported_by_the_kinds_industry_and_the_district_residents_claimed_from_on_sqlite() {
    issuance_is_reported_by_kind_industry_and_claim_district(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn issuance_is_reported_by_the_kinds_industry_and_the_district_residents_claimed_from_on_postgres() {
    if let Some(app) = TestApp::postgres().await {
        issuance_is_reported_by_kind_industry_and_claim_district(app).await;
    }
}

async fn issuance_is_reported_by_kind_industry_and_claim_district(app: TestApp) {
    at(&app, "2026-12-05T09:00:00+08:00");
    let (_, official) = app.staff("yichang.attr.official", Role::Official, "4205").await;
    let geo = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson/420500-yichang.geojson"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    app.engine.import_districts(&geo, quan_domain::geo::Crs::Gcj02, "test").await.unwrap_or_else(|e| panic!("{e}"));
    let kind = |code: &str, scope: Value| json!({"stock": 100, "kind": {"code": code, "name": code, "discount": {"type": "instant", "off_fen": 1000}, "scope": scope, "validity": {"type": "days_after_claim", "days": 3}}});
    let doc = json!({
        "campaign": {"name": "归属", "region": "4205", "budget_fen": 1_000_000, "funding_source": "财政", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        "batches": [{"name": "一", "opening_at": "2026-12-05T10:00:00+08:00", "closing_at": "2026-12-05T22:00:00+08:00",
            "limits": {"per_batch": 2},
            "kinds": [kind("food", json!({"industries": ["catering"]})), kind("any", json!({}))]}]
    });
    let (status, created) = app.post("/api/v1/campaigns", Some(&official), &doc).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let cid = created["campaign"]["id"].as_str().unwrap_or_default().to_owned();
    let bid = created["batches"][0]["id"].as_str().unwrap_or_default().to_owned();
    app.post(&format!("/api/v1/campaigns/{cid}/funding"), Some(&official), &json!({"amount_fen": 1_000_000})).await;
    app.post(&format!("/api/v1/campaigns/{cid}/start"), Some(&official), &json!({})).await;
    at(&app, "2026-12-05T11:00:00+08:00");
    // Xiling's label point in GCJ-02; one resident there, one without a position.
    let xiling = json!({"lat": 30.702476, "lng": 111.295468, "crs": "gcj02", "accuracy_m": 20});
    let a = resident(&app, "13900007001").await;
    let b = resident(&app, "13900007002").await;
    for (token, body) in [(&a, json!({"kind": "food"})), (&a, json!({"kind": "any"})), (&b, json!({"kind": "food"}))] {
        let mut body = body;
        if token == &a
            && let Some(o) = body.as_object_mut()
        {
            o.extend(xiling.as_object().cloned().unwrap_or_default());
        }
        let (status, c) = app.post(&format!("/api/v1/batches/{bid}/claims"), Some(token), &body).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
    }
    at(&app, "2026-12-06T01:00:00+08:00");
    let official = app.login("yichang.attr.official", "yichang.attr.official-password-123").await;
    let (status, r) = app.get(&format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05"), Some(&official)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let issued = |rows: &Value, key: &str, code: &str| {
        rows.as_array()
            .and_then(|v| v.iter().find(|x| x[key] == code))
            .map(|x| (x["cumulative"]["issued"].as_u64(), x["cumulative"]["claimers"].as_u64()))
    };
    assert_eq!(issued(&r["industries"], "industry", "catering"), Some((Some(2), Some(2))), "{}", r["industries"]);
    assert_eq!(issued(&r["industries"], "industry", "general"), Some((Some(1), Some(1))));
    assert_eq!(issued(&r["districts"], "district", "420502"), Some((Some(2), Some(1))), "{}", r["districts"]);
    assert_eq!(issued(&r["districts"], "district", "unknown"), Some((Some(1), Some(1))));
    let names: Vec<&str> =
        r["districts"].as_array().into_iter().flatten().filter_map(|x| x["district_name"].as_str()).collect();
    assert!(names.contains(&"西陵区") && names.contains(&"未定位"), "{names:?}");
    assert!(r["attribution"].as_array().is_some_and(|a| a.len() == 4), "the report says how it attributes: {r}");
    let (_, _, csv) =
        get_raw(&app, &format!("/api/v1/campaigns/{cid}/reports/daily/2026-12-05.csv"), &official, "*/*").await;
    assert!(String::from_utf8_lossy(&csv).contains("说明,"), "the CSV says it too");
}
