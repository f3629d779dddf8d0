//! Backups of graphs: the backup as recorded and its status.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::graph::{Graph, GraphStatus};
use super::job::{JobId, UnknownValue};

/// Where a backup is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum BackupStatus {
    /// Its job is writing it.
    BackingUp,
    /// Complete: a start may restore it, an export may write it out.
    Success,
    Failed,
}

impl BackupStatus {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::BackingUp => "backing_up",
            BackupStatus::Success => "success",
            BackupStatus::Failed => "failed",
        }
    }
}

/// On the wire: its spelling.
impl serde::Serialize for BackupStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for BackupStatus {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            BackupStatus::BackingUp,
            BackupStatus::Success,
            BackupStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// A backup as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    pub id: Uuid,
    pub project_id: String,
    pub graph_id: Uuid,
    pub graph_name: String,
    pub name: String,
    /// `manual` (asked for), or `auto`.
    pub backup_method: String,
    pub status: BackupStatus,
    /// The job writing it.
    pub job_id: Option<Uuid>,
    /// The graph's status when the backup began.
    pub graph_status: GraphStatus,
    pub graph_size_type_index: i32,
    pub data_store_version: String,
    pub arch: String,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    /// Bytes.
    pub size: i64,
}

impl Backup {
    /// A backup of `graph` that job `job` starts writing now.
    pub fn starting(graph: &Graph, id: Uuid, job: JobId) -> Backup {
        let now = Utc::now();
        Backup {
            id,
            project_id: graph.project_id.clone(),
            graph_id: graph.id,
            graph_name: graph.name.clone(),
            name: format!("{}_{}", graph.name, now.format("%Y%m%d%H%M%S")),
            backup_method: "manual".to_owned(),
            status: BackupStatus::BackingUp,
            job_id: Some(job.0),
            graph_status: graph.status,
            graph_size_type_index: graph.graph_size_type_index,
            data_store_version: graph.data_store_version.clone(),
            arch: graph.arch.clone(),
            start_time: now,
            end_time: None,
            size: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for status in [
            BackupStatus::BackingUp,
            BackupStatus::Success,
            BackupStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<BackupStatus>().unwrap(), status);
        }
        assert!("done".parse::<BackupStatus>().is_err());
    }
}
