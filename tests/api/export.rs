//! Exports over HTTP: the three files in the import formats, refusals with clear reasons,
//! graphs of several pages, and the round trip (import, export, import into an empty graph,
//! same graph) on the movies fixtures and on seeded generated graphs of every data type.

use std::path::{Path, PathBuf};

use jobcenter::import::{
    Cardinality, CsvExport, CsvFormat, DataType, Label, Property, Schema, Value,
};
use serde_json::{Value as Json, json};

use crate::helpers::{TestApp, fresh_database, storage_root, test_settings};
use crate::import::copy_fixtures;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/movies");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

/// A service whose object storage holds the movies fixtures under `demo/movies`.
async fn app_with_storage() -> (TestApp, PathBuf) {
    let url = fresh_database().await;
    let root = storage_root(&url);
    copy_fixtures(&root);
    (TestApp::spawn_with(test_settings(&url)).await, root)
}

fn uuid(id: &str) -> uuid::Uuid {
    uuid::Uuid::try_parse(id).unwrap()
}

fn export_body(dir: &str) -> Json {
    json!({"graph_export_path": dir, "schema_name": "schema.xml",
           "vertex_set_name": "vertices.csv", "edge_set_name": "edges.csv"})
}

/// The movies fixtures loaded with plain SQL (no import engine): the fixture schema as the
/// graph's schema, and every vertex and edge with its properties in the stored JSON form.
async fn load_movies_with_sql(app: &TestApp, graph: &str) {
    sqlx::query("UPDATE graphs SET schema_xml = $2 WHERE id = $1")
        .bind(uuid(graph))
        .bind(fixture("schema.xml"))
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        r#"INSERT INTO graph_vertices (graph_id, id, label, props) VALUES
           ($1, 'u001', 'user', '["Ada Lovelace", "F", "36", "10115"]'),
           ($1, 'u002', 'user', '["Alan Turing", "M", "41", "CB21"]'),
           ($1, 'u003', 'user', '["Grace Hopper", "F", "85", "10001"]'),
           ($1, 'u004', 'user', '["Hopper, Jr.", "M", "30", "10002"]'),
           ($1, 'm001', 'movie', '["The Matrix", "1999", ["Action", "Sci-Fi"], "8.7"]'),
           ($1, 'm002', 'movie', '["Spirited Away", "2001", ["Animation", "Fantasy", "Family"], "8.6"]'),
           ($1, 'm003', 'movie', '["Crouching Tiger, Hidden Dragon", "2000", ["Action", "Drama"], "7.9"]'),
           ($1, 'm004', 'movie', '["Arrival", "2016", ["Drama", "Sci-Fi"], "7.9"]')"#,
    )
    .bind(uuid(graph))
    .execute(&app.pool)
    .await
    .unwrap();
    // One statement: seq follows the VALUES order, which is the fixture's line order.
    sqlx::query(
        r#"INSERT INTO graph_edges (graph_id, source, target, label, props)
           SELECT $1, s, t, l, p::jsonb FROM (VALUES
           (1, 'u001', 'm001', 'rate', '["5", "2021-03-04 10:11:12"]'),
           (2, 'u001', 'm004', 'rate', '["4", "2021-03-05"]'),
           (3, 'u002', 'm001', 'rate', '["5", "2020-12-31 23:59:59"]'),
           (4, 'u002', 'm003', 'rate', '["3", "2022-01-01"]'),
           (5, 'u003', 'm002', 'rate', '["4", "2019-07-08 08:00:00"]'),
           (6, 'u004', 'm002', 'rate', '["5", "2023-02-14"]'),
           (7, 'u001', 'u002', 'friends', '[]'),
           (8, 'u002', 'u003', 'friends', '[]'),
           (9, 'u003', 'u004', 'friends', '[]')) AS e (n, s, t, l, p)
           ORDER BY n"#,
    )
    .bind(uuid(graph))
    .execute(&app.pool)
    .await
    .unwrap();
}

fn read(root: &Path, object: &str) -> String {
    std::fs::read_to_string(root.join(object))
        .unwrap_or_else(|e| panic!("{object} should have been exported: {e}"))
}

