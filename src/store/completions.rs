//! Job endings of the whole process, coalesced: the producers' completions over HTTP and
//! the built-in pool's endings of jobs without a graph.
//!
//! Policy: an ending goes to the database at once when fewer than [`MAX_RUNNING`]
//! statements are out (so a lone completion waits for nothing); otherwise it waits, and
//! the next statement to finish takes every waiting ending (up to [`MAX_BATCH`], one per
//! job) into one fenced `UPDATE` ([`end_jobs`]). Under load the database commits one
//! statement per batch instead of one per job. Each ending still gets its own answer; when
//! a shared statement fails, each of its endings is tried again alone, so one ending's
//! error is never another's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::{PgExecutor, PgPool};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::StoreError;
use crate::domain::JobStatus;

/// Statements out at once.
pub const MAX_RUNNING: usize = 2;
/// Endings per statement at most.
pub const MAX_BATCH: usize = 128;

/// A final status for a running job, fenced by its lease token.
#[derive(Debug, Clone)]
pub struct Ending {
    /// Only a job of this project is ended (`None`: any project; the built-in pool).
    pub project: Option<String>,
    pub id: Uuid,
    pub lease_token: Uuid,
    pub status: JobStatus,
    pub fail_reason: Option<String>,
}

/// A job an ending ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    pub job_name: String,
    /// Seconds from its first claim to its end.
    pub run_secs: Option<f64>,
}

type Reply = oneshot::Sender<Result<Option<Ended>, StoreError>>;

/// The process's coalescing writer of job endings (cheap to clone).
#[derive(Clone)]
pub struct Completer(Arc<Inner>);

struct Inner {
    pool: PgPool,
    waiting: Mutex<Vec<(Ending, Reply)>>,
    running: AtomicUsize,
}

impl std::fmt::Debug for Completer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completer").finish_non_exhaustive()
    }
}

impl Completer {
    /// A completer writing through `pool`.
    pub fn new(pool: PgPool) -> Completer {
        Completer(Arc::new(Inner {
            pool,
            waiting: Mutex::new(Vec::new()),
            running: AtomicUsize::new(0),
        }))
    }

    /// Ends the job with `ending` (final status, `end_time` now, progress 100 on success,
    /// lease cleared). `None`: the lease does not hold the job (or no such job); nothing
    /// changed.
    pub async fn end(&self, ending: Ending) -> Result<Option<Ended>, StoreError> {
        debug_assert!(ending.status.is_final());
        let (reply, answer) = oneshot::channel();
        self.0
            .waiting
            .lock()
            .expect("completer lock")
            .push((ending, reply));
        let started = self
            .0
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_RUNNING).then_some(n + 1)
            });
        if started.is_ok() {
            tokio::spawn(run(Running(self.0.clone())));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }
}

