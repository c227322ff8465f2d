//! The batching committer both hot paths share (claims per batch, and
//! redemptions): a task gathers what arrives for up to `gather_us` (or
//! `len_max` items) and hands the lot to one commit; up to `parallel`
//! commits run at once, each in its own task, so a slow commit makes the
//! next lot larger, not later.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use quan_store::StoreError;
use tokio::sync::{Semaphore, mpsc};

/// How a committer gathers its lots.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gathering {
    pub len_max: usize,
    pub gather_us: u64,
    /// Commits running at once (the store's `commits_in_parallel`).
    pub parallel: usize,
}

/// Why a commit gave a request no outcome. Every request of a failed
/// commit gets a copy; the cause is logged once, where it happened.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommitError {
    #[error("committing the batch failed: {0}")]
    Store(Arc<StoreError>),
}

impl From<StoreError> for CommitError {
    fn from(e: StoreError) -> Self {
        CommitError::Store(Arc::new(e))
    }
}

/// Runs until every sender of `rx` is dropped. `commit` gets each lot and
/// its number (0, 1, …) and returns the commit's work: a future whose
/// output answers the lot's requests. The commit's slot is freed when the
/// work is done, before the answers go out.
pub(crate) async fn run<T, F, Fut, A>(mut rx: mpsc::Receiver<T>, g: Gathering, mut commit: F)
where
    T: Send + 'static,
    F: FnMut(Vec<T>, u32) -> Fut,
    Fut: Future<Output = A> + Send + 'static,
    A: FnOnce() + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(g.parallel.max(1)));
    let mut commit_no: u32 = 0;
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut lot = vec![first];
        let deadline = tokio::time::Instant::now() + Duration::from_micros(g.gather_us);
        while lot.len() < g.len_max {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(p)) => lot.push(p),
                _ => break,
            }
        }
        let work = commit(lot, commit_no);
        commit_no = commit_no.wrapping_add(1);
        tokio::spawn(async move {
            let answer = work.await;
            drop(permit);
            answer();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn items_sent_together_are_committed_together_in_order_and_numbered() {
        let (tx, rx) = mpsc::channel(100);
        for i in 0..10 {
            tx.send(i).await.expect("the committer listens");
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let s = seen.clone();
        let g = Gathering { len_max: 4, gather_us: 1_000, parallel: 1 };
        tokio::spawn(run(rx, g, move |lot: Vec<i32>, no| {
            let (s, done) = (s.clone(), done_tx.clone());
            async move {
                s.lock().expect("not poisoned").push((no, lot.clone()));
                move || done.send(lot.len()).expect("the test listens")
            }
        }));
        let mut answered = 0;
        while answered < 10 {
            answered += done_rx.recv().await.expect("every lot is answered");
        }
        let seen = seen.lock().expect("not poisoned").clone();
        assert_eq!(seen, vec![(0, vec![0, 1, 2, 3]), (1, vec![4, 5, 6, 7]), (2, vec![8, 9])]);
    }

    #[tokio::test]
    async fn the_committer_ends_when_every_sender_is_gone() {
        let (tx, rx) = mpsc::channel::<u8>(1);
        drop(tx);
        let g = Gathering { len_max: 1, gather_us: 1, parallel: 1 };
        run(rx, g, |_, _| async { || {} }).await;
    }
}
