//! Streaming rows out of the database into local files, for exports: keyset pages fetched
//! ahead of a blocking writer task, progress counted as rows are written, files kept in a
//! private scratch directory (removed when dropped) until they are uploaded. Memory holds
//! a few pages whatever the number of rows.

use std::fs::File;
use std::future::Future;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{EngineError, JobContext};
use crate::store::StoreError;

/// Rows read from the database at a time.
pub const PAGE_ROWS: i64 = 10_000;
/// Pages fetched ahead of the writer.
const PAGES_AHEAD: usize = 2;
/// Progress when every row is written locally (the uploads take the rest).
pub const ROWS_DONE_PERCENT: f32 = 90.0;

/// Where a writer task puts rows (in a blocking task).
pub trait RowSink<T>: Send + 'static {
    /// Writes one row.
    fn write(&mut self, row: &T) -> Result<(), EngineError>;
    /// Flushes and closes the file.
    fn finish(self) -> Result<(), EngineError>;
}

/// A buffered local file for a sink.
pub fn create(path: &Path) -> Result<BufWriter<File>, EngineError> {
    File::create(path)
        .map(|file| BufWriter::with_capacity(256 << 10, file))
        .map_err(local_failure)
}

/// A failed write of a local file.
pub fn local_failure(err: impl std::fmt::Display) -> EngineError {
    EngineError::Failed(format!("cannot write the local export file: {err}"))
}

/// Rows written so far out of `total`.
pub struct Progress {
    pub total: u64,
    pub written: Arc<AtomicU64>,
}

impl Progress {
    /// A count of `total` rows, none written.
    pub fn of(total: i64) -> Progress {
        Progress {
            total: total.max(0) as u64,
            written: Arc::new(AtomicU64::new(0)),
        }
    }

    fn report(&self, ctx: &JobContext) {
        if self.total > 0 {
            let done = self.written.load(Ordering::Relaxed).min(self.total);
            ctx.progress(ROWS_DONE_PERCENT * done as f32 / self.total as f32);
        }
    }
}

/// Fetches pages of rows after `start` (keyset: `key` of a page's last row) and hands them
/// to a writer task over `sink` until a short page, checking for cancellation and a lost
/// lease in between.
pub async fn stream_rows<T, K, S, F, Fut>(
    ctx: &JobContext,
    progress: &Progress,
    sink: S,
    start: K,
    key: impl Fn(&T) -> K,
    mut fetch: F,
) -> Result<(), EngineError>
where
    T: Send + 'static,
    S: RowSink<T>,
    F: FnMut(K) -> Fut,
    Fut: Future<Output = Result<Vec<T>, StoreError>>,
{
    let Writer { pages, task } = Writer::spawn(sink, progress.written.clone());
    let fetched = async {
        let mut after = start;
        loop {
            ctx.checkpoint()?;
            let page = fetch(after).await?;
            let last = page.last().map(&key);
            let full = page.len() as i64 >= PAGE_ROWS;
            if !page.is_empty() && pages.send(page).await.is_err() {
                // The writer stopped; its error is the one to report.
                return Ok::<(), EngineError>(());
            }
            progress.report(ctx);
            match last {
                Some(last) if full => after = last,
                _ => return Ok(()),
            }
        }
    }
    .await;
    drop(pages);
    let written = task
        .await
        .map_err(|e| EngineError::Failed(format!("internal error (export writer: {e})")))?;
    fetched?;
    written?;
    progress.report(ctx);
    Ok(())
}

/// A blocking task writing pages of rows into a sink.
struct Writer<T> {
    pages: mpsc::Sender<Vec<T>>,
    task: JoinHandle<Result<(), EngineError>>,
}

impl<T: Send + 'static> Writer<T> {
    fn spawn<S: RowSink<T>>(mut sink: S, written: Arc<AtomicU64>) -> Writer<T> {
        let (pages, mut incoming) = mpsc::channel::<Vec<T>>(PAGES_AHEAD);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(page) = incoming.blocking_recv() {
                for row in &page {
                    sink.write(row)?;
                }
                written.fetch_add(page.len() as u64, Ordering::Relaxed);
            }
            sink.finish()
        });
        Writer { pages, task }
    }
}

/// A private local directory for the job's files, removed when dropped.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A new directory for `job_id`.
    pub fn new(job_id: uuid::Uuid) -> Result<Scratch, EngineError> {
        let dir = std::env::temp_dir().join(format!(
            "jobcenter-export-{job_id}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| {
            EngineError::Failed(format!(
                "cannot create a local directory for the export: {e}"
            ))
        })?;
        Ok(Scratch { dir })
    }

    /// A file of the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = ?self.dir, error = %err, "cannot remove the export's local files");
        }
    }
}
