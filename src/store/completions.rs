//! Job endings coalesced ([`super::coalesce`]): the producers' completions over HTTP and
//! the built-in pool's endings of jobs without a graph, several jobs per fenced `UPDATE`
//! (at most one ending of a job per statement, so each answer is its own).

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::StoreError;
use super::coalesce::{Coalescer, Writer};
use crate::domain::{JobId, JobStatus};

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

/// The process's coalescing writer of job endings (cheap to clone).
pub type Completer = Coalescer<EndJobs>;

/// Ends jobs through a pool.
pub struct EndJobs(pub PgPool);

impl Completer {
    /// A completer writing through `pool`.
    pub fn over(pool: PgPool) -> Completer {
        Coalescer::new(EndJobs(pool))
    }

    /// Ends the job with `ending` (final status, `end_time` now, progress 100 on success,
    /// lease cleared). `None`: the lease does not hold the job (or no such job); nothing
    /// changed.
    pub async fn end(&self, ending: Ending) -> Result<Option<Ended>, StoreError> {
        debug_assert!(ending.status.is_final());
        self.write(ending).await
    }
}

impl Writer for EndJobs {
    type Item = Ending;
    type Answer = Option<Ended>;
    const MAX_WEIGHT: usize = MAX_BATCH;

    fn weight(_: &Ending) -> usize {
        1
    }

    fn fits(batch: &[&Ending], ending: &Ending) -> bool {
        batch.iter().all(|other| other.id != ending.id)
    }

    async fn write(&self, endings: &[&Ending]) -> Result<Vec<Option<Ended>>, StoreError> {
        let mut ended = end_jobs(&self.0, endings).await?;
        Ok(endings
            .iter()
            .map(|ending| {
                let at = ended.iter().position(|(id, _)| *id == ending.id)?;
                Some(ended.swap_remove(at).1)
            })
            .collect())
    }
}

/// Ends the jobs `endings` name, in one fenced statement (rows locked in id order).
/// Answers the ids and endings of the jobs it ended.
///
/// The lease token alone fences: only a running job holds one (the constraint
/// `jobs_lease_only_while_running`, V18). A `status = 'running'` beside it made the generic
/// plan read every running job of the month through `jobs_leased` and hash them, 1.8 ms and
/// 1,200 buffers a batch of three, where probing each id by key takes 0.85 ms and 70.
pub async fn end_jobs(
    conn: impl PgExecutor<'_>,
    endings: &[&Ending],
) -> Result<Vec<(Uuid, Ended)>, StoreError> {
    let ids: Vec<Uuid> = endings.iter().map(|e| e.id).collect();
    let tokens: Vec<Uuid> = endings.iter().map(|e| e.lease_token).collect();
    let projects: Vec<Option<String>> = endings.iter().map(|e| e.project.clone()).collect();
    let statuses: Vec<&str> = endings.iter().map(|e| e.status.as_str()).collect();
    let reasons: Vec<Option<String>> = endings.iter().map(|e| e.fail_reason.clone()).collect();
    // The ids' window of begin times lets the generic plan open only those months.
    let window = JobId::begin_window_of(endings.iter().map(|e| JobId(e.id)));
    let rows = sqlx::query!(
        r#"UPDATE jobs j
           SET status = c.status, end_time = greatest(now(), j.begin_time),
               progress = CASE WHEN c.status = 'success' THEN 100 ELSE j.progress END,
               fail_reason = c.reason, lease_token = NULL, lease_expires_at = NULL
           FROM (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])
                     AS u (id, token, project, status, reason)
                 ORDER BY id) AS c
           WHERE j.id = c.id AND j.begin_time BETWEEN job_begin_min(c.id) AND job_begin_max(c.id)
             AND j.begin_time BETWEEN coalesce($6::timestamptz, '-infinity')
                                  AND coalesce($7::timestamptz, 'infinity')
             AND j.lease_token = c.token
             AND (c.project IS NULL OR j.project_id = c.project)
           RETURNING j.id, j.job_name,
                     extract(epoch FROM j.end_time - j.started_at)::float8 AS run_secs"#,
        &ids,
        &tokens,
        &projects as &[Option<String>],
        &statuses as &[&str],
        &reasons as &[Option<String>],
        window.map(|w| w.0),
        window.map(|w| w.1),
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
