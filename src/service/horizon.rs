//! The queue's horizon: the start of the oldest month holding a pending job. A claim reads
//! only the months from there on, so its generic plan prunes the older months as it
//! starts; without it each claim opens and scans every month's part of `jobs_claimable`
//! and of the key, and with a year of months kept the claims under 16 concurrent workers
//! ran 24% slower than with three (docs/scale-out.md, "The queue's horizon").
//!
//! Policy: the horizon is a hint, never a filter the queue depends on. It is read again
//! once it is older than [`READ_EVERY`], by the claim that finds it so, on that claim's
//! connection. A job made pending in an older month since the last reading (a lease that
//! expired, a retry that waits) is claimed at the latest after the next reading, and at
//! once by any claim that finds nothing from the horizon on (it looks again over every
//! month).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::store::StoreError;
use crate::store::queue;

/// How old a reading of the horizon may be.
pub const READ_EVERY: Duration = Duration::from_secs(1);

/// One process's horizon, shared by its claims (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct QueueHorizon(Arc<Mutex<Option<Reading>>>);

#[derive(Debug, Clone, Copy)]
struct Reading {
    start: DateTime<Utc>,
    at: Instant,
}

impl QueueHorizon {
    /// The horizon to claim under: the last reading, or a new one on `conn` when there is
    /// none yet or it is older than [`READ_EVERY`]. While one claim reads it again, the
    /// others use the last reading.
    pub async fn current(&self, conn: &mut PgConnection) -> Result<DateTime<Utc>, StoreError> {
        if let Some(start) = self.fresh() {
            return Ok(start);
        }
        let start = queue::oldest_pending_month(conn).await?;
        *self.lock() = Some(Reading {
            start,
            at: Instant::now(),
        });
        Ok(start)
    }

    /// The last reading while it is fresh. A stale one is marked fresh for the others,
    /// and `None` tells this caller to read it again.
    fn fresh(&self) -> Option<DateTime<Utc>> {
        let mut reading = self.lock();
        let last = reading.as_mut()?;
        if last.at.elapsed() < READ_EVERY {
            return Some(last.start);
        }
        last.at = Instant::now();
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Reading>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
