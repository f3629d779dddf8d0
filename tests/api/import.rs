//! Imports over HTTP: the movies fixtures clean and dirty, directories, path attacks, and
//! resuming a crashed import without loading a line twice.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::{TestApp, fresh_database, storage_root, test_settings};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/movies");

/// Copies the fixtures into `<storage root>/demo/movies` (shared/ is read-only).
pub fn copy_fixtures(root: &Path) {
    for (from, to) in [
        ("schema.xml", "movies/schema.xml"),
        ("vertices.csv", "movies/vertices.csv"),
        ("edges.csv", "movies/edges.csv"),
        ("dirty/schema.xml", "movies/dirty/schema.xml"),
        ("dirty/vertices.csv", "movies/dirty/vertices.csv"),
        ("dirty/edges.csv", "movies/dirty/edges.csv"),
    ] {
        let target = root.join("demo").join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(FIXTURES).join(from), target).unwrap();
    }
}

pub async fn app_with_fixtures() -> (TestApp, PathBuf) {
    let url = fresh_database().await;
    let root = storage_root(&url);
    copy_fixtures(&root);
    (TestApp::spawn_with(test_settings(&url)).await, root)
}

pub fn file<'a>(job: &'a Value, list: &str, index: usize) -> &'a Value {
    &job["job_detail"][list][index]
}

pub fn counts(entry: &Value) -> (i64, i64, i64, &str) {
    let n = |k: &str| entry[k].as_i64().unwrap();
    (
        n("total_lines"),
        n("successful_lines"),
        n("failed_lines"),
        entry["status"].as_str().unwrap(),
    )
}

pub async fn count(app: &TestApp, table: &str, graph: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table} WHERE graph_id = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(uuid::Uuid::try_parse(graph).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_clean_fixtures_import_completely() {
    let (app, _root) = app_with_fixtures().await;
    let graph = app.running_graph("movies").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv",
                      "edgeset_path": "demo/movies/edges.csv"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(job["job_progress"], 100.0);
    assert_eq!(
        counts(file(&job, "vertexset_path", 0)),
        (8, 8, 0, "success")
    );
    assert_eq!(counts(file(&job, "edgeset_path", 0)), (9, 9, 0, "success"));
    assert_eq!(file(&job, "schema_path", 0)["status"], "success");
    assert_eq!(
        file(&job, "vertexset_path", 0)["path"],
        "demo/movies/vertices.csv"
    );
    assert_eq!(
        (
            count(&app, "graph_vertices", &graph).await,
            count(&app, "graph_edges", &graph).await
        ),
        (8, 9)
    );
    let (_, shown) = app.graph(&graph).await;
    assert_eq!(shown["graph"]["status"], "200");
    assert_eq!(shown["graph"]["edgeset_path"][0]["status"], "success");
    assert_eq!(
        shown["graph"]["edgeset_path"][0]["path"],
        "demo/movies/edges.csv"
    );

    // A later import may omit the schema: the stored one is used.
    let again = app
        .operate(
            &graph,
            "import-graph",
            Some(json!({"vertexset_path": "demo/movies/vertices.csv"})),
        )
        .await;
    assert_eq!(
        counts(file(&again, "vertexset_path", 0)),
        (8, 0, 8, "failed"),
        "ids already exist"
    );
    assert_eq!(again["status"], "failed");
}

#[tokio::test]
async fn the_dirty_fixtures_reject_exactly_their_bad_lines_with_logs() {
    let (app, root) = app_with_fixtures().await;
    let graph = app.running_graph("dirty_movies").await;
    let body = json!({"schema_path": "demo/movies/dirty/schema.xml", "vertexset_path": "demo/movies/dirty/vertices.csv",
                      "edgeset_path": "demo/movies/dirty/edges.csv", "log_dir": "demo/logs"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "partiallyFailed", "{job}");
    assert!(
        job["fail_reason"].as_str().unwrap().contains("9 of 14"),
        "{job}"
    );
    let vertices = file(&job, "vertexset_path", 0);
    let edges = file(&job, "edgeset_path", 0);
    assert_eq!(counts(vertices), (8, 3, 5, "partFailed"));
    assert_eq!(counts(edges), (6, 2, 4, "partFailed"));
    let cause = vertices["cause"].as_str().unwrap();
    assert!(cause.starts_with("5 lines rejected"), "{cause}");
    assert!(
        cause.contains("unknown label") && cause.contains("value does not parse"),
        "{cause}"
    );

    let log_path = edges["log"].as_str().unwrap();
    assert!(log_path.starts_with("demo/logs/"), "{log_path}");
    let log = std::fs::read_to_string(root.join(log_path)).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 4, "{log}");
    for (line, number) in lines.iter().zip([2, 3, 5, 6]) {
        assert!(
            line.starts_with(&format!("demo/movies/dirty/edges.csv:{number}: ")),
            "{line}"
        );
    }
    assert!(lines[2].contains("u999"), "{log}");
    let vertex_log = std::fs::read_to_string(root.join(vertices["log"].as_str().unwrap())).unwrap();
    for id in ["u002", "u003", "u005", "m002", "m003"] {
        let line = vertex_log
            .lines()
            .any(|l| l.contains(&format!(":{}:", line_of(id))));
        assert!(line, "{id} is in the log: {vertex_log}");
    }
    assert_eq!(
        (
            count(&app, "graph_vertices", &graph).await,
            count(&app, "graph_edges", &graph).await
        ),
        (3, 2)
    );
}

/// The line of a vertex id in dirty/vertices.csv.
fn line_of(id: &str) -> usize {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("dirty/vertices.csv")).unwrap();
    text.lines()
        .position(|l| l.starts_with(&format!("{id},")))
        .unwrap()
        + 1
}

