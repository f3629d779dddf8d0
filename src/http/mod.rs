//! The HTTP API: routes, extractors, request bodies, views, and the one mapping of errors
//! to the contract. Handlers extract, call one service function, and map its answer.

pub mod backups;
pub mod common;
pub mod console;
pub mod error;
pub mod events;
pub mod extract;
pub mod graph_ops;
pub mod graph_view;
pub mod graphs;
pub mod health;
pub mod input_rules;
pub mod job_files;
pub mod job_view;
pub mod jobs;
pub mod openapi;
pub mod producer;
pub mod producer_view;
pub mod request_id;
pub mod requests;

use actix_web::{HttpRequest, HttpResponse, web};

pub use error::ApiError;

use crate::domain::Code;

/// Registers every route of the API.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Literal segments (jobs, backups) are registered before the {graph_id} patterns.
    cfg.service(health::live)
        .service(health::ready)
        .service(openapi::openapi_json)
        .service(openapi::docs)
        .service(openapi::docs_file)
        .service(console::root)
        .service(console::console)
        .service(console::dev_token)
        .service(console::console_file)
        .service(jobs::list_jobs)
        .service(events::job_events)
        .service(job_files::file_log)
        .service(backups::list_all_backups)
        .service(jobs::show_job)
        .service(jobs::cancel)
        .service(jobs::retry)
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
        .service(graph_ops::stop)
        .service(graph_ops::start)
        .service(graph_ops::restart)
        .service(graph_ops::clear_graph)
        .service(graph_ops::upgrade)
        .service(graph_ops::resize)
        .service(graph_ops::expand)
        .service(graph_ops::import_graph)
        .service(graph_ops::export_graph)
        .service(graph_ops::backup)
        .service(graph_ops::export_backup)
        .service(graph_ops::import_backup);
}

/// Path extraction failures answer in the contract's shape (bodies and query strings are
/// read by [`extract::JsonBody`] and [`extract::Query`]).
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(input_rules::MAX_BODY_BYTES))
        .app_data(
            web::PathConfig::default().error_handler(|err, _req| {
                ApiError::new(Code::BadParameter, err.to_string()).into()
            }),
        );
}

/// Any request no route serves: 405 (with `Allow`) for a path of the document asked with
/// another method, else 404.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    match openapi::other_methods(req.path(), req.method().as_str()) {
        Some(allowed) => {
            let mut answer =
                actix_web::ResponseError::error_response(&ApiError::from(Code::MethodNotAllowed));
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allowed) {
                answer
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            answer
        }
        None => actix_web::ResponseError::error_response(&ApiError::from(Code::NoRoute)),
    }
}
