//! Export: the graph's schema, vertices and edges written as import-format files.

use serde_json::Value;

use super::{EngineError, JobContext};
use crate::storage::Storage;

/// Writes the graph under the request's `graph_export_path`.
pub async fn run(
    _ctx: &mut JobContext,
    _storage: &Storage,
    _request: &Value,
) -> Result<(), EngineError> {
    Err(EngineError::Failed(
        "export is not available yet".to_owned(),
    ))
}
