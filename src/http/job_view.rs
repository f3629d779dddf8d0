//! The job object of the contract, as JSON.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::FileKind;
use crate::domain::job::shown_progress;
use crate::domain::time::format_time;
use crate::domain::{Job, JobFile};

/// A job on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Job)]
pub struct JobView {
    /// 32 lowercase hex characters.
    #[schema(example = "0192f5e4c3b07d6a9e1f2a3b4c5d6e7f")]
    pub job_id: String,
    #[schema(value_type = crate::domain::JobStatus)]
    pub status: &'static str,
    /// `GraphManagement` for graph operations, or a producer's own type.
    pub job_type: String,
    /// The operation (`CreateGraph`, `ImportGraph`, ...) or the producer's name.
    pub job_name: String,
    /// The graph's name.
    pub related_graph: Option<String>,
    /// `yyyy-MM-ddTHH:mm:ss` (UTC).
    pub begin_time: String,
    /// `yyyy-MM-ddTHH:mm:ss` (UTC); null until the job ends.
    pub end_time: Option<String>,
    /// Present for jobs with files (imports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_detail: Option<JobDetailView>,
    pub fail_reason: Option<String>,
    /// 0 to 100 (100 once the job ended).
    pub job_progress: f64,
}

/// `job_detail`: the files of an import, by kind; `null` for a kind with no file.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobDetail)]
pub struct JobDetailView {
    pub schema_path: Option<Vec<FileView>>,
    pub edgeset_path: Option<Vec<FileView>>,
    pub vertexset_path: Option<Vec<FileView>>,
}

/// One file's result.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobFile)]
pub struct FileView {
    pub path: String,
    pub log: Option<String>,
    #[schema(value_type = crate::domain::FileStatus)]
    pub status: &'static str,
    pub cause: Option<String>,
    /// -1 while unknown.
    pub total_lines: i64,
    pub failed_lines: i64,
    pub successful_lines: i64,
}

/// The list answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JobList)]
pub struct JobListView {
    /// Jobs matching the filter, over all pages.
    pub job_count: i64,
    pub job_list: Vec<JobView>,
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        JobView {
            job_id: job.id.to_string(),
            status: job.status.as_str(),
            job_type: job.job_type,
            job_name: job.job_name,
            related_graph: job.graph_name,
            begin_time: format_time(job.begin_time),
            end_time: job.end_time.map(format_time),
            job_detail: job.files.map(JobDetailView::from_files),
            fail_reason: job.fail_reason,
            job_progress: shown_progress(job.status, job.progress),
        }
    }
}

impl JobDetailView {
    fn from_files(files: Vec<JobFile>) -> JobDetailView {
        let (mut schema, mut edges, mut vertices) = (Vec::new(), Vec::new(), Vec::new());
        for file in files {
            match file.kind {
                FileKind::Schema => schema.push(FileView::from(file)),
                FileKind::Edge => edges.push(FileView::from(file)),
                FileKind::Vertex => vertices.push(FileView::from(file)),
            }
        }
        let listed = |list: Vec<FileView>| (!list.is_empty()).then_some(list);
        JobDetailView {
            schema_path: listed(schema),
            edgeset_path: listed(edges),
            vertexset_path: listed(vertices),
        }
    }
}

impl From<JobFile> for FileView {
    fn from(file: JobFile) -> Self {
        FileView {
            path: file.path,
            log: file.log,
            status: file.status.as_str(),
            cause: file.cause,
            total_lines: file.total_lines,
            failed_lines: file.failed_lines,
            successful_lines: file.successful_lines,
        }
    }
}
