//! The graph and backup objects of the GES API, as JSON.

use serde_json::{Map, Value, json};

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

/// One backup.
pub fn backup_json(backup: &Backup) -> Value {
    let millis = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    json!({
        "id": backup.id.simple().to_string(),
        "name": backup.name,
        "backup_method": backup.backup_method,
        "graph_id": backup.graph_id.simple().to_string(),
        "graph_name": backup.graph_name,
        "graph_status": backup.graph_status.to_string(),
        "graph_size_type_index": backup.graph_size_type_index.to_string(),
        "data_store_version": backup.data_store_version,
        "arch": backup.arch,
        "status": backup.status,
        "start_time": format_time(backup.start_time),
        "end_time": backup.end_time.map(format_time),
        "start_timestamp": millis(backup.start_time),
        "end_timestamp": backup.end_time.map(millis),
        "size": backup.size,
        "duration": backup.end_time.map(|end| (end - backup.start_time).num_seconds()),
        "encrypted": false,
    })
}
