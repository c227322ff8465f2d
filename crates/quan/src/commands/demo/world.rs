//! The demo's world: its folder, residents' ID numbers and positions, the
//! bureau's merchant CSV, and the shops that open tills.

use std::path::Path;

use anyhow::{Context, bail};
use quan_domain::Username;
use quan_domain::geo::Crs;
use quan_engine::districts::{Located, Position};
use quan_engine::{Engine, Random, SeededRandom};
use quan_http::client::Conn;
use serde_json::json;

use super::client::expect;
use super::{MARKER, bar};

/// Refuses to wipe a folder that is not an earlier demo's.
pub(super) fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!("{} exists and was not made by `quan demo`; choose another folder with --data-dir", dir.display());
        }
        for entry in std::fs::read_dir(dir)? {
            let p = entry?.path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p)?;
            } else {
                std::fs::remove_file(&p)?;
            }
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "made by quan demo; the next run replaces this folder\n")?;
    Ok(())
}

/// A valid GB 11643 ID number for a county code, or one with a wrong check character.
pub(super) fn id_number(county: &str, n: u64, valid: bool) -> String {
    let year = 1950 + n % 55;
    let month = 1 + (n / 55) % 12;
    let day = 1 + (n / 660) % 28;
    let body = format!("{county}{year:04}{month:02}{day:02}{:03}", n % 1000);
    let check = quan_domain::id_number::check_char(body.as_bytes()).unwrap_or('0');
    let check = if valid {
        check
    } else if check == '0' {
        '1'
    } else {
        '0'
    };
    format!("{body}{check}")
}

/// A point inside the city (not near a border), in GCJ-02.
pub(super) fn inside_point(engine: &Engine, districts: &[(String, f64, f64)], rng: &SeededRandom) -> (f64, f64) {
    for _ in 0..50 {
        let (_, lng, lat) = &districts[usize::try_from(rng.below(districts.len() as u64)).unwrap_or(0)];
        let (dlat, dlng) = ((rng.below(2001) as f64 - 1000.0) / 25_000.0, (rng.below(2001) as f64 - 1000.0) / 25_000.0);
        let p = Position { lng: lng + dlng, lat: lat + dlat, crs: Crs::Gcj02, accuracy_m: Some(20.0) };
        if let Ok(Located::Inside(_)) = engine.locate(&p) {
            return (p.lat, p.lng);
        }
    }
    let (_, lng, lat) = &districts[0];
    (*lat, *lng)
}

pub(super) const INDUSTRIES: [&str; 5] = ["catering", "retail", "home_appliances", "department_stores", "lodging"];

pub(super) const SCALES: [&str; 4] = ["large", "medium", "small", "micro"];

/// The bureau's list: `n` merchants across the districts, and a dozen rows
/// with mistakes of the kinds a real list has.
pub(super) fn write_merchants_csv(path: &Path, n: usize, districts: &[&str], rng: &SeededRandom) -> anyhow::Result<()> {
    let mut w = crate::files::CsvOut::create(path)?;
    w.record(crate::commands::import::COLUMNS)?;
    for i in 0..n {
        let code = quan_domain::merchant::CreditCode::sample(u32::try_from(i + 1).unwrap_or(0)).to_string();
        let district = districts[i % districts.len()];
        let industry = INDUSTRIES[usize::try_from(rng.below(INDUSTRIES.len() as u64)).unwrap_or(0)];
        let mut row = vec![
            format!("宜昌演示商户{:04}有限公司", i + 1),
            code,
            industry.to_owned(),
            SCALES[i % 4].to_owned(),
            format!("宜昌市演示路{}号", i + 1),
            district.to_owned(),
            String::new(),
            String::new(),
            "王经理".into(),
            format!("1380000{:04}", i % 10_000),
            "中国银行宜昌分行".into(),
            format!("宜昌演示商户{:04}", i + 1),
            format!("62220202{:011}", i + 1),
        ];
        // Every 170th row has a mistake: bad credit code, unknown industry,
        // a district of another city, a bad phone, no name, a duplicate.
        match (i % 170 == 7).then_some(i / 170 % 6) {
            Some(0) => row[1] = "91420500MA0000000X".into(),
            Some(1) => row[2] = "bakery".into(),
            Some(2) => row[5] = "110101".into(),
            Some(3) => row[9] = "12345".into(),
            Some(4) => row[0] = String::new(),
            Some(_) => row[1] = quan_domain::merchant::CreditCode::sample(1).to_string(),
            None => {}
        }
        w.record(&row)?;
    }
    w.flush()?;
    Ok(())
}

pub(super) struct Shop {
    pub(super) id: String,
    pub(super) industry: &'static str,
    pub(super) till: String,
    pub(super) cashier: String,
}

/// Shops apply (owner accounts), are approved, and open a till with a cashier.
pub(super) async fn open_shops(
    engine: &Engine,
    c: &mut Conn,
    operator: &str,
    n: usize,
    districts: &[(String, f64, f64)],
    show: bool,
) -> anyhow::Result<Vec<Shop>> {
    let industries: [&'static str; 3] = ["catering", "retail", "home_appliances"];
    let b = bar(show, n as u64, "shops: apply, approve, till, cashier");
    let mut shops = Vec::with_capacity(n);
    for i in 0..n {
        let industry = industries[i % 3];
        let (district, lng, lat) = &districts[i % districts.len()];
        let app: quan_domain::merchant::MerchantApplication = serde_json::from_value(json!({
            "legal_name": format!("宜昌演示门店{:03}", i + 1),
            "credit_code": quan_domain::merchant::CreditCode::sample(u32::try_from(50_000 + i).unwrap_or(0)).to_string(),
            "industry": industry, "scale": SCALES[i % 4], "address": format!("宜昌市门店路{}号", i + 1),
            "address_district": district, "location": {"lat": lat, "lng": lng},
            "contact_name": "李店长", "contact_phone": format!("1370000{:04}", i),
            "settlement_account": {"bank_name": "湖北银行宜昌分行", "account_name": format!("宜昌演示门店{:03}", i + 1), "account_number": format!("62170000{:011}", i)}
        }))?;
        let owner_name = format!("demo.shop{i:03}");
        let owner = quan_engine::merchants::OwnerAccount {
            username: owner_name.clone(),
            password: "demo shop password".into(),
            display_name: "店长".into(),
        };
        let (m, _) =
            engine.apply_merchant(&app, &owner, &format!("demo-shop-{i}")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        expect(
            c,
            "POST",
            &format!("/api/v1/merchants/{}/review", m.id),
            Some(operator),
            Some(&json!({"action": "approve", "reason": "门店核验通过"})),
            200,
        )
        .await?;
        let owner_actor =
            engine.actor_for_username(&Username::parse(&owner_name)?).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let till =
            engine.create_till(&owner_actor, m.id, "T01", "一号收银台").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let cashier_name = format!("demo.cashier{i:03}");
        engine
            .create_cashier(&owner_actor, m.id, &cashier_name, "收银员", till.id, Some("demo cashier password".into()))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let v = expect(
            c,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": cashier_name, "password": "demo cashier password"})),
            200,
        )
        .await?;
        shops.push(Shop {
            id: m.id.to_string(),
            industry,
            till: till.id.to_string(),
            cashier: v["token"].as_str().unwrap_or_default().to_owned(),
        });
        b.inc(1);
    }
    b.finish_and_clear();
    Ok(shops)
}
