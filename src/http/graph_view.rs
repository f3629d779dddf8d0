//! The graph and backup objects of the GES API, and the answers that carry them, as JSON.

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::domain::time::format_time;
use crate::store::backups::Backup;
use crate::store::graphs::{Graph, ImportedFile};

/// `{"graph": {...}}` fields of one graph; cloud-only create fields are echoed back.
pub fn graph_json(graph: &Graph, imports: &[ImportedFile]) -> Value {
    let mut object = match &graph.extra {
        Value::Object(extra) => extra.clone(),
        _ => Map::new(),
    };
    let of_kind = |kind: &str| -> Value {
        imports
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| json!({"job_id": f.job_id.simple().to_string(), "path": f.path, "status": f.job_status}))
            .collect::<Vec<_>>()
            .into()
    };
    let fields = json!({
        "id": graph.id.simple().to_string(),
        "name": graph.name,
        "status": graph.status.to_string(),
        "action_progress": format!("{}", graph.action_progress.round()),
        "data_store_version": graph.data_store_version,
        "graph_size_type_index": graph.graph_size_type_index.to_string(),
        "replication": graph.replication,
        "arch": graph.arch,
        "vpc_id": graph.vpc_id,
        "subnet_id": graph.subnet_id,
        "security_group_id": graph.security_group_id,
        "tags": graph.tags,
        "created": format_time(graph.created),
        "updated": format_time(graph.updated),
        "created_by": graph.created_by,
        "schema_path": of_kind("schema"),
        "edgeset_path": of_kind("edge"),
        "vertexset_path": of_kind("vertex"),
    });
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    Value::Object(object)
}

/// One backup on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Backup)]
pub struct BackupView {
    /// 32 lowercase hex characters.
    pub id: String,
    pub name: String,
    pub backup_method: String,
    pub graph_id: String,
    pub graph_name: String,
    /// The graph's status code when the backup began, as text.
    pub graph_status: String,
    pub graph_size_type_index: String,
    pub data_store_version: String,
    pub arch: String,
    /// `backing_up`, `success` or `failed`.
    pub status: String,
    /// `yyyy-MM-ddTHH:mm:ss` (UTC).
    pub start_time: String,
    pub end_time: Option<String>,
    /// Milliseconds since the epoch.
    pub start_timestamp: i64,
    pub end_timestamp: Option<i64>,
    /// Bytes.
    pub size: i64,
    /// Seconds; null while running.
    pub duration: Option<i64>,
    pub encrypted: bool,
}

impl From<&Backup> for BackupView {
    fn from(backup: &Backup) -> Self {
        let millis = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
        BackupView {
            id: backup.id.simple().to_string(),
            name: backup.name.clone(),
            backup_method: backup.backup_method.clone(),
            graph_id: backup.graph_id.simple().to_string(),
            graph_name: backup.graph_name.clone(),
            graph_status: backup.graph_status.to_string(),
            graph_size_type_index: backup.graph_size_type_index.to_string(),
            data_store_version: backup.data_store_version.clone(),
            arch: backup.arch.clone(),
            status: backup.status.clone(),
            start_time: format_time(backup.start_time),
            end_time: backup.end_time.map(format_time),
            start_timestamp: millis(backup.start_time),
            end_timestamp: backup.end_time.map(millis),
            size: backup.size,
            duration: backup
                .end_time
                .map(|end| (end - backup.start_time).num_seconds()),
            encrypted: false,
        }
    }
}

/// The backup list answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BackupList)]
pub struct BackupListView {
    /// Backups over all pages.
    pub backup_count: i64,
    pub backup_list: Vec<BackupView>,
}

/// The graph list answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GraphList)]
pub struct GraphListView {
    /// Graphs over all pages.
    pub graph_count: i64,
    // Built by `graph_json`.
    #[schema(value_type = Vec<GraphSchema>)]
    pub graphs: Vec<Value>,
}

/// The show-graph answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GraphDetail)]
pub struct GraphDetailView {
    // Built by `graph_json`.
    #[schema(value_type = GraphSchema)]
    pub graph: Value,
}

/// The create-graph answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphCreated {
    /// The new graph's id (32 lowercase hex characters).
    pub id: String,
    pub name: String,
    /// The `CreateGraph` job.
    pub job_id: String,
}

/// The answer of an operation that runs as a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAccepted {
    /// The job to follow with `GET .../jobs/{job_id}/status`.
    pub job_id: String,
}

/// An empty object, `{}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}

/// A graph. Fields the create body carried beyond these are echoed back as they came.
// The schema of `graph_json`'s object, which is built as JSON.
#[derive(ToSchema)]
#[schema(as = Graph)]
#[allow(dead_code)]
pub struct GraphSchema {
    /// 32 lowercase hex characters.
    id: String,
    name: String,
    /// The GES status code as text: 100 preparing, 200 running, 201 upgrading, 202
    /// importing, 203 rolling back, 204 exporting, 205 clearing, 206 resizing, 207 resize
    /// rollback, 210 expanding, 211 expand rollback, 300 faulty, 303 creation failed, 400
    /// deleted, 900 stopped, 901 stopping, 920 starting.
    #[schema(example = "200")]
    status: String,
    /// Progress of the operation in flight, 0 to 100, as text.
    action_progress: String,
    data_store_version: String,
    /// As text.
    graph_size_type_index: String,
    replication: i32,
    arch: String,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
    security_group_id: Option<String>,
    /// As given at creation (`[]` when none).
    tags: Value,
    /// `yyyy-MM-ddTHH:mm:ss` (UTC).
    created: String,
    updated: String,
    created_by: Option<String>,
    schema_path: Vec<ImportedFileSchema>,
    edgeset_path: Vec<ImportedFileSchema>,
    vertexset_path: Vec<ImportedFileSchema>,
    /// Other fields of the create body, echoed back.
    #[serde(flatten)]
    extra: std::collections::HashMap<String, Value>,
}

/// One file an import job brought into the graph.
#[derive(ToSchema)]
#[schema(as = ImportedFile)]
#[allow(dead_code)]
pub struct ImportedFileSchema {
    /// The import job.
    job_id: String,
    path: String,
    /// The import job's status.
    #[schema(value_type = crate::domain::JobStatus)]
    status: String,
}
