//! Plan checks: `EXPLAIN` of every statement shape the list API can produce, as a custom
//! plan (the parameters' values known) and as the generic plan a prepared statement
//! switches to after a few executions (the trap where a partial index on a status cannot
//! serve `status = $1`); of the job status and the claim; and of the fold ([`fold`]).
//!
//! Partitions (the history's months) count as their table, and their indexes as the
//! table's. A shape fails when its plan reads `jobs`, `job_files` or the month, day and
//! segment counts sequentially (a month of a few pages aside), or sorts jobs rows (the
//! page must come off an index in list order, so nothing sorts more rows than the page).
//! `job_counts_total` (a row per project, graph and status) and `job_count_deltas` (what
//! the fold has not moved yet) may be read sequentially while they are a few pages: the
//! planner's choice on a small store.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::{Arguments, AssertSqlSafe, Execute, PgConnection, Postgres, QueryBuilder};

use super::StoreError;
use super::list::list_query;
use crate::domain::{JobFilter, JobQuery, JobStatus, Page, ProjectId};

mod fold;

pub use fold::check_fold_plans;

/// The verdict on one statement shape in one plan mode.
#[derive(Debug, Clone)]
pub struct PlanCheck {
    /// The filters, offset and plan mode, e.g. `status+graph offset=100000 generic`.
    pub shape: String,
    /// What is wrong with the plan; `None` when it is fine.
    pub problem: Option<String>,
}

/// Explains every list statement shape for `project` (16 filter combinations, and the
/// date ranges that start on a month's first day, in its middle, or end in the same month;
/// offset 0 and `deep_offset`; custom and generic plans).
pub async fn check_list_plans(
    conn: &mut PgConnection,
    project: &ProjectId,
    deep_offset: i64,
) -> Result<Vec<PlanCheck>, StoreError> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a valid day");
    let end = day(2025, 6, 1);
    let mut filters = Vec::new();
    for mask in 0..16u8 {
        let starts = match mask & 4 {
            0 => vec![None],
            _ => vec![Some(day(2024, 6, 1)), Some(day(2024, 6, 15))],
        };
        for start_day in starts {
            filters.push(JobFilter {
                status: (mask & 1 != 0).then_some(JobStatus::Failed),
                graph_name: (mask & 2 != 0).then(|| "graph_0007".to_owned()),
                start_day,
                end_day: (mask & 8 != 0).then_some(end),
            });
        }
    }
    filters.push(JobFilter {
        start_day: Some(day(2025, 5, 10)),
        end_day: Some(day(2025, 5, 20)),
        ..JobFilter::default()
    });
    let parents = partition_parents(conn).await?;
    let mut checks = Vec::new();
    for filter in filters {
        for offset in [0, deep_offset] {
            let query = JobQuery {
                filter: filter.clone(),
                page: Page { offset, limit: 10 },
            };
            let name = format!("{} offset={offset}", shape_name(&query.filter));
            for generic in [false, true] {
                let mode = if generic { "generic" } else { "custom" };
                let mut plan = explain(conn, list_query(project, &query), generic).await?;
                as_parents(&mut plan, &parents);
                checks.push(PlanCheck {
                    shape: format!("{name} {mode}"),
                    problem: list_problem(&plan),
                });
            }
        }
    }
    Ok(checks)
}

fn shape_name(filter: &JobFilter) -> String {
    let parts = [
        filter.status.map(|_| "status".to_owned()),
        filter.graph_name.as_ref().map(|_| "graph".to_owned()),
        filter.start_day.map(|day| format!("start={day}")),
        filter.end_day.map(|day| format!("end={day}")),
    ];
    let named: Vec<String> = parts.into_iter().flatten().collect();
    if named.is_empty() {
        "no filter".to_owned()
    } else {
        named.join("+")
    }
}

/// The JSON plan of the built statement; the generic plan goes through PREPARE with
/// `plan_cache_mode = force_generic_plan`, as a prepared statement would end up.
async fn explain(
    conn: &mut PgConnection,
    mut builder: QueryBuilder<Postgres>,
    generic: bool,
) -> Result<Value, StoreError> {
    let statement = builder.sql().as_str().to_owned();
    let mut query = builder.build();
    let arguments = query
        .take_arguments()
        .map_err(sqlx::Error::Encode)?
        .unwrap_or_default();
    let plan: Value = if generic {
        explain_generic(conn, &statement, arguments.len()).await?
    } else {
        sqlx::query_scalar_with(
            AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) {statement}")),
            arguments,
        )
        .fetch_one(&mut *conn)
        .await?
    };
    Ok(plan[0]["Plan"].clone())
}

