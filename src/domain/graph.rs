//! Graphs: names, versions, status codes, and the state machine of operations.
//!
//! Policy: one operation in flight per graph. An operation is accepted only from the states
//! the spec allows and only while no other operation runs, except restart and delete,
//! which supersede the operation in flight (it is failed first).

use serde::{Deserialize, Serialize};

/// GES graph status codes.
pub mod status {
    pub const PREPARING: i16 = 100;
    pub const RUNNING: i16 = 200;
    pub const UPGRADING: i16 = 201;
    pub const IMPORTING: i16 = 202;
    pub const ROLLING_BACK: i16 = 203;
    pub const EXPORTING: i16 = 204;
    pub const CLEARING: i16 = 205;
    pub const RESIZING: i16 = 206;
    pub const RESIZING_ROLLBACK: i16 = 207;
    pub const EXPANDING: i16 = 210;
    pub const EXPANDING_ROLLBACK: i16 = 211;
    pub const FAULTY: i16 = 300;
    pub const CREATION_FAILED: i16 = 303;
    pub const DELETED: i16 = 400;
    pub const STOPPED: i16 = 900;
    pub const STOPPING: i16 = 901;
    pub const STARTING: i16 = 920;
}

/// A graph name: starts with a letter; letters, digits and `_`; 4 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphName(String);

impl GraphName {
    /// Checks the naming rule (GES.7012 when broken).
    pub fn parse(raw: &str) -> Option<GraphName> {
        let mut chars = raw.chars();
        let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        let ok = first_is_letter
            && (4..=50).contains(&raw.len())
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        ok.then(|| GraphName(raw.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A dotted version such as `2.3.18`, compared component by component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(Vec<u32>);

impl Version {
    /// Digits separated by dots, 1 to 6 components.
    pub fn parse(raw: &str) -> Option<Version> {
        let parts: Option<Vec<u32>> = raw.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| (1..=6).contains(&p.len())).map(Version)
    }
}

/// An operation on a graph, with its parameters: the payload of its job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Create,
    Stop,
    Start { backup_id: Option<uuid::Uuid> },
    Restart,
    Delete { keep_backup: bool },
    Import { request: serde_json::Value },
    Export { request: serde_json::Value },
    Clear { clear_metadata: bool },
    Upgrade { version: String },
    Resize { graph_size_type_index: i32 },
    Expand { replication: i32 },
    Backup { backup_id: uuid::Uuid },
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
        }
    }

    /// The states this operation may start from.
    fn allowed_from(&self) -> &'static [i16] {
        use status::*;
        match self {
            Operation::Create => &[],
            Operation::Stop => &[RUNNING],
            Operation::Start { .. } => &[STOPPED],
            Operation::Restart => &[RUNNING, IMPORTING, EXPORTING, CLEARING, FAULTY],
            Operation::Delete { .. } => &[
                PREPARING,
                RUNNING,
                UPGRADING,
                IMPORTING,
                ROLLING_BACK,
                EXPORTING,
                CLEARING,
                RESIZING,
                RESIZING_ROLLBACK,
                EXPANDING,
                EXPANDING_ROLLBACK,
                FAULTY,
                CREATION_FAILED,
                STOPPED,
                STOPPING,
                STARTING,
            ],
            Operation::Backup { .. } => &[RUNNING, STOPPED],
            _ => &[RUNNING],
        }
    }

    /// Restart and delete supersede the operation in flight.
    pub fn supersedes(&self) -> bool {
        matches!(self, Operation::Restart | Operation::Delete { .. })
    }

    /// The graph's status while the job waits and runs (`None`: unchanged).
    pub fn status_while_running(&self) -> Option<i16> {
        use status::*;
        match self {
            Operation::Create => Some(PREPARING),
            Operation::Stop | Operation::Restart => Some(STOPPING),
            Operation::Start { .. } => Some(STARTING),
            Operation::Import { .. } => Some(IMPORTING),
            Operation::Export { .. } => Some(EXPORTING),
            Operation::Clear { .. } => Some(CLEARING),
            Operation::Upgrade { .. } => Some(UPGRADING),
            Operation::Resize { .. } => Some(RESIZING),
            Operation::Expand { .. } => Some(EXPANDING),
            Operation::Delete { .. } | Operation::Backup { .. } => None,
        }
    }

    /// The graph's status once the job succeeded (`before`: its status when accepted).
    pub fn status_on_success(&self, before: i16) -> i16 {
        match self {
            Operation::Stop => status::STOPPED,
            Operation::Delete { .. } => status::DELETED,
            Operation::Backup { .. } => before,
            _ => status::RUNNING,
        }
    }

    /// The graph's status once the job failed (`before`: its status when accepted).
    pub fn status_on_failure(&self, before: i16) -> i16 {
        match self {
            Operation::Create => status::CREATION_FAILED,
            Operation::Start { .. } => status::STOPPED,
            Operation::Restart => status::FAULTY,
            Operation::Delete { .. } | Operation::Backup { .. } => before,
            _ => status::RUNNING,
        }
    }
}

/// Why an operation is refused in the graph's current state: the GES error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

/// What is in flight on the graph when an operation arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight<'a> {
    Nothing,
    Job(&'a str),
}

