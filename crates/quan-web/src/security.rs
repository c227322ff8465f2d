//! Headers on every page answer: nothing from another origin, no inline
//! script, no framing, no sniffing, no referrer beyond this site.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// `default-src 'self'`, with what the pages need beyond it: the QR
/// scanner's worker is a `blob:` script, WeUI's icons are `data:` images,
/// and the camera's picture is a `blob:` stream.
pub const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    // A page's error is already said for people: not replaced by the API's JSON error.
    r.extensions_mut().insert(quan_http::error::ErrorShaped);
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry personal data: never kept by a shared cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    r
}
