//! Extractors: the JSON body (with the path of the field that failed), the
//! calling actor from the bearer token, and the client's address.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use quan_domain::Role;
use quan_engine::Actor;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body. Malformed JSON or a field of the wrong type is a 400 whose
/// `details.path` names the field (`role`, `items[2].price`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
                ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::from_status(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::from_status(e.status())
            } else {
                ApiError::bad_request("unreadable_body", "the request body could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body; a malformed body or a field of the wrong type is a
/// 400 whose `details.field` names the field.
/// A control character (NUL and the like) in any text field is a 422
/// naming the field, on every backend alike.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some(path) = crate::text::control_character_field(bytes) {
        return Err(ApiError::invalid_field(&path, "control characters (such as NUL) are not allowed")
            .with_details(serde_json::json!({ "field": path, "path": path, "rule": "control_character" })));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        // JSON has one number type: `12.0` is the integer 12 (as JSON Schema
        // says), which serde refuses for an integer field. Only then is the
        // body read again with such numbers made integers.
        Err(e) if e.inner().to_string().contains("invalid type: floating point") => {
            let mut v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| bad_body(e))?;
            whole_floats_to_integers(&mut v);
            serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
                let path = e.path().to_string();
                ApiError::bad_request(
                    "invalid_body",
                    format!("a field is missing or has the wrong type: {}", e.inner()),
                )
                .on_field(&path)
            })
        }
        Err(e) => Err(bad_body(e)),
    }
}

/// Numbers with a zero fraction (`-295.0`, `9007199254740992.0`) as integers, where an i64 holds them.
#[allow(clippy::float_arithmetic, clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn whole_floats_to_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.2e18
            {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(whole_floats_to_integers),
        serde_json::Value::Object(o) => o.values_mut().for_each(whole_floats_to_integers),
        _ => {}
    }
}

fn bad_body(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let (code, what) = if inner.is_syntax() || inner.is_eof() {
        ("malformed_json", "the body is not valid JSON")
    } else {
        ("invalid_body", "a field is missing or has the wrong type")
    };
    ApiError::bad_request(code, format!("{what}: {inner}")).with_details(
        serde_json::json!({ "field": path, "path": path, "line": inner.line(), "column": inner.column() }),
    )
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        let actor = state.engine.authenticate(token).await?;
        Ok(Auth(actor))
    }
}

impl Auth {
    /// Refuses callers whose role is not among `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Actor, ApiError> {
        if roles.contains(&self.0.role()) { Ok(&self.0) } else { Err(ApiError::forbidden_role()) }
    }
}

/// The client's address, for rate limits and logs: the peer's, or behind
/// a trusted reverse proxy the address it forwards for. Requests that did
/// not come through a socket (in-process tests) share one key.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn of(parts_ext: &axum::http::Extensions, headers: &axum::http::HeaderMap, state: &AppState) -> ClientAddr {
        let peer = parts_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        ClientAddr(peer.map_or_else(|| "local".to_owned(), |p| state.trusted_proxies.client(p, headers).to_string()))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientAddr::of(&parts.extensions, &parts.headers, state))
    }
}

/// The phone's device token (`Quan-Device`: 8 to 64 letters, digits, `-`
/// or `_`, made once by the page and kept), for the per-device limits and
/// signals; absent is allowed, malformed is a 422 naming the header.
pub fn device_token(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("quan-device") else { return Ok(None) };
    let ok = v.to_str().ok().filter(|s| {
        (8..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    ok.map(|s| Some(s.to_owned()))
        .ok_or_else(|| ApiError::invalid_field("Quan-Device", "8 to 64 letters, digits, - or _"))
}

impl ClientAddr {
    /// The address as an IP address (none for a local caller without one).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.0.parse().ok()
    }

    /// What a claim or a challenge brings for risk control: this address
    /// and the request's device token (its proof of work comes in its body).
    pub fn claim_context(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<quan_engine::claims::ClaimContext, ApiError> {
        Ok(quan_engine::claims::ClaimContext { device: device_token(headers)?, address: self.ip(), pow: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Amount {
        amount_fen: i64,
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_reads_as_that_exact_integer() {
        // Near 2^52 a fast float parser is half a unit off (3935756293463690.0
        // read as …689.5): serde_json's float_roundtrip reads it exactly.
        for (body, want) in
            [(r#"{"amount_fen": 3935756293463690.0}"#, 3_935_756_293_463_690), (r#"{"amount_fen": -295.0}"#, -295)]
        {
            let a: Result<Amount, _> = parse_json(body.as_bytes());
            assert_eq!(a.map(|a| a.amount_fen).ok(), Some(want), "{body}");
        }
        assert!(parse_json::<Amount>(br#"{"amount_fen": 12.5}"#).is_err());
    }
}