/// Whatever lies under `dir` of the storage root.
fn files_under(root: &Path, dir: &str) -> Vec<String> {
    match std::fs::read_dir(root.join(dir)) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn export_writes_the_schema_vertices_and_edges_in_the_import_formats() {
    let (app, root) = app_with_storage().await;
    let graph = app.running_graph("exported").await;
    load_movies_with_sql(&app, &graph).await;

    let job = app
        .operate(&graph, "export-graph", Some(export_body("demo/exports/g1")))
        .await;
    assert_eq!(
        (job["status"].as_str(), job["job_name"].as_str()),
        (Some("success"), Some("ExportGraph")),
        "{job}"
    );
    assert_eq!(job["job_progress"], 100.0);
    assert_eq!(app.graph(&graph).await.1["graph"]["status"], "200");

    // The schema as stored, byte for byte.
    assert_eq!(
        read(&root, "demo/exports/g1/schema.xml"),
        fixture("schema.xml")
    );
    // Vertices in id order, each exactly its fixture line (quoting included).
    let vertices = read(&root, "demo/exports/g1/vertices.csv");
    let mut expected: Vec<String> = fixture("vertices.csv").lines().map(String::from).collect();
    expected.sort();
    assert_eq!(vertices, expected.join("\n") + "\n");
    assert!(vertices.contains("\nu004,user,\"Hopper, Jr.\",M,30,10002\n"));
    assert!(
        vertices
            .contains("\nm003,movie,\"Crouching Tiger, Hidden Dragon\",2000,Action;Drama,7.9\n")
    );
    assert!(vertices.starts_with("m001,movie,The Matrix,1999,Action;Sci-Fi,8.7\n"));
    // Edges in insertion order; a label without properties is just the three columns.
    let edges = read(&root, "demo/exports/g1/edges.csv");
    assert_eq!(edges, fixture("edges.csv"));
    assert!(edges.ends_with("u003,u004,friends\n"));
}

#[tokio::test]
async fn an_export_spanning_several_pages_writes_every_row_once_in_order() {
    let (app, root) = app_with_storage().await;
    let graph = app.running_graph("paged").await;
    let schema = r#"<PMML><labels>
        <label name="n"><properties><property name="k" cardinality="single" dataType="long"/>
            <property name="tags" cardinality="list" dataType="string"/></properties></label>
        <label name="e"><properties><property name="w" cardinality="single" dataType="int"/></properties></label>
        </labels></PMML>"#;
    sqlx::query("UPDATE graphs SET schema_xml = $2 WHERE id = $1")
        .bind(uuid(&graph))
        .bind(schema)
        .execute(&app.pool)
        .await
        .unwrap();
    let (vertices, edges) = (25_001_i64, 30_000_i64);
    sqlx::query(
        "INSERT INTO graph_vertices (graph_id, id, label, props)
         SELECT $1, 'v' || lpad(i::text, 6, '0'), 'n', jsonb_build_array(i::text, jsonb_build_array('a', 'b' || i))
         FROM generate_series(1, $2) i",
    )
    .bind(uuid(&graph))
    .bind(vertices)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO graph_edges (graph_id, source, target, label, props)
         SELECT $1, 'v' || lpad((i % $3 + 1)::text, 6, '0'), 'v' || lpad(((i * 7) % $3 + 1)::text, 6, '0'),
                'e', jsonb_build_array(i::text)
         FROM generate_series(1, $2) i ORDER BY i",
    )
    .bind(uuid(&graph))
    .bind(edges)
    .bind(vertices)
    .execute(&app.pool)
    .await
    .unwrap();

    let job = app
        .operate(&graph, "export-graph", Some(export_body("demo/paged")))
        .await;
    assert_eq!(job["status"], "success", "{job}");

    let vertex_text = read(&root, "demo/paged/vertices.csv");
    let vertex_lines: Vec<&str> = vertex_text.lines().collect();
    assert_eq!(vertex_lines.len() as i64, vertices);
    for (i, line) in vertex_lines.iter().enumerate() {
        let n = i + 1;
        assert_eq!(*line, format!("v{n:06},n,{n},a;b{n}"));
    }
    let edge_text = read(&root, "demo/paged/edges.csv");
    let edge_lines: Vec<&str> = edge_text.lines().collect();
    assert_eq!(edge_lines.len() as i64, edges);
    for (i, line) in edge_lines.iter().enumerate() {
        let n = i as i64 + 1;
        let (s, t) = (n % vertices + 1, (n * 7) % vertices + 1);
        assert_eq!(*line, format!("v{s:06},v{t:06},e,{n}"));
    }
}

