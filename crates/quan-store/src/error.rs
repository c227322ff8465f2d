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
    /// A deadlock or serialization failure (PostgreSQL breaking a lock
    /// cycle between two transactions): the batch that met it is worth
    /// trying again. Retried inside the store; a caller sees it only when
    /// the retries ran out.
    #[error("the transaction met another one and was rolled back; worth trying again")]
    Retry,
    /// A claim commit came up short while the stock it needs sits in
    /// buckets other commits hold: tried again once they are done.
    #[error("the stock this commit needs is held by other commits")]
    StockHeld,
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
