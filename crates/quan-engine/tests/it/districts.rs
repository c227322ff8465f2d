//! The shipped district boundaries of five cities, through the real import.

use quan_domain::geo::{Crs, DistrictIndex};
use quan_engine::districts::{Located, Position, PositionRejection, parse_geojson, to_index_crs};
use serde_json::Value;

use crate::harness;

fn data_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/regions/geojson")
}

fn files() -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap_or_default()))
        .collect();
    v.sort();
    v
}

#[test]
fn the_label_point_of_every_shipped_district_is_inside_it_and_no_other() {
    let mut shapes = Vec::new();
    let mut labels = Vec::new();
    for (name, text) in files() {
        let parsed = parse_geojson(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        shapes.extend(parsed.iter().map(|d| to_index_crs(d, Crs::Gcj02)));
        let doc: Value = serde_json::from_str(&text).unwrap_or_default();
        for f in doc["features"].as_array().into_iter().flatten() {
            let cp = &f["properties"]["cp"];
            labels.push((
                f["id"].as_str().unwrap_or_default().to_owned(),
                cp[0].as_f64().unwrap_or(0.0),
                cp[1].as_f64().unwrap_or(0.0),
            ));
        }
    }
    assert_eq!(shapes.len(), 50, "13 + 10 + 6 + 13 + 8 districts");
    let index = DistrictIndex::build(&shapes, 0.0);
    for (code, x, y) in &labels {
        let all: Vec<String> = index.containing_all(*x, *y).iter().map(|c| c.to_string()).collect();
        assert_eq!(all, vec![code.clone()], "label point of {code}");
        assert!(matches!(index.lookup(*x, *y), quan_domain::geo::Lookup::Inside(c) if c.as_str() == code), "{code}");
    }
}

#[tokio::test]
async fn importing_the_shipped_files_makes_positions_locatable_and_reimporting_keeps_history() {
    let h = harness().await;
    for (name, text) in files() {
        let (new, replaced) =
            h.engine.import_districts(&text, Crs::Gcj02, &name).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(replaced, 0);
        assert!(new >= 6);
    }
    // The label point of Xiling District (420502), given in GCJ-02.
    let xiling = Position { lng: 111.295468, lat: 30.702476, crs: Crs::Gcj02, accuracy_m: Some(30.0) };
    let found = h.engine.locate(&xiling).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(found, Located::Inside(c) if c.as_str() == "420502"), "{found:?}");
    // The same place as a phone's raw GPS reports it.
    let (wx, wy) = quan_domain::geo::crs::convert(xiling.lng, xiling.lat, Crs::Gcj02, Crs::Wgs84);
    let gps = Position { lng: wx, lat: wy, crs: Crs::Wgs84, accuracy_m: None };
    assert_eq!(h.engine.locate(&gps).ok(), Some(found));
    let sea = Position { lng: 122.5, lat: 30.0, crs: Crs::Wgs84, accuracy_m: None };
    assert_eq!(h.engine.locate(&sea).ok(), Some(Located::Outside));
    let bad = Position { lng: f64::NAN, ..sea };
    assert_eq!(h.engine.locate(&bad).err(), Some(PositionRejection::NotANumber));
    let far = Position { lng: 2.35, lat: 48.85, ..sea };
    assert_eq!(h.engine.locate(&far).err(), Some(PositionRejection::OutOfRange));
    let vague = Position { accuracy_m: Some(2000.0), ..xiling };
    assert!(matches!(h.engine.locate(&vague), Err(PositionRejection::TooImprecise { .. })));
    let (_, yichang) = files().into_iter().find(|(n, _)| n.starts_with("420500")).unwrap_or_default();
    let (new, replaced) =
        h.engine.import_districts(&yichang, Crs::Gcj02, "again").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((new, replaced), (0, 13));
    let code = quan_domain::DistrictCode::parse("420502").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(h.engine.store().district_history(&code).await.map(|v| v.len()).ok(), Some(1));
}

#[test]
fn bad_geojson_names_the_feature_and_the_rule() {
    let cases = [
        ("{", "not_json"),
        (r#"{"type":"Feature"}"#, "not_a_feature_collection"),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#,
            "missing_code",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"420502","geometry":{"type":"Point","coordinates":[1,2]}}]}"#,
            "unsupported_geometry",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"420502","geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4]]]}}]}"#,
            "bad_coordinates",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"99","geometry":{"type":"Polygon","coordinates":[]}}]}"#,
            "bad_district_code",
        ),
    ];
    for (text, rule) in cases {
        assert_eq!(parse_geojson(text).err().map(|e| e.rule), Some(rule), "{text}");
    }
}

#[tokio::test]
async fn a_boundary_at_the_pole_is_refused_and_a_bad_stored_one_never_stops_the_rest_from_loading() {
    use quan_domain::Clock as _;
    let h = harness().await;
    let pole = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"420502","properties":{},
        "geometry":{"type":"Polygon","coordinates":[[[0,80],[10,80],[10,90],[0,90],[0,80]]]}}]}"#;
    let e = h.engine.import_districts(pole, Crs::Wgs84, "pole").await.err().map(|e| e.to_string());
    assert!(e.as_deref().is_some_and(|e| e.contains("outside_china")), "{e:?}");
    let open_ring = r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"420502","properties":{},
        "geometry":{"type":"Polygon","coordinates":[[[111,30],[112,30],[112,31],[111,31]]]}}]}"#;
    let e = h.engine.import_districts(open_ring, Crs::Wgs84, "open").await.err().map(|e| e.to_string());
    assert!(e.as_deref().is_some_and(|e| e.contains("ring_not_closed")), "{e:?}");
    // A bad boundary stored by an older version, beside good ones.
    let (_, yichang) = files().into_iter().find(|(n, _)| n.starts_with("420500")).unwrap_or_default();
    h.engine.import_districts(&yichang, Crs::Gcj02, "good").await.unwrap_or_else(|e| panic!("{e}"));
    let bad = quan_store::DistrictBoundary {
        code: quan_domain::DistrictCode::parse("420599").unwrap_or_else(|e| panic!("{e}")),
        name: "pole".into(),
        crs: Crs::Wgs84,
        geometry_json: r#"{"type":"Polygon","coordinates":[[[0,80],[10,80],[10,90],[0,90],[0,80]]]}"#.into(),
        version: 0,
        imported_at: h.clock.now(),
        source: "older version".into(),
    };
    h.engine.store().import_districts(&[bad], h.clock.now()).await.unwrap_or_else(|e| panic!("{e}"));
    let loaded = h.engine.reload_districts().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, 13, "the good districts are served, the bad one left out");
}