/// Decides whether `op` may start on a graph in `current` state with `in_flight`.
pub fn accept(op: &Operation, current: i16, in_flight: InFlight<'_>) -> Result<(), Refusal> {
    if let InFlight::Job(name) = in_flight {
        if name == "DeleteGraph" {
            return Err(Refusal("GES.7054"));
        }
        if !op.supersedes() {
            return Err(refusal_for(op, current, Some(name)));
        }
    }
    if op.allowed_from().contains(&current) {
        Ok(())
    } else {
        Err(refusal_for(op, current, None))
    }
}

fn refusal_for(op: &Operation, current: i16, in_flight: Option<&str>) -> Refusal {
    use status::*;
    if in_flight == Some("BackupGraph") {
        return Refusal("GES.7002");
    }
    match current {
        PREPARING => Refusal("GES.7042"),
        DELETED => Refusal("GES.7054"),
        _ if matches!(op, Operation::Start { .. }) => Refusal("GES.7037"),
        STOPPED | STOPPING => Refusal("GES.7003"),
        _ => Refusal("GES.7001"),
    }
}

/// The payload of a graph-management job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphJobPayload {
    pub operation: Operation,
    /// The graph's status when the operation was accepted.
    pub status_before: i16,
}

#[cfg(test)]
mod tests {
    use super::status::*;
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        assert!(GraphName::parse("movies").is_some());
        assert!(GraphName::parse("g_12").is_some());
        assert!(GraphName::parse(&format!("a{}", "b".repeat(49))).is_some());
        for bad in [
            "abc",
            "1abc",
            "_abc",
            "ab-cd",
            "abc d",
            "",
            &"a".repeat(51),
            "graphé",
        ] {
            assert!(GraphName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn versions_compare_by_component() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2.3.18") > v("2.3.9"));
        assert!(v("2.10") > v("2.9.9"));
        assert!(v("2.3.18") == v("2.3.18"));
        assert!(Version::parse("2.x").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn each_operation_starts_only_from_its_states() {
        let stop = Operation::Stop;
        assert_eq!(accept(&stop, RUNNING, InFlight::Nothing), Ok(()));
        assert_eq!(
            accept(&stop, STOPPED, InFlight::Nothing),
            Err(Refusal("GES.7003"))
        );
        assert_eq!(
            accept(&stop, PREPARING, InFlight::Nothing),
            Err(Refusal("GES.7042"))
        );
        assert_eq!(
            accept(&stop, IMPORTING, InFlight::Nothing),
            Err(Refusal("GES.7001"))
        );
        let start = Operation::Start { backup_id: None };
        assert_eq!(accept(&start, STOPPED, InFlight::Nothing), Ok(()));
        assert_eq!(
            accept(&start, RUNNING, InFlight::Nothing),
            Err(Refusal("GES.7037"))
        );
        assert_eq!(
            accept(
                &Operation::Backup {
                    backup_id: uuid::Uuid::nil()
                },
                STOPPED,
                InFlight::Nothing
            ),
            Ok(())
        );
        assert_eq!(
            accept(&Operation::Restart, FAULTY, InFlight::Nothing),
            Ok(())
        );
        assert_eq!(
            accept(&Operation::Restart, STOPPED, InFlight::Nothing),
            Err(Refusal("GES.7003"))
        );
    }

    #[test]
    fn one_operation_at_a_time_except_restart_and_delete() {
        let busy = InFlight::Job("ImportGraph");
        assert_eq!(
            accept(
                &Operation::Clear {
                    clear_metadata: false
                },
                IMPORTING,
                busy
            ),
            Err(Refusal("GES.7001"))
        );
        assert_eq!(accept(&Operation::Restart, IMPORTING, busy), Ok(()));
        assert_eq!(
            accept(&Operation::Delete { keep_backup: false }, IMPORTING, busy),
            Ok(())
        );
        let backing_up = InFlight::Job("BackupGraph");
        assert_eq!(
            accept(&Operation::Stop, RUNNING, backing_up),
            Err(Refusal("GES.7002"))
        );
        let deleting = InFlight::Job("DeleteGraph");
        assert_eq!(
            accept(&Operation::Delete { keep_backup: true }, RUNNING, deleting),
            Err(Refusal("GES.7054"))
        );
        assert_eq!(
            accept(
                &Operation::Delete { keep_backup: true },
                DELETED,
                InFlight::Nothing
            ),
            Err(Refusal("GES.7054"))
        );
    }

    #[test]
    fn outcomes_follow_the_transition_table() {
        assert_eq!(Operation::Stop.status_on_success(RUNNING), STOPPED);
        assert_eq!(Operation::Stop.status_on_failure(RUNNING), RUNNING);
        assert_eq!(
            Operation::Create.status_on_failure(PREPARING),
            CREATION_FAILED
        );
        assert_eq!(Operation::Restart.status_on_failure(RUNNING), FAULTY);
        assert_eq!(
            Operation::Backup {
                backup_id: uuid::Uuid::nil()
            }
            .status_on_success(STOPPED),
            STOPPED
        );
        assert_eq!(
            Operation::Delete { keep_backup: false }.status_on_success(RUNNING),
            DELETED
        );
        assert_eq!(
            Operation::Delete { keep_backup: false }.status_while_running(),
            None
        );
    }
}
