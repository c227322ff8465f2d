//! Staff accounts, managed by officials inside their own region.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use quan_domain::{Region, Role, UserId, Username};
use quan_engine::users::NewAccount;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::views::{CreateUserRequest, CreatedUser, UserList, UserView};

const STAFF: &[Role] = &[Role::Official, Role::Auditor, Role::Operator];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(reset_password))
}

/// Creates an account (official, auditor, operator or partner) inside the
/// caller's region. Roles: official.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest, responses(
    (status = 201, body = CreatedUser),
    (status = 403, body = ErrorBody),
    (status = 409, description = "`username_taken`", body = ErrorBody),
    (status = 422, description = "`invalid_field`, `region_outside_yours`, `role_not_creatable`, `password_too_short`", body = ErrorBody),
))]
async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let actor = auth.require(&[Role::Official])?;
    let new = NewAccount {
        username: Username::parse(&req.username).map_err(|e| ApiError::invalid_field("username", e))?,
        role: req.role.into(),
        region: Region::parse(&req.region).map_err(|e| ApiError::invalid_field("region", e))?,
        display_name: req.display_name,
        password: req.password,
    };
    let (user, generated_password) = state.engine.create_user(actor, new).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user: (&user).into(), generated_password })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Return accounts after this id (from `next_after`).
    after: Option<Uuid>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Only accounts whose username or display name contains this (any case).
    #[param(max_length = 64)]
    q: Option<String>,
}

/// Accounts inside the caller's region, by id. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListQuery), responses(
    (status = 200, body = UserList),
    (status = 403, body = ErrorBody),
))]
async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<UserList>> {
    let actor = auth.require(STAFF)?;
    let limit = crate::views::page_limit(q.limit)?;
    let users = state
        .engine
        .list_users(actor, q.after.map(UserId::from_uuid), limit, crate::views::search(q.q.as_deref())?)
        .await?;
    let next_after = if users.len() == limit as usize { users.last().map(|u| u.id.as_uuid()) } else { None };
    Ok(Json(UserList { users: users.iter().map(UserView::from).collect(), next_after }))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    // A malformed id names nothing, inside the region or out: same 404.
    raw.parse().map_err(|_| ApiError::not_found())
}

/// One account. Outside the caller's region the answer is 404, exactly as
/// for an id that does not exist. Roles: official, auditor, operator.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, body = UserView),
    (status = 404, body = ErrorBody),
))]
async fn get_user(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<UserView>> {
    let actor = auth.require(STAFF)?;
    let user = state.engine.get_user(actor, user_id(&id)?).await?;
    Ok(Json((&user).into()))
}

/// Disables an account and ends its sessions. Roles: official; a merchant
/// owner, for its own shop's cashiers (one who left).
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, body = UserView),
    (status = 404, body = ErrorBody),
    (status = 422, description = "`cannot_disable_self`", body = ErrorBody),
))]
async fn disable_user(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<UserView>> {
    let actor = auth.require(&[Role::Official, Role::MerchantOwner])?;
    let user = state.engine.set_user_disabled(actor, user_id(&id)?, true).await?;
    Ok(Json((&user).into()))
}

/// Enables a disabled account. Roles: official; a merchant owner, for its
/// own shop's cashiers.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, body = UserView),
    (status = 404, body = ErrorBody),
))]
async fn enable_user(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<UserView>> {
    let actor = auth.require(&[Role::Official, Role::MerchantOwner])?;
    let user = state.engine.set_user_disabled(actor, user_id(&id)?, false).await?;
    Ok(Json((&user).into()))
}

/// Gives an account a new generated password, returned once; its sessions
/// end. Roles: official, for the roles it creates, inside its region.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, body = CreatedUser),
    (status = 404, body = ErrorBody),
))]
async fn reset_password(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CreatedUser>> {
    let actor = auth.require(&[Role::Official])?;
    let (user, password) = state.engine.reset_user_password(actor, user_id(&id)?).await?;
    Ok(Json(CreatedUser { user: (&user).into(), generated_password: Some(password) }))
}
