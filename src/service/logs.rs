//! Reject logs of a job's files, read in pages from object storage.
//!
//! Policy: the same project rule as the job (the token's project; another project's job is
//! unknown); a file with no log recorded, or whose log object is gone, is `GES.7055`; the
//! object is streamed through a blocking reader, so a page of a 1 GB log costs the page, not
//! the log (`storage::lines`).

use sqlx::PgPool;
use uuid::Uuid;

use super::ServiceError;
use crate::domain::{Code, FileKind, ObjectPath, ProjectId};
use crate::storage::lines::{self, LinePage};
use crate::storage::{Storage, StorageError};
use crate::store::{StoreError, jobs};

/// The largest page of lines.
pub const MAX_LINES: usize = 1000;

/// Which file of which job.
#[derive(Debug, Clone, Copy)]
pub struct FileKey<'a> {
    pub project: &'a ProjectId,
    pub job: Uuid,
    pub kind: FileKind,
    pub ordinal: i32,
}

/// Lines `offset..offset + limit` of the reject log of `file`.
pub async fn read_log(
    pool: &PgPool,
    storage: &Storage,
    file: FileKey<'_>,
    offset: u64,
    limit: usize,
) -> Result<LinePage, ServiceError> {
    let found = jobs::find_file_log(
        pool,
        file.project.as_str(),
        file.job,
        file.kind,
        file.ordinal,
    )
    .await?;
    let log = found
        .ok_or_else(|| ServiceError::rejected(Code::JobNotFound))?
        .ok_or_else(|| ServiceError::rejected(Code::LogNotFound))?;
    let path = ObjectPath::parse(&log).map_err(|_| {
        StoreError::corrupt("job_files.log", format!("{log:?} is not an object path"))
    })?;
    let unreadable = |error: StorageError| match error {
        StorageError::NotFound(_) => ServiceError::with(
            Code::LogNotFound,
            "the file's reject log is not written yet, or was deleted",
        ),
        error => ServiceError::Storage {
            field: "log",
            error,
        },
    };
    let reader = storage.reader(&path).await.map_err(unreadable)?;
    let limit = limit.min(MAX_LINES);
    let page = tokio::task::spawn_blocking(move || {
        let buffered = std::io::BufReader::with_capacity(64 * 1024, reader);
        lines::read_page(buffered, offset, limit)
    })
    .await
    .map_err(|e| StoreError::corrupt("reading a reject log", e.to_string()))?;
    page.map_err(|e| ServiceError::Storage {
        field: "log",
        error: StorageError::Transient(Box::new(e)),
    })
}
