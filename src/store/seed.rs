//! Bulk loading for `jobcenter seed`: COPY in batches, in text format.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{StoreError, months};
use crate::domain::JobId;
use crate::domain::{JobFile, NewJob};

/// Appends one COPY text field, escaping what the text format needs escaped.
fn push_field(buf: &mut String, value: Option<&str>) {
    match value {
        None => buf.push_str("\\N"),
        Some(text) => {
            for c in text.chars() {
                match c {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    other => buf.push(other),
                }
            }
        }
    }
}

fn push_row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        push_field(buf, *field);
    }
    buf.push('\n');
}

/// Loads jobs and their file results with two COPY statements (one transaction), after
/// making the months of the history they begin in.
pub async fn copy_jobs(
    conn: &mut PgConnection,
    jobs: &[NewJob],
    files: &[(JobId, Vec<JobFile>)],
) -> Result<(), StoreError> {
    let begins = jobs.iter().map(|j| j.begin_time.date_naive());
    if let (Some(first), Some(last)) = (begins.clone().min(), begins.max()) {
        months::add_months(&mut *conn, first, last).await?;
    }
    let begin_of: HashMap<Uuid, String> = jobs
        .iter()
        .map(|j| (j.id.0, j.begin_time.to_rfc3339()))
        .collect();
    let mut buf = String::with_capacity(jobs.len() * 200);
    for job in jobs {
        let id = job.id.0.to_string();
        let graph_id = job.graph_id.map(|g| g.to_string());
        let begin = job.begin_time.to_rfc3339();
        let end = job.end_time.map(|t| t.to_rfc3339());
        let progress = job.progress.to_string();
        // Seeded history is never run: unfinished seeded jobs wait forever.
        let run_after = if job.status.is_final() {
            begin.clone()
        } else {
            "infinity".to_owned()
        };
        push_row(
            &mut buf,
            &[
                Some(&id),
                Some(job.project_id.as_str()),
                graph_id.as_deref(),
                job.graph_name.as_deref(),
                Some(&job.job_type),
                Some(&job.job_name),
                Some(job.status.as_str()),
                Some(&begin),
                end.as_deref(),
                Some(&progress),
                job.fail_reason.as_deref(),
                job.created_by.as_deref(),
                Some(&run_after),
            ],
        );
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY jobs (id, project_id, graph_id, graph_name, job_type, job_name, status, \
             begin_time, end_time, progress, fail_reason, created_by, run_after) FROM STDIN",
        )
        .await?;
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;

    buf.clear();
    for (job, job_files) in files {
        let id = job.0.to_string();
        let begin = begin_of.get(&job.0).map(String::as_str);
        let mut ordinals = [0u32; 3];
        for file in job_files {
            let slot = &mut ordinals[file.kind as usize];
            *slot += 1;
            let numbers = [
                slot.to_string(),
                file.total_lines.to_string(),
                file.failed_lines.to_string(),
                file.successful_lines.to_string(),
            ];
            push_row(
                &mut buf,
                &[
                    Some(&id),
                    begin,
                    Some(file.kind.as_str()),
                    Some(&numbers[0]),
                    Some(&file.path),
                    file.log.as_deref(),
                    Some(file.status.as_str()),
                    file.cause.as_deref(),
                    Some(&numbers[1]),
                    Some(&numbers[2]),
                    Some(&numbers[3]),
                ],
            );
        }
    }
    if !buf.is_empty() {
        let mut copy = conn
            .copy_in_raw(
                "COPY job_files (job_id, begin_time, kind, ordinal, path, log, status, cause, \
                 total_lines, failed_lines, successful_lines) FROM STDIN",
            )
            .await?;
        copy.send(buf.as_bytes()).await?;
        copy.finish().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_separators_and_nulls() {
        let mut buf = String::new();
        push_row(&mut buf, &[Some("a\tb"), None, Some("c\\d\ne")]);
        assert_eq!(buf, "a\\tb\t\\N\tc\\\\d\\ne\n");
    }
}
