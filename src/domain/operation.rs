//! Graph operations and their state machine: from which graph states each may start, the
//! graph's status while it runs and after, and the job payload that carries it.
//!
//! Policy: one operation in flight per graph. An operation is accepted only from the states
//! the spec allows and only while no other operation runs, except restart and delete,
//! which supersede the operation in flight (it is failed first).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::code::Code;
use super::graph::GraphStatus;
use super::path::ObjectPath;
use super::transfer::{ExportRequest, ImportRequest};

/// An operation on a graph, with its parameters: the payload of its job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Create,
    Stop,
    Start {
        backup_id: Option<Uuid>,
    },
    Restart,
    Delete {
        keep_backup: bool,
    },
    Import {
        request: ImportRequest,
    },
    Export {
        request: ExportRequest,
    },
    Clear {
        clear_metadata: bool,
    },
    Upgrade {
        version: String,
    },
    Resize {
        graph_size_type_index: i32,
    },
    Expand {
        replication: i32,
    },
    Backup {
        backup_id: Uuid,
    },
    /// Writes the successful backup `backup_id` of the graph under `export_path`.
    ExportBackup {
        backup_id: Uuid,
        export_path: ObjectPath,
    },
    /// Makes the backup `backup_id` of the graph from the files under `import_path`.
    ImportBackup {
        backup_id: Uuid,
        import_path: ObjectPath,
    },
}

impl Operation {
    /// The job's `job_name`.
    pub fn job_name(&self) -> &'static str {
        match self {
            Operation::Create => "CreateGraph",
            Operation::Stop => "StopGraph",
            Operation::Start { .. } => "StartGraph",
            Operation::Restart => "RestartGraph",
            Operation::Delete { .. } => "DeleteGraph",
            Operation::Import { .. } => "ImportGraph",
            Operation::Export { .. } => "ExportGraph",
            Operation::Clear { .. } => "ClearGraph",
            Operation::Upgrade { .. } => "UpgradeGraph",
            Operation::Resize { .. } => "ResizeGraph",
            Operation::Expand { .. } => "ExpandGraph",
            Operation::Backup { .. } => "BackupGraph",
            Operation::ExportBackup { .. } => "ExportBackup",
            Operation::ImportBackup { .. } => "ImportBackup",
        }
    }

    /// The backup this operation writes (made at the call, failed with the operation).
    pub fn new_backup(&self) -> Option<Uuid> {
        match self {
            Operation::Backup { backup_id } | Operation::ImportBackup { backup_id, .. } => {
                Some(*backup_id)
            }
            _ => None,
        }
    }

    /// Whether this operation may start from `current`.
    fn allowed_from(&self, current: GraphStatus) -> bool {
        use GraphStatus::*;
        match self {
            Operation::Create => false,
            Operation::Stop => current == Running,
            Operation::Start { .. } => current == Stopped,
            Operation::Restart => {
                matches!(current, Running | Importing | Exporting | Clearing | Faulty)
            }
            Operation::Delete { .. } => current != Deleted,
            Operation::Backup { .. }
            | Operation::ExportBackup { .. }
            | Operation::ImportBackup { .. } => matches!(current, Running | Stopped),
            _ => current == Running,
        }
    }

    /// Restart and delete supersede the operation in flight.
    pub fn supersedes(&self) -> bool {
        matches!(self, Operation::Restart | Operation::Delete { .. })
    }

    /// The graph's status while the job waits and runs (`None`: unchanged).
    pub fn status_while_running(&self) -> Option<GraphStatus> {
        use GraphStatus::*;
        match self {
            Operation::Create => Some(Preparing),
            Operation::Stop | Operation::Restart => Some(Stopping),
            Operation::Start { .. } => Some(Starting),
            Operation::Import { .. } => Some(Importing),
            Operation::Export { .. } => Some(Exporting),
            Operation::Clear { .. } => Some(Clearing),
            Operation::Upgrade { .. } => Some(Upgrading),
            Operation::Resize { .. } => Some(Resizing),
            Operation::Expand { .. } => Some(Expanding),
            Operation::Delete { .. }
            | Operation::Backup { .. }
            | Operation::ExportBackup { .. }
            | Operation::ImportBackup { .. } => None,
        }
    }

    /// Whether the graph's status is left as it was, whatever the outcome.
    fn keeps_status(&self) -> bool {
        matches!(
            self,
            Operation::Backup { .. }
                | Operation::ExportBackup { .. }
                | Operation::ImportBackup { .. }
        )
    }

    /// The graph's status once the job succeeded (`before`: its status when accepted).
    pub fn status_on_success(&self, before: GraphStatus) -> GraphStatus {
        match self {
            _ if self.keeps_status() => before,
            Operation::Stop => GraphStatus::Stopped,
            Operation::Delete { .. } => GraphStatus::Deleted,
            _ => GraphStatus::Running,
        }
    }

    /// The graph's status once the job failed (`before`: its status when accepted).
    pub fn status_on_failure(&self, before: GraphStatus) -> GraphStatus {
        match self {
            _ if self.keeps_status() => before,
            Operation::Create => GraphStatus::CreationFailed,
            Operation::Start { .. } => GraphStatus::Stopped,
            Operation::Restart => GraphStatus::Faulty,
            Operation::Delete { .. } => before,
            _ => GraphStatus::Running,
        }
    }
}

/// Why an operation is refused in the graph's current state: the GES error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub Code);

