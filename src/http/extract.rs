//! Request extractors: the caller behind `X-Auth-Token`, and lenient query strings.

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::error::ApiError;
use crate::auth::{Caller, TokenKeys};

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
        .ok_or_else(|| ApiError::unauthenticated("the X-Auth-Token header is missing"))?
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the X-Auth-Token header is not valid text"))?;
    let claims = keys.verify(token.trim()).map_err(|err| {
        tracing::info!(reason = %err.0, "token rejected");
        ApiError::unauthenticated("the token is invalid or expired")
    })?;
    Ok(Caller::from_claims(claims))
}

/// Query parameters as a map; a malformed query string is a 400 and unknown names are kept
/// for the handler to ignore.
pub struct QueryMap(pub HashMap<String, String>);

impl FromRequest for QueryMap {
    type Error = ApiError;
    type Future = Ready<Result<QueryMap, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            web::Query::<HashMap<String, String>>::from_query(req.query_string())
                .map(|q| QueryMap(q.into_inner()))
                .map_err(|_| ApiError::bad_parameter("the query string is malformed")),
        )
    }
}