/// The table or index each partition (of a month of the history) belongs to.
async fn partition_parents(conn: &mut PgConnection) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, p.relname::text FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Names every partition and partition index in `plan` by its parent (`jobs_2026_11` as
/// `jobs`), so the checks read a partitioned plan as they read a plain one.
fn as_parents(plan: &mut Value, parents: &HashMap<String, String>) {
    for key in ["Relation Name", "Index Name"] {
        if let Some(parent) = plan[key].as_str().and_then(|name| parents.get(name)) {
            plan[key] = Value::String(parent.clone());
        }
    }
    if let Some(children) = plan["Plans"].as_array_mut() {
        for child in children {
            as_parents(child, parents);
        }
    }
}

/// The generic plan of a statement with `params` parameters. A generic plan does not
/// depend on the arguments: it is explained with NULLs (of the types PREPARE inferred).
/// PostgreSQL 15 shows it after its initial partition pruning, which a NULL bound on
/// `begin_time` (a date filter) takes to every month: such a shape's generic plan shows
/// its count, and its custom plan the months it reads.
async fn explain_generic(
    conn: &mut PgConnection,
    statement: &str,
    params: usize,
) -> Result<Value, StoreError> {
    let nulls = vec!["NULL"; params].join(", ");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE plan_check AS {statement}"
    )))
    .execute(&mut *conn)
    .await?;
    let explained = sqlx::query_scalar(AssertSqlSafe(format!(
        "EXPLAIN (FORMAT JSON) EXECUTE plan_check({nulls})"
    )))
    .fetch_one(&mut *conn)
    .await;
    sqlx::raw_sql("DEALLOCATE plan_check; RESET plan_cache_mode")
        .execute(&mut *conn)
        .await?;
    Ok(explained?)
}

/// The job-status statement as the status reader runs it (a generic plan, see
/// `db::pools`), for one job or a batch: it may not read `jobs` or `job_files`
/// sequentially.
pub async fn check_status_plans(conn: &mut PgConnection) -> Result<Vec<PlanCheck>, StoreError> {
    let statement = include_str!("sql/job_status.sql");
    let mut plan = explain_generic(conn, statement, 5).await?[0]["Plan"].take();
    as_parents(&mut plan, &partition_parents(conn).await?);
    Ok(vec![PlanCheck {
        shape: "job status generic".to_owned(),
        problem: list_problem(&plan),
    }])
}

/// The claim (`store::queue::claim`) of a batch of 16, as a custom plan and as the generic
/// one: the rows it locks must come off `jobs_claimable` in order, stopping after the
/// batch; it must never read every pending job (a bitmap or sequential scan of `jobs`) and
/// sort them.
pub async fn check_claim_plans(conn: &mut PgConnection) -> Result<Vec<PlanCheck>, StoreError> {
    let statement = include_str!("sql/claim.sql");
    let custom: Value =
        sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) {statement}")))
            .bind("plan-check")
            .bind(vec!["GraphManagement", "Noop"])
            .bind(16_i64)
            .bind(30.0_f64)
            .bind(None::<String>)
            .bind(None::<chrono::DateTime<chrono::Utc>>)
            .fetch_one(&mut *conn)
            .await?;
    let generic = explain_generic(conn, statement, 6).await?;
    let parents = partition_parents(conn).await?;
    Ok([("custom", custom), ("generic", generic)]
        .into_iter()
        .map(|(mode, mut plan)| {
            let mut plan = plan[0]["Plan"].take();
            as_parents(&mut plan, &parents);
            PlanCheck {
                shape: format!("claim {mode}"),
                problem: claim_problem(&plan),
            }
        })
        .collect())
}

