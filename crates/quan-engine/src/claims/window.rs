//! The fair admission window at a grab's opening (`quan_domain::admission`):
//! this node holds every claim of a windowed batch that arrives before the
//! window's draw, then offers them to the batch's sequencer in the drawn
//! order (the window's by ticket, later ones by arrival) and answers each
//! when its commit is done. The draw and every outcome are published
//! (`admission_entries`) so anyone can check them against the revealed seed.
//! On one node (and on SQLite, which commits one batch at a time) the
//! stock goes exactly in that order; several nodes each draw their own
//! arrivals, interleaving their orders.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use quan_domain::BatchId;
use quan_domain::admission::{Entrant, draw_order};
use quan_store::{AdmissionEntry, ClaimOutcome, Store};
use tokio::sync::{mpsc, oneshot};

use super::pending::{Answer, Pending};
use super::{CLAIM_WAIT_S, ClaimRejection};
use crate::Engine;

/// Claims one node holds for a window's draw at most; more are told `busy`.
pub const WINDOW_ENTRIES_MAX: usize = 500_000;

/// A batch's window on this node.
#[derive(Debug)]
pub(super) struct Window {
    seed: [u8; 32],
    drawn: bool,
    timer: bool,
    waiting: Vec<Waiting>,
    seq: u64,
}

#[derive(Debug)]
struct Waiting {
    entrant: Entrant,
    pending: Pending,
}

/// What the draw needs, without the engine (the timer outlives no engine).
struct Draw {
    batch: BatchId,
    draw_id: uuid::Uuid,
    window: Arc<Mutex<Window>>,
    tx: mpsc::Sender<Pending>,
    store: Arc<dyn Store>,
    clock: Arc<dyn quan_domain::Clock>,
}

impl Engine {
    /// Sends a claim to its sequencer: at once, or through the batch's
    /// admission window while its draw is still to come.
    pub(super) async fn admitted(
        &self,
        b: &quan_store::Batch,
        tx: &mpsc::Sender<Pending>,
        pending: Pending,
        answer: oneshot::Receiver<Answer>,
    ) -> Result<(ClaimOutcome, DateTime<Utc>), ClaimRejection> {
        let window = b.spec.admission_window_ends_at().zip(b.lottery.as_ref().map(|l| l.seed));
        let Some((ends_at, seed)) = window else { return self.committed(b.id, tx, pending, answer, 0).await };
        let now = self.now();
        let window = {
            let mut all = self.inner.sequencers.windows.lock().unwrap_or_else(|p| p.into_inner());
            all.entry(b.id)
                .or_insert_with(|| {
                    Arc::new(Mutex::new(Window { seed, drawn: false, timer: false, waiting: Vec::new(), seq: 0 }))
                })
                .clone()
        };
        let joined = {
            let mut w = window.lock().unwrap_or_else(|p| p.into_inner());
            if w.drawn {
                Err(pending)
            } else if w.waiting.len() >= WINDOW_ENTRIES_MAX {
                return Err(ClaimRejection::Busy);
            } else {
                w.seq += 1;
                let resident = *pending.req.resident.as_uuid().as_bytes();
                let entrant = Entrant { resident, in_window: now < ends_at, seq: w.seq };
                w.waiting.push(Waiting { entrant, pending });
                let first = !w.timer;
                w.timer = true;
                Ok((first, now >= ends_at))
            }
        };
        let (first, late) = match joined {
            Ok(j) => j,
            Err(pending) => return self.committed(b.id, tx, pending, answer, 0).await,
        };
        let draw = || Draw {
            batch: b.id,
            draw_id: self.new_uuid(),
            window: window.clone(),
            tx: tx.clone(),
            store: self.store().clone(),
            clock: self.clock().clone(),
        };
        if late {
            // The window is over but its draw has not run: this request runs it.
            tokio::spawn(draw().run());
        } else if first && !self.config().admission_drawn_by_caller {
            let left = (ends_at - now).to_std().unwrap_or_default();
            let d = draw();
            tokio::spawn(async move {
                tokio::time::sleep(left).await;
                d.run().await;
            });
        }
        let waits_s = if self.config().admission_drawn_by_caller {
            // The caller draws when its own clock says so: no wall-clock limit.
            24 * 3600
        } else {
            u64::try_from((ends_at - now).num_seconds().max(0)).unwrap_or(0) + 1
        };
        self.answered(b.id, answer, waits_s).await
    }

