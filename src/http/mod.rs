//! The HTTP API: routes, extractors, and the mapping of errors to the contract.

pub mod backups;
pub mod body;
pub mod error;
pub mod extract;
pub mod graph_ops;
pub mod graph_view;
pub mod graphs;
pub mod health;
pub mod job_view;
pub mod jobs;
pub mod openapi;
pub mod producer;
pub mod producer_view;
pub mod request_id;

use actix_web::{HttpRequest, HttpResponse, web};

pub use error::ApiError;

/// Registers every route of the API.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Literal segments (jobs, backups) are registered before the {graph_id} patterns.
    cfg.service(health::live)
        .service(health::ready)
        .service(openapi::openapi_json)
        .service(openapi::docs)
        .service(openapi::docs_file)
        .service(jobs::list_jobs)
        .service(backups::list_all_backups)
        .service(jobs::show_job)
        // Job actions before {graph_id}/{action}, which would take "jobs" for a graph id.
        .service(producer::cancel)
        .service(producer::retry)
        .service(producer::enqueue)
        .service(producer::claim)
        .service(producer::heartbeat)
        .service(producer::complete)
        .service(graphs::create_graph)
        .service(graphs::list_graphs)
        .service(graphs::show_graph)
        .service(graphs::delete_graph)
        .service(backups::list_graph_backups)
        .service(backups::delete_backup)
        .service(graph_ops::graph_action);
}

/// JSON, path and query extraction failures answer in the contract's shape.
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(|err, _req| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "GES.7016",
            format!("the body is not valid JSON: {err}"),
        )
        .into()
    }))
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _req| ApiError::bad_parameter(err.to_string()).into()),
    );
}

/// Any path no route serves.
pub async fn no_route(_req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::no_route())
}
