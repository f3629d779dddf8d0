//! Operations on one graph: each answers `{"job_id"}` at once and runs on a worker. Every
//! operation needs an `operator` token and is accepted only from the graph states it
//! allows ([`crate::service::graphs::submit`]). One handler per operation, declared with
//! [`operation!`], each reading its own body type.

use actix_web::{HttpResponse, post, web};
use sqlx::PgPool;
use uuid::Uuid;

use super::common::{accepted, graph_id};
use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, JsonBody, Operator, Query};
use super::graph_view::JobAccepted;
use super::openapi::errors as err;
use super::requests::graphs::{EmptyBody, ExpandBody, ResizeBody, StartBody, UpgradeBody};
use super::requests::params::{ClearGraphParams, GraphPath, ProjectPath};
use super::requests::transfer::{ExportBackupBody, ExportBody, ImportBackupBody, ImportBody};
use crate::domain::{ExportRequest, ImportRequest, Operation, ParamError};
use crate::metrics::Metrics;
use crate::service::graphs;
use crate::storage::Storage;

/// What every operation handler extracts besides its own input.
struct Call {
    auth: Authorized<Operator>,
    graph: String,
    pool: web::Data<PgPool>,
    storage: web::Data<Storage>,
    metrics: web::Data<Metrics>,
}

impl Call {
    /// Submits `op` and answers its job.
    async fn submit(self, op: Result<Operation, ParamError>) -> Result<HttpResponse, ApiError> {
        let graph = graph_id(&self.graph)?;
        let op = op?;
        let name = op.job_name();
        let who = self.auth.origin();
        let job = graphs::submit(
            &self.pool,
            &self.storage,
            &self.auth.project,
            graph,
            op,
            &who,
            None,
        )
        .await?;
        Ok(accepted(&self.metrics, name, job))
    }
}

/// Declares one operation's handler: its name, path, summary, the extra `utoipa::path`
/// parameters and body, its input extractor, and how the input makes the operation.
macro_rules! operation {
    ($fn:ident, $path:literal, $summary:literal, params($($param:ty),*),
     body = $body:ty, input: $input:ty, |$arg:ident| $make:expr) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "graph operations",
            summary = $summary,
            params(ProjectPath, GraphPath $(, $param)*),
            request_body = $body,
            responses(
                (status = 200, description = "The operation's job is queued.", body = JobAccepted),
                (status = 400, description = err::BAD_OPERATION, body = ErrorBody),
                (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
                (status = 409, description = err::GRAPH_REFUSED, body = ErrorBody),
                (status = 503, description = err::OPERATION_UNAVAILABLE, body = ErrorBody),
            )
        )]
        #[post($path)]
        pub async fn $fn(
            auth: Authorized<Operator>,
            path: web::Path<GraphPath>,
            $arg: $input,
            pool: web::Data<PgPool>,
            storage: web::Data<Storage>,
            metrics: web::Data<Metrics>,
        ) -> Result<HttpResponse, ApiError> {
            let graph = path.into_inner().graph_id;
            let op: Result<Operation, ParamError> = $make;
            Call { auth, graph, pool, storage, metrics }.submit(op).await
        }
    };
}

operation!(stop, "/v2/{project_id}/graphs/{graph_id}/stop", "Stop a running graph",
    params(), body = Option<EmptyBody>, input: JsonBody<EmptyBody>, |_body| Ok(Operation::Stop));

operation!(start, "/v2/{project_id}/graphs/{graph_id}/start",
    "Start a stopped graph, optionally from one of its backups (the body may be absent)",
    params(), body = Option<StartBody>, input: JsonBody<StartBody>,
    |body| body.0.backup().map(|backup_id| Operation::Start { backup_id }));

operation!(restart, "/v2/{project_id}/graphs/{graph_id}/restart",
    "Restart a graph (supersedes the operation in flight)",
    params(), body = Option<EmptyBody>, input: JsonBody<EmptyBody>, |_body| Ok(Operation::Restart));

operation!(clear_graph, "/v2/{project_id}/graphs/{graph_id}/clear-graph",
    "Remove the graph's data (and, optionally, its metadata)",
    params(ClearGraphParams), body = Option<EmptyBody>,
    input: (Query<ClearGraphParams>, JsonBody<EmptyBody>),
    |input| Ok(Operation::Clear { clear_metadata: input.0.0.clear_metadata.unwrap_or(false) }));

operation!(upgrade, "/v2/{project_id}/graphs/{graph_id}/upgrade",
    "Upgrade the graph to a greater version",
    params(), body = UpgradeBody, input: JsonBody<UpgradeBody>,
    |body| body.0.upgrade_version
        .ok_or_else(|| ParamError::missing("upgrade_version"))
        .map(|version| Operation::Upgrade { version }));

operation!(resize, "/v2/{project_id}/graphs/{graph_id}/resize", "Change the graph's size",
    params(), body = ResizeBody, input: JsonBody<ResizeBody>,
    |body| body.0.size().map(|graph_size_type_index| Operation::Resize { graph_size_type_index }));

operation!(expand, "/v2/{project_id}/graphs/{graph_id}/expand", "Change the graph's replication",
    params(), body = ExpandBody, input: JsonBody<ExpandBody>,
    |body| body.0.replication().map(|replication| Operation::Expand { replication }));

operation!(import_graph, "/v2/{project_id}/graphs/{graph_id}/import-graph",
    "Import schema, vertex and edge files from storage",
    params(), body = ImportBody, input: JsonBody<ImportBody>,
    |body| ImportRequest::try_from(body.0).map(|request| Operation::Import { request }));

operation!(export_graph, "/v2/{project_id}/graphs/{graph_id}/export-graph",
    "Export the graph's data to storage",
    params(), body = ExportBody, input: JsonBody<ExportBody>,
    |body| ExportRequest::try_from(body.0).map(|request| Operation::Export { request }));

operation!(backup, "/v2/{project_id}/graphs/{graph_id}/backups",
    "Back the graph up (the backup is listed while it runs)",
    params(), body = Option<EmptyBody>, input: JsonBody<EmptyBody>,
    |_body| Ok(Operation::Backup { backup_id: Uuid::now_v7() }));

operation!(export_backup, "/v2/{project_id}/graphs/{graph_id}/backups/export",
    "Write a successful backup of the graph to storage (`ExportBackup`)",
    params(), body = ExportBackupBody, input: JsonBody<ExportBackupBody>,
    |body| body.0.parts().map(|(backup_id, export_path)| Operation::ExportBackup { backup_id, export_path }));

operation!(import_backup, "/v2/{project_id}/graphs/{graph_id}/backups/import",
"Make a backup of the graph from files an export of a backup wrote (`ImportBackup`)",
params(), body = ImportBackupBody, input: JsonBody<ImportBackupBody>,
|body| body.0.path().map(|import_path| Operation::ImportBackup {
    backup_id: Uuid::now_v7(),
    import_path,
}));