/// A running task, counted out when it ends however it ends.
struct Running(Arc<Inner>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs statements while endings wait, then stops.
async fn run(running: Running) {
    let inner = &running.0;
    loop {
        let batch = take_batch(&mut inner.waiting.lock().expect("completer lock"));
        if batch.is_empty() {
            return;
        }
        let endings: Vec<&Ending> = batch.iter().map(|(ending, _)| ending).collect();
        match end_jobs(&inner.pool, &endings).await {
            Ok(ended) => {
                for (ending, reply) in batch {
                    let found = ended.iter().find(|(id, _)| *id == ending.id);
                    let _ = reply.send(Ok(found.map(|(_, ended)| ended.clone())));
                }
            }
            Err(_) if batch.len() > 1 => {
                for (ending, reply) in batch {
                    let alone = end_jobs(&inner.pool, &[&ending]).await;
                    let _ = reply.send(alone.map(|ended| ended.into_iter().next().map(|(_, e)| e)));
                }
            }
            Err(err) => {
                if let Some((_, reply)) = batch.into_iter().next() {
                    let _ = reply.send(Err(err));
                }
            }
        }
    }
}

/// Up to [`MAX_BATCH`] waiting endings, at most one per job (a second ending of a job
/// waits for the next statement, so each answer is its own).
fn take_batch(waiting: &mut Vec<(Ending, Reply)>) -> Vec<(Ending, Reply)> {
    let mut batch: Vec<(Ending, Reply)> = Vec::new();
    let mut kept = Vec::new();
    for entry in waiting.drain(..) {
        if batch.len() < MAX_BATCH && !batch.iter().any(|(e, _)| e.id == entry.0.id) {
            batch.push(entry);
        } else {
            kept.push(entry);
        }
    }
    *waiting = kept;
    batch
}

/// Ends the jobs `endings` name, in one fenced statement (rows locked in id order).
/// Answers the ids and endings of the jobs it ended.
pub async fn end_jobs(
    conn: impl PgExecutor<'_>,
    endings: &[&Ending],
) -> Result<Vec<(Uuid, Ended)>, StoreError> {
    let ids: Vec<Uuid> = endings.iter().map(|e| e.id).collect();
    let tokens: Vec<Uuid> = endings.iter().map(|e| e.lease_token).collect();
    let projects: Vec<Option<String>> = endings.iter().map(|e| e.project.clone()).collect();
    let statuses: Vec<&str> = endings.iter().map(|e| e.status.as_str()).collect();
    let reasons: Vec<Option<String>> = endings.iter().map(|e| e.fail_reason.clone()).collect();
    let rows = sqlx::query!(
        r#"UPDATE jobs j
           SET status = c.status, end_time = greatest(now(), j.begin_time),
               progress = CASE WHEN c.status = 'success' THEN 100 ELSE j.progress END,
               fail_reason = c.reason, lease_token = NULL, lease_expires_at = NULL
           FROM (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])
                     AS u (id, token, project, status, reason)
                 ORDER BY id) AS c
           WHERE j.id = c.id AND j.lease_token = c.token AND j.status = 'running'
             AND (c.project IS NULL OR j.project_id = c.project)
           RETURNING j.id, j.job_name,
                     extract(epoch FROM j.end_time - j.started_at)::float8 AS run_secs"#,
        &ids,
        &tokens,
        &projects as &[Option<String>],
        &statuses as &[&str],
        &reasons as &[Option<String>],
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let ended = Ended {
                job_name: r.job_name,
                run_secs: r.run_secs,
            };
            (r.id, ended)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(ids: &[u128]) -> Vec<(Ending, Reply)> {
        ids.iter()
            .map(|&id| {
                let ending = Ending {
                    project: None,
                    id: Uuid::from_u128(id),
                    lease_token: Uuid::from_u128(id + 1000),
                    status: JobStatus::Success,
                    fail_reason: None,
                };
                (ending, oneshot::channel().0)
            })
            .collect()
    }

    fn ids(entries: &[(Ending, Reply)]) -> Vec<u128> {
        entries.iter().map(|(e, _)| e.id.as_u128()).collect()
    }

    #[test]
    fn a_second_ending_of_a_job_waits_for_the_next_statement() {
        let mut queue = waiting(&[1, 2, 1, 3, 2]);
        let batch = take_batch(&mut queue);
        assert_eq!(ids(&batch), [1, 2, 3]);
        assert_eq!(ids(&queue), [1, 2]);
        assert_eq!(ids(&take_batch(&mut queue)), [1, 2]);
        assert!(take_batch(&mut queue).is_empty());
    }

    #[test]
    fn a_batch_holds_at_most_max_batch_endings() {
        let all: Vec<u128> = (0..MAX_BATCH as u128 + 5).collect();
        let mut queue = waiting(&all);
        assert_eq!(take_batch(&mut queue).len(), MAX_BATCH);
        assert_eq!(ids(&queue), all[MAX_BATCH..]);
    }
}
