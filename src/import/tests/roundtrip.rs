//! Seeded generated graphs (schemas of every type and cardinality, awkward text, every
//! dialect) survive export → import: same schema, vertices, edges and values.

use std::collections::HashSet;

use chrono::NaiveDate;
use fastrand::Rng;

use crate::import::schema::{Cardinality, DataType, Label, Property, Schema};
use crate::import::value::Value;
use crate::import::{CsvExport, CsvFormat, Edge, Vertex, import_edges, import_vertices};

/// Characters that stress quoting and splitting (`;` is added where it is allowed).
const POOL: &[char] = &[
    'a', 'b', 'Z', '0', ' ', ',', '|', '\t', '"', '\'', '\n', '\r', 'é', '中', '😀', '#',
];

fn text(rng: &mut Rng, max: usize, semicolon: bool) -> String {
    (0..rng.usize(0..=max))
        .map(|_| match rng.usize(0..=POOL.len()) {
            i if i < POOL.len() => POOL[i],
            _ if semicolon => ';',
            _ => 'x',
        })
        .collect()
}

fn data_type(rng: &mut Rng) -> DataType {
    match rng.u8(0..10) {
        0 => DataType::Char,
        1 => DataType::CharArray {
            max_len: rng.usize(1..6),
        },
        2 => DataType::Float,
        3 => DataType::Double,
        4 => DataType::Bool,
        5 => DataType::Long,
        6 => DataType::Int,
        7 => DataType::Date,
        8 => {
            let mut members: Vec<String> = Vec::new();
            for _ in 0..rng.usize(1..5) {
                let m = format!("m{}", text(rng, 3, false));
                if !members.contains(&m) {
                    members.push(m);
                }
            }
            DataType::Enum(members)
        }
        _ => DataType::String,
    }
}

fn schema(rng: &mut Rng) -> Schema {
    let labels = (0..rng.usize(1..5))
        .map(|i| Label {
            name: format!("l{i}{}", text(rng, 3, true)),
            properties: (0..rng.usize(0..6))
                .map(|j| Property {
                    name: format!("p{j}{}", text(rng, 2, true)),
                    cardinality: [Cardinality::Single, Cardinality::List, Cardinality::Set]
                        [rng.usize(0..3)],
                    data_type: data_type(rng),
                })
                .collect(),
        })
        .collect();
    Schema::new(labels).unwrap()
}

/// One element's text, valid for `ty` (an element of a list holds no `;`).
fn element(rng: &mut Rng, ty: &DataType, in_list: bool) -> String {
    match ty {
        DataType::Char => text(rng, 1, !in_list)
            .chars()
            .next()
            .unwrap_or('c')
            .to_string(),
        DataType::CharArray { max_len } => text(rng, *max_len, !in_list),
        DataType::String => text(rng, 8, !in_list),
        DataType::Float => (rng.f32() * 10f32.powi(rng.i32(-40..39))).to_string(),
        DataType::Double => match rng.u8(0..3) {
            0 => Some(f64::from_bits(rng.u64(..)))
                .filter(|x| x.is_finite())
                .unwrap_or(0.25)
                .to_string(),
            1 => rng.f64().to_string(),
            _ => format!("{}e{}", rng.i32(-99..99), rng.i32(-300..300)),
        },
        DataType::Bool => ["0", "1", "true", "false"][rng.usize(0..4)].into(),
        DataType::Long => rng.i64(..).to_string(),
        DataType::Int => rng.i32(..).to_string(),
        DataType::Date => {
            let day = NaiveDate::from_num_days_from_ce_opt(rng.i32(1..3_652_059)).unwrap();
            match rng.bool() {
                true => day.format("%Y-%m-%d").to_string(),
                false => day
                    .and_hms_opt(rng.u32(0..24), rng.u32(0..60), rng.u32(0..60))
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            }
        }
        DataType::Enum(members) => members[rng.usize(0..members.len())].clone(),
    }
}

/// Values for a label's properties, parsed from generated fields (so canonical).
fn props(rng: &mut Rng, label: &Label) -> Vec<Value> {
    label
        .properties
        .iter()
        .map(|p| {
            let field = match p.cardinality {
                _ if rng.u8(0..8) == 0 => String::new(),
                Cardinality::Single => element(rng, &p.data_type, false),
                _ => (0..rng.usize(0..4))
                    .map(|_| element(rng, &p.data_type, true))
                    .collect::<Vec<_>>()
                    .join(";"),
            };
            Value::parse(p, &field).unwrap_or_else(|e| panic!("{field:?} as {p:?}: {e}"))
        })
        .collect()
}

fn graph(rng: &mut Rng, schema: &Schema) -> (Vec<Vertex>, Vec<Edge>) {
    let labels = schema.labels();
    let vertices: Vec<Vertex> = (0..rng.usize(1..30))
        .map(|i| {
            let label = &labels[rng.usize(0..labels.len())];
            Vertex {
                id: format!("{}{i}", text(rng, 4, true)),
                label: label.name.clone(),
                props: props(rng, label),
            }
        })
        .collect();
    let edges = (0..rng.usize(0..40))
        .map(|_| {
            let label = &labels[rng.usize(0..labels.len())];
            Edge {
                source: vertices[rng.usize(0..vertices.len())].id.clone(),
                target: vertices[rng.usize(0..vertices.len())].id.clone(),
                label: label.name.clone(),
                props: props(rng, label),
            }
        })
        .collect();
    (vertices, edges)
}

#[test]
fn generated_graphs_round_trip_through_export_and_import() {
    let formats = [
        (b',', b'"'),
        (b'|', b'"'),
        (b';', b'\''),
        (b'\t', b'"'),
        (b',', b'\''),
    ];
    for seed in 0..300u64 {
        let mut rng = Rng::with_seed(seed);
        let schema = schema(&mut rng);
        let (vertices, edges) = graph(&mut rng, &schema);
        let (delimiter, quote) = formats[rng.usize(0..formats.len())];
        let format = CsvFormat { delimiter, quote };

        let reread = Schema::parse(&schema.to_xml()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(reread, schema, "seed {seed}: schema");
        let mut out = CsvExport::new(Vec::new(), format);
        vertices.iter().try_for_each(|v| out.vertex(v)).unwrap();
        let vertex_file = out.finish().unwrap();
        let mut out = CsvExport::new(Vec::new(), format);
        edges.iter().try_for_each(|e| out.edge(e)).unwrap();
        let edge_file = out.finish().unwrap();

        let (mut got_v, mut got_e) = (vec![], vec![]);
        let fail = |line: u64, why: &crate::import::Rejection| -> std::io::Result<()> {
            panic!("seed {seed}: line {line} rejected: {why}")
        };
        import_vertices(
            &reread,
            &vertex_file[..],
            format,
            |v| {
                got_v.push(v);
                Ok(())
            },
            fail,
        )
        .unwrap();
        assert_eq!(got_v, vertices, "seed {seed}: vertices");
        let ids: HashSet<&str> = got_v.iter().map(|v| v.id.as_str()).collect();
        let exists = |id: &str| ids.contains(id);
        import_edges(
            &reread,
            &edge_file[..],
            format,
            exists,
            |e| {
                got_e.push(e);
                Ok(())
            },
            fail,
        )
        .unwrap();
        assert_eq!(got_e, edges, "seed {seed}: edges");
    }
}
