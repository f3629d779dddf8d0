//! The job list: an exact count and one page, in one statement (so one snapshot and one
//! round trip).
//!
//! Policy: nothing here reads more rows than the page needs plus one day of the filter's
//! jobs. The count is a sum over `job_day_counts` (one row per project, graph, status and
//! begin/end day), which also tells on which day the requested offset falls; the page
//! then starts at that day and skips only within it. The page's file results (imports and
//! producer jobs) come along as JSON from the same statement.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::StoreError;
use super::jobs::{FileRow, Job, JobRow, with_files};
use crate::domain::time::{end_of_day, start_of_day};
use crate::domain::{JobQuery, ProjectId};

/// The count key of "all graphs" in `job_day_counts`.
const ALL_GRAPHS: &str = "*";

/// One page of jobs and the exact number of jobs matching the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    pub total: i64,
    pub jobs: Vec<Job>,
}

/// One row of the list statement: the total, and a job of the page (absent when the page
/// is empty: then the only row carries the total).
#[derive(Debug, sqlx::FromRow)]
struct ListRow {
    total: i64,
    id: Option<Uuid>,
    project_id: Option<String>,
    graph_id: Option<Uuid>,
    graph_name: Option<String>,
    job_type: Option<String>,
    job_name: Option<String>,
    status: Option<String>,
    begin_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    progress: Option<f32>,
    fail_reason: Option<String>,
    files: Option<sqlx::types::Json<Vec<FileRow>>>,
}

/// Lists a project's jobs, newest first (`begin_time` then `job_id`, descending).
pub async fn list_jobs(
    pool: &PgPool,
    project: &ProjectId,
    query: &JobQuery,
) -> Result<JobPage, StoreError> {
    let filter = &query.filter;
    if filter
        .graph_name
        .as_deref()
        .is_some_and(|name| name.is_empty() || name == ALL_GRAPHS)
    {
        return Ok(JobPage {
            total: 0,
            jobs: Vec::new(),
        });
    }
    let rows = list_query(project, query)
        .build_query_as::<ListRow>()
        .fetch_all(pool)
        .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let jobs = rows
        .into_iter()
        .filter(|row| row.id.is_some())
        .map(ListRow::into_job)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JobPage { total, jobs })
}

impl ListRow {
    fn into_job(self) -> Result<Job, StoreError> {
        let missing = || StoreError::Corrupt("list row without its job's columns".to_owned());
        let job = JobRow {
            id: self.id.ok_or_else(missing)?,
            project_id: self.project_id.ok_or_else(missing)?,
            graph_id: self.graph_id,
            graph_name: self.graph_name,
            job_type: self.job_type.ok_or_else(missing)?,
            job_name: self.job_name.ok_or_else(missing)?,
            status: self.status.ok_or_else(missing)?,
            begin_time: self.begin_time.ok_or_else(missing)?,
            end_time: self.end_time,
            progress: self.progress.ok_or_else(missing)?,
            fail_reason: self.fail_reason,
        }
        .into_job()?;
        with_files(job, self.files)
    }
}

/// The whole list statement: the day counts of the filter summed (the total) and run up
/// from the newest day to find the day the offset falls on (`start`: that day and how many
/// matching jobs began on later days); then the page from that day, skipping only within
/// it, with each job's file results.
pub(crate) fn list_query<'a>(
    project: &'a ProjectId,
    query: &'a JobQuery,
) -> QueryBuilder<Postgres> {
    let filter = &query.filter;
    let mut qb = QueryBuilder::new(
        "WITH days AS (SELECT begin_day, sum(n)::int8 AS n FROM job_day_counts WHERE project_id = ",
    );
    qb.push_bind(project.as_str());
    qb.push(" AND graph_key = ");
    qb.push_bind(filter.graph_name.as_deref().unwrap_or(ALL_GRAPHS));
    if let Some(status) = filter.status {
        qb.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(day) = filter.start_day {
        qb.push(" AND begin_day >= ").push_bind(day);
    }
    if let Some(day) = filter.end_day {
        qb.push(" AND end_day <= ").push_bind(day);
    }
    qb.push(
        " GROUP BY begin_day), \
         cumulative AS (SELECT begin_day, n, sum(n) OVER (ORDER BY begin_day DESC) AS upto FROM days), \
         start AS (SELECT begin_day, (upto - n)::int8 AS skipped FROM cumulative WHERE upto > ",
    );
    qb.push_bind(query.page.offset);
    qb.push(
        " ORDER BY begin_day DESC LIMIT 1) \
         SELECT (SELECT coalesce(sum(n), 0) FROM days)::int8 AS total, page.* \
         FROM (SELECT 1) AS one LEFT JOIN LATERAL (\
           SELECT j.*, (SELECT json_agg(json_build_object('kind', f.kind, 'path', f.path, \
                   'log', f.log, 'status', f.status, 'cause', f.cause, 'total_lines', f.total_lines, \
                   'failed_lines', f.failed_lines, 'successful_lines', f.successful_lines) \
                   ORDER BY f.kind, f.ordinal) \
                 FROM job_files f WHERE f.job_id = j.id \
                 AND (j.job_name = 'ImportGraph' OR j.job_type <> 'GraphManagement')) AS files \
           FROM start, LATERAL (\
             SELECT id, project_id, graph_id, graph_name, job_type, job_name, status, \
                    begin_time, end_time, progress, fail_reason \
             FROM jobs WHERE project_id = ",
    );
    push_page_filter(&mut qb, project, query);
    qb.push(") AS j) AS page ON true");
    qb
}

/// The page's own conditions, order, limit and offset (within the start day).
fn push_page_filter(qb: &mut QueryBuilder<Postgres>, project: &ProjectId, query: &JobQuery) {
    let filter = &query.filter;
    qb.push_bind(project.as_str().to_owned());
    if let Some(status) = filter.status {
        qb.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(name) = &filter.graph_name {
        qb.push(" AND graph_name = ").push_bind(name.clone());
    }
    if let Some(day) = filter.start_day {
        qb.push(" AND begin_time >= ").push_bind(start_of_day(day));
    }
    if let Some(day) = filter.end_day {
        qb.push(" AND end_time < ").push_bind(end_of_day(day));
    }
    // Jobs counted on later days were skipped already; a job that matches the end filter
    // began no later than it ended, so the offset's day is never past the end day.
    qb.push(
        " AND begin_time < (start.begin_day + 1)::timestamp AT TIME ZONE 'UTC' \
         ORDER BY begin_time DESC, id DESC LIMIT ",
    );
    qb.push_bind(query.page.limit);
    qb.push(" OFFSET ");
    qb.push_bind(query.page.offset);
    qb.push(" - start.skipped");
}