#[tokio::test]
async fn a_graph_without_a_schema_is_not_exported_and_says_why() {
    let (app, root) = app_with_storage().await;
    let graph = app.running_graph("schemaless").await;
    let job = app
        .operate(&graph, "export-graph", Some(export_body("demo/none")))
        .await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["fail_reason"]
            .as_str()
            .unwrap()
            .contains("has no schema"),
        "{job}"
    );
    assert_eq!(app.graph(&graph).await.1["graph"]["status"], "200");
    assert!(files_under(&root, "demo/none").is_empty());
}

#[tokio::test]
async fn file_names_that_make_no_valid_path_are_refused_at_the_call() {
    let (app, root) = app_with_storage().await;
    let graph = app.running_graph("badnames").await;
    load_movies_with_sql(&app, &graph).await;
    // Each part is a valid path, but together they are longer than an object path may be.
    let dir = format!("demo/{}", "d".repeat(600));
    let mut body = export_body(&dir);
    body["schema_name"] = json!("s".repeat(500));
    let path = format!("/{graph}/export-graph");
    app.refused(&path, body, "GES.7011", "schema_name").await;
    // Two files of one name would overwrite each other.
    let mut body = export_body("demo/bad");
    body["edge_set_name"] = json!("vertices.csv/");
    app.refused(&path, body, "GES.0001", "must name three different files")
        .await;
    assert_eq!(app.graph(&graph).await.1["graph"]["status"], "200");
    assert!(files_under(&root, "demo/bad").is_empty());
    assert!(
        files_under(&root, "demo")
            .iter()
            .all(|f| !f.starts_with("ddd"))
    );
}

#[tokio::test]
async fn rows_that_would_not_import_back_fail_the_export_and_are_named() {
    let (app, root) = app_with_storage().await;
    let graph = app.running_graph("unfit").await;
    load_movies_with_sql(&app, &graph).await;
    sqlx::query(
        r#"INSERT INTO graph_vertices (graph_id, id, label, props)
           VALUES ($1, 'd001', 'director', '["Wachowski"]')"#,
    )
    .bind(uuid(&graph))
    .execute(&app.pool)
    .await
    .unwrap();
    let job = app
        .operate(&graph, "export-graph", Some(export_body("demo/unfit")))
        .await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(
        job["fail_reason"],
        "cannot export vertex \"d001\": its label \"director\" is not in the graph's schema"
    );

    sqlx::query("DELETE FROM graph_vertices WHERE id = 'd001'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        r#"UPDATE graph_edges SET props = '["5"]' WHERE graph_id = $1 AND source = 'u004'"#,
    )
    .bind(uuid(&graph))
    .execute(&app.pool)
    .await
    .unwrap();
    let job = app
        .operate(&graph, "export-graph", Some(export_body("demo/unfit")))
        .await;
    assert_eq!(job["status"], "failed", "{job}");
    let reason = job["fail_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("cannot export edge \"u004\" -> \"m002\"")
            && reason.ends_with("it has 1 property values, label \"rate\" declares 2"),
        "{reason}"
    );
    assert!(files_under(&root, "demo/unfit").is_empty());
    assert_eq!(app.graph(&graph).await.1["graph"]["status"], "200");
}

// ---------------------------------------------------------------------------------------
// Round trip: import into A, export A, import the export into an empty B, compare.

/// A graph's content: schema, vertices by id, edges in insertion order (no ids, no seq).
#[derive(Debug, PartialEq)]
struct Content {
    schema: Option<Schema>,
    vertices: Vec<(String, String, Json)>,
    edges: Vec<(String, String, String, Json)>,
}

