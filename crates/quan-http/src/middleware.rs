//! Around every request: a request id (taken from `x-request-id` when it is
//! sane, made otherwise) in the log span, in the error body and in the
//! response header; a metrics sample; and the uniform error shape for
//! errors produced outside handlers (unknown route, wrong method, body too
//! large, timeout).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::AppState;
use crate::error::{ApiError, ErrorShaped, REQUEST_ID};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn sane_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| s.to_owned())
}

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let rid = request_id.clone();
    let mut resp = REQUEST_ID
        .scope(rid.clone(), async move {
            let resp = next.run(req).await;
            let status = resp.status();
            if (status.is_client_error() || status.is_server_error())
                && resp.extensions().get::<ErrorShaped>().is_none()
            {
                // Built here, inside the scope, so the body carries the request id.
                let mut shaped = ApiError::from_status(status).into_response();
                for (name, value) in resp.headers() {
                    if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                        shaped.headers_mut().insert(name.clone(), value.clone());
                    }
                }
                shaped
            } else {
                resp
            }
        })
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    state.metrics.record_request(method.as_str(), &route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(status, latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), "request finished");
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}
