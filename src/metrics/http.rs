//! The API's request metrics: a middleware counting each request by the route pattern it
//! matched (`/v2/{project_id}/graphs/jobs`, never the raw path, whose ids would make a
//! series per job), its method and its status, and timing it.

use std::borrow::Cow;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::Metrics;

/// The route label of requests no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Middleware: records the request in the application's [`Metrics`] (app data).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = method_label(req.method());
    let result = next.call(req).await;
    // Read after routing: actix then finds the matched resource by its recorded position,
    // where before it the pattern costs a walk of the route table (a regex per route).
    // Handlers' and extractors' errors arrive as responses; an `Err` here comes from a
    // middleware, before any route.
    let (route, status) = match &result {
        Ok(res) => (route_label(res.request().match_pattern()), res.status()),
        Err(err) => (route_label(None), err.as_response_error().status_code()),
    };
    metrics.http_request(route, method, status.as_u16(), started.elapsed());
    result
}

/// The matched pattern, or [`UNMATCHED`].
pub fn route_label(pattern: Option<String>) -> Cow<'static, str> {
    pattern.map_or(Cow::Borrowed(UNMATCHED), Cow::Owned)
}

/// The method's name for the standard methods, `other` for any extension method (whose
/// names a client chooses).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}
