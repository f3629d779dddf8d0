//! Descriptions of the error answers, shared by the routes' `#[utoipa::path]` annotations.
//! Every error answer has the body `ErrorBody` (`{"error_code", "error_msg"}`); the answers
//! every authenticated route can give (401, 403, 500, 503) are added by
//! [`super::CommonErrors`].

/// 400 of a route whose only input is its path and paging.
pub const BAD_PARAMETER: &str = "`GES.0001`: a parameter breaks its rule (`project_id`, \
    `offset`, `limit`, or another query parameter).";
/// 400 of the job list.
pub const BAD_JOB_QUERY: &str = "`GES.0001`: a parameter breaks its rule (`project_id`, \
    `offset`, `limit`, `status`, `start_time`, `end_time`).";
/// 400 of graph creation.
pub const BAD_CREATE: &str = "`GES.0001`: a field breaks its rule (type, \
    `graph_size_type_index` 0..100, `replication` 1..10, `project_id`); `GES.7012`: the \
    graph name breaks the naming rule; `GES.7016`: the body is not a JSON object; \
    `GES.7049`: a required field is missing.";
/// 400 of a graph operation.
pub const BAD_OPERATION: &str = "`GES.0001`: a field or parameter breaks its rule; \
    `GES.7016`: the body is not a JSON object; `GES.7049`: a required field is missing; \
    `GES.7011`: a path is not a valid object path; `GES.7017` (import): a file does not \
    exist.";
/// 400 of the producer API and of cancel/retry.
pub const BAD_PRODUCER: &str = "`GES.0001`: the body or a parameter breaks its rule \
    (unknown fields are refused).";
/// 404: the graph.
pub const GRAPH_NOT_FOUND: &str = "`GES.7000`: the graph does not exist (in this project).";
/// 404: the graph or the backup.
pub const BACKUP_NOT_FOUND: &str = "`GES.7000`: the graph or the backup does not exist.";
/// 404: the job.
pub const JOB_NOT_FOUND: &str = "`GES.7007`: the job does not exist (in this project).";
/// 404 of retry.
pub const RETRY_NOT_FOUND: &str = "`GES.7007`: the job does not exist (in this project); \
    `GES.7000`: the graph of a graph operation no longer exists.";
/// 409: the graph's state refuses an operation.
pub const GRAPH_REFUSED: &str = "The graph's state refuses the operation: `GES.7001` not \
    running or another operation in progress; `GES.7002` a backup is running; `GES.7003` \
    stopping or stopped; `GES.7036` (upgrade) the version is not greater; `GES.7037` \
    (start) not stopped; `GES.7042` being created; `GES.7054` being deleted.";
/// 409 of graph creation.
pub const NAME_TAKEN: &str = "`GES.7013`: a graph of that name already exists.";
/// 409 of backup deletion.
pub const BACKUP_RUNNING: &str = "`GES.7002`: the backup is still running.";
/// 409 of heartbeat and complete.
pub const STALE_LEASE: &str = "`GES.7009`: the lease is not held (it expired, was taken \
    over, or the job has ended).";
/// 409 of cancel.
pub const CANCEL_ENDED: &str = "`GES.7010`: the job has already ended.";
/// 409 of retry.
pub const RETRY_REFUSED: &str = "`GES.7010`: only a failed job can be retried, once; or a \
    graph operation's state refuses it (the graph operation codes, see the graph \
    operations).";

/// 401 of every authenticated route.
pub const UNAUTHENTICATED: &str = "`APIG.0301`: the `X-Auth-Token` header is missing, or \
    the token is invalid or expired.";
/// 403 of every authenticated route.
pub const FORBIDDEN: &str = "`GES.7041`: the token is for another project, or has no role \
    that allows this (read: `readonly` or `operator`; graph operations, cancel, retry: \
    `operator`; `/internal/v1`: `producer`).";
/// 500 of every route.
pub const INTERNAL: &str = "`GES.9999`: internal error (the cause is logged, not answered).";
/// 503 of every route that uses the database.
pub const UNAVAILABLE: &str = "`GES.7005`: the database is unavailable; retry later.";
