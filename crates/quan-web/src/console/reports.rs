//! The T+1 report in the console: choose a business day; the tables by
//! industry, district and scale, the trend, complaints; a district map of
//! the campaign's region (boundaries served as GeoJSON, ECharts
//! `registerMap`) coloured by a chosen figure; downloads (JSON, CSV, XLSX)
//! with their SHA-256; each batch's final report.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use quan_domain::BusinessDay;
use quan_engine::complaints::figures::ComplaintFigures;
use quan_engine::reports::{DailyReport, Figures, Row};
use quan_http::AppState;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Me;
use super::campaigns::campaign_id;
use crate::Chrome;
use crate::msg::Msg;
use crate::session::{Console, Signed};
use crate::zh::{self, yuan};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/campaigns/{id}/reports", get(page))
        .route("/console/campaigns/{id}/reports/{file}", get(download))
        .route("/console/campaigns/{id}/reports/{day}/map", get(map_figures))
        .route("/console/campaigns/{id}/districts.geojson", get(geojson))
        .route("/console/batches/{id}/final-report/{file}", get(batch_final))
        .route("/console/campaigns/{id}/close-out.json", get(close_out))
}

/// The close-out report (结项报告) as JSON: final once the campaign is closed.
async fn close_out(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    let cid = campaign_id(&id)?;
    let r = state.engine.close_out_report(&signed.actor, cid).await.map_err(Msg::of)?;
    let body = serde_json::to_vec_pretty(&r).map_err(|e| Msg::internal(&e))?;
    Ok(attachment(body, "application/json", &format!("close-out-{cid}.json")))
}

#[derive(Debug, Deserialize)]
struct Pick {
    day: Option<String>,
    metric: Option<String>,
}

/// A view's row as shown: its name, then day and cumulative figures.
#[derive(Debug)]
struct Line {
    name: String,
    day: Shown,
    total: Shown,
}

#[derive(Debug)]
struct Shown {
    redemptions: u64,
    order: String,
    subsidy: String,
    leverage: String,
    rate: String,
    issued: String,
}

impl Shown {
    fn of(f: &Figures) -> Shown {
        Shown {
            redemptions: f.redemptions,
            order: yuan(f.net_order_fen),
            subsidy: yuan(f.net_subsidy_fen),
            leverage: f.leverage_x100.map_or_else(|| "–".into(), yuan),
            rate: f.redemption_rate_bp.map_or_else(|| "–".into(), |bp| format!("{}%", yuan(bp))),
            issued: f.issued.map_or_else(|| "–".into(), |n| n.to_string()),
        }
    }
}

fn lines(rows: &[Row], name: fn(&Row) -> Option<String>) -> Vec<Line> {
    rows.iter()
        .map(|r| Line { name: name(r).unwrap_or_default(), day: Shown::of(&r.day), total: Shown::of(&r.cumulative) })
        .collect()
}

