//! jobcenter: the job center of a graph database management plane.
//!
//! Layers, each importing only those below it (see ARCHITECTURE.md):
//! [`http`] (routes, extractors, request bodies, views, the one error mapping) →
//! [`service`] (every transaction and business rule) → [`store`] (SQL only) →
//! [`domain`] (entities, statuses, the state machine, parsed values, the error-code
//! table). Beside them: [`worker`] and [`engine`] (running jobs), [`import`] (the import
//! library), [`storage`] (object storage), [`db`] (database, migrations, pools), [`auth`]
//! (tokens and roles), [`metrics`], [`config`], [`telemetry`], [`cli`] (subcommands), and
//! [`app`] tying them into a server.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod engine;
pub mod events;
pub mod http;
pub mod import;
pub mod metrics;
pub mod service;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod worker;
