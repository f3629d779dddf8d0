//! The OpenAPI 3.1 document of the whole API, generated from the handlers' `#[utoipa::path]`
//! annotations and the `ToSchema` types they answer, served at `GET /openapi.json`; and
//! Swagger UI at `GET /docs/`, embedded in the binary (the vendored Swagger UI of
//! `utoipa-swagger-ui`: nothing is fetched at build or run time). Neither needs a token.
//!
//! Policy: every route registered in `http::routes` is in [`ApiDoc`]'s `paths`; request
//! bodies and parameters are documented by the very structs that read them
//! (`http::requests`); every route with a token answers the common errors of
//! [`CommonErrors`]; a test compares the served document with a committed snapshot.

pub mod accepted;
pub mod errors;

use std::sync::{Arc, LazyLock};

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, get, web};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::ApiError;
use crate::http::extract::TOKEN_HEADER;

/// The name of the token's security scheme (also spelled out in [`ApiDoc`]'s `security`).
const SCHEME: &str = "x_auth_token";

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jobcenter",
        description = "The job center of a graph database management plane: graph jobs and \
            graph operations (the GES V2 job API, under `/v2`), and the producer API other \
            internal services use to enqueue and run jobs of their own types (under \
            `/internal/v1`). Errors answer `{\"error_code\", \"error_msg\"}`; a method a path \
            does not document answers 405 with `Allow`, a path not documented 404."
    ),
    paths(
        crate::http::health::live,
        crate::http::health::ready,
        openapi_json,
        docs,
        docs_file,
        crate::http::console::root,
        crate::http::console::console,
        crate::http::console::console_file,
        crate::http::console::dev_token,
        crate::http::jobs::list_jobs,
        crate::http::events::job_events,
        crate::http::job_files::file_log,
        crate::http::jobs::show_job,
        crate::http::jobs::cancel,
        crate::http::jobs::retry,
        crate::http::graphs::create_graph,
        crate::http::graphs::list_graphs,
        crate::http::graphs::show_graph,
        crate::http::graphs::delete_graph,
        crate::http::graph_ops::stop,
        crate::http::graph_ops::start,
        crate::http::graph_ops::restart,
        crate::http::graph_ops::clear_graph,
        crate::http::graph_ops::upgrade,
        crate::http::graph_ops::resize,
        crate::http::graph_ops::expand,
        crate::http::graph_ops::import_graph,
        crate::http::graph_ops::export_graph,
        crate::http::graph_ops::backup,
        crate::http::graph_ops::export_backup,
        crate::http::graph_ops::import_backup,
        crate::http::backups::list_all_backups,
        crate::http::backups::list_graph_backups,
        crate::http::backups::delete_backup,
        crate::http::producer::enqueue,
        crate::http::producer::claim,
        crate::http::producer::heartbeat,
        crate::http::producer::complete,
    ),
    modifiers(&TokenScheme, &CommonErrors, &OptionalBodies),
    security(("x_auth_token" = [])),
    tags(
        (name = "jobs", description = "Jobs of a project: list, show, cancel, retry."),
        (name = "graphs", description = "Graphs: create, list, show, delete."),
        (name = "graph operations", description = "Operations on one graph (`operator` tokens): each answers at once with the job that runs it; the graph's state decides whether it is accepted."),
        (name = "backups", description = "Backups of graphs (taking one is a graph operation)."),
        (name = "producer", description = "The internal producer API: enqueue jobs of your own types and run them on your own workers (`producer` tokens)."),
        (name = "health", description = "Liveness and readiness, without a token."),
        (name = "docs", description = "This document and its interactive page, without a token."),
        (name = "console", description = "The operators' console (a web page calling this API with the operator's token), without a token."),
    )
)]
pub struct ApiDoc;

/// The `X-Auth-Token` header scheme.
struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, doc: &mut Document) {
        let scheme = SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            TOKEN_HEADER,
            "A JWT with the claims `sub`, `project_id` (the project of the path), `roles` \
             (`readonly`, `operator`, `producer`) and `exp`; signed with HS256 by default, \
             or RS256/ES256 when the service is configured with a public key.",
        )));
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(SCHEME, scheme);
    }
}

/// Adds the answers every route with a token can give: 401, 403, 500, 503, and 413 where
/// it reads a body.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut Document) {
        let common = [
            ("401", errors::UNAUTHENTICATED),
            ("403", errors::FORBIDDEN),
            ("500", errors::INTERNAL),
            ("503", errors::UNAVAILABLE),
        ];
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            // An operation without its own `security` needs the document's: the token.
            for operation in operations.into_iter().flatten() {
                if operation.security.is_some() {
                    continue;
                }
                let body = operation
                    .request_body
                    .is_some()
                    .then_some(("413", errors::TOO_LARGE));
                for (status, description) in common.into_iter().chain(body) {
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert(response.into());
                }
            }
        }
    }
}

