//! Operations on one graph: each answers `{"job_id"}` at once and runs on a worker.

use super::request_id::RequestIdentity;
use actix_web::{HttpResponse, post, web};
use serde_json::{Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::body;
use super::error::ApiError;
use super::extract::QueryMap;
use super::graph_view::JobAccepted;
use super::graphs::{authorize, graph_id, query_bool, requester};
use crate::auth::{Action, Caller};
use crate::domain::graph::Operation;
use crate::metrics::Metrics;
use crate::ops;
use crate::storage::{ObjectPath, Storage, StorageError};

/// `POST /v2/{project_id}/graphs/{graph_id}/{action}`; each action is documented as its
/// own path in `openapi::actions`.
#[post("/v2/{project_id}/graphs/{graph_id}/{action}")]
#[allow(clippy::too_many_arguments)] // each one is an extractor
pub async fn graph_action(
    caller: Caller,
    request_id: RequestIdentity,
    path: web::Path<(String, String, String)>,
    query: QueryMap,
    bytes: web::Bytes,
    pool: web::Data<PgPool>,
    storage: web::Data<Storage>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let (project, graph, action) = path.into_inner();
    let project = authorize(&caller, &project, Action::Operate)?;
    let graph = graph_id(&graph)?;
    let request = body::object(&bytes, true)?;
    let op = operation(&action, &request, &query)?;
    if let Operation::Import { request } = &op {
        check_files_exist(&storage, request).await?;
    }
    let job_name = op.job_name();
    let job = ops::submit(&pool, &project, graph, op, &requester(&caller, &request_id)).await?;
    metrics.job_accepted(job_name);
    Ok(HttpResponse::Ok().json(JobAccepted {
        job_id: job.to_string(),
    }))
}

/// The operation an action path and body ask for.
fn operation(
    action: &str,
    request: &Map<String, Value>,
    query: &QueryMap,
) -> Result<Operation, ApiError> {
    Ok(match action {
        "stop" => Operation::Stop,
        "restart" => Operation::Restart,
        "start" => {
            let backup = body::opt_str(request, "graph_backup_id")?
                .map(|raw| {
                    Uuid::try_parse(raw).map_err(|_| {
                        ApiError::bad_parameter(
                            "invalid parameter graph_backup_id: not a backup id",
                        )
                    })
                })
                .transpose()?;
            Operation::Start { backup_id: backup }
        }
        "clear-graph" => Operation::Clear {
            clear_metadata: query_bool(&query.0, "clear_metadata")?,
        },
        "upgrade" => {
            body::opt_bool(request, "force_upgrade")?;
            Operation::Upgrade {
                version: body::req_str(request, "upgrade_version")?.to_owned(),
            }
        }
        "resize" => {
            let resize = body::required_object(request, "resize")?;
            let size = body::opt_int(resize, "graph_size_type_index")?
                .ok_or_else(|| body::missing("resize.graph_size_type_index"))?;
            let size = i32::try_from(size).ok().filter(|s| (0..=100).contains(s));
            Operation::Resize {
                graph_size_type_index: size.ok_or_else(|| {
                    ApiError::bad_parameter(
                        "invalid parameter graph_size_type_index: must be 0..100",
                    )
                })?,
            }
        }
        "expand" => {
            let expand = body::required_object(request, "expand")?;
            let replication = body::opt_int(expand, "replication")?
                .ok_or_else(|| body::missing("expand.replication"))?;
            let replication = i32::try_from(replication)
                .ok()
                .filter(|r| (1..=10).contains(r));
            Operation::Expand {
                replication: replication.ok_or_else(|| {
                    ApiError::bad_parameter("invalid parameter replication: must be 1..10")
                })?,
            }
        }
        "import-graph" => Operation::Import {
            request: Value::Object(import_request(request)?),
        },
        "export-graph" => {
            for field in [
                "graph_export_path",
                "edge_set_name",
                "vertex_set_name",
                "schema_name",
            ] {
                check_path(field, body::req_str(request, field)?)?;
            }
            Operation::Export {
                request: Value::Object(request.clone()),
            }
        }
        "backups" => Operation::Backup {
            backup_id: Uuid::now_v7(),
        },
        _ => return Err(ApiError::no_route()),
    })
}

/// Checks an import body: at least one path, known formats and options, safe paths.
fn import_request(request: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let paths = ["schema_path", "vertexset_path", "edgeset_path"];
    let mut any = false;
    for field in paths {
        if let Some(path) = body::opt_str(request, field)? {
            check_path(field, path)?;
            any = true;
        }
    }
    if !any {
        return Err(body::missing(
            "one of schema_path, vertexset_path, edgeset_path",
        ));
    }
    if let Some(dir) = body::opt_str(request, "log_dir")? {
        check_path("log_dir", dir)?;
    }
    for field in ["vertexset_format", "edgeset_format"] {
        if body::opt_str(request, field)?.is_some_and(|f| f != "csv") {
            return Err(ApiError::bad_parameter(format!(
                "invalid parameter {field}: only csv is supported"
            )));
        }
    }
    for field in ["delimiter", "trim_quote"] {
        if body::opt_str(request, field)?.is_some_and(|d| d.chars().count() != 1) {
            return Err(ApiError::bad_parameter(format!(
                "invalid parameter {field}: must be one character"
            )));
        }
    }
    body::opt_bool(request, "offline")?;
    if let Some(parallel) = request.get("parallel_edge").filter(|v| !v.is_null()) {
        let action = parallel
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("allow");
        if !["allow", "ignore", "override"].contains(&action) {
            return Err(ApiError::bad_parameter(
                "invalid parameter parallel_edge.action: allow, ignore or override",
            ));
        }
    }
    Ok(request.clone())
}

/// Every path of an import names something in storage (checked before the job exists).
async fn check_files_exist(storage: &Storage, request: &Value) -> Result<(), ApiError> {
    for field in ["schema_path", "vertexset_path", "edgeset_path"] {
        let Some(raw) = request.get(field).and_then(Value::as_str) else {
            continue;
        };
        let found = match ObjectPath::parse(raw) {
            Ok(path) => storage.resolve(&path).await,
            Err(err) => Err(err),
        };
        match found {
            Ok(_) => {}
            Err(StorageError::NotFound(_)) => {
                return Err(ApiError::bad_request(
                    "GES.7017",
                    format!("{field}: {raw} does not exist"),
                ));
            }
            Err(StorageError::BadPath(_)) => {
                return Err(ApiError::bad_request(
                    "GES.7011",
                    format!("{field} is not a valid object path"),
                ));
            }
            Err(other) => return Err(ApiError::internal(&other)),
        }
    }
    Ok(())
}

/// Object paths: letters, digits and `_ ! - . * ' ( ) /`; never leaving the storage area.
fn check_path(field: &str, path: &str) -> Result<(), ApiError> {
    ObjectPath::parse(path).map(drop).map_err(|_| {
        ApiError::bad_request("GES.7011", format!("{field} is not a valid object path"))
    })
}