/// What is in flight on the graph when an operation arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight<'a> {
    Nothing,
    /// The `job_name` of the operation in flight.
    Job(&'a str),
}

/// Decides whether `op` may start on a graph in `current` state with `in_flight`.
pub fn accept(
    op: &Operation,
    current: GraphStatus,
    in_flight: InFlight<'_>,
) -> Result<(), Refusal> {
    if let InFlight::Job(name) = in_flight {
        if name == "DeleteGraph" {
            return Err(Refusal(Code::GraphBeingDeleted));
        }
        if !op.supersedes() {
            return Err(refusal_for(op, current, Some(name)));
        }
    }
    if op.allowed_from(current) {
        Ok(())
    } else {
        Err(refusal_for(op, current, None))
    }
}

fn refusal_for(op: &Operation, current: GraphStatus, in_flight: Option<&str>) -> Refusal {
    use GraphStatus::*;
    if in_flight == Some("BackupGraph") {
        return Refusal(Code::BackupRunning);
    }
    Refusal(match current {
        Preparing => Code::GraphBeingCreated,
        Deleted => Code::GraphBeingDeleted,
        _ if matches!(op, Operation::Start { .. }) => Code::GraphNotStopped,
        Stopped | Stopping => Code::GraphStopped,
        _ => Code::GraphNotRunning,
    })
}

/// The payload of a graph-management job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphJobPayload {
    pub operation: Operation,
    /// The graph's status when the operation was accepted.
    pub status_before: GraphStatus,
}

#[cfg(test)]
mod tests {
    use super::GraphStatus::*;
    use super::*;

    fn refused(code: Code) -> Result<(), Refusal> {
        Err(Refusal(code))
    }

    #[test]
    fn each_operation_starts_only_from_its_states() {
        let stop = Operation::Stop;
        assert_eq!(accept(&stop, Running, InFlight::Nothing), Ok(()));
        assert_eq!(
            accept(&stop, Stopped, InFlight::Nothing),
            refused(Code::GraphStopped)
        );
        assert_eq!(
            accept(&stop, Preparing, InFlight::Nothing),
            refused(Code::GraphBeingCreated)
        );
        assert_eq!(
            accept(&stop, Importing, InFlight::Nothing),
            refused(Code::GraphNotRunning)
        );
        let start = Operation::Start { backup_id: None };
        assert_eq!(accept(&start, Stopped, InFlight::Nothing), Ok(()));
        assert_eq!(
            accept(&start, Running, InFlight::Nothing),
            refused(Code::GraphNotStopped)
        );
        let backup = Operation::Backup {
            backup_id: Uuid::nil(),
        };
        assert_eq!(accept(&backup, Stopped, InFlight::Nothing), Ok(()));
        let export = Operation::ExportBackup {
            backup_id: Uuid::nil(),
            export_path: ObjectPath::parse("b/x").unwrap(),
        };
        assert_eq!(accept(&export, Stopped, InFlight::Nothing), Ok(()));
        assert_eq!(
            accept(&export, Importing, InFlight::Nothing),
            refused(Code::GraphNotRunning)
        );
        assert_eq!(
            accept(&Operation::Restart, Faulty, InFlight::Nothing),
            Ok(())
        );
        assert_eq!(
            accept(&Operation::Restart, Stopped, InFlight::Nothing),
            refused(Code::GraphStopped)
        );
    }

    #[test]
    fn one_operation_at_a_time_except_restart_and_delete() {
        let busy = InFlight::Job("ImportGraph");
        let clear = Operation::Clear {
            clear_metadata: false,
        };
        assert_eq!(
            accept(&clear, Importing, busy),
            refused(Code::GraphNotRunning)
        );
        assert_eq!(accept(&Operation::Restart, Importing, busy), Ok(()));
        let delete = Operation::Delete { keep_backup: false };
        assert_eq!(accept(&delete, Importing, busy), Ok(()));
        let backing_up = InFlight::Job("BackupGraph");
        assert_eq!(
            accept(&Operation::Stop, Running, backing_up),
            refused(Code::BackupRunning)
        );
        let deleting = InFlight::Job("DeleteGraph");
        assert_eq!(
            accept(&delete, Running, deleting),
            refused(Code::GraphBeingDeleted)
        );
        assert_eq!(
            accept(&delete, Deleted, InFlight::Nothing),
            refused(Code::GraphBeingDeleted)
        );
    }

    #[test]
    fn outcomes_follow_the_transition_table() {
        assert_eq!(Operation::Stop.status_on_success(Running), Stopped);
        assert_eq!(Operation::Stop.status_on_failure(Running), Running);
        assert_eq!(
            Operation::Create.status_on_failure(Preparing),
            CreationFailed
        );
        assert_eq!(Operation::Restart.status_on_failure(Running), Faulty);
        let backup = Operation::Backup {
            backup_id: Uuid::nil(),
        };
        assert_eq!(backup.status_on_success(Stopped), Stopped);
        let delete = Operation::Delete { keep_backup: false };
        assert_eq!(delete.status_on_success(Running), Deleted);
        assert_eq!(delete.status_while_running(), None);
        let import = Operation::ImportBackup {
            backup_id: Uuid::nil(),
            import_path: ObjectPath::parse("b/x").unwrap(),
        };
        assert_eq!(
            (import.status_on_failure(Stopped), import.new_backup()),
            (Stopped, Some(Uuid::nil()))
        );
    }
}
