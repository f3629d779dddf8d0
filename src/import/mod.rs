//! The import library: pure, synchronous and streaming (no database, no I/O beyond
//! `std::io::Read`/`Write`). The engine calls it from a blocking task with readers of
//! object-store files and stores the accepted rows.
//!
//! - [`schema`]: the `PMML` schema XML ([`Schema::parse`], [`Schema::to_xml`]); a
//!   [`SchemaError`] is the one message of a `GES.7070`.
//! - [`value`]: one field parsed as its property's type, into a canonical [`Value`].
//! - [`record`]: CSV [`Records`] of a file (no header, [`CsvFormat`] delimiter and quote,
//!   bounded memory, malformed records rejected one by one).
//! - [`validate`]: a vertex or edge line checked against the schema, or a [`Rejection`].
//! - [`tally`]: per-file counts and `cause` ([`FileTally`]), the [`RejectLog`], statuses.
//! - [`export`]: vertices, edges and schema written back in the import formats.
//!
//! [`import_vertices`] and [`import_edges`] run one whole file through these.
//!
//! # Storage of property values
//!
//! A vertex's or edge's properties are stored (`props jsonb`) as a JSON array with one
//! entry per property of its label, in the schema's declaration order: `null` for no value,
//! a string (the canonical text, see [`value`]) for a `single` property, an array of
//! strings for a `list` or `set`. E.g. the fixture's `m001` is
//! `["The Matrix", "1999", ["Action", "Sci-Fi"], "8.7"]`. [`props_to_json`] and
//! [`props_from_json`] convert; values are kept as text so that export writes back exactly
//! what was accepted, and re-importing it gives the same values.

pub mod export;
pub mod record;
pub mod schema;
mod schema_xml;
pub mod tally;
pub mod validate;
pub mod value;

#[cfg(test)]
mod tests;

use std::io::{self, Read};

pub use export::{CsvExport, write_schema};
pub use record::{CsvFormat, Malformed, Record, Records};
pub use schema::{Cardinality, DataType, Label, Property, Schema, SchemaError};
pub use schema_xml::PMML_NAMESPACE;
pub use tally::{FileTally, RejectLog, job_status};
pub use validate::{Edge, End, ReasonKind, Rejection, Vertex, validate_edge, validate_vertex};
pub use value::{Value, props_from_json, props_to_json};

/// Reads a vertex file: each accepted line goes to `accept`, each rejected one (with its
/// starting line number) to `reject`. Answers the file's counts; `Err` is an I/O error of
/// `input` or an error returned by a callback, and stops the file.
pub fn import_vertices(
    schema: &Schema,
    input: impl Read,
    format: CsvFormat,
    mut accept: impl FnMut(Vertex) -> io::Result<()>,
    mut reject: impl FnMut(u64, &Rejection) -> io::Result<()>,
) -> io::Result<FileTally> {
    let mut tally = FileTally::new();
    for record in Records::new(input, format) {
        let record = record?;
        let checked = record
            .fields
            .map_err(Rejection::Malformed)
            .and_then(|fields| validate_vertex(schema, &fields));
        match checked {
            Ok(vertex) => {
                accept(vertex)?;
                tally.accept();
            }
            Err(why) => {
                reject(record.line, &why)?;
                tally.reject(record.line, &why);
            }
        }
    }
    Ok(tally)
}

/// Reads an edge file like [`import_vertices`]; `vertex_exists` says whether an id names a
/// vertex (of the graph or accepted earlier in this import).
pub fn import_edges(
    schema: &Schema,
    input: impl Read,
    format: CsvFormat,
    mut vertex_exists: impl FnMut(&str) -> bool,
    mut accept: impl FnMut(Edge) -> io::Result<()>,
    mut reject: impl FnMut(u64, &Rejection) -> io::Result<()>,
) -> io::Result<FileTally> {
    let mut tally = FileTally::new();
    for record in Records::new(input, format) {
        let record = record?;
        let checked = record
            .fields
            .map_err(Rejection::Malformed)
            .and_then(|fields| validate_edge(schema, &fields, &mut vertex_exists));
        match checked {
            Ok(edge) => {
                accept(edge)?;
                tally.accept();
            }
            Err(why) => {
                reject(record.line, &why)?;
                tally.reject(record.line, &why);
            }
        }
    }
    Ok(tally)
}
