//! Every operation names its rejections in its own enum; each variant has one
//! stable error code and one HTTP-like status. This trait is how the HTTP
//! layer reads them without knowing each enum.

/// The class of a rejection, which the HTTP layer maps to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Unprocessable,
    TooManyRequests,
    Unavailable,
    /// A failure of quan or its database, not of the request. The client is
    /// told nothing more; the cause goes to the log.
    Internal,
}

pub trait Rejection: std::error::Error + Send + Sync + 'static {
    fn status(&self) -> Status;
    /// A stable `snake_case` code clients may match on.
    fn code(&self) -> &'static str;
    /// Seconds to wait before trying again, for `TooManyRequests`.
    fn retry_after_s(&self) -> Option<u64> {
        None
    }
    /// The input field the rejection is about, when there is one.
    fn field(&self) -> Option<&str> {
        None
    }
    /// More detail for the client (e.g. every failed eligibility rule).
    fn details(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Rounds a wait up to whole seconds, at least one.
pub fn whole_seconds(d: chrono::Duration) -> u64 {
    let ms = d.num_milliseconds().max(1);
    u64::try_from((ms + 999) / 1000).unwrap_or(1)
}
