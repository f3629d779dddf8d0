//! Backups hold the graph's data; a start from a backup restores exactly that.

use serde_json::json;

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
