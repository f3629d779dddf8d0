//! Checking one record against the schema: a vertex line `id,label,props...` or an edge
//! line `source,target,label,props...`, properties in the label's declared order. A line
//! that fails becomes a [`Rejection`]: a reason kind plus the facts for its message.

use std::fmt;

use super::record::Malformed;
use super::schema::{Label, Schema};
use super::value::{Value, clip};

/// Longest value text quoted in a message.
const CLIP: usize = 64;

/// An accepted vertex line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    pub id: String,
    pub label: String,
    /// One value per property of the label, in declaration order.
    pub props: Vec<Value>,
}

/// An accepted edge line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub source: String,
    pub target: String,
    pub label: String,
    /// One value per property of the label, in declaration order.
    pub props: Vec<Value>,
}

/// Which end of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    Source,
    Target,
}

impl End {
    /// `source` or `target`.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Source => "source",
            End::Target => "target",
        }
    }
}

/// Why a line was rejected. Texts held here are already clipped for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The record could not be read as text fields.
    Malformed(Malformed),
    /// Too few columns to hold a label (`min` is 2 for vertices, 3 for edges).
    TooFewColumns {
        min: usize,
        got: usize,
    },
    UnknownLabel {
        label: String,
    },
    /// The label takes `expected` columns (ids, label and its properties).
    ColumnCount {
        label: String,
        expected: usize,
        got: usize,
    },
    /// `value` is not a valid `property`: `rule` says why.
    BadValue {
        property: String,
        value: String,
        rule: String,
    },
    /// An empty vertex id (`column` is `id`, `source` or `target`).
    EmptyId {
        column: &'static str,
    },
    /// An edge end that names no vertex of the graph nor of this import.
    MissingVertex {
        end: End,
        id: String,
    },
    /// A vertex id seen before; for callers that refuse a second vertex with one id.
    DuplicateVertex {
        id: String,
    },
}

/// The kind of a [`Rejection`], for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonKind {
    Malformed,
    UnknownLabel,
    ColumnCount,
    BadValue,
    EmptyId,
    MissingVertex,
    DuplicateVertex,
}

impl ReasonKind {
    /// Every kind.
    pub const ALL: [ReasonKind; 7] = [
        ReasonKind::Malformed,
        ReasonKind::UnknownLabel,
        ReasonKind::ColumnCount,
        ReasonKind::BadValue,
        ReasonKind::EmptyId,
        ReasonKind::MissingVertex,
        ReasonKind::DuplicateVertex,
    ];

    /// The kind of a phrase [`as_str`](Self::as_str) gives.
    pub fn parse(raw: &str) -> Option<ReasonKind> {
        ReasonKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }

    /// A short phrase for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::Malformed => "malformed record",
            ReasonKind::UnknownLabel => "unknown label",
            ReasonKind::ColumnCount => "wrong column count",
            ReasonKind::BadValue => "value does not parse",
            ReasonKind::EmptyId => "empty vertex id",
            ReasonKind::MissingVertex => "vertex does not exist",
            ReasonKind::DuplicateVertex => "duplicate vertex id",
        }
    }
}

impl Rejection {
    /// Its kind.
    pub fn kind(&self) -> ReasonKind {
        match self {
            Rejection::Malformed(_) => ReasonKind::Malformed,
            Rejection::TooFewColumns { .. } | Rejection::ColumnCount { .. } => {
                ReasonKind::ColumnCount
            }
            Rejection::UnknownLabel { .. } => ReasonKind::UnknownLabel,
            Rejection::BadValue { .. } => ReasonKind::BadValue,
            Rejection::EmptyId { .. } => ReasonKind::EmptyId,
            Rejection::MissingVertex { .. } => ReasonKind::MissingVertex,
            Rejection::DuplicateVertex { .. } => ReasonKind::DuplicateVertex,
        }
    }
}

/// One line of text: values are quoted and escaped, so no line break gets through.
impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed(m) => write!(f, "malformed record: {m}"),
            Rejection::TooFewColumns { min, got } => {
                write!(f, "wrong column count: expected at least {min}, got {got}")
            }
            Rejection::UnknownLabel { label } => write!(f, "unknown label {label}"),
            Rejection::ColumnCount {
                label,
                expected,
                got,
            } => write!(
                f,
                "wrong column count: label {label} expects {expected} columns, got {got}"
            ),
            Rejection::BadValue {
                property,
                value,
                rule,
            } => write!(f, "property {property}: value {value} {rule}"),
            Rejection::EmptyId { column } => write!(f, "empty vertex id in column {column}"),
            Rejection::MissingVertex { end, id } => {
                write!(f, "{} vertex {id} does not exist", end.as_str())
            }
            Rejection::DuplicateVertex { id } => write!(f, "vertex {id} already exists"),
        }
    }
}

impl Rejection {
    /// [`Rejection::MissingVertex`] for `id` (clipped).
    pub fn missing_vertex(end: End, id: &str) -> Rejection {
        Rejection::MissingVertex {
            end,
            id: clip(id, CLIP),
        }
    }

    /// [`Rejection::DuplicateVertex`] for `id` (clipped).
    pub fn duplicate_vertex(id: &str) -> Rejection {
        Rejection::DuplicateVertex { id: clip(id, CLIP) }
    }
}

/// Checks a vertex line: `id,label,props...`.
pub fn validate_vertex(schema: &Schema, fields: &[String]) -> Result<Vertex, Rejection> {
    let (label, props) = check_line(schema, fields, 1)?;
    if fields[0].is_empty() {
        return Err(Rejection::EmptyId { column: "id" });
    }
    Ok(Vertex {
        id: fields[0].clone(),
        label: label.name.clone(),
        props,
    })
}

/// Checks an edge line: `source,target,label,props...`; `vertex_exists` says whether a
/// vertex id is known (the graph's vertices plus those accepted earlier in the import).
pub fn validate_edge(
    schema: &Schema,
    fields: &[String],
    mut vertex_exists: impl FnMut(&str) -> bool,
) -> Result<Edge, Rejection> {
    let (label, props) = check_line(schema, fields, 2)?;
    for (end, id) in [(End::Source, &fields[0]), (End::Target, &fields[1])] {
        if id.is_empty() {
            return Err(Rejection::EmptyId {
                column: end.as_str(),
            });
        }
        if !vertex_exists(id) {
            return Err(Rejection::missing_vertex(end, id));
        }
    }
    Ok(Edge {
        source: fields[0].clone(),
        target: fields[1].clone(),
        label: label.name.clone(),
        props,
    })
}

/// The label (in column `ids`) and the parsed properties after it.
fn check_line<'s>(
    schema: &'s Schema,
    fields: &[String],
    ids: usize,
) -> Result<(&'s Label, Vec<Value>), Rejection> {
    if fields.len() <= ids {
        return Err(Rejection::TooFewColumns {
            min: ids + 1,
            got: fields.len(),
        });
    }
    let label = schema
        .label(&fields[ids])
        .ok_or_else(|| Rejection::UnknownLabel {
            label: clip(&fields[ids], CLIP),
        })?;
    let expected = ids + 1 + label.properties.len();
    if fields.len() != expected {
        return Err(Rejection::ColumnCount {
            label: clip(&label.name, CLIP),
            expected,
            got: fields.len(),
        });
    }
    let props = label
        .properties
        .iter()
        .zip(&fields[ids + 1..])
        .map(|(property, field)| {
            Value::parse(property, field).map_err(|rule| Rejection::BadValue {
                property: clip(&property.name, CLIP),
                value: clip(field, CLIP),
                rule,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((label, props))
}