/// A download with its hash.
#[derive(Debug)]
struct Download {
    label: &'static str,
    href: String,
    sha256: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/report.html")]
struct Page {
    c: Chrome,
    me: Me,
    id: String,
    name: String,
    day: String,
    days: Vec<String>,
    metric: String,
    /// Why there is no report for the chosen day (the day is not over, …).
    missing: String,
    total: Option<Line>,
    industries: Vec<Line>,
    districts: Vec<Line>,
    scales: Vec<Line>,
    trend: Vec<(String, u64, String, String)>,
    complaints: ComplaintFigures,
    downloads: Vec<Download>,
    batches: Vec<(String, String)>,
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn page(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
    Query(q): Query<Pick>,
) -> Result<Page, Msg> {
    let cid = campaign_id(&id)?;
    let c = state.engine.get_campaign(&signed.actor, cid).await.map_err(Msg::of)?;
    let days: Vec<String> = state
        .engine
        .report_days(&signed.actor, cid)
        .await
        .map_err(Msg::of)?
        .into_iter()
        .rev()
        .map(|(d, _)| d.to_string())
        .collect();
    let yesterday = BusinessDay::of(state.engine.now(), state.engine.config().business_day_cutoff).date().pred_opt();
    let day = q.day.filter(|d| !d.is_empty()).or_else(|| yesterday.map(|d| d.to_string())).unwrap_or_default();
    let metric = q
        .metric
        .filter(|m| ["subsidy", "order", "leverage", "rate"].contains(&m.as_str()))
        .unwrap_or_else(|| "subsidy".into());
    let mut p = Page {
        c: Chrome::signed(&signed.csrf).charting(),
        me: Me::of(&signed.actor),
        id: id.clone(),
        name: c.spec.name.clone(),
        day: day.clone(),
        days,
        metric,
        missing: String::new(),
        total: None,
        industries: Vec::new(),
        districts: Vec::new(),
        scales: Vec::new(),
        trend: Vec::new(),
        complaints: ComplaintFigures::default(),
        downloads: Vec::new(),
        batches: Vec::new(),
    };
    let Ok(d) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
        p.missing = zh::console::REPORT_DAY.into();
        return Ok(p);
    };
    let (r, snapshot) = match state.engine.daily_report(&signed.actor, cid, d).await {
        Ok(got) => got,
        Err(e) => {
            p.missing = Msg::of(e).text;
            return Ok(p);
        }
    };
    fill(&mut p, &r);
    let csv = quan_engine::reports::render::csv(&r);
    let xlsx = quan_engine::reports::render::xlsx(&r).map_err(|e| Msg::internal(&e))?;
    let base = format!("/console/campaigns/{id}/reports/{day}");
    p.downloads = vec![
        Download { label: "XLSX", href: format!("{base}.xlsx"), sha256: sha(&xlsx) },
        Download { label: "CSV", href: format!("{base}.csv"), sha256: sha(csv.as_bytes()) },
        Download { label: "JSON", href: format!("{base}.json"), sha256: snapshot.sha256.clone() },
    ];
    Ok(p)
}

fn fill(p: &mut Page, r: &DailyReport) {
    p.total = Some(Line {
        name: zh::console::ALL_BATCHES.into(),
        day: Shown::of(&r.total.day),
        total: Shown::of(&r.total.cumulative),
    });
    p.industries = lines(&r.industries, |r| r.industry_name.clone());
    p.districts = lines(&r.districts, |r| r.district_name.clone());
    p.scales = lines(&r.scales, |r| r.scale_name.clone());
    p.trend =
        r.trend.iter().map(|t| (t.day.to_string(), t.redemptions, yuan(t.order_fen), yuan(t.subsidy_fen))).collect();
    p.complaints = r.complaints.clone();
    p.batches = r
        .batches
        .iter()
        .filter_map(|b| Some((b.batch_id.clone()?, b.batch_name.clone().unwrap_or_default())))
        .collect();
}

fn day_and_suffix(file: &str) -> Result<(NaiveDate, &str), Msg> {
    let (d, suffix) = file.rsplit_once('.').unwrap_or((file, "json"));
    let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| Msg::field(zh::console::REPORT_DAY))?;
    Ok((day, suffix))
}

