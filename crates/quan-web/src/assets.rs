//! The pages' static files, embedded in the binary: the vendored ones
//! (`assets/vendor/`, with their licences and `SHA256SUMS`) and quan's own
//! script and style. They are served under `/assets/<set>/<name>`, where
//! `<set>` is a hash of every file: a changed file is a new address, so the
//! answers can be cached for a year. A file's dynamic imports
//! (qr-scanner's worker) resolve beside it.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_http::AppState;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
#[exclude = "vendor/licenses/*"]
struct Files;

/// The first hex digits of the hash over every embedded file.
fn set_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let mut names: Vec<_> = Files::iter().collect();
        names.sort();
        let mut h = Sha256::new();
        for n in names {
            if let Some(f) = Files::get(&n) {
                h.update(n.as_bytes());
                h.update(f.metadata.sha256_hash());
            }
        }
        hex::encode(h.finalize())[..12].to_owned()
    })
}

/// Where a file is served, e.g. `url("vendor/htmx.min.js")`.
pub fn url(name: &str) -> String {
    format!("/assets/{}/{name}", set_hash())
}

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{set}/{*name}", axum::routing::get(serve))
}

async fn serve(Path((set, name)): Path<(String, String)>) -> Response {
    let Some(file) = Files::get(&name) else { return StatusCode::NOT_FOUND.into_response() };
    let mut r = file.data.into_owned().into_response();
    let h = r.headers_mut();
    let mime = match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // An old page asking for an older set gets today's file, uncached.
    let cache = if set == set_hash() { "public, max-age=31536000, immutable" } else { "no-cache" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_file_matches_its_line_in_the_manifest() {
        let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/vendor/SHA256SUMS"))
            .unwrap_or_else(|e| panic!("SHA256SUMS: {e}"));
        let mut checked = 0;
        for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
            let (want, name) = line.split_once("  ").unwrap_or_else(|| panic!("a manifest line: {line}"));
            let file = Files::get(&format!("vendor/{name}")).unwrap_or_else(|| panic!("{name} is embedded"));
            assert_eq!(hex::encode(Sha256::digest(&file.data)), want, "{name} differs from its manifest line");
            checked += 1;
        }
        let vendored = Files::iter().filter(|n| n.starts_with("vendor/") && !n.ends_with("SHA256SUMS")).count();
        assert_eq!(checked, vendored, "every vendored file has a manifest line");
        assert!(checked >= 5);
    }

    #[test]
    fn every_vendored_file_has_its_licence_beside_it() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/vendor/licenses");
        for lic in ["htmx.org-LICENSE", "htmx-ext-sse-LICENSE", "weui-LICENSE", "qr-scanner-LICENSE", "echarts-LICENSE"]
        {
            let text = std::fs::read_to_string(format!("{dir}/{lic}")).unwrap_or_default();
            assert!(text.len() > 100, "{lic} is committed");
        }
    }

    #[test]
    fn a_file_is_addressed_by_the_hash_of_the_whole_set() {
        let u = url("vendor/htmx.min.js");
        assert!(u.starts_with("/assets/") && u.ends_with("/vendor/htmx.min.js"), "{u}");
        assert_eq!(u.split('/').nth(2).map(str::len), Some(12));
    }
}
