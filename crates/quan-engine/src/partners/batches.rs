//! What partners' requests write, gathered and committed in batches (the
//! shared committer in `crate::committer`), as the till's redemptions are:
//! a write per request would cost one commit each, and on SQLite one
//! writer at a time. Nonces, locks and confirms each have a queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use quan_store::{ConfirmItem, ConfirmOutcome, LockItem, LockOutcome, Store, StoreError};

use crate::committer::{self, CommitError, Gathering};

/// Items committed together at most, how long the committer waits for more
/// once it has one, and how many may wait before a request is answered busy.
const LEN_MAX: usize = 512;
const GATHER_US: u64 = 300;
const QUEUE_LEN_MAX: usize = 20_000;
/// How long a request waits for its batch.
const WAIT_S: u64 = 10;

type Reply<R> = tokio::sync::oneshot::Sender<Result<R, CommitError>>;
type Sender<T, R> = tokio::sync::mpsc::Sender<(T, Reply<R>)>;
type Commit<T, R> = fn(Arc<dyn Store>, Vec<T>) -> Pin<Box<dyn Future<Output = Result<Vec<R>, StoreError>> + Send>>;

/// One queue: items of type `T` answered with `R`.
pub(crate) struct Queue<T, R> {
    queue: std::sync::Mutex<Option<Sender<T, R>>>,
    commit: Commit<T, R>,
}

impl<T, R> std::fmt::Debug for Queue<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl<T: Send + 'static, R: Send + 'static> Queue<T, R> {
    fn new(commit: Commit<T, R>) -> Queue<T, R> {
        Queue { queue: std::sync::Mutex::new(None), commit }
    }

    /// Commits `item` with whatever arrives with it; its answer.
    pub(crate) async fn submit(&self, store: &Arc<dyn Store>, item: T) -> Result<R, StoreError> {
        let tx = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            match q.as_ref().filter(|t| !t.is_closed()) {
                Some(t) => t.clone(),
                None => {
                    let (t, rx) = tokio::sync::mpsc::channel(QUEUE_LEN_MAX);
                    tokio::spawn(run(store.clone(), rx, self.commit));
                    *q = Some(t.clone());
                    t
                }
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let busy = || StoreError::message("too many partner requests are waiting; try again in a second");
        tx.try_send((item, reply)).map_err(|_| busy())?;
        match tokio::time::timeout(std::time::Duration::from_secs(WAIT_S), answer).await {
            Ok(Ok(Ok(r))) => Ok(r),
            Ok(Ok(Err(CommitError::Store(e)))) => Err(StoreError::message(e.to_string())),
            _ => Err(busy()),
        }
    }
}

async fn run<T: Send + 'static, R: Send + 'static>(
    store: Arc<dyn Store>,
    rx: tokio::sync::mpsc::Receiver<(T, Reply<R>)>,
    commit: Commit<T, R>,
) {
    let g = Gathering { len_max: LEN_MAX, gather_us: GATHER_US, parallel: store.commits_in_parallel().max(1) };
    committer::run(rx, g, move |lot: Vec<(T, Reply<R>)>, _| {
        let (items, replies): (Vec<T>, Vec<Reply<R>>) = lot.into_iter().unzip();
        let work = commit(store.clone(), items);
        async move {
            let result = work.await;
            move || match result {
                Ok(outs) => {
                    for (o, reply) in outs.into_iter().zip(replies) {
                        let _ = reply.send(Ok(o));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a batch of partners' writes failed");
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

/// A nonce to take: (partner, nonce, until when), and the moment.
pub(crate) type NonceItem = (uuid::Uuid, String, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);

/// The three queues of the partner API.
#[derive(Debug)]
pub(crate) struct Batches {
    pub(crate) nonces: Queue<NonceItem, bool>,
    pub(crate) locks: Queue<LockItem, LockOutcome>,
    pub(crate) confirms: Queue<ConfirmItem, ConfirmOutcome>,
}

impl Default for Batches {
    fn default() -> Batches {
        Batches {
            nonces: Queue::new(|store, items| {
                Box::pin(async move {
                    let now = items.iter().map(|i| i.3).max().unwrap_or_default();
                    let list: Vec<_> = items.into_iter().map(|(p, n, until, _)| (p, n, until)).collect();
                    store.take_nonces(&list, now).await
                })
            }),
            locks: Queue::new(|store, items| Box::pin(async move { store.lock_vouchers(&items).await })),
            confirms: Queue::new(|store, mut items| {
                Box::pin(async move {
                    // One ledger reference for the batch, as the till's commits have.
                    let posting = items.first().map(|i| format!("redemptions:{}", i.redemption.id)).unwrap_or_default();
                    for i in &mut items {
                        i.redemption.ledger_ref.clone_from(&posting);
                        for t in &mut i.transfers {
                            t.reference.clone_from(&posting);
                        }
                    }
                    store.confirm_partner_orders(&items).await
                })
            }),
        }
    }
}
