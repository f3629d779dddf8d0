//! The bodies of the calls that move data: import and export of a graph, export and
//! import of a backup; and their turning into the domain's typed requests.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::graphs::backup_id;
use super::lenient;
use crate::domain::transfer::{ExportFields, ImportFields, ParallelEdgeFields, path_field};
use crate::domain::{ExportRequest, ImportRequest, ObjectPath, ParamError};
use crate::http::extract::Body;

/// `import-graph`: at least one of the three paths. Paths are object paths in the
/// service's storage (`bucket/dir/file`); every file must exist (else `GES.7017`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportBody {
    /// The schema file (XML).
    #[schema(format = "object-path")]
    pub schema_path: Option<String>,
    /// A vertex file, or a directory of them.
    #[schema(format = "object-path")]
    pub vertexset_path: Option<String>,
    /// An edge file, or a directory of them.
    #[schema(format = "object-path")]
    pub edgeset_path: Option<String>,
    /// Where failed lines are logged.
    #[schema(format = "object-path")]
    pub log_dir: Option<String>,
    /// Only `csv`.
    #[schema(value_type = Option<FileFormat>)]
    pub vertexset_format: Option<String>,
    /// Only `csv`.
    #[schema(value_type = Option<FileFormat>)]
    pub edgeset_format: Option<String>,
    /// One ASCII character other than a line break (`,` when absent; a tab also as `\t`);
    /// not the same as `trim_quote`.
    #[schema(format = "one-character")]
    pub delimiter: Option<String>,
    /// One ASCII character other than a line break (`"` when absent; a tab also as `\t`).
    #[schema(format = "one-character")]
    pub trim_quote: Option<String>,
    /// Accepted; has no effect here.
    #[serde(default, deserialize_with = "lenient::bool")]
    #[schema(schema_with = lenient::schema::optional_bool)]
    pub offline: Option<bool>,
    pub parallel_edge: Option<ParallelEdgeBody>,
}

impl Body for ImportBody {}

/// The import file formats.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
}

/// What an import does with an edge that joins the same two vertices as one already there.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ParallelEdgeBody {
    /// `allow` when absent.
    #[schema(value_type = Option<ParallelEdgeAction>, inline)]
    pub action: Option<String>,
    /// Whether parallel edges are found regardless of their labels (true when absent).
    #[serde(default, deserialize_with = "lenient::bool")]
    #[schema(schema_with = lenient::schema::optional_bool)]
    pub ignore_label: Option<bool>,
}

/// `parallel_edge.action`.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ParallelEdgeAction {
    Allow,
    Ignore,
    Override,
}

impl TryFrom<ImportBody> for ImportRequest {
    type Error = ParamError;

    fn try_from(body: ImportBody) -> Result<Self, Self::Error> {
        for (field, format) in [
            ("vertexset_format", &body.vertexset_format),
            ("edgeset_format", &body.edgeset_format),
        ] {
            if format.as_deref().is_some_and(|f| f != "csv") {
                return Err(ParamError::new(field, "only csv is supported"));
            }
        }
        ImportRequest::try_from(ImportFields {
            schema_path: body.schema_path,
            vertexset_path: body.vertexset_path,
            edgeset_path: body.edgeset_path,
            log_dir: body.log_dir,
            delimiter: body.delimiter,
            trim_quote: body.trim_quote,
            parallel_edge: body.parallel_edge.map(|p| ParallelEdgeFields {
                action: p.action,
                ignore_label: p.ignore_label,
            }),
        })
    }
}

/// `export-graph`: every field is required; paths are object paths in the service's
/// storage.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExportBody {
    /// The directory the files are written to.
    #[schema(required = true, format = "object-path")]
    pub graph_export_path: Option<String>,
    /// The name of the edge file (a path under `graph_export_path`).
    #[schema(required = true, format = "object-path")]
    pub edge_set_name: Option<String>,
    /// The name of the vertex file (the three names differ).
    #[schema(required = true, format = "object-path")]
    pub vertex_set_name: Option<String>,
    /// The name of the schema file.
    #[schema(required = true, format = "object-path")]
    pub schema_name: Option<String>,
}

impl Body for ExportBody {}

impl TryFrom<ExportBody> for ExportRequest {
    type Error = ParamError;

    fn try_from(body: ExportBody) -> Result<Self, Self::Error> {
        let required = |field: &'static str, value: Option<String>| {
            value.ok_or_else(|| ParamError::missing(field))
        };
        ExportRequest::try_from(ExportFields {
            graph_export_path: required("graph_export_path", body.graph_export_path)?,
            edge_set_name: required("edge_set_name", body.edge_set_name)?,
            vertex_set_name: required("vertex_set_name", body.vertex_set_name)?,
            schema_name: required("schema_name", body.schema_name)?,
        })
    }
}

/// `backups/export`: a successful backup of the graph, and where its files go.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExportBackupBody {
    /// The backup (its id: 32 hex characters, or the dashed form); it must be a successful
    /// backup of the graph (else 400 `GES.0001`).
    #[schema(required = true, format = "id")]
    pub backup_id: Option<String>,
    /// The directory (an object path) the backup's files are written to.
    #[schema(required = true, format = "object-path")]
    pub export_path: Option<String>,
}

impl Body for ExportBackupBody {}

impl ExportBackupBody {
    /// The backup and the directory.
    pub fn parts(self) -> Result<(Uuid, ObjectPath), ParamError> {
        let id = self
            .backup_id
            .ok_or_else(|| ParamError::missing("backup_id"))?;
        let path = self
            .export_path
            .ok_or_else(|| ParamError::missing("export_path"))?;
        Ok((
            backup_id("backup_id", &id)?,
            path_field("export_path", &path)?,
        ))
    }
}

/// `backups/import`: where the files of an exported backup are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportBackupBody {
    /// The directory (an object path) an export of a backup wrote; its `backup.json` must
    /// exist (else `GES.7017`).
    #[schema(required = true, format = "object-path")]
    pub import_path: Option<String>,
}

impl Body for ImportBackupBody {}

impl ImportBackupBody {
    /// The directory.
    pub fn path(self) -> Result<ObjectPath, ParamError> {
        let path = self
            .import_path
            .ok_or_else(|| ParamError::missing("import_path"))?;
        path_field("import_path", &path)
    }
}
