//! The count folder: a background task of every `serve` and `worker` process that folds
//! the count store's deltas every `counts.fold_interval_ms` (`service::counts`), vacuums
//! the delta table once it has folded [`VACUUM_AFTER`] deltas, and makes the history's
//! current and next months at its start and then hourly (`service::history`).
//!
//! Policy: the task keeps one connection of its own and folds on it under the fold lock
//! when no other session holds it (another process's folder, `seed`); a failed fold is
//! logged once (until one succeeds again) and tried at the next interval, on a new
//! connection. Reads stay exact while no fold runs at all, only slower as deltas pile up.
//! The vacuum does not wait for autovacuum, which may be off or a minute away: every fold
//! and every job list reads past the deltas folded since the last one.

use std::time::{Duration, Instant};

use chrono::Utc;

use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Outage;
use crate::service::{counts, history};
use crate::store::StoreError;

/// The running folder; [`stop`](FoldHandle::stop) ends it after the fold in progress.
pub struct FoldHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FoldHandle {
    /// Starts folding every `interval`.
    pub fn start(pool: PgPool, interval: Duration) -> FoldHandle {
        let stop = watch::Sender::new(false);
        let task = tokio::spawn(run(pool, interval, stop.subscribe()));
        FoldHandle { stop, task }
    }

    /// Stops the folder and waits for it.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

async fn run(pool: PgPool, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut folder = Folder::default();
    let mut outage = Outage::default();
    loop {
        match folder.fold_once(&pool).await {
            Ok(()) => outage.recovered("folding job counts"),
            Err(err) => {
                outage.failed("folding job counts", &err);
                folder = Folder::default();
            }
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// How often the folder makes sure the current and next months exist.
const MONTHS_EVERY: Duration = Duration::from_secs(3600);

/// Deltas folded (so deleted) between two vacuums of the delta table: a few seconds of a
/// busy queue's job writes.
pub const VACUUM_AFTER: u64 = 5_000;

/// The folder's connection, when it last made the months, and the deltas it has folded
/// since its last vacuum.
#[derive(Default)]
struct Folder {
    conn: Option<PgConnection>,
    months_made_at: Option<Instant>,
    folded_since_vacuum: u64,
}

impl Folder {
    /// Folds under the fold lock if no other session holds it.
    async fn fold_once(&mut self, pool: &PgPool) -> Result<(), StoreError> {
        if self
            .months_made_at
            .is_none_or(|at| at.elapsed() >= MONTHS_EVERY)
        {
            let made = history::add_months_ahead(pool, Utc::now().date_naive()).await?;
            if made > 0 {
                tracing::info!(months = made, "history: months made ahead");
            }
            self.months_made_at = Some(Instant::now());
        }
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(pool.acquire().await?.detach()),
        };
        let Some(folded) = counts::fold_if_free(conn).await? else {
            return Ok(());
        };
        if folded.segments > 0 {
            tracing::debug!(
                deltas = folded.deltas,
                segments = folded.segments,
                "job counts folded"
            );
        }
        self.folded_since_vacuum += folded.deltas;
        if self.folded_since_vacuum >= VACUUM_AFTER {
            counts::vacuum_deltas(&mut *conn).await?;
            self.folded_since_vacuum = 0;
        }
        Ok(())
    }
}
