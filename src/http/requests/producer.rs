//! The bodies of the producer API (unknown fields are refused), and their turning into the
//! domain's checked requests.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::Error as _;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::lenient;
use crate::domain::producer::{
    self, Beat, Claim, Completion, MAX_BATCH, MAX_CLAIM, MAX_CLAIM_TYPES, NewProducerJob,
};
use crate::domain::{FileKind, FileStatus, JobFile, ParamError};
use crate::http::extract::Body;

/// One job as a producer sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobBody {
    /// The producer's own job type (not a built-in one: `GraphManagement`, `Noop`).
    #[schema(format = "job-type")]
    pub job_type: String,
    #[schema(pattern = "^[A-Za-z0-9_.:/-]{1,128}$")]
    pub job_name: String,
    /// A graph name of the project, shown as the job's `related_graph`.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9_]{3,49}$")]
    pub related_graph: Option<String>,
    /// Any JSON, handed to the worker that claims the job.
    #[serde(default)]
    pub payload: Value,
    /// Files shown in the job's `job_detail`.
    #[serde(default)]
    pub files: Option<Vec<FileBody>>,
    /// Not claimed before this time.
    #[serde(default)]
    pub run_after: Option<DateTime<Utc>>,
    /// 1..100; 3 when absent.
    #[serde(default, deserialize_with = "lenient::whole")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_attempts: Option<i32>,
    /// -1000..1000, higher first; 0 when absent.
    #[serde(default, deserialize_with = "lenient::whole")]
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
    /// 1 to 200 characters; a second enqueue with the same key answers the first job's id.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub idempotency_key: Option<String>,
}

/// One file entry, as in `job_detail`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    #[schema(value_type = FileKind)]
    pub kind: String,
    #[schema(min_length = 1)]
    pub path: String,
    #[serde(default)]
    pub log: Option<String>,
    /// `pending` when absent.
    #[serde(default)]
    #[schema(value_type = Option<FileStatus>)]
    pub status: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default, deserialize_with = "lenient::whole")]
    pub total_lines: Option<i64>,
    #[serde(default, deserialize_with = "lenient::whole")]
    pub failed_lines: Option<i64>,
    #[serde(default, deserialize_with = "lenient::whole")]
    pub successful_lines: Option<i64>,
}

/// A batch of jobs to enqueue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// 1 to 1,000 jobs.
    #[schema(min_items = 1, max_items = 1000)]
    pub jobs: Vec<JobBody>,
}

/// `POST /internal/v1/{project_id}/jobs`: one job, or a batch (`{"jobs": [...]}`).
#[derive(Debug, ToSchema)]
#[serde(untagged)]
pub enum EnqueueBody {
    One(JobBody),
    Batch(BatchBody),
}

impl<'de> Deserialize<'de> for EnqueueBody {
    /// A body with a `jobs` field is a batch, any other one job; errors name the field.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let fields = |e: serde_path_to_error::Error<serde_json::Error>| {
            D::Error::custom(format!("{}: {}", e.path(), e.inner()))
        };
        if value.get("jobs").is_some() {
            serde_path_to_error::deserialize(value)
                .map(EnqueueBody::Batch)
                .map_err(fields)
        } else {
            serde_path_to_error::deserialize(value)
                .map(EnqueueBody::One)
                .map_err(fields)
        }
    }
}

impl Body for EnqueueBody {}

impl EnqueueBody {
    /// The checked jobs, and whether one job (not a batch) was sent.
    pub fn jobs(self) -> Result<(Vec<NewProducerJob>, bool), ParamError> {
        let (bodies, single) = match self {
            EnqueueBody::One(job) => (vec![job], true),
            EnqueueBody::Batch(batch) => (batch.jobs, false),
        };
        if bodies.is_empty() || bodies.len() > MAX_BATCH {
            return Err(ParamError::new("jobs", format!("1 to {MAX_BATCH} jobs")));
        }
        let jobs = bodies
            .into_iter()
            .map(NewProducerJob::try_from)
            .collect::<Result<_, _>>()?;
        Ok((jobs, single))
    }
}

impl TryFrom<JobBody> for NewProducerJob {
    type Error = ParamError;

    fn try_from(body: JobBody) -> Result<Self, Self::Error> {
        producer::check_job_type(&body.job_type)?;
        producer::name_like("job_name", &body.job_name, 128)?;
        if let Some(graph) = &body.related_graph {
            producer::check_related_graph(graph)?;
        }
        let max_attempts = body.max_attempts.unwrap_or(3);
        if !(1..=100).contains(&max_attempts) {
            return Err(ParamError::new("max_attempts", "must be 1..100"));
        }
        let priority = body.priority.unwrap_or(0);
        if !(-1000..=1000).contains(&priority) {
            return Err(ParamError::new("priority", "must be -1000..1000"));
        }
        if let Some(key) = &body.idempotency_key
            && (key.is_empty() || key.chars().count() > 200)
        {
            return Err(ParamError::new("idempotency_key", "1 to 200 characters"));
        }
        Ok(NewProducerJob {
            files: files(body.files)?.unwrap_or_default(),
            job_type: body.job_type,
            job_name: body.job_name,
            related_graph: body.related_graph,
            payload: body.payload,
            run_after: body.run_after,
            max_attempts,
            priority,
            idempotency_key: body.idempotency_key,
        })
    }
}

