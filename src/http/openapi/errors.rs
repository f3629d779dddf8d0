//! Descriptions of the error answers, shared by the routes' `#[utoipa::path]` annotations.
//! Every error answer has the body `ErrorBody` (`{"error_code", "error_msg"}`); the answers
//! every authenticated route can give (401, 403, 500, 503) are added by
//! [`super::CommonErrors`]. Codes are spelled by the code table ([`code!`]).

use crate::domain::code::code;

/// 400 of a route whose only input is its path and paging.
pub const BAD_PARAMETER: &str = concat!(
    "`",
    code!(BadParameter),
    "`: a parameter breaks its rule \
    (`project_id`, `offset`, `limit`, or another query parameter)."
);
/// 400 of the job list.
pub const BAD_JOB_QUERY: &str = concat!(
    "`",
    code!(BadParameter),
    "`: a parameter breaks its rule \
    (`project_id`, `offset`, `limit`, `status`, `start_time`, `end_time`)."
);
/// 400 of graph creation.
pub const BAD_CREATE: &str = concat!(
    "`",
    code!(BadParameter),
    "`: a field breaks its rule (type, \
    `graph_size_type_index` 0..100, `replication` 1..10, `project_id`); `",
    code!(BadGraphName),
    "`: the graph name breaks the naming rule; `",
    code!(NotJson),
    "`: the body is not a JSON \
    object; `",
    code!(MissingField),
    "`: a required field is missing."
);
/// 400 of a graph operation.
pub const BAD_OPERATION: &str = concat!(
    "`",
    code!(BadParameter),
    "`: a field or parameter breaks \
    its rule (naming it); `",
    code!(NotJson),
    "`: the body is not a JSON object; `",
    code!(MissingField),
    "`: a required field is missing; `",
    code!(BadObjectPath),
    "`: a path \
    is not a valid object path; `",
    code!(ObjectNotFound),
    "`: a file to import does not exist, or (S3) the bucket of a path read or written."
);
/// 503 of a graph operation.
pub const OPERATION_UNAVAILABLE: &str = concat!(
    "`",
    code!(Unavailable),
    "`: the database or the object \
    storage is unavailable, or the object storage refused the service's credentials \
    (naming the field); retry later."
);
/// 400 of the producer API and of cancel/retry.
pub const BAD_PRODUCER: &str = concat!(
    "`",
    code!(BadParameter),
    "`: the body or a parameter \
    breaks its rule (unknown fields are refused)."
);
/// 404: the graph.
pub const GRAPH_NOT_FOUND: &str = concat!(
    "`",
    code!(GraphNotFound),
    "`: the graph does not \
    exist (in this project)."
);
/// 404: the graph or the backup.
pub const BACKUP_NOT_FOUND: &str = concat!(
    "`",
    code!(GraphNotFound),
    "`: the graph or the \
    backup does not exist."
);
/// 404: the job.
pub const JOB_NOT_FOUND: &str = concat!(
    "`",
    code!(JobNotFound),
    "`: the job does not exist \
    (in this project)."
);
/// 404 of retry.
pub const RETRY_NOT_FOUND: &str = concat!(
    "`",
    code!(JobNotFound),
    "`: the job does not exist \
    (in this project); `",
    code!(GraphNotFound),
    "`: the graph of a graph operation no longer \
    exists."
);
/// 409: the graph's state refuses an operation.
pub const GRAPH_REFUSED: &str = concat!(
    "The graph's state refuses the operation: `",
    code!(GraphNotRunning),
    "` not running or another operation in progress; `",
    code!(BackupRunning),
    "` a backup is running; `",
    code!(GraphStopped),
    "` stopping or \
    stopped; `",
    code!(VersionNotGreater),
    "` (upgrade) the version is not greater; `",
    code!(GraphNotStopped),
    "` (start) not stopped; `",
    code!(GraphBeingCreated),
    "` being \
    created; `",
    code!(GraphBeingDeleted),
    "` being deleted."
);
/// 409 of graph creation.
pub const NAME_TAKEN: &str = concat!(
    "`",
    code!(GraphNameTaken),
    "`: a graph of that name \
    already exists."
);
/// 409 of backup deletion.
pub const BACKUP_RUNNING: &str = concat!(
    "`",
    code!(BackupRunning),
    "`: the backup is still \
    running."
);
/// 409 of heartbeat and complete.
pub const STALE_LEASE: &str = concat!(
    "`",
    code!(LeaseNotHeld),
    "`: the lease is not held (it \
    expired, was taken over, or the job has ended)."
);
/// 409 of cancel.
pub const CANCEL_ENDED: &str = concat!(
    "`",
    code!(JobStateConflict),
    "`: the job has already \
    ended."
);
/// 409 of retry.
pub const RETRY_REFUSED: &str = concat!(
    "`",
    code!(JobStateConflict),
    "`: only a failed job can \
    be retried, once; or a graph operation's state refuses it (the graph operation codes, see \
    the graph operations)."
);

/// 401 of every authenticated route.
pub const UNAUTHENTICATED: &str = concat!(
    "`",
    code!(Unauthenticated),
    "`: the `X-Auth-Token` \
    header is missing, or the token is invalid or expired."
);
/// 403 of every authenticated route.
pub const FORBIDDEN: &str = concat!(
    "`",
    code!(Forbidden),
    "`: the token is for another \
    project, or has no role that allows this (read: `readonly` or `operator`; graph \
    operations, cancel, retry: `operator`; `/internal/v1`: `producer`)."
);
/// 413 of every route that reads a body.
pub const TOO_LARGE: &str = concat!(
    "`",
    code!(BodyTooLarge),
    "`: the body is larger than 256 KiB."
);
/// 500 of every route.
pub const INTERNAL: &str = concat!(
    "`",
    code!(Internal),
    "`: internal error (the cause is \
    logged, not answered)."
);
/// 503 of every route that uses the database.
pub const UNAVAILABLE: &str = concat!(
    "`",
    code!(Unavailable),
    "`: the database is unavailable; \
    retry later."
);
/// 404 of a file's reject log.
pub const LOG_NOT_FOUND: &str = concat!(
    "`",
    code!(JobNotFound),
    "`: the job does not exist (in this project); `",
    code!(LogNotFound),
    "`: the job has no such file, the file has no reject log, or the log object is not \
    written yet or was deleted."
);
/// 429 of the job events.
pub const TOO_MANY_STREAMS: &str = concat!(
    "`",
    code!(TooManyStreams),
    "`: the token holds `events.max_streams_per_token` streams already."
);
