//! Logging in and out, for staff (password) and residents (SMS code).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quan_domain::PhoneNumber;
use quan_engine::auth::{Issued, OtpCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth, ClientAddr};
use crate::views::{
    ChangePasswordRequest, LoginRequest, MeView, SessionView, SmsCodeRequest, SmsCodeSent, SmsCodeVerify,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(request_sms_code))
        .routes(routes!(verify_sms_code))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

fn session_view(i: Issued) -> SessionView {
    SessionView { token: i.token, token_type: "Bearer".into(), expires_at: i.expires_at, account: (&i.actor).into() }
}

/// Staff login with username and password. An unknown user and a wrong
/// password get the same answer in the same time. Attempts are limited per
/// client address, and after five failures for one username from one
/// address each further try waits longer (1 s, 2 s, 4 s, … 15 min): nobody
/// can lock an official out from elsewhere. Roles: none (public).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = SessionView),
    (status = 401, description = "`invalid_credentials`", body = ErrorBody),
    (status = 403, description = "`account_disabled`", body = ErrorBody),
    (status = 429, description = "`too_many_attempts`", body = ErrorBody),
))]
async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<SessionView>> {
    let issued = state.engine.login(&req.username, &req.password, &client.0).await?;
    Ok(Json(session_view(issued)))
}

/// Ends the caller's session; the token stops working at once.
/// Roles: any logged-in account.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "logged out"),
    (status = 401, body = ErrorBody),
))]
async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    state.engine.logout(&auth.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_phone(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw).map_err(|e| ApiError::invalid_field("phone", e))
}

/// Sends a 6-digit login code to a resident's phone. A code lives 5 minutes
/// and allows 5 tries; one code a minute and 10 an hour per number, and
/// limits per device token (`Quan-Device` header), client address and
/// address block (/24, /64). Roles: none (public).
#[utoipa::path(post, path = "/api/v1/auth/sms-codes", tag = "auth", request_body = SmsCodeRequest, responses(
    (status = 202, body = SmsCodeSent),
    (status = 422, description = "`invalid_field`: not a mainland mobile number", body = ErrorBody),
    (status = 429, description = "`code_recently_sent`, `too_many_codes`, `too_many_requests`", body = ErrorBody),
    (status = 503, description = "`sms_unavailable`", body = ErrorBody),
))]
async fn request_sms_code(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<SmsCodeRequest>,
) -> ApiResult<(StatusCode, Json<SmsCodeSent>)> {
    let phone = parse_phone(&req.phone)?;
    let device = crate::extract::device_token(&headers)?;
    let expires_at = state.engine.request_login_code_from(&phone, &client.0, device.as_deref()).await?;
    let resend_after_s = state.engine.config().otp_resend_interval_s;
    Ok((StatusCode::ACCEPTED, Json(SmsCodeSent { expires_at, resend_after_s })))
}

/// Exchanges the SMS code for a session; creates the resident on first
/// login. Roles: none (public).
#[utoipa::path(post, path = "/api/v1/auth/sms-codes/verify", tag = "auth", request_body = SmsCodeVerify, responses(
    (status = 200, body = SessionView),
    (status = 401, description = "`wrong_code`, `no_live_code`", body = ErrorBody),
    (status = 422, description = "`invalid_field`", body = ErrorBody),
))]
async fn verify_sms_code(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SmsCodeVerify>,
) -> ApiResult<Json<SessionView>> {
    let phone = parse_phone(&req.phone)?;
    let code = OtpCode::parse(&req.code).map_err(|e| ApiError::invalid_field("code", e))?;
    let issued = state.engine.verify_login_code(&phone, &code).await?;
    Ok(Json(session_view(issued)))
}

/// The logged-in account. Roles: any logged-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = MeView),
    (status = 401, body = ErrorBody),
))]
async fn me(auth: Auth) -> Json<MeView> {
    Json((&auth.0).into())
}

/// Changes the caller's password and ends all their sessions.
/// Roles: every role but resident.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest, responses(
    (status = 204, description = "changed; log in again"),
    (status = 403, description = "`wrong_password`, `forbidden`", body = ErrorBody),
    (status = 422, description = "`password_too_short`, `password_too_long`", body = ErrorBody),
))]
async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state.engine.change_password(&auth.0, &req.current_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
