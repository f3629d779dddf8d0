//! The graph and backup objects of the GES API, and the answers that carry them, as JSON.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::graph::{GraphWithImports, ImportedFile};
use crate::domain::time::format_time;
use crate::domain::{Backup, BackupStatus, FileKind, JobStatus};

/// A graph. Fields the create body carried beyond these are echoed back as they came.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Graph)]
pub struct GraphView {
    /// 32 lowercase hex characters.
    pub id: String,
    pub name: String,
    /// The GES status code as text: 100 preparing, 200 running, 201 upgrading, 202
    /// importing, 203 rolling back, 204 exporting, 205 clearing, 206 resizing, 207 resize
    /// rollback, 210 expanding, 211 expand rollback, 300 faulty, 303 creation failed, 400
    /// deleted, 900 stopped, 901 stopping, 920 starting.
    #[schema(example = "200")]
    pub status: String,
    /// Progress of the operation in flight, 0 to 100, as text.
    pub action_progress: String,
    pub data_store_version: String,
    /// As text.
    pub graph_size_type_index: String,
    pub replication: i32,
    pub arch: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_id: Option<String>,
    /// As given at creation (`[]` when none).
    pub tags: Value,
    /// `yyyy-MM-ddTHH:mm:ss` (UTC).
    pub created: String,
    pub updated: String,
    pub created_by: Option<String>,
    pub schema_path: Vec<ImportedFileView>,
    pub edgeset_path: Vec<ImportedFileView>,
    pub vertexset_path: Vec<ImportedFileView>,
    /// Other fields of the create body, echoed back.
    #[serde(flatten)]
    #[schema(value_type = std::collections::HashMap<String, Value>)]
    pub extra: Map<String, Value>,
}

/// One file an import job brought into the graph.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportedFile)]
pub struct ImportedFileView {
    /// The import job.
    pub job_id: String,
    pub path: String,
    /// The import job's status.
    pub status: JobStatus,
}

/// The names of [`GraphView`]'s own fields: an echoed create field never hides one.
const OWN_FIELDS: [&str; 18] = [
    "id",
    "name",
    "status",
    "action_progress",
    "data_store_version",
    "graph_size_type_index",
    "replication",
    "arch",
    "vpc_id",
    "subnet_id",
    "security_group_id",
    "tags",
    "created",
    "updated",
    "created_by",
    "schema_path",
    "edgeset_path",
    "vertexset_path",
];

impl From<GraphWithImports> for GraphView {
    fn from(GraphWithImports { graph, imports }: GraphWithImports) -> Self {
        let of_kind = |kind: FileKind| -> Vec<ImportedFileView> {
            imports
                .iter()
                .filter(|f| f.kind == kind)
                .map(ImportedFileView::from)
                .collect()
        };
        let mut extra = match graph.extra {
            Value::Object(extra) => extra,
            _ => Map::new(),
        };
        extra.retain(|key, _| !OWN_FIELDS.contains(&key.as_str()));
        GraphView {
            id: graph.id.simple().to_string(),
            status: graph.status.code().to_string(),
            action_progress: format!("{}", graph.action_progress.round()),
            graph_size_type_index: graph.graph_size_type_index.to_string(),
            created: format_time(graph.created),
            updated: format_time(graph.updated),
            schema_path: of_kind(FileKind::Schema),
            edgeset_path: of_kind(FileKind::Edge),
            vertexset_path: of_kind(FileKind::Vertex),
            name: graph.name,
            data_store_version: graph.data_store_version,
            replication: graph.replication,
            arch: graph.arch,
            vpc_id: graph.vpc_id,
            subnet_id: graph.subnet_id,
            security_group_id: graph.security_group_id,
            tags: graph.tags,
            created_by: graph.created_by,
            extra,
        }
    }
}

impl From<&ImportedFile> for ImportedFileView {
    fn from(file: &ImportedFile) -> Self {
        ImportedFileView {
            job_id: file.job_id.simple().to_string(),
            path: file.path.clone(),
            status: file.job_status,
        }
    }
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
    pub status: BackupStatus,
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
            graph_status: backup.graph_status.code().to_string(),
            graph_size_type_index: backup.graph_size_type_index.to_string(),
            data_store_version: backup.data_store_version.clone(),
            arch: backup.arch.clone(),
            status: backup.status,
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
    pub graphs: Vec<GraphView>,
}

/// The show-graph answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GraphDetail)]
pub struct GraphDetailView {
    pub graph: GraphView,
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
