//! The schema's XML form: reading labels out of a parsed document (every error located),
//! and writing a schema back as `PMML` that parses to the same schema.

use std::collections::HashSet;
use std::fmt::Write as _;

use roxmltree::{Document, Node};

use super::schema::{Cardinality, DataType, Label, Property, Schema, SchemaError, position};

/// The namespace [`Schema::to_xml`] declares.
pub const PMML_NAMESPACE: &str = "http://www.dmg.org/PMML-3-0";

/// The labels of a schema document, checked.
pub(super) fn labels_of(doc: &Document<'_>) -> Result<Vec<Label>, SchemaError> {
    let fail = |node: Node<'_, '_>, context: Option<String>, message: String| {
        let (line, column) = position(doc, node);
        SchemaError {
            line,
            column,
            context,
            message,
        }
    };
    let root = doc.root_element();
    if root.tag_name().name() != "PMML" {
        let found = root.tag_name().name().to_owned();
        return Err(fail(
            root,
            None,
            format!("root element is <{found}>, expected <PMML>"),
        ));
    }
    let label_lists: Vec<_> = elements(root, "labels").collect();
    if label_lists.is_empty() {
        return Err(fail(root, None, "no <labels> element in <PMML>".into()));
    }
    let mut labels = Vec::new();
    let mut seen = HashSet::new();
    for node in label_lists
        .into_iter()
        .flat_map(|list| elements(list, "label"))
    {
        let name = match node.attribute("name") {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => return Err(fail(node, None, "<label> without a name".into())),
        };
        let context = format!("label {name:?}");
        if !seen.insert(name.clone()) {
            return Err(fail(node, Some(context), "label declared twice".into()));
        }
        let mut properties: Vec<Property> = Vec::new();
        for prop in elements(node, "properties").flat_map(|list| elements(list, "property")) {
            let property = property_of(prop).map_err(|(context_prop, message)| {
                let context = match context_prop {
                    Some(p) => format!("{context}, property {p:?}"),
                    None => context.clone(),
                };
                fail(prop, Some(context), message)
            })?;
            if properties.iter().any(|p| p.name == property.name) {
                let context = format!("{context}, property {:?}", property.name);
                return Err(fail(prop, Some(context), "property declared twice".into()));
            }
            properties.push(property);
        }
        labels.push(Label { name, properties });
    }
    Ok(labels)
}

/// The child elements of `node` with local name `name`.
fn elements<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

/// One `property` element; on error, the property's name (when it has one) and what.
fn property_of(node: Node<'_, '_>) -> Result<Property, (Option<String>, String)> {
    let name = match node.attribute("name") {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => return Err((None, "<property> without a name".into())),
    };
    let err = |message: String| (Some(name.clone()), message);
    let cardinality = match node.attribute("cardinality").map(str::trim) {
        None | Some("single") => Cardinality::Single,
        Some("list") => Cardinality::List,
        Some("set") => Cardinality::Set,
        Some(other) => {
            return Err(err(format!(
                "unknown cardinality {other:?} (expected single, list or set)"
            )));
        }
    };
    let data_type = match node.attribute("dataType").map(str::trim) {
        None => return Err(err("no dataType".into())),
        Some("char") => DataType::Char,
        Some("char array") => {
            let raw = node
                .attribute("maxDataSize")
                .ok_or_else(|| err("char array without maxDataSize".into()))?;
            match raw.trim().parse::<usize>() {
                Ok(max_len) if max_len > 0 => DataType::CharArray { max_len },
                _ => {
                    return Err(err(format!(
                        "maxDataSize {raw:?} is not a positive integer"
                    )));
                }
            }
        }
        Some("float") => DataType::Float,
        Some("double") => DataType::Double,
        Some("bool") => DataType::Bool,
        Some("long") => DataType::Long,
        Some("int") => DataType::Int,
        Some("date") => DataType::Date,
        Some("enum") => DataType::Enum(enum_members(node).map_err(err)?),
        Some("string") => DataType::String,
        Some(other) => {
            return Err(err(format!(
                "unknown dataType {other:?} (expected char, char array, float, double, bool, \
                 long, int, date, enum or string)"
            )));
        }
    };
    Ok(Property {
        name,
        cardinality,
        data_type,
    })
}

/// `typeName1..typeNameN` of an enum, checked against `typeNameCount`.
fn enum_members(node: Node<'_, '_>) -> Result<Vec<String>, String> {
    let raw = node
        .attribute("typeNameCount")
        .ok_or("enum without typeNameCount")?;
    let count: usize = raw
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("typeNameCount {raw:?} is not a positive integer"))?;
    let given = node
        .attributes()
        .filter(|a| {
            a.name()
                .strip_prefix("typeName")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count();
    if given != count {
        return Err(format!(
            "typeNameCount is {count} but {given} typeName attributes are given"
        ));
    }
    let mut members: Vec<String> = Vec::with_capacity(count);
    for i in 1..=count {
        let member = node
            .attribute(format!("typeName{i}").as_str())
            .ok_or_else(|| format!("typeName{i} is missing (typeNameCount is {count})"))?;
        if member.is_empty() {
            return Err(format!("typeName{i} is empty"));
        }
        if members.iter().any(|m| m == member) {
            return Err(format!("typeName{i} {member:?} is given twice"));
        }
        members.push(member.to_owned());
    }
    Ok(members)
}

impl Schema {
    /// The schema as `PMML` XML (with the PMML namespace), for export;
    /// `Schema::parse(&s.to_xml()) == Ok(s)`.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(out, "<PMML version=\"3.0\" xmlns=\"{PMML_NAMESPACE}\">");
        out.push_str("  <labels>\n");
        for label in self.labels() {
            let _ = writeln!(out, "    <label name=\"{}\">", escape(&label.name));
            if !label.properties.is_empty() {
                out.push_str("      <properties>\n");
                for p in &label.properties {
                    let _ = write!(
                        out,
                        "        <property name=\"{}\" cardinality=\"{}\" dataType=\"{}\"",
                        escape(&p.name),
                        p.cardinality.as_str(),
                        p.data_type.as_str()
                    );
                    match &p.data_type {
                        DataType::CharArray { max_len } => {
                            let _ = write!(out, " maxDataSize=\"{max_len}\"");
                        }
                        DataType::Enum(members) => {
                            let _ = write!(out, " typeNameCount=\"{}\"", members.len());
                            for (i, m) in members.iter().enumerate() {
                                let _ = write!(out, " typeName{}=\"{}\"", i + 1, escape(m));
                            }
                        }
                        _ => {}
                    }
                    out.push_str("/>\n");
                }
                out.push_str("      </properties>\n");
            }
            out.push_str("    </label>\n");
        }
        out.push_str("  </labels>\n</PMML>\n");
        out
    }
}

/// `text` as an attribute value (whitespace escaped too, so it survives normalization).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}