#[tokio::test]
async fn a_directory_is_every_file_in_it_in_name_order() {
    let (app, root) = app_with_fixtures().await;
    let dir = root.join("demo/split");
    std::fs::create_dir_all(&dir).unwrap();
    let vertices = std::fs::read_to_string(Path::new(FIXTURES).join("vertices.csv")).unwrap();
    let lines: Vec<&str> = vertices.lines().collect();
    std::fs::write(dir.join("b.csv"), lines[..3].join("\n")).unwrap();
    std::fs::write(dir.join("a.csv"), lines[3..].join("\n")).unwrap();
    let graph = app.running_graph("split").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/split"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(file(&job, "vertexset_path", 0)["path"], "demo/split/a.csv");
    assert_eq!(file(&job, "vertexset_path", 1)["path"], "demo/split/b.csv");
    assert_eq!(
        counts(file(&job, "vertexset_path", 1)),
        (3, 3, 0, "success")
    );
    assert!(job["job_detail"]["edgeset_path"].is_null());
}

#[tokio::test]
async fn paths_that_leave_the_storage_area_or_do_not_exist_are_refused() {
    let (app, root) = app_with_fixtures().await;
    let outside = root
        .parent()
        .unwrap()
        .join(format!("outside-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&outside, "x1,user,Eve,F,1,1\n").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("demo/link.csv")).unwrap();
    let graph = app.running_graph("attacked").await;
    let cases = [
        ("demo/../../etc/passwd", "GES.7011"),
        ("/etc/passwd", "GES.7011"),
        ("demo/%2e%2e/secret", "GES.7011"),
        ("demo/movies/./vertices.csv", "GES.7011"),
        ("demo/link.csv", "GES.7011"),
        ("demo/missing.csv", "GES.7017"),
    ];
    for (path, code) in cases {
        let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": path});
        let (status, answer) = app
            .post(&format!("/{graph}/import-graph"), Some(body))
            .await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some(code)),
            "{path}: {answer}"
        );
    }
    assert_eq!(count(&app, "graph_vertices", &graph).await, 0);
    let (_, jobs) = app.list("graph_name=attacked").await;
    assert_eq!(jobs["job_count"], 1, "only the create job exists");
    std::fs::remove_file(outside).unwrap();
}