async fn content(app: &TestApp, graph: &str) -> Content {
    let schema: Option<String> = sqlx::query_scalar("SELECT schema_xml FROM graphs WHERE id = $1")
        .bind(uuid(graph))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let vertices = sqlx::query_as(
        "SELECT id, label, props FROM graph_vertices WHERE graph_id = $1 ORDER BY id",
    )
    .bind(uuid(graph))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let edges = sqlx::query_as(
        "SELECT source, target, label, props FROM graph_edges WHERE graph_id = $1 ORDER BY seq",
    )
    .bind(uuid(graph))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    Content {
        schema: schema.map(|xml| Schema::parse(&xml).unwrap()),
        vertices,
        edges,
    }
}

/// Imports `dir`'s `schema.xml`, `vertices.csv`, `edges.csv` and checks every line loaded.
async fn import_all(app: &TestApp, graph: &str, dir: &str, vertices: usize, edges: usize) {
    let body = json!({"schema_path": format!("{dir}/schema.xml"),
                      "vertexset_path": format!("{dir}/vertices.csv"),
                      "edgeset_path": format!("{dir}/edges.csv")});
    let job = app.operate(graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "import of {dir}: {job}");
    let detail = &job["job_detail"];
    assert_eq!(
        (
            detail["vertexset_path"][0]["successful_lines"].as_u64(),
            detail["edgeset_path"][0]["successful_lines"].as_u64()
        ),
        (Some(vertices as u64), Some(edges as u64)),
        "import of {dir}: {job}"
    );
}

/// Import `dir` into a new graph A, export A, import the export into a new graph B;
/// answers A's and B's contents.
async fn round_trip(
    app: &TestApp,
    name: &str,
    dir: &str,
    vertices: usize,
    edges: usize,
) -> (Content, Content) {
    let a = app.running_graph(&format!("{name}_a")).await;
    import_all(app, &a, dir, vertices, edges).await;
    let out = format!("{dir}-export");
    let job = app
        .operate(&a, "export-graph", Some(export_body(&out)))
        .await;
    assert_eq!(job["status"], "success", "export of {dir}: {job}");
    let b = app.running_graph(&format!("{name}_b")).await;
    import_all(app, &b, &out, vertices, edges).await;
    (content(app, &a).await, content(app, &b).await)
}

#[tokio::test]
async fn the_movies_fixtures_survive_import_export_import() {
    let (app, _root) = app_with_storage().await;
    let (a, b) = round_trip(&app, "movies", "demo/movies", 8, 9).await;
    assert_eq!(a.vertices.len(), 8);
    assert_eq!(a.edges.len(), 9);
    assert_eq!(
        a.vertices.iter().find(|v| v.0 == "u004").unwrap().2,
        json!(["Hopper, Jr.", "M", "30", "10002"])
    );
    assert_eq!(a, b);
}

#[tokio::test]
async fn generated_graphs_of_every_data_type_survive_export_and_reimport() {
    let (app, root) = app_with_storage().await;
    for seed in 1..=5_u64 {
        let generated = Generated::new(seed);
        let dir = format!("gen/seed{seed}");
        generated.write(&root.join(&dir));
        let (a, b) = round_trip(
            &app,
            &format!("gen{seed}"),
            &dir,
            generated.vertices,
            generated.edges,
        )
        .await;
        assert_eq!(a.vertices.len(), generated.vertices, "seed {seed}");
        assert_eq!(a.edges.len(), generated.edges, "seed {seed}");
        assert_eq!(a.schema.as_ref(), Some(&generated.schema), "seed {seed}");
        if a != b {
            for (x, y) in a.vertices.iter().zip(&b.vertices) {
                assert_eq!(x, y, "seed {seed}: first differing vertex");
            }
            for (x, y) in a.edges.iter().zip(&b.edges) {
                assert_eq!(x, y, "seed {seed}: first differing edge");
            }
            assert_eq!(a, b, "seed {seed}");
        }
    }
}

/// A seeded random graph written as import files by the import library: a schema with
/// every data type as `single`, `list` and `set` properties, up to 200 vertices (ids with
/// delimiters, quotes and non-ASCII) and up to 400 edges (parallel ones too), with values
/// in canonical and non-canonical spellings, empty fields, and text holding the delimiter,
/// quotes, `;` and line breaks.
struct Generated {
    schema: Schema,
    vertex_lines: Vec<(String, String, Vec<Value>)>,
    edge_lines: Vec<(String, String, String, Vec<Value>)>,
    vertices: usize,
    edges: usize,
}

