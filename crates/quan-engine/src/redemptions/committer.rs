//! The redemption committer: what every till sends, gathered for up to a
//! millisecond and recorded in one transaction (the shared committer in
//! `crate::committer`).

use quan_store::{Redemption, Transfer};

use super::RedemptionError;
use crate::Engine;
use crate::committer::{self, CommitError, Gathering};

/// Redemptions committed together at most.
pub const REDEEM_BATCH_LEN_MAX: usize = 1_024;
/// How long the committer waits for more redemptions once it has one.
pub const REDEEM_GATHER_US: u64 = 1_000;
/// Redemptions waiting before new ones are told the server is busy.
pub const REDEEM_QUEUE_LEN_MAX: usize = 20_000;

/// The answer: the ledger reference the redemption was posted under, or
/// `None` when its voucher was no longer `claimed`.
type RedeemReply = tokio::sync::oneshot::Sender<Result<Option<String>, CommitError>>;
/// One redemption waiting to be committed, and where its answer goes.
type Waiting = (Redemption, Vec<Transfer>, RedeemReply);

/// How long a till waits for the committer's answer.
const REDEEM_WAIT_S: u64 = 10;

/// Gathers redemptions from every till for up to a millisecond and commits
/// them in one transaction (the ledger's campaign accounts are updated once
/// per batch instead of once per redemption, which would serialise every
/// till in the city on those rows).
#[derive(Debug, Default)]
pub(crate) struct Redeemer {
    queue: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<Waiting>>>,
}

async fn run_redeemer(store: std::sync::Arc<dyn quan_store::Store>, rx: tokio::sync::mpsc::Receiver<Waiting>) {
    let g = Gathering {
        len_max: REDEEM_BATCH_LEN_MAX,
        gather_us: REDEEM_GATHER_US,
        parallel: store.commits_in_parallel().max(1),
    };
    committer::run(rx, g, move |mut pending: Vec<Waiting>, _| {
        // One ledger reference for the whole commit: its transfers are
        // posted merged, one per pair of accounts, and every redemption
        // keeps the reference so an auditor can add them up against it.
        let posting = format!("redemptions:{}", pending[0].0.id);
        for (r, transfers, _) in &mut pending {
            r.ledger_ref.clone_from(&posting);
            for t in transfers.iter_mut() {
                t.reference.clone_from(&posting);
            }
        }
        let store = store.clone();
        async move {
            let (items, replies): (Vec<_>, Vec<_>) = pending.into_iter().map(|(r, t, reply)| ((r, t), reply)).unzip();
            let started = std::time::Instant::now();
            let result = store.redeem_batch(&items).await;
            let len = items.len();
            tracing::debug!(len, commit_us = started.elapsed().as_micros() as u64, "redemptions committed");
            move || match result {
                Ok(won) => {
                    for (w, reply) in won.into_iter().zip(replies) {
                        let _ = reply.send(Ok(w.then(|| posting.clone())));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, len, "committing redemptions failed");
                    let e = CommitError::from(e);
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    })
    .await;
}

impl Engine {
    /// Commits one redemption through the batching committer: the ledger
    /// reference it was posted under, `None` when the voucher was no longer
    /// `claimed`.
    pub(super) async fn commit_redemption(
        &self,
        r: Redemption,
        transfers: Vec<Transfer>,
    ) -> Result<Option<String>, RedemptionError> {
        let tx = {
            let mut q = self.inner.redeemer.queue.lock().unwrap_or_else(|p| p.into_inner());
            match q.as_ref().filter(|t| !t.is_closed()) {
                Some(t) => t.clone(),
                None => {
                    let (t, rx) = tokio::sync::mpsc::channel(REDEEM_QUEUE_LEN_MAX);
                    tokio::spawn(run_redeemer(self.store().clone(), rx));
                    *q = Some(t.clone());
                    t
                }
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.try_send((r, transfers, reply)).map_err(|_| RedemptionError::Busy)?;
        match tokio::time::timeout(std::time::Duration::from_secs(REDEEM_WAIT_S), answer).await {
            Ok(Ok(Ok(won))) => Ok(won),
            Ok(Ok(Err(e))) => Err(RedemptionError::Commit(e)),
            _ => Err(RedemptionError::NoAnswer(REDEEM_WAIT_S)),
        }
    }
}
