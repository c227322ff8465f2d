//! A claim on its way to its batch's commit, and the answer it waits for.

use chrono::{DateTime, Utc};
use quan_store::{ClaimOutcome, ClaimRequest};
use tokio::sync::oneshot;

use super::Claimed;
use crate::committer::CommitError;

/// A committed claim's outcome and its commit's instant, or why it failed.
pub(super) type Answer = Result<(ClaimOutcome, DateTime<Utc>), CommitError>;
pub(super) type Reply = oneshot::Sender<Answer>;

#[derive(Debug)]
pub(super) struct Pending {
    pub(super) req: ClaimRequest,
    /// A keyed claim's record, stored as its key's answer once the commit's
    /// instant is known (so the stored answer names the vouchers' instant).
    pub(super) keyed: Option<Claimed>,
    pub(super) reply: Reply,
}
