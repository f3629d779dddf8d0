//! What an import or an export moves: the files, the CSV dialect, what an import does with
//! parallel edges. Parsed once, at the call, from the request's fields ([`ImportFields`],
//! [`ExportFields`]); the job's payload carries the checked request in the same fields,
//! so a stored payload reads back through the same rules.

use serde::{Deserialize, Serialize};

use super::code::Code;
use super::path::ObjectPath;
use super::query::ParamError;

/// The CSV dialect of an import: one-byte delimiter and quote character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvFormat {
    pub delimiter: u8,
    pub quote: u8,
}

impl Default for CsvFormat {
    fn default() -> Self {
        CsvFormat {
            delimiter: b',',
            quote: b'"',
        }
    }
}

impl CsvFormat {
    /// The request's `delimiter` and `trim_quote` (`None`: the defaults `,` and `"`): each
    /// one ASCII character (a tab may also be written as the two characters `\` `t`), not
    /// a line break, and different from each other.
    pub fn parse(delimiter: Option<&str>, quote: Option<&str>) -> Result<CsvFormat, ParamError> {
        let one = |name: &'static str, raw: &str| -> Result<u8, ParamError> {
            let raw = if raw == "\\t" { "\t" } else { raw };
            match raw.as_bytes() {
                [b] if b.is_ascii() && *b != b'\n' && *b != b'\r' => Ok(*b),
                _ => Err(ParamError::new(
                    name,
                    "must be one ASCII character other than a line break",
                )),
            }
        };
        let default = CsvFormat::default();
        let delimiter = delimiter.map_or(Ok(default.delimiter), |d| one("delimiter", d))?;
        let quote = quote.map_or(Ok(default.quote), |q| one("trim_quote", q))?;
        if delimiter == quote {
            return Err(ParamError::new("trim_quote", "must differ from delimiter"));
        }
        Ok(CsvFormat { delimiter, quote })
    }

    fn text(byte: u8) -> String {
        char::from(byte).to_string()
    }
}

/// What an import does with an edge parallel to one already there (same ends, and the same
/// label unless `ignore_label`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParallelEdges {
    #[default]
    Allow,
    Ignore {
        ignore_label: bool,
    },
    Override {
        ignore_label: bool,
    },
}

impl ParallelEdges {
    /// `action`: `allow` (default), `ignore` or `override`; `ignore_label` true by default.
    pub fn parse(
        action: Option<&str>,
        ignore_label: Option<bool>,
    ) -> Result<ParallelEdges, ParamError> {
        let ignore_label = ignore_label.unwrap_or(true);
        match action.unwrap_or("allow") {
            "allow" => Ok(ParallelEdges::Allow),
            "ignore" => Ok(ParallelEdges::Ignore { ignore_label }),
            "override" => Ok(ParallelEdges::Override { ignore_label }),
            _ => Err(ParamError::new(
                "parallel_edge.action",
                "allow, ignore or override",
            )),
        }
    }

    fn fields(self) -> ParallelEdgeFields {
        let (action, ignore_label) = match self {
            ParallelEdges::Allow => ("allow", None),
            ParallelEdges::Ignore { ignore_label } => ("ignore", Some(ignore_label)),
            ParallelEdges::Override { ignore_label } => ("override", Some(ignore_label)),
        };
        ParallelEdgeFields {
            action: Some(action.to_owned()),
            ignore_label,
        }
    }
}

/// A checked import request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ImportFields", into = "ImportFields")]
pub struct ImportRequest {
    pub schema: Option<ObjectPath>,
    pub vertices: Option<ObjectPath>,
    pub edges: Option<ObjectPath>,
    pub log_dir: Option<ObjectPath>,
    pub format: CsvFormat,
    pub parallel_edges: ParallelEdges,
}

impl ImportRequest {
    /// The request's data paths with their kind's field name, in load order.
    pub fn paths(&self) -> [(&'static str, Option<&ObjectPath>); 3] {
        [
            ("schema_path", self.schema.as_ref()),
            ("vertexset_path", self.vertices.as_ref()),
            ("edgeset_path", self.edges.as_ref()),
        ]
    }
}

/// The fields of an import request as text, before they are checked (and the form the
/// job's payload stores).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertexset_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edgeset_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_edge: Option<ParallelEdgeFields>,
}

/// `parallel_edge` before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParallelEdgeFields {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_label: Option<bool>,
}

/// An object path field (`GES.7011` naming the field when it breaks the rule).
pub fn path_field(field: &'static str, raw: &str) -> Result<ObjectPath, ParamError> {
    ObjectPath::parse(raw).map_err(|_| {
        ParamError::with_code(Code::BadObjectPath, field, "is not a valid object path")
    })
}

fn optional_path(field: &'static str, raw: Option<&str>) -> Result<Option<ObjectPath>, ParamError> {
    raw.map(|raw| path_field(field, raw)).transpose()
}

impl TryFrom<ImportFields> for ImportRequest {
    type Error = ParamError;

    fn try_from(fields: ImportFields) -> Result<Self, Self::Error> {
        let request = ImportRequest {
            schema: optional_path("schema_path", fields.schema_path.as_deref())?,
            vertices: optional_path("vertexset_path", fields.vertexset_path.as_deref())?,
            edges: optional_path("edgeset_path", fields.edgeset_path.as_deref())?,
            log_dir: optional_path("log_dir", fields.log_dir.as_deref())?,
            format: CsvFormat::parse(fields.delimiter.as_deref(), fields.trim_quote.as_deref())?,
            parallel_edges: match &fields.parallel_edge {
                None => ParallelEdges::Allow,
                Some(p) => ParallelEdges::parse(p.action.as_deref(), p.ignore_label)?,
            },
        };
        if request.paths().iter().all(|(_, path)| path.is_none()) {
            return Err(ParamError::missing(
                "one of schema_path, vertexset_path, edgeset_path",
            ));
        }
        Ok(request)
    }
}