fn types() -> Vec<(&'static str, DataType)> {
    vec![
        ("char", DataType::Char),
        ("chars", DataType::CharArray { max_len: 8 }),
        ("float", DataType::Float),
        ("double", DataType::Double),
        ("bool", DataType::Bool),
        ("long", DataType::Long),
        ("int", DataType::Int),
        ("date", DataType::Date),
        (
            "enum",
            DataType::Enum(vec![
                "red".into(),
                "dark green".into(),
                "a,b".into(),
                "say \"x\"".into(),
            ]),
        ),
        ("string", DataType::String),
    ]
}

fn generated_schema() -> Schema {
    let property = |name: String, cardinality, data_type| Property {
        name,
        cardinality,
        data_type,
    };
    let singles: Vec<Property> = types()
        .into_iter()
        .map(|(n, t)| property(format!("s_{n}"), Cardinality::Single, t))
        .collect();
    let multis: Vec<Property> = types()
        .into_iter()
        .flat_map(|(n, t)| {
            [
                property(format!("l_{n}"), Cardinality::List, t.clone()),
                property(format!("t_{n}"), Cardinality::Set, t),
            ]
        })
        .collect();
    let edge_props = vec![
        property("weight".into(), Cardinality::Single, DataType::Double),
        property("since".into(), Cardinality::Single, DataType::Date),
        property("notes".into(), Cardinality::List, DataType::String),
        property("kind".into(), Cardinality::Single, types()[8].1.clone()),
    ];
    let label = |name: &str, properties| Label {
        name: name.into(),
        properties,
    };
    Schema::new(vec![
        label("scalar", singles),
        label("multi", multis),
        label("bare", Vec::new()),
        label("link", edge_props),
        label("plain", Vec::new()),
    ])
    .unwrap()
}

impl Generated {
    fn new(seed: u64) -> Generated {
        let mut rng = fastrand::Rng::with_seed(seed);
        let schema = generated_schema();
        let vertex_count = rng.usize(1..=200);
        let odd_ids = ["a,b", "q\"uote", "sp ace", "ünï", "semi;colon", "x\ny"];
        let ids: Vec<String> = (0..vertex_count)
            .map(|i| match i % 23 {
                5 => format!("{}{i}", odd_ids[i % odd_ids.len()]),
                _ => format!("v{i}"),
            })
            .collect();
        let vertex_lines = ids
            .iter()
            .map(|id| {
                let label = ["scalar", "multi", "bare"][rng.usize(0..3)];
                let props = values(&mut rng, &schema, label);
                (id.clone(), label.to_owned(), props)
            })
            .collect();
        let edge_count = rng.usize(0..=400);
        let edge_lines = (0..edge_count)
            .map(|_| {
                let source = ids[rng.usize(0..ids.len())].clone();
                let target = ids[rng.usize(0..ids.len())].clone();
                let label = ["link", "plain"][rng.usize(0..2)];
                let props = values(&mut rng, &schema, label);
                (source, target, label.to_owned(), props)
            })
            .collect();
        Generated {
            schema,
            vertex_lines,
            edge_lines,
            vertices: vertex_count,
            edges: edge_count,
        }
    }

    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let schema = std::fs::File::create(dir.join("schema.xml")).unwrap();
        jobcenter::import::write_schema(&self.schema, schema).unwrap();
        let file = std::fs::File::create(dir.join("vertices.csv")).unwrap();
        let mut out = CsvExport::new(file, CsvFormat::default());
        for (id, label, props) in &self.vertex_lines {
            out.write_vertex(id, label, props).unwrap();
        }
        out.finish().unwrap();
        let file = std::fs::File::create(dir.join("edges.csv")).unwrap();
        let mut out = CsvExport::new(file, CsvFormat::default());
        for (source, target, label, props) in &self.edge_lines {
            out.write_edge(source, target, label, props).unwrap();
        }
        out.finish().unwrap();
    }
}

