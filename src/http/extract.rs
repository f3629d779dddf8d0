//! Request extractors: the caller behind `X-Auth-Token` and what it may do
//! ([`Authorized`]), JSON bodies ([`JsonBody`]) and query strings ([`Query`]), each read
//! once and answered in the contract's error shape. A check every body or query gets (a
//! size, a character, a number's range) goes in [`read_json`] or [`read_query`].

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::input_rules::{self, MAX_BODY_BYTES};
use super::request_id::RequestIdentity;
use crate::auth::{Action, Caller, TokenKeys};
use crate::domain::{Code, Origin, ProjectId};

/// The header carrying the token.
pub const TOKEN_HEADER: &str = "X-Auth-Token";

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let keys = req
        .app_data::<web::Data<TokenKeys>>()
        .expect("TokenKeys is registered as app data");
    let token = req
        .headers()
        .get(TOKEN_HEADER)
        .ok_or_else(|| ApiError::new(Code::Unauthenticated, "the X-Auth-Token header is missing"))?
        .to_str()
        .map_err(|_| {
            ApiError::new(
                Code::Unauthenticated,
                "the X-Auth-Token header is not valid text",
            )
        })?;
    let claims = keys.verify(token.trim()).map_err(|err| {
        tracing::info!(reason = %err.0, "token rejected");
        ApiError::new(Code::Unauthenticated, "the token is invalid or expired")
    })?;
    Ok(Caller::from_claims(claims))
}

/// What a route needs the caller to be allowed to do, named by the role that grants it.
pub trait Role {
    /// The action.
    const ACTION: Action;
}

/// Reads jobs, graphs and backups: a `readonly` or `operator` token.
pub struct Reader;
/// Runs graph operations, cancels and retries jobs: an `operator` token.
pub struct Operator;
/// Uses the producer API: a `producer` token.
pub struct Producer;

impl Role for Reader {
    const ACTION: Action = Action::Read;
}
impl Role for Operator {
    const ACTION: Action = Action::Operate;
}
impl Role for Producer {
    const ACTION: Action = Action::Produce;
}

/// A caller whose token is valid for the path's `{project_id}` and allows `R`'s action:
/// 401 without a valid token, 400 for a malformed project id, 403 otherwise.
pub struct Authorized<R> {
    pub caller: Caller,
    pub project: ProjectId,
    request_id: Option<String>,
    role: PhantomData<R>,
}

impl<R> Authorized<R> {
    /// Who asks, for the record of the jobs the request creates.
    pub fn origin(&self) -> Origin {
        Origin {
            created_by: self.caller.subject.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl<R: Role> FromRequest for Authorized<R> {
    type Error = ApiError;
    type Future = Ready<Result<Authorized<R>, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authorized = || {
            let caller = authenticate(req)?;
            let project = ProjectId::parse(req.match_info().get("project_id").unwrap_or_default())?;
            caller.authorize(&project, R::ACTION)?;
            let request_id = req
                .extensions()
                .get::<RequestIdentity>()
                .map(|r| r.0.clone());
            Ok(Authorized {
                caller,
                project,
                request_id,
                role: PhantomData,
            })
        };
        ready(authorized())
    }
}

/// A JSON request body type.
pub trait Body: DeserializeOwned {
    /// Whether an absent (empty) body reads as `{}` (the SDKs send none for some calls).
    const EMPTY_IS_OBJECT: bool = false;
}

/// A JSON body read as `T`.
pub struct JsonBody<T>(pub T);

impl<T: Body + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<JsonBody<T>, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(unreadable)?;
            read_json(&bytes).map(JsonBody)
        })
    }
}

/// A body that could not be read: too large (413, whatever its declared length), or cut.
fn unreadable(err: actix_web::Error) -> ApiError {
    use actix_web::error::PayloadError;
    match err.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => ApiError::from(Code::BodyTooLarge),
        _ if err.as_response_error().status_code() == 413 => ApiError::from(Code::BodyTooLarge),
        _ => ApiError::new(
            Code::NotJson,
            format!("the request body cannot be read: {err}"),
        ),
    }
}

