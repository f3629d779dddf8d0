//! Streaming CSV records over any `Read`: no header, a configurable delimiter and quote,
//! quoted fields holding delimiters and line breaks, any number of columns.
//!
//! Built on `csv-core` (the engine of the `csv` crate) rather than `csv::Reader` so that
//! memory stays bounded: a record longer than [`Records::max_record_bytes`] (typically a
//! stray quote swallowing the rest of the file) is read through and reported as one
//! [`Malformed::TooLong`] record instead of being buffered whole. Invalid UTF-8 is a
//! per-record [`Malformed::InvalidUtf8`], a NUL byte (which no text column can store) a
//! [`Malformed::NulCharacter`]. A UTF-8 byte order mark at the start and blank
//! lines are skipped (blank lines still count for line numbers). Only the underlying
//! reader's I/O errors are fatal.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

/// Default bound on one record's field bytes.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 8 << 20;
/// Bound on one record's field count.
pub const MAX_FIELDS: usize = 1 << 16;

pub use crate::domain::CsvFormat;

/// A record that cannot be read as text fields; the file goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// A field (numbered from 1) is not UTF-8.
    InvalidUtf8 { column: usize },
    /// A field (numbered from 1) holds a NUL character, which no text column can store.
    NulCharacter { column: usize },
    /// More than `max_bytes` of field data or more than [`MAX_FIELDS`] fields.
    TooLong { max_bytes: usize },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::InvalidUtf8 { column } => write!(f, "column {column} is not UTF-8"),
            Malformed::NulCharacter { column } => {
                write!(f, "column {column} holds a NUL character")
            }
            Malformed::TooLong { max_bytes } => write!(
                f,
                "record longer than {max_bytes} bytes or {MAX_FIELDS} columns \
                 (an unclosed quote?)"
            ),
        }
    }
}

/// One record of a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Counts records from 1 (a record spanning lines is one record; blank lines are none).
    pub number: u64,
    /// The line (from 1) where the record starts.
    pub line: u64,
    pub fields: Result<Vec<String>, Malformed>,
}

/// The records of one file, in order; `Err` only for an I/O error, after which it ends.
pub struct Records<R> {
    input: BufReader<SkipBom<R>>,
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    max_record_bytes: usize,
    lines_before: u64,
    number: u64,
    done: bool,
}

impl<R: Read> Records<R> {
    /// Records of `input` in `format`, each bounded by [`DEFAULT_MAX_RECORD_BYTES`].
    pub fn new(input: R, format: CsvFormat) -> Records<R> {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(format.delimiter)
            .quote(format.quote)
            .build();
        Records {
            input: BufReader::with_capacity(64 << 10, SkipBom::new(input)),
            core,
            out: vec![0; 4096],
            ends: vec![0; 64],
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            lines_before: 0,
            number: 0,
            done: false,
        }
    }

    /// Sets the bound on one record's field bytes (at least 1).
    pub fn max_record_bytes(mut self, max: usize) -> Records<R> {
        self.max_record_bytes = max.max(1);
        self
    }

    /// Skips blank lines before a record; answers whether a record follows.
    fn skip_to_record(&mut self) -> io::Result<bool> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(false);
            }
            let blank = buf
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            self.lines_before += buf[..blank].iter().filter(|&&b| b == b'\n').count() as u64;
            let more = blank < buf.len();
            self.input.consume(blank);
            if more {
                return Ok(true);
            }
        }
    }

    fn read_record(&mut self) -> io::Result<Option<Record>> {
        if !self.skip_to_record()? {
            return Ok(None);
        }
        self.number += 1;
        let line = self.lines_before + 1;
        let (mut nout, mut nend, mut too_long) = (0, 0, false);
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, o, e) =
                self.core
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            self.lines_before += input[..nin].iter().filter(|&&b| b == b'\n').count() as u64;
            self.input.consume(nin);
            nout += o;
            nend += e;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    if self.out.len() >= self.max_record_bytes {
                        too_long = true;
                        nout = 0;
                    } else {
                        let len = (self.out.len() * 2).min(self.max_record_bytes);
                        self.out.resize(len, 0);
                    }
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        too_long = true;
                        nend = 0;
                    } else {
                        let len = (self.ends.len() * 2).min(MAX_FIELDS);
                        self.ends.resize(len, 0);
                    }
                }
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        let fields = if too_long {
            Err(Malformed::TooLong {
                max_bytes: self.max_record_bytes,
            })
        } else {
            let mut start = 0;
            self.ends[..nend]
                .iter()
                .enumerate()
                .map(|(i, &end)| {
                    let bytes = &self.out[start..end];
                    if bytes.contains(&0) {
                        return Err(Malformed::NulCharacter { column: i + 1 });
                    }
                    let field = std::str::from_utf8(bytes)
                        .map_err(|_| Malformed::InvalidUtf8 { column: i + 1 })?;
                    start = end;
                    Ok(field.to_owned())
                })
                .collect()
        };
        Ok(Some(Record {
            number: self.number,
            line,
            fields,
        }))
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<io::Result<Record>> {
        if self.done {
            return None;
        }
        let next = self.read_record().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

/// A reader that drops a UTF-8 byte order mark at the start of its input, however the
/// input is split into reads.
struct SkipBom<R> {
    inner: R,
    head: [u8; 3],
    head_len: usize,
    head_pos: usize,
    checked: bool,
}

impl<R: Read> SkipBom<R> {
    fn new(inner: R) -> SkipBom<R> {
        SkipBom {
            inner,
            head: [0; 3],
            head_len: 0,
            head_pos: 0,
            checked: false,
        }
    }
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            while self.head_len < 3 {
                match self.inner.read(&mut self.head[self.head_len..]) {
                    Ok(0) => break,
                    Ok(n) => self.head_len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.checked = true;
            if self.head[..self.head_len] == *b"\xef\xbb\xbf" {
                self.head_pos = 3;
            }
        }
        if self.head_pos < self.head_len {
            let n = (self.head_len - self.head_pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.head_pos..self.head_pos + n]);
            self.head_pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}
