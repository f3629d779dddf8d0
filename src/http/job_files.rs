//! A job's files: the reject log of one file, in pages of lines.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::common::job_id;
use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, Query, Reader};
use super::openapi::errors as err;
use super::requests::params::{PageParams, ProjectPath};
use crate::domain::{Code, FileKind, Page};
use crate::service::logs::{self, FileKey};
use crate::storage::Storage;

/// `{job_id}`, `{kind}` and `{ordinal}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FilePath {
    /// The job's id (anything unparsable is an unknown job, 404).
    pub job_id: String,
    /// Which list of `job_detail` the file is in.
    #[param(value_type = FileKind)]
    pub kind: String,
    /// The file's place in that list, from 1.
    #[param(value_type = i32, minimum = 1)]
    pub ordinal: String,
}

/// One page of a reject log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    /// The first line's index (from 0).
    pub offset: i64,
    /// The lines, each `file:line: reason` (a line longer than 16 KiB is cut).
    pub lines: Vec<String>,
    /// The offset of the next page; null when this is the last.
    pub next_offset: Option<i64>,
}

/// `GET /v2/{project_id}/graphs/jobs/{job_id}/files/{kind}/{ordinal}/log`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/jobs/{job_id}/files/{kind}/{ordinal}/log",
    tag = "jobs",
    summary = "Read the reject log of one file of a job",
    description = "Lines `offset` to `offset + limit` of the log of rejected lines that an \
        import wrote for the file (`job_detail`'s `log`), streamed from object storage. \
        Needs a `readonly` or `operator` token.",
    params(ProjectPath, FilePath, PageParams),
    responses(
        (status = 200, description = "One page of lines.", body = LogPage),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::LOG_NOT_FOUND, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/jobs/{job_id}/files/{kind}/{ordinal}/log")]
pub async fn file_log(
    auth: Authorized<Reader>,
    path: web::Path<FilePath>,
    page: Query<PageParams>,
    pool: web::Data<PgPool>,
    storage: web::Data<Storage>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::try_from(page.0)?;
    let job = job_id(&path.job_id)?;
    let no_file = || ApiError::new(Code::LogNotFound, "the job has no such file");
    let kind: FileKind = path.kind.parse().map_err(|_| no_file())?;
    let ordinal: i32 = path.ordinal.parse().map_err(|_| no_file())?;
    let key = FileKey {
        project: &auth.project,
        job: job.0,
        kind,
        ordinal,
    };
    let offset = u64::try_from(page.offset).unwrap_or(0);
    let limit = usize::try_from(page.limit).unwrap_or(logs::MAX_LINES);
    let read = logs::read_log(&pool, &storage, key, offset, limit).await?;
    let next_offset = read.more.then(|| page.offset + read.lines.len() as i64);
    Ok(HttpResponse::Ok().json(LogPage {
        offset: page.offset,
        lines: read.lines,
        next_offset,
    }))
}
