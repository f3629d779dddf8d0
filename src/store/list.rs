//! The job list: an exact count and one page, from one snapshot.
//!
//! Policy: nothing here reads more rows than the page needs plus one day of the filter's
//! jobs. The count is a sum over `job_day_counts` (one row per project, graph, status and
//! begin/end day), which also tells on which day the requested offset falls; the page
//! query then starts at that day and skips only within it.

use chrono::NaiveDate;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::StoreError;
use super::jobs::{Job, JobRow, attach_files};
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

/// Where the page starts: the newest day holding the job at `offset`, and how many
/// matching jobs began on later days.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CountRow {
    pub total: i64,
    pub start_day: Option<NaiveDate>,
    pub skipped: Option<i64>,
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
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let counts = count_query(project, query)
        .build_query_as::<CountRow>()
        .fetch_one(&mut *tx)
        .await?;
    let (Some(start_day), Some(skipped)) = (counts.start_day, counts.skipped) else {
        tx.commit().await?;
        return Ok(JobPage {
            total: counts.total,
            jobs: Vec::new(),
        });
    };
    let rows = page_query(project, query, start_day, query.page.offset - skipped)
        .build_query_as::<JobRow>()
        .fetch_all(&mut *tx)
        .await?;
    let mut jobs = rows
        .into_iter()
        .map(JobRow::into_job)
        .collect::<Result<Vec<_>, _>>()?;
    attach_files(&mut tx, &mut jobs).await?;
    tx.commit().await?;
    Ok(JobPage {
        total: counts.total,
        jobs,
    })
}

/// Sums the day counts of the filter; finds the day the offset falls on.
pub(crate) fn count_query<'a>(
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
         cumulative AS (SELECT begin_day, n, sum(n) OVER (ORDER BY begin_day DESC) AS upto FROM days) \
         SELECT (SELECT coalesce(sum(n), 0) FROM days)::int8 AS total, \
                s.begin_day AS start_day, s.skipped \
         FROM (SELECT 1) AS one LEFT JOIN (\
             SELECT begin_day, (upto - n)::int8 AS skipped FROM cumulative WHERE upto > ",
    );
    qb.push_bind(query.page.offset);
    qb.push(" ORDER BY begin_day DESC LIMIT 1) AS s ON true");
    qb
}

/// The page itself: jobs that began before the end of `start_day`, skipping `skip` of them.
pub(crate) fn page_query<'a>(
    project: &'a ProjectId,
    query: &'a JobQuery,
    start_day: NaiveDate,
    skip: i64,
) -> QueryBuilder<Postgres> {
    let filter = &query.filter;
    let mut qb = QueryBuilder::new(
        "SELECT id, project_id, graph_id, graph_name, job_type, job_name, status, \
                begin_time, end_time, progress, fail_reason \
         FROM jobs WHERE project_id = ",
    );
    qb.push_bind(project.as_str());
    if let Some(status) = filter.status {
        qb.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(name) = &filter.graph_name {
        qb.push(" AND graph_name = ").push_bind(name.as_str());
    }
    if let Some(day) = filter.start_day {
        qb.push(" AND begin_time >= ").push_bind(start_of_day(day));
    }
    if let Some(day) = filter.end_day {
        qb.push(" AND end_time < ").push_bind(end_of_day(day));
    }
    // Jobs counted on later days were skipped already; a job that matches the end filter
    // began no later than it ended, so the offset's day is never past the end day.
    qb.push(" AND begin_time < ")
        .push_bind(end_of_day(start_day));
    qb.push(" ORDER BY begin_time DESC, id DESC LIMIT ");
    qb.push_bind(query.page.limit);
    qb.push(" OFFSET ");
    qb.push_bind(skip);
    qb
}
