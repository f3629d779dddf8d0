//! The graph operations, one path each. They are served by one handler
//! (`graph_ops::graph_action`, `POST /v2/{project_id}/graphs/{graph_id}/{action}`), so
//! these functions only carry the documentation of each action; an unknown action is a 404
//! `APIG.0101`. Every operation needs an `operator` token, answers at once with the job
//! that runs it, and is accepted only from the graph states the operation allows.

#![allow(dead_code)]

use super::bodies::{
    ExpandGraphRequest, ExportGraphRequest, ImportGraphRequest, ResizeGraphRequest,
    StartGraphRequest, UpgradeGraphRequest,
};
use super::errors as err;
use super::params::{ClearGraphParams, GraphPath, ProjectPath};
use crate::http::error::ErrorBody;
use crate::http::graph_view::JobAccepted;

/// Declares the documentation of one action: its name, summary, and extra `utoipa::path`
/// arguments (parameters, request body).
macro_rules! action {
    ($fn:ident, $path:literal, $summary:literal $(, params($($param:path),*))? $(, request_body = $body:ty)?) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "graph operations",
            summary = $summary,
            params(ProjectPath, GraphPath $($(, $param)*)?),
            $(request_body = $body,)?
            responses(
                (status = 200, description = "The operation's job is queued.", body = JobAccepted),
                (status = 400, description = err::BAD_OPERATION, body = ErrorBody),
                (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
                (status = 409, description = err::GRAPH_REFUSED, body = ErrorBody),
            )
        )]
        pub fn $fn() {}
    };
}

action!(
    stop,
    "/v2/{project_id}/graphs/{graph_id}/stop",
    "Stop a running graph"
);
action!(
    start,
    "/v2/{project_id}/graphs/{graph_id}/start",
    "Start a stopped graph, optionally from one of its backups (the body may be absent)",
    request_body = Option<StartGraphRequest>
);
action!(
    restart,
    "/v2/{project_id}/graphs/{graph_id}/restart",
    "Restart a graph (supersedes the operation in flight)"
);
action!(
    clear_graph,
    "/v2/{project_id}/graphs/{graph_id}/clear-graph",
    "Remove the graph's data (and, optionally, its metadata)",
    params(ClearGraphParams)
);
action!(
    upgrade,
    "/v2/{project_id}/graphs/{graph_id}/upgrade",
    "Upgrade the graph to a greater version",
    request_body = UpgradeGraphRequest
);
action!(
    resize,
    "/v2/{project_id}/graphs/{graph_id}/resize",
    "Change the graph's size",
    request_body = ResizeGraphRequest
);
action!(
    expand,
    "/v2/{project_id}/graphs/{graph_id}/expand",
    "Change the graph's replication",
    request_body = ExpandGraphRequest
);
action!(
    import_graph,
    "/v2/{project_id}/graphs/{graph_id}/import-graph",
    "Import schema, vertex and edge files from storage",
    request_body = ImportGraphRequest
);
action!(
    export_graph,
    "/v2/{project_id}/graphs/{graph_id}/export-graph",
    "Export the graph's data to storage",
    request_body = ExportGraphRequest
);
action!(
    backup,
    "/v2/{project_id}/graphs/{graph_id}/backups",
    "Back the graph up (the backup is listed while it runs)"
);
