//! The schemas of request bodies that handlers read by hand (leniently: an integer may come
//! as a numeric string, unknown fields are ignored or echoed back; see `http::body`).

#![allow(dead_code)]

use std::collections::HashMap;

use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::producer::JobRequest;
use crate::http::producer::BatchRequest;

/// `POST /v2/{project_id}/graphs`.
#[derive(ToSchema)]
pub struct CreateGraphRequest {
    graph: GraphSpec,
}

/// The graph to create. Fields beyond these are kept and echoed back in the graph object.
#[derive(ToSchema)]
pub struct GraphSpec {
    /// Starts with a letter; letters, digits and `_`; 4 to 50 characters (else `GES.7012`).
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_]{3,49}$")]
    name: String,
    /// 0..100 (an integer, or a numeric string).
    #[schema(minimum = 0, maximum = 100)]
    graph_size_type_index: i64,
    /// 1..10 (3 when absent).
    #[schema(minimum = 1, maximum = 10)]
    replication: Option<i64>,
    /// `x86_64` when absent.
    arch: Option<String>,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
    security_group_id: Option<String>,
    /// Any JSON (`[]` when absent), echoed back.
    tags: Option<Value>,
    /// Other fields, echoed back.
    #[serde(flatten)]
    extra: HashMap<String, Value>,
}

/// `POST /internal/v1/{project_id}/jobs`: one job, or a batch (`{"jobs": [...]}`).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum EnqueueRequest {
    One(JobRequest),
    Batch(BatchRequest),
}

/// `start`: the body may be empty.
#[derive(ToSchema)]
pub struct StartGraphRequest {
    /// Start from this successful backup of the graph (its id).
    graph_backup_id: Option<String>,
}

/// `upgrade`.
#[derive(ToSchema)]
pub struct UpgradeGraphRequest {
    /// A dotted version greater than the graph's, such as `2.3.19`.
    #[schema(example = "2.3.19")]
    upgrade_version: String,
    /// Accepted; has no effect here.
    force_upgrade: Option<bool>,
}

/// `resize`.
#[derive(ToSchema)]
pub struct ResizeGraphRequest {
    resize: ResizeSpec,
}

/// The new size.
#[derive(ToSchema)]
pub struct ResizeSpec {
    /// 0..100 (an integer, or a numeric string).
    #[schema(minimum = 0, maximum = 100)]
    graph_size_type_index: i64,
}

/// `expand`.
#[derive(ToSchema)]
pub struct ExpandGraphRequest {
    expand: ExpandSpec,
}

/// The new replication.
#[derive(ToSchema)]
pub struct ExpandSpec {
    /// 1..10 (an integer, or a numeric string).
    #[schema(minimum = 1, maximum = 10)]
    replication: i64,
}

/// `import-graph`: at least one of the three paths. Paths are object paths in the
/// service's storage (`bucket/dir/file`); every file must exist (else `GES.7017`).
#[derive(ToSchema)]
pub struct ImportGraphRequest {
    /// The schema file (XML).
    schema_path: Option<String>,
    /// A vertex file, or a directory of them.
    vertexset_path: Option<String>,
    /// An edge file, or a directory of them.
    edgeset_path: Option<String>,
    /// Where failed lines are logged.
    log_dir: Option<String>,
    /// Only `csv`.
    #[schema(value_type = Option<FileFormat>)]
    vertexset_format: Option<String>,
    /// Only `csv`.
    #[schema(value_type = Option<FileFormat>)]
    edgeset_format: Option<String>,
    /// One character (`,` when absent).
    #[schema(min_length = 1, max_length = 1)]
    delimiter: Option<String>,
    /// One character (`"` when absent).
    #[schema(min_length = 1, max_length = 1)]
    trim_quote: Option<String>,
    /// Accepted; has no effect here.
    offline: Option<bool>,
    parallel_edge: Option<ParallelEdge>,
}

/// The import file formats.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
}

/// What an import does with an edge that joins the same two vertices as one already there.
#[derive(ToSchema)]
pub struct ParallelEdge {
    /// `allow` when absent.
    #[schema(inline)]
    action: Option<ParallelEdgeAction>,
    /// Whether parallel edges are found regardless of their labels (true when absent).
    ignore_label: Option<bool>,
}

/// `parallel_edge.action`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ParallelEdgeAction {
    Allow,
    Ignore,
    Override,
}

/// `export-graph`: every field is required; paths are object paths in the service's
/// storage.
#[derive(ToSchema)]
pub struct ExportGraphRequest {
    /// The directory the files are written to.
    graph_export_path: String,
    /// The name of the edge file.
    edge_set_name: String,
    /// The name of the vertex file.
    vertex_set_name: String,
    /// The name of the schema file.
    schema_name: String,
}
