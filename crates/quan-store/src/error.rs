/// What can go wrong in a store. Callers match on the first two; the third
/// carries a cause for the log and is never shown to an API client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or state condition refused the write: `what` names it
    /// (e.g. `username`), so the caller can give a precise answer.
    #[error("conflict on {what}")]
    Conflict { what: &'static str },
    #[error("storage failure: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StoreError {
    pub fn other<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
        StoreError::Other(Box::new(e))
    }

    pub fn message(msg: impl Into<String>) -> StoreError {
        StoreError::Other(msg.into().into())
    }
}