#[tokio::test]
async fn a_taken_over_import_resumes_after_its_last_committed_line() {
    let url = fresh_database().await;
    let root = storage_root(&url);
    copy_fixtures(&root);
    let mut settings = test_settings(&url);
    settings.worker.concurrency = 0;
    let app = TestApp::spawn_with(settings.clone()).await;
    let graph = app.running_graph_by_hand("resumed").await;
    let graph_uuid = uuid::Uuid::try_parse(&graph).unwrap();
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv"});
    let (status, accepted) = app
        .post(&format!("/{graph}/import-graph"), Some(body))
        .await;
    assert_eq!(status, 200, "{accepted}");
    let job = uuid::Uuid::try_parse(accepted["job_id"].as_str().unwrap()).unwrap();

    // As if a worker had committed the schema and the first 4 records, then died.
    let schema = std::fs::read_to_string(root.join("demo/movies/schema.xml")).unwrap();
    let parsed = jobcenter::import::Schema::parse(&schema).unwrap();
    sqlx::query("UPDATE graphs SET schema_xml = $2 WHERE id = $1")
        .bind(graph_uuid)
        .bind(parsed.to_xml())
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO job_files (job_id, begin_time, kind, ordinal, path, status, total_lines,
                                failed_lines, successful_lines)
         SELECT $1, j.begin_time, f.* FROM jobs j,
                (VALUES ('schema', 1, 'demo/movies/schema.xml', 'success', -1, -1, -1),
                        ('vertex', 1, 'demo/movies/vertices.csv', 'running', 4, 0, 4)) AS f
         WHERE j.id = $1",
    )
    .bind(job)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO graph_vertices (graph_id, id, label, props) SELECT $1, v, 'user', '[]' FROM unnest(ARRAY['u001','u002','u003','u004']) v")
        .bind(graph_uuid)
        .execute(&app.pool)
        .await
        .unwrap();

    let storage = jobcenter::storage::Storage::from_settings(&settings.storage).unwrap();
    let mut worker_settings = settings.worker.clone();
    worker_settings.concurrency = 1;
    let workers = jobcenter::worker::start_builtin(app.pool.clone(), &worker_settings, storage);
    let done = app.wait_job(&graph, &job.simple().to_string()).await;
    workers.shutdown(std::time::Duration::from_secs(5)).await;
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(
        counts(file(&done, "vertexset_path", 0)),
        (8, 8, 0, "success")
    );
    assert_eq!(
        count(&app, "graph_vertices", &graph).await,
        8,
        "no line loaded twice"
    );
}

