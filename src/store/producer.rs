//! The producer API's SQL: jobs enqueued by other internal services, claimed and reported
//! by their own workers over HTTP, and retries. Leases, the reaper and `finish` are the
//! queue's ([`super::queue`]); what is here adds the project scope, idempotent enqueue and
//! the fence check.
//!
//! A producer's payload is stored wrapped, `{"producer": <payload>}`, so that any JSON
//! value (even `{}` or `null`) makes a claimable job (the queue claims only jobs whose
//! payload is a non-empty object).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use super::completions::Ended;
use super::jobs;
use super::queue;
use crate::domain::producer::NewProducerJob;
use crate::domain::{JobFile, JobId, JobStatus, Origin};

/// The key of a producer's payload inside the stored payload.
const PAYLOAD_KEY: &str = "producer";

/// A producer's payload as stored.
pub fn wrap_payload(payload: &Value) -> Value {
    json!({ PAYLOAD_KEY: payload })
}

/// A producer's payload from the stored one.
pub fn unwrap_payload(stored: &Value) -> Value {
    stored.get(PAYLOAD_KEY).cloned().unwrap_or(Value::Null)
}

/// One job of an enqueued batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: Uuid,
    /// `false`: its idempotency key was taken; `id` is the existing job's.
    pub created: bool,
}

/// One caller's jobs to enqueue: a batch of a project, from one request.
#[derive(Debug, Clone)]
pub struct Enqueue {
    pub project: String,
    pub origin: Origin,
    pub jobs: Vec<NewProducerJob>,
}

/// Records the jobs of `requests` as pending jobs of their projects in one statement, then
/// their file rows in another (so requests with files belong in a transaction; without,
/// it is one write, atomic by itself). A job whose `idempotency_key` is already used in its
/// project (before, or earlier in the requests) is not created: its answer is the existing
/// job's id. Answers one entry per job, per request, in order. `related_graph` gets the id
/// of the project's live graph of that name, if there is one.
pub async fn enqueue(
    conn: &mut PgConnection,
    requests: &[&Enqueue],
) -> Result<Vec<Vec<Enqueued>>, StoreError> {
    let rows: Vec<(&Enqueue, &NewProducerJob)> = requests
        .iter()
        .flat_map(|r| r.jobs.iter().map(move |job| (*r, job)))
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let inserted = insert_jobs(&mut *conn, &rows, &ids).await?;

    // Jobs not inserted had a key already taken: answer the job holding it.
    let taken: Vec<(String, String)> = rows
        .iter()
        .zip(&ids)
        .filter(|(_, id)| !inserted.contains(*id))
        .filter_map(|((r, job), _)| Some((r.project.clone(), job.idempotency_key.clone()?)))
        .collect();
    let existing = holders_of(&mut *conn, &taken).await?;
    let files: Vec<(JobId, &[JobFile])> = rows
        .iter()
        .zip(&ids)
        .filter(|((_, job), id)| inserted.contains(*id) && !job.files.is_empty())
        .map(|((_, job), id)| (JobId(*id), job.files.as_slice()))
        .collect();
    jobs::insert_files(&mut *conn, &files).await?;
    let mut answers = rows.iter().zip(&ids).map(|((r, job), id)| {
        if inserted.contains(id) {
            return Ok(Enqueued {
                id: *id,
                created: true,
            });
        }
        let key = (
            r.project.clone(),
            job.idempotency_key.clone().unwrap_or_default(),
        );
        let found = existing.get(&key).copied().ok_or_else(|| {
            StoreError::Corrupt(format!(
                "idempotency key {key:?} neither inserted nor found"
            ))
        })?;
        Ok(Enqueued {
            id: found,
            created: false,
        })
    });
    requests
        .iter()
        .map(|r| answers.by_ref().take(r.jobs.len()).collect())
        .collect()
}

