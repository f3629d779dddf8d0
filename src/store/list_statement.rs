//! The text of the job-list statement, written once for two sinks: a query builder that
//! binds the values, and a pgbench script that names them (so the benchmark runs exactly
//! what the service runs).
//!
//! Policy: the total is a sum of count rows (migration V8) and of the deltas the
//! statement's snapshot sees; a deep page finds its month, then its day, then its segment
//! from running sums of the counts, and skips only within that segment. Every branch of
//! the statement reads a bounded number of count rows: about a hundred months, the days
//! of one month, the segments of one day, and at most a segment of jobs.

use chrono::{DateTime, Datelike, Months, NaiveDate, SecondsFormat, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::pgbench::PgbenchScript;
use crate::domain::query::MAX_LIMIT;
use crate::domain::time::{end_of_day, start_of_day};
use crate::domain::{JobQuery, ProjectId};

/// The count key of "all graphs" and of "all statuses".
pub(crate) const ALL: &str = "*";
/// Offsets below this are skipped from the newest job on, without reading the counts.
pub(crate) const SHALLOW_OFFSET: i64 = 128;

/// Where a statement is written: a query builder binding the values, or a pgbench script
/// naming them.
pub(crate) trait StatementSink {
    fn sql(&mut self, text: &str);
    fn text(&mut self, value: &str);
    fn day(&mut self, value: NaiveDate);
    fn time(&mut self, value: DateTime<Utc>);
    fn int(&mut self, value: i64);
}

impl StatementSink for QueryBuilder<Postgres> {
    fn sql(&mut self, text: &str) {
        self.push(text);
    }
    fn text(&mut self, value: &str) {
        self.push_bind(value.to_owned());
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
    fn text(&mut self, value: &str) {
        self.push_param(value.to_owned());
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

/// One list request, as the statement needs it.
struct Request<'a> {
    project: &'a str,
    graph: Option<&'a str>,
    status: Option<&'static str>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    offset: i64,
    limit: i64,
}

/// The job columns the page selects, in `JobRow`'s order, and their file results.
const PAGE: &str = "SELECT j.*, ARRAY(SELECT ROW(f.kind, f.path, f.log, f.status, f.cause, \
     f.total_lines, f.failed_lines, f.successful_lines)::job_file_result \
     FROM job_files f WHERE f.job_id = j.id AND f.begin_time = j.begin_time \
     AND (j.job_name = 'ImportGraph' OR j.job_type <> 'GraphManagement') \
     ORDER BY f.kind, f.ordinal) AS files FROM ";
const COLUMNS: &str = "SELECT * FROM (SELECT id, project_id, graph_id, graph_name, job_type, \
     job_name, status, begin_time, end_time, progress, fail_reason FROM jobs WHERE ";

/// Writes the list statement for `query` in `project`.
pub(crate) fn write(out: &mut impl StatementSink, project: &ProjectId, query: &JobQuery) {
    let filter = &query.filter;
    let request = Request {
        project: project.as_str(),
        graph: filter.graph_name.as_deref(),
        status: filter.status.map(|s| s.as_str()),
        start: filter.start_day,
        end: filter.end_day,
        offset: query.page.offset,
        limit: query.page.limit,
    };
    if request.offset < SHALLOW_OFFSET {
        write_shallow(out, &request);
    } else {
        write_deep(out, &request);
    }
}

/// Total, then the page straight off the newest jobs.
fn write_shallow(out: &mut impl StatementSink, r: &Request) {
    out.sql("SELECT (");
    if r.start.is_some() || r.end.is_some() {
        out.sql("WITH mon AS (");
        write_month_parts(out, r);
        out.sql(") SELECT coalesce(sum(n), 0) FROM mon");
    } else {
        out.sql("SELECT coalesce((SELECT c.n FROM job_counts_total c WHERE ");
        write_key(out, r, "c.");
        out.sql("), 0) + coalesce((SELECT sum(t.n) FROM job_count_deltas t WHERE ");
        write_delta_filter(out, r);
        out.sql("), 0)");
    }
    out.sql(")::int8 AS total, page.* FROM (SELECT 1) AS one LEFT JOIN LATERAL (");
    out.sql(PAGE);
    out.sql("LATERAL (");
    out.sql(COLUMNS);
    write_page_filter(out, r);
    write_page_end(out, r, "");
}

/// Months, then the offset's month, day and segment, then the page inside that segment.
fn write_deep(out: &mut impl StatementSink, r: &Request) {
    out.sql("WITH mon AS (");
    write_month_parts(out, r);
    out.sql(
        "), months AS (SELECT month, sum(n)::int8 AS n FROM mon GROUP BY month), \
         tm AS (SELECT month, (upto - n)::int8 AS skipped FROM \
           (SELECT month, n, sum(n) OVER (ORDER BY month DESC) AS upto FROM months) AS c \
           WHERE upto > ",
    );
    out.int(r.offset);
    out.sql(
        " ORDER BY month DESC LIMIT 1), \
         dy AS (SELECT day, sum(n)::int8 AS n FROM (SELECT d.day, d.n FROM tm, job_counts_day d WHERE ",
    );
    write_key(out, r, "d.");
    out.sql(" AND d.day >= tm.month AND d.day < (tm.month + interval '1 month')::date");
    if let Some(start) = r.start {
        out.sql(" AND d.day >= ");
        out.day(start);
    }
    write_day_end(out, r, "d.day");
    out.sql(" UNION ALL SELECT (t.begin_time AT TIME ZONE 'UTC')::date, t.n FROM tm, job_count_deltas t WHERE ");
    write_delta_filter(out, r);
    out.sql(
        " AND t.begin_time >= tm.month::timestamp AT TIME ZONE 'UTC' \
         AND t.begin_time < (tm.month + interval '1 month')::timestamp AT TIME ZONE 'UTC') AS x \
         GROUP BY day), \
         td AS (SELECT c.day, (tm.skipped + c.upto - c.n)::int8 AS skipped FROM tm, \
           (SELECT day, n, sum(n) OVER (ORDER BY day DESC) AS upto FROM dy) AS c WHERE tm.skipped + c.upto > ",
    );
    out.int(r.offset);
    out.sql(
        " ORDER BY c.day DESC LIMIT 1), \
         sg AS (SELECT starts_at, sum(n)::int8 AS n FROM (SELECT s.starts_at, s.n FROM td, job_counts_segment s WHERE ",
    );
    write_key(out, r, "s.");
    out.sql(
        " AND s.starts_at >= td.day::timestamp AT TIME ZONE 'UTC' \
         AND s.starts_at < (td.day + 1)::timestamp AT TIME ZONE 'UTC'",
    );
    if let Some(end) = r.end {
        out.sql(" AND s.end_key <= ");
        out.day(end);
    }
    // A delta's segment: the last segment start of its day at or before its begin time.
    out.sql(
        " UNION ALL SELECT greatest(td.day::timestamp AT TIME ZONE 'UTC', \
           (SELECT max(g.starts_at) FROM job_segments g \
            WHERE g.project_id = t.project_id AND g.starts_at <= t.begin_time)), t.n \
         FROM td, job_count_deltas t WHERE ",
    );
    write_delta_filter(out, r);
    out.sql(
        " AND t.begin_time >= td.day::timestamp AT TIME ZONE 'UTC' \
         AND t.begin_time < (td.day + 1)::timestamp AT TIME ZONE 'UTC') AS x GROUP BY starts_at), \
         ts AS (SELECT coalesce(c.ends_at, (td.day + 1)::timestamp AT TIME ZONE 'UTC') AS ends_at, \
           (td.skipped + c.upto - c.n)::int8 AS skipped FROM td, \
           (SELECT starts_at, n, sum(n) OVER (ORDER BY starts_at DESC) AS upto, \
                   lead(starts_at) OVER (ORDER BY starts_at) AS ends_at FROM sg) AS c \
           WHERE td.skipped + c.upto > ",
    );
    out.int(r.offset);
    out.sql(
        " ORDER BY c.starts_at DESC LIMIT 1) \
         SELECT (SELECT coalesce(sum(n), 0) FROM months)::int8 AS total, page.* \
         FROM (SELECT 1) AS one LEFT JOIN LATERAL (",
    );
    out.sql(PAGE);
    out.sql("ts, LATERAL (");
    out.sql(COLUMNS);
    write_page_filter(out, r);
    out.sql(" AND begin_time < ts.ends_at");
    write_page_end(out, r, " - ts.skipped");
}

/// The count rows of the filter, as (month, n): whole months from the month counts, the
/// partial months at the edges of a date range from the day counts, and the deltas.
fn write_month_parts(out: &mut impl StatementSink, r: &Request) {
    let first_full = r
        .start
        .map(|s| if s.day() == 1 { s } else { next_month(s) });
    let end_month = r.end.map(month_of);
    let day_part =
        "SELECT date_trunc('month', d.day)::date AS month, d.n FROM job_counts_day d WHERE ";
    match (r.start, r.end, first_full, end_month) {
        (Some(start), Some(_), Some(full), Some(last)) if full >= last => {
            // The range lies within one month: its days.
            out.sql(day_part);
            write_key(out, r, "d.");
            out.sql(" AND d.day >= ");
            out.day(start);
            write_day_end(out, r, "d.day");
        }
        _ => {
            out.sql("SELECT m.month, m.n FROM job_counts_month m WHERE ");
            write_key(out, r, "m.");
            if let Some(full) = first_full {
                out.sql(" AND m.month >= ");
                out.day(full);
            }
            if let (Some(end), Some(last)) = (r.end, end_month) {
                out.sql(" AND m.month < ");
                out.day(last);
                out.sql(" AND m.end_key < ");
                out.day(last);
                // Jobs of the whole months that ended in the end day's month, by then.
                out.sql(" UNION ALL ");
                out.sql(day_part);
                write_key(out, r, "d.");
                out.sql(" AND d.end_key >= ");
                out.day(last);
                out.sql(" AND d.end_key <= ");
                out.day(end);
                out.sql(" AND d.day < ");
                out.day(last);
                if let Some(full) = first_full {
                    out.sql(" AND d.day >= ");
                    out.day(full);
                }
                // The end day's month, up to the end day.
                out.sql(" UNION ALL ");
                out.sql(day_part);
                write_key(out, r, "d.");
                out.sql(" AND d.day >= ");
                out.day(last);
                write_day_end(out, r, "d.day");
            }
            if let (Some(start), Some(full)) = (r.start, first_full)
                && start != full
            {
                // The start day's month, from the start day.
                out.sql(" UNION ALL ");
                out.sql(day_part);
                write_key(out, r, "d.");
                out.sql(" AND d.day >= ");
                out.day(start);
                out.sql(" AND d.day < ");
                out.day(full);
                if let Some(end) = r.end {
                    out.sql(" AND d.end_key <= ");
                    out.day(end);
                }
            }
        }
    }
    out.sql(
        " UNION ALL SELECT date_trunc('month', t.begin_time AT TIME ZONE 'UTC')::date, t.n \
         FROM job_count_deltas t WHERE ",
    );
    write_delta_filter(out, r);
}

/// `{column} <= end AND d.end_key <= end` when the request has an end day.
fn write_day_end(out: &mut impl StatementSink, r: &Request, column: &str) {
    if let Some(end) = r.end {
        out.sql(" AND ");
        out.sql(column);
        out.sql(" <= ");
        out.day(end);
        out.sql(" AND d.end_key <= ");
        out.day(end);
    }
}

/// The count key of the request, on the count table aliased `alias`.
fn write_key(out: &mut impl StatementSink, r: &Request, alias: &str) {
    for (column, value) in [
        ("project_id", r.project),
        ("graph_key", r.graph.unwrap_or(ALL)),
        ("status_key", r.status.unwrap_or(ALL)),
    ] {
        if column != "project_id" {
            out.sql(" AND ");
        }
        out.sql(alias);
        out.sql(column);
        out.sql(" = ");
        out.text(value);
    }
}

/// The deltas (aliased `t`) of the request's jobs.
fn write_delta_filter(out: &mut impl StatementSink, r: &Request) {
    out.sql("t.project_id = ");
    out.text(r.project);
    if let Some(graph) = r.graph {
        out.sql(" AND t.graph_name = ");
        out.text(graph);
    }
    if let Some(status) = r.status {
        out.sql(" AND t.status = ");
        out.text(status);
    }
    if let Some(start) = r.start {
        out.sql(" AND t.begin_time >= ");
        out.time(start_of_day(start));
    }
    if let Some(end) = r.end {
        out.sql(" AND t.end_day <= ");
        out.day(end);
    }
}

/// The page's own conditions on `jobs`.
fn write_page_filter(out: &mut impl StatementSink, r: &Request) {
    out.sql("project_id = ");
    out.text(r.project);
    if let Some(status) = r.status {
        out.sql(" AND status = ");
        out.text(status);
    }
    if let Some(graph) = r.graph {
        out.sql(" AND graph_name = ");
        out.text(graph);
    }
    if let Some(start) = r.start {
        out.sql(" AND begin_time >= ");
        out.time(start_of_day(start));
    }
    if let Some(end) = r.end {
        // A job that ended by the end day began by then too.
        out.sql(" AND end_time < ");
        out.time(end_of_day(end));
        out.sql(" AND begin_time < ");
        out.time(end_of_day(end));
    }
}

/// Order, limit and offset of the page. The inner limit is the largest page, a constant,
/// so that the statement's generic plan reads the index in list order whatever the
/// limit; the outer one is the request's.
fn write_page_end(out: &mut impl StatementSink, r: &Request, skipped: &str) {
    out.sql(&format!(
        " ORDER BY begin_time DESC, id DESC LIMIT {MAX_LIMIT} OFFSET "
    ));
    out.int(r.offset);
    out.sql(skipped);
    out.sql(") AS j0 LIMIT ");
    out.int(r.limit);
    out.sql(") AS j) AS page ON true");
}

/// The first day of `day`'s month.
fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

/// The first day of the month after `day`'s.
fn next_month(day: NaiveDate) -> NaiveDate {
    month_of(day) + Months::new(1)
}
