//! Plan checks for the fold's statements (`store::counts`): each may read
//! `job_count_deltas` once and no more. The table turns over every fold, so its row
//! estimate is often wrong (a vacuum that finds it nearly empty records about no rows over
//! its pages, however far it grows after). A statement that reads the deltas twice can be
//! planned as a nested loop of one read over the other, quadratic in the deltas (100,000
//! of them ran for minutes); a statement that reads them once stays linear whatever the
//! estimate.

use serde_json::Value;
use sqlx::{AssertSqlSafe, PgConnection};

use super::{PlanCheck, nodes, reads};
use crate::store::StoreError;
use crate::store::counts::SEGMENT_MAX;

/// The fold's statements that read the deltas: name, text, and the value of its one
/// parameter (the dense-segment threshold) if it takes one.
const STATEMENTS: [(&str, &str, Option<i64>); 5] = [
    ("fold totals", include_str!("../sql/fold_totals.sql"), None),
    ("fold months", include_str!("../sql/fold_months.sql"), None),
    ("fold days", include_str!("../sql/fold_days.sql"), None),
    (
        "fold segments",
        include_str!("../sql/fold_segments.sql"),
        None,
    ),
    (
        "fold dense segments",
        include_str!("../sql/fold_dense_segments.sql"),
        Some(SEGMENT_MAX),
    ),
];

/// Explains each fold statement as planned now (on the delta table's current estimate).
pub async fn check_fold_plans(conn: &mut PgConnection) -> Result<Vec<PlanCheck>, StoreError> {
    let mut checks = Vec::new();
    for (name, statement, parameter) in STATEMENTS {
        let explain = format!("EXPLAIN (FORMAT JSON) {statement}");
        let mut query = sqlx::query_scalar(AssertSqlSafe(explain));
        if let Some(value) = parameter {
            query = query.bind(value);
        }
        let plan: Value = query.fetch_one(&mut *conn).await?;
        checks.push(PlanCheck {
            shape: name.to_owned(),
            problem: fold_problem(&plan[0]["Plan"]),
        });
    }
    Ok(checks)
}

/// What is wrong with a fold statement's plan: it reads the deltas more than once.
fn fold_problem(plan: &Value) -> Option<String> {
    let scans = nodes(plan)
        .into_iter()
        .filter(|n| reads(n, "job_count_deltas"))
        .count();
    (scans > 1).then(|| {
        format!("reads job_count_deltas {scans} times (once is linear whatever the estimate)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_second_read_of_the_deltas_is_a_problem() {
        let once = json!({"Node Type": "ModifyTable", "Plans": [{"Node Type": "Nested Loop", "Plans": [
            {"Node Type": "CTE Scan"},
            {"Node Type": "Seq Scan", "Relation Name": "job_count_deltas"}]}]});
        assert_eq!(fold_problem(&once), None);
        let twice = json!({"Node Type": "ModifyTable", "Plans": [
            {"Node Type": "Index Scan", "Relation Name": "job_count_deltas", "Parent Relationship": "InitPlan"},
            {"Node Type": "Nested Loop", "Plans": [
                {"Node Type": "CTE Scan"},
                {"Node Type": "Seq Scan", "Relation Name": "job_count_deltas"}]}]});
        assert!(fold_problem(&twice).unwrap().contains("2 times"));
    }
}
