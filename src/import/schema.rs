//! The graph schema: labels and their typed properties, read from the `PMML` XML of an
//! import (with or without the PMML namespace) and written back by [`Schema::to_xml`].

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use roxmltree::{Document, Node};

/// The largest schema file [`Schema::read`] accepts.
pub const MAX_SCHEMA_BYTES: u64 = 16 << 20;

/// A graph schema: labels in the order the file declares them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    labels: Vec<Label>,
    by_name: HashMap<String, usize>,
}

/// One label and its properties, in declaration order (the column order of data lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    pub properties: Vec<Property>,
}

/// One property of a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub cardinality: Cardinality,
    pub data_type: DataType,
}

/// How many values a property holds: one, or a `;`-separated list or set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cardinality {
    Single,
    List,
    Set,
}

/// The type of each value of a property.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    Char,
    /// Text of at most `max_len` characters.
    CharArray {
        max_len: usize,
    },
    Float,
    Double,
    Bool,
    Long,
    Int,
    Date,
    /// One of these members (at least one, no duplicates).
    Enum(Vec<String>),
    String,
}

/// Why a schema cannot be used: where (line and column, and the label or property when
/// known) and what. Its `Display` is the one human message of a `GES.7070`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SchemaError {
    pub line: u32,
    pub column: u32,
    /// `label "user"` or `label "user", property "age"`, when the error is inside one.
    pub context: Option<String>,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schema line {}, column {}", self.line, self.column)?;
        if let Some(context) = &self.context {
            write!(f, " ({context})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Cardinality {
    /// The schema spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Cardinality::Single => "single",
            Cardinality::List => "list",
            Cardinality::Set => "set",
        }
    }
}

impl DataType {
    /// The schema spelling of `dataType`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DataType::Char => "char",
            DataType::CharArray { .. } => "char array",
            DataType::Float => "float",
            DataType::Double => "double",
            DataType::Bool => "bool",
            DataType::Long => "long",
            DataType::Int => "int",
            DataType::Date => "date",
            DataType::Enum(_) => "enum",
            DataType::String => "string",
        }
    }
}

impl Schema {
    /// A schema of these labels; `Err` names a label declared twice.
    pub fn new(labels: Vec<Label>) -> Result<Schema, String> {
        let mut by_name = HashMap::with_capacity(labels.len());
        for (i, label) in labels.iter().enumerate() {
            if by_name.insert(label.name.clone(), i).is_some() {
                return Err(format!("label {:?} is declared twice", label.name));
            }
        }
        Ok(Schema { labels, by_name })
    }

    /// Reads a whole schema file (UTF-8, at most [`MAX_SCHEMA_BYTES`]) and parses it.
    pub fn read(mut input: impl Read) -> Result<Schema, SchemaError> {
        let mut bytes = Vec::new();
        let at_start = |message: String| SchemaError {
            line: 1,
            column: 1,
            context: None,
            message,
        };
        (&mut input)
            .take(MAX_SCHEMA_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| at_start(format!("cannot be read: {e}")))?;
        if bytes.len() as u64 > MAX_SCHEMA_BYTES {
            return Err(at_start(format!("larger than {MAX_SCHEMA_BYTES} bytes")));
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| at_start(format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to())))?;
        Schema::parse(&text)
    }

    /// Parses the schema XML: a `PMML` root, its `labels`, each `label name=` with optional
    /// `properties` of `property` elements. Elements are matched by local name, so the
    /// PMML namespace may or may not be declared; other elements are ignored.
    pub fn parse(text: &str) -> Result<Schema, SchemaError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let doc = Document::parse(text).map_err(|e| {
            let pos = e.pos();
            let detail = e.to_string();
            let detail = detail
                .strip_suffix(&format!(" at {pos}"))
                .unwrap_or(&detail);
            SchemaError {
                line: pos.row,
                column: pos.col,
                context: None,
                message: format!("not well-formed XML: {detail}"),
            }
        })?;
        super::schema_xml::labels_of(&doc).and_then(|labels| {
            Schema::new(labels).map_err(|message| SchemaError {
                line: 1,
                column: 1,
                context: None,
                message,
            })
        })
    }

    /// Every label, in declaration order.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The label called `name`.
    pub fn label(&self, name: &str) -> Option<&Label> {
        self.by_name.get(name).map(|&i| &self.labels[i])
    }
}

/// Where `node` starts, as (line, column).
pub(super) fn position(doc: &Document<'_>, node: Node<'_, '_>) -> (u32, u32) {
    let pos = doc.text_pos_at(node.range().start);
    (pos.row, pos.col)
}