/// Field values for every property of `label`, as written in a file (not canonical).
fn values(rng: &mut fastrand::Rng, schema: &Schema, label: &str) -> Vec<Value> {
    schema
        .label(label)
        .unwrap()
        .properties
        .iter()
        .map(|p| match p.cardinality {
            Cardinality::Single if rng.u8(0..8) == 0 => Value::Single(String::new()),
            Cardinality::Single => Value::Single(scalar(rng, &p.data_type, true)),
            Cardinality::List | Cardinality::Set => {
                let mut elements: Vec<String> = (0..rng.usize(0..5))
                    .map(|_| scalar(rng, &p.data_type, false))
                    .collect();
                if !elements.is_empty() && rng.bool() {
                    // A repeated element (kept by a list, dropped by a set) and an empty one
                    // (skipped by both).
                    elements.push(elements[0].clone());
                    elements.insert(rng.usize(0..elements.len()), String::new());
                }
                Value::Multi(elements)
            }
        })
        .collect()
}

/// One valid non-empty value of `ty`; `single` values may hold `;`.
fn scalar(rng: &mut fastrand::Rng, ty: &DataType, single: bool) -> String {
    let pick =
        |rng: &mut fastrand::Rng, options: &[&str]| options[rng.usize(0..options.len())].to_owned();
    match ty {
        DataType::Char => {
            let chars = if single { ",\";xé字 " } else { ",\"xé字 Z" };
            let chars: Vec<char> = chars.chars().collect();
            chars[rng.usize(0..chars.len())].to_string()
        }
        DataType::CharArray { max_len } => {
            let text = text(rng, single);
            let cut: String = text.chars().take(*max_len).collect();
            if cut.is_empty() { "z".into() } else { cut }
        }
        DataType::Float => match rng.u8(0..4) {
            0 => format!("{}", rng.f32() * 1000.0 - 500.0),
            1 => format!("{:e}", rng.f32() * 1e30),
            2 => format!("+{}.50", rng.u16(..)),
            _ => pick(rng, &["0", "-0.0", "1e-7", "3.4028235e38", "007.25"]),
        },
        DataType::Double => match rng.u8(0..4) {
            0 => format!("{}", rng.f64() * 1e6 - 5e5),
            1 => format!("{:e}", rng.f64() * 1e300),
            2 => format!("-{}E-3", rng.u32(..)),
            _ => pick(
                rng,
                &["0.1", "1e16", "123456789012345678", "5e-324", "+8.70"],
            ),
        },
        DataType::Bool => pick(rng, &["0", "1", "true", "false"]),
        DataType::Long => match rng.u8(0..3) {
            0 => rng.i64(..).to_string(),
            1 => format!("+00{}", rng.u32(..)),
            _ => pick(rng, &["-9223372036854775808", "9223372036854775807", "-0"]),
        },
        DataType::Int => match rng.u8(0..3) {
            0 => rng.i32(..).to_string(),
            1 => format!("0{}", rng.u16(..)),
            _ => pick(rng, &["-2147483648", "2147483647", "+0"]),
        },
        DataType::Date => {
            let year = rng.u32(1..=9999);
            let month = rng.u32(1..=12);
            let day = rng.u32(1..=28);
            if rng.bool() {
                format!("{year:04}-{month:02}-{day:02}")
            } else {
                let (h, m, s) = (rng.u32(0..24), rng.u32(0..60), rng.u32(0..60));
                format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}")
            }
        }
        DataType::Enum(members) => members[rng.usize(0..members.len())].clone(),
        DataType::String => text(rng, single),
    }
}

/// Text with the delimiter, quotes, line breaks, spaces at the ends and non-ASCII (and,
/// for single values, `;`); never empty.
fn text(rng: &mut fastrand::Rng, single: bool) -> String {
    let pieces = [
        "plain",
        "a,b",
        "\"quoted\"",
        "line\nbreak",
        "crlf\r\nx",
        " padded ",
        "ünïcødé",
        "字",
        "tab\there",
        "'",
        "x",
    ];
    let mut out = String::new();
    for _ in 0..rng.usize(1..4) {
        out.push_str(pieces[rng.usize(0..pieces.len())]);
        if single && rng.u8(0..6) == 0 {
            out.push(';');
        }
    }
    out
}
