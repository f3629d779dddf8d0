//! Path and query parameters. Query strings are read leniently, with the contract's error
//! codes: numbers come as text and are checked by the domain's parsers
//! (`domain::query`), unknown parameters are ignored.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::lenient;
use crate::domain::{JobQuery, Page, ParamError};

/// `{project_id}` (read by the `Authorized` extractor).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectPath {
    /// The project: 1 to 64 ASCII letters and digits; the token must be for this project
    /// (else 403). A malformed id is a 400 `GES.0001`.
    #[param(pattern = "^[A-Za-z0-9]{1,64}$")]
    pub project_id: String,
}

/// `{graph_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GraphPath {
    /// The graph's id: 32 hex characters (or the dashed UUID form); anything else is an
    /// unknown graph (404).
    pub graph_id: String,
}

/// `{job_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobPath {
    /// The job's id: 32 hex characters (or the dashed UUID form); anything else is an
    /// unknown job (404).
    pub job_id: String,
}

/// `{graph_id}` and `{job_id}`.
#[derive(Debug, Deserialize)]
pub struct GraphJobPath {
    pub graph_id: String,
    pub job_id: String,
}

/// `{graph_id}` and `{backup_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BackupPath {
    /// The graph's id.
    pub graph_id: String,
    /// The backup's id: 32 hex characters (or the dashed UUID form); anything else is an
    /// unknown backup (404).
    pub backup_id: String,
}

/// Paging of list answers; a value out of range is a 400 `GES.0001`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items skipped (0 when absent).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Items answered, 1 to 1000 (10 when absent).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

impl TryFrom<PageParams> for Page {
    type Error = ParamError;

    fn try_from(params: PageParams) -> Result<Self, Self::Error> {
        Page::parse(params.offset.as_deref(), params.limit.as_deref())
    }
}

/// The job list's filters (and paging); unknown parameters are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListParams {
    /// Jobs of this status (`waiting` and `pending` both mean pending jobs).
    #[param(value_type = Option<StatusFilter>, inline)]
    pub status: Option<String>,
    /// Jobs of the graph of this name.
    pub graph_name: Option<String>,
    /// Jobs that began on or after 00:00:00 UTC of this day (`yyyy-MM-dd`).
    #[param(format = Date)]
    pub start_time: Option<String>,
    /// Jobs that ended on or before 23:59:59 UTC of this day (`yyyy-MM-dd`); unfinished
    /// jobs are left out. Must not be before `start_time`.
    #[param(format = Date)]
    pub end_time: Option<String>,
    /// Jobs skipped (0 when absent).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Jobs answered, 1 to 1000 (10 when absent).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

impl TryFrom<JobListParams> for JobQuery {
    type Error = ParamError;

    fn try_from(params: JobListParams) -> Result<Self, Self::Error> {
        JobQuery::parse(|name| {
            match name {
                "status" => &params.status,
                "graph_name" => &params.graph_name,
                "start_time" => &params.start_time,
                "end_time" => &params.end_time,
                "offset" => &params.offset,
                "limit" => &params.limit,
                _ => &None,
            }
            .as_deref()
        })
    }
}

/// The values of the job list's `status` filter.
#[derive(Debug, ToSchema)]
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteGraphParams {
    /// Keep the graph's backups (false when absent).
    #[serde(default, deserialize_with = "lenient::bool")]
    pub keep_backup: Option<bool>,
    /// Accepted for compatibility; there is no EIP here.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub delete_eip: Option<bool>,
}

/// Options of `clear-graph`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearGraphParams {
    /// Also clear the graph's metadata (false when absent).
    #[serde(default, deserialize_with = "lenient::bool")]
    pub clear_metadata: Option<bool>,
}
