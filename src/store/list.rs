//! The job list: an exact count and one page, in one statement (so one snapshot and one
//! round trip).
//!
//! Policy: nothing here reads more rows than the page needs plus a bounded number of count
//! rows and at most one segment of the filter's jobs (see [`super::list_statement`]). The
//! page's file results (imports and producer jobs) come along from the same statement, as
//! an array of `job_file_result`.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgExecutor, Postgres, QueryBuilder, Row};

use super::StoreError;
use super::jobs::JobRow;
use super::list_statement::{self, ALL};
use super::pgbench::PgbenchScript;
use crate::domain::{Job, JobQuery, ProjectId};

/// One page of jobs and the exact number of jobs matching the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    pub total: i64,
    pub jobs: Vec<Job>,
}

/// One row of the list statement: the total, and a job of the page with its file results
/// (absent when the page is empty: then the only row carries the total).
#[derive(Debug)]
struct ListRow {
    total: i64,
    job: Option<JobRow>,
}

/// Decoded by position, without sqlx's lookup of each column by name and check of its
/// type (half the decoding of a page): [`list_statement::write`] selects the total, then
/// the job's columns in [`JobRow`]'s order, then its files; the list tests read every one
/// of them back.
impl<'r> FromRow<'r, PgRow> for ListRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let total = row.try_get_unchecked(0)?;
        let Some(id) = row.try_get_unchecked(1)? else {
            return Ok(ListRow { total, job: None });
        };
        let job = JobRow {
            id,
            project_id: row.try_get_unchecked(2)?,
            graph_id: row.try_get_unchecked(3)?,
            graph_name: row.try_get_unchecked(4)?,
            job_type: row.try_get_unchecked(5)?,
            job_name: row.try_get_unchecked(6)?,
            status: row.try_get_unchecked(7)?,
            begin_time: row.try_get_unchecked(8)?,
            end_time: row.try_get_unchecked(9)?,
            progress: row.try_get_unchecked(10)?,
            fail_reason: row.try_get_unchecked(11)?,
            files: row.try_get_unchecked(12)?,
        };
        Ok(ListRow {
            total,
            job: Some(job),
        })
    }
}

/// Lists a project's jobs, newest first (`begin_time` then `job_id`, descending).
pub async fn list_jobs(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    query: &JobQuery,
) -> Result<JobPage, StoreError> {
    let filter = &query.filter;
    if filter
        .graph_name
        .as_deref()
        .is_some_and(|name| name.is_empty() || name == ALL)
    {
        return Ok(JobPage {
            total: 0,
            jobs: Vec::new(),
        });
    }
    let rows = list_query(project, query)
        .build_query_as::<ListRow>()
        .fetch_all(conn)
        .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let jobs = rows
        .into_iter()
        .filter_map(|row| row.job)
        .map(JobRow::into_job)
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(JobPage { total, jobs })
}

/// The whole list statement, with its values bound.
pub(crate) fn list_query(project: &ProjectId, query: &JobQuery) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new("");
    list_statement::write(&mut qb, project, query);
    qb
}

/// The list statement as a pgbench script: its text with `:p1`, `:p2`, ... for the
/// parameters, and their values (for `pgbench -D`), so that the benchmark runs exactly
/// the statement the service runs.
pub fn list_pgbench_script(project: &ProjectId, query: &JobQuery) -> PgbenchScript {
    let mut script = PgbenchScript::default();
    list_statement::write(&mut script, project, query);
    script
}