impl TryFrom<FileBody> for JobFile {
    type Error = ParamError;

    fn try_from(body: FileBody) -> Result<Self, Self::Error> {
        let kind = producer::file_kind(&body.kind)?;
        let status = producer::file_status(body.status.as_deref())?;
        if body.path.is_empty() {
            return Err(ParamError::new("files.path", "must not be empty"));
        }
        Ok(JobFile {
            kind,
            path: body.path,
            log: body.log,
            status,
            cause: body.cause,
            total_lines: body.total_lines.unwrap_or(-1),
            failed_lines: body.failed_lines.unwrap_or(-1),
            successful_lines: body.successful_lines.unwrap_or(-1),
        })
    }
}

/// Optional file lists, checked.
fn files(files: Option<Vec<FileBody>>) -> Result<Option<Vec<JobFile>>, ParamError> {
    files
        .map(|list| list.into_iter().map(JobFile::try_from).collect())
        .transpose()
}

/// `claim`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// 1 to 50 job types to take jobs of.
    #[schema(schema_with = job_types)]
    pub job_types: Vec<String>,
    /// 1..100; 1 when absent.
    #[serde(default, deserialize_with = "lenient::whole")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_jobs: Option<i64>,
    /// The lease, 1..3600 seconds; 30 when absent.
    #[serde(default, deserialize_with = "lenient::whole")]
    #[schema(minimum = 1, maximum = 3600)]
    pub lease_secs: Option<u64>,
    /// Names the claiming worker in the job's record.
    #[serde(default)]
    pub worker_id: Option<String>,
}

impl Body for ClaimBody {}

/// `job_types`: 1 to 50 job types, each as in [`JobBody::job_type`].
fn job_types() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::Custom("job-type".to_owned()))),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_CLAIM_TYPES))
        .description(Some("1 to 50 job types to take jobs of."))
        .build()
}

impl TryFrom<ClaimBody> for Claim {
    type Error = ParamError;

    fn try_from(body: ClaimBody) -> Result<Self, Self::Error> {
        if body.job_types.is_empty() || body.job_types.len() > MAX_CLAIM_TYPES {
            return Err(ParamError::new("job_types", "1 to 50 job types"));
        }
        for job_type in &body.job_types {
            producer::check_job_type(job_type)?;
        }
        let max_jobs = body.max_jobs.unwrap_or(1);
        if !(1..=MAX_CLAIM).contains(&max_jobs) {
            return Err(ParamError::new(
                "max_jobs",
                format!("must be 1..{MAX_CLAIM}"),
            ));
        }
        Ok(Claim {
            job_types: body.job_types,
            max_jobs,
            lease: producer::lease(body.lease_secs)?,
            worker_id: body.worker_id,
        })
    }
}

/// `heartbeat`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// The token the claim answered.
    pub lease_token: Uuid,
    /// The renewed lease, 1..3600 seconds; 30 when absent.
    #[serde(default, deserialize_with = "lenient::whole")]
    #[schema(minimum = 1, maximum = 3600)]
    pub lease_secs: Option<u64>,
    /// 0..100 (never goes backwards).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub progress: Option<f32>,
    #[serde(default)]
    pub files: Option<Vec<FileBody>>,
}

impl Body for HeartbeatBody {}

impl TryFrom<HeartbeatBody> for Beat {
    type Error = ParamError;

    fn try_from(body: HeartbeatBody) -> Result<Self, Self::Error> {
        if let Some(p) = body.progress
            && !(0.0..=100.0).contains(&p)
        {
            return Err(ParamError::new("progress", "must be 0..100"));
        }
        Ok(Beat {
            lease_token: body.lease_token,
            lease: producer::lease(body.lease_secs)?,
            progress: body.progress,
            files: files(body.files)?,
        })
    }
}

/// `complete`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// The token the claim answered.
    pub lease_token: Uuid,
    #[schema(value_type = FinalStatus)]
    pub status: String,
    #[serde(default)]
    pub fail_reason: Option<String>,
    #[serde(default)]
    pub files: Option<Vec<FileBody>>,
}

impl Body for CompleteBody {}

/// The statuses a producer's worker may end a job with.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum FinalStatus {
    Success,
    PartiallyFailed,
    Failed,
}

impl TryFrom<CompleteBody> for Completion {
    type Error = ParamError;

    fn try_from(body: CompleteBody) -> Result<Self, Self::Error> {
        Ok(Completion {
            lease_token: body.lease_token,
            status: producer::final_status(&body.status)?,
            fail_reason: body.fail_reason,
            files: files(body.files)?,
        })
    }
}