#[tokio::test]
async fn an_invalid_schema_fails_the_import_and_says_where() {
    let (app, root) = app_with_fixtures().await;
    std::fs::write(root.join("demo/bad.xml"), "<PMML><labels><label name=\"x\"><properties>\n<property name=\"p\" cardinality=\"single\" dataType=\"integer\"/>\n</properties></label></labels></PMML>").unwrap();
    let graph = app.running_graph("bad_schema").await;
    let body = json!({"schema_path": "demo/bad.xml", "vertexset_path": "demo/movies/vertices.csv"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "failed", "{job}");
    let reason = job["fail_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("GES.7070") && reason.contains("line 2") && reason.contains("integer"),
        "{reason}"
    );
    assert_eq!(file(&job, "schema_path", 0)["status"], "failed");
    assert!(
        file(&job, "schema_path", 0)["cause"]
            .as_str()
            .unwrap()
            .contains("integer")
    );
    assert_eq!(count(&app, "graph_vertices", &graph).await, 0);
    assert_eq!(
        app.graph(&graph).await.1["graph"]["status"],
        "200",
        "the graph is usable again"
    );
}

/// Imports the clean vertices, then `edges` as an edge file with `parallel_edge`.
async fn edges_after(
    app: &TestApp,
    root: &Path,
    name: &str,
    edges: &str,
    parallel: Value,
) -> (String, Vec<String>) {
    std::fs::write(root.join(format!("demo/{name}.csv")), edges).unwrap();
    let graph = app.running_graph(name).await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv"});
    assert_eq!(
        app.operate(&graph, "import-graph", Some(body)).await["status"],
        "success"
    );
    let body = json!({"edgeset_path": format!("demo/{name}.csv"), "parallel_edge": parallel});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT source || '>' || target || ':' || label || props::text FROM graph_edges WHERE graph_id = $1 ORDER BY seq",
    )
    .bind(uuid::Uuid::try_parse(&graph).unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    (graph, rows)
}

#[tokio::test]
async fn parallel_edges_are_allowed_ignored_or_overridden() {
    let (app, root) = app_with_fixtures().await;
    let edges = "u001,m001,rate,5,2021-03-04\nu001,m001,rate,3,2022-01-01\nu001,m001,friends\n";
    let (_, allowed) = edges_after(&app, &root, "allowed", edges, json!({"action": "allow"})).await;
    assert_eq!(allowed.len(), 3, "{allowed:?}");
    let (_, ignored) =
        edges_after(&app, &root, "ignored", edges, json!({"action": "ignore"})).await;
    assert_eq!(
        ignored,
        ["u001>m001:rate[\"5\", \"2021-03-04\"]"],
        "the first parallel edge stays"
    );
    let by_label = json!({"action": "ignore", "ignore_label": false});
    let (_, labelled) = edges_after(&app, &root, "ignored_by_label", edges, by_label).await;
    assert_eq!(
        labelled.len(),
        2,
        "with labels compared, friends is not parallel to rate: {labelled:?}"
    );
    let (_, overridden) = edges_after(
        &app,
        &root,
        "overridden",
        edges,
        json!({"action": "override"}),
    )
    .await;
    assert_eq!(
        overridden,
        ["u001>m001:friends[]"],
        "the last parallel edge wins"
    );
}

#[tokio::test]
async fn counts_and_progress_move_while_an_import_runs() {
    let (app, root) = app_with_fixtures().await;
    let lines: String = (0..60_000)
        .map(|i| format!("n{i},user,name {i},F,{},{}\n", i % 90, i % 1000))
        .collect();
    std::fs::write(root.join("demo/many.csv"), lines).unwrap();
    let graph = app.running_graph("watched").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/many.csv"});
    let (_, accepted) = app
        .post(&format!("/{graph}/import-graph"), Some(body))
        .await;
    let job = accepted["job_id"].as_str().unwrap().to_owned();
    let mut seen_between = false;
    loop {
        let (_, now) = app
            .call(
                reqwest::Method::GET,
                &format!("/{graph}/jobs/{job}/status"),
                None,
            )
            .await;
        let total = now["job_detail"]["vertexset_path"][0]["total_lines"]
            .as_i64()
            .unwrap_or(-1);
        let progress = now["job_progress"].as_f64().unwrap();
        if now["status"] == "running"
            && total > 0
            && total < 60_000
            && progress > 0.0
            && progress < 100.0
        {
            seen_between = true;
        }
        if now["status"] == "success" {
            assert_eq!(
                counts(&now["job_detail"]["vertexset_path"][0]),
                (60_000, 60_000, 0, "success")
            );
            break;
        }
        assert!(
            now["status"] == "running" || now["status"] == "pending",
            "{now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        seen_between,
        "a poller saw the counts and the progress between start and end"
    );
}

#[tokio::test]
async fn every_bad_import_option_is_refused_at_the_call_naming_its_field() {
    let (app, _root) = app_with_fixtures().await;
    let graph = app.running_graph("options").await;
    let with = |extra: Value| {
        let mut body = json!({"vertexset_path": "demo/movies/vertices.csv"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (json!({"delimiter": "；"}), "GES.0001", "delimiter"),
        (json!({"delimiter": "é"}), "GES.0001", "delimiter"),
        (json!({"delimiter": ",,"}), "GES.0001", "delimiter"),
        (json!({"delimiter": "\""}), "GES.0001", "trim_quote"),
        (
            json!({"delimiter": "|", "trim_quote": "|"}),
            "GES.0001",
            "trim_quote",
        ),
        (json!({"trim_quote": "''"}), "GES.0001", "trim_quote"),
        (json!({"trim_quote": "\n"}), "GES.0001", "trim_quote"),
        (json!({"delimiter": 5}), "GES.0001", "delimiter"),
        (
            json!({"parallel_edge": {"action": "ignore", "ignore_label": "yes"}}),
            "GES.0001",
            "parallel_edge.ignore_label",
        ),
        (
            json!({"parallel_edge": {"action": "ignore", "ignore_label": 1}}),
            "GES.0001",
            "parallel_edge.ignore_label",
        ),
        (
            json!({"parallel_edge": {"action": "merge"}}),
            "GES.0001",
            "parallel_edge.action",
        ),
        (
            json!({"parallel_edge": "allow"}),
            "GES.0001",
            "parallel_edge",
        ),
        (
            json!({"vertexset_format": "parquet"}),
            "GES.0001",
            "vertexset_format",
        ),
        (json!({"log_dir": "../logs"}), "GES.7011", "log_dir"),
        (
            json!({"edgeset_path": "demo/movies/missing.csv"}),
            "GES.7017",
            "edgeset_path",
        ),
    ];
    for (extra, code, field) in cases {
        app.refused(&format!("/{graph}/import-graph"), with(extra), code, field)
            .await;
    }
    let missing = json!({"delimiter": ","});
    app.refused(
        &format!("/{graph}/import-graph"),
        missing,
        "GES.7049",
        "vertexset_path",
    )
    .await;
    // Accepted forms: a tab as one character and as the two-character escape, a comma.
    for delimiter in [",", "\t", "\\t"] {
        let body =
            with(json!({"delimiter": delimiter, "parallel_edge": {"ignore_label": "false"}}));
        let job = app.operate(&graph, "import-graph", Some(body)).await;
        assert_eq!(job["job_name"], "ImportGraph", "{delimiter:?}: {job}");
    }
}
