//! Folding the count store's deltas into its counts (see `store::counts`).
//!
//! Policy: one fold runs at a time across every process on the database, under a session
//! advisory lock taken for the fold and given back after it (a process that dies frees the
//! lock with its connection). A fold is one REPEATABLE READ
//! transaction; deltas committed while it runs wait for the next one. Reads never wait for
//! a fold: they add the deltas they see to the counts. A fold that moves deltas also sends
//! one NOTIFY per project they belong to (`store::events`), at its commit: the live job
//! events learn of new jobs and status changes from it, at no cost to the writers.

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::store::StoreError;
use crate::store::{counts, events};

/// The advisory lock key of the fold ("jobcount" in ASCII).
const FOLD_LOCK: i64 = 0x6a6f_6263_6f75_6e74;
/// The longest wait for the fold lock outside a fold (the longest folds seen take 2–3 s).
const FOLD_WAIT: Duration = Duration::from_secs(60);
/// Queued days split per fold.
const QUEUED_DAYS_PER_FOLD: i64 = 20;

/// What one fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Deltas moved into the counts.
    pub deltas: u64,
    /// Segments added by splitting dense ones.
    pub segments: u64,
}

/// Takes the fold lock for `conn`'s session; `false`: another session holds it.
pub async fn try_lock(conn: &mut PgConnection) -> Result<bool, StoreError> {
    counts::try_advisory_lock(conn, FOLD_LOCK).await
}

/// Takes the fold lock until the transaction on `conn` ends, waiting for a fold to finish
/// (dropping a month of the history changes the counts outside a fold), but at most
/// [`FOLD_WAIT`]: a session that holds the lock far longer than a fold takes is stuck, and
/// the caller fails with a lock timeout rather than hang behind it.
pub async fn lock_for_transaction(conn: &mut PgConnection) -> Result<(), StoreError> {
    counts::advisory_xact_lock(conn, FOLD_LOCK, FOLD_WAIT).await
}

/// Gives the fold lock back.
pub async fn unlock(conn: &mut PgConnection) -> Result<(), StoreError> {
    counts::advisory_unlock(conn, FOLD_LOCK).await
}

/// One fold on `conn`, which holds the fold lock: the visible deltas into every grain,
/// then the dense segments they touched and a few queued days split. Does nothing (and
/// opens no transaction) when there is nothing to do.
pub async fn fold(conn: &mut PgConnection) -> Result<Folded, StoreError> {
    if !counts::has_work(&mut *conn).await? {
        return Ok(Folded::default());
    }
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await?;
    counts::merge_totals(&mut *tx).await?;
    counts::merge_months(&mut *tx).await?;
    counts::merge_days(&mut *tx).await?;
    counts::merge_segments(&mut *tx).await?;
    let mut dense = counts::dense_touched_segments(&mut *tx).await?;
    // The live job events: one NOTIFY per changed project, sent at this commit.
    events::notify_changed_projects(&mut *tx).await?;
    let deltas = counts::delete_deltas(&mut *tx).await?;
    dense.extend(counts::take_queued_days(&mut *tx, QUEUED_DAYS_PER_FOLD).await?);
    dense.sort_by(|a, b| (&a.project_id, a.starts_at).cmp(&(&b.project_id, b.starts_at)));
    dense.dedup();
    let mut segments = 0;
    for segment in &dense {
        segments += counts::split_segment(&mut tx, segment).await?;
    }
    tx.commit().await?;
    Ok(Folded { deltas, segments })
}

/// Vacuums the delta table (outside any transaction; see `store::counts::vacuum_deltas`).
pub async fn vacuum_deltas(conn: &mut PgConnection) -> Result<(), StoreError> {
    counts::vacuum_deltas(conn).await
}

/// One [`fold`] under the fold lock, unless another session holds it (`None`).
pub async fn fold_if_free(conn: &mut PgConnection) -> Result<Option<Folded>, StoreError> {
    if !try_lock(&mut *conn).await? {
        return Ok(None);
    }
    let folded = fold(&mut *conn).await;
    unlock(&mut *conn).await?;
    folded.map(Some)
}

/// Folds until nothing is left, unless another session holds the fold lock (`seed` and
/// the tests call it; the folders of running services do the same in the background).
/// Answers whether it could fold.
pub async fn fold_all(conn: &mut PgConnection) -> Result<bool, StoreError> {
    if !try_lock(&mut *conn).await? {
        return Ok(false);
    }
    let result = async {
        while fold(&mut *conn).await? != Folded::default() {}
        Ok::<_, StoreError>(())
    }
    .await;
    unlock(&mut *conn).await?;
    result.map(|()| true)
}
