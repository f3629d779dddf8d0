//! The schema XML: the fixture, namespaces, located errors, and `to_xml` round trips.

use super::{fixture, movies};
use crate::import::schema::{Cardinality, DataType, Label, Property, Schema, SchemaError};

/// A schema document around one `property` element of label `user`.
fn with_property(attrs: &str) -> String {
    format!(
        "<PMML>\n  <labels>\n    <label name=\"user\">\n      <properties>\n        \
         <property {attrs}/>\n      </properties>\n    </label>\n  </labels>\n</PMML>\n"
    )
}

fn error(text: &str) -> SchemaError {
    Schema::parse(text).expect_err("the schema is refused")
}

#[test]
fn the_fixture_schema_has_four_labels() {
    let schema = movies();
    let names: Vec<_> = schema.labels().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["user", "movie", "rate", "friends"]);
    let user = schema.label("user").unwrap();
    assert_eq!(user.properties.len(), 4);
    assert_eq!(
        user.properties[1].data_type,
        DataType::Enum(vec!["F".into(), "M".into()])
    );
    assert_eq!(
        user.properties[3].data_type,
        DataType::CharArray { max_len: 10 }
    );
    assert_eq!(
        schema.label("movie").unwrap().properties[2].cardinality,
        Cardinality::Set
    );
    assert!(schema.label("friends").unwrap().properties.is_empty());
    assert!(schema.label("director").is_none());
    assert_eq!(Schema::parse(&fixture("dirty/schema.xml")), Ok(schema));
}

#[test]
fn namespace_is_optional_and_prefixes_work() {
    let plain = with_property("name=\"age\" cardinality=\"single\" dataType=\"int\"");
    let prefixed = "<p:PMML xmlns:p=\"http://www.dmg.org/PMML-3-0\"><p:labels>\
        <p:label name=\"user\"><p:properties>\
        <p:property name=\"age\" cardinality=\"single\" dataType=\"int\"/>\
        </p:properties></p:label></p:labels></p:PMML>";
    let a = Schema::parse(&plain).unwrap();
    let b = Schema::parse(prefixed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a, b);
    assert_eq!(
        a.label("user").unwrap().properties[0].data_type,
        DataType::Int
    );
}

#[test]
fn unknown_data_type_is_located() {
    let e = error(&with_property(
        "name=\"age\" cardinality=\"single\" dataType=\"integer\"",
    ));
    assert_eq!((e.line, e.column), (5, 9));
    let text = e.to_string();
    assert!(text.contains("line 5, column 9"), "{text}");
    assert!(text.contains("label \"user\", property \"age\""), "{text}");
    assert!(text.contains("unknown dataType \"integer\""), "{text}");
}

#[test]
fn enum_count_must_match_its_members() {
    let e = error(&with_property(
        "name=\"g\" dataType=\"enum\" typeNameCount=\"3\" typeName1=\"F\" typeName2=\"M\"",
    ));
    assert_eq!(e.line, 5);
    assert!(e.message.contains("typeNameCount is 3 but 2"), "{e}");
    let e = error(&with_property(
        "name=\"g\" dataType=\"enum\" typeNameCount=\"2\" typeName1=\"F\" typeName3=\"M\"",
    ));
    assert!(e.message.contains("typeName2 is missing"), "{e}");
    let e = error(&with_property("name=\"g\" dataType=\"enum\""));
    assert!(e.message.contains("typeNameCount"), "{e}");
    let e = error(&with_property(
        "name=\"g\" dataType=\"enum\" typeNameCount=\"2\" typeName1=\"F\" typeName2=\"F\"",
    ));
    assert!(e.message.contains("twice"), "{e}");
}

#[test]
fn missing_names_and_sizes_are_located() {
    let e = error(&with_property("cardinality=\"single\" dataType=\"int\""));
    assert_eq!((e.line, e.context.as_deref()), (5, Some("label \"user\"")));
    assert!(e.message.contains("<property> without a name"), "{e}");
    let e = error("<PMML><labels>\n<label><properties/></label></labels></PMML>");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("<label> without a name"), "{e}");
    let e = error(&with_property("name=\"zip\" dataType=\"char array\""));
    assert!(e.message.contains("maxDataSize"), "{e}");
    let e = error(&with_property(
        "name=\"zip\" dataType=\"char array\" maxDataSize=\"-1\"",
    ));
    assert!(e.message.contains("positive"), "{e}");
    let e = error(&with_property(
        "name=\"a\" dataType=\"int\" cardinality=\"bag\"",
    ));
    assert!(e.message.contains("cardinality \"bag\""), "{e}");
}

#[test]
fn not_xml_or_not_pmml_is_refused_with_a_place() {
    let e = error("u001,user,Ada\n");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.to_string().contains("not well-formed XML"), "{e}");
    let e = error("<PMML>\n  <labels>\n    <label name=\"a\">\n  </labels>\n</PMML>");
    assert_eq!(e.line, 4, "{e}");
    let e = error("<graph><labels/></graph>");
    assert!(e.message.contains("expected <PMML>"), "{e}");
    let e = error("<PMML/>");
    assert!(e.message.contains("no <labels>"), "{e}");
    let e = error("<PMML><labels><label name=\"a\"/><label name=\"a\"/></labels></PMML>");
    assert!(e.message.contains("declared twice"), "{e}");
    let e = Schema::read(&b"<PMML>\xff</PMML>"[..]).unwrap_err();
    assert!(e.message.contains("not UTF-8"), "{e}");
}

#[test]
fn to_xml_parses_back_to_the_same_schema() {
    let schema = movies();
    assert_eq!(Schema::parse(&schema.to_xml()), Ok(schema));
    let odd = Schema::new(vec![
        Label {
            name: "a \"quoted\" <label> & more".into(),
            properties: vec![Property {
                name: "tab\there".into(),
                cardinality: Cardinality::List,
                data_type: DataType::Enum(vec![" x ".into(), "y\nz".into(), "&".into()]),
            }],
        },
        Label {
            name: "empty".into(),
            properties: vec![],
        },
    ])
    .unwrap();
    let xml = odd.to_xml();
    assert_eq!(Schema::parse(&xml), Ok(odd), "{xml}");
    assert!(xml.contains("xmlns=\"http://www.dmg.org/PMML-3-0\""));
}
