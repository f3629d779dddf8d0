//! The job list: an exact count and one page, in one statement (so one snapshot and one
//! round trip).
//!
//! Policy: nothing here reads more rows than the page needs plus one day of the filter's
//! jobs. The count is a sum over `job_day_counts` (one row per project, graph, status and
//! begin/end day), which also tells on which day the requested offset falls; the page
//! then starts at that day and skips only within it. The page's file results (imports and
//! producer jobs) come along from the same statement, as an array of `job_file_result`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgExecutor, Postgres, QueryBuilder, Row};

use super::StoreError;
use super::jobs::JobRow;
use super::pgbench::PgbenchScript;
use crate::domain::time::{end_of_day, start_of_day};
use crate::domain::{Job, JobQuery, ProjectId};

/// The count key of "all graphs" in `job_day_counts`.
const ALL_GRAPHS: &str = "*";

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
/// type (half the decoding of a page): [`write_list_statement`] selects the total, then
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
        .is_some_and(|name| name.is_empty() || name == ALL_GRAPHS)
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

/// The whole list statement: the day counts of the filter summed (the total) and run up
/// from the newest day to find the day the offset falls on (`start`: that day and how many
/// matching jobs began on later days); then the page from that day, skipping only within
/// it, with each job's file results.
pub(crate) fn list_query(project: &ProjectId, query: &JobQuery) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new("");
    write_list_statement(&mut qb, project, query);
    qb
}

/// The list statement as a pgbench script: its text with `:p1`, `:p2`, ... for the
/// parameters, and their values (for `pgbench -D`), so that the benchmark runs exactly
/// the statement the service runs.
pub fn list_pgbench_script(project: &ProjectId, query: &JobQuery) -> PgbenchScript {
    let mut script = PgbenchScript::default();
    write_list_statement(&mut script, project, query);
    script
}

/// Where a statement is written: a query builder binding the values, or a pgbench script
/// naming them.
trait StatementSink {
    fn sql(&mut self, text: &str);
    fn text(&mut self, value: String);
    fn day(&mut self, value: NaiveDate);
    fn time(&mut self, value: DateTime<Utc>);
    fn int(&mut self, value: i64);
}

impl StatementSink for QueryBuilder<Postgres> {
    fn sql(&mut self, text: &str) {
        self.push(text);
    }
    fn text(&mut self, value: String) {
        self.push_bind(value);
    }
    fn day(&mut self, value: NaiveDate) {
        self.push_bind(value);
    }
    fn time(&mut self, value: DateTime<Utc>) {
        self.push_bind(value);
    }
    fn int(&mut self, value: i64) {
        self.push_bind(value);
    }
}

impl StatementSink for PgbenchScript {
    fn sql(&mut self, text: &str) {
        self.sql.push_str(text);
    }
    fn text(&mut self, value: String) {
        self.push_param(value);
    }
    fn day(&mut self, value: NaiveDate) {
        self.push_param(value.to_string());
    }
    fn time(&mut self, value: DateTime<Utc>) {
        self.push_param(value.to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    fn int(&mut self, value: i64) {
        self.push_param(value.to_string());
    }
}

fn write_list_statement(out: &mut impl StatementSink, project: &ProjectId, query: &JobQuery) {
    let filter = &query.filter;
    out.sql(
        "WITH days AS (SELECT begin_day, sum(n)::int8 AS n FROM job_day_counts WHERE project_id = ",
    );
    out.text(project.as_str().to_owned());
    out.sql(" AND graph_key = ");
    out.text(
        filter
            .graph_name
            .as_deref()
            .unwrap_or(ALL_GRAPHS)
            .to_owned(),
    );
    if let Some(status) = filter.status {
        out.sql(" AND status = ");
        out.text(status.as_str().to_owned());
    }
    if let Some(day) = filter.start_day {
        out.sql(" AND begin_day >= ");
        out.day(day);
    }
    if let Some(day) = filter.end_day {
        out.sql(" AND end_day <= ");
        out.day(day);
    }
    out.sql(
        " GROUP BY begin_day), \
         cumulative AS (SELECT begin_day, n, sum(n) OVER (ORDER BY begin_day DESC) AS upto FROM days), \
         start AS (SELECT begin_day, (upto - n)::int8 AS skipped FROM cumulative WHERE upto > ",
    );
    out.int(query.page.offset);
    out.sql(
        " ORDER BY begin_day DESC LIMIT 1) \
         SELECT (SELECT coalesce(sum(n), 0) FROM days)::int8 AS total, page.* \
         FROM (SELECT 1) AS one LEFT JOIN LATERAL (\
           SELECT j.*, ARRAY(SELECT ROW(f.kind, f.path, f.log, f.status, f.cause, \
                   f.total_lines, f.failed_lines, f.successful_lines)::job_file_result \
                 FROM job_files f WHERE f.job_id = j.id \
                 AND (j.job_name = 'ImportGraph' OR j.job_type <> 'GraphManagement') \
                 ORDER BY f.kind, f.ordinal) AS files \
           FROM start, LATERAL (\
             SELECT id, project_id, graph_id, graph_name, job_type, job_name, status, \
                    begin_time, end_time, progress, fail_reason \
             FROM jobs WHERE project_id = ",
    );
    write_page_filter(out, project, query);
    out.sql(") AS j) AS page ON true");
}

/// The page's own conditions, order, limit and offset (within the start day).
fn write_page_filter(out: &mut impl StatementSink, project: &ProjectId, query: &JobQuery) {
    let filter = &query.filter;
    out.text(project.as_str().to_owned());
    if let Some(status) = filter.status {
        out.sql(" AND status = ");
        out.text(status.as_str().to_owned());
    }
    if let Some(name) = &filter.graph_name {
        out.sql(" AND graph_name = ");
        out.text(name.clone());
    }
    if let Some(day) = filter.start_day {
        out.sql(" AND begin_time >= ");
        out.time(start_of_day(day));
    }
    if let Some(day) = filter.end_day {
        out.sql(" AND end_time < ");
        out.time(end_of_day(day));
    }
    // Jobs counted on later days were skipped already; a job that matches the end filter
    // began no later than it ended, so the offset's day is never past the end day.
    out.sql(
        " AND begin_time < (start.begin_day + 1)::timestamp AT TIME ZONE 'UTC' \
         ORDER BY begin_time DESC, id DESC LIMIT ",
    );
    out.int(query.page.limit);
    out.sql(" OFFSET ");
    out.int(query.page.offset);
    out.sql(" - start.skipped");
}
