//! Graphs: create, list, show, delete.

use std::collections::HashMap;

use super::request_id::RequestIdentity;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::Utc;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::body;
use super::error::{ApiError, ErrorBody};
use super::extract::QueryMap;
use super::graph_view::{GraphCreated, GraphDetailView, GraphListView, JobAccepted, graph_json};
use super::openapi::bodies::CreateGraphRequest;
use super::openapi::errors as err;
use super::openapi::params::{DeleteGraphParams, GraphPath, PageParams, ProjectPath};
use crate::auth::{Action, Caller};
use crate::domain::graph::{GraphName, Operation};
use crate::domain::{Page, ProjectId};
use crate::metrics::Metrics;
use crate::ops::{self, Requester};
use crate::store::{self, StoreError, graphs::Graph};

/// The version new graphs get.
pub const DEFAULT_VERSION: &str = "2.3.18";
/// Fields of the create body that mean something here; the rest is echoed back.
const KNOWN_FIELDS: [&str; 8] = [
    "name",
    "graph_size_type_index",
    "replication",
    "arch",
    "vpc_id",
    "subnet_id",
    "security_group_id",
    "tags",
];

/// Parses the project and checks the caller may do `action` in it.
pub fn authorize(caller: &Caller, project: &str, action: Action) -> Result<ProjectId, ApiError> {
    let project = ProjectId::parse(project)?;
    caller.authorize(&project, action)?;
    Ok(project)
}

/// A graph id from the path; anything unparsable is an unknown graph.
pub fn graph_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(raw).map_err(|_| ApiError::graph_not_found())
}

/// Who asked, for the job's record.
pub fn requester(caller: &Caller, request_id: &RequestIdentity) -> Requester {
    Requester {
        subject: caller.subject.clone(),
        request_id: Some(request_id.0.clone()),
    }
}

/// `POST /v2/{project_id}/graphs`
#[utoipa::path(
    post,
    path = "/v2/{project_id}/graphs",
    tag = "graphs",
    summary = "Create a graph",
    description = "Records the graph and runs its `CreateGraph` job. Needs an `operator` token.",
    params(ProjectPath),
    request_body = CreateGraphRequest,
    responses(
        (status = 200, description = "The graph is recorded and its job queued.", body = GraphCreated),
        (status = 400, description = err::BAD_CREATE, body = ErrorBody),
        (status = 409, description = err::NAME_TAKEN, body = ErrorBody),
    )
)]
#[post("/v2/{project_id}/graphs")]
pub async fn create_graph(
    caller: Caller,
    request_id: RequestIdentity,
    path: web::Path<String>,
    bytes: web::Bytes,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&caller, &path, Action::Operate)?;
    let request = body::object(&bytes, false)?;
    let spec = body::required_object(&request, "graph")?;
    let graph = new_graph(&project, spec, &caller.subject)?;
    let (id, name) = (graph.id, graph.name.clone());
    let job = ops::create_graph(&pool, graph, &requester(&caller, &request_id)).await?;
    metrics.job_accepted(Operation::Create.job_name());
    Ok(HttpResponse::Ok().json(GraphCreated {
        id: id.simple().to_string(),
        name,
        job_id: job.to_string(),
    }))
}

