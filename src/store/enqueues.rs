//! Producers' enqueues coalesced ([`super::coalesce`]): the requests that arrive while a
//! statement is out share the next `INSERT` (requests whose jobs carry file results are
//! not coalesced; they need a transaction of their own).

use sqlx::PgPool;

use super::StoreError;
use super::coalesce::{Coalescer, Writer};
use super::producer::{self, Enqueue, Enqueued};

/// Jobs per shared statement at most (a larger request goes alone).
pub const MAX_JOBS: usize = 1000;

/// The coalescing writer of enqueues of one HTTP thread (cheap to clone).
pub type Enqueuer = Coalescer<InsertJobs>;

/// Inserts jobs through a pool.
pub struct InsertJobs(pub PgPool);

impl Enqueuer {
    /// An enqueuer writing through `pool`.
    pub fn over(pool: PgPool) -> Enqueuer {
        Coalescer::new(InsertJobs(pool))
    }

    /// Records the request's jobs, none of which carries file results (see
    /// [`producer::enqueue`]); answers one entry per job, in order.
    pub async fn enqueue(&self, request: Enqueue) -> Result<Vec<Enqueued>, StoreError> {
        debug_assert!(request.jobs.iter().all(|job| job.files.is_empty()));
        self.write(request).await
    }
}

impl Writer for InsertJobs {
    type Item = Enqueue;
    type Answer = Vec<Enqueued>;
    const MAX_WEIGHT: usize = MAX_JOBS;

    fn weight(request: &Enqueue) -> usize {
        request.jobs.len()
    }

    fn fits(_: &[&Enqueue], _: &Enqueue) -> bool {
        true
    }

    async fn write(&self, requests: &[&Enqueue]) -> Result<Vec<Vec<Enqueued>>, StoreError> {
        let mut conn = self.0.acquire().await?;
        producer::enqueue(&mut conn, requests).await
    }
}
