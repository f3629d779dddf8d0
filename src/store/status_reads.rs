//! Job-status reads of one HTTP worker thread, coalesced.
//!
//! Policy: a read goes to the database at once when fewer than [`MAX_RUNNING`] statements
//! of this thread are out (so a lone read waits for nothing); otherwise it waits, and the
//! next statement to finish takes every waiting read (up to [`MAX_BATCH`]) into one
//! statement ([`find_jobs`]). Under load the database runs one statement per batch instead
//! of one per request; each read still gets its own answer, and an error of a shared
//! statement is every one of its reads' error.
//!
//! Read-your-writes with replicas: a statement answered by a replica (see
//! [`crate::db::routed`]) that did not find every key asks the primary for the missing
//! ones, so a job just created is found even before the replica has replayed it. A job the
//! replica does have may show a status up to `database.max_replica_lag_ms` old.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::StoreError;
use super::jobs::find_jobs;
use crate::db::ReadPools;
use crate::domain::{Job, JobKey};

/// Statements out at once per thread.
pub const MAX_RUNNING: usize = 1;
/// Reads per statement at most.
pub const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<Option<Job>, StoreError>>;

/// The coalescing reader of one thread (not `Send`: each HTTP worker thread has its own,
/// beside its own connections).
#[derive(Clone)]
pub struct StatusReader(Rc<Inner>);

struct Inner {
    pools: ReadPools,
    waiting: RefCell<Vec<(JobKey, Reply)>>,
    running: Cell<usize>,
}

impl StatusReader {
    /// A reader over this thread's connections.
    pub fn new(pools: ReadPools) -> StatusReader {
        StatusReader(Rc::new(Inner {
            pools,
            waiting: RefCell::new(Vec::new()),
            running: Cell::new(0),
        }))
    }

    /// The job `key` names, if it exists (see [`find_jobs`]).
    pub async fn find(&self, key: JobKey) -> Result<Option<Job>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.0.waiting.borrow_mut().push((key, reply));
        if self.0.running.get() < MAX_RUNNING {
            self.0.running.set(self.0.running.get() + 1);
            tokio::task::spawn_local(run(Running(self.0.clone())));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }
}

/// A running task, counted out when it ends however it ends (a panic, or dropped before
/// it ran), so that a later read starts a new one.
struct Running(Rc<Inner>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.set(self.0.running.get() - 1);
    }
}

/// Runs statements while reads wait, then stops.
async fn run(running: Running) {
    let inner = &running.0;
    loop {
        let batch: Vec<(JobKey, Reply)> = {
            let mut waiting = inner.waiting.borrow_mut();
            let n = waiting.len().min(MAX_BATCH);
            waiting.drain(..n).collect()
        };
        if batch.is_empty() {
            return;
        }
        let mut distinct: Vec<JobKey> = Vec::with_capacity(batch.len());
        for (key, _) in &batch {
            if !distinct.contains(key) {
                distinct.push(key.clone());
            }
        }
        match read(&inner.pools, &distinct).await {
            Ok(jobs) => {
                for (key, reply) in batch {
                    let job = jobs.iter().find(|job| key.names(job)).cloned();
                    let _ = reply.send(Ok(job));
                }
            }
            Err(err) => {
                let err = Arc::new(err);
                for (_, reply) in batch {
                    let _ = reply.send(Err(StoreError::Shared(err.clone())));
                }
            }
        }
    }
}

/// The jobs of distinct keys, in one statement (and one more on the primary for the keys
/// a replica did not find).
async fn read(pools: &ReadPools, keys: &[JobKey]) -> Result<Vec<Job>, StoreError> {
    let (mut jobs, replica) = pools.read(async |conn| find_jobs(conn, keys).await).await?;
    let Some(replica) = replica else {
        return Ok(jobs);
    };
    let missing: Vec<JobKey> = keys
        .iter()
        .filter(|key| !jobs.iter().any(|job| key.names(job)))
        .cloned()
        .collect();
    if !missing.is_empty() {
        replica.count_fallback();
        let primary = pools.primary();
        jobs.extend(
            primary
                .read(async |conn| find_jobs(conn, &missing).await)
                .await?,
        );
    }
    Ok(jobs)
}
