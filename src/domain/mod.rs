//! Domain types: the entities (jobs, graphs, backups), their statuses and the state
//! machine of graph operations, and every value that comes from outside, turned into one of
//! these by a `parse` or `TryFrom` that says what was wrong, so the rest of the code never
//! re-checks input; and the one table of error codes ([`code`]).
//!
//! Policy: this module imports nothing of ours (no store, engine, http or worker); every
//! other module may import it.

pub mod backup;
pub mod code;
pub mod graph;
pub mod job;
pub mod jobs;
pub mod operation;
pub mod path;
pub mod producer;
pub mod query;
pub mod time;
pub mod transfer;

pub use backup::{Backup, BackupStatus};
pub use code::Code;
pub use graph::{Graph, GraphStatus};
pub use job::{FileKind, FileStatus, GRAPH_MANAGEMENT, IMPORT_GRAPH, JobId, JobStatus, NOOP};
pub use jobs::{ClaimedJob, Job, JobFile, JobKey, NewJob, Origin};
pub use operation::{GraphJobPayload, Operation};
pub use path::ObjectPath;
pub use query::{JobFilter, JobQuery, Page, ParamError};
pub use transfer::{CsvFormat, ExportRequest, ImportRequest, ParallelEdges};

/// A project id: 1 to 64 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectId(String);

impl ProjectId {
    /// Checks the contract's rule for project ids.
    pub fn parse(raw: &str) -> Result<ProjectId, ParamError> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(ProjectId(raw.to_owned()))
        } else {
            Err(ParamError::new(
                "project_id",
                "must be 1 to 64 ASCII letters and digits",
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_are_short_alphanumerics() {
        assert!(ProjectId::parse("abc123").is_ok());
        assert!(ProjectId::parse(&"a".repeat(64)).is_ok());
        assert!(ProjectId::parse("").is_err());
        assert!(ProjectId::parse(&"a".repeat(65)).is_err());
        assert!(ProjectId::parse("ab-c").is_err());
        assert!(ProjectId::parse("é").is_err());
    }
}
