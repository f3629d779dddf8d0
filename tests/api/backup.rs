//! Backups hold the graph's data; a start from a backup restores exactly that.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The graph's vertices and edges as sorted text rows.
async fn snapshot(app: &TestApp, graph: &str) -> (Vec<String>, Vec<String>) {
    let id = uuid::Uuid::try_parse(graph).unwrap();
    let vertices: Vec<String> = sqlx::query_scalar(
        "SELECT id || '|' || label || '|' || props::text FROM graph_vertices WHERE graph_id = $1 ORDER BY 1",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let edges: Vec<String> = sqlx::query_scalar(
        "SELECT source || '|' || target || '|' || label || '|' || props::text FROM graph_edges WHERE graph_id = $1 ORDER BY 1",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    (vertices, edges)
}

#[tokio::test]
async fn starting_from_a_backup_restores_exactly_what_was_backed_up() {
    let url = crate::helpers::fresh_database().await;
    crate::import::copy_fixtures(&crate::helpers::storage_root(&url));
    let app = TestApp::spawn_with(crate::helpers::test_settings(&url)).await;
    let graph = app.running_graph("backed_up").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv",
                      "edgeset_path": "demo/movies/edges.csv"});
    assert_eq!(
        app.operate(&graph, "import-graph", Some(body)).await["status"],
        "success"
    );
    let before = snapshot(&app, &graph).await;
    assert_eq!((before.0.len(), before.1.len()), (8, 9));

    assert_eq!(
        app.operate(&graph, "backups", None).await["status"],
        "success"
    );
    let (_, backups) = app
        .call(reqwest::Method::GET, &format!("/{graph}/backups"), None)
        .await;
    let backup = &backups["backup_list"][0];
    assert_eq!(backup["status"], "success");
    assert!(backup["size"].as_i64().unwrap() > 0, "{backup}");

    assert_eq!(
        app.operate(&graph, "clear-graph?clear_metadata=true", None)
            .await["status"],
        "success"
    );
    assert_eq!(snapshot(&app, &graph).await, (vec![], vec![]));
    assert_eq!(app.operate(&graph, "stop", None).await["status"], "success");
    let start = json!({"graph_backup_id": backup["id"]});
    assert_eq!(
        app.operate(&graph, "start", Some(start)).await["status"],
        "success"
    );
    assert_eq!(snapshot(&app, &graph).await, before);

    // The schema came back too: an import without schema_path validates against it.
    let again = app
        .operate(
            &graph,
            "import-graph",
            Some(json!({"edgeset_path": "demo/movies/edges.csv"})),
        )
        .await;
    assert_eq!(again["status"], "success", "{again}");
}

/// A backup's files that do not hold what their manifest says fail the import: the job
/// says why, the backup it was making ends `failed`, the graph is as it was; an export of
/// a backup that is not a successful backup of the graph is refused at the call.
#[tokio::test]
async fn a_tampered_backup_export_fails_its_import_and_the_backup() {
    let url = crate::helpers::fresh_database().await;
    let root = crate::helpers::storage_root(&url);
    let app = TestApp::spawn_with(crate::helpers::test_settings(&url)).await;
    let graph = app.running_graph("tampered").await;
    app.operate(&graph, "backups", None).await;
    let (_, listed) = app
        .call(reqwest::Method::GET, &format!("/{graph}/backups"), None)
        .await;
    let backup = listed["backup_list"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"backup_id": backup, "export_path": "demo/out"});
    let job = app.operate(&graph, "backups/export", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    let manifest = root.join("demo/out/backup.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut counts: Value = serde_json::from_str(&text).unwrap();
    counts["vertices"] = json!(counts["vertices"].as_i64().unwrap() + 1);
    std::fs::write(&manifest, counts.to_string()).unwrap();

    let job = app
        .operate(
            &graph,
            "backups/import",
            Some(json!({"import_path": "demo/out"})),
        )
        .await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["fail_reason"]
            .as_str()
            .unwrap()
            .contains("manifest says"),
        "{job}"
    );
    let (_, listed) = app
        .call(reqwest::Method::GET, &format!("/{graph}/backups"), None)
        .await;
    let statuses: Vec<&str> = listed["backup_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "failed").count(),
        1,
        "{listed}"
    );
    assert_eq!(app.graph(&graph).await.1["graph"]["status"], "200");

    let unknown = uuid::Uuid::new_v4().simple().to_string();
    let export = format!("/{graph}/backups/export");
    let body = json!({"backup_id": unknown, "export_path": "demo/x"});
    app.refused(&export, body, "GES.0001", "backup_id").await;
    let body = json!({"backup_id": backup});
    app.refused(&export, body, "GES.7049", "export_path").await;
}
