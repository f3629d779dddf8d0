//! What the live job events read: a watched project's jobs that may have changed, and the
//! one NOTIFY per changed project a fold of the count store sends (see `crate::events`).
//!
//! Policy: no statement here runs on a write path. The fold notifies once per project whose
//! jobs changed in its snapshot; the hub reads the project's unfinished jobs (newest first,
//! bounded), the jobs it still holds as unfinished, and the jobs begun recently.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::StoreError;
use crate::domain::JobStatus;

/// The channel a fold notifies, with a project id as payload.
pub const CHANNEL: &str = "jobcenter_job_events";

/// How many of a project's pending (and running) jobs one read looks at, newest first.
pub const UNFINISHED_PER_READ: i64 = 200;

/// One job as the events show it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    pub id: Uuid,
    pub graph_id: Option<Uuid>,
    pub graph_name: Option<String>,
    pub job_type: String,
    pub job_name: String,
    pub status: JobStatus,
    pub begin_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub progress: f32,
    pub fail_reason: Option<String>,
}

/// Sends one notification per project with count deltas in this snapshot (the fold calls
/// it in its transaction, before it deletes them); answers how many.
pub async fn notify_changed_projects(conn: impl PgExecutor<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(pg_notify('jobcenter_job_events', project_id)) AS "n!"
           FROM (SELECT DISTINCT project_id FROM job_count_deltas) AS changed"#
    )
    .fetch_one(conn)
    .await?)
}

/// The jobs of `project` that may have changed: those of `known` (still there), the newest
/// [`UNFINISHED_PER_READ`] pending and running ones, and those begun since `since`.
pub async fn read_changes(
    conn: impl PgExecutor<'_>,
    project: &str,
    known: &[Uuid],
    since: DateTime<Utc>,
) -> Result<Vec<JobState>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", graph_id, graph_name, job_type AS "job_type!",
                  job_name AS "job_name!", status AS "status!", begin_time AS "begin_time!",
                  end_time, progress AS "progress!", fail_reason
           FROM jobs
           WHERE project_id = $1 AND id IN (
               (SELECT id FROM jobs WHERE project_id = $1 AND id = ANY($2))
               UNION
               (SELECT id FROM jobs WHERE project_id = $1 AND status = 'running'
                ORDER BY begin_time DESC, id DESC LIMIT $4)
               UNION
               (SELECT id FROM jobs WHERE project_id = $1 AND status = 'pending'
                ORDER BY begin_time DESC, id DESC LIMIT $4)
               UNION
               (SELECT id FROM jobs WHERE project_id = $1 AND begin_time >= $3
                ORDER BY begin_time DESC, id DESC LIMIT $4)
           )"#,
        project,
        known,
        since,
        UNFINISHED_PER_READ,
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(JobState {
                status: StoreError::parsed("jobs.status", &r.status)?,
                id: r.id,
                graph_id: r.graph_id,
                graph_name: r.graph_name,
                job_type: r.job_type,
                job_name: r.job_name,
                begin_time: r.begin_time,
                end_time: r.end_time,
                progress: r.progress,
                fail_reason: r.fail_reason,
            })
        })
        .collect()
}