fn new_graph(
    project: &ProjectId,
    spec: &Map<String, Value>,
    creator: &str,
) -> Result<Graph, ApiError> {
    let name = body::req_str(spec, "name")?;
    let name = GraphName::parse(name).ok_or_else(|| {
        ApiError::bad_request(
            "GES.7012",
            "graph.name must start with a letter and hold 4 to 50 letters, digits or _",
        )
    })?;
    let size = body::opt_int(spec, "graph_size_type_index")?
        .ok_or_else(|| body::missing("graph_size_type_index"))?;
    let replication = body::opt_int(spec, "replication")?.unwrap_or(3);
    if !(0..=100).contains(&size) || !(1..=10).contains(&replication) {
        return Err(ApiError::bad_parameter(
            "graph_size_type_index must be 0..100 and replication 1..10",
        ));
    }
    let extra: Map<String, Value> = spec
        .iter()
        .filter(|(k, _)| !KNOWN_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let now = Utc::now();
    Ok(Graph {
        id: Uuid::now_v7(),
        project_id: project.to_string(),
        name: name.as_str().to_owned(),
        status: 0,
        action_progress: 0.0,
        data_store_version: DEFAULT_VERSION.to_owned(),
        graph_size_type_index: size as i32,
        replication: replication as i32,
        arch: body::opt_str(spec, "arch")?.unwrap_or("x86_64").to_owned(),
        vpc_id: body::opt_str(spec, "vpc_id")?.map(str::to_owned),
        subnet_id: body::opt_str(spec, "subnet_id")?.map(str::to_owned),
        security_group_id: body::opt_str(spec, "security_group_id")?.map(str::to_owned),
        tags: spec.get("tags").cloned().unwrap_or_else(|| json!([])),
        extra: Value::Object(extra),
        created: now,
        updated: now,
        created_by: Some(creator.to_owned()),
        active_job_id: None,
    })
}

/// `GET /v2/{project_id}/graphs`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs",
    tag = "graphs",
    summary = "List the project's graphs",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, PageParams),
    responses(
        (status = 200, description = "One page of graphs.", body = GraphListView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs")]
pub async fn list_graphs(
    caller: Caller,
    path: web::Path<String>,
    query: QueryMap,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&caller, &path, Action::Read)?;
    let page = Page::parse(&query.0)?;
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let (total, graphs) =
        store::graphs::list_graphs(&mut conn, &project, page.offset, page.limit).await?;
    let mut list = Vec::with_capacity(graphs.len());
    for graph in &graphs {
        let imports = store::graphs::imported_files(&mut *conn, graph.id).await?;
        list.push(graph_json(graph, &imports));
    }
    Ok(HttpResponse::Ok().json(GraphListView {
        graph_count: total,
        graphs: list,
    }))
}

/// `GET /v2/{project_id}/graphs/{graph_id}`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/{graph_id}",
    tag = "graphs",
    summary = "Show one graph",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, GraphPath),
    responses(
        (status = 200, description = "The graph.", body = GraphDetailView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/{graph_id}")]
pub async fn show_graph(
    caller: Caller,
    path: web::Path<(String, String)>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let (project, graph) = path.into_inner();
    let project = authorize(&caller, &project, Action::Read)?;
    let graph = store::graphs::find_graph(pool.get_ref(), &project, graph_id(&graph)?)
        .await?
        .ok_or_else(ApiError::graph_not_found)?;
    let imports = store::graphs::imported_files(pool.get_ref(), graph.id).await?;
    Ok(HttpResponse::Ok().json(GraphDetailView {
        graph: graph_json(&graph, &imports),
    }))
}

/// `DELETE /v2/{project_id}/graphs/{graph_id}?keep_backup&delete_eip`
#[utoipa::path(
    delete,
    path = "/v2/{project_id}/graphs/{graph_id}",
    tag = "graphs",
    summary = "Delete a graph",
    description = "Runs a `DeleteGraph` job, which supersedes the operation in flight. Needs an `operator` token.",
    params(ProjectPath, GraphPath, DeleteGraphParams),
    responses(
        (status = 200, description = "The `DeleteGraph` job is queued.", body = JobAccepted),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::GRAPH_REFUSED, body = ErrorBody),
    )
)]
#[delete("/v2/{project_id}/graphs/{graph_id}")]
pub async fn delete_graph(
    caller: Caller,
    request_id: RequestIdentity,
    path: web::Path<(String, String)>,
    query: QueryMap,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let (project, graph) = path.into_inner();
    let project = authorize(&caller, &project, Action::Operate)?;
    let keep_backup = query_bool(&query.0, "keep_backup")?;
    let op = Operation::Delete { keep_backup };
    let job_name = op.job_name();
    let job = ops::submit(
        &pool,
        &project,
        graph_id(&graph)?,
        op,
        &requester(&caller, &request_id),
    )
    .await?;
    metrics.job_accepted(job_name);
    Ok(HttpResponse::Ok().json(JobAccepted {
        job_id: job.to_string(),
    }))
}

/// A boolean query parameter, false when absent.
pub fn query_bool(query: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    query
        .get(name)
        .map_or(Ok(false), |raw| body::parse_bool(name, raw))
}