/// Inserts the rows with their ids; answers the ids inserted (not those whose key was
/// taken).
async fn insert_jobs(
    conn: &mut PgConnection,
    rows: &[(&Enqueue, &NewProducerJob)],
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, StoreError> {
    // Keys are inserted in key order, so concurrent statements sharing keys take the keys'
    // index entries in one order and wait for each other instead of deadlocking. A key is
    // its own row (`job_idempotency_keys`: a partitioned `jobs` cannot hold a unique key
    // without `begin_time`); its job is inserted only when the key was free.
    let projects: Vec<&str> = rows.iter().map(|(r, _)| r.project.as_str()).collect();
    let creators: Vec<&str> = rows
        .iter()
        .map(|(r, _)| r.origin.created_by.as_str())
        .collect();
    let requests: Vec<Option<&str>> = rows
        .iter()
        .map(|(r, _)| r.origin.request_id.as_deref())
        .collect();
    let graph_names: Vec<Option<&str>> = rows
        .iter()
        .map(|(_, j)| j.related_graph.as_deref())
        .collect();
    let types: Vec<&str> = rows.iter().map(|(_, j)| j.job_type.as_str()).collect();
    let names: Vec<&str> = rows.iter().map(|(_, j)| j.job_name.as_str()).collect();
    let payloads: Vec<Value> = rows.iter().map(|(_, j)| wrap_payload(&j.payload)).collect();
    let run_after: Vec<Option<DateTime<Utc>>> = rows.iter().map(|(_, j)| j.run_after).collect();
    let max_attempts: Vec<i32> = rows.iter().map(|(_, j)| j.max_attempts).collect();
    let priorities: Vec<i32> = rows.iter().map(|(_, j)| j.priority).collect();
    let keys: Vec<Option<&str>> = rows
        .iter()
        .map(|(_, j)| j.idempotency_key.as_deref())
        .collect();
    Ok(sqlx::query_scalar!(
        r#"WITH i AS MATERIALIZED (
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                                    $6::jsonb[], $7::timestamptz[], $8::int[], $9::int[],
                                    $10::text[], $11::text[], $12::text[])
                   AS i (id, project_id, graph_name, job_type, job_name, payload, run_after,
                         max_attempts, priority, idempotency_key, created_by, request_id)),
           keyed AS (
               INSERT INTO job_idempotency_keys (project_id, idempotency_key, job_id, begin_time)
               SELECT i.project_id, i.idempotency_key, i.id, now() FROM i
               WHERE i.idempotency_key IS NOT NULL
               ORDER BY i.project_id, i.idempotency_key
               ON CONFLICT DO NOTHING
               RETURNING job_id)
           INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status,
                             begin_time, progress, created_by, request_id, payload, run_after,
                             max_attempts, priority, idempotency_key)
           SELECT i.id, i.project_id, g.id, i.graph_name, i.job_type, i.job_name, 'pending',
                  now(), 0, i.created_by, i.request_id, i.payload, coalesce(i.run_after, now()),
                  i.max_attempts, i.priority, i.idempotency_key
           FROM i
           LEFT JOIN graphs g ON g.project_id = i.project_id AND g.name = i.graph_name AND g.live
           WHERE i.idempotency_key IS NULL OR i.id IN (SELECT job_id FROM keyed)
           RETURNING id"#,
        ids,
        &projects as &[&str],
        &graph_names as &[Option<&str>],
        &types as &[&str],
        &names as &[&str],
        &payloads,
        &run_after as &[Option<DateTime<Utc>>],
        &max_attempts,
        &priorities,
        &keys as &[Option<&str>],
        &creators as &[&str],
        &requests as &[Option<&str>],
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect())
}

/// The jobs holding the (project, idempotency key) pairs `taken`.
async fn holders_of(
    conn: &mut PgConnection,
    taken: &[(String, String)],
) -> Result<HashMap<(String, String), Uuid>, StoreError> {
    if taken.is_empty() {
        return Ok(HashMap::new());
    }
    let (projects, keys): (Vec<String>, Vec<String>) = taken.iter().cloned().unzip();
    let rows = sqlx::query!(
        r#"SELECT k.job_id AS id, k.project_id, k.idempotency_key AS key
           FROM job_idempotency_keys k
           JOIN unnest($1::text[], $2::text[]) AS t (project_id, key)
             ON k.project_id = t.project_id AND k.idempotency_key = t.key"#,
        &projects,
        &keys,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.project_id, r.key), r.id))
        .collect())
}

/// Whether a fenced write may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// The job is running under this lease; its row is locked for the transaction.
    Held,
    /// The job exists but the lease is not (or no longer) this one.
    Stale,
    /// No such job in the project.
    NotFound,
}

/// Locks the job of `project` and checks `lease_token` holds it.
pub async fn fence(
    conn: &mut PgConnection,
    project: &str,
    id: Uuid,
    lease_token: Uuid,
) -> Result<Fence, StoreError> {
    let row = sqlx::query!(
        "SELECT status, lease_token FROM jobs WHERE id = $1 AND project_id = $2 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)
         FOR NO KEY UPDATE",
        id,
        project,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        None => Fence::NotFound,
        Some(r) if r.status == "running" && r.lease_token == Some(lease_token) => Fence::Held,
        Some(_) => Fence::Stale,
    })
}

/// What a renewed lease answers.
#[derive(Debug, Clone, Copy)]
pub struct Renewed {
    pub cancel_requested: bool,
    pub lease_expires_at: DateTime<Utc>,
}

/// Renews the lease of the job of `project` for `lease_secs` and records `progress` (never
/// backwards), in one statement; `None`: the lease does not hold the job (or no such job).
pub async fn renew(
    conn: impl PgExecutor<'_>,
    project: &str,
    id: Uuid,
    lease_token: Uuid,
    lease_secs: f64,
    progress: Option<f32>,
) -> Result<Option<Renewed>, StoreError> {
    Ok(sqlx::query_as!(
        Renewed,
        r#"UPDATE jobs
           SET lease_expires_at = now() + make_interval(secs => $4),
               progress = greatest(progress, coalesce($5::real, progress))
           WHERE id = $1 AND project_id = $2 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $3 AND status = 'running'
           RETURNING cancel_requested, lease_expires_at AS "lease_expires_at!""#,
        id,
        project,
        lease_token,
        lease_secs,
        progress.map(|p| p.clamp(0.0, 100.0)),
    )
    .fetch_optional(conn)
    .await?)
}