/// The body as `T`: 413 over [`MAX_BODY_BYTES`]; 400 `GES.7016` when it is not JSON or
/// not an object, `GES.7049` when it is empty and must not be, `GES.0001` naming the field
/// whose value has the wrong type or breaks a rule of every body ([`input_rules`]).
pub fn read_json<T: Body>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Code::BodyTooLarge.into());
    }
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        if !T::EMPTY_IS_OBJECT {
            return Err(ApiError::new(
                Code::MissingField,
                "the request body is required",
            ));
        }
        b"{}"
    } else {
        bytes
    };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize(&mut json) {
        Ok(value) => json.end().map(|()| value).map_err(|e| (".".to_owned(), e)),
        Err(err) => Err((err.path().to_string(), err.into_inner())),
    };
    let value = value.and_then(|value| match input_rules::check_json(bytes) {
        Ok(()) => Ok(value),
        Err(breach) => Err((breach.path, serde::de::Error::custom(breach.rule))),
    });
    value.map_err(|(path, inner)| {
        let text = inner.to_string();
        let message = without_position(&text);
        if !inner.is_data() {
            ApiError::new(Code::NotJson, "the request body is not valid JSON")
        } else if path == "." && message.starts_with("invalid type") {
            ApiError::new(Code::NotJson, "the request body must be a JSON object")
        } else if path == "." {
            ApiError::new(
                Code::BadParameter,
                format!("invalid request body: {message}"),
            )
        } else {
            ApiError::new(
                Code::BadParameter,
                format!("invalid parameter {path}: {message}"),
            )
        }
    })
}

/// serde_json's message without its ` at line L column C`.
fn without_position(message: &str) -> &str {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(text, _)| text)
}

/// A query string read as `T` (unknown parameters are ignored).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Query<T>, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(read_query(req.query_string()).map(Query))
    }
}

/// The query string as `T`: 400 `GES.0001` when it is malformed or a value has the wrong
/// type, naming the parameter.
pub fn read_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    input_rules::check_query(pairs).map_err(|breach| {
        ApiError::new(
            Code::BadParameter,
            format!("invalid parameter {}: {}", breach.path, breach.rule),
        )
    })?;
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs)).map_err(|err| {
        let path = err.path().to_string();
        match path.as_str() {
            "." => ApiError::new(Code::BadParameter, "the query string is malformed"),
            _ => ApiError::new(
                Code::BadParameter,
                format!("invalid parameter {path}: {}", err.inner()),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::requests::graphs::{EmptyBody, ResizeBody};

    #[test]
    fn empty_bodies_are_objects_where_allowed() {
        assert!(read_json::<EmptyBody>(b"").is_ok());
        assert!(read_json::<EmptyBody>(b"  \n").is_ok());
        assert_eq!(
            read_json::<ResizeBody>(b"").unwrap_err().code,
            Code::MissingField
        );
        assert_eq!(
            read_json::<EmptyBody>(b"{").unwrap_err().code,
            Code::NotJson
        );
        assert_eq!(
            read_json::<EmptyBody>(b"[1]").unwrap_err().code,
            Code::NotJson
        );
        assert_eq!(
            read_json::<EmptyBody>(b"{} x").unwrap_err().code,
            Code::NotJson
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_field() {
        let err =
            read_json::<ResizeBody>(br#"{"resize": {"graph_size_type_index": "x"}}"#).unwrap_err();
        assert_eq!(err.code, Code::BadParameter);
        assert!(
            err.message.contains("resize.graph_size_type_index"),
            "{}",
            err.message
        );
        let size = read_json::<ResizeBody>(br#"{"resize": {"graph_size_type_index": "7"}}"#);
        assert_eq!(size.unwrap().size().unwrap(), 7);
    }
}
