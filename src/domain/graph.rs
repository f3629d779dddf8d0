//! Graphs: the graph as recorded, its status codes, names and versions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::job::{FileKind, JobStatus};

/// A graph's status: the GES codes of the contract (shown as text, stored as a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i16", into = "i16")]
pub enum GraphStatus {
    Preparing,
    Running,
    Upgrading,
    Importing,
    RollingBack,
    Exporting,
    Clearing,
    Resizing,
    ResizingRollback,
    Expanding,
    ExpandingRollback,
    Faulty,
    CreationFailed,
    Deleted,
    Stopped,
    Stopping,
    Starting,
}

impl GraphStatus {
    /// Every status with its code.
    const CODES: [(GraphStatus, i16); 17] = [
        (GraphStatus::Preparing, 100),
        (GraphStatus::Running, 200),
        (GraphStatus::Upgrading, 201),
        (GraphStatus::Importing, 202),
        (GraphStatus::RollingBack, 203),
        (GraphStatus::Exporting, 204),
        (GraphStatus::Clearing, 205),
        (GraphStatus::Resizing, 206),
        (GraphStatus::ResizingRollback, 207),
        (GraphStatus::Expanding, 210),
        (GraphStatus::ExpandingRollback, 211),
        (GraphStatus::Faulty, 300),
        (GraphStatus::CreationFailed, 303),
        (GraphStatus::Deleted, 400),
        (GraphStatus::Stopped, 900),
        (GraphStatus::Stopping, 901),
        (GraphStatus::Starting, 920),
    ];

    /// Every status.
    pub fn all() -> impl Iterator<Item = GraphStatus> {
        GraphStatus::CODES.into_iter().map(|(status, _)| status)
    }

    /// The GES code, e.g. 200 for running.
    pub fn code(self) -> i16 {
        GraphStatus::CODES
            .iter()
            .find(|(status, _)| *status == self)
            .map_or(0, |(_, code)| *code)
    }

    /// The status of a code.
    pub fn from_code(code: i16) -> Option<GraphStatus> {
        GraphStatus::CODES
            .iter()
            .find(|(_, c)| *c == code)
            .map(|(status, _)| *status)
    }
}

impl TryFrom<i16> for GraphStatus {
    type Error = String;

    fn try_from(code: i16) -> Result<Self, Self::Error> {
        GraphStatus::from_code(code).ok_or_else(|| format!("unknown graph status {code}"))
    }
}

impl From<GraphStatus> for i16 {
    fn from(status: GraphStatus) -> i16 {
        status.code()
    }
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

/// The version new graphs get.
pub const DEFAULT_VERSION: &str = "2.3.18";

/// A graph as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub id: Uuid,
    pub project_id: String,
    pub name: String,
    pub status: GraphStatus,
    pub action_progress: f32,
    pub data_store_version: String,
    pub graph_size_type_index: i32,
    pub replication: i32,
    pub arch: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_id: Option<String>,
    pub tags: Value,
    /// Fields of the create body that mean nothing here, echoed back.
    pub extra: Value,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub created_by: Option<String>,
    /// The operation in flight.
    pub active_job_id: Option<Uuid>,
}

/// A graph to create, as checked from the create call.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGraph {
    pub name: GraphName,
    /// 0..100.
    pub graph_size_type_index: i32,
    /// 1..10.
    pub replication: i32,
    pub arch: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_id: Option<String>,
    pub tags: Value,
    /// Fields of the create body that mean nothing here, echoed back.
    pub extra: Value,
}

impl Graph {
    /// A new graph of `project` (status `preparing` until its create job runs).
    pub fn create(project: &str, spec: NewGraph, creator: &str) -> Graph {
        let now = Utc::now();
        Graph {
            id: Uuid::now_v7(),
            project_id: project.to_owned(),
            name: spec.name.as_str().to_owned(),
            status: GraphStatus::Preparing,
            action_progress: 0.0,
            data_store_version: DEFAULT_VERSION.to_owned(),
            graph_size_type_index: spec.graph_size_type_index,
            replication: spec.replication,
            arch: spec.arch,
            vpc_id: spec.vpc_id,
            subnet_id: spec.subnet_id,
            security_group_id: spec.security_group_id,
            tags: spec.tags,
            extra: spec.extra,
            created: now,
            updated: now,
            created_by: Some(creator.to_owned()),
            active_job_id: None,
        }
    }
}

/// A graph with the files its finished imports brought in (the graph object's
/// `schema_path`, `vertexset_path`, `edgeset_path`).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphWithImports {
    pub graph: Graph,
    pub imports: Vec<ImportedFile>,
}

/// One file of a finished import of a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFile {
    pub job_id: Uuid,
    pub kind: FileKind,
    pub path: String,
    pub job_status: JobStatus,
}

#[cfg(test)]
mod tests {
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
    fn statuses_round_trip_through_their_codes() {
        for status in GraphStatus::all() {
            assert_eq!(GraphStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(GraphStatus::Deleted.code(), 400);
        assert_eq!(GraphStatus::from_code(0), None);
        assert_eq!(serde_json::to_string(&GraphStatus::Stopped).unwrap(), "900");
    }
}
