//! One error shape for every answer that is not a success:
//! `{"error": {"code", "message", "request_id", "details"}}`.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_engine::{Rejection, Status};
use serde::Serialize;
use utoipa::ToSchema;

tokio::task_local! {
    /// The id of the request being handled, for error bodies and logs.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, `snake_case`; clients match on this.
    pub code: String,
    /// For people; may change between versions.
    pub message: String,
    /// Quote this when asking for help: it finds the log lines.
    pub request_id: String,
    /// More about the error, e.g. `{"field": "role"}` for a bad field (with
    /// `path` repeating it, the key of earlier versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Boxed: an error stays small on every `Result` that carries one.
    pub details: Option<Box<serde_json::Value>>,
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    /// An answer with this status, code and message. A 500 is never built
    /// here with its text: its message is logged as the cause and the
    /// client gets the fixed one ([`ApiError::internal`]).
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            return ApiError::internal_message(&message.into());
        }
        ApiError { status, code: Cow::Borrowed(code), message: message.into(), details: None, retry_after_s: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(Box::new(details));
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A field that failed to parse into its domain type.
    pub fn invalid_field(path: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", format!("{path}: {message}"))
            .with_details(field_details(path))
    }

    /// This error's details, naming the offending field.
    pub fn on_field(self, field: &str) -> ApiError {
        self.with_details(field_details(field))
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    pub fn forbidden_role() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "your role may not do this")
    }

    /// A failure that is ours, not the client's: the cause is logged with the
    /// request id, and the client learns nothing about it.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut chain = cause.to_string();
        let mut src = cause.source();
        while let Some(s) = src {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            src = s.source();
        }
        tracing::error!(error = %chain, request_id = %current_request_id(), "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: Cow::Borrowed("internal"),
            message: "an internal error occurred; quote the request id when reporting it".into(),
            details: None,
            retry_after_s: None,
        }
    }

    /// Like [`ApiError::internal`] for a cause that is only a message.
    pub fn internal_message(cause: &str) -> ApiError {
        #[derive(Debug)]
        struct Message(String);
        impl std::fmt::Display for Message {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::error::Error for Message {}
        ApiError::internal(&Message(cause.to_owned()))
    }

    /// The generic error for a bare status produced outside a handler
    /// (unknown method, body too large, timeout).
    pub fn from_status(status: StatusCode) -> ApiError {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed on this path"),
            StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is larger than the server accepts"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send the body as application/json"),
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
                ("timeout", "the request took too long; try again")
            }
            StatusCode::UNAUTHORIZED => ("unauthorized", "authentication is required"),
            StatusCode::FORBIDDEN => ("forbidden", "not allowed"),
            s if s.is_server_error() => {
                ("internal", "an internal error occurred; quote the request id when reporting it")
            }
            _ => ("bad_request", "the request is not valid"),
        };
        ApiError::new(status, code, message)
    }
}

/// `details` naming the offending field: `field`, the one key every error
/// naming a field carries (parameter, body or rule alike), and `path`
/// repeating it, the key earlier versions used for parameters and bodies.
pub fn field_details(field: &str) -> serde_json::Value {
    serde_json::json!({ "field": field, "path": field })
}

fn status_of(s: Status) -> StatusCode {
    match s {
        Status::BadRequest => StatusCode::BAD_REQUEST,
        Status::Unauthorized => StatusCode::UNAUTHORIZED,
        Status::Forbidden => StatusCode::FORBIDDEN,
        Status::NotFound => StatusCode::NOT_FOUND,
        Status::Conflict => StatusCode::CONFLICT,
        Status::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Status::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Status::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Status::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl<R: Rejection> From<R> for ApiError {
    fn from(r: R) -> ApiError {
        if r.status() == Status::Internal {
            return ApiError::internal(&r);
        }
        ApiError {
            status: status_of(r.status()),
            code: Cow::Borrowed(r.code()),
            message: r.to_string(),
            details: r.details().or_else(|| r.field().map(field_details)).map(Box::new),
            retry_after_s: r.retry_after_s(),
        }
    }
}

impl ApiError {
    /// The body this error is sent with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                request_id: current_request_id(),
                details: self.details.as_deref().cloned(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(v) = self.retry_after_s.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        // Marks the body as already in the error shape for the middleware.
        resp.extensions_mut().insert(ErrorShaped);
        resp
    }
}

/// Present on responses whose body is already an `ErrorBody`, or is a
/// page's own answer for people (HTML, from `quan-web`): left as it is.
#[derive(Debug, Clone, Copy)]
pub struct ErrorShaped;

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_never_carries_its_cause_to_the_client_however_it_is_built() {
        let direct = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "chart: series 3 has no values");
        let parsed = ApiError::internal(&std::io::Error::other("disk /var/lib/quan is full"));
        for e in [direct, parsed] {
            assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(e.code, "internal");
            assert!(!e.message.contains("chart") && !e.message.contains("disk"), "{}", e.message);
        }
    }
}