fn attachment(body: Vec<u8>, mime: &str, name: &str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

async fn download(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, Msg> {
    let cid = campaign_id(&id)?;
    let (day, suffix) = day_and_suffix(&file)?;
    let (r, snapshot) = state.engine.daily_report(&signed.actor, cid, day).await.map_err(Msg::of)?;
    let name = format!("report-{cid}-{day}.{suffix}");
    Ok(match suffix {
        "xlsx" => attachment(quan_engine::reports::render::xlsx(&r).map_err(|e| Msg::internal(&e))?, XLSX, &name),
        "csv" => attachment(quan_engine::reports::render::csv(&r).into_bytes(), "text/csv; charset=utf-8", &name),
        "json" => attachment(snapshot.content.into_bytes(), "application/json", &name),
        _ => return Err(Msg::field(zh::console::REPORT_DAY)),
    })
}

/// One district's value on the map.
#[derive(Debug, serde::Serialize)]
struct MapValue {
    code: String,
    name: String,
    value: Option<f64>,
}

#[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
fn metric_of(f: &Figures, metric: &str) -> Option<f64> {
    match metric {
        "order" => Some(f.net_order_fen as f64 / 100.0),
        "leverage" => f.leverage_x100.map(|x| x as f64 / 100.0),
        "rate" => f.redemption_rate_bp.map(|bp| bp as f64 / 100.0),
        _ => Some(f.net_subsidy_fen as f64 / 100.0),
    }
}

/// The map's figures: every district of the campaign's region, valued by
/// the chosen cumulative figure (none where it is not defined).
async fn map_figures(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path((id, day)): Path<(String, String)>,
    Query(q): Query<Pick>,
) -> Result<Response, Msg> {
    let cid = campaign_id(&id)?;
    let (day, _) = day_and_suffix(&day)?;
    let (r, _) = state.engine.daily_report(&signed.actor, cid, day).await.map_err(Msg::of)?;
    let metric = q.metric.unwrap_or_default();
    let region = quan_domain::Region::parse(&r.region).map_err(|e| Msg::internal(&e))?;
    let bounds = state.engine.districts().await.map_err(|e| Msg::internal(&e))?;
    let districts: Vec<MapValue> = bounds
        .iter()
        .filter(|b| region.contains_district(&b.code))
        .map(|b| {
            let row = r.districts.iter().find(|d| d.district.as_deref() == Some(b.code.as_str()));
            let value = row.map_or(if metric == "leverage" || metric == "rate" { None } else { Some(0.0) }, |d| {
                metric_of(&d.cumulative, &metric)
            });
            MapValue { code: b.code.to_string(), name: b.name.clone(), value }
        })
        .collect();
    let (title, unit) = zh::console::map_metric(&metric);
    Ok(axum::Json(
        serde_json::json!({"title": format!("{}（截至 {day}）", title), "unit": unit, "districts": districts}),
    )
    .into_response())
}

/// The campaign region's district boundaries as a GeoJSON FeatureCollection
/// (names and codes in each feature's properties).
async fn geojson(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path(id): Path<String>,
) -> Result<Response, Msg> {
    let c = state.engine.get_campaign(&signed.actor, campaign_id(&id)?).await.map_err(Msg::of)?;
    geojson_of(&state, &c.spec.region).await
}

/// The boundaries of the districts inside `region`, as GeoJSON.
pub(super) async fn geojson_of(state: &AppState, region: &quan_domain::Region) -> Result<Response, Msg> {
    let bounds = state.engine.districts().await.map_err(|e| Msg::internal(&e))?;
    let mut features = Vec::new();
    for b in bounds.iter().filter(|b| region.contains_district(&b.code)) {
        let geometry: serde_json::Value = serde_json::from_str(&b.geometry_json).map_err(|e| Msg::internal(&e))?;
        features.push(serde_json::json!({"type": "Feature", "id": b.code.as_str(),
            "properties": {"name": b.name, "code": b.code.as_str()}, "geometry": geometry}));
    }
    let body = serde_json::json!({"type": "FeatureCollection", "features": features});
    let mut r = axum::Json(body).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    Ok(r)
}

/// A batch's final report as of a day, as XLSX.
async fn batch_final(
    State(state): State<AppState>,
    signed: Signed<Console>,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, Msg> {
    let batch: quan_domain::BatchId =
        id.parse().map_err(|_| Msg::warn(StatusCode::NOT_FOUND, "not_found", zh::console::NO_BATCH))?;
    let (day, _) = day_and_suffix(&file)?;
    let r = state.engine.batch_final_report(&signed.actor, batch, day).await.map_err(Msg::of)?;
    let body = quan_engine::reports::render::batch_final_xlsx(&r).map_err(|e| Msg::internal(&e))?;
    Ok(attachment(body, XLSX, &format!("batch-{id}-{day}.xlsx")))
}
