//! jobcenter: the job center of a graph database management plane.
//!
//! Layers: [`config`] → [`db`] (where the database is, migrations, pool) → [`store`] (all
//! SQL) ← [`domain`] (parsed types) ← [`http`] (routes, extractors, error mapping), with
//! [`auth`] for tokens and [`app`] tying them into a server.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod engine;
pub mod http;
pub mod import;
pub mod metrics;
pub mod service;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod worker;
