//! The history's months (`store::months`): made ahead of the jobs that begin in them, and
//! dropped whole by retention once every job in them may go.
//!
//! Policy: the current and the next month always exist once a service or worker has run
//! (the fold task makes them at start and hourly; `seed` makes the months it fills).
//! Retention drops months oldest first and stops at the first that may not go (so a
//! retry's original, never younger than the retry, goes with or before it); the months
//! after, and the edge month, are pruned row by row. A drop is one transaction under the
//! fold lock: the month's partitions, counts, segments and keys go together, so every total
//! stays exact in every snapshot.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::PgPool;

use super::{begin, counts};
use crate::domain::JobStatus;
use crate::store::StoreError;
use crate::store::months::{self, Cutoffs};

/// Makes the month of `today` and the next one if missing; answers how many it made.
pub async fn add_months_ahead(pool: &PgPool, today: NaiveDate) -> Result<i64, StoreError> {
    months::add_months(pool, today, months::next_month(today)).await
}

/// A month dropped, with the reject-log objects its file rows named.
#[derive(Debug, Clone)]
pub struct DroppedMonth {
    pub month: NaiveDate,
    /// How many jobs of each status it held.
    pub jobs: Vec<(JobStatus, i64)>,
    pub logs: Vec<String>,
    /// The drop's transaction, from its first statement to its commit.
    pub took: Duration,
}

/// Drops the oldest months that end before `before` and whose every job may go by
/// `cutoffs`, oldest first; answers them.
pub async fn drop_old_months(
    pool: &PgPool,
    before: NaiveDate,
    cutoffs: &Cutoffs,
) -> Result<Vec<DroppedMonth>, StoreError> {
    let mut dropped = Vec::new();
    for month in months::months(pool).await? {
        if months::next_month(month) > before {
            break;
        }
        match drop_month(pool, month, cutoffs).await? {
            Some(month) => dropped.push(month),
            None => break,
        }
    }
    Ok(dropped)
}

/// Drops `month` if every job in it may go (`None` if not): its partitions and, in the same
/// transaction, its counts at every grain, its segments and its keys.
pub async fn drop_month(
    pool: &PgPool,
    month: NaiveDate,
    cutoffs: &Cutoffs,
) -> Result<Option<DroppedMonth>, StoreError> {
    let started = Instant::now();
    let mut tx = begin(pool).await?;
    counts::lock_for_transaction(&mut tx).await?;
    if !months::may_drop(&mut *tx, month, cutoffs).await? {
        return Ok(None);
    }
    let logs = months::logs(&mut *tx, month).await?;
    months::lock_history(&mut tx).await?;
    let jobs = months::jobs_in(&mut *tx, month).await?;
    months::forget(&mut tx, month).await?;
    months::drop_month(&mut *tx, month).await?;
    tx.commit().await?;
    Ok(Some(DroppedMonth {
        month,
        jobs,
        logs,
        took: started.elapsed(),
    }))
}
