//! Unit tests of the import library, one file per concern, plus the shared fixtures
//! (`../shared/fixtures/movies`, read at test time) and a seeded round-trip test.

mod fixtures;
mod records;
mod roundtrip;
mod schemas;
mod tallies;
mod validation;
mod values;

use super::schema::{Cardinality, DataType, Property, Schema};

/// The text of a file of the shared movies fixture.
pub(super) fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../shared/fixtures/movies/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The fixture's schema.
pub(super) fn movies() -> Schema {
    Schema::parse(&fixture("schema.xml")).expect("the fixture schema parses")
}

/// A property for value tests.
pub(super) fn prop(data_type: DataType, cardinality: Cardinality) -> Property {
    Property {
        name: "p".into(),
        cardinality,
        data_type,
    }
}

/// Owned fields from text.
pub(super) fn fields(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}
