//! Turning rows into domain records, and database errors into `StoreError`.

use chrono::{DateTime, Utc};
use quan_domain::{KeyedHash, Region, ResidentId, Role, UserId, Username};
use quan_store::{OtpChallenge, Resident, StoreError, User};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::message(format!("instant {ms} ms is out of range")))
}

/// Maps a unique-constraint violation to `Conflict { what }`, anything else to `Other`.
pub(crate) fn conflict_on(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict { what },
        _ => StoreError::other(e),
    }
}

pub(crate) fn other(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        e => StoreError::other(e),
    }
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    col: &str,
) -> Result<T, StoreError> {
    row.try_get(col).map_err(StoreError::other)
}

fn parsed<T, E: std::fmt::Display>(r: Result<T, E>, col: &str) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::message(format!("stored {col} is invalid: {e}")))
}

fn hash32(v: Vec<u8>, col: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| StoreError::message(format!("stored {col} is not 32 bytes")))
}

pub(crate) fn user(row: &PgRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::from_uuid(get(row, "id")?),
        username: parsed(Username::parse(&get::<String>(row, "username")?), "username")?,
        role: parsed(get::<String>(row, "role")?.parse::<Role>(), "role")?,
        region: parsed(Region::parse(&get::<String>(row, "region")?), "region")?,
        display_name: get(row, "display_name")?,
        password_hash: get(row, "password_hash")?,
        disabled: get(row, "disabled")?,
        created_at: from_ms(get(row, "created_at_ms")?)?,
        created_by: get::<Option<Uuid>>(row, "created_by")?.map(UserId::from_uuid),
    })
}

pub(crate) fn resident(row: &PgRow) -> Result<Resident, StoreError> {
    Ok(Resident {
        id: ResidentId::from_uuid(get(row, "id")?),
        phone_hash: KeyedHash::from_bytes(hash32(get(row, "phone_hash")?, "phone_hash")?),
        phone_masked: get(row, "phone_masked")?,
        created_at: from_ms(get(row, "created_at_ms")?)?,
    })
}

pub(crate) fn otp(row: &PgRow) -> Result<OtpChallenge, StoreError> {
    Ok(OtpChallenge {
        id: get(row, "id")?,
        phone_hash: KeyedHash::from_bytes(hash32(get(row, "phone_hash")?, "phone_hash")?),
        code_hash: hash32(get(row, "code_hash")?, "code_hash")?,
        attempts: parsed(u32::try_from(get::<i32>(row, "attempts")?), "attempts")?,
        created_at: from_ms(get(row, "created_at_ms")?)?,
        expires_at: from_ms(get(row, "expires_at_ms")?)?,
    })
}

pub(crate) fn token_hash(row: &PgRow) -> Result<[u8; 32], StoreError> {
    hash32(get(row, "token_hash")?, "token_hash")
}

pub(crate) fn opt_uuid(row: &PgRow, col: &str) -> Result<Option<Uuid>, StoreError> {
    get(row, col)
}

pub(crate) fn instant(row: &PgRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    from_ms(get(row, col)?)
}

pub(crate) fn uuid(row: &PgRow, col: &str) -> Result<Uuid, StoreError> {
    get(row, col)
}
