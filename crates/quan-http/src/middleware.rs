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

/// A UUID version 7 for a request without a sane id of its own, its
/// random part from the engine's buffered system source (`Uuid::now_v7`
/// made a `getrandom` system call per request, ≈ 1.8 % of a sold-out
/// answer's CPU in a grab). Only an id for logs: it orders by time, and
/// two requests in one millisecond differ by 74 random bits.
fn new_request_id() -> String {
    use quan_engine::Random;
    let mut random = [0u8; 10];
    quan_engine::SystemRandom.fill(&mut random);
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(ms).unwrap_or(u64::MAX), &random).into_uuid().to_string()
}

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req.headers().get(REQUEST_ID_HEADER).and_then(sane_request_id).unwrap_or_else(new_request_id);
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let client = crate::extract::ClientAddr::of(req.extensions(), req.headers(), &state).0;
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route, client = %client);
    let rid = request_id.clone();
    let mut resp = REQUEST_ID
        .scope(rid.clone(), async move {
            let uri = req.uri();
            if crate::text::percent_encoded_control(uri.path())
                || uri.query().is_some_and(crate::text::percent_encoded_control)
            {
                return ApiError::bad_request(
                    "control_character",
                    "the path or query holds a control character (such as %00)",
                )
                .into_response();
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_request_id_is_a_version_7_uuid_of_now_and_never_repeats() {
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let ids: std::collections::HashSet<String> = (0..2_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in ids.iter().take(20) {
            let u: uuid::Uuid = id.parse().unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(u.get_version_num(), 7, "{id}");
            let (secs, nanos) = u.get_timestamp().map(|t| t.to_unix()).unwrap_or_default();
            let ms = u128::from(secs) * 1000 + u128::from(nanos / 1_000_000);
            assert!(ms + 1 >= before && ms <= before + 60_000, "{id}: {ms} vs {before}");
            assert!(sane_request_id(&HeaderValue::from_str(id).unwrap_or_else(|e| panic!("{e}"))).is_some());
        }
    }
}
