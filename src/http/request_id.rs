//! Request ids: an incoming `X-Request-Id` is kept (or one is made), returned in the
//! response, carried by the request's log span, and recorded with the jobs it creates.

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

const HEADER: &str = "x-request-id";

/// The id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIdentity(pub String);

/// Accepts a caller's id of 1 to 128 visible ASCII characters.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A new id: a UUID v7 (time-ordered) as 32 hex digits. Its random bits come from a
/// thread-local generator seeded once, not from the kernel per request (`Uuid::now_v7`
/// makes a `getrandom` system call each time); an id names a request, it guards nothing.
fn new_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let random = fastrand::u128(..).to_le_bytes();
    let mut bytes = [0u8; 10];
    bytes.copy_from_slice(&random[..10]);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .simple()
        .to_string()
}

/// Middleware: finds or makes the id, and echoes it in the response.
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    req.extensions_mut().insert(RequestIdentity(id.clone()));
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}

/// Root spans carrying the request id as `x_request_id`, the method, the route pattern and
/// the path. Field values are computed only when the span is enabled (the route pattern
/// costs a walk of the route table), unlike `tracing_actix_web::root_span!`, which
/// computes every field, the client address included, for every request.
pub struct Spans;

impl RootSpanBuilder for Spans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        use tracing::field::Empty;
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %request.match_pattern().unwrap_or_default(),
            http.target = %request.path(),
            x_request_id = %request_id(request),
            otel.kind = "server",
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The id [`assign`] put on the request (empty if it did not run).
fn request_id(request: &ServiceRequest) -> String {
    request
        .extensions()
        .get::<RequestIdentity>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

impl FromRequest for RequestIdentity {
    type Error = Error;
    type Future = Ready<Result<RequestIdentity, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestIdentity>().cloned();
        ready(Ok(id.unwrap_or_else(|| RequestIdentity(new_id()))))
    }
}

#[cfg(test)]
mod tests {
    use super::{acceptable, new_id};

    #[test]
    fn made_ids_are_distinct_v7_uuids() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        let parsed = uuid::Uuid::try_parse(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn ids_are_short_visible_ascii() {
        assert!(acceptable("abc-123_X"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
