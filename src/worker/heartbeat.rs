//! A running job's heartbeat: renews the lease every third of it, records progress as soon
//! as the engine reports it, and picks up `cancel_requested`. Marks the lease lost when the
//! database says it is no longer ours, or when it could not be renewed for a whole lease.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use super::Outage;
use crate::engine::LeaseState;
use crate::store::{graph_data, queue};

pub(crate) struct Heartbeat {
    pub(crate) pool: PgPool,
    pub(crate) job_id: Uuid,
    pub(crate) lease_token: Uuid,
    pub(crate) graph_id: Option<Uuid>,
    pub(crate) lease: Duration,
    pub(crate) state: Arc<LeaseState>,
}

impl Heartbeat {
    /// Beats until `stop` turns true or the lease is lost.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut progress = self.state.progress.subscribe();
        let mut written = *progress.borrow_and_update();
        let mut renewed = Instant::now();
        let every = self.lease / 3;
        let mut outage = Outage::default();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                changed = progress.changed() => if changed.is_err() { return },
                _ = stop.wait_for(|s| *s) => return,
            }
            let current = *progress.borrow_and_update();
            let report = (current != written).then_some(current);
            let beat = queue::heartbeat(
                &self.pool,
                self.job_id,
                self.lease_token,
                self.lease,
                report,
            )
            .await;
            match beat {
                Ok(Some(cancel_requested)) => {
                    outage.recovered("renewing a job's lease");
                    renewed = Instant::now();
                    self.state
                        .cancel_requested
                        .store(cancel_requested, Ordering::SeqCst);
                    if let Some(percent) = report {
                        written = percent;
                        if let Some(graph_id) = self.graph_id {
                            let shown = graph_data::set_action_progress(
                                &self.pool,
                                graph_id,
                                self.job_id,
                                percent,
                            )
                            .await;
                            if let Err(err) = shown {
                                tracing::debug!(error = %err, "graph action progress not recorded");
                            }
                        }
                    }
                }
                Ok(None) => {
                    tracing::warn!(job_id = %self.job_id, "the lease on this job was taken over; abandoning it");
                    self.state.mark_lost();
                    return;
                }
                Err(err) => {
                    outage.failed("renewing a job's lease", &err);
                    if renewed.elapsed() >= self.lease {
                        tracing::warn!(job_id = %self.job_id, "lease not renewed in time; abandoning the job");
                        self.state.mark_lost();
                        return;
                    }
                }
            }
        }
    }
}
