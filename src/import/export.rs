//! Export: vertices and edges written back as data lines of the import format, and the
//! schema as XML, so that importing an export into an empty graph gives the same graph.

use std::io::{self, Write};

use super::record::CsvFormat;
use super::schema::Schema;
use super::validate::{Edge, Vertex};
use super::value::Value;

/// Writes vertex and edge lines in a [`CsvFormat`], quoting (with its quote character,
/// doubled inside) exactly the fields that hold the delimiter, the quote or a line break.
pub struct CsvExport<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvExport<W> {
    /// An exporter writing to `out` (buffered; call [`CsvExport::finish`]).
    pub fn new(out: W, format: CsvFormat) -> CsvExport<W> {
        let out = csv::WriterBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(format.delimiter)
            .quote(format.quote)
            .double_quote(true)
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        CsvExport { out }
    }

    /// Writes `id,label,props...`.
    pub fn write_vertex(&mut self, id: &str, label: &str, props: &[Value]) -> io::Result<()> {
        self.write_line(&[id, label], props)
    }

    /// Writes `source,target,label,props...`.
    pub fn write_edge(
        &mut self,
        source: &str,
        target: &str,
        label: &str,
        props: &[Value],
    ) -> io::Result<()> {
        self.write_line(&[source, target, label], props)
    }

    /// Writes an accepted [`Vertex`] back.
    pub fn vertex(&mut self, v: &Vertex) -> io::Result<()> {
        self.write_vertex(&v.id, &v.label, &v.props)
    }

    /// Writes an accepted [`Edge`] back.
    pub fn edge(&mut self, e: &Edge) -> io::Result<()> {
        self.write_edge(&e.source, &e.target, &e.label, &e.props)
    }

    fn write_line(&mut self, head: &[&str], props: &[Value]) -> io::Result<()> {
        let fields: Vec<_> = props.iter().map(Value::to_field).collect();
        let record = head
            .iter()
            .copied()
            .chain(fields.iter().map(|f| f.as_ref()));
        self.out.write_record(record).map_err(into_io)
    }

    /// Flushes and gives back the writer.
    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
    }
}

/// Writes the schema XML (see [`Schema::to_xml`]).
pub fn write_schema(schema: &Schema, mut out: impl Write) -> io::Result<()> {
    out.write_all(schema.to_xml().as_bytes())?;
    out.flush()
}

fn into_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