/// What is wrong with the claim's picker (the rows it locks): every pending job read by a
/// bitmap or sequential scan, or not `jobs_claimable` in order. (The generic plan, which
/// does not know the batch size, may join the batch to `jobs` by a scan on a small table.)
fn claim_problem(plan: &Value) -> Option<String> {
    let all = nodes(plan);
    let picker: Vec<&Value> = all
        .iter()
        .filter(|n| n["Node Type"] == "LockRows")
        .flat_map(|n| nodes(n))
        .collect();
    let whole = picker.iter().find(|n| {
        reads(n, "jobs")
            && !empty(n)
            && matches!(
                n["Node Type"].as_str(),
                Some("Seq Scan" | "Bitmap Heap Scan")
            )
    });
    if let Some(node) = whole {
        return Some(format!(
            "{} of jobs: reads every pending job instead of the batch off jobs_claimable",
            node["Node Type"].as_str().unwrap_or_default()
        ));
    }
    let ordered = picker
        .iter()
        .any(|n| n["Node Type"] == "Index Scan" && n["Index Name"] == "jobs_claimable");
    (!ordered).then(|| "does not read jobs_claimable in its order".to_owned())
}

/// Every node of a plan, depth first.
fn nodes(plan: &Value) -> Vec<&Value> {
    let mut all = vec![plan];
    if let Some(children) = plan["Plans"].as_array() {
        for child in children {
            all.extend(nodes(child));
        }
    }
    all
}

fn reads(node: &Value, relation: &str) -> bool {
    node["Relation Name"].as_str() == Some(relation)
}

/// A scan the planner costs under 10 (a few pages at `seq_page_cost` 1): of a month that
/// is empty or nearly so (made ahead, or just begun), where reading it whole costs what an
/// index probe would.
fn empty(node: &Value) -> bool {
    node["Total Cost"].as_f64().is_some_and(|cost| cost < 10.0)
}

fn list_problem(plan: &Value) -> Option<String> {
    let all = nodes(plan);
    for table in [
        "jobs",
        "job_files",
        "job_counts_month",
        "job_counts_day",
        "job_counts_segment",
    ] {
        if all
            .iter()
            .any(|n| n["Node Type"] == "Seq Scan" && reads(n, table) && !empty(n))
        {
            return Some(format!("sequential scan of {table}"));
        }
    }
    all.iter()
        .filter(|n| n["Node Type"].as_str().is_some_and(|t| t.ends_with("Sort")))
        .any(|sort| nodes(sort).iter().any(|n| reads(n, "jobs")))
        .then(|| "sorts jobs rows (the page is not read in index order)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partitions_are_checked_as_their_table_and_empty_ones_pass() {
        let parents = HashMap::from([
            ("jobs_2026_11".to_owned(), "jobs".to_owned()),
            (
                "jobs_2026_11_claim_idx".to_owned(),
                "jobs_claimable".to_owned(),
            ),
        ]);
        let mut seq = json!({"Node Type": "Append", "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "jobs_2026_11", "Total Cost": 1250.5}]});
        as_parents(&mut seq, &parents);
        assert!(
            list_problem(&seq)
                .unwrap()
                .contains("sequential scan of jobs")
        );
        let empty = json!({"Node Type": "Append", "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "jobs", "Total Cost": 1.23}]});
        assert_eq!(list_problem(&empty), None);
        let mut claim = json!({"Node Type": "LockRows", "Plans": [{"Node Type": "Index Scan",
            "Relation Name": "jobs_2026_11", "Index Name": "jobs_2026_11_claim_idx"}]});
        as_parents(&mut claim, &parents);
        assert_eq!(claim_problem(&claim), None);
    }

    #[test]
    fn a_sequential_scan_or_a_sort_of_jobs_is_a_problem() {
        let seq = json!({"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "jobs"}]});
        assert!(list_problem(&seq).unwrap().contains("sequential"));
        let counts = json!({"Node Type": "Aggregate", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "job_counts_day"}]});
        assert!(list_problem(&counts).unwrap().contains("job_counts_day"));
        let sort = json!({"Node Type": "Limit", "Plans": [{"Node Type": "Sort", "Plans": [
            {"Node Type": "Bitmap Heap Scan", "Relation Name": "jobs"}]}]});
        assert!(list_problem(&sort).unwrap().contains("sorts"));
        let fine = json!({"Node Type": "Nested Loop", "Plans": [
            {"Node Type": "Sort", "Plans": [{"Node Type": "Index Scan", "Relation Name": "job_counts_day"}]},
            {"Node Type": "Limit", "Plans": [{"Node Type": "Index Scan", "Relation Name": "jobs"}]}]});
        assert_eq!(list_problem(&fine), None);
    }
}
