//! Per-file results of an import: counts, a bounded summary of why lines were rejected
//! (the `cause` of `job_detail`), the reject log, and the file and job statuses.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::validate::{ReasonKind, Rejection};
use crate::domain::{FileStatus, JobStatus};

/// Longest example message kept per reason kind.
const EXAMPLE_CHARS: usize = 160;

/// The counts of one data file; `total == successful + failed` always.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTally {
    successful: u64,
    failed: u64,
    /// Per reason kind, in [`ReasonKind::ALL`] order.
    kinds: [KindCount; ReasonKind::ALL.len()],
}

/// How many lines were rejected for one kind of reason, and the first one's line and text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KindCount {
    count: u64,
    first: Option<(u64, String)>,
}

impl FileTally {
    /// No lines yet.
    pub fn new() -> FileTally {
        FileTally::default()
    }

    /// Counts an accepted line.
    pub fn accept(&mut self) {
        self.successful += 1;
    }

    /// Counts a line rejected at `line` (keeping it as an example if it is the first of
    /// its kind).
    pub fn reject(&mut self, line: u64, why: &Rejection) {
        self.failed += 1;
        let slot = &mut self.kinds[why.kind() as usize];
        slot.count += 1;
        if slot.first.is_none() {
            slot.first = Some((line, example(why.to_string())));
        }
    }

    /// The counts of a file whose lines were partly tallied before (an import taken over
    /// after a crash): `successful` lines accepted, and per reason kind how many lines were
    /// rejected and the first of them (its line and message).
    pub fn resume(
        successful: u64,
        rejected: impl IntoIterator<Item = (ReasonKind, u64, u64, String)>,
    ) -> FileTally {
        let mut tally = FileTally {
            successful,
            ..FileTally::default()
        };
        for (kind, count, line, text) in rejected {
            tally.failed += count;
            let slot = &mut tally.kinds[kind as usize];
            slot.count += count;
            slot.first.get_or_insert((line, example(text)));
        }
        tally
    }

    /// Lines read.
    pub fn total(&self) -> u64 {
        self.successful + self.failed
    }

    /// Lines accepted.
    pub fn successful(&self) -> u64 {
        self.successful
    }

    /// Lines rejected.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// How many lines were rejected for reasons of `kind`.
    pub fn count(&self, kind: ReasonKind) -> u64 {
        self.kinds[kind as usize].count
    }

    /// `success` when nothing failed (an empty file too), `failed` when every line did,
    /// `partFailed` otherwise.
    pub fn status(&self) -> FileStatus {
        match (self.successful, self.failed) {
            (_, 0) => FileStatus::Success,
            (0, _) => FileStatus::Failed,
            _ => FileStatus::PartFailed,
        }
    }

    /// The `cause` of the file: `None` when no line failed, else e.g. `3 lines rejected:
    /// 2 value does not parse (first: line 2: ...), 1 unknown label (first: line 7: ...)`,
    /// most frequent kinds first, one example each (bounded length).
    pub fn cause(&self) -> Option<String> {
        if self.failed == 0 {
            return None;
        }
        let plural = if self.failed == 1 { "line" } else { "lines" };
        let mut out = format!("{} {plural} rejected: ", self.failed);
        let mut kinds: Vec<(ReasonKind, &KindCount)> = ReasonKind::ALL
            .into_iter()
            .zip(&self.kinds)
            .filter(|(_, k)| k.count > 0)
            .collect();
        kinds.sort_by_key(|(kind, k)| (std::cmp::Reverse(k.count), *kind));
        for (i, (kind, k)) in kinds.into_iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{} {}", k.count, kind.as_str());
            if let Some((line, text)) = &k.first {
                let _ = write!(out, " (first: line {line}: {text})");
            }
        }
        Some(out)
    }
}

/// A rejection's message as kept for the `cause`: at most [`EXAMPLE_CHARS`] characters.
fn example(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(EXAMPLE_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Job status from the file statuses: `failed` when the schema failed or every file
/// failed, `success` when every file succeeded (or there are none), else
/// `partiallyFailed`.
pub fn job_status(schema_failed: bool, files: impl IntoIterator<Item = FileStatus>) -> JobStatus {
    if schema_failed {
        return JobStatus::Failed;
    }
    let (mut any, mut all_success, mut all_failed) = (false, true, true);
    for status in files {
        any = true;
        all_success &= status == FileStatus::Success;
        all_failed &= status == FileStatus::Failed;
    }
    if all_success {
        JobStatus::Success
    } else if any && all_failed {
        JobStatus::Failed
    } else {
        JobStatus::PartiallyFailed
    }
}

/// The log of rejected lines of one data file: `file:line: reason`, one line each.
pub struct RejectLog<W: Write> {
    file: String,
    out: W,
}

impl<W: Write> RejectLog<W> {
    /// A log of the rejects of `file` (its object path or name) written to `out`.
    pub fn new(file: impl Into<String>, out: W) -> RejectLog<W> {
        RejectLog {
            file: file.into(),
            out,
        }
    }

    /// Writes one rejected line (`why`: a [`Rejection`], or its message as recorded).
    pub fn write(&mut self, line: u64, why: &impl std::fmt::Display) -> io::Result<()> {
        writeln!(self.out, "{}:{line}: {why}", self.file)
    }

    /// Flushes and gives back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
