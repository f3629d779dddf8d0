//! Import: schema, vertex and edge files validated line by line and loaded in batches.

use serde_json::Value;

use super::{EngineError, JobContext};
use crate::storage::Storage;

/// Loads the request's files into the job's graph.
pub async fn run(
    _ctx: &mut JobContext,
    _storage: &Storage,
    _request: &Value,
) -> Result<(), EngineError> {
    Err(EngineError::Failed(
        "import is not available yet".to_owned(),
    ))
}
