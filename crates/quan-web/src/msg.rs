//! A short answer shown in place (an htmx fragment): a success, or an error
//! in Chinese with its real status, and `Retry-After` when there is one.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_http::ApiError;

#[derive(Debug, Template)]
#[template(path = "_msg.html")]
pub struct Msg {
    pub status: StatusCode,
    pub ok: bool,
    pub text: String,
    pub retry_after_s: Option<u64>,
    /// The stable code, for pages' scripts and for support.
    pub code: String,
}

impl Msg {
    pub fn ok(text: impl Into<String>) -> Msg {
        Msg { status: StatusCode::OK, ok: true, text: text.into(), retry_after_s: None, code: String::new() }
    }

    pub fn warn(status: StatusCode, code: &str, text: impl Into<String>) -> Msg {
        Msg { status, ok: false, text: text.into(), retry_after_s: None, code: code.to_owned() }
    }

    /// A failure that is not the person's: logged with its cause, said plainly.
    pub fn internal(cause: &dyn std::fmt::Display) -> Msg {
        tracing::error!(error = %cause, "a page failed");
        Msg::warn(StatusCode::INTERNAL_SERVER_ERROR, "internal", crate::zh::INTERNAL)
    }

    /// A bad field of a form, named in Chinese.
    pub fn field(text: impl Into<String>) -> Msg {
        Msg::warn(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", text)
    }
}

impl Msg {
    /// An engine's refusal, said in Chinese.
    pub fn of(e: impl Into<ApiError>) -> Msg {
        let e: ApiError = e.into();
        let retry_after_s = e.retry_after_s;
        let code = e.code.to_string();
        let (status, text) = crate::zh::explain(e);
        Msg {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            ok: false,
            text,
            retry_after_s,
            code,
        }
    }
}

impl IntoResponse for Msg {
    fn into_response(self) -> Response {
        let body = self.render().unwrap_or_else(|_| format!("<p>{}</p>", crate::zh::INTERNAL));
        let mut r = (self.status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
        if let Some(s) = self.retry_after_s
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// A change that shows across the page (a list, a status): htmx reloads it.
pub fn refreshed(status: StatusCode) -> Response {
    let mut r = status.into_response();
    r.headers_mut().insert("hx-refresh", HeaderValue::from_static("true"));
    r
}
