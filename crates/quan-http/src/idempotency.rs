//! `Idempotency-Key` for requests that move money or create records: a
//! retry with the same key gets the first answer and does nothing again;
//! the same key with a different body is a 422; a retry while the first is
//! still running is a 409.

use std::future::Future;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_store::IdempotencyBegin;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const KEY_LEN_MAX: usize = 255;

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status.is_client_error() || status.is_server_error() {
        // The stored body is already an error body; keep it as it is.
        r.extensions_mut().insert(crate::error::ErrorShaped);
    }
    r
}

/// Runs `work` at most once per `(scope, Idempotency-Key)`. Without the
/// header it simply runs `work`. `scope` names the caller (e.g. its user id);
/// `path` and `body` make the request's fingerprint.
pub async fn idempotent<F, Fut, T>(
    state: &AppState,
    scope: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    work: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, Json<T>)>>,
    T: Serialize,
{
    let Some(key) = key_of(headers)? else {
        return work().await.map(IntoResponse::into_response);
    };
    let hash = fingerprint(path, body);
    let engine = &state.engine;
    match engine.begin_idempotent(scope, &key, &hash).await.map_err(|e| ApiError::internal(&e))? {
        IdempotencyBegin::New => {
            let (status, text) = match work().await {
                Ok((status, Json(v))) => (status, serde_json::to_string(&v).unwrap_or_default()),
                Err(e) if e.status.is_server_error() => {
                    // Ours, not the client's: free the key so a retry can run.
                    let _ = engine.abandon_idempotent(scope, &key).await;
                    return Err(e);
                }
                Err(e) => (e.status, serde_json::to_string(&e.body()).unwrap_or_default()),
            };
            engine
                .complete_idempotent(scope, &key, status.as_u16(), &text)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            Ok(json_response(status, text))
        }
        found => answer_found(found),
    }
}

/// The request's `Idempotency-Key`, checked; `None` without the header.
pub fn key_of(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(raw) = headers.get(HEADER) else { return Ok(None) };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= KEY_LEN_MAX && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request("bad_idempotency_key", "Idempotency-Key is 1 to 255 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

/// What makes two requests with one key the same request: path and body.
pub fn fingerprint(path: &str, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().into()
}

/// The answer to a request whose key is already stored: the first answer
/// again, or why not.
pub fn answer_found(found: IdempotencyBegin) -> ApiResult<Response> {
    match found {
        IdempotencyBegin::Replay { status, body } => {
            let mut r = json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
            r.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            Ok(r)
        }
        IdempotencyBegin::InFlight | IdempotencyBegin::New => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_flight",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )),
        IdempotencyBegin::Mismatch => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )),
    }
}

/// The content type check `ApiJson` does, for handlers that read raw bytes.
pub fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if ok { Ok(()) } else { Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)) }
}