    /// Claims this node holds for a batch's window draw.
    pub fn admission_waiting(&self, batch: BatchId) -> usize {
        let window = self.inner.sequencers.windows.lock().unwrap_or_else(|p| p.into_inner()).get(&batch).cloned();
        window.map_or(0, |w| w.lock().unwrap_or_else(|p| p.into_inner()).waiting.len())
    }

    /// Runs a batch's window draw now, if this node holds one not yet
    /// drawn (a seeded simulation moves its clock past the window and calls
    /// this; a server's timer does it when the window ends).
    pub async fn draw_admission_window(&self, batch: BatchId) {
        let lane = self.inner.sequencers.queues.lock().unwrap_or_else(|p| p.into_inner()).get(&batch).cloned();
        let window = self.inner.sequencers.windows.lock().unwrap_or_else(|p| p.into_inner()).get(&batch).cloned();
        let (Some((tx, _)), Some(window)) = (lane, window) else { return };
        let d = Draw {
            batch,
            draw_id: self.new_uuid(),
            window,
            tx,
            store: self.store().clone(),
            clock: self.clock().clone(),
        };
        d.run().await;
    }
}

impl Draw {
    /// Offers the window's claims to the sequencer in the drawn order,
    /// forwards each answer and publishes the draw.
    async fn run(self) {
        let (seed, waiting) = {
            let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
            if w.drawn {
                return;
            }
            w.drawn = true;
            (w.seed, std::mem::take(&mut w.waiting))
        };
        if waiting.is_empty() {
            return;
        }
        let at = self.clock.now();
        let entrants: Vec<Entrant> = waiting.iter().map(|w| w.entrant).collect();
        let order = draw_order(&seed, &entrants);
        let mut slots: Vec<Option<Waiting>> = waiting.into_iter().map(Some).collect();
        let mut offered = Vec::with_capacity(order.len());
        for i in order {
            let Some(w) = slots[i].take() else { continue };
            let (reply, answer) = oneshot::channel();
            let entry = (w.pending.req.resident, w.pending.req.kind_code.clone(), w.entrant.in_window);
            let forward = w.pending.reply;
            let sent = self.tx.send(Pending { reply, ..w.pending }).await.is_ok();
            offered.push((entry, forward, sent.then_some(answer)));
        }
        let mut entries = Vec::with_capacity(offered.len());
        for (rank, ((resident, kind_code, in_window), forward, answer)) in offered.into_iter().enumerate() {
            let got = match answer {
                Some(a) => a.await.ok(),
                None => None,
            };
            let outcome = match &got {
                Some(Ok((ClaimOutcome::Claimed, _))) => "claimed",
                Some(Ok((ClaimOutcome::SoldOut, _))) => "sold_out",
                Some(Ok((ClaimOutcome::LimitReached { .. }, _))) => "limit_reached",
                Some(Ok((ClaimOutcome::KeyTaken, _))) => "key_taken",
                Some(Err(_)) => "failed",
                None => "busy",
            };
            if let Some(got) = got {
                let _ = forward.send(got);
            }
            let rank = u32::try_from(rank).unwrap_or(u32::MAX);
            let outcome = outcome.to_owned();
            entries.push(AdmissionEntry {
                batch_id: self.batch,
                draw_id: self.draw_id,
                rank,
                resident_id: resident,
                kind_code,
                in_window,
                outcome,
                at,
            });
        }
        tracing::info!(batch_id = %self.batch, entrants = entries.len(), "admission window drawn");
        if let Err(e) = self.store.put_admission_entries(&entries).await {
            tracing::error!(batch_id = %self.batch, error = %e, "publishing the admission draw failed");
        }
    }
}

/// How long a claim waits for its commit once offered (the window's wait
/// comes on top).
pub(super) fn wait_s(extra_s: u64) -> std::time::Duration {
    std::time::Duration::from_secs(CLAIM_WAIT_S + extra_s)
}
