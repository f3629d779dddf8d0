//! Jobs: ids, types, statuses and the per-file import statuses.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::{NoContext, Timestamp, Uuid};

/// The `job_type` of graph operations.
pub const GRAPH_MANAGEMENT: &str = "GraphManagement";
/// The `job_type` of jobs that do nothing but succeed (benchmarks, smoke tests).
pub const NOOP: &str = "Noop";
/// Job types that the built-in worker pool runs; producers may not use them (a producer's
/// job would be claimed and run by the built-in engine).
pub const RESERVED_TYPES: [&str; 2] = [GRAPH_MANAGEMENT, NOOP];
/// The `job_name` whose jobs always show a `job_detail` (their per-file results).
pub const IMPORT_GRAPH: &str = "ImportGraph";

/// A job id: a time-ordered UUID, shown as 32 lowercase hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub Uuid);

impl JobId {
    /// A new id, ordered by creation time.
    pub fn new() -> JobId {
        JobId(Uuid::now_v7())
    }

    /// A new id carrying `begin` as its time, for a job recorded as begun then (history
    /// loaded or made up); the database holds a job's `begin_time` within a day of its
    /// id's time (`jobs_begin_near_id`, migration V16).
    pub fn begun_at(begin: DateTime<Utc>) -> JobId {
        let millis = u64::try_from(begin.timestamp_millis()).unwrap_or(0);
        let ts = Timestamp::from_unix(NoContext, millis / 1000, (millis % 1000) as u32 * 1_000_000);
        JobId(Uuid::new_v7(ts))
    }

    /// The times its job's `begin_time` lies between, for a UUID v7 (the database holds it
    /// within a day of the id's time, `jobs_begin_near_id`; a second more here); `None` for
    /// ids of other versions, which bound nothing.
    pub fn begin_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.0.get_version_num() != 7 {
            return None;
        }
        let (secs, nanos) = self.0.get_timestamp()?.to_unix();
        let time = DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)?;
        let margin = TimeDelta::days(1) + TimeDelta::seconds(1);
        Some((time - margin, time + margin))
    }

    /// The window of [`begin_window`](Self::begin_window) that holds the jobs of all `ids`
    /// (`None` when one of them bounds nothing): a statement on a batch of jobs bounds
    /// `begin_time` by it, so PostgreSQL opens only the months it covers.
    pub fn begin_window_of(
        ids: impl IntoIterator<Item = JobId>,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        ids.into_iter()
            .map(|id| id.begin_window())
            .try_fold(
                None,
                |acc: Option<(DateTime<Utc>, DateTime<Utc>)>, window| {
                    let (lo, hi) = window?;
                    Some(Some(acc.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi)))))
                },
            )
            .flatten()
    }

    /// Accepts the 32-hex form (and the dashed UUID form).
    pub fn parse(raw: &str) -> Option<JobId> {
        Uuid::try_parse(raw).ok().map(JobId)
    }
}

impl Default for JobId {
    fn default() -> Self {
        JobId::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

/// On the wire: the 32-hex form.
impl serde::Serialize for JobId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A job's progress as the API shows it: 100 once the job has ended, otherwise what it
/// reported, to two decimals.
pub fn shown_progress(status: JobStatus, progress: f32) -> f64 {
    let progress = if status.is_final() {
        100.0
    } else {
        f64::from(progress)
    };
    (progress * 100.0).round() / 100.0
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum JobStatus {
    Pending,
    Running,
    Success,
    PartiallyFailed,
    Failed,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Success,
        JobStatus::PartiallyFailed,
        JobStatus::Failed,
    ];

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Success => "success",
            JobStatus::PartiallyFailed => "partiallyFailed",
            JobStatus::Failed => "failed",
        }
    }

    /// A status that never changes again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Success | JobStatus::PartiallyFailed | JobStatus::Failed
        )
    }

    /// The list API's `status` filter: `waiting` (and its alias `pending`), `running`,
    /// `success`, `partiallyFailed`, `failed`.
    pub fn parse_filter(raw: &str) -> Option<JobStatus> {
        match raw {
            "waiting" => Some(JobStatus::Pending),
            other => other.parse().ok(),
        }
    }
}

impl FromStr for JobStatus {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// On the wire: its spelling.
impl serde::Serialize for JobStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored value that is not one of the known spellings.
#[derive(Debug, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

/// Which list of `job_detail` a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FileKind {
    Schema,
    Edge,
    Vertex,
}

impl FileKind {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Schema => "schema",
            FileKind::Edge => "edge",
            FileKind::Vertex => "vertex",
        }
    }
}

impl FromStr for FileKind {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [FileKind::Schema, FileKind::Edge, FileKind::Vertex]
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

/// The result of one file of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum FileStatus {
    Pending,
    Running,
    Success,
    Failed,
    PartFailed,
}

impl FileStatus {
    /// The wire and database spelling (note `partFailed`, not `partiallyFailed`).
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Pending => "pending",
            FileStatus::Running => "running",
            FileStatus::Success => "success",
            FileStatus::Failed => "failed",
            FileStatus::PartFailed => "partFailed",
        }
    }
}

impl FromStr for FileStatus {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            FileStatus::Pending,
            FileStatus::Running,
            FileStatus::Success,
            FileStatus::Failed,
            FileStatus::PartFailed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_ids_bounds_begin_times_unless_one_is_not_v7() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let (a, b) = (at("2025-01-10T00:00:00Z"), at("2025-01-20T00:00:00Z"));
        let ids = [JobId::begun_at(b), JobId::begun_at(a)];
        let (lo, hi) = JobId::begin_window_of(ids).unwrap();
        assert!(lo < a - TimeDelta::days(1) && lo > a - TimeDelta::days(2));
        assert!(hi > b + TimeDelta::days(1) && hi < b + TimeDelta::days(2));
        let v4 = JobId(Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef));
        assert_eq!(JobId::begin_window_of([ids[0], v4]), None);
        assert_eq!(JobId::begin_window_of([]), None);
    }

    #[test]
    fn an_id_begun_at_a_time_carries_that_time() {
        let begin = DateTime::parse_from_rfc3339("2024-02-29T23:59:58.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = JobId::begun_at(begin).0;
        assert_eq!(id.get_version_num(), 7);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (begin.timestamp() as u64, 123_000_000));
    }

    #[test]
    fn job_ids_print_as_32_hex_and_parse_back() {
        let id = JobId::new();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(JobId::parse(&text), Some(id));
        assert_eq!(JobId::parse(&id.0.to_string()), Some(id));
        assert_eq!(JobId::parse("not-a-job"), None);
    }

    #[test]
    fn status_filter_accepts_waiting_and_pending() {
        assert_eq!(JobStatus::parse_filter("waiting"), Some(JobStatus::Pending));
        assert_eq!(JobStatus::parse_filter("pending"), Some(JobStatus::Pending));
        assert_eq!(
            JobStatus::parse_filter("partiallyFailed"),
            Some(JobStatus::PartiallyFailed)
        );
        assert_eq!(JobStatus::parse_filter("Running"), None);
        assert_eq!(JobStatus::parse_filter("cancelled"), None);
    }

    #[test]
    fn statuses_round_trip_and_know_finality() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>().unwrap(), status);
        }
        assert!(!JobStatus::Pending.is_final());
        assert!(!JobStatus::Running.is_final());
        assert!(JobStatus::PartiallyFailed.is_final());
        assert_eq!(
            "partFailed".parse::<FileStatus>().unwrap(),
            FileStatus::PartFailed
        );
        assert!("partiallyFailed".parse::<FileStatus>().is_err());
    }
}