/// Request bodies that may be absent: utoipa writes an `Option<T>` body as "null or T" (and
/// not required); a body is never JSON `null` here, only absent, so it becomes T.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, doc: &mut Document) {
        let bodies = doc
            .paths
            .paths
            .values_mut()
            .flat_map(|item| [&mut item.post, &mut item.put, &mut item.patch])
            .flatten()
            .filter_map(|operation| operation.request_body.as_mut());
        for body in bodies {
            for content in body.content.values_mut() {
                if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema
                    && let [RefOr::T(Schema::Object(null)), other] = one_of.items.as_slice()
                    && null.schema_type == SchemaType::Type(Type::Null)
                {
                    content.schema = Some(other.clone());
                }
            }
        }
    }
}

/// The document as JSON, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    accepted::tighten(&mut doc);
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document serializes")
});

/// The paths of the document as route patterns, each with its methods (`Allow` spelling).
static PATHS: LazyLock<Vec<(actix_web::dev::ResourceDef, String)>> = LazyLock::new(|| {
    ApiDoc::openapi()
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ];
            let allowed: Vec<_> = methods.iter().filter(|m| m.1).map(|m| m.0).collect();
            (
                actix_web::dev::ResourceDef::new(path.as_str()),
                allowed.join(", "),
            )
        })
        .collect()
});

/// The methods the document gives `path` (`Allow` spelling), when it has the path but
/// not with `method`. Of the patterns that match, the one with the fewest parameters
/// speaks (`/graphs/jobs` rather than `/graphs/{graph_id}`), as in the router.
pub fn other_methods(path: &str, method: &str) -> Option<&'static str> {
    let (_, methods) = PATHS
        .iter()
        .filter(|(pattern, _)| pattern.is_match(path))
        .min_by_key(|(pattern, _)| pattern.pattern().unwrap_or("").matches('{').count())?;
    (!methods.split(", ").any(|m| m == method)).then_some(methods.as_str())
}

/// Swagger UI's settings: this service's document, no online validator badge.
static SWAGGER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"))
});

/// `GET /openapi.json`
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "docs",
    summary = "This document",
    security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1).", body = serde_json::Value))
)]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT.as_str())
}

/// `GET /docs`: to `/docs/`, so the page's relative asset paths resolve under `/docs/`.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "docs",
    summary = "The interactive docs page (Swagger UI)",
    security(()),
    responses((status = 308, description = "To `/docs/`.", headers(("Location" = String))))
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /docs/{file}`: Swagger UI's files (`index.html` for `/docs/`).
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "docs",
    summary = "A file of the docs page",
    security(()),
    params(("file" = String, Path, description = "A file of the page; empty for `index.html`.")),
    responses(
        (status = 200, description = "The file (HTML, JavaScript, CSS or an image).", content_type = "text/html"),
        (status = 404, description = "`APIG.0101`: no such file.", body = super::error::ErrorBody),
    )
)]
#[get("/docs/{file:.*}")]
pub async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match utoipa_swagger_ui::serve(&file, SWAGGER.clone()) {
        Ok(Some(found)) => Ok(HttpResponse::Ok()
            .content_type(found.content_type)
            .body(found.bytes.into_owned())),
        Ok(None) => Err(crate::domain::Code::NoRoute.into()),
        Err(err) => Err(ApiError::internal(err.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use crate::domain::producer::final_status;
    use crate::domain::{BackupStatus, FileKind, FileStatus, JobStatus};
    use crate::http::requests::params::StatusFilter;
    use crate::http::requests::producer::FinalStatus;

    /// The `enum` values of a schema.
    fn values<T: PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        let values = schema["enum"].as_array().expect("an enum schema");
        values
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn enum_schemas_spell_values_as_the_code_does() {
        let statuses: Vec<_> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(values::<JobStatus>(), statuses);
        for value in values::<FileStatus>() {
            assert_eq!(value.parse::<FileStatus>().unwrap().as_str(), value);
        }
        for value in values::<FileKind>() {
            assert_eq!(value.parse::<FileKind>().unwrap().as_str(), value);
        }
        for value in values::<BackupStatus>() {
            assert_eq!(value.parse::<BackupStatus>().unwrap().as_str(), value);
        }
        for value in values::<FinalStatus>() {
            assert_eq!(final_status(&value).unwrap().as_str(), value);
        }
        let filters = values::<StatusFilter>();
        assert!(filters.iter().all(|f| JobStatus::parse_filter(f).is_some()));
        assert!(filters.contains(&"waiting".to_owned()));
    }

    #[test]
    fn the_document_builds() {
        assert!(super::DOCUMENT.contains("\"openapi\": \"3.1"));
    }
}
