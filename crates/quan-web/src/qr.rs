//! QR codes drawn into the page itself (SVG), from the API's encoder, and
//! the polled fragment of a dynamic code (a voucher's or a till's).

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use quan_engine::redemptions::IssuedCode;

use crate::msg::Msg;

/// The code's QR as an `<svg>` element, without the XML declaration.
pub fn inline_svg(code: &str) -> Result<String, Msg> {
    let svg = quan_http::qr::svg(code).map_err(|e| {
        tracing::error!(error = %e, "a code could not be drawn");
        internal()
    })?;
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{}\" class=\"qr\"", crate::zh::QR_LABEL),
        1,
    ))
}

fn internal() -> Msg {
    Msg::warn(StatusCode::INTERNAL_SERVER_ERROR, "internal", crate::zh::INTERNAL)
}

#[derive(Template)]
#[template(path = "_code.html")]
struct Code {
    code: String,
    svg: String,
    expires_ms: i64,
    digits: String,
}

/// The fragment of a code the page polls every second: nothing new (204)
/// while `shown` is still the current code, else the code drawn, in
/// groups of four under it, with when its window ends.
pub fn fragment(c: &IssuedCode, shown: Option<&str>) -> Result<Response, Msg> {
    if shown == Some(c.code.as_str()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let digits = c.code.chars().collect::<Vec<_>>().chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>();
    let page = Code {
        code: c.code.clone(),
        svg: inline_svg(&c.code)?,
        expires_ms: c.expires_at.timestamp_millis(),
        digits: digits.join(" "),
    };
    let html = page.render().map_err(|_| internal())?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}
