//! A job's file results as its read statements return them: one array of the composite
//! `job_file_result` (migration V6), decoded here straight from PostgreSQL's binary format.
//!
//! Policy: sqlx decodes such an array element by element and field by field, resolving and
//! checking the type of each (about a third of a list request's decoding); the layout is
//! fixed by the migration, so this module reads it directly and fails on any other shape.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Postgres, Type};

use crate::domain::JobFile;

/// The fields of `job_file_result`, in order.
const FIELDS: i32 = 8;

/// A `job_file_result[]` column.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct FileRows(pub Vec<JobFile>);

impl Type<Postgres> for FileRows {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::array_of("job_file_result")
    }
}

impl<'r> Decode<'r, Postgres> for FileRows {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.format() != PgValueFormat::Binary {
            return Err("job_file_result[] arrived as text".into());
        }
        decode_array(value.as_bytes()?).map(FileRows)
    }
}

/// A one-dimensional array: dimensions, flags, element type, length, lower bound, then
/// each element as its length and bytes.
fn decode_array(bytes: &[u8]) -> Result<Vec<JobFile>, BoxDynError> {
    let mut input = Input(bytes);
    let dimensions = input.i32()?;
    if dimensions == 0 {
        return Ok(Vec::new());
    }
    if dimensions != 1 {
        return Err(format!("job_file_result[] of {dimensions} dimensions").into());
    }
    let (_flags, _element_type, len, _lower) =
        (input.i32()?, input.i32()?, input.i32()?, input.i32()?);
    let mut rows = Vec::with_capacity(usize::try_from(len)?);
    for _ in 0..len {
        let element = input.value()?.ok_or("a null job_file_result")?;
        rows.push(decode_record(element)?);
    }
    Ok(rows)
}

/// A record: the number of fields, then each field as its type, length and bytes.
fn decode_record(bytes: &[u8]) -> Result<JobFile, BoxDynError> {
    let mut input = Input(bytes);
    let fields = input.i32()?;
    if fields != FIELDS {
        return Err(format!("job_file_result of {fields} fields, not {FIELDS}").into());
    }
    Ok(JobFile {
        kind: input
            .text()?
            .ok_or("job_file_result.kind is null")?
            .parse()?,
        path: input.text()?.ok_or("job_file_result.path is null")?,
        log: input.text()?,
        status: input
            .text()?
            .ok_or("job_file_result.status is null")?
            .parse()?,
        cause: input.text()?,
        total_lines: input.int8()?,
        failed_lines: input.int8()?,
        successful_lines: input.int8()?,
    })
}

/// The unread rest of a binary value.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BoxDynError> {
        if self.0.len() < n {
            return Err("job_file_result[] ends early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i32(&mut self) -> Result<i32, BoxDynError> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into()?))
    }

    /// A length-prefixed value; `None` for NULL (length -1).
    fn value(&mut self) -> Result<Option<&'a [u8]>, BoxDynError> {
        match self.i32()? {
            -1 => Ok(None),
            len => Ok(Some(self.take(usize::try_from(len)?)?)),
        }
    }

    /// A record field: its type (skipped: the migration fixes it) and its value.
    fn field(&mut self) -> Result<Option<&'a [u8]>, BoxDynError> {
        self.take(4)?;
        self.value()
    }

    fn text(&mut self) -> Result<Option<String>, BoxDynError> {
        match self.field()? {
            Some(bytes) => Ok(Some(std::str::from_utf8(bytes)?.to_owned())),
            None => Ok(None),
        }
    }

    fn int8(&mut self) -> Result<i64, BoxDynError> {
        let bytes = self.field()?.ok_or("a null job_file_result line count")?;
        Ok(i64::from_be_bytes(bytes.try_into()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FileKind, FileStatus};

    fn field(out: &mut Vec<u8>, value: Option<&[u8]>) {
        out.extend_from_slice(&25u32.to_be_bytes());
        match value {
            Some(bytes) => {
                out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                out.extend_from_slice(bytes);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    fn record(path: &str, log: Option<&str>, lines: i64) -> Vec<u8> {
        let mut out = FIELDS.to_be_bytes().to_vec();
        field(&mut out, Some(b"edge"));
        field(&mut out, Some(path.as_bytes()));
        field(&mut out, log.map(str::as_bytes));
        field(&mut out, Some(b"success"));
        field(&mut out, None);
        for n in [lines, 0, lines] {
            field(&mut out, Some(&n.to_be_bytes()));
        }
        out
    }

    fn array(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for n in [1, 0, 16_385, records.len() as i32, 1] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        for record in records {
            out.extend_from_slice(&(record.len() as i32).to_be_bytes());
            out.extend_from_slice(record);
        }
        out
    }

    #[test]
    fn reads_every_field_and_null() {
        let bytes = array(&[record("a.csv", Some("a.log"), 7), record("b.csv", None, -1)]);
        let rows = decode_array(&bytes).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            JobFile {
                kind: FileKind::Edge,
                path: "a.csv".into(),
                log: Some("a.log".into()),
                status: FileStatus::Success,
                cause: None,
                total_lines: 7,
                failed_lines: 0,
                successful_lines: 7,
            }
        );
        assert_eq!((rows[1].log.as_deref(), rows[1].total_lines), (None, -1));
    }

    #[test]
    fn an_empty_array_has_no_dimensions() {
        assert_eq!(decode_array(&0i32.to_be_bytes()).unwrap(), Vec::new());
    }

    #[test]
    fn a_short_or_foreign_value_is_an_error() {
        let bytes = array(&[record("a.csv", None, 1)]);
        assert!(decode_array(&bytes[..bytes.len() - 3]).is_err());
        let mut other = record("a.csv", None, 1);
        other[..4].copy_from_slice(&9i32.to_be_bytes());
        assert!(decode_array(&array(&[other])).is_err());
        let mut unknown_kind = record("a.csv", None, 1);
        unknown_kind[12..16].copy_from_slice(b"node");
        assert!(decode_array(&array(&[unknown_kind])).is_err());
        assert!(decode_array(&2i32.to_be_bytes()).is_err());
    }
}
