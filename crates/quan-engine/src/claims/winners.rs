//! After a lottery's draw, its winners' vouchers, issued through the
//! batch's sequencer as if each had claimed.

use std::sync::Arc;
use std::time::Duration;

use quan_domain::batch::CountBy;
use quan_domain::campaign::CampaignStatus;
use quan_domain::{BatchId, BusinessDay};

use quan_store::StoreError;

use super::{ClaimRejection, Taking};
use crate::Engine;

impl Engine {
    /// After a draw: every winner gets one voucher (or pack) of every kind
    /// of the batch, through the batch's sequencer and under its limits, as
    /// if each had claimed. Winners who already hold theirs are skipped (so
    /// running it again issues only what is missing). When the campaign is
    /// not running, nothing is issued and winners claim theirs in the
    /// batch's window instead. Returns how many claims were issued.
    pub(crate) async fn issue_to_winners(
        &self,
        batch_id: BatchId,
        winners: &[quan_domain::ResidentId],
    ) -> Result<u64, ClaimRejection> {
        let b = Arc::new(self.store().batch_by_id(batch_id).await?);
        let status = self.store().campaign_by_id(b.campaign_id).await?.status;
        if status != CampaignStatus::Running {
            return Ok(0);
        }
        let day = BusinessDay::of(self.now(), self.config().business_day_cutoff).date();
        let (tx, mem) = self.sequencer(b.campaign_id, batch_id);
        let mut issued = 0u64;
        for chunk in winners.chunks(WINNERS_AT_ONCE) {
            let mut tasks = tokio::task::JoinSet::new();
            for w in chunk {
                for k in 0..b.spec.kinds.len() {
                    let (engine, b, mem, tx, w) = (self.clone(), b.clone(), mem.clone(), tx.clone(), *w);
                    tasks.spawn(async move {
                        let person = if b.spec.limits.count_by == CountBy::Account {
                            None
                        } else {
                            engine.store().identity(w).await?.map(|i| i.id_hash)
                        };
                        loop {
                            let at = Taking { person, district: None, day, via: None };
                            match engine.take(&b, &b.spec.kinds[k], w, at, &mem, &tx, None).await {
                                Err(ClaimRejection::Busy) => tokio::time::sleep(Duration::from_millis(20)).await,
                                other => return other,
                            }
                        }
                    });
                }
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(Ok(_)) => issued += 1,
                    // Already holds it (an earlier issue, or claimed in the window).
                    Ok(Err(ClaimRejection::LimitReached)) => {}
                    Ok(Err(e)) => return Err(e),
                    Err(e) => return Err(ClaimRejection::Store(StoreError::message(e.to_string()))),
                }
            }
        }
        tracing::info!(batch_id = %batch_id, winners = winners.len(), issued, "vouchers issued to lottery winners");
        Ok(issued)
    }
}

/// Lottery winners whose vouchers are in flight at once.
pub const WINNERS_AT_ONCE: usize = 2_000;