/// Ends the job of `project` with a final `status` under the lease, in one statement:
/// `end_time` now, progress 100 on success, lease cleared. `None`: the lease does not hold
/// the job (or no such job), nothing changed.
pub async fn complete(
    conn: impl PgExecutor<'_>,
    project: &str,
    id: Uuid,
    lease_token: Uuid,
    status: JobStatus,
    fail_reason: Option<&str>,
) -> Result<Option<Ended>, StoreError> {
    debug_assert!(status.is_final());
    Ok(sqlx::query_as!(
        Ended,
        r#"UPDATE jobs
           SET status = $4, end_time = greatest(now(), begin_time),
               progress = CASE WHEN $4 = 'success' THEN 100 ELSE progress END,
               fail_reason = $5, lease_token = NULL, lease_expires_at = NULL
           WHERE id = $1 AND project_id = $2 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $3 AND status = 'running'
           RETURNING job_name, extract(epoch FROM end_time - started_at)::float8 AS run_secs"#,
        id,
        project,
        lease_token,
        status.as_str(),
        fail_reason,
    )
    .fetch_optional(conn)
    .await?)
}

/// Whether the project has job `id` (after a fenced write found nothing: a stale lease or
/// no such job).
pub async fn exists(
    conn: impl PgExecutor<'_>,
    project: &str,
    id: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND project_id = $2 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)) AS "exists!""#,
        id,
        project,
    )
    .fetch_one(conn)
    .await?)
}

/// A job as a retry needs it.
#[derive(Debug, Clone)]
pub struct RetrySource {
    pub id: Uuid,
    pub status: JobStatus,
    pub job_type: String,
    pub job_name: String,
    pub graph_id: Option<Uuid>,
    pub graph_name: Option<String>,
    pub payload: Value,
    pub max_attempts: i32,
    pub priority: i32,
}

/// The job `id` of `project`, for a retry.
pub async fn retry_source(
    conn: &mut PgConnection,
    project: &str,
    id: Uuid,
) -> Result<Option<RetrySource>, StoreError> {
    let row = sqlx::query!(
        "SELECT id, status, job_type, job_name, graph_id, graph_name, payload, max_attempts,
                priority
         FROM jobs WHERE id = $1 AND project_id = $2 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
        id,
        project,
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(RetrySource {
            status: StoreError::parsed("jobs.status", &r.status)?,
            id: r.id,
            job_type: r.job_type,
            job_name: r.job_name,
            graph_id: r.graph_id,
            graph_name: r.graph_name,
            payload: r.payload,
            max_attempts: r.max_attempts,
            priority: r.priority,
        })
    })
    .transpose()
}

/// A new pending job with the type, name, graph and payload of `old`, linked to it by
/// `retry_of` (the graph id is looked up again: the graph may have gone). Answers its id.
pub async fn insert_retry(
    conn: &mut PgConnection,
    project: &str,
    old: &RetrySource,
    origin: &Origin,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "WITH retried AS (
             INSERT INTO job_retries (retry_of, retried_begin, job_id)
             SELECT o.id, o.begin_time, $1 FROM jobs o
             WHERE o.id = $11 AND o.begin_time BETWEEN job_begin_min($11) AND job_begin_max($11))
         INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status,
                           begin_time, progress, created_by, request_id, payload, max_attempts,
                           priority, retry_of)
         VALUES ($1, $2,
                 (SELECT g.id FROM graphs g WHERE g.project_id = $2 AND g.name = $3 AND g.live),
                 $3, $4, $5, 'pending', now(), 0, $6, $7, $8, $9, $10, $11)",
        id,
        project,
        old.graph_name,
        old.job_type,
        old.job_name,
        origin.created_by,
        origin.request_id,
        old.payload,
        old.max_attempts,
        old.priority,
        old.id,
    )
    .execute(&mut *conn)
    .await?;
    queue::notify(&mut *conn, &old.job_type).await?;
    Ok(id)
}

/// Links a job made by a retry to the job it retries.
pub async fn set_retry_of(
    conn: &mut PgConnection,
    id: Uuid,
    retry_of: Uuid,
) -> Result<(), StoreError> {
    sqlx::query!(
        "WITH retried AS (
             INSERT INTO job_retries (retry_of, retried_begin, job_id)
             SELECT o.id, o.begin_time, $1 FROM jobs o
             WHERE o.id = $2 AND o.begin_time BETWEEN job_begin_min($2) AND job_begin_max($2))
         UPDATE jobs SET retry_of = $2
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
        id,
        retry_of
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
