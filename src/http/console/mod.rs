//! The operators' console: a small hand-written ES-module front end (`index.html`,
//! `style.css` and the modules `app.js` (session, routing), `core.js`, `jobs.js`,
//! `job.js`, `graphs.js`, `live.js` in this folder) compiled into the binary and served at
//! `/console/`, `/` redirecting to it. It calls the public API with the token the operator
//! pastes (kept in `sessionStorage`); it adds no SQL and no rule of its own.
//!
//! Policy: nothing is fetched from elsewhere (no CDN, works offline); the only route of its
//! own with an effect, `POST /console/dev-token`, mints a short-lived token and exists only
//! while `server.mode` is `development` (a 404 in production).

use std::time::Duration;

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, JsonBody};
use crate::auth::TokenKeys;
use crate::config::ServerMode;
use crate::domain::{Code, ProjectId};

/// How long a minted development token lives.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The console's files: name, content type, content.
const FILES: [(&str, &str, &str); 8] = [
    ("index.html", HTML, include_str!("index.html")),
    ("style.css", CSS, include_str!("style.css")),
    ("app.js", JS, include_str!("app.js")),
    ("core.js", JS, include_str!("core.js")),
    ("jobs.js", JS, include_str!("jobs.js")),
    ("job.js", JS, include_str!("job.js")),
    ("graphs.js", JS, include_str!("graphs.js")),
    ("live.js", JS, include_str!("live.js")),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// `GET /`: to the console.
#[utoipa::path(
    get,
    path = "/",
    tag = "console",
    summary = "To the console",
    security(()),
    responses((status = 307, description = "To `/console/`.", headers(("Location" = String))))
)]
#[get("/")]
pub async fn root() -> HttpResponse {
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

/// `GET /console`: to `/console/`, so the page's relative paths resolve under it.
#[utoipa::path(
    get,
    path = "/console",
    tag = "console",
    summary = "The console",
    security(()),
    responses((status = 308, description = "To `/console/`.", headers(("Location" = String))))
)]
#[get("/console")]
pub async fn console() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/console/"))
        .finish()
}

/// What the page needs to know of the service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsoleSettings {
    /// `development` or `production`: only the first offers the token-minting form.
    pub mode: &'static str,
}

/// `GET /console/{file}`
#[utoipa::path(
    get,
    path = "/console/{file}",
    tag = "console",
    summary = "A file of the console",
    description = "`index.html` for an empty name; `settings.json` says the service's mode.",
    security(()),
    params(("file" = String, Path, description = "A file of the console; empty for `index.html`.")),
    responses(
        (status = 200, description = "The file (HTML, JavaScript, CSS, or the settings as JSON).", content_type = "text/html"),
        (status = 404, description = "`APIG.0101`: no such file.", body = ErrorBody),
    )
)]
#[get("/console/{file:.*}")]
pub async fn console_file(
    file: web::Path<String>,
    mode: web::Data<ServerMode>,
) -> Result<HttpResponse, ApiError> {
    let name = match file.as_str() {
        "" => "index.html",
        name => name,
    };
    if name == "settings.json" {
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .json(ConsoleSettings {
                mode: mode_name(**mode),
            }));
    }
    let (_, content_type, content) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(ApiError::from(Code::NoRoute))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, *content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ))
        .body(*content))
}

fn mode_name(mode: ServerMode) -> &'static str {
    match mode {
        ServerMode::Development => "development",
        ServerMode::Production => "production",
    }
}

/// `POST /console/dev-token`'s body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevTokenRequest {
    /// The project to sign in for.
    #[schema(pattern = "^[A-Za-z0-9]{1,64}$")]
    pub project_id: String,
    /// The token's one role.
    pub role: DevRole,
}

/// The roles the console signs in with.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DevRole {
    Readonly,
    Operator,
}

impl Body for DevTokenRequest {}

/// A minted token.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevToken {
    /// A JWT valid for an hour.
    pub token: String,
}

/// `POST /console/dev-token` (development mode only)
#[utoipa::path(
    post,
    path = "/console/dev-token",
    tag = "console",
    summary = "Mint a short-lived token (development mode only)",
    description = "Signs an hour's token for a project and role, for the console's \
        sign-in form. Exists only while `server.mode` is `development`: 404 in production.",
    security(()),
    request_body = DevTokenRequest,
    responses(
        (status = 200, description = "The token.", body = DevToken),
        (status = 400, description = "`GES.0001`: a bad project id or role.", body = ErrorBody),
        (status = 404, description = "`APIG.0101`: the service runs in production mode.", body = ErrorBody),
    )
)]
#[post("/console/dev-token")]
pub async fn dev_token(
    body: JsonBody<DevTokenRequest>,
    mode: web::Data<ServerMode>,
    keys: web::Data<TokenKeys>,
) -> Result<HttpResponse, ApiError> {
    // Not offered in production, nor where the service cannot sign (a public key only).
    if **mode != ServerMode::Development || !keys.can_mint() {
        return Err(Code::NoRoute.into());
    }
    let project = ProjectId::parse(&body.0.project_id)?;
    let role = match body.0.role {
        DevRole::Readonly => "readonly",
        DevRole::Operator => "operator",
    };
    let token = keys
        .issue("console", project.as_str(), &[role], DEV_TOKEN_TTL)
        .map_err(|e| ApiError::internal(e.as_ref()))?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .json(DevToken { token }))
}
