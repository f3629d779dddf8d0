//! The schemas of path and query parameters. Handlers read these by hand (leniently, with
//! the contract's error codes: see `extract::QueryMap`, `domain::query`), so these types only
//! describe them.

#![allow(dead_code)]

use utoipa::{IntoParams, ToSchema};

/// `{project_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectPath {
    /// The project: 1 to 64 ASCII letters and digits; the token must be for this project
    /// (else 403). A malformed id is a 400 `GES.0001`.
    #[param(pattern = "^[A-Za-z0-9]{1,64}$")]
    project_id: String,
}

/// `{graph_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GraphPath {
    /// The graph's id: 32 hex characters (or the dashed UUID form); anything else is an
    /// unknown graph (404).
    graph_id: String,
}

/// `{job_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobPath {
    /// The job's id: 32 hex characters (or the dashed UUID form); anything else is an
    /// unknown job (404).
    job_id: String,
}

/// `{backup_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BackupPath {
    /// The backup's id: 32 hex characters (or the dashed UUID form); anything else is an
    /// unknown backup (404).
    backup_id: String,
}

/// Paging of list answers; a value out of range is a 400 `GES.0001`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items skipped (0 when absent).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Items answered, 1 to 1000 (10 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// The job list's filters (and paging); unknown parameters are ignored.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListParams {
    /// Jobs of this status (`waiting` and `pending` both mean pending jobs).
    #[param(inline)]
    status: Option<StatusFilter>,
    /// Jobs of the graph of this name.
    graph_name: Option<String>,
    /// Jobs that began on or after 00:00:00 UTC of this day (`yyyy-MM-dd`).
    #[param(format = Date)]
    start_time: Option<String>,
    /// Jobs that ended on or before 23:59:59 UTC of this day (`yyyy-MM-dd`); unfinished
    /// jobs are left out. Must not be before `start_time`.
    #[param(format = Date)]
    end_time: Option<String>,
    /// Jobs skipped (0 when absent).
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Jobs answered, 1 to 1000 (10 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// The values of the job list's `status` filter.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum StatusFilter {
    Waiting,
    Pending,
    Running,
    Success,
    PartiallyFailed,
    Failed,
}

/// Options of a graph deletion.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteGraphParams {
    /// Keep the graph's backups (false when absent).
    keep_backup: Option<bool>,
    /// Accepted for compatibility; there is no EIP here.
    delete_eip: Option<bool>,
}

/// Options of `clear-graph`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearGraphParams {
    /// Also clear the graph's metadata (false when absent).
    clear_metadata: Option<bool>,
}