impl From<ImportRequest> for ImportFields {
    fn from(request: ImportRequest) -> Self {
        let text = |path: Option<ObjectPath>| path.map(String::from);
        ImportFields {
            schema_path: text(request.schema),
            vertexset_path: text(request.vertices),
            edgeset_path: text(request.edges),
            log_dir: text(request.log_dir),
            delimiter: Some(CsvFormat::text(request.format.delimiter)),
            trim_quote: Some(CsvFormat::text(request.format.quote)),
            parallel_edge: Some(request.parallel_edges.fields()),
        }
    }
}

/// A checked export request: three different files under one directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ExportFields", into = "ExportFields")]
pub struct ExportRequest {
    pub dir: ObjectPath,
    pub schema: ObjectPath,
    pub vertices: ObjectPath,
    pub edges: ObjectPath,
}

/// The fields of an export request (all required), before they are checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFields {
    pub graph_export_path: String,
    pub edge_set_name: String,
    pub vertex_set_name: String,
    pub schema_name: String,
}

impl TryFrom<ExportFields> for ExportRequest {
    type Error = ParamError;

    fn try_from(fields: ExportFields) -> Result<Self, Self::Error> {
        let dir = path_field("graph_export_path", &fields.graph_export_path)?;
        let file = |field: &'static str, name: &str| {
            dir.join(name).map_err(|_| {
                ParamError::with_code(
                    Code::BadObjectPath,
                    field,
                    "does not make a valid object path under graph_export_path",
                )
            })
        };
        let request = ExportRequest {
            schema: file("schema_name", &fields.schema_name)?,
            vertices: file("vertex_set_name", &fields.vertex_set_name)?,
            edges: file("edge_set_name", &fields.edge_set_name)?,
            dir: dir.clone(),
        };
        let [s, v, e] = [&request.schema, &request.vertices, &request.edges];
        if s == v || s == e || v == e {
            return Err(ParamError::new(
                "schema_name",
                "schema_name, vertex_set_name and edge_set_name must name three different files",
            ));
        }
        Ok(request)
    }
}

impl From<ExportRequest> for ExportFields {
    fn from(request: ExportRequest) -> Self {
        let under = |file: &ObjectPath| file.as_str()[request.dir.as_str().len() + 1..].to_owned();
        ExportFields {
            schema_name: under(&request.schema),
            vertex_set_name: under(&request.vertices),
            edge_set_name: under(&request.edges),
            graph_export_path: request.dir.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(fields: serde_json::Value) -> Result<ImportRequest, ParamError> {
        ImportRequest::try_from(serde_json::from_value::<ImportFields>(fields).unwrap())
    }

    #[test]
    fn delimiters_are_one_ascii_character_other_than_the_quote() {
        let ok = |d: &str| import(serde_json::json!({"edgeset_path": "b/e", "delimiter": d}));
        assert_eq!(ok(",").unwrap().format.delimiter, b',');
        assert_eq!(ok("\t").unwrap().format.delimiter, b'\t');
        assert_eq!(ok("\\t").unwrap().format.delimiter, b'\t');
        for bad in ["；", "é", "", ",,", "\n", "\""] {
            let err = ok(bad).unwrap_err();
            assert_eq!(err.code, Code::BadParameter, "{bad:?}");
            assert!(
                ["delimiter", "trim_quote"].contains(&err.param),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn the_stored_form_reads_back_as_the_same_request() {
        let request = import(serde_json::json!({
            "vertexset_path": "b/v/", "delimiter": "\\t", "trim_quote": "'",
            "parallel_edge": {"action": "override", "ignore_label": false}}))
        .unwrap();
        let stored = serde_json::to_value(&request).unwrap();
        assert_eq!(stored["vertexset_path"], "b/v");
        assert_eq!(
            serde_json::from_value::<ImportRequest>(stored).unwrap(),
            request
        );
        assert_eq!(
            request.parallel_edges,
            ParallelEdges::Override {
                ignore_label: false
            }
        );
    }

    #[test]
    fn an_import_needs_a_path_and_known_options() {
        assert_eq!(
            import(serde_json::json!({})).unwrap_err().code,
            Code::MissingField
        );
        let err =
            import(serde_json::json!({"schema_path": "b/s", "parallel_edge": {"action": "merge"}}));
        assert_eq!(err.unwrap_err().param, "parallel_edge.action");
        let err = import(serde_json::json!({"schema_path": "../s"})).unwrap_err();
        assert_eq!((err.code, err.param), (Code::BadObjectPath, "schema_path"));
    }

    #[test]
    fn export_files_are_three_distinct_paths_under_the_directory() {
        let fields = |schema: &str| ExportFields {
            graph_export_path: "b/out".into(),
            edge_set_name: "e.csv".into(),
            vertex_set_name: "v.csv".into(),
            schema_name: schema.into(),
        };
        let request = ExportRequest::try_from(fields("s.xml")).unwrap();
        assert_eq!(request.edges.as_str(), "b/out/e.csv");
        let stored = serde_json::to_value(&request).unwrap();
        assert_eq!(
            serde_json::from_value::<ExportRequest>(stored).unwrap(),
            request
        );
        assert_eq!(
            ExportRequest::try_from(fields("v.csv")).unwrap_err().param,
            "schema_name"
        );
        let err = ExportRequest::try_from(fields("../x")).unwrap_err();
        assert_eq!((err.code, err.param), (Code::BadObjectPath, "schema_name"));
    }
}
